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


X34 = np.random.default_rng(3).standard_normal((3, 4))
V5 = np.random.default_rng(4).standard_normal(5)
ARRAY_FUNCS = {  # name: (tinyad function, the NumPy function it must equal)
    "moveaxis": (lambda a: tnp.moveaxis(a, 0, 1), lambda a: np.moveaxis(a, 0, 1)),
    "take": (lambda a: tnp.take(a, [0, 2, 2], axis=1), lambda a: np.take(a, [0, 2, 2], axis=1)),
    "take_along_axis": (lambda a: tnp.take_along_axis(a, np.argsort(X34, 1), 1),
                        lambda a: np.take_along_axis(a, np.argsort(X34, 1), 1)),
    "repeat": (lambda a: tnp.repeat(a, 2, axis=0), lambda a: np.repeat(a, 2, axis=0)),
    "tile": (lambda a: tnp.tile(a, (2, 1, 2)), lambda a: np.tile(a, (2, 1, 2))),
    "array_split": (lambda a: tnp.array_split(a, 3, axis=1)[1], lambda a: np.array_split(a, 3, axis=1)[1]),
    "split": (lambda a: tnp.split(a, 2, axis=1)[1], lambda a: np.split(a, 2, axis=1)[1]),
    "hstack": (lambda a: tnp.hstack([a, a * 2]), lambda a: np.hstack([a, a * 2])),
    "vstack": (lambda a: tnp.vstack([a[0], a[1]]), lambda a: np.vstack([a[0], a[1]])),
    "atleast_3d": (lambda a: tnp.atleast_3d(a[0]), lambda a: np.atleast_3d(a[0])),
    "flip": (lambda a: tnp.flip(a, 1), lambda a: np.flip(a, 1)),
    "roll": (lambda a: tnp.roll(a, 1, axis=1), lambda a: np.roll(a, 1, axis=1)),
    "roll_flat": (lambda a: tnp.roll(a, 5), lambda a: np.roll(a, 5)),
    "rot90": (lambda a: tnp.rot90(a, 3), lambda a: np.rot90(a, 3)),
    "pad": (lambda a: tnp.pad(a, ((1, 0), (2, 1)), constant_values=2.0),
            lambda a: np.pad(a, ((1, 0), (2, 1)), constant_values=2.0)),
    "diagonal": (lambda a: tnp.diagonal(a, 1), lambda a: np.diagonal(a, 1)),
    "diag": (lambda a: tnp.diag(a[0], -1), lambda a: np.diag(a[0], -1)),
    "trace": (lambda a: tnp.trace(a), lambda a: np.trace(a)),
    "tril_triu": (lambda a: tnp.tril(a) + tnp.triu(a, 1), lambda a: np.tril(a) + np.triu(a, 1)),
    "meshgrid": (lambda a: tnp.meshgrid(a[0], a[1, :3])[1], lambda a: np.meshgrid(a[0], a[1, :3])[1]),
    "var_std": (lambda a: tnp.var(a, axis=0, ddof=1) + tnp.std(a), lambda a: np.var(a, axis=0, ddof=1) + np.std(a)),
    "prod": (lambda a: tnp.prod(a, axis=1) + tnp.prod(a[0]), lambda a: np.prod(a, axis=1) + np.prod(a[0])),
    "cumprod": (lambda a: tnp.cumprod(a, axis=1), lambda a: np.cumprod(a, axis=1)),
    "sort": (lambda a: tnp.sort(a), lambda a: np.sort(a)),
    "tensordot": (lambda a: tnp.tensordot(a, a, axes=([1], [1])), lambda a: np.tensordot(a, a, axes=([1], [1]))),
    "dot_ranks": (lambda a: tnp.dot(tnp.reshape(a, (3, 2, 2)), a[:2]),
                  lambda a: np.dot(np.reshape(a, (3, 2, 2)), a[:2])),
    "inner": (lambda a: tnp.inner(a, a), lambda a: np.inner(a, a)),
    "abs_of_complex": (lambda a: tnp.abs(a + 1j * tnp.sin(a)), lambda a: np.abs(a + 1j * np.sin(a))),
    "fft2_power": (lambda a: tnp.abs(tnp.fft.fft2(a)) ** 2, lambda a: np.abs(np.fft.fft2(a)) ** 2),
    "ifft2_shift": (lambda a: tnp.real(tnp.fft.ifft2(tnp.fft.fftshift(a))),
                    lambda a: np.real(np.fft.ifft2(np.fft.fftshift(a)))),
    "spectral_filter": (lambda a: tnp.fft.irfft(tnp.fft.rfft(a) * np.exp(-np.arange(3.0)), n=4),
                        lambda a: np.fft.irfft(np.fft.rfft(a) * np.exp(-np.arange(3.0)), n=4)),
    "complex_matmul": (lambda a: tnp.abs(tnp.matmul(a, (a + 1j).T)), lambda a: np.abs(np.matmul(a, (a + 1j).T))),
    "norms": (lambda a: tnp.norm(a) + tnp.norm(a[0], 1) + tnp.norm(a[1], np.inf) + tnp.norm(a[2], 3),
              lambda a: np.linalg.norm(a) + np.linalg.norm(a[0], 1) + np.linalg.norm(a[1], np.inf)
              + np.linalg.norm(a[2], 3)),
}


@pytest.mark.parametrize("name", sorted(ARRAY_FUNCS))
def test_array_function_equals_numpy_and_has_right_derivatives(name):
    ours, theirs = ARRAY_FUNCS[name]
    np.testing.assert_allclose(ours(X34), theirs(X34), rtol=1e-13, atol=1e-14)
    check_grads(ours, (X34,), order=2)


def test_prod_and_cumprod_derivatives_with_zero_factors():
    x = np.array([2.0, 0.0, 3.0, 0.0, 5.0])
    np.testing.assert_allclose(tinyad.grad(tnp.prod)(x), [0.0, 0.0, 0.0, 0.0, 0.0])
    x[3] = 4.0
    np.testing.assert_allclose(tinyad.grad(tnp.prod)(x), [0.0, 120.0, 0.0, 0.0, 0.0])
    check_grads(lambda a: tnp.cumprod(a), (x,), order=2)


ARRAY_FUNCS.update({
    "atleast_1d_2d": (lambda a: tnp.atleast_2d(tnp.atleast_1d(a[0, 0])) * a, lambda a: np.atleast_2d(a[0, 0]) * a),
    "ravel": (lambda a: tnp.ravel(a), lambda a: np.ravel(a)),
    "ifftshift": (lambda a: tnp.fft.ifftshift(tnp.fft.fftshift(a) * 2.0), lambda a: a * 2.0),
})


def test_aliases_are_the_same_functions():
    assert tnp.absolute is tnp.abs and tnp.fabs is tnp.abs and tnp.amax is tnp.max and tnp.amin is tnp.min
    assert tnp.conjugate is tnp.conj and tnp.true_divide is tnp.divide and tnp.remainder is tnp.mod


CONSTANT_VALUED = {
    "argmin": lambda a: tnp.argmin(a), "argsort": lambda a: tnp.argsort(a), "nonzero": lambda a: tnp.nonzero(a > 0),
    "equal": lambda a: tnp.equal(a, a), "not_equal": lambda a: tnp.not_equal(a, 0.5), "less": lambda a: tnp.less(a, 0),
    "less_equal": lambda a: tnp.less_equal(a, 0), "greater": lambda a: tnp.greater(a, 0),
    "greater_equal": lambda a: tnp.greater_equal(a, 0), "isfinite": lambda a: tnp.isfinite(a),
    "isinf": lambda a: tnp.isinf(a), "isnan": lambda a: tnp.isnan(a),
    "logical": lambda a: tnp.logical_xor(tnp.logical_and(a > 0, a < 1), tnp.logical_not(tnp.logical_or(a > 2, a < -2))),
    "floor_divide": lambda a: tnp.floor_divide(a, 0.3), "rint": lambda a: tnp.rint(a),
    "trunc": lambda a: tnp.trunc(a), "searchsorted": lambda a: tnp.searchsorted(np.array([0.0, 1.0]), a),
    "zeros_like": lambda a: tnp.zeros_like(a), "ones_like": lambda a: tnp.ones_like(a),
    "shape_ndim_size": lambda a: np.array([tnp.ndim(a), tnp.size(a), *tnp.shape(a)]),
}


@pytest.mark.parametrize("name", sorted(CONSTANT_VALUED))
def test_constant_valued_functions_return_plain_numpy_values_under_differentiation(name):
    fn = CONSTANT_VALUED[name]
    x = np.array([[-0.7, 0.2, 1.3], [2.5, -3.0, 0.4]])
    expected = fn(x)
    seen = {}

    def f(a):
        seen["out"] = fn(a)
        return tnp.sum(a * a)

    tinyad.grad(f)(x)
    for got, want in zip(np.atleast_1d(seen["out"]) if not isinstance(expected, tuple) else seen["out"],
                         np.atleast_1d(expected) if not isinstance(expected, tuple) else expected):
        assert not isinstance(got, tinyad.Var)
        np.testing.assert_array_equal(got, want)
