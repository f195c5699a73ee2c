"""Every numba fast path equals the generic rule (in tinyad ops) it stands in for."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tinyad.primitives import losses
from tinyad.testing import strategies as tst


@given(n=st.integers(1, 6), c=st.integers(1, 6), data=st.data())
def test_softmax_xent_kernels_equal_generic(n, c, data):
    z = data.draw(tst.arrays((n, c), -30.0, 30.0))
    y = data.draw(tst.arrays((n, c), 0.0, 1.0))
    g = data.draw(st.floats(-2.0, 2.0))
    assert losses._value(z, y) == np.float64(losses._value_numpy(z, y)) or np.isclose(
        losses._value(z, y), losses._value_numpy(z, y), rtol=1e-14, atol=1e-14)
    fast = losses._vjp_z(g, None, z, y)
    generic = losses._vjp_z_generic(g, None, z, y)
    np.testing.assert_allclose(fast, generic, rtol=1e-13, atol=1e-15)
