"""The seed demo: tune a learning rate by the hypergradient of a 10-step inner run.

Inner problem: L(a) = (5a - 10)^2 from a = 1, inner step a <- a - alpha * dL/da (dL/da by ``tinyad.grad``).
The whole inner run is wrapped in ``tinyad.jvp`` with tangent 1 on alpha, so every number in it is a dual
number and the dual part of the final inner loss *is* dL_T/dalpha. Hyperstep: alpha <- alpha - 1e-7 * that.
"""

from __future__ import annotations

import argparse

import tinyad
from tinyad.plotting import colormap, figure

INNER_STEPS, OUTER_STEPS, HYPER_LR, ALPHA0 = 10, 10, 1e-7, 0.001


def inner_loss(a):
    return (5 * a - 10) ** 2


def inner_run(alpha):
    """Train a for INNER_STEPS steps; return the last inner loss and the loss curve (plain numbers)."""
    a, curve = 1.0, [float(tinyad.stop_gradient(inner_loss(1.0)))]
    for _ in range(INNER_STEPS):
        a = a - alpha * tinyad.grad(inner_loss)(a)
        curve.append(float(tinyad.stop_gradient(inner_loss(a))))
    return inner_loss(a), curve


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="tinyad demo quadratic", description=__doc__.splitlines()[0])
    ap.add_argument("--plot", metavar="FILE", help="save the inner loss curves and alpha to a PNG")
    args = ap.parse_args(argv)

    alpha, rows, curves = ALPHA0, [], []
    print(f"{'step':>4} {'alpha':>10} {'inner loss at T':>16} {'hypergradient':>14}")
    for step in range(OUTER_STEPS):
        (loss_T, curve), (hypergrad, _) = tinyad.jvp(inner_run, (alpha,), (1.0,))
        print(f"{step:>4} {alpha:>10.6f} {loss_T:>16.6f} {hypergrad:>14.3f}")
        rows.append({"step": step, "alpha": alpha, "loss": float(loss_T), "hypergrad": float(hypergrad)})
        curves.append(curve)
        alpha = alpha - HYPER_LR * hypergrad
    print("\ninner loss curves (first, middle, last outer step):")
    for i in (0, OUTER_STEPS // 2, OUTER_STEPS - 1):
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
