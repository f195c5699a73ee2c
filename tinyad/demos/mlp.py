"""Tune learning rate, momentum and weight decay of an MLP on the digits by hypergradient.

Each outer step trains a 64-128-10 tanh MLP for T inner steps of SGD with momentum and weight decay from
the same initialisation, and returns the validation loss. ``tinyad.hyper.optimize`` differentiates that
whole run with respect to (lr, momentum, weight_decay) in ONE forward pass (three tangent directions
riding on every number of the inner backprop), then takes an Adam step on log(lr), logit(momentum),
log(weight_decay).
"""

from __future__ import annotations

import tinyad
from tinyad import datasets, hyper, nn, optim

from ._args import demo_parser, non_negative_int, plot_file, positive_float, positive_int, unit_interval
from ._common import digits_loss


def train_step(p, state, X, Y, h):
    """One step of SGD with momentum and weight decay; everything that changes comes in as an argument (the
    minibatch, the hyperparameters), so ``tinyad.jit`` compiles it once and replays it every step."""
    opt = optim.sgd(h["lr"], h["momentum"], weight_decay=h["weight_decay"])
    return opt.update(tinyad.grad(digits_loss)(p, X, Y), state, p)


compiled_step = tinyad.jit(train_step)


class DigitsRun:
    """``run(h)``: train the MLP for T steps of SGD with momentum and weight decay from ``params0`` on
    consecutive minibatches, return the validation loss. A module-level class rather than a closure, so a
    run pickles and can be sent to worker processes (``tinyad.hyper.optimize_many``); ``jit=False`` runs the
    step eagerly."""

    def __init__(self, data, params0, T: int, batch: int = 100, jit: bool = True) -> None:
        self.data, self.params0, self.T, self.batch, self.jit = data, params0, T, batch, jit

    def __call__(self, h):
        data, batch = self.data, self.batch
        step = compiled_step if self.jit else train_step
        p, state = self.params0, optim.sgd(h["lr"], h["momentum"]).init(self.params0)
        n = len(data.X_train)
        for t in range(self.T):
            i = (batch * t) % n
            p, state = step(p, state, data.X_train[i:i + batch], data.Y_train[i:i + batch], h)
        return digits_loss(p, data.X_val, data.Y_val)


def make_run(data, params0, T: int, batch: int = 100, jit: bool = True) -> DigitsRun:
    return DigitsRun(data, params0, T, batch, jit)


def main(argv: list[str] | None = None) -> hyper.Result:
    ap = demo_parser("mlp", __doc__)
    ap.add_argument("--outer-steps", type=non_negative_int, default=30,
                    help="hypersteps (0: just evaluate the initial hyperparameters; default %(default)s)")
    ap.add_argument("--T", type=positive_int, default=100,
                    help="inner training steps per outer step (default %(default)s)")
    ap.add_argument("--lr", type=positive_float, default=0.01, help="initial learning rate (default %(default)s)")
    ap.add_argument("--momentum", type=unit_interval, default=0.5,
                    help="initial momentum, in (0, 1): it is tuned as logit(momentum) (default %(default)s)")
    ap.add_argument("--weight-decay", type=positive_float, default=1e-3,
                    help="initial weight decay, > 0: it is tuned as log(weight decay) (default %(default)s)")
    ap.add_argument("--outer-lr", type=positive_float, default=0.1,
                    help="Adam step size in log/logit space (default %(default)s)")
    ap.add_argument("--plot", metavar="FILE", type=plot_file, help="save loss and hyperparameter trajectories to a PNG")
    ap.add_argument("--quiet", action="store_true", help="no progress bar")
    ap.add_argument("--no-jit", action="store_true", help="run the training step eagerly instead of compiled")
    args = ap.parse_args(argv)

    data = datasets.digits()
    params0 = nn.init_mlp((64, 128, 10), seed=0)
    run = make_run(data, params0, args.T, jit=not args.no_jit)
    h0 = {"lr": args.lr, "momentum": args.momentum, "weight_decay": args.weight_decay}
    print(f"MLP 64-128-10 on digits: {len(data.X_train)} train / {len(data.X_val)} validation rows, "
          f"T = {args.T} inner steps, {args.outer_steps} outer steps")
    res = hyper.optimize(run, h0, optim.adam(args.outer_lr), args.outer_steps, progress=not args.quiet)
    first, last = res.history[0], res.history[-1]
    print(f"\n{'':24}{'lr':>10}{'momentum':>10}{'weight_decay':>14}{'val loss':>10}")
    for label, row in (("initial hyperparameters", first), ("tuned by hypergradient", last)):
        h = row["hparams"]
        print(f"{label:24}{h['lr']:>10.4g}{h['momentum']:>10.4f}{h['weight_decay']:>14.3g}{row['loss']:>10.4f}")
    if res.stopped:
        print("stopped early:", res.stopped)
    print(f"validation loss {first['loss']:.4f} -> {last['loss']:.4f} "
          f"({100 * (1 - last['loss'] / first['loss']):.0f}% lower) after {len(res.history) - 1} hypersteps")
    if args.plot:
        res.plot(args.plot, title=f"digits MLP, T={args.T}")
        print(f"plot saved to {args.plot}")
    return res


if __name__ == "__main__":
    main()
