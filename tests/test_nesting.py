"""Nested modes agree: fwd-over-fwd, fwd-over-rev, rev-over-fwd, rev-over-rev Hessians, and finite
differences; perturbation confusion cannot happen."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinyad
import tinyad.numpy as tnp
from tinyad.testing import strategies as tst

UNARY = [tnp.sin, tnp.cos, tnp.tanh, tnp.exp, lambda a: tnp.log1p(a * a), lambda a: a * a, tnp.square]
BINARY = [tnp.add, tnp.multiply, tnp.subtract, lambda a, b: a / (1.5 + tnp.sin(b))]


def random_smooth_function(ops):
    """A random smooth R^n -> R: a chain of unary/binary ops mixing the input, then a weighted sum."""
    def f(x):
        h = x
        for kind, i, j in ops:
            if kind == "u":
                h = UNARY[i](h)
            else:
                h = BINARY[i](h, tnp.reshape(x, (-1,))[::-1] * (0.3 + 0.1 * j))
            h = 0.5 * h
        return tnp.sum(h * tnp.arange(1.0, 1.0 + h.shape[0]))
    return f


ops_strategy = st.lists(
    st.one_of(st.tuples(st.just("u"), st.integers(0, len(UNARY) - 1), st.just(0)),
              st.tuples(st.just("b"), st.integers(0, len(BINARY) - 1), st.integers(0, 3))),
    min_size=1, max_size=5)


def numeric_hessian(f, x, eps=1e-4):
    n = x.size
    H = np.zeros((n, n))
    g = tinyad.grad(f)
    for i in range(n):
        e = np.zeros(n)
        e[i] = eps
        H[:, i] = (g(x + e) - g(x - e)) / (2 * eps)
    return H


@given(ops=ops_strategy, x=tst.arrays((3,), -1.0, 1.0))
def test_four_hessians_agree_with_each_other_and_finite_differences(ops, x):
    f = random_smooth_function(ops)
    ff = tinyad.jacfwd(tinyad.jacfwd(f))(x)
    fr = tinyad.jacfwd(tinyad.jacrev(f))(x)
    rf = tinyad.jacrev(tinyad.jacfwd(f))(x)
    rr = tinyad.jacrev(tinyad.jacrev(f))(x)
    for H in (fr, rf, rr):
        np.testing.assert_allclose(H, ff, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(ff, numeric_hessian(f, x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(tinyad.hessian(f)(x), ff, rtol=1e-10, atol=1e-10)
    v = np.array([0.3, -1.0, 2.0])
    np.testing.assert_allclose(tinyad.hvp(f, x, v), ff @ v, rtol=1e-10, atol=1e-10)


def test_third_order_mixed_modes():
    f = lambda a: tnp.sin(a) * a  # noqa: E731
    d3 = lambda a: 3 * np.cos(a) * -1 + a * -np.cos(a) * -1 + 0 if False else -3 * np.sin(a) - a * np.cos(a)  # noqa
    x = 0.7
    rev = tinyad.grad(tinyad.grad(tinyad.grad(f)))(x)
    mix = tinyad.jvp(lambda a: tinyad.grad(tinyad.grad(f))(a), (x,), (1.0,))[1]
    assert rev == pytest.approx(d3(x), rel=1e-12)
    assert mix == pytest.approx(d3(x), rel=1e-12)


# ---- perturbation confusion (Siskind & Pearlmutter) -------------------------------------------------
@pytest.mark.parametrize("outer", ["rev", "fwd"])
@pytest.mark.parametrize("inner", ["rev", "fwd"])
def test_perturbation_confusion(outer, inner):
    def d(f):
        if inner == "rev":
            return tinyad.grad(f)
        return lambda y: tinyad.jvp(f, (y,), (1.0,))[1]

    def D(f, x):
        if outer == "rev":
            return tinyad.grad(f)(x)
        return tinyad.jvp(f, (x,), (1.0,))[1]

    assert D(lambda x: x * d(lambda y: x + y)(1.0), 1.0) == 1.0
    assert D(lambda x: x * d(lambda y: x * y)(2.0), 1.0) == 2.0
    assert D(lambda x: d(lambda y: y * (x - y))(x), 1.0) == -1.0


@pytest.mark.parametrize("leak_from", ["grad", "jvp"])
def test_leaked_box_raises_in_a_later_grad(leak_from):
    leaked = []

    def f(x):
        leaked.append(x * 2.0)
        return x * 3.0

    if leak_from == "grad":
        tinyad.grad(f)(1.0)
    else:
        tinyad.jvp(f, (1.0,), (1.0,))
    with pytest.raises(tinyad.LeakedBoxError, match="already returned"):
        tinyad.grad(lambda y: y * leaked[0])(2.0)
    with pytest.raises(tinyad.LeakedBoxError):
        tnp.sin(leaked[0])


def test_closure_over_outer_box_is_a_constant_inside():
    # d/dx [ d/dy (x*y^2) at y=3 ] = d/dx [6x] = 6
    assert tinyad.grad(lambda x: tinyad.grad(lambda y: x * y ** 2)(3.0))(1.0) == 6.0
