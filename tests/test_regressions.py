"""Regression tests for silent wrong numbers and crashes found by a differential test against JAX: functional
index updates with repeated indices, transpose with negative axes (and its siblings), concatenate(axis=None),
prod over a tuple of axes, and other axis=None / tuple-axis / empty-array forms. Expected values are NumPy's
semantics worked out by hand, or JAX's derivatives written down."""

import numpy as np
import pytest

import tinyad
import tinyad.numpy as tnp
from tinyad.testing import check_grads


def both_modes(f, x):
    """The Jacobian of f at x by reverse and by forward mode (they must agree)."""
    rev, fwd = tinyad.jacrev(f)(x), tinyad.jacfwd(f)(x)
    np.testing.assert_allclose(rev, fwd, rtol=1e-13, atol=1e-14)
    return rev


# ---- index_update / index_add with repeated indices -------------------------------------------------------
def test_index_update_with_a_repeated_index_writes_once_and_the_last_write_wins():
    out = tnp.index_update(np.zeros(3), [0, 0], 5.0)
    np.testing.assert_array_equal(out, [5.0, 0.0, 0.0])  # used to add the updates: [10, 0, 0]
    assert tinyad.grad(lambda v: tnp.sum(tnp.index_update(np.zeros(3), [0, 0], v)))(5.0) == 1.0
    assert tinyad.jvp(lambda v: tnp.sum(tnp.index_update(np.zeros(3), [0, 0], v)), (5.0,), (1.0,))[1] == 1.0
    # d/dx: the overwritten entry gets nothing
    np.testing.assert_array_equal(
        tinyad.grad(lambda x: tnp.sum(tnp.index_update(x, [0, 0], 5.0)))(np.ones(3)), [0.0, 1.0, 1.0]
    )


def test_index_update_vector_with_repeats_gives_the_surviving_write_the_derivative():
    idx, v, w = np.array([0, 2, 0]), np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0])
    np.testing.assert_array_equal(tnp.index_update(np.zeros(3), idx, v), [3.0, 0.0, 2.0])  # NumPy: x[idx] = v
    f = lambda x, vv: tnp.sum(tnp.index_update(x, idx, vv) * w)  # noqa: E731
    gx, gv = tinyad.grad(f, argnums=(0, 1))(np.ones(3), v)
    np.testing.assert_array_equal(gx, [0.0, 20.0, 0.0])
    np.testing.assert_array_equal(gv, [0.0, 30.0, 10.0])  # v[0] is overwritten by v[2]
    np.testing.assert_array_equal(
        both_modes(lambda vv: tnp.index_update(np.zeros(3), idx, vv), v), [[0, 0, 1], [0, 0, 0], [0, 1, 0]]
    )


M43 = np.arange(12.0).reshape(4, 3)


@pytest.mark.parametrize(
    "x, idx, v",
    [
        (np.arange(4.0), np.array([True, False, True, True]), 2.5),  # a boolean mask, one value
        (np.arange(4.0), np.array([True, False, True, True]), np.array([1.0, 2.0, 3.0])),  # one value per True
        (M43, slice(1, 4), np.array([1.0, 2.0, 3.0])),
        (M43, slice(None, None, -2), 7.0),
        (M43.T, (np.array([0, 0, 1]), np.array([1, 1, 2])), np.array([1.0, 2.0, 3.0])),  # repeated pairs in 2-d
        (M43, np.array([1, 1]), np.array([[1.0], [2.0]])),  # repeated rows, broadcast values
        (M43, np.array([-1, 3]), np.array([[1.0], [2.0]])),  # -1 and 3 are the same row
        (M43, (Ellipsis, 0), 3.0),
        (M43, M43 > 4.0, -1.0),  # a 2-d mask
    ],
)
def test_index_update_and_index_add_match_numpy_in_value_and_check_grads(x, idx, v):
    expected_set = x.copy()
    expected_set[idx] = v
    expected_add = x.copy()
    np.add.at(expected_add, idx, v)
    np.testing.assert_array_equal(tnp.index_update(x, idx, v), expected_set)
    np.testing.assert_array_equal(tnp.index_add(x, idx, v), expected_add)
    for fn in (tnp.index_update, tnp.index_add):
        check_grads(lambda a, b: fn(a, idx, b) ** 2, (x, np.asarray(v, dtype=float)), order=2)


def test_index_add_with_repeats_accumulates_and_so_does_the_gradient():
    np.testing.assert_array_equal(tnp.index_add(np.zeros(3), [0, 0], np.array([1.0, 2.0])), [3.0, 0.0, 0.0])
    w = np.array([10.0, 20.0, 30.0])
    gv = tinyad.grad(lambda v: tnp.sum(tnp.index_add(np.zeros(3), np.array([0, 2, 0]), v) * w))(np.ones(3))
    np.testing.assert_array_equal(gv, [10.0, 30.0, 10.0])


def test_take_and_getitem_with_repeated_indices_accumulate_the_gradient():
    x = np.array([1.0, 2.0, 3.0])
    for f in (
        lambda a: a[np.array([0, 0, 2, 0])],
        lambda a: tnp.take(a, [0, 0, 2, 0]),
        lambda a: a[[0, 0, 2, 0]],
        lambda a: tnp.repeat(a, [3, 0, 1])[np.array([0, 1, 3, 2])],
    ):
        np.testing.assert_array_equal(tinyad.grad(lambda a: tnp.sum(f(a) ** 2))(x), [6.0, 0.0, 6.0])
        check_grads(f, (x,), order=2)


# ---- transpose with negative axes, and its siblings --------------------------------------------------------
X27 = np.sin(np.arange(27.0)).reshape(3, 3, 3)
X24 = np.cos(np.arange(24.0)).reshape(2, 3, 4)


def test_transpose_with_negative_axes_gradients_equal_jax():
    w27, w24 = np.arange(27.0).reshape(3, 3, 3), np.arange(24.0).reshape(4, 2, 3)
    f = lambda x: tnp.sum(tnp.transpose(x, (-1, 0, -2)) ** 2 * w27)  # noqa: E731
    np.testing.assert_allclose(
        tinyad.grad(f)(X27),
        [
            [
                [0.0, 15.146477726542138, 32.73470736572454],
                [0.2822400161197344, -15.136049906158565, -36.43912243719926],
                [-1.1176619927957034, 14.45370517181336, 39.57432986493527],
            ],
            [
                [2.4727109114505397, -13.056506661344875, -41.999588675129544],
                [-4.2925833440034795, 10.924342957492664, 43.58672365057429],
                [6.502878401571168, -8.061292866621828, -44.224284626459614],
            ],
            [
                [-9.011846961260112, 4.49631628988857, 43.82137203492613],
                [11.713178939504784, -0.28324189729292404, -42.311020208758535],
                [-14.489253792105982, -4.499959503324283, 39.65303942493934],
            ],
        ],
        rtol=1e-13,
    )
    g = lambda x: tnp.sum(tnp.transpose(x, (-1, 0, -2)) ** 2 * w24)  # noqa: E731
    np.testing.assert_allclose(
        tinyad.grad(g)(X24),
        [
            [
                [0.0, 6.483627670417677, -9.987524077131418, -35.639729877616034],
                [-1.3072872417272239, 3.9712705964851676, 24.964427452909515, 28.648285665045574],
                [-0.5820001352344542, -14.578084190154831, -23.494002814140668, 0.17702791952203142],
            ],
            [
                [5.063123752394953, 16.33404206610353, 4.102116546235008, -31.906892340070495],
                [-7.661275842587077, -5.503266761031939, 21.130134663810566, 43.50300320021344],
                [4.080820618133919, -12.050043724933904, -33.998668097417664, -24.510318935336286],
            ],
        ],
        rtol=1e-13,
    )
    np.testing.assert_allclose(tinyad.jacfwd(g)(X24), tinyad.grad(g)(X24), rtol=1e-13)


def test_batched_jvp_and_jacfwd_through_transpose_with_negative_axes():
    """A batched tangent (k directions on a leading axis) used to crash with "repeated axis"."""
    jac = tinyad.jacfwd(lambda x: tnp.transpose(x, (-1, -3, 1)))(X24)
    np.testing.assert_array_equal(
        jac[1, 0, 2],
        [
            [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]],
            [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]],
        ],
    )
    np.testing.assert_array_equal(jac, tinyad.jacrev(lambda x: tnp.transpose(x, (-1, -3, 1)))(X24))
    t = np.arange(24.0).reshape(2, 3, 4)
    f = lambda x: tnp.transpose(x, (2, -3, -2)) * x[0, 1, 2]  # noqa: E731
    np.testing.assert_allclose(
        tinyad.jvp(f, (X24,), (t,))[1],
        [
            [[6.0, -0.081180578580208, 6.808362090351246], [16.585167192199343, 9.616767704465548, 21.65189810388767]],
            [
                [4.201984121859205, 6.502824546031188, 3.174751008545232],
                [17.926894415155935, 14.67191484474664, 16.877200458312075],
            ],
            [
                [-0.5765404459821226, 11.522043439804392, 4.567273692044945],
                [14.262807322352126, 21.24496540917107, 15.123981347940228],
            ],
            [
                [-3.059444119651575, 11.24460553261239, 10.58842734108233],
                [9.844426822602562, 24.17546315547697, 18.886918470958033],
            ],
        ],
        rtol=1e-13,
    )
    many = tinyad.jvp(f, (X24,), (np.stack([t, 2 * t, -t]),), batched=True)[1]
    np.testing.assert_allclose(
        many, np.stack([1, 2, -1])[:, None, None, None] * tinyad.jvp(f, (X24,), (t,))[1], rtol=1e-13
    )


SIBLINGS = {  # the same class: axes given negative, as lists or tuples, through batched (jacfwd) and reverse paths
    "moveaxis": lambda x: tnp.moveaxis(x, [-1, 0], [0, -1]),
    "swapaxes": lambda x: tnp.swapaxes(x, -1, -3),
    "rot90": lambda x: tnp.rot90(x, 1, (-1, -2)),
    "rot90_k3": lambda x: tnp.rot90(x, 3, (-3, -1)),
    "diagonal": lambda x: tnp.diagonal(x, 1, -1, -2),
    "trace": lambda x: tnp.trace(x, 0, -1, -3),
    "flip": lambda x: tnp.flip(x, (-1, 0)),
    "roll": lambda x: tnp.roll(x, (1, -1), (-1, -2)),
    "expand_squeeze": lambda x: tnp.squeeze(tnp.expand_dims(x, (-1, 0)), (0, -1)),
    "sum": lambda x: tnp.sum(x, axis=(-1, 0)),
    "max": lambda x: tnp.max(x, axis=(-2, -1), keepdims=True),
    "mean": lambda x: tnp.mean(x, axis=-2),
    "var": lambda x: tnp.var(x, axis=(0, -1)),
    "prod": lambda x: tnp.prod(x, axis=(-1, 0)),
    "logsumexp": lambda x: tnp.logsumexp(x, axis=(-1, -3)),
    "softmax": lambda x: tnp.softmax(x, axis=-2),
    "cumsum": lambda x: tnp.cumsum(x, axis=-1),
    "cumprod": lambda x: tnp.cumprod(x, axis=-3),
    "sort": lambda x: tnp.sort(x, axis=-2),
    "take_along_axis": lambda x: tnp.take_along_axis(x, np.argsort(X24, axis=-1), axis=-1),
    "concatenate": lambda x: tnp.concatenate([x, 2 * x], axis=-2),
    "stack": lambda x: tnp.stack([x, x**2], axis=-1),
    "split": lambda x: tnp.split(x, [1], axis=-1)[1],
    "fft": lambda x: tnp.real(tnp.fft.fft(x, axis=-2)),
    "norm": lambda x: tnp.linalg.norm(x, axis=(-1, -3)),
    "tensordot": lambda x: tnp.tensordot(x, x, axes=([-1, 0], [-1, 0])),
}


@pytest.mark.parametrize("name", sorted(SIBLINGS))
def test_negative_and_tuple_axes_in_both_modes_and_batched(name):
    f = SIBLINGS[name]
    both_modes(f, X24)
    check_grads(f, (X24,), order=2)


# ---- axis=None, tuple axes, empty arrays -------------------------------------------------------------------
def test_concatenate_axis_none_gradients():
    x, y = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]), np.array([7.0, 8.0, 9.0])
    f = lambda a, b: tnp.sum(tnp.concatenate([a, b], axis=None) ** 2 * np.arange(1.0, 10.0))  # noqa: E731
    ga, gb = tinyad.grad(f, argnums=(0, 1))(x, y)
    np.testing.assert_allclose(ga, [[2.0, 8.0, 18.0], [32.0, 50.0, 72.0]])
    np.testing.assert_allclose(gb, [98.0, 128.0, 162.0])
    check_grads(lambda a, b: tnp.concatenate((a, b, a), axis=None), (x, y), order=2)


def test_prod_over_a_tuple_of_axes():
    y = np.array([[[1.0, 2.0], [3.0, 0.5]], [[-1.0, 2.0], [0.5, 4.0]]])
    np.testing.assert_allclose(tnp.prod(y, axis=(0, 2)), [-4.0, 3.0])
    np.testing.assert_allclose(
        tinyad.grad(lambda a: tnp.sum(tnp.prod(a, axis=(0, 2)) * np.array([1.0, -2.0])))(y),
        [[[-4.0, -2.0], [-2.0, -12.0]], [[4.0, -2.0], [-12.0, -1.5]]],
    )
    np.testing.assert_allclose(
        tinyad.grad(lambda a: tnp.sum(tnp.prod(a, axis=(-1, 0), keepdims=True) ** 2))(y),
        [[[32.0, 16.0], [6.0, 36.0]], [[-32.0, 16.0], [36.0, 4.5]]],
    )
    both_modes(lambda a: tnp.prod(a, axis=(2, 0)), y)


AXIS_NONE = {  # functions whose axis=None means "the flattened array"
    "cumsum": lambda x: tnp.cumsum(x),
    "cumprod": lambda x: tnp.cumprod(x),
    "sort": lambda x: tnp.sort(x, axis=None),
    "take": lambda x: tnp.take(x, [5, 0, 5]),
    "take_along_axis": lambda x: tnp.take_along_axis(x, np.array([3, 1]), axis=None),
    "roll": lambda x: tnp.roll(x, 4),
    "flip": lambda x: tnp.flip(x),
    "repeat": lambda x: tnp.repeat(x, 2),
    "max": lambda x: tnp.max(x),
    "norm": lambda x: tnp.linalg.norm(x),
    "concatenate": lambda x: tnp.concatenate([x, x[0]], axis=None),
    "softmax": lambda x: tnp.softmax(x, axis=None),
    "logsumexp": lambda x: tnp.logsumexp(x),
    "std": lambda x: tnp.std(x),
    "vector_norm": lambda x: tnp.linalg.vector_norm(x, ord=3),
}


@pytest.mark.parametrize("name", sorted(AXIS_NONE))
def test_axis_none_forms_in_both_modes(name):
    both_modes(AXIS_NONE[name], X24)
    check_grads(AXIS_NONE[name], (X24,), order=2)


def test_empty_arrays_have_empty_derivatives():
    empty = np.zeros((0, 3))
    for f in (
        lambda a: tnp.sum(a, axis=0),
        lambda a: tnp.prod(a, axis=0),
        lambda a: tnp.cumsum(a, axis=0),
        lambda a: tnp.exp(a),
        lambda a: tnp.concatenate([a, a]),
        lambda a: tnp.reshape(a, (3, 0)),
        lambda a: tnp.fft.fft(a, axis=0, n=2),
        lambda a: tnp.sort(a, axis=0),
        lambda a: tnp.max(a, axis=1),
    ):
        out, pull = tinyad.vjp(f, empty)
        (g,) = pull(np.ones_like(np.asarray(out)))
        assert g.shape == empty.shape
        assert tinyad.jvp(f, (empty,), (empty,))[1].shape == np.shape(out)


# ---- float32 stays float32 ---------------------------------------------------------------------------------------
def test_float32_inputs_give_float32_results_like_numpy():
    x = np.arange(1.0, 13.0, dtype=np.float32).reshape(3, 4)
    for f in (
        lambda m: m.tril(x),
        lambda m: m.cumprod(x, axis=1),
        lambda m: m.prod(x[:0], axis=0),
        lambda m: m.mean(x, axis=1, where=x > 3),
        lambda m: m.fft.fft(x, norm="ortho"),
        lambda m: m.pad(x, 1, constant_values=2.0),
        lambda m: m.linalg.norm(x, 2),
    ):
        assert np.asarray(f(tnp)).dtype == np.asarray(f(np)).dtype


def test_scatter_add_keeps_float32():
    x = np.zeros(3, dtype=np.float32)
    assert tnp.index_update(x, 0, np.float32(1.0)).dtype == np.float32
    assert tnp.fft.fft(x, n=4).dtype == np.complex64
