"""Memory of exactly reversible learning against storing the trajectory (ratios, not timings).

    python3 benchmarks/reversible_memory.py

MLP 64-50-10 on the digits (batch 100, as bench_reversible in run.py), SGD with momentum 0.9, T = 100 and
T = 1000. Per parameter and step it prints the bits the information buffer *occupies* as stored (every
byte: the bit-packed spills with their step, group and width, and the packed live buffer at the end)
against the *information* it holds (sum of log2(word + 1) over its words; log2(1/0.9) = 0.152 is the
asymptote), then two ratios:

- vs float32 w: a float32 trajectory of the weights (32 bits x parameters x T), the paper's comparison,
  over the buffer;
- vs float64 (w, v): a float64 trajectory of weights and velocities over everything the reversible run
  keeps (final w and v in int64, and the buffer).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # this checkout's tinyad, and workloads.py beside this file

import workloads as w  # noqa: E402

from tinyad import nn  # noqa: E402
from tinyad import reversible as R  # noqa: E402


def mlp_run(T: int, alpha: float = 0.05, gamma: float = 0.9):
    """The benchmark's training run: (ReversibleSGD, params0)."""
    d, _ = w.setup()
    p0 = nn.init_mlp((64, 50, 10), seed=0)

    def train_loss(p, meta, t):
        X, Y = w.batch(d, t)
        return w.loss(p, X, Y)

    return R.ReversibleSGD(train_loss, np.full(T, alpha), gamma), p0


def describe(T: int, st: dict) -> str:
    """One line of figures from :meth:`ReversibleSGD.memory_stats`."""
    occ, info = st["occupied_bits_per_param_step"], st["buffer_bits_per_param_step"]
    return (f"T={T:>5}: buffer occupies {occ:.4f} bits/param/step, holds {info:.4f} (ratio {occ / info:.3f}; "
            f"log2(1/gamma) = {st['expected_bits_per_param_step']:.4f}); {st['spills']} spills; "
            f"{st['ratio_vs_float32_w']:.0f}x below a float32 w trajectory; "
            f"{st['ratio_vs_float64_wv']:.0f}x below a float64 (w, v) trajectory "
            f"({st['bytes'] / 2**10:.1f} KiB vs {st['trajectory_bytes'] / 2**20:.2f} MiB)")


def main() -> None:
    print("exactly reversible learning, MLP 64-50-10 on the digits, gamma = 0.9: memory of the run")
    for T in (100, 1000):
        run, p0 = mlp_run(T)
        state, layout = run.forward(p0)
        print("  " + describe(T, run.memory_stats(state, layout)))


if __name__ == "__main__":
    main()
