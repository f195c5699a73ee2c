"""Every numba fast path equals the generic rule (in tinyad ops) it stands in for."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyad.core.forward import Dual, ForwardTrace
from tinyad.core.trace import opened
from tinyad.ops import losses
from tinyad.optim import momentum as fused
from tinyad.testing import strategies as tst


@given(n=st.integers(1, 6), c=st.integers(1, 6), data=st.data())
def test_softmax_xent_kernels_equal_generic(n, c, data):
    z = data.draw(tst.arrays((n, c), -30.0, 30.0))
    y = data.draw(tst.arrays((n, c), 0.0, 1.0))
    g = data.draw(st.floats(-2.0, 2.0))
    assert losses._value(z, y) == np.float64(losses.value_numpy(z, y)) or np.isclose(
        losses._value(z, y), losses.value_numpy(z, y), rtol=1e-14, atol=1e-14)
    fast = losses._vjp_z(g, None, z, y)
    generic = losses.vjp_z_generic(g, None, z, y)
    np.testing.assert_allclose(fast, generic, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("k", [None, 1, 3])
def test_fused_sgd_update_equals_generic_expression(nesterov, k):
    """Plain arrays, and Duals carrying k tangents (None: a one-direction trace), hyperparameters as Duals
    or plain floats: the fused kernel gives the generic expression's numbers."""
    rng = np.random.default_rng(0)
    shape = (5, 3)
    g, b, p = (rng.standard_normal(shape) for _ in range(3))
    fast = fused.fused_sgd_step(g, b, p, 0.1, 0.9, 1e-2, nesterov)
    for x, y in zip(fast, fused.sgd_step(g, b, p, 0.1, 0.9, 1e-2, nesterov)):
        np.testing.assert_allclose(x, y, rtol=1e-15, atol=1e-15)

    trace = ForwardTrace(k)
    tshape = shape if k is None else (k,) + shape
    hshape = () if k is None else (k,)
    with opened(trace):
        gd, pd = (Dual(rng.standard_normal(shape), rng.standard_normal(tshape), trace) for _ in range(2))
        lr = Dual(0.1, rng.standard_normal(hshape), trace)
        mu = Dual(0.9, rng.standard_normal(hshape), trace)
        for bb, wd in ((b, 1e-2), (Dual(b, rng.standard_normal(tshape), trace), Dual(1e-2, np.ones(hshape), trace))):
            fast = fused.fused_sgd_step(gd, bb, pd, lr, mu, wd, nesterov)
            assert fast is not None, "the fused path should apply here"
            for x, y in zip(fast, fused.sgd_step(gd, bb, pd, lr, mu, wd, nesterov)):
                np.testing.assert_allclose(x.primal, y.primal, rtol=1e-14, atol=1e-15)
                np.testing.assert_allclose(x.tangent, y.tangent, rtol=1e-13, atol=1e-14)


def test_fused_sgd_update_declines_what_it_cannot_do():
    g = np.ones((2, 2))
    assert fused.fused_sgd_step(g, g, g, np.array([0.1, 0.2]), 0.9, 0.0, False) is None  # per-weight lr
    assert fused.fused_sgd_step(g, g, g.astype(np.float32), 0.1, 0.9, 0.0, False) is None
    outer, inner = ForwardTrace(None), ForwardTrace(None)
    with opened(outer), opened(inner):  # nested Duals: the generic path handles them
        x = Dual(Dual(g, g, outer), g, inner)
        assert fused.fused_sgd_step(x, g, g, 0.1, 0.9, 0.0, False) is None
