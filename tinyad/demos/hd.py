"""Online hypergradient descent on the digits (Baydin et al. 2018): SGD, SGDN and Adam against their HD
versions, for logistic regression and an MLP, from lr0 = 1e-3 and from lr0 = 0."""

from __future__ import annotations

import numpy as np

from tinyad import datasets, nn, optim
from tinyad.plotting import figure

from ._args import demo_parser, positive_int
from ._common import digits_loss, train_online

HYPER_LR = {"sgd_hd": 1e-2, "sgdn_hd": 1e-3, "adam_hd": 1e-4}


def optimizers(lr0: float) -> dict:
    return {
        "SGD": optim.sgd(lr0), "SGD-HD": optim.sgd_hd(lr0, HYPER_LR["sgd_hd"]),
        "SGDN": optim.sgd(lr0, 0.9, nesterov=True), "SGDN-HD": optim.sgdn_hd(lr0, HYPER_LR["sgdn_hd"], 0.9),
        "Adam": optim.adam(lr0), "Adam-HD": optim.adam_hd(lr0, HYPER_LR["adam_hd"]),
    }


def models() -> dict:
    return {"logistic regression": {"W1": np.zeros((64, 10)), "b1": np.zeros(10)},
            "MLP 64-128-10": nn.init_mlp((64, 128, 10), seed=0)}


def train(opt, p0, data, steps: int):
    """Final (train loss, validation loss) and the learning rate at every step."""
    p, lrs = train_online(opt, p0, data, steps)
    return (float(digits_loss(p, data.X_train, data.Y_train)), float(digits_loss(p, data.X_val, data.Y_val)),
            np.array(lrs))


def main(argv: list[str] | None = None) -> dict:
    ap = demo_parser("hd", __doc__)
    ap.add_argument("--steps", type=positive_int, default=500,
                    help="training steps (minibatches of 100; 10 per epoch; default %(default)s)")
    ap.add_argument("--plot", metavar="FILE", help="save the learning-rate trajectories to a PNG")
    args = ap.parse_args(argv)
    data = datasets.digits()
    results = {}
    print(f"digits, {args.steps} steps of minibatch 100; hyper learning rates {HYPER_LR}")
    for model, p0 in models().items():
        print(f"\n{model}")
        print(f"  {'optimizer':10}{'lr0':>8}{'train loss':>12}{'val loss':>10}{'final lr':>10}")
        for lr0 in (1e-3, 0.0):
            for name, opt in optimizers(lr0).items():
                tr, va, lrs = train(opt, p0, data, args.steps)
                results[(model, lr0, name)] = (tr, va, lrs)
                print(f"  {name:10}{lr0:>8g}{tr:>12.4f}{va:>10.4f}{lrs[-1]:>10.4g}")
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
                ax.plot(lrs, style, label=f"{name}, lr0={lr0:g}")
        ax.set(xlabel="step", ylabel="learning rate", title=model, yscale="symlog", ylim=(0, None))
        ax.set_yscale("symlog", linthresh=1e-3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
