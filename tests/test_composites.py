"""Functions of tinyad.numpy built from primitives (no rules of their own) are differentiated correctly."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyad
import tinyad.numpy as tnp
from tinyad.testing import check_grads
from tinyad.testing import strategies as tst

COMPOSITES = {
    "mean": lambda x: tnp.mean(x, axis=-1, keepdims=True) + tnp.mean(x),
    "min": lambda x: tnp.min(x * np.arange(1.0, 1.0 + x.shape[-1]), axis=-1),
    "softmax": lambda x: tnp.softmax(x, axis=-1),
    "log_softmax": lambda x: tnp.log_softmax(x, axis=0),
    "clip": lambda x: tnp.clip(x * 3.0 + 0.05, -1.0, 1.0),
    "outer": lambda x: tnp.outer(x, tnp.sin(x)),
    "stack": lambda x: tnp.stack([x, x ** 2, tnp.exp(x)], axis=1),
    "dot": lambda x: tnp.dot(x, x) + tnp.dot(tnp.reshape(x, (1, -1)), tnp.reshape(x, (-1, 1))),
    "expand_squeeze_swap": lambda x: tnp.swapaxes(tnp.expand_dims(tnp.squeeze(tnp.reshape(x, (1, -1))), 0), 0, 1),
    "index_update": lambda x: tnp.index_update(x, 0, tnp.sum(x ** 2)),
    "index_add": lambda x: tnp.index_add(x, np.array([0, 0]), x[-1]),
    "methods": lambda x: (x.reshape(1, -1).T.sum(axis=1) + x.mean() + (x + np.arange(4.0)).max() + x.ravel()[0]
                          + x.dot(x)),
    "operators": lambda x: (2.0 - x) / (1.5 + x * x) ** 2 @ -x + abs(x + 3.0) + 1.0 ** x,
}


@pytest.mark.parametrize("name", sorted(COMPOSITES))
@given(x=tst.arrays((4,), -1.0, 1.0))
def test_composite(name, x):
    check_grads(COMPOSITES[name], (tst.away_from(x, (0.0, -0.35, 0.32), 0.02),), order=2)


def test_clip_passes_gradient_to_bounds():
    g = tinyad.grad(lambda lo: tnp.sum(tnp.clip(np.array([-2.0, 0.0, 2.0]), lo, 1.0)))(-1.0)
    assert g == 1.0


@given(st.integers(0, 2))
def test_softmax_sums_to_one_and_is_stable(axis):
    x = np.array([[1000.0, 1000.0, -1000.0], [0.0, 1.0, 2.0], [-5.0, 5.0, 0.0]])
    s = tnp.softmax(x, axis=axis % 2)
    np.testing.assert_allclose(np.sum(s, axis=axis % 2), 1.0)
    assert np.all(np.isfinite(tinyad.jacrev(lambda a: tnp.softmax(a, axis=1))(x)))
