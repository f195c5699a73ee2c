"""Functions users reach for that NumPy has (logaddexp, any, isclose, diff, full_like, ...) or does not (sigmoid,
softplus, relu, erf): values against NumPy, math.erf or JAX (written down), derivatives to second order."""

import math

import numpy as np
import pytest

import tinyad
import tinyad.numpy as tnp
from tinyad.kernels import special
from tinyad.testing import check_grads

X = np.array([-30.0, -2.5, -0.3, 0.0, 0.7, 4.0, 40.0])
Y = np.array([1.0, -2.0, 0.3, 0.0, 5.0, 3.9, -41.0])

JAX = {  # jax.nn / jax.numpy / jax.scipy.special at X (and Y), float64
    "sigmoid": [9.357622968839299e-14, 0.07585818002124355, 0.425557483188341, 0.5, 0.6681877721681662,
                0.9820137900379085, 1.0],
    "sigmoid'": [9.357622968838423e-14, 0.07010371654510815, 0.24445831169074586, 0.25, 0.22171287329310904,
                 0.017662706213291107, 0.0],
    "sigmoid''": [9.357622968836671e-14, 0.05946783584543406, 0.03639618395557622, 0.0, -0.07457878844034183,
                  -0.01702733592838912, -0.0],
    "softplus": [9.357622968839737e-14, 0.07888973429254963, 0.554355244468527, 0.6931471805599453,
                 1.103186048885458, 4.0181499279178094, 40.0],
    "softplus'": [9.35762296883931e-14, 0.07585818002124355, 0.4255574831883411, 0.5, 0.668187772168166,
                  0.9820137900379087, 1.0],
    "erf'": [0.0, 0.00217828423035271, 1.031260909618963, 1.1283791670955126, 0.6912748604105386,
             1.2698234671866558e-07, 0.0],
    "erfc''": [-0.0, -0.01089142115176355, -0.6187565457713778, 0.0, 0.967784804574754, 1.0158587737493247e-06, 0.0],
    "logaddexp_x": [3.4424771084698543e-14, 0.3775406687981454, 0.35434369377420455, 0.5, 0.013386917827664782,
                    0.5249791874789398, 1.0],
    "logaddexp_y": [0.9999999999999656, 0.6224593312018546, 0.6456563062257954, 0.5, 0.9866130821723355,
                    0.47502081252105977, 6.639677199580735e-36],
    "logaddexp2_x": [4.6566128709089836e-10, 0.4142135623730951, 0.39750105926563917, 0.5, 0.04831312171665216,
                     0.5173217448321852, 1.0],
    "logaddexp2_y": [0.9999999995343387, 0.585786437626905, 0.6024989407343608, 0.5, 0.9516868782833481,
                     0.48267825516781465, 4.13590306276516e-25],
}


def derivative(f, order=1):
    for _ in range(order):
        f = tinyad.grad(f)
    return lambda x: np.array([f(v) for v in x])


def test_sigmoid_and_softplus_equal_jax_and_do_not_overflow():
    np.testing.assert_allclose(tnp.sigmoid(X), JAX["sigmoid"], rtol=1e-14)
    np.testing.assert_allclose(derivative(tnp.sigmoid)(X), JAX["sigmoid'"], rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(derivative(tnp.sigmoid, 2)(X), JAX["sigmoid''"], rtol=1e-12, atol=1e-17)
    np.testing.assert_allclose(tnp.softplus(X), JAX["softplus"], rtol=1e-14)
    np.testing.assert_allclose(derivative(tnp.softplus)(X), JAX["softplus'"], rtol=1e-13)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow inside, at any size
        assert tnp.sigmoid(np.array(-1000.0)) == 0.0 and tnp.sigmoid(np.array(1000.0)) == 1.0
        assert tnp.softplus(np.array(1000.0)) == 1000.0


def test_the_primitive_docstring_example_runs():
    """docs/api.md shows a user primitive whose rules use tnp.sigmoid."""
    @tinyad.primitive
    def softplus(x):
        return np.logaddexp(0.0, x)

    softplus.defjvp(lambda g, ans, x: g * tnp.sigmoid(x))
    softplus.defvjp(lambda g, ans, x: g * tnp.sigmoid(x))
    check_grads(softplus, (X[1:-1],), order=2)
    np.testing.assert_allclose(tinyad.grad(lambda x: tnp.sum(softplus(x)))(X), JAX["softplus'"], rtol=1e-13)


def test_relu_value_derivatives_and_dtype():
    np.testing.assert_array_equal(tnp.relu(X), np.maximum(X, 0.0))
    np.testing.assert_array_equal(derivative(tnp.relu)(X), (X > 0).astype(float))  # 0 at 0, as JAX
    assert tnp.relu(np.arange(-2, 3)).dtype == np.arange(3).dtype
    check_grads(tnp.relu, (X[X != 0],), order=2)


def test_logaddexp_and_logaddexp2_equal_numpy_and_jax():
    np.testing.assert_allclose(tnp.logaddexp(X, Y), np.logaddexp(X, Y), rtol=1e-15)
    np.testing.assert_allclose(tnp.logaddexp2(X, Y), np.logaddexp2(X, Y), rtol=1e-15)
    for name, fn in (("logaddexp", tnp.logaddexp), ("logaddexp2", tnp.logaddexp2)):
        gx, gy = tinyad.grad(lambda a, b: tnp.sum(fn(a, b)), argnums=(0, 1))(X, Y)
        np.testing.assert_allclose(gx, JAX[f"{name}_x"], rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(gy, JAX[f"{name}_y"], rtol=1e-12, atol=1e-300)
        check_grads(fn, (X[1:-1], Y[1:-1]), order=2)
    check_grads(tnp.logaddexp, (X[:3, None], Y[None, 1:4]), order=2)  # broadcasting


def test_erf_and_erfc_equal_math_erf_everywhere():
    points = np.concatenate([np.linspace(-7.0, 7.0, 1401), [-40.0, -1e-300, 0.0, 1e-300, 1e-8, 27.0, np.inf, -np.inf]])
    np.testing.assert_array_equal(tnp.erf(points), [math.erf(p) for p in points])
    np.testing.assert_array_equal(tnp.erfc(points), [math.erfc(p) for p in points])
    assert np.isnan(tnp.erf(np.nan))
    np.testing.assert_allclose(derivative(tnp.erf)(X), JAX["erf'"], rtol=1e-13)
    np.testing.assert_allclose(derivative(tnp.erfc, 2)(X), JAX["erfc''"], rtol=1e-12)
    check_grads(tnp.erf, (X[1:-1],), order=2)
    check_grads(lambda x: tnp.erfc(x) * tnp.erf(x), (X[1:-1],), order=2)


def test_erf_takes_what_a_ufunc_takes():
    assert type(tnp.erf(0.5)) is np.float64 and tnp.erf(0.5) == math.erf(0.5)
    assert tnp.erf(np.float32(0.5)).dtype == np.float32
    assert tnp.erf(np.arange(3)).dtype == np.float64
    np.testing.assert_array_equal(tnp.erf([[0.5, 1.0]]), [[math.erf(0.5), math.erf(1.0)]])
    assert tnp.erf(np.zeros((0, 2))).shape == (0, 2)
    np.testing.assert_array_equal(tnp.erf(np.asfortranarray(np.ones((2, 3)))), np.full((2, 3), math.erf(1.0)))
    with pytest.raises(TypeError, match="complex"):
        special.erf(np.array([1j]))


def test_arccosh_and_arctanh():
    x = np.array([1.2, 2.0, 5.0])
    np.testing.assert_allclose(tnp.arccosh(x), np.arccosh(x), rtol=1e-15)
    np.testing.assert_allclose(tnp.arctanh(x / 6.0), np.arctanh(x / 6.0), rtol=1e-15)
    check_grads(tnp.arccosh, (x,), order=2)
    check_grads(tnp.arctanh, (x / 6.0,), order=2)


def test_truth_tests_are_constants_with_numpys_values():
    x = np.array([[0.0, 1.0], [2.0, 0.0]])

    def f(a):
        assert tnp.any(a > 1.5) and not tnp.all(a > 0.5)
        np.testing.assert_array_equal(tnp.any(a, axis=0), np.any(x, axis=0))
        np.testing.assert_array_equal(tnp.all(a, axis=1, keepdims=True), np.all(x, axis=1, keepdims=True))
        np.testing.assert_array_equal(tnp.isclose(a, x + 1e-9), np.ones((2, 2), bool))
        assert tnp.allclose(a, x) and not tnp.allclose(a, x + 1e-3)
        assert type(tnp.isclose(a, x)) is np.ndarray
        return tnp.sum(a)

    np.testing.assert_array_equal(tinyad.grad(f)(x), np.ones((2, 2)))


def test_full_like_is_differentiable_in_its_fill_value_and_constant_in_its_template():
    x = np.ones((2, 3))
    np.testing.assert_array_equal(tnp.full_like(x, 2.5), np.full_like(x, 2.5))
    assert tinyad.grad(lambda v: tnp.sum(tnp.full_like(x, v)))(np.array(2.0)) == 6.0
    np.testing.assert_array_equal(tinyad.grad(lambda a: tnp.sum(tnp.full_like(a, 3.0) * a))(x), np.full((2, 3), 3.0))
    assert tnp.full_like(np.arange(3), 2.5).dtype == np.arange(3).dtype  # NumPy casts to the template's dtype
    np.testing.assert_array_equal(tnp.full_like(x, 1.0, shape=(4,)), np.ones(4))
    e = tnp.empty_like(x, dtype=np.float32)
    assert e.shape == (2, 3) and e.dtype == np.float32


def test_diff_values_and_derivatives():
    x = np.array([[1.0, 4.0, 9.0, 16.0], [2.0, 3.0, 5.0, 7.0]])
    for kwargs in ({}, {"n": 2}, {"axis": 0}, {"n": 3, "axis": -1}, {"prepend": 0.0}, {"append": x[:, :1]},
                   {"n": 2, "prepend": np.zeros((2, 1)), "append": 1.0}):
        np.testing.assert_array_equal(tnp.diff(x, **kwargs), np.diff(x, **kwargs))
        check_grads(lambda a: tnp.diff(a, **kwargs) ** 2, (x,), order=2)
    # the prepended value is differentiable too
    assert tinyad.grad(lambda p: tnp.sum(tnp.diff(x[0], prepend=p) ** 2))(np.array(0.5)) == -2 * (1.0 - 0.5)
