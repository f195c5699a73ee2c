"""The headline claim: hypergradients through whole training runs match an independent AD system.

../shared/reference/digits_hypergrad.json holds float64 values from JAX (reverse mode through the unrolled
loop, cross-checked there against forward mode and finite differences). tinyad rebuilds the same run
bit for bit (fingerprints) and must match to relative 1e-8 in both modes."""

import hashlib

import numpy as np
import pytest

import tinyad
from tinyad import hyper

from .reference_run import ReferenceRun, flat, load_reference

REF = load_reference()
RUN = ReferenceRun()


def sha(*arrays):
    return hashlib.sha256(b"".join(np.ascontiguousarray(a, dtype="<f8").tobytes() for a in arrays)).hexdigest()


def test_inputs_are_bit_identical_to_the_reference():
    d, p, fp = RUN.data, RUN.p0, REF["fingerprints"]
    assert sha(d.X_train, d.Y_train) == fp["Xtr_Ytr"]
    assert sha(d.X_val, d.Y_val) == fp["Xva_Yva"]
    assert sha(p["W1"], p["b1"], p["W2"], p["b2"]) == fp["init_W1_b1_W2_b2"]


def expected(T):
    (row,) = [r for r in REF["results"] if r["T"] == T]
    return row["val_loss"], flat(row["hypergrad"])


def assert_matches(T, value, g):
    val_ref, g_ref = expected(T)
    assert value == pytest.approx(val_ref, rel=1e-8)
    # momentum's hypergradient is exactly 0 at T = 1 (momentum first acts at step 2): absolute tolerance
    np.testing.assert_allclose(g, g_ref, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("mode", ["forward", "reverse"])
@pytest.mark.parametrize("T", [1, 10, pytest.param(100, marks=pytest.mark.slow)])
def test_hypergradient_matches_reference(T, mode):
    value, g = hyper.hypergrad(lambda h: RUN.run(h, T), RUN.h0, mode=mode)
    assert_matches(T, value, flat(g))


def test_user_code_with_plain_jvp_and_grad_gives_the_same():
    """No convenience layer: the user's loop, wrapped in tinyad.jvp with one direction at a time."""
    T = 10
    _, g_ref = expected(T)
    for i, k in enumerate(("alpha", "mu", "wd")):
        tangent = {key: float(key == k) for key in RUN.h0}
        _, t = tinyad.jvp(lambda h: RUN.run(h, T), (RUN.h0,), (tangent,))
        assert t == pytest.approx(g_ref[i], rel=1e-8)


def test_hypergradient_matches_finite_differences():
    T = 10
    _, g = hyper.hypergrad(lambda h: RUN.run(h, T), RUN.h0)
    for i, k in enumerate(("alpha", "mu", "wd")):
        eps = 1e-6 * RUN.h0[k]
        hi, lo = dict(RUN.h0), dict(RUN.h0)
        hi[k] += eps
        lo[k] -= eps
        fd = (RUN.run(hi, T) - RUN.run(lo, T)) / (2 * eps)
        # finite differences resolve wd only to ~1e-6 relative (its step is tiny): see the reference README
        assert flat(g)[i] == pytest.approx(fd, rel=1e-5)


def test_hvp_of_training_loss_matches_reference():
    d, p0 = RUN.data, RUN.p0
    names = ("W1", "b1", "W2", "b2")
    shapes = [p0[n].shape for n in names]
    sizes = [int(np.prod(s)) for s in shapes]

    def unflat(x):
        out, start = {}, 0
        for n, s, k in zip(names, shapes, sizes):
            out[n] = x[start:start + k].reshape(s)
            start += k
        return out

    def train_loss(x):
        return RUN.loss(unflat(x), d.X_train, d.Y_train)

    x0 = np.concatenate([p0[n].ravel() for n in names])
    v = np.random.RandomState(REF["config"]["hvp_seed"]).standard_normal(x0.size)
    hv = tinyad.hvp(train_loss, x0, v)
    ref = REF["hvp"]
    np.testing.assert_allclose(hv[::ref["sampled_stride"]], ref["sampled"], rtol=1e-8, atol=1e-12)
    assert np.linalg.norm(hv) == pytest.approx(ref["norm"], rel=1e-10)
    assert v @ hv == pytest.approx(ref["v_dot_hvp"], rel=1e-10)
