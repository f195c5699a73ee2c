"""Meta-tests: the gradient checker must FAIL on subtly wrong rules, or every other test means nothing."""

import numpy as np
import pytest

import tinyad
import tinyad.numpy as tnp
from tinyad.testing import GradientCheckError, check_grads

x = np.array([0.3, -0.8, 1.1])


def make_cube(partial):
    p = tinyad.Primitive(lambda a: a ** 3, "test_cube", elementwise=True)
    return p.def_partials(partial)


def test_correct_rule_passes():
    cube = make_cube(lambda ans, a: 3.0 * a ** 2)
    check_grads(cube, (x,), order=2)


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_wrong_first_order_rule_fails(mode):
    cube = make_cube(lambda ans, a: 3.0 * a ** 2 * 1.001)  # 0.1% off
    with pytest.raises(GradientCheckError):
        check_grads(cube, (x,), modes=(mode,), order=1)


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_rule_right_at_first_order_but_not_differentiable_fails_at_second(mode):
    # The value of this rule is right, but stop_gradient hides its own derivative: second order is wrong.
    cube = make_cube(lambda ans, a: 3.0 * tinyad.stop_gradient(a) ** 2)
    check_grads(cube, (x,), modes=(mode,), order=1)
    with pytest.raises(GradientCheckError):
        check_grads(cube, (x,), modes=(mode,), order=2)


def test_wrong_vjp_with_right_jvp_fails_reverse_only():
    p = tinyad.Primitive(lambda a: 2.0 * a[::-1], "test_rev")
    p.defjvp(lambda g, ans, a: 2.0 * g[::-1])
    p.defvjp(lambda g, ans, a: 2.0 * g)  # forgot to reverse: the transpose is wrong
    check_grads(p, (x,), modes=("fwd",), order=1)
    with pytest.raises(GradientCheckError):
        check_grads(p, (x,), modes=("rev",), order=1)


def test_hard_coded_values_do_not_depend_on_the_checker():
    # d/dx sin(x) * x^2 at 1.3, by hand: cos(1.3)*1.69 + 2.6*sin(1.3)
    assert tinyad.grad(lambda a: tnp.sin(a) * a ** 2)(1.3) == pytest.approx(
        np.cos(1.3) * 1.69 + 2.6 * np.sin(1.3), rel=1e-14)
    # d/dx log(sum(exp(x))) is softmax
    np.testing.assert_allclose(tinyad.grad(tnp.logsumexp)(np.array([1.0, 2.0, 3.0])),
                               [0.09003057317038046, 0.24472847105479767, 0.6652409557748219], rtol=1e-14)
    # second derivative of x^x at 2: x^x((ln x + 1)^2 + 1/x) = 4((ln2+1)^2 + 0.5)
    d2 = tinyad.grad(tinyad.grad(lambda a: a ** a))(2.0)
    assert d2 == pytest.approx(4 * ((np.log(2) + 1) ** 2 + 0.5), rel=1e-12)
    # Jacobian of [x0*x1, x0+x1^2] at (2, 3)
    J = tinyad.jacfwd(lambda v: tnp.stack([v[0] * v[1], v[0] + v[1] ** 2]))(np.array([2.0, 3.0]))
    np.testing.assert_array_equal(J, [[3.0, 2.0], [1.0, 6.0]])
    # tanh'' (0.5) = -2 tanh(0.5) (1 - tanh(0.5)^2)
    t = np.tanh(0.5)
    assert tinyad.grad(tinyad.grad(tnp.tanh))(0.5) == pytest.approx(-2 * t * (1 - t * t), rel=1e-13)
