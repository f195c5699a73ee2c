"""Hypothesis strategies for property-testing derivatives (needs ``pip install hypothesis``).

    from hypothesis import given
    from tinyad.testing import check_grads, strategies as tst

    @given(tst.arrays(min_value=0.1, max_value=3.0))
    def test_my_op(x):
        check_grads(my_op, (x,))
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4) -> st.SearchStrategy:
    """Array shapes of random rank and size (small, so finite differences stay cheap)."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def arrays(shape=None, min_value: float = -2.0, max_value: float = 2.0, **shape_kw) -> st.SearchStrategy:
    """float64 arrays with finite values in [min_value, max_value]; a random shape unless one is given."""
    elements = st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=64)
    return hnp.arrays(np.float64, shape if shape is not None else shapes(**shape_kw), elements=elements)


def broadcastable_shapes(num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3,
                         max_side: int = 4) -> st.SearchStrategy:
    """Tuples of ``num_shapes`` shapes that broadcast together (as in ``x + y``)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims,
                                             max_side=max_side).map(lambda r: r.input_shapes)


def away_from(values: np.ndarray, points=(0.0,), margin: float = 0.1) -> np.ndarray:
    """Push entries at least ``margin`` away from kinks/poles at ``points`` (for abs, divide, ...)."""
    out = np.array(values, dtype=float)
    for p in points:
        close = np.abs(out - p) < margin
        out[close] = p + np.where(out[close] >= p, margin, -margin)
    return out
