"""Fluid simulation (the seed slides' example): optimise the initial velocity field so that smoke, carried
by an incompressible flow, ends up in a target shape.

The simulation is ordinary NumPy code — semi-Lagrangian advection with ``roll``, ``meshgrid``,
``floor().astype(int)``, ``mod`` and integer indexing, and a relaxation solve for the pressure — written
against ``import tinyad.numpy as np``. Nothing else changes: ``tinyad.grad`` differentiates straight
through the integer index arithmetic (a constant) and the interpolation weights (differentiable).
"""

from __future__ import annotations

import argparse

import tinyad
import tinyad.numpy as np  # the only change from a plain NumPy program
from tinyad import optim
from tinyad.plotting import figure

from ._args import demo_parser, non_negative_int, plot_file, positive_int


def project(vx, vy, iterations=20):
    """Make the velocity field (nearly) divergence-free: relax the pressure Poisson equation, subtract its
    gradient. Periodic boundaries."""
    h = 1.0 / vx.shape[0]
    div = -0.5 * h * (np.roll(vx, -1, axis=0) - np.roll(vx, 1, axis=0)
                      + np.roll(vy, -1, axis=1) - np.roll(vy, 1, axis=1))
    p = np.zeros(vx.shape)
    for _ in range(iterations):
        p = (div + np.roll(p, 1, axis=0) + np.roll(p, -1, axis=0)
             + np.roll(p, 1, axis=1) + np.roll(p, -1, axis=1)) / 4.0
    vx = vx - 0.5 * (np.roll(p, -1, axis=0) - np.roll(p, 1, axis=0)) / h
    vy = vy - 0.5 * (np.roll(p, -1, axis=1) - np.roll(p, 1, axis=1)) / h
    return vx, vy


def advect(f, vx, vy):
    """Move field f along (vx, vy): trace each cell back and interpolate bilinearly (semi-Lagrangian)."""
    rows, cols = f.shape
    cell_xs, cell_ys = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    center_xs = (cell_xs - vx).ravel()
    center_ys = (cell_ys - vy).ravel()
    left = np.floor(center_xs).astype(int)  # integer cell indices: constants
    top = np.floor(center_ys).astype(int)
    rw = center_xs - left  # interpolation weights: differentiable
    bw = center_ys - top
    left, right = np.mod(left, rows), np.mod(left + 1, rows)
    top, bottom = np.mod(top, cols), np.mod(top + 1, cols)
    flat = ((1 - rw) * ((1 - bw) * f[left, top] + bw * f[left, bottom])
            + rw * ((1 - bw) * f[right, top] + bw * f[right, bottom]))
    return np.reshape(flat, (rows, cols))


def simulate(vx, vy, smoke, steps, keep_frames=False):
    frames = [smoke]
    for _ in range(steps):
        vx, vy = project(vx, vy)
        vx_next = advect(vx, vx, vy)
        vy_next = advect(vy, vx, vy)
        smoke = advect(smoke, vx, vy)
        vx, vy = vx_next, vy_next
        if keep_frames:
            frames.append(smoke)
    return smoke, frames


def blob(n, cx, cy, r):
    xs, ys = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    return 1.0 / (1.0 + np.exp(((xs - cx) ** 2 + (ys - cy) ** 2) ** 0.5 - r))  # a soft disk


def main(argv: list[str] | None = None) -> dict:
    ap = demo_parser("fluid", __doc__)
    ap.add_argument("--size", type=positive_int, default=24, help="grid cells per side (default %(default)s)")
    ap.add_argument("--steps", type=positive_int, default=12, help="simulation steps (default %(default)s)")
    ap.add_argument("--iterations", type=non_negative_int, default=40,
                    help="optimisation steps on the initial velocity (default %(default)s)")
    ap.add_argument("--plot", metavar="FILE", type=plot_file,
                    help="where to save the before/after frames (default fluid.png)")
    ap.add_argument("--no-plot", action="store_true", help="do not save the picture")
    args = ap.parse_args(argv)
    if args.plot is None and not args.no_plot:
        try:
            args.plot = plot_file("fluid.png")
        except argparse.ArgumentTypeError as e:
            ap.error(f"cannot save the default picture ({e}); pass --plot FILE or --no-plot")
    n = args.size
    smoke0 = blob(n, n * 0.5, n * 0.5, n * 0.18)
    target = blob(n, n * 0.25, n * 0.3, n * 0.15) + blob(n, n * 0.72, n * 0.72, n * 0.15)  # split and move it

    def distance(v):
        final, _ = simulate(v[0], v[1], smoke0, args.steps)
        return np.mean((final - target) ** 2)

    v = np.zeros((2, n, n))
    opt = optim.adam(0.1)
    state = opt.init(v)
    losses = []
    print(f"{n}x{n} grid, {args.steps} simulation steps; distance of the final smoke to the target:")
    for it in range(args.iterations + 1):
        loss, g = tinyad.value_and_grad(distance)(v)
        losses.append(float(loss))
        if it % 10 == 0 or it == args.iterations:
            print(f"  iteration {it:3d}: {loss:.5f}")
        if it < args.iterations:
            v, state = opt.update(g, state, v)
    print(f"distance {losses[0]:.5f} -> {losses[-1]:.5f} ({100 * (1 - losses[-1] / losses[0]):.0f}% lower)")
    if args.plot and not args.no_plot:
        _, before = simulate(np.zeros((n, n)), np.zeros((n, n)), smoke0, args.steps, keep_frames=True)
        _, after = simulate(v[0], v[1], smoke0, args.steps, keep_frames=True)
        try:
            _plot(before, after, target, args.plot)
            print(f"before/after frames saved to {args.plot}")
        except ImportError as e:
            print(f"(no picture: {e})")
    return {"losses": losses, "velocity": v}


def _plot(before, after, target, path):
    idx = [0, len(after) // 3, 2 * len(after) // 3, len(after) - 1]
    fig = figure(figsize=(2.2 * (len(idx) + 1), 4.6))
    axes = fig.subplots(2, len(idx) + 1)
    for row, frames, label in ((0, before, "before (no flow)"), (1, after, "after optimising the flow")):
        for col, i in enumerate(idx):
            axes[row, col].imshow(frames[i].T, cmap="Blues", origin="lower", vmin=0, vmax=1)
            axes[row, col].set_title(f"t = {i}" if row == 0 else f"t = {i}", fontsize=9)
            axes[row, col].set_xticks([])
            axes[row, col].set_yticks([])
        axes[row, 0].set_ylabel(label, fontsize=9)
        axes[row, -1].imshow(target.T, cmap="Reds", origin="lower", vmin=0, vmax=1)
        axes[row, -1].set_title("target", fontsize=9)
        axes[row, -1].set_xticks([])
        axes[row, -1].set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
