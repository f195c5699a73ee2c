"""Learn one L2 strength per input pixel (64 hyperparameters) of a digits classifier by implicit differentiation.

The inner problem is softmax regression on the 8x8 digits with a separate weight decay λ_j on the ten
weights leaving each pixel j: strongly convex, so Newton's method (``tinyad.hyper.newton_minimize``)
solves it to machine precision, warm-started from the previous outer step. At that optimum
``tinyad.hyper.implicit_hypergrad`` gives all 64 hypergradients dL_val/dλ from ONE conjugate-gradient
solve on Hessian-vector products: no training run is differentiated, and 64 hyperparameters cost what
one would. The outer loop takes Adam steps on log λ.
"""

from __future__ import annotations

import time

import numpy as np

import tinyad.numpy as tnp
from tinyad import datasets, hyper, nn, optim
from tinyad.plotting import figure

from ._args import demo_parser, non_negative_int, plot_file, positive_float

BIAS_L2 = 1e-4  # softmax logits are shift-invariant; a little L2 on the biases keeps the Hessian invertible


def make_losses(data):
    def penalty(w, lam):
        return tnp.sum(lam[:, None] * w["W"] ** 2) + BIAS_L2 * tnp.sum(w["b"] ** 2)

    def train_loss(w, lam):
        return nn.cross_entropy(data.X_train @ w["W"] + w["b"], data.Y_train) + penalty(w, lam)

    def val_loss(w, lam):  # does not depend on lam directly: only through w*(lam)
        return nn.cross_entropy(data.X_val @ w["W"] + w["b"], data.Y_val)

    def test_loss(w):
        return nn.cross_entropy(data.X_test @ w["W"] + w["b"], data.Y_test)

    return train_loss, val_loss, test_loss


def main(argv: list[str] | None = None) -> dict:
    ap = demo_parser("implicit", __doc__)
    ap.add_argument("--outer-steps", type=non_negative_int, default=15, help="Adam steps on log(lambda)")
    ap.add_argument("--lam0", type=positive_float, default=1e-2, help="initial L2 strength of every pixel")
    ap.add_argument("--outer-lr", type=positive_float, default=0.5, help="Adam step size on log(lambda)")
    ap.add_argument("--solver", choices=("cg", "neumann"), default="cg", help="how H^-1 is applied")
    ap.add_argument("--tol", type=positive_float, default=1e-10, help="relative residual of the linear solve")
    ap.add_argument("--plot", metavar="FILE", type=plot_file,
                    help="save the learned per-pixel lambda (8x8) and the loss to a PNG")
    args = ap.parse_args(argv)

    data = datasets.digits()
    train_loss, val_loss, test_loss = make_losses(data)
    u = np.full(64, np.log(args.lam0))  # the outer variable: lambda = exp(u) stays positive
    outer = optim.adam(args.outer_lr)
    state = outer.init(u)
    w = {"W": np.zeros((64, 10)), "b": np.zeros(10)}
    print(f"softmax regression on digits, {len(data.X_train)} train / {len(data.X_val)} validation rows; "
          f"64 per-pixel L2 strengths from {args.lam0:g}; {args.outer_steps} outer steps ({args.solver})")
    history, start = [], time.perf_counter()
    for step in range(args.outer_steps + 1):
        lam = np.exp(u)
        w = hyper.newton_minimize(train_loss, w, lam)  # warm start: a few Newton steps
        res = hyper.implicit_hypergrad(train_loss, val_loss, w, lam, solver=args.solver, tol=args.tol)
        history.append({"step": step, "val": res.value, "test": float(test_loss(w)), "lam": lam,
                        "accuracy": nn.accuracy(data.X_val @ w["W"] + w["b"], data.Y_val),
                        "iterations": res.iterations, "residual": res.residual})
        print(f"step {step:3d}  val loss {res.value:.4f}  val acc {history[-1]['accuracy']:.3f}  "
              f"lambda in [{lam.min():.1e}, {lam.max():.1e}]  {args.solver} {res.iterations} its, "
              f"residual {res.residual:.1e}, |grad L_train| {res.grad_norm:.1e}")
        if step < args.outer_steps:
            u, state = outer.update(res.hypergrad * lam, state, u)  # d/du = d/dlambda * dlambda/du
    seconds = time.perf_counter() - start
    first, last = history[0], history[-1]
    print(f"\n{'':22}{'val loss':>10}{'val acc':>9}{'test loss':>11}")
    for label, row in (("uniform lambda", first), ("per-pixel, tuned", last)):
        print(f"{label:22}{row['val']:>10.4f}{row['accuracy']:>9.3f}{row['test']:>11.4f}")
    print(f"validation loss {first['val']:.4f} -> {last['val']:.4f} in {args.outer_steps} outer steps, "
          f"{seconds:.1f} s")
    if args.plot:
        _plot(history, np.all(data.X_train == 0, axis=0), args.plot)
        print(f"plot saved to {args.plot}")
    return {"history": history, "lam": last["lam"], "val_before": first["val"], "val_after": last["val"],
            "test_before": first["test"], "test_after": last["test"], "seconds": seconds}


def _plot(history: list, blank: np.ndarray, path: str) -> None:
    fig = figure(figsize=(8.5, 3.6))
    a0, a1 = fig.subplots(1, 2)
    a0.plot([r["step"] for r in history], [r["val"] for r in history], "k.-", label="validation")
    a0.plot([r["step"] for r in history], [r["test"] for r in history], ".-", color="0.6", label="test")
    a0.set(xlabel="outer step", ylabel="cross-entropy", title="loss at the inner optimum")
    a0.legend()
    im = a1.imshow(np.log10(history[-1]["lam"]).reshape(8, 8), cmap="viridis")
    rows, cols = np.nonzero(blank.reshape(8, 8))  # no training image uses them: zero hypergradient, λ stays
    a1.plot(cols, rows, "wx")
    a1.set(title="learned log10 λ per pixel (x: always 0)", xticks=[], yticks=[])
    fig.colorbar(im, ax=a1)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
