"""Stacks of hyperoptimizers (Chandra et al. 2022): how much the initial learning rate matters at stack
height 1 (plain SGD), 2 (SGD tuned by SGD) and 3 (that tuned by SGD again), on the digits MLP.

``--per-parameter`` starts SGD with one learning rate per parameter array (all at lr0), which the levels
above tune separately (gdtuo's SGDPerParam at the bottom of the stack)."""

from __future__ import annotations

import warnings

import numpy as np

from tinyad import datasets, nn, optim
from tinyad.plotting import colormap, figure

from ._args import demo_parser, plot_file, positive_int
from ._common import digits_loss, train_online

GRID = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
KAPPA, GAMMA = 1e-3, 1e-3  # the hyper learning rates of levels 2 and 3


def stack(height: int, lr0: float, arrays: list[str] | None = None) -> optim.Optimizer:
    """A stack of the given height; with ``arrays`` (the parameters' names), one learning rate per array."""
    opt = optim.sgd(lr0 if arrays is None else {k: lr0 for k in arrays})
    if height >= 2:
        opt = optim.hyper(opt, optim.sgd(KAPPA))
    if height >= 3:
        opt = optim.hyper(opt, optim.sgd(GAMMA))
    return opt


def final_val_loss(opt, data, p0, steps: int) -> tuple[float, list]:
    """Validation loss after training (inf if the run blew up) and the learning-rate trajectory (per step, the
    rate, or the rates of the arrays in sorted order of their names)."""
    try:
        p, lrs = train_online(opt, p0, data, steps)
    except optim.HypergradientError:
        return float("inf"), []
    lrs = [[lr[k] for k in sorted(lr)] if isinstance(lr, dict) else lr for lr in lrs]
    v = float(digits_loss(p, data.X_val, data.Y_val))
    return (v if np.isfinite(v) else float("inf")), lrs


def main(argv: list[str] | None = None) -> dict:
    ap = demo_parser("stack", __doc__)
    ap.add_argument("--steps", type=positive_int, default=300, help="SGD steps per run (default %(default)s)")
    ap.add_argument("--per-parameter", action="store_true", help="one learning rate per parameter array")
    ap.add_argument("--plot", metavar="FILE", type=plot_file,
                    help="save validation loss against the initial learning rate")
    args = ap.parse_args(argv)
    data = datasets.digits()
    p0 = nn.init_mlp((64, 128, 10), seed=0)
    table = {}
    arrays = sorted(p0) if args.per_parameter else None
    rates = "one learning rate per parameter array" if arrays else "one learning rate"
    print(f"MLP 64-128-10 on digits, {args.steps} SGD steps ({rates}); levels 2 and 3 use hyper learning rates "
          f"{KAPPA:g} and {GAMMA:g}\n")
    print(f"{'height':>6} " + "".join(f"{'lr0=' + format(lr, 'g'):>11}" for lr in GRID) + f"{'spread':>9}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # overflow warnings from diverging runs
        for h in (1, 2, 3):
            runs = [final_val_loss(stack(h, lr, arrays), data, p0, args.steps) for lr in GRID]
            vals = [v for v, _ in runs]
            table[h] = {"val": vals, "lrs": [lrs for _, lrs in runs], "spread": max(vals) - min(vals)}
            print(f"{h:>6} " + "".join(f"{v:>11.4f}" for v in vals) + f"{table[h]['spread']:>9.4f}")
    spreads = [table[h]["spread"] for h in (1, 2, 3)]
    verdict = "holds" if spreads[0] > spreads[1] > spreads[2] else "does not hold"
    print("\nspread = max - min of the final validation loss over the initial learning rates. Chandra et al.'s "
          f"claim, the spread shrinks as the stack grows: {verdict} (heights 1, 2, 3: "
          f"{', '.join(f'{x:.4f}' for x in spreads)})")
    if args.plot:
        _plot(table, args.plot)
        print(f"plot saved to {args.plot}")
    return table


def _plot(table: dict, path: str) -> None:
    fig = figure(figsize=(10, 3.6))
    a0, a1 = fig.subplots(1, 2)
    for h, row in table.items():
        a0.semilogx(GRID, row["val"], "o-", label=f"height {h}")
    a0.set(xlabel="initial learning rate", ylabel="final validation loss", title="sensitivity to lr0")
    a0.legend()
    for h in (2, 3):
        for lr0, lrs in zip(GRID, table[h]["lrs"]):
            a1.semilogy(lrs, "-" if h == 2 else ":", color=colormap("viridis")(GRID.index(lr0) / 4))
    a1.set(xlabel="step", ylabel="learning rate", title="lr trajectories (solid: height 2, dotted: 3)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
