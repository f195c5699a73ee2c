"""Operators: containers, argnums, has_aux, Jacobians, batched tangents, control flow, long chains."""

import gc
import sys
import time

import numpy as np
import pytest

import tinyad
import tinyad.numpy as tnp

rng = np.random.default_rng(0)


def test_containers_in_and_out():
    params = {"w": rng.standard_normal((3, 2)), "b": [np.zeros(2), 1.5], "t": (np.ones(3),)}

    def loss(p, x):
        h = tnp.tanh(x @ p["w"] + p["b"][0]) * p["b"][1]
        return tnp.sum(h ** 2) + tnp.sum(p["t"][0])

    x = rng.standard_normal((4, 3))
    g = tinyad.grad(loss)(params, x)
    assert set(g) == {"w", "b", "t"} and isinstance(g["b"], list) and isinstance(g["t"], tuple)
    assert g["w"].shape == (3, 2) and np.shape(g["b"][1]) == ()
    np.testing.assert_allclose(g["t"][0], np.ones(3))
    eps = 1e-6
    for idx in [(0, 0), (2, 1)]:
        e = np.zeros((3, 2))
        e[idx] = eps
        hi = dict(params, w=params["w"] + e)
        lo = dict(params, w=params["w"] - e)
        assert g["w"][idx] == pytest.approx((loss(hi, x) - loss(lo, x)) / (2 * eps), rel=1e-6)


def test_argnums_and_has_aux():
    f = lambda a, b, c: (tnp.sum(a * b) + c ** 2, {"aux": a * 2})  # noqa: E731
    a, b = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    (ga, gc), aux = tinyad.grad(f, argnums=(0, 2), has_aux=True)(a, b, 5.0)
    np.testing.assert_array_equal(ga, b)
    assert gc == 10.0
    np.testing.assert_array_equal(aux["aux"], a * 2)
    assert type(aux["aux"]) is np.ndarray
    (val, aux2), g = tinyad.value_and_grad(f, argnums=1, has_aux=True)(a, b, 5.0)
    assert val == 11.0 + 25.0
    np.testing.assert_array_equal(g, a)


def test_vjp_and_jvp_conventions():
    f = lambda x, y: (x * y, tnp.sin(x))  # noqa: E731
    x, y = np.array([0.5, 1.0]), np.array([2.0, 3.0])
    out, pullback = tinyad.vjp(f, x, y)
    gx, gy = pullback((np.ones(2), np.ones(2)))
    np.testing.assert_allclose(gx, y + np.cos(x))
    np.testing.assert_allclose(gy, x)
    (o1, o2), (t1, t2) = tinyad.jvp(f, (x, y), (np.ones(2), np.zeros(2)))
    np.testing.assert_allclose(t1, y)
    np.testing.assert_allclose(t2, np.cos(x))


def test_jacobians_agree_and_have_jax_shapes():
    A = rng.standard_normal((3, 4, 2))
    f = lambda X: tnp.tanh(tnp.sum(A * X, axis=2))  # noqa: E731  (4,2) -> (3,4)
    X = rng.standard_normal((4, 2))
    Jf, Jr = tinyad.jacfwd(f)(X), tinyad.jacrev(f)(X)
    assert Jf.shape == (3, 4, 4, 2)
    np.testing.assert_allclose(Jf, Jr, rtol=1e-12, atol=1e-14)


def test_batched_jvp_equals_one_direction_at_a_time():
    """The batched paths (elementwise alignment, matmul's single BLAS call, shifted axes) equal the
    generic one-direction rules they replace."""
    W, X = rng.standard_normal((5, 3)), rng.standard_normal((4, 5))
    b = rng.standard_normal(3)

    def f(W, b):
        h = tnp.tanh(X @ W + b)
        z = tnp.transpose(h)[1:, ::2]
        return tnp.logsumexp(h, axis=1) + tnp.sum(z) + tnp.mean(tnp.reshape(h, (-1,))) + tnp.max(h, axis=0)[0] \
            + tnp.sum(tnp.broadcast_to(b, (2, 3)) @ W.T) + tnp.sum(tnp.concatenate([W, W * 2], axis=1)[[0, 0, 2]])

    k = 3
    tW, tb = rng.standard_normal((k, 5, 3)), rng.standard_normal((k, 3))
    _, batched = tinyad.jvp(f, (W, b), (tW, tb), batched=True)
    for j in range(k):
        _, single = tinyad.jvp(f, (W, b), (tW[j], tb[j]))
        np.testing.assert_allclose(batched[j], single, rtol=1e-12, atol=1e-12)


def test_batched_jvp_through_backprop_is_forward_over_reverse():
    A = rng.standard_normal((4, 4))
    f = lambda x: tnp.sum(tnp.tanh(A @ x) ** 2)  # noqa: E731
    x = rng.standard_normal(4)
    V = rng.standard_normal((2, 4))
    _, hv = tinyad.jvp(tinyad.grad(f), (x,), (V,), batched=True)
    H = tinyad.hessian(f)(x)
    np.testing.assert_allclose(hv, V @ H.T, rtol=1e-10)


def test_python_control_flow_loops_branches_recursion():
    def power_rec(x, n):
        return 1.0 if n == 0 else x * power_rec(x, n - 1)

    def f(x):
        acc = 0.0
        for i in range(4):
            if x > 0:  # comparison reads the value
                acc = acc + power_rec(x, i)
            else:
                acc = acc - x
        while acc < 100:
            acc = acc * 2.0
        return acc

    # x = 1.5: acc = 1 + 1.5 + 2.25 + 3.375 = 8.125, doubled 4x -> 130; d/dx = 16 * (1 + 3 + 6.75)
    assert f(1.5) == 130.0
    assert tinyad.grad(f)(1.5) == pytest.approx(16 * (1 + 2 * 1.5 + 3 * 1.5 ** 2))
    assert tinyad.grad(f)(-1.0) == pytest.approx(-4 * 32)


def test_output_independent_of_input_gives_zeros():
    g = tinyad.grad(lambda x, y: tnp.sum(y ** 2))(np.ones((2, 3)), np.ones(2))
    np.testing.assert_array_equal(g, np.zeros((2, 3)))
    assert tinyad.grad(lambda x: 4.0)(2.0) == 0.0


def test_stop_gradient():
    f = lambda x: x * tinyad.stop_gradient(x) + tinyad.stop_gradient(x ** 3)  # noqa: E731
    assert tinyad.grad(f)(2.0) == 2.0
    assert tinyad.jvp(f, (2.0,), (1.0,))[1] == 2.0


def test_gradients_do_not_accumulate_across_calls():
    g = tinyad.grad(lambda x: tnp.sum(x * x))
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(g(x), g(x))


def chain(x, n):
    for _ in range(n):
        x = tnp.sin(x) * 0.999 + 0.001
    return tnp.sum(x)


def best_time(f, repeats=2):
    """Best of a few runs, with CPython's cyclic collector paused: its full passes scale with the whole heap
    of the test process, which is not what this test is about (the tape's own work)."""
    gc.collect()
    gc.disable()
    try:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            out = f()
            times.append(time.perf_counter() - t0)
        return min(times), out
    finally:
        gc.enable()


@pytest.mark.slow
def test_100k_op_chain_no_recursion_and_linear_time():
    limit = sys.getrecursionlimit()
    x = np.array([0.5, 0.1])
    t_small, _ = best_time(lambda: tinyad.grad(chain)(x, 6_667))  # 3 ops per step: ~20k ops
    t_big, g = best_time(lambda: tinyad.grad(chain)(x, 33_334))  # ~100k ops
    assert np.all(np.isfinite(g)) and sys.getrecursionlimit() == limit
    # linear would be ~5x; quadratic ~25x. The bound leaves room for a busy machine.
    assert t_big / t_small < 12, (t_small, t_big)
    h = 1e-6
    fd = (chain(x + np.array([h, 0]), 33_334) - chain(x - np.array([h, 0]), 33_334)) / (2 * h)
    assert g[0] == pytest.approx(fd, rel=1e-5, abs=1e-10)


def test_boxes_behave_like_arrays():
    def f(x):
        y = x
        y -= 1.0  # augmented assignment rebinds; the caller's x is untouched
        y *= 2.0
        assert len(y) == 3 and y.shape == (3,) and y.ndim == 1 and y.size == 3
        rows = [r for r in y]  # iteration over the first axis
        z = y.astype(np.float64).reshape(3, 1).T.ravel()
        idx = (x > 1.5).astype(int)  # a cast to int is a constant (index arithmetic)
        assert type(idx) is np.ndarray and idx.dtype.kind == "i"
        return z.sum() + rows[0] * rows[2] + z.mean() + z.max() + z.min()

    x = np.array([1.0, 2.0, 3.0])
    x0 = x.copy()
    g = tinyad.grad(f)(x)
    np.testing.assert_array_equal(x, x0)
    check = __import__("tinyad.testing", fromlist=["check_grads"]).check_grads
    check(f, (x,), order=2)
    assert g.shape == (3,)


def test_array_conversion_of_a_box_is_refused_with_a_reason():
    with pytest.raises(TypeError, match="silently drop its derivative"):
        tinyad.grad(lambda x: np.asarray(x).sum())(np.ones(2))
    with pytest.raises(TypeError, match="silently drop its derivative"):
        tinyad.grad(lambda x: float(x))(1.0)


def test_linearize_evaluates_once_and_gives_the_jvp():
    calls = []

    def f(x, y):
        calls.append(1)
        return tnp.sin(x) * y, {"sq": x * x}

    x, y = np.array([0.3, 1.2]), 2.0
    directions = [(np.ones(2), 0.0), (np.array([0.5, -1.0]), 3.0)]
    expected = [tinyad.jvp(f, (x, y), d)[1] for d in directions]
    calls.clear()
    out, f_jvp = tinyad.linearize(f, x, y)
    got = [f_jvp(*d) for d in directions]
    assert len(calls) == 1  # f ran once; f_jvp re-runs nothing of it
    np.testing.assert_allclose(out[0], np.sin(x) * y)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g[0], e[0], rtol=1e-14)
        np.testing.assert_allclose(g[1]["sq"], e[1]["sq"], rtol=1e-14)
    with pytest.raises(TypeError, match="takes 2 tangents"):
        f_jvp(np.ones(2))


def test_has_aux_on_jacobians_and_hessian():
    f = lambda x: (tnp.sum(x ** 3), {"n": x.shape[0]})  # noqa: E731
    x = np.array([1.0, 2.0])
    for jac in (tinyad.jacfwd, tinyad.jacrev):
        j, aux = jac(lambda a: (a ** 2, "aux"), has_aux=True)(x)
        np.testing.assert_allclose(j, np.diag(2 * x))
        assert aux == "aux"
    h, aux = tinyad.hessian(f, has_aux=True)(x)
    np.testing.assert_allclose(h, np.diag(6 * x))
    assert aux == {"n": 2}


def test_numpy_ufuncs_and_functions_on_boxes_run_tinyad_primitives():
    x = np.array([0.3, -1.2, 2.0])

    def f(a):
        return np.sum(np.tanh(a) * np.exp(a)) + np.mean(np.maximum(a, 0.0)) + np.sum(np.matmul(a, a)) \
            + np.sum(np.where(a > 0, a, 0.0)) + np.sum(np.abs(a)) + np.sum(np.square(a))

    def g(a):
        return tnp.sum(tnp.tanh(a) * tnp.exp(a)) + tnp.mean(tnp.maximum(a, 0.0)) + tnp.sum(tnp.matmul(a, a)) \
            + tnp.sum(tnp.where(a > 0, a, 0.0)) + tnp.sum(tnp.abs(a)) + tnp.sum(tnp.square(a))

    np.testing.assert_allclose(tinyad.grad(f)(x), tinyad.grad(g)(x), rtol=1e-14)
    np.testing.assert_allclose(tinyad.jvp(f, (x,), (np.ones(3),))[1], tinyad.jvp(g, (x,), (np.ones(3),))[1])
    with pytest.raises(TypeError, match="writes its result into an existing array"):
        tinyad.grad(lambda a: np.add(a, 1.0, out=np.zeros(3)))(x)
    with pytest.raises(TypeError, match=r"numpy\.add\.reduce"):
        tinyad.grad(lambda a: np.add.reduce(a))(x)


def test_the_libraries_are_reachable_after_import_tinyad():
    import subprocess
    import sys

    code = ("import tinyad; print(tinyad.optim.sgd, tinyad.hyper.hypergrad, tinyad.nn.mlp, "
            "tinyad.reversible.hypergrad, tinyad.jit, tinyad.linearize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        tinyad.nope  # noqa: B018


def test_check_grads_takes_jax_argument_order():
    from tinyad.testing import check_grads

    check_grads(lambda a: tnp.sin(a) * a, (np.array([0.3, 1.0]),), 2, ("fwd", "rev"))
    check_grads(lambda a: tnp.sin(a) * a, (np.array([0.3, 1.0]),), order=1, modes=["rev"])
