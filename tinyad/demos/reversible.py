"""Exactly reversible learning on the digits (Maclaurin et al. 2015, scaled to a CPU): learn a per-step,
per-layer learning-rate schedule for an MLP, and distil the training set into 10 synthetic images.

Each meta-step trains T steps forward in exact fixed-point arithmetic, then runs training *backwards*,
recovering every weight bit for bit, and collects the hypergradients on the way: memory holds the final
weights, velocity and an information buffer, never the trajectory.
"""

from __future__ import annotations

import sys

import numpy as np

from tinyad import datasets, nn, optim
from tinyad import reversible as R
from tinyad.plotting import figure

from ._args import demo_parser, non_negative_int, positive_int


def schedule_experiment(data, T: int, meta_steps: int, log=print) -> dict:
    """Learn log learning rates alpha[t, layer] for T steps of SGD with momentum 0.9 (batch 100)."""
    p0 = nn.init_mlp((64, 50, 10), seed=0)
    groups = [0, 1, 0, 1]  # container order W1, W2, b1, b2 -> layer 1, layer 2

    def train_loss(p, meta, t):
        i = (100 * t) % len(data.X_train)
        return nn.cross_entropy(nn.mlp(p, data.X_train[i:i + 100]), data.Y_train[i:i + 100])

    def val_loss(p):
        return nn.cross_entropy(nn.mlp(p, data.X_val), data.Y_val)

    log_alpha = np.full((T, 2), np.log(0.05))
    outer = optim.adam(0.1)
    state = outer.init(log_alpha)
    history = []
    for k in range(meta_steps + 1):
        res = R.hypergrad(train_loss, val_loss, p0, np.exp(log_alpha), 0.9, groups=groups)
        history.append(res.val_loss)
        log(f"  meta-step {k:3d}: validation loss {res.val_loss:.4f}   "
            f"mean lr layer 1 {np.exp(log_alpha[:, 0]).mean():.3f}, layer 2 {np.exp(log_alpha[:, 1]).mean():.3f}")
        if k == meta_steps:
            break
        log_alpha, state = outer.update(res.d_alphas * np.exp(log_alpha), state, log_alpha)  # chain rule to log
    return {"alphas": np.exp(log_alpha), "history": history, "stats": res.stats}


def distillation_experiment(data, T: int, meta_steps: int, log=print) -> dict:
    """Learn 10 synthetic 8x8 images (one per class), starting blank, that train logistic regression well."""
    labels = np.eye(10)
    p0 = {"W1": np.zeros((64, 10)), "b1": np.zeros(10)}

    def train_loss(p, meta, t):
        return nn.cross_entropy(nn.mlp(p, meta["images"]), labels)

    def val_loss(p):
        return nn.cross_entropy(nn.mlp(p, data.X_train), data.Y_train)

    images = np.zeros((10, 64))
    outer = optim.adam(0.05)
    state = outer.init(images)
    history = []
    for k in range(meta_steps + 1):
        res = R.hypergrad(train_loss, val_loss, p0, np.full(T, 0.5), 0.5, meta={"images": images})
        history.append(res.val_loss)
        if k % 5 == 0 or k == meta_steps:
            acc = nn.accuracy(nn.mlp(res.params_final, data.X_val), data.Y_val)
            log(f"  meta-step {k:3d}: loss on the real training set {res.val_loss:.4f}, "
                f"validation accuracy {acc:.3f}")
        if k == meta_steps:
            break
        images, state = outer.update(res.d_meta["images"], state, images)
        images = np.clip(images, 0.0, 1.0)  # keep them images (pixels in [0, 1], like the data)
    return {"images": images, "history": history, "accuracy": acc}


def main(argv: list[str] | None = None) -> dict:
    ap = demo_parser("reversible", __doc__)
    ap.add_argument("--T", type=positive_int, default=100,
                    help="training steps in the schedule experiment (default %(default)s)")
    ap.add_argument("--meta-steps", type=non_negative_int, default=20,
                    help="meta-steps on the schedule (default %(default)s)")
    ap.add_argument("--distil-meta-steps", type=non_negative_int, default=40,
                    help="meta-steps on the distilled images (default %(default)s)")
    ap.add_argument("--plot", metavar="FILE", help="save the learned schedules and images to a PNG")
    args = ap.parse_args(argv)
    data = datasets.digits()
    print(f"1. learning-rate schedule: MLP 64-50-10, T={args.T} steps of SGD (momentum 0.9, batch 100), "
          "one learning rate per step and layer")
    sched = schedule_experiment(data, args.T, args.meta_steps)
    st = sched["stats"]
    print(f"  memory: {st['bytes'] / 1024:.0f} KiB for the exact state and buffer vs "
          f"{st['trajectory_bytes'] / 1024:.0f} KiB to store the trajectory "
          f"({st['trajectory_bytes'] / st['bytes']:.0f}x); buffer {st['buffer_bits_per_param_step']:.3f} bits per "
          f"parameter and step (log2(1/0.9) = {st['expected_bits_per_param_step']:.3f})")
    print("\n2. dataset distillation: 10 synthetic images, one per class, from blank; logistic regression "
          "trained 30 steps on them alone")
    dist = distillation_experiment(data, 30, args.distil_meta_steps)
    if args.plot:
        _plot(sched, dist, args.plot)
        print(f"\nplot saved to {args.plot}")
    return {"schedule": sched, "distillation": dist}


def _plot(sched: dict, dist: dict, path: str) -> None:
    fig = figure(figsize=(13, 3.8))
    grid = fig.add_gridspec(2, 12, wspace=0.6, hspace=0.3, left=0.07, right=0.99, bottom=0.15, top=0.85)
    a0 = fig.add_subplot(grid[:, 0:4])
    a0.plot(sched["alphas"][:, 0], label="layer 1")
    a0.plot(sched["alphas"][:, 1], label="layer 2")
    a0.set(xlabel="training step", ylabel="learning rate", title="learned per-step, per-layer schedule")
    a0.ticklabel_format(axis="y", useOffset=False)
    a0.legend()
    a1 = fig.add_subplot(grid[:, 4:7])
    a1.plot(sched["history"], "k.-")
    a1.set(xlabel="meta-step", ylabel="validation loss", title="schedule meta-optimisation")
    for i in range(10):
        ax = fig.add_subplot(grid[i // 5, 7 + i % 5])
        ax.imshow(dist["images"][i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(str(i), fontsize=9)
    fig.text(0.8, 0.93, "10 distilled training images", ha="center", fontsize=11)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1:])
