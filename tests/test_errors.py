"""Bad input gets a clear error naming the problem, never a silent wrong number."""

import numpy as np
import pytest

import tinyad
import tinyad.numpy as tnp


@pytest.mark.parametrize("x, word", [(3, "integer"), (np.arange(3), "integer"), (True, "integer"),
                                     (np.array([1j]), "complex"), ("a", "float")])
def test_grad_rejects_non_float_inputs(x, word):
    with pytest.raises(TypeError, match=word):
        tinyad.grad(lambda a: tnp.sum(a * 2.0))(x)


def test_grad_of_vector_output_points_to_jacrev():
    with pytest.raises(TypeError, match="jacrev"):
        tinyad.grad(lambda a: a * 2.0)(np.ones(3))


def test_shape_mismatch_names_the_op_and_shapes():
    with pytest.raises(ValueError, match=r"tinyad.numpy.add: .*argument shapes: \(3,\), \(4,\)"):
        tinyad.grad(lambda a: tnp.sum(a + np.ones(4)))(np.ones(3))
    with pytest.raises(ValueError, match=r"tinyad.numpy.multiply: .*\(2,\), \(3,\)"):
        tinyad.jvp(lambda a: a * np.ones(3), (np.ones(2),), (np.ones(2),))
    with pytest.raises(ValueError, match="matmul"):
        tinyad.grad(lambda a: tnp.sum(a @ np.ones((4, 2))))(np.ones((2, 3)))


def test_in_place_write_into_traced_array_says_how_to_write_it():
    def f(x):
        x[0] = 1.0
        return tnp.sum(x)

    with pytest.raises(TypeError, match="index_update"):
        tinyad.grad(f)(np.ones(3))

    def g(x):
        buf = np.zeros(3)
        buf[0] = x  # would silently drop the derivative
        return tnp.sum(buf * x)

    with pytest.raises((TypeError, ValueError)) as info:  # NumPy re-raises our TypeError as its own
        tinyad.grad(g)(1.0)
    chain = f"{info.value} {info.value.__cause__} {info.value.__context__}"
    assert "silently drop its derivative" in chain

    def h(x):
        buf = np.ones(3)
        buf += x  # an in-place NumPy write of a box: refused (NumPy's TypeError), never silently dropped
        return tnp.sum(buf)

    with pytest.raises(TypeError, match="ufunc"):
        tinyad.grad(h)(np.ones(3))

    def h_functional(x):
        buf = np.ones(3)
        buf = buf + x  # the functional spelling works
        return tnp.sum(buf * x)

    np.testing.assert_allclose(tinyad.grad(h_functional)(np.ones(3)), 1.0 + 2.0 * np.ones(3))


def test_functional_updates_work():
    f = lambda x: tnp.sum(tnp.index_update(x, 1, x[0] * 3.0) ** 2)  # noqa: E731
    x = np.array([1.0, 2.0, 3.0])
    # y = [x0, 3 x0, x2]; sum y^2 = 10 x0^2 + x2^2
    np.testing.assert_allclose(tinyad.grad(f)(x), [20.0, 0.0, 6.0])
    g = lambda x: tnp.sum(tnp.index_add(x, np.array([0, 0]), x[1]) ** 2)  # noqa: E731
    # y0 = x0 + 2 x1
    np.testing.assert_allclose(tinyad.grad(g)(x), [2 * 5.0, 4 * 5.0 + 2 * 2.0, 6.0])


def test_numpy_functions_on_boxes_route_or_refuse():
    np.testing.assert_allclose(tinyad.grad(lambda x: np.sum(np.dot(x, x)))(np.ones(2)), [2.0, 2.0])
    # NumPy's ufuncs on boxes go through tinyad's primitives; one with no tinyad equivalent is refused by name
    np.testing.assert_allclose(tinyad.grad(lambda x: np.sum(np.sin(x)))(np.zeros(2)), [1.0, 1.0])
    with pytest.raises(TypeError, match="ufunc numpy.cbrt .*no differentiable"):
        tinyad.grad(lambda x: np.sum(np.cbrt(x)))(np.ones(2))
    # sum_k Re(fft(x)_k) = n x_0
    np.testing.assert_allclose(tinyad.grad(lambda x: np.sum(np.real(np.fft.fft(x))))(np.ones(2)), [2.0, 0.0])
    with pytest.raises(TypeError, match="numpy.fft.hfft"):
        tinyad.grad(lambda x: np.sum(np.fft.hfft(x)))(np.zeros(2))
    with pytest.raises(TypeError, match="numpy.linalg.eig"):  # (qr has a tinyad equivalent now)
        tinyad.grad(lambda x: np.sum(np.real(np.linalg.eig(x)[0])))(np.eye(2))


def test_non_differentiable_primitive_under_differentiation():
    p = tinyad.primitive(lambda a: a * 2.0, name="twice_fwd_only")
    p.defjvp(lambda g, ans, a: g * 2.0)
    assert tinyad.jvp(p, (1.0,), (1.0,))[1] == 2.0
    with pytest.raises(tinyad.NonDifferentiableError, match="twice_fwd_only.*vjp|VJP"):
        tinyad.grad(p)(1.0)


def test_jvp_tangent_shape_mismatch():
    with pytest.raises(ValueError, match="tangent 0 has shape"):
        tinyad.jvp(tnp.sin, (np.ones(3),), (np.ones(2),))


def test_argnums_out_of_range():
    with pytest.raises(ValueError, match="argnums"):
        tinyad.grad(lambda a: a, argnums=2)(1.0)


def test_user_primitive_extension_api():
    @tinyad.primitive
    def softplus(x):
        return np.logaddexp(0.0, x)

    sig = lambda x: 1.0 / (1.0 + tnp.exp(-x))  # noqa: E731
    softplus.defjvp(lambda g, ans, x: g * sig(x))
    softplus.defvjp(lambda g, ans, x: g * sig(x))
    from tinyad.testing import check_grads

    check_grads(softplus, (np.array([-1.0, 0.5, 2.0]),), order=2)


# ---- a differentiated function must return numbers ------------------------------------------------------------
@pytest.mark.parametrize("returned, word", [(None, "returned None .*`return`"), ("loss", "returned str"),
                                            (3, "returned int"), (np.arange(2), "dtype int64")])
def test_non_numeric_outputs_are_refused_by_every_transform(returned, word):
    f = lambda x: returned  # noqa: E731
    for name, call in (("grad", lambda: tinyad.grad(f)(1.0)), ("jvp", lambda: tinyad.jvp(f, (1.0,), (1.0,))),
                       ("jacfwd", lambda: tinyad.jacfwd(f)(np.ones(2))),
                       ("jacrev", lambda: tinyad.jacrev(f)(np.ones(2))), ("vjp", lambda: tinyad.vjp(f, 1.0))):
        with pytest.raises(TypeError, match=word) as err:
            call()
        assert str(err.value).startswith(name + ":"), f"the error names the transform called: {err.value}"


@pytest.mark.parametrize("returned, word", [
    (None, "returned None.*`return`"), ("loss", "as a float, got str"), (np.arange(2), "must return a scalar"),
    (3, r"\(<lambda>\) must return the validation loss as a float, got int: 3 \(an integer has no derivative")])
def test_a_hypergradient_run_must_return_the_validation_loss(returned, word):
    from tinyad import hyper

    with pytest.raises(TypeError, match=word):
        hyper.hypergrad(lambda h: returned, {"lr": 0.1})


@pytest.mark.parametrize("argnums, error, word", [("0", TypeError, "argnums must be an int"),
                                                  ((0, 0), ValueError, "names an argument twice"),
                                                  (True, TypeError, "argnums"), ((), TypeError, "non-empty"),
                                                  (2, ValueError, "called with 2 positional")])
def test_bad_argnums_are_named(argnums, error, word):
    for transform in (tinyad.grad, tinyad.jacfwd, tinyad.jacrev):
        with pytest.raises(error, match=word):
            transform(lambda a, b: a * b, argnums=argnums)(1.0, 2.0)


def test_has_aux_needs_a_pair():
    with pytest.raises(TypeError, match=r"jvp\(\.\.\., has_aux=True\): .* must return a pair"):
        tinyad.jvp(lambda x: x * 2.0, (1.0,), (1.0,), has_aux=True)
    with pytest.raises(TypeError, match=r"grad\(\.\.\., has_aux=True\)"):
        tinyad.grad(lambda x: (x, x, x), has_aux=True)(1.0)


# ---- boxes are immutable values of a differentiation in progress -----------------------------------------------
def test_copies_of_a_box_are_the_box_and_pickling_is_refused():
    import copy
    import pickle

    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(tinyad.grad(lambda a: tnp.sum(copy.copy(a) * a))(x), [2.0, 4.0])
    np.testing.assert_allclose(tinyad.grad(lambda a: tnp.sum(copy.deepcopy(a) * a))(x), [2.0, 4.0])
    np.testing.assert_allclose(tinyad.grad(lambda a: tnp.sum(a.copy() * a))(x), [2.0, 4.0])
    np.testing.assert_allclose(tinyad.grad(lambda a: tnp.sum(copy.deepcopy({"a": [a]})["a"][0] * a))(x), [2.0, 4.0])

    def pickled(a):
        return pickle.loads(pickle.dumps(a))

    with pytest.raises(TypeError, match="cannot be pickled.*stop_gradient"):
        tinyad.grad(lambda a: tnp.sum(pickled(a)))(x)


@pytest.mark.parametrize("convert, word", [(lambda a: a.item(), "silently drop"), (lambda a: a.tolist(), "silently"),
                                           (lambda a: round(a), "tnp.round"), (lambda a: float(a), "silently"),
                                           (lambda a: np.asarray(a), "tnp.array"),
                                           (lambda a: np.array([a, a]), "tnp.stack")])
def test_conversions_to_plain_numbers_say_what_to_write(convert, word):
    with pytest.raises(TypeError, match=word):
        tinyad.grad(lambda a: tnp.sum(convert(a)) * a)(1.0)


# ---- Python scalars follow array semantics --------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_scalars_at_singular_points_give_numpy_values_not_exceptions():
    cases = [(tnp.log, 0.0), (tnp.log1p, -1.0), (lambda x: x / 0.0, 1.0), (lambda x: x ** 0.5, 0.0),
             (lambda x: 1.0 / x, 0.0), (tnp.sqrt, 0.0)]
    for f, x in cases:
        g_scalar = tinyad.grad(f)(x)
        g_array = tinyad.grad(f)(np.array(x))
        assert np.array_equal(g_scalar, g_array, equal_nan=True), (f, x)
        _, t = tinyad.jvp(f, (x,), (1.0,))
        assert np.array_equal(t, g_array, equal_nan=True)
    value, tangent = tinyad.jvp(lambda x: x ** (1 / 3), (-8.0,), (1.0,))
    assert np.isnan(value) and np.isnan(tangent) and not np.iscomplexobj(tangent)
    assert np.isnan(tinyad.grad(lambda x: x ** (1 / 3))(-8.0))


# ---- lists of boxes stack, as in JAX ---------------------------------------------------------------------------
def test_lists_of_boxes_stack():
    np.testing.assert_allclose(tinyad.grad(lambda x: tnp.sum(tnp.array([x, 2.0 * x]) ** 2))(3.0), 30.0)
    np.testing.assert_allclose(tinyad.grad(lambda x: tnp.sum([x, x * x]))(3.0), 7.0)
    g = tinyad.grad(lambda xs: tnp.sum(tnp.asarray(xs) ** 2))([1.0, -2.0, 3.0])
    assert isinstance(g, list)
    np.testing.assert_allclose(g, [2.0, -4.0, 6.0])
    np.testing.assert_allclose(tinyad.jacfwd(lambda x: tnp.array([[x, 1.0], [0.0, x * x]]))(2.0), [[1, 0], [0, 4]])


def test_linearize_checks_its_tangents():
    _, f_jvp = tinyad.linearize(lambda x: x ** 2, np.ones(3))
    with pytest.raises(ValueError, match=r"linearize: f_jvp's tangent 0 has shape \(2,\), its primal \(3,\)"):
        f_jvp(np.ones(2))
    np.testing.assert_array_equal(f_jvp(np.ones(3)), [2.0, 2.0, 2.0])


def test_nn_helpers_check_their_input():
    from tinyad import nn

    for sizes in ((8,), (), (8, 0)):
        with pytest.raises(ValueError, match="init_mlp: sizes must list"):
            nn.init_mlp(sizes)
    assert nn.accuracy(np.eye(3), np.array([0, 1, 1])) == pytest.approx(2 / 3)  # integer labels
    assert nn.accuracy(np.eye(3), np.eye(3)) == 1.0  # one-hot
    with pytest.raises(ValueError, match="non-empty"):
        nn.accuracy(np.zeros((0, 3)), np.zeros((0, 3)))
    with pytest.raises(ValueError, match="one-hot"):
        nn.accuracy(np.eye(3), np.ones((2, 3)))
