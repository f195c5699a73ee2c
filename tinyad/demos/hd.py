"""Online hypergradient descent on the digits (Baydin et al. 2018): SGD, SGDN and Adam against their HD
versions, for logistic regression and an MLP, from lr0 = 1e-3 and from lr0 = 0, with L2 weight decay 1e-4
on every optimizer as in the paper's runs.

The paper tunes one global learning rate. ``--per-parameter`` gives each parameter array its own learning
rate, moved by its own hypergradient (-g . dir summed over that array only; gdtuo's SGDPerParam): the table
then shows [smallest, largest] final rate over the arrays.
"""

from __future__ import annotations

import numpy as np

from tinyad import datasets, nn, optim
from tinyad.plotting import figure

from ._args import demo_parser, non_negative_float, plot_file, positive_int
from ._common import digits_loss, train_online

HYPER_LR = {"sgd_hd": 1e-2, "sgdn_hd": 1e-3, "adam_hd": 1e-4}
WEIGHT_DECAY = 1e-4  # Baydin et al.'s runs (their train.py's --weightDecay default)


def optimizers(lr0: float, weight_decay: float = WEIGHT_DECAY, arrays: list[str] | None = None) -> dict:
    """The six optimizers from ``lr0``. With ``arrays`` (the parameters' names), the HD versions tune one
    learning rate per array; the fixed-rate ones use lr0 for every array either way."""
    lr = lr0 if arrays is None else {k: lr0 for k in arrays}
    wd = weight_decay
    return {
        "SGD": optim.sgd(lr0, weight_decay=wd), "SGD-HD": optim.sgd_hd(lr, HYPER_LR["sgd_hd"], weight_decay=wd),
        "SGDN": optim.sgd(lr0, 0.9, nesterov=True, weight_decay=wd),
        "SGDN-HD": optim.sgdn_hd(lr, HYPER_LR["sgdn_hd"], 0.9, weight_decay=wd),
        "Adam": optim.adam(lr0, weight_decay=wd), "Adam-HD": optim.adam_hd(lr, HYPER_LR["adam_hd"], weight_decay=wd),
    }


def models() -> dict:
    return {"logistic regression": {"W1": np.zeros((64, 10)), "b1": np.zeros(10)},
            "MLP 64-128-10": nn.init_mlp((64, 128, 10), seed=0)}


def train(opt, p0, data, steps: int):
    """Final (train loss, validation loss) and the learning rate(s) after every step: shape (steps,) for one
    global rate, (steps, arrays) for one per parameter array (in sorted order of the arrays' names)."""
    p, lrs = train_online(opt, p0, data, steps)
    if isinstance(lrs[0], dict):
        lrs = [[lr[k] for k in sorted(lr)] for lr in lrs]
    return (float(digits_loss(p, data.X_train, data.Y_train)), float(digits_loss(p, data.X_val, data.Y_val)),
            np.array(lrs))


def final_lr(lrs: np.ndarray) -> str:
    last = lrs[-1]
    return f"{last:.4g}" if np.ndim(last) == 0 else f"[{last.min():.3g}, {last.max():.3g}]"


def main(argv: list[str] | None = None) -> dict:
    ap = demo_parser("hd", __doc__)
    ap.add_argument("--steps", type=positive_int, default=500,
                    help="training steps (minibatches of 100; 10 per epoch; default %(default)s)")
    ap.add_argument("--weight-decay", type=non_negative_float, default=WEIGHT_DECAY,
                    help="L2 weight decay of every optimizer (default %(default)g, as in Baydin et al.'s runs)")
    ap.add_argument("--per-parameter", action="store_true",
                    help="one learning rate per parameter array for the HD optimizers")
    ap.add_argument("--plot", metavar="FILE", type=plot_file, help="save the learning-rate trajectories to a PNG")
    args = ap.parse_args(argv)
    data = datasets.digits()
    results = {}
    rates = "one learning rate per parameter array" if args.per_parameter else "one global learning rate"
    print(f"digits, {args.steps} steps of minibatch 100; hyper learning rates {HYPER_LR}; weight decay "
          f"{args.weight_decay:g}; {rates}")
    for model, p0 in models().items():
        print(f"\n{model}")
        print(f"  {'optimizer':10}{'lr0':>8}{'train loss':>12}{'val loss':>10}{'final lr':>21}")
        for lr0 in (1e-3, 0.0):
            opts = optimizers(lr0, args.weight_decay, sorted(p0) if args.per_parameter else None)
            for name, opt in opts.items():
                tr, va, lrs = train(opt, p0, data, args.steps)
                results[(model, lr0, name)] = (tr, va, lrs)
                print(f"  {name:10}{lr0:>8g}{tr:>12.4f}{va:>10.4f}{final_lr(lrs):>21}")
    if args.plot:
        _plot(results, args.plot)
        print(f"\nplot saved to {args.plot}")
    return results


def _plot(results: dict, path: str) -> None:
    fig = figure(figsize=(10, 3.6))
    axes = fig.subplots(1, 2)
    for ax, model in zip(axes, models()):
        for name in ("SGD-HD", "SGDN-HD", "Adam-HD"):
            for lr0, style in ((1e-3, "-"), (0.0, ":")):
                lrs = results[(model, lr0, name)][2]
                lines = ax.plot(lrs, style)  # one line per parameter array with --per-parameter
                lines[0].set_label(f"{name}, lr0={lr0:g}")
                for line in lines[1:]:
                    line.set_color(lines[0].get_color())
        ax.set(xlabel="step", ylabel="learning rate", title=model, yscale="symlog", ylim=(0, None))
        ax.set_yscale("symlog", linthresh=1e-3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
