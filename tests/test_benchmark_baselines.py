"""The hand-written NumPy baselines in benchmarks/ compute the same numbers as tinyad and the reference,
so every ratio the benchmarks print compares equal work."""

import sys
from pathlib import Path

import numpy as np
import pytest

import tinyad
import tinyad.hyper
from tinyad import optim

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import workloads as w  # noqa: E402

from .reference_run import load_reference  # noqa: E402


@pytest.fixture(scope="module")
def work():
    return w.setup()


def test_hand_numpy_step_equals_tinyad_step(work):
    d, p0 = work
    X, Y = w.batch(d, 3)
    v0 = {k: np.full_like(p0[k], 0.01) for k in p0}
    p_np, v_np = w.numpy_step(p0, v0, X, Y, 0.1, 0.9, 1e-4)
    opt = optim.sgd(0.1, 0.9, weight_decay=1e-4)
    p_ta, s_ta = w.tinyad_step(p0, {"b": {k: -v0[k] for k in p0}}, X, Y, opt)
    for k in p0:
        np.testing.assert_allclose(p_ta[k], p_np[k], rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(-s_ta["b"][k], v_np[k], rtol=1e-13, atol=1e-15)


def test_hand_forward_mode_matches_reference(work):
    d, p0 = work
    ref = {r["T"]: r for r in load_reference()["results"]}
    value, tangent = w.numpy_fwd_hypergrad(d, p0, 10)
    assert value == pytest.approx(ref[10]["val_loss"], rel=1e-12)
    np.testing.assert_allclose(tangent, [ref[10]["hypergrad"][k] for k in ("alpha", "mu", "wd")], rtol=1e-10)


def test_hand_numpy_hvp_equals_tinyad_hvp(work):
    d, p0 = work
    rng = np.random.default_rng(0)
    v = {k: rng.standard_normal(p0[k].shape) for k in p0}
    X, Y = d.X_train[:200], d.Y_train[:200]
    hand = w.numpy_hvp(p0, v, X, Y)
    ours = tinyad.hvp(lambda p: w.loss(p, X, Y), p0, v)
    jitted = tinyad.jit(lambda p, v: tinyad.hvp(lambda q: w.loss(q, X, Y), p, v))
    for k in p0:
        np.testing.assert_allclose(hand[k], ours[k], rtol=1e-12, atol=1e-14)
        for _ in range(4):
            np.testing.assert_allclose(jitted(p0, v)[k], ours[k], rtol=1e-12, atol=1e-14)


def test_jitted_workload_equals_eager(work):
    d, p0 = work
    h = {"lr": 0.1, "momentum": 0.9, "wd": 1e-4}
    for mode in ("forward", "reverse"):
        eager = tinyad.hyper.hypergrad(lambda h: w.tinyad_run(h, d, p0, 6), h, mode=mode)
        jitted = tinyad.hyper.hypergrad(lambda h: w.tinyad_run(h, d, p0, 6, w.jit_step), h, mode=mode)
        assert jitted[0] == pytest.approx(eager[0], rel=1e-12)
        for k in h:
            assert jitted[1][k] == pytest.approx(eager[1][k], rel=1e-10)


def test_tinyad_workload_run_matches_reference(work):
    d, p0 = work
    ref = {r["T"]: r for r in load_reference()["results"]}
    value, g = tinyad.hyper.hypergrad(lambda h: w.tinyad_run(h, d, p0, 10), {"lr": 0.1, "momentum": 0.9, "wd": 1e-4})
    assert value == pytest.approx(ref[10]["val_loss"], rel=1e-12)
