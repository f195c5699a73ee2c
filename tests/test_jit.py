"""tinyad.jit: compiled programs equal eager mode (1e-12 relative) over the primitive sweep, every nesting,
training steps and online optimizers; clear refusals for what a traced function cannot do; the cache."""

import gc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyad
import tinyad.numpy as tnp
from tinyad import hyper, nn, optim
from tinyad.core import jitting as jit_module

from .test_primitives import CASES

RTOL = 1e-12
REPLAYS = jit_module.FUSE_AFTER + 1  # staging, plain replays, then the fused program


def close(a, b, rtol=RTOL, atol=1e-13):
    for x, y in zip(tinyad.tree_leaves(a), tinyad.tree_leaves(b)):
        np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)


def _random_like(x, rng):
    r = rng.standard_normal(np.shape(x))
    return r + 1j * rng.standard_normal(np.shape(x)) if np.iscomplexobj(x) else r


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=3, deadline=None)
@given(data=st.data())
def test_jit_equals_eager_on_every_primitive(name, data):
    """Value, JVP (jit inside jvp, and jvp inside jit) and VJP (jit inside vjp), replayed until fused."""
    args, fn = CASES[name](data)
    rng = np.random.default_rng(0)
    v = tuple(_random_like(a, rng) for a in args)
    out = fn(*args)
    u = _random_like(out, rng)
    jf = tinyad.jit(fn)
    jvp_inside = tinyad.jit(lambda *a: tinyad.jvp(fn, a, v)[1])
    expect_t, expect_ct = tinyad.jvp(fn, args, v)[1], tinyad.vjp(fn, *args)[1](u)
    for _ in range(REPLAYS):
        close(jf(*args), out)
        close(tinyad.jvp(jf, args, v)[1], expect_t, rtol=1e-10, atol=1e-12)
        close(jvp_inside(*args), expect_t, rtol=1e-10, atol=1e-12)
        close(tinyad.vjp(jf, *args)[1](u), expect_ct, rtol=1e-10, atol=1e-12)


def f3(x):
    return tnp.sum(tnp.sin(x) * tnp.exp(x[::-1] / 3.0)) + tnp.prod(x) ** 2


@pytest.mark.parametrize("place", ["inner", "outer", "between", "hvp", "grad_inside"])
def test_every_nesting_with_jit_anywhere(place):
    x = np.array([0.3, -0.7, 1.1])
    expected = tinyad.hessian(f3)(x)
    variants = {
        "inner": [lambda: tinyad.jacfwd(tinyad.jacrev(tinyad.jit(f3)))(x),
                  lambda: tinyad.jacrev(tinyad.jacrev(tinyad.jit(f3)))(x),
                  lambda: tinyad.jacfwd(tinyad.jacfwd(tinyad.jit(f3)))(x),
                  lambda: tinyad.jacrev(tinyad.jacfwd(tinyad.jit(f3)))(x)],
        "outer": [lambda: tinyad.jit(tinyad.hessian(f3))(x), lambda: tinyad.jit(tinyad.jacrev(tinyad.jacrev(f3)))(x)],
        "between": [lambda: tinyad.jacfwd(tinyad.jit(tinyad.grad(f3)))(x),
                    lambda: tinyad.jacrev(tinyad.jit(tinyad.jacfwd(f3)))(x)],
        "hvp": [lambda: np.stack([tinyad.hvp(tinyad.jit(f3), x, e) for e in np.eye(3)])],
        "grad_inside": [lambda: tinyad.jit(lambda a: tinyad.jacfwd(tinyad.grad(f3))(a))(x)],
    }
    for variant in variants[place]:
        for _ in range(REPLAYS):
            close(variant(), expected, rtol=1e-10, atol=1e-12)


def mlp_loss(p, X, Y):
    return nn.cross_entropy(nn.mlp(p, X), Y)


def make_run(step_fn, T=6, width=7):
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((40, 5)), np.eye(3)[rng.integers(0, 3, 40)]
    p0 = nn.init_mlp((5, width, 3), seed=1)

    def run(h):
        p, s = p0, optim.sgd(0.1, 0.9).init(p0)
        for t in range(T):
            sl = slice(10 * (t % 4), 10 * (t % 4) + 10)
            p, s = step_fn(p, s, X[sl], Y[sl], h)
        return mlp_loss(p, X, Y)

    return run


def train_step(p, s, X, Y, h):
    opt = optim.sgd(h["lr"], h["momentum"], weight_decay=h["wd"])
    return opt.update(tinyad.grad(mlp_loss)(p, X, Y), s, p)


H0 = {"lr": 0.1, "momentum": 0.9, "wd": 1e-3}


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_hypergradients_through_a_jitted_training_step(mode):
    eager = hyper.hypergrad(make_run(train_step), H0, mode=mode)
    jitted = tinyad.jit(train_step)
    for _ in range(2):
        got = hyper.hypergrad(make_run(jitted), H0, mode=mode)
        close(got, eager, rtol=1e-10, atol=1e-14)
    assert jitted.traces <= 4  # the first step (plain state), the others; their VJPs in reverse mode


def test_online_optimizers_and_stacks_jitted_whole():
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((30, 5)), np.eye(3)[rng.integers(0, 3, 30)]
    p0 = nn.init_mlp((5, 6, 3), seed=2)
    for opt in (optim.sgd_hd(0.05, 1e-3), optim.adam_hd(0.01, 1e-4), optim.sgdn_hd(0.05, 1e-3, 0.8),
                optim.stack(optim.sgd(0.05, 0.5), optim.sgd(1e-3)), optim.adam(0.01, weight_decay=1e-3)):
        def step(p, s, Xb, Yb, opt=opt):
            return opt.update(tinyad.grad(mlp_loss)(p, Xb, Yb), s, p)

        jstep = tinyad.jit(step, static_argnames="opt")
        pe, se = p0, opt.init(p0)
        pj, sj = p0, opt.init(p0)
        for t in range(6):
            sl = slice(5 * t, 5 * t + 5)
            pe, se = step(pe, se, X[sl], Y[sl])
            pj, sj = jstep(pj, sj, X[sl], Y[sl])
            close(pj, pe)
            close(optim.hyperparams_in_use(opt, sj), optim.hyperparams_in_use(opt, se))


# ---- what a traced function cannot do, said clearly -------------------------------------------------------
@pytest.mark.parametrize("body, word", [
    (lambda x: x * 2.0 if tnp.sum(x) > 0 else x, "bool()"),
    (lambda x: x * float(tnp.sum(x)), "converting it"),
    (lambda x: x * tnp.sum(x).item(), "converting it"),
    (lambda x: x[: int(tnp.sum(x))], "converting it"),
    (lambda x: tnp.sum(x[: tnp.argmax(x)]), "slice bound"),
])
def test_python_control_flow_on_traced_values_is_refused(body, word):
    f = tinyad.jit(body)
    with pytest.raises(tinyad.ConcretizationError, match=word) as info:
        f(np.array([1.0, 2.0, 3.0]))
    assert "tnp.where" in str(info.value) or "static" in str(info.value)
    with pytest.raises(tinyad.ConcretizationError):  # inside a differentiation too
        tinyad.grad(lambda x: tnp.sum(f(x)))(np.array([1.0, 2.0, 3.0]))


def test_where_instead_of_if_and_static_arguments_for_python_numbers():
    f = tinyad.jit(lambda x: tnp.where(x > 0, x * 2.0, -x))
    np.testing.assert_array_equal(f(np.array([-1.0, 2.0])), [1.0, 4.0])
    np.testing.assert_array_equal(f(np.array([3.0, -4.0])), [6.0, 4.0])
    g = tinyad.jit(lambda x, n: x[:n] * 2.0, static_argnums=1)
    np.testing.assert_array_equal(g(np.arange(4.0), 2), [0.0, 2.0])
    np.testing.assert_array_equal(g(np.arange(4.0), 3), [0.0, 2.0, 4.0])
    assert g.traces == 2


def test_a_box_captured_from_outside_is_refused_never_silently_wrong():
    def run(lr):
        step = tinyad.jit(lambda w: w - lr * w)  # lr: a Dual of the enclosing jvp, captured by the closure
        return step(np.ones(2))

    with pytest.raises(tinyad.CapturedBoxError, match="Pass it to the jitted function as an argument"):
        tinyad.jvp(run, (0.1,), (1.0,))

    def run_passed(lr):
        step = tinyad.jit(lambda w, lr_: w - lr_ * w)
        return step(np.ones(2), lr)

    np.testing.assert_allclose(tinyad.jvp(run_passed, (0.1,), (1.0,))[1], [-1.0, -1.0])

    def run_optimizer_outside(lr):
        opt = optim.sgd(lr)  # holds the Dual
        step = tinyad.jit(lambda p, s, g: opt.update(g, s, p))
        p = {"w": np.ones(2)}
        return step(p, opt.init(p), {"w": np.ones(2)})[0]["w"]

    with pytest.raises(tinyad.CapturedBoxError):
        tinyad.jvp(run_optimizer_outside, (0.1,), (1.0,))


def test_a_staged_value_kept_past_its_trace_is_a_leak():
    kept = []

    def f(x):
        kept.append(x * 2.0)
        return x + 1.0

    tinyad.jit(f)(np.ones(2))
    with pytest.raises(tinyad.LeakedBoxError):
        tnp.sin(kept[0])


# ---- signatures and the cache ------------------------------------------------------------------------------
def test_signatures_shapes_dtypes_pytrees_statics_and_a_bounded_cache():
    calls = []

    def f(p, scale, label="x"):
        calls.append(label)
        return {"y": p["a"] * scale, "b": tnp.sum(p["b"])}

    jf = tinyad.jit(f, cache_size=3)
    p = {"a": np.ones(3), "b": np.ones(2)}
    for s in (1.0, 2.0, 3.5):  # a new float value replays the same program
        np.testing.assert_allclose(jf(p, s)["y"], s)
    assert len(calls) == 1
    jf({"b": np.ones(2), "a": np.ones(3)}, 1.0)  # the same structure (dict keys sorted)
    assert len(calls) == 1
    jf(p, 1.0, label="other")  # a static argument: part of the signature
    jf({"a": np.ones(4), "b": np.ones(2)}, 1.0)  # another shape
    jf({"a": np.ones(3, np.float32), "b": np.ones(2)}, 1.0)  # another dtype
    assert len(calls) == 4 and len(jf._cache) == 3  # least recently used first out
    with pytest.raises(TypeError, match="must be hashable"):
        jf(p, 1.0, label={"a set is not hashable"})


def test_python_scalars_stay_weak_and_float32_stays_float32():
    f = tinyad.jit(lambda x, s: x * s + 1.0)
    x = np.ones(3, np.float32)
    for _ in range(REPLAYS):
        assert f(x, 0.5).dtype == np.float32
    assert tinyad.grad(lambda a: tnp.sum(f(a, 2.0)))(x).dtype == np.float32


def test_turning_it_off():
    calls = []

    def f(x):
        calls.append(1)
        return x * 2.0

    jf = tinyad.jit(f)
    try:
        jit_module.enabled(False)
        jf(np.ones(2))
        jf(np.ones(2))
        assert len(calls) == 2 and jf.traces == 0
    finally:
        jit_module.enabled(True)
    jf(np.ones(2))
    jf(np.ones(2))
    assert len(calls) == 3


def test_replays_reuse_the_program_and_fusion_kicks_in():
    def f(x, y):
        return tnp.sum((x * y + 1.0) * (x - y) / 3.0)

    jf = tinyad.jit(tinyad.grad(f, argnums=(0, 1)))
    x, y = np.linspace(0, 1, 50), np.linspace(1, 2, 50)
    expected = tinyad.grad(f, argnums=(0, 1))(x, y)
    for _ in range(REPLAYS + 1):
        close(jf(x, y), expected)
    assert "fused" in repr([e for e in jf._cache.values()][0].run.__globals__.values())
    assert jf.traces == 1


def test_memory_of_a_jitted_forward_hypergradient_does_not_grow_with_the_run():
    import tracemalloc

    jitted = tinyad.jit(train_step)
    peaks = []
    for T in (5, 60):
        run = make_run(jitted, T, width=3000)  # arrays large next to CPython's free lists (bounded)
        hyper.hypergrad(run, H0)
        gc.collect()
        tracemalloc.start()
        hyper.hypergrad(run, H0)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    assert peaks[1] < 1.1 * peaks[0], peaks


def test_reused_buffers_never_reach_a_result():
    """Fused kernels write intermediates into buffers reused across replays; a result that is a view of one
    (a reshape, a transpose, an index) must not see the next replay overwrite it."""
    f = tinyad.jit(lambda x: ((x * 2.0 + 1.0).reshape(2, 3).T, tnp.exp(x * x - 1.0) * 3.0))
    results = [f(np.arange(6.0) + i) for i in range(REPLAYS + 2)]
    for i, (a, b) in enumerate(results):
        x = np.arange(6.0) + i
        np.testing.assert_array_equal(a, (x * 2.0 + 1.0).reshape(2, 3).T)
        np.testing.assert_allclose(b, np.exp(x * x - 1.0) * 3.0, rtol=1e-15)
    assert "buffers" in f.source()


def test_library_jits_fall_back_to_eager_where_a_function_cannot_be_traced():
    calls = []

    def f(x):
        calls.append(1)
        return x * 2.0 if tnp.sum(x) > 0 else -x  # Python control flow on a traced value

    jf = tinyad.jit(f, fallback=True)
    with pytest.warns(RuntimeWarning, match="this signature run eagerly from now on"):
        np.testing.assert_array_equal(jf(np.ones(2)), [2.0, 2.0])
    np.testing.assert_array_equal(jf(-np.ones(2)), [1.0, 1.0])  # eager: both branches right
    assert len(jf.eager_signatures) == 1 and jf.traces == 0
    # the fallback is per signature: after one signature failed, another still compiles
    jg = tinyad.jit(lambda x, branchy: f(x) if branchy else x * 2.0, static_argnums=1, fallback=True)
    with pytest.warns(RuntimeWarning):
        jg(np.ones(2), True)
    np.testing.assert_array_equal(jg(np.ones(2), False), [2.0, 2.0])
    assert jg.traces == 1 and len(jg.eager_signatures) == 1


# ---- edges found by a differential probe (jit vs eager) -----------------------------------------------------
def test_value_dependent_shapes_are_refused():
    x = np.arange(6.0)
    for f, word in ((lambda x: tnp.mean(x[x > 2.0]), "boolean mask"), (lambda x: tnp.nonzero(x > 1.0), "nonzero"),
                    (lambda x: tnp.where(x > 1.0), "nonzero")):
        with pytest.raises(tinyad.ConcretizationError, match=word):
            tinyad.jit(f)(x)
    with pytest.raises(tinyad.ConcretizationError, match="boolean mask"):  # a mask passed in: its count varies
        tinyad.jit(lambda x, m: x[m] * 2.0)(x, x > 2.0)
    g = tinyad.jit(lambda x: x[tnp.argmax(x)] * 2.0)  # an integer index computed from the inputs: fixed shape
    assert [g(v) for v in (x, x[::-1].copy(), -x)] == [10.0, 10.0, 0.0]


def test_second_derivatives_through_jit_at_python_floats():
    f = tinyad.jit(lambda t: t ** 3)
    assert tinyad.hessian(f)(2.0) == 12.0
    assert tinyad.grad(tinyad.grad(f))(2.0) == 12.0
    assert tinyad.jvp(tinyad.grad(f), (2.0,), (1.0,)) == (12.0, 12.0)
    assert tinyad.jacfwd(tinyad.jacrev(f))(2.0) == 12.0


def test_fused_kernels_keep_booleans_boolean_and_infinite_constants():
    a, b = np.array([2.0, 0.0, np.nan, 1.0, -3.0]), np.array([-2.0, 1.0, 1.0, 0.0, 0.0])
    cases = [(lambda x, y: tnp.logical_and(x, y) * 2.0, lambda x, y: np.logical_and(x, y) * 2.0),
             (lambda x, y: tnp.logical_or(x > 1.0, y) * 2.0, lambda x, y: np.logical_or(x > 1.0, y) * 2.0),
             (lambda x, y: ((x > 0.0) + (y > 0.0)) * 3.0, lambda x, y: ((x > 0) + (y > 0)) * 3.0),
             (lambda x, y: tnp.where(x > 0.0, x * 2.0, np.inf) * 3.0 - y,
              lambda x, y: np.where(x > 0, x * 2, np.inf) * 3 - y),
             (lambda x, y: tnp.maximum(x * 2.0, -np.inf) + y, lambda x, y: np.maximum(x * 2.0, -np.inf) + y),
             (lambda x, y: (x * 2.0 + np.nan) * y, lambda x, y: (x * 2.0 + np.nan) * y)]
    for f, numpy_f in cases:
        jf = tinyad.jit(f)
        for _ in range(REPLAYS + 1):
            np.testing.assert_array_equal(jf(a, b), numpy_f(a, b))
        assert "fused" in repr(list(jf._cache.values())[0].run.__globals__.values())  # the kernel ran


def test_static_arguments_by_position_keyword_or_default():
    def f(x, axis=0):
        return tnp.sum(x, axis=axis)

    a = np.arange(6.0).reshape(2, 3)
    for jf in (tinyad.jit(f, static_argnums=1), tinyad.jit(f, static_argnames="axis"),
               tinyad.jit(f, static_argnums=-1)):
        np.testing.assert_array_equal(jf(a), [3.0, 5.0, 7.0])  # the default, not None
        np.testing.assert_array_equal(jf(a, 1), [3.0, 12.0])
        np.testing.assert_array_equal(jf(a, axis=1), [3.0, 12.0])
    with pytest.raises(ValueError, match="static_argnums=3 but f takes 2 positional"):
        tinyad.jit(f, static_argnums=3)
    with pytest.raises(ValueError, match="static_argnames names 'ax'"):
        tinyad.jit(f, static_argnames="ax")


def test_results_are_the_callers_own():
    jf = tinyad.jit(lambda x: (x * 2.0, tnp.ones(3) * 5.0, tnp.sum(x * 2.0 + 1.0) * 2.0))
    for _ in range(REPLAYS + 1):
        doubled, fives, total = jf(np.ones(3))
        fives[:] = -1.0  # a result computed from constants only: writing into it changes no later call
        np.testing.assert_array_equal(doubled, 2.0)
        assert type(total) is np.float64 and total == 18.0  # a NumPy scalar, as eager, fused or not
    np.testing.assert_array_equal(jf(np.ones(3))[1], 5.0)


def test_a_jitted_function_of_constants_inside_a_traced_one_is_inlined():
    inner = tinyad.jit(lambda z: z * 2.0)
    outer = tinyad.jit(lambda x: x + inner(np.ones(2)) + inner(3.0))
    for _ in range(REPLAYS):
        np.testing.assert_array_equal(outer(np.zeros(2)), [8.0, 8.0])


def test_tracing_in_one_thread_leaves_the_other_threads_alone():
    import threading

    tracing, proceed, out = threading.Event(), threading.Event(), []

    def slow(x):
        tracing.set()
        proceed.wait(10)  # still tracing while the main thread differentiates and traces
        return x * 2.0

    t = threading.Thread(target=lambda: out.append(tinyad.jit(slow)(np.ones(2))))
    t.start()
    assert tracing.wait(10)
    try:
        np.testing.assert_array_equal(tinyad.grad(lambda x: tnp.sum(x ** 2))(np.ones(3)), 2.0)
        np.testing.assert_array_equal(tinyad.jit(lambda x: x + 1.0)(np.ones(2)), 2.0)
    finally:
        proceed.set()
        t.join()
    np.testing.assert_array_equal(out[0], 2.0)


X6 = np.array([3.0, np.nan, 2.0, 5.0, 4.0, 0.5])
TRACEABLE = {  # tinyad.numpy functions that compute indices or masks from values: traced, not refused
    "sort": lambda x: tnp.sort(x[2:]),
    "median": lambda x: tnp.median(x[2:]), "percentile": lambda x: tnp.percentile(x[2:], 30),
    "quantile": lambda x: tnp.quantile(x[2:].reshape(2, 2), 0.3, axis=0), "nanmean": tnp.nanmean,
    "nanvar": tnp.nanvar, "nanstd": lambda x: tnp.nanstd(x.reshape(2, 3), axis=1),
    "mean where": lambda x: tnp.mean(x, where=x > 2.0), "polyval": lambda x: tnp.polyval(x[2:], 2.0),
    "split": lambda x: tnp.concatenate(tnp.split(x, 2)[::-1]),
    "array_split": lambda x: tnp.concatenate(tnp.array_split(x, 4)[::-1]),
    "astype int": lambda x: x[2:].astype(int) * x[2:], "count_nonzero": lambda x: tnp.count_nonzero(x > 2.0) * x,
    "take_along_axis": lambda x: tnp.take_along_axis(x[2:], tnp.argsort(x[2:]), axis=0),
    "take": lambda x: tnp.take(x, tnp.argsort(x) + 3, mode="wrap"),
    "interp": lambda x: tnp.interp(x[2:], np.array([0.0, 1.0, 1.0, 2.5, 4.0]), np.array([1.0, 2.0, 3.0, 0.0, 5.0])),
    "norm": lambda x: tnp.linalg.norm(x[2:]), "matrix norm 2": lambda x: tnp.linalg.norm(x[2:].reshape(2, 2), 2),
    "cumprod": lambda x: tnp.cumprod(x[2:]), "diff": tnp.diff, "full_like": lambda x: tnp.full_like(x, 2.0) * x,
    "pad": lambda x: tnp.pad(x, 1),
}


@pytest.mark.parametrize("name", sorted(TRACEABLE))
def test_functions_computing_indices_from_values_trace(name):
    f = TRACEABLE[name]
    jf = tinyad.jit(f)
    with np.errstate(invalid="ignore"):
        for x in [X6, X6[[0, 1, 5, 4, 3, 2]], X6 * 3.0 - 2.0] * 2:  # (x[2:] has no nan)
            close(jf(x), f(x))
        w = np.linspace(1.0, 2.0, np.size(f(X6)))  # a weighted sum: the gradient sees the order of the outputs
        gf = tinyad.grad(lambda x: tnp.sum(tnp.ravel(f(x)) * w))(X6 * 3.0 - 2.0)
        np.testing.assert_allclose(tinyad.grad(lambda x: tnp.sum(tnp.ravel(jf(x)) * w))(X6 * 3.0 - 2.0), gf, rtol=RTOL)


def test_numpy_functions_tinyad_cannot_trace_say_so():
    with pytest.raises(tinyad.ConcretizationError, match="numpy.linalg.lstsq needs the value"):
        tinyad.jit(lambda x: tnp.linalg.lstsq(x.reshape(3, 2), np.ones(3))[0])(np.arange(6.0))


def test_a_traced_number_used_as_an_axis_points_to_static_argnums():
    for f in (lambda x, a: tnp.sum(x, axis=a), lambda x, a: tnp.cumsum(x, axis=a)):
        with pytest.raises(tinyad.ConcretizationError, match="static_argnums"):
            tinyad.jit(f)(np.ones((2, 3)), 1)
        np.testing.assert_array_equal(tinyad.jit(f, static_argnums=1)(np.ones((2, 3)), 1), f(np.ones((2, 3)), 1))


def test_dynamic_python_numbers_follow_eager_semantics():
    # operators on Python numbers are Python's (True + True is 2, 2 ** -1 is 0.5, 0.9 ** t stays weak); tinyad.numpy
    # functions of them give NumPy scalars (float64, which promote float32), as eagerly
    x32, x = np.ones(3, np.float32), np.array([1.0, 2.0])
    cases = [(lambda x, s: x * tnp.sin(s), (x32, 0.5)), (lambda x, b: x * (b + b), (x, True)),
             (lambda x, n: x * n ** -1, (x, 2)), (lambda x, t: x * 0.9 ** t, (x32, 3)),
             (lambda x, s: x - tnp.exp(s) * x, (x32, -1.0)), (lambda s: tnp.sin(s), (0.5,))]
    for f, args in cases:
        eager, jf = f(*args), tinyad.jit(f)
        for _ in range(REPLAYS + 1):
            out = jf(*args)
            assert type(out) is type(eager) and np.result_type(out) == np.result_type(eager)
            np.testing.assert_array_equal(out, eager)


def test_signed_zero_constants_are_not_merged():
    f = tinyad.jit(lambda x: 1.0 / (x * 0.0) + 1.0 / (x * -0.0))  # inf + -inf
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(REPLAYS + 1):
            assert np.all(np.isnan(f(np.ones(2))))


def test_the_vjp_of_a_jitted_function_can_itself_be_differentiated():
    f = lambda x: tnp.sin(x) * x * 2.0 + x  # noqa: E731
    g = lambda x: tnp.sum(tnp.maximum(x[np.array([0, 2])] * 2.0, 0.1) @ np.ones((2, 2)))  # noqa: E731
    jf, jg, x = tinyad.jit(f), tinyad.jit(g), np.array([0.3, -1.2, 2.0])
    for _ in range(REPLAYS + 1):
        close(tinyad.linearize(jf, x)[1](np.ones(3)), tinyad.linearize(f, x)[1](np.ones(3)))
        close(tinyad.grad(lambda c: tnp.sum(tinyad.vjp(jg, x)[1](c)[0] ** 2))(1.5),
              tinyad.grad(lambda c: tnp.sum(tinyad.vjp(g, x)[1](c)[0] ** 2))(1.5))


def test_fused_maximum_minimum_and_sign_keep_numpys_signed_zeros():
    v = np.array([-0.0, 0.0, np.nan, 1.0, -2.0, np.inf, -np.inf, 0.0, -0.0])
    w = np.array([0.0, -0.0, 1.0, np.nan, -2.0, 1.0, -np.inf, 0.0, -0.0])
    for f in (lambda a, b: tnp.maximum(a * 1.0, b) + 0.0 * a, lambda a, b: tnp.minimum(a * 1.0, b) * 1.0,
              lambda a, b: tnp.sign(a * 1.0) * 1.0 + b * 0.0):
        jf = tinyad.jit(f)
        with np.errstate(all="ignore"):
            eager = f(v, w)
            for _ in range(REPLAYS + 1):
                out = jf(v, w)
                np.testing.assert_array_equal(out, eager)
                np.testing.assert_array_equal(np.signbit(out), np.signbit(eager))


@tinyad.jit
def _doubled(x):
    return x * 2.0


def _plus_one(x, n=1):
    return x + float(n)


def test_jitted_functions_pickle_as_the_functions_they_compile():
    import pickle

    assert pickle.loads(pickle.dumps(_doubled)) is _doubled  # a module's global: by name
    jf = tinyad.jit(_plus_one, static_argnums=1)
    for _ in range(REPLAYS):
        jf(np.ones(2), 2)
    again = pickle.loads(pickle.dumps(jf))  # compiled programs are not sent: rebuilt where it is unpickled
    assert again is not jf and again.static_argnames == ("n",) and again.traces == 0
    np.testing.assert_array_equal(again(np.ones(2), 2), [3.0, 3.0])
