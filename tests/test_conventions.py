"""Every convention docs/numpy.md states, tested: complex cotangents, and the derivatives at kinks and special
points (the "JAX" column of the table there was computed with JAX and is written down here)."""

import warnings

import numpy as np
import pytest

import tinyad
import tinyad.numpy as tnp


def a(v):
    return np.array(v, dtype=float)


def both(f, x):
    """d f / dx at x in reverse and forward mode (they must agree, NaN included)."""
    rev, fwd = tinyad.grad(f)(x), tinyad.jvp(f, (x,), (np.ones_like(x),))[1]
    np.testing.assert_array_equal(np.sum(rev), fwd)
    return rev


# ---- complex cotangents are JAX's ----------------------------------------------------------------------------
def test_complex_cotangent_convention():
    z = np.array(3 + 4j)
    np.testing.assert_allclose(tinyad.vjp(lambda w: tnp.abs(w) ** 2, z)[1](1.0)[0], 6 - 8j, rtol=1e-15)
    c = np.array(0.5 - 2j)
    np.testing.assert_allclose(tinyad.vjp(tnp.exp, z)[1](c)[0], c * np.exp(z))  # holomorphic: no conjugate
    np.testing.assert_allclose(tinyad.vjp(tnp.conj, z)[1](c)[0], np.conj(c))
    # a real input keeps the real part: x -> x * (1 + 2j) pulls c back to Re(c (1 + 2j))
    assert tinyad.vjp(lambda x: x * (1 + 2j), a(1.0))[1](c)[0] == np.real(c * (1 + 2j))


def test_grad_takes_complex_inputs_of_a_real_function_as_jax_does():
    # values computed by JAX (x64): grad(|z|^2)(3+4j) = 6-8j; grad(Re(z^2))(1+2j) = 2+4j; both are
    # df/dx - i df/dy
    np.testing.assert_allclose(tinyad.grad(lambda w: tnp.abs(w) ** 2)(3 + 4j), 6 - 8j, rtol=1e-15)
    assert tinyad.grad(lambda w: tnp.real(w * w))(np.complex128(1 + 2j)) == 2 + 4j
    g = tinyad.grad(lambda w: tnp.sum(tnp.abs(w) ** 2))(np.array([1 + 1j, 2 - 3j], dtype=np.complex64))
    assert g.dtype == np.complex64
    np.testing.assert_allclose(g, [2 - 2j, 4 + 6j], rtol=1e-6)  # JAX: [1.9999999-1.9999999j, 4+6j]
    with pytest.raises(TypeError, match="real floating-point output"):  # JAX: needs holomorphic=True
        tinyad.grad(lambda w: w * w)(1 + 2j)


# ---- the table of kinks ------------------------------------------------------------------------------------------
def test_abs_at_zero_is_zero_for_real_and_complex():
    assert both(tnp.abs, a(0.0)) == 0.0  # JAX: 1 (sign convention x >= 0); tinyad: sign(0) = 0
    np.testing.assert_array_equal(tinyad.grad(lambda x: tnp.linalg.norm(x, 1))(a([0.0, -1.0])), [0.0, -1.0])
    assert tinyad.vjp(tnp.abs, np.array(0j))[1](1.0)[0] == 0  # JAX: 0


def test_relu_at_zero_is_zero():
    assert both(tnp.relu, a(0.0)) == 0.0
    np.testing.assert_array_equal(tinyad.grad(lambda x: tnp.sum(tnp.relu(x)))(a([-1.0, 0.0, 2.0])), [0, 0, 1])


def test_maximum_and_minimum_ties_split_evenly():
    gx, gy = tinyad.grad(tnp.maximum, argnums=(0, 1))(a(1.0), a(1.0))
    assert gx == gy == 0.5
    gx, gy = tinyad.grad(tnp.minimum, argnums=(0, 1))(a(1.0), a(1.0))
    assert gx == gy == 0.5
    assert both(lambda x: tnp.maximum(x, x), a(2.0)) == 1.0


def test_max_and_min_reductions_split_ties_evenly():
    np.testing.assert_array_equal(tinyad.grad(tnp.max)(a([1.0, 1.0, 0.0])), [0.5, 0.5, 0.0])
    np.testing.assert_array_equal(tinyad.grad(tnp.min)(a([1.0, 1.0, 2.0])), [0.5, 0.5, 0.0])
    np.testing.assert_array_equal(tinyad.grad(lambda x: tnp.linalg.norm(x, np.inf))(a([-2.0, 2.0, 1.0])),
                                  [-0.5, 0.5, 0.0])  # JAX: the same
    np.testing.assert_array_equal(tinyad.jacfwd(tnp.max)(a([1.0, 1.0, 0.0])), [0.5, 0.5, 0.0])


def test_clip_at_a_bound_splits_between_x_and_the_bound():
    assert both(lambda x: tnp.clip(x, 0.0, 1.0), a(0.0)) == 0.5
    assert both(lambda x: tnp.clip(x, 0.0, 1.0), a(1.0)) == 0.5
    assert tinyad.grad(lambda lo: tnp.clip(a(0.0), lo, 1.0))(a(0.0)) == 0.5
    assert tinyad.grad(lambda hi: tnp.clip(a(1.0), 0.0, hi))(a(1.0)) == 0.5
    assert tinyad.grad(lambda x: tnp.clip(x, 0.0, 1.0))(a(0.5)) == 1.0


def test_sqrt_norm_and_std_at_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert both(tnp.sqrt, a(0.0)) == np.inf
        assert np.all(np.isnan(tinyad.grad(tnp.linalg.norm)(np.zeros(3))))
        assert np.all(np.isnan(tinyad.grad(tnp.std)(a([1.0, 1.0]))))
        np.testing.assert_array_equal(tinyad.grad(tnp.var)(a([1.0, 1.0])), [0.0, 0.0])


def test_sort_ties_follow_numpys_order():
    np.testing.assert_array_equal(tinyad.grad(lambda x: tnp.sort(x)[0])(a([1.0, 1.0, 2.0])), [1.0, 0.0, 0.0])


def test_the_where_nan_trap_and_its_guard():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isnan(tinyad.grad(lambda x: tnp.where(x > 0, tnp.log(x), 0.0))(a(0.0)))
    guarded = tinyad.grad(lambda x: tnp.where(x > 0, tnp.log(tnp.where(x > 0, x, 1.0)), 0.0))
    assert guarded(a(0.0)) == 0.0 and guarded(a(2.0)) == 0.5


def test_det_at_a_singular_matrix_is_the_cofactor_matrix():
    s = a([[1.0, 2.0], [2.0, 4.0]])
    np.testing.assert_array_equal(tinyad.grad(tnp.linalg.det)(s), [[4.0, -2.0], [-2.0, 1.0]])


def test_slogdet_at_a_singular_matrix():
    with np.errstate(divide="ignore", invalid="ignore"):
        g = tinyad.grad(lambda x: tnp.linalg.slogdet(x)[1])(a([[1.0, 2.0], [2.0, 4.0]]))
        np.testing.assert_array_equal(g, [[np.inf, -np.inf], [-np.inf, np.inf]])  # JAX: the same
        assert np.all(np.isnan(tinyad.grad(lambda x: tnp.linalg.slogdet(x)[1])(np.zeros((2, 2)))))  # JAX: NaN
        assert np.isnan(tinyad.jvp(lambda x: tnp.linalg.slogdet(x)[1], (a([[1.0, 2.0], [2.0, 4.0]]),),
                                   (np.ones((2, 2)),))[1])  # JAX: inf


def test_logaddexp_at_infinities():
    gx, gy = tinyad.grad(tnp.logaddexp, argnums=(0, 1))(a(-np.inf), a(1.0))
    assert gx == 0.0 and gy == 1.0  # JAX: the same
    with np.errstate(invalid="ignore"):
        gx, gy = tinyad.grad(tnp.logaddexp, argnums=(0, 1))(a(np.inf), a(np.inf))
    assert np.isnan(gx) and np.isnan(gy)  # JAX: 1 and 1 (it substitutes 0 for +inf)


def test_mod_and_fmod_are_differentiable_as_in_jax():
    gx, gy = tinyad.grad(tnp.mod, argnums=(0, 1))(a(-3.5), a(2.0))
    assert gx == 1.0 and gy == 2.0  # JAX's mod: 1 and -floor(-1.75) = 2
    gx, gy = tinyad.grad(tnp.fmod, argnums=(0, 1))(a(-3.5), a(2.0))
    assert gx == 1.0 and gy == 1.0  # -trunc(-1.75) = 1 (JAX's fmod: the same)
    assert tinyad.grad(lambda x: x % 2.0)(a(-3.5)) == 1.0 and tinyad.grad(lambda x: 7.0 % x)(a(2.0)) == -3.0
    # // is floor_divide, a constant (as in JAX); divmod is (//, %)
    assert tinyad.grad(lambda x: x // 2.0 + x)(a(3.5)) == 1.0
    assert tinyad.grad(lambda x: divmod(x, 2.0)[1])(a(3.5)) == 1.0
    assert tinyad.grad(lambda x: divmod(7.0, x)[1])(2.0) == -3.0
    np.testing.assert_array_equal(tnp.mod(np.array([5, -5]), 3), [2, 1])  # integers: plain NumPy


@pytest.mark.parametrize("fn", [tnp.floor, tnp.ceil, tnp.round, tnp.rint, tnp.trunc, tnp.sign,
                                lambda x: tnp.greater(x, 0.0)])
def test_rounding_and_comparisons_are_constants(fn):
    np.testing.assert_array_equal(tinyad.grad(lambda x: tnp.sum(x * fn(x)))(a([0.5, -1.5, 2.0])),
                                  np.asarray(fn(a([0.5, -1.5, 2.0])), dtype=float))


def test_fmax_and_fmin_give_ties_to_y_and_skip_nans():
    assert tinyad.grad(tnp.fmax, argnums=(0, 1))(a(1.0), a(1.0)) == (0.0, 1.0)
    assert tinyad.grad(tnp.fmin, argnums=(0, 1))(a(1.0), a(1.0)) == (0.0, 1.0)
    assert tinyad.grad(tnp.fmax, argnums=(0, 1))(a(np.nan), a(1.0)) == (0.0, 1.0)
    assert tinyad.grad(tnp.fmin, argnums=(0, 1))(a(2.0), a(np.nan)) == (1.0, 0.0)


def test_power_with_exponent_zero_has_derivative_zero_even_at_zero():
    # x**0 is 1 everywhere (0**0 too): 0, not 0 * inf = NaN (JAX: the same for an integer 0, NaN for 0.0)
    for e in (0, 0.0, np.zeros(2)):
        np.testing.assert_array_equal(tinyad.grad(lambda x: tnp.sum(x ** e))(0.0), 0.0)
        _, t = tinyad.jvp(lambda x: tnp.float_power(x, e), (np.zeros(2),), (np.ones(2),))
        np.testing.assert_array_equal(t, 0.0)
    assert tinyad.grad(lambda x: x ** 1)(0.0) == 1.0
    assert tinyad.hessian(lambda x: x ** 0)(0.0) == 0.0  # higher orders too (JAX: 0)
    assert tinyad.grad(tinyad.grad(tinyad.grad(lambda x: x ** 1)))(0.0) == 0.0
    assert tinyad.grad(lambda y: tinyad.grad(lambda x: x ** y)(2.0))(0.0) == 0.5  # d/dy (y x**(y-1)) = 1/x at y = 0


def test_sinc_derivatives_at_zero():
    assert both(tnp.sinc, a(0.0)) == 0.0
    np.testing.assert_allclose(tinyad.grad(tinyad.grad(tnp.sinc))(a(0.0)), -np.pi ** 2 / 3, rtol=1e-15)
    np.testing.assert_allclose(tinyad.grad(tinyad.grad(tnp.sinc))(a(1e-4)), -3.289868133696453, rtol=1e-7)
