"""The seed slides' autograd programs run with `import tinyad.numpy as np` and nothing else changed."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import tinyad
from tinyad.demos import fluid

ROOT = Path(__file__).resolve().parents[1]


def load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_seed_mlp_trains():
    first, last = load(ROOT / "examples" / "seed_mlp.py").main(steps=150)
    assert last < 0.5 * first


def test_fluid_simulation_gradient_matches_finite_differences():
    n = 8
    smoke = fluid.blob(n, 4.0, 4.0, 1.5)
    target = fluid.blob(n, 2.0, 5.0, 1.5)
    rng = np.random.default_rng(0)
    v0 = rng.standard_normal((2, n, n)) * 0.3

    def distance(v):
        final, _ = fluid.simulate(v[0], v[1], smoke, 3)
        return tinyad.numpy.mean((final - target) ** 2)

    g = tinyad.grad(distance)(v0)
    d = rng.standard_normal(v0.shape)
    h = 1e-6
    fd = (distance(v0 + h * d) - distance(v0 - h * d)) / (2 * h)
    assert np.sum(g * d) == pytest.approx(fd, rel=1e-5)


@pytest.mark.slow
def test_fluid_demo_moves_smoke_toward_target(tmp_path):
    res = fluid.main(["--size", "16", "--steps", "8", "--iterations", "15", "--plot", str(tmp_path / "f.png")])
    assert res["losses"][-1] < 0.5 * res["losses"][0]
    assert (tmp_path / "f.png").stat().st_size > 10_000
