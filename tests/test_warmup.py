"""tinyad.kernels.warmup compiles every kernel, for the argument types the library passes them."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHECK = """
import numpy as np
import tinyad.numpy as tnp
from tinyad import datasets, hyper, kernels, nn, reversible
from tinyad.demos.mlp import make_run
from tinyad.kernels.compiling import KERNELS

def counts():
    return {name: len(k.signatures) for name, k in KERNELS.items()}

untouched = counts()
names = kernels.warmup()
warm = counts()
print("NAMES", sorted(names) == sorted(KERNELS))
print("UNTOUCHED", untouched)
print("MISSING", [n for n, c in warm.items() if c == 0])

# what the library does: a digits MLP hypergradient (SGD momentum kernel with tangents, softmax
# cross-entropy), plain training, reverse mode, and exactly reversible SGD with bit-packed spills
h = {"lr": 0.1, "momentum": 0.5, "weight_decay": 1e-3}
run = make_run(datasets.digits(), nn.init_mlp((64, 8, 10), seed=0), 3)
hyper.hypergrad(run, h)
hyper.hypergrad(run, h, mode="reverse")
run(h)
rng = np.random.default_rng(0)
X, Y = rng.standard_normal((10, 5)), rng.standard_normal(10)
train = lambda p, meta, t: tnp.mean((X @ p["w"] - Y) ** 2)
sgd = reversible.ReversibleSGD(train, np.full(2000, 0.02), np.full(2000, 0.5))
state, layout = sgd.forward({"w": np.zeros(5)})
assert state.spills
sgd.backward(state, layout)
print("NEW", {n: c for n, c in counts().items() if c != warm[n]})
"""


def test_warmup_compiles_every_kernel_for_the_types_the_library_uses():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    assert lines["NAMES"] == "True"
    assert lines["MISSING"] == "[]", "kernels that warmup() did not compile: " + lines["MISSING"]
    # a fresh process has compiled nothing before warmup (so the checks above are about warmup) ...
    assert set(eval(lines["UNTOUCHED"]).values()) == {0}
    # ... and after it, the library's own calls need no new compilation
    assert lines["NEW"] == "{}", "signatures compiled after warmup(): " + lines["NEW"]
