"""The seed demo: tune a learning rate alpha by the hypergradient of a 10-step inner run.

Inner problem: L(a) = (5a - 10)^2 from a = 1. Each inner step, as in the seed notebook, computes the loss at
the current a and its gradient (``tinyad.value_and_grad``), then updates a <- a - alpha * dL/da. The loss
differentiated is the *last one computed*: at inner step 9 (the tenth step), before that step's update, so
the tenth update is made but never scored. The whole inner run is wrapped in ``tinyad.jvp`` with tangent 1
on alpha, so every number in it is a dual number and the dual part of that loss *is* dL_9/dalpha.
Hyperstep: alpha <- alpha - 1e-7 * dL_9/dalpha, ten times from alpha_0 = 0.001.
"""

from __future__ import annotations

import tinyad
from tinyad.plotting import colormap, figure

from ._args import demo_parser, plot_file, positive_float, positive_int

INNER_STEPS, OUTER_STEPS, HYPER_LR, ALPHA0 = 10, 10, 1e-7, 0.001


def inner_loss(a):
    return (5 * a - 10) ** 2


def inner_run(alpha, steps=INNER_STEPS):
    """Train a from 1 for ``steps`` steps; return the last loss computed (at inner step ``steps - 1``, before
    that step's update, as the seed does) and the loss at every step as plain numbers."""
    a, curve = 1.0, []
    for _ in range(steps):
        loss, g = tinyad.value_and_grad(inner_loss)(a)
        curve.append(float(tinyad.stop_gradient(loss)))
        a = a - alpha * g
    return loss, curve


def main(argv: list[str] | None = None) -> dict:
    ap = demo_parser("quadratic", __doc__)
    ap.add_argument("--alpha", type=positive_float, default=ALPHA0, help="initial alpha (default %(default)s)")
    ap.add_argument("--inner-steps", type=positive_int, default=INNER_STEPS,
                    help="inner steps; the loss at the last one is differentiated (default %(default)s)")
    ap.add_argument("--outer-steps", type=positive_int, default=OUTER_STEPS,
                    help="hypersteps on alpha (default %(default)s)")
    ap.add_argument("--hyper-lr", type=positive_float, default=HYPER_LR,
                    help="step size of the hypersteps (default %(default)s)")
    ap.add_argument("--plot", metavar="FILE", type=plot_file, help="save the inner loss curves and alpha to a PNG")
    args = ap.parse_args(argv)

    last = args.inner_steps - 1
    alpha, rows, curves = args.alpha, [], []
    print(f"{'k':>2} {'alpha_k':>12} {f'loss at inner step {last}':>22} {'dL/dalpha':>12}")
    for k in range(args.outer_steps):
        (loss, curve), (hypergrad, _) = tinyad.jvp(lambda al: inner_run(al, args.inner_steps), (alpha,), (1.0,))
        rows.append({"step": k, "alpha": alpha, "loss": float(loss), "hypergrad": float(hypergrad)})
        curves.append(curve)
        print(f"{k:>2} {alpha:>#12.7g} {float(loss):>#22.7g} {float(hypergrad):>#12.7g}")
        alpha = alpha - args.hyper_lr * hypergrad
    print("\ninner loss curves (first, middle, last outer step):")
    for i in sorted({0, args.outer_steps // 2, args.outer_steps - 1}):
        print(f"  alpha={rows[i]['alpha']:.5f}: " + " ".join(f"{v:6.2f}" for v in curves[i]))
    if args.plot:
        _plot(rows, curves, args.plot)
        print(f"\nplot saved to {args.plot}")
    return {"rows": rows, "curves": curves}


def _plot(rows, curves, path):
    fig = figure(figsize=(9, 3.4))
    a0, a1 = fig.subplots(1, 2)
    cmap = colormap("viridis")
    for i, c in enumerate(curves):
        a0.semilogy(c, color=cmap(i / max(1, len(curves) - 1)), label=f"alpha={rows[i]['alpha']:.4f}" if i in
                    (0, len(curves) - 1) else None)
    a0.set(xlabel="inner step", ylabel="inner loss (5a-10)^2", title="inner runs improve as alpha is tuned")
    a0.legend()
    a1.plot([r["alpha"] for r in rows], "o-")
    a1.set(xlabel="outer step", ylabel="alpha", title="alpha by hypergradient descent")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
