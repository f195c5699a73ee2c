"""Every primitive: JVP and VJP against central differences and <u, Jv> = <J^T u, v>, to second order,
over random shapes with broadcasting (hypothesis). A primitive missing from CASES fails the sweep."""

from unittest import mock

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import tinyad
import tinyad.numpy as tnp
from tinyad import REGISTRY
from tinyad.core.forward import Dual, ForwardTrace
from tinyad.ops import losses
from tinyad.ops import structural as shapes
from tinyad.ops.linalg import cofactors, inverse_transpose
from tinyad.testing import check_grads
from tinyad.testing import strategies as tst


def unary(lo=-2.0, hi=2.0, avoid=None):
    def draw(data):
        x = data.draw(tst.arrays(min_value=lo, max_value=hi))
        return (tst.away_from(x, avoid) if avoid else x,)
    return draw


def binary(lo=-2.0, hi=2.0, ylo=None, yhi=None, yavoid=None):
    def draw(data):
        sx, sy = data.draw(tst.broadcastable_shapes())
        x = data.draw(tst.arrays(sx, lo, hi))
        y = data.draw(tst.arrays(sy, lo if ylo is None else ylo, hi if yhi is None else yhi))
        return x, (tst.away_from(y, yavoid) if yavoid else y)
    return draw


def separated_pair(data):
    """maximum/minimum: x and y at least 0.1 apart (central differences must not straddle the kink)."""
    sx, sy = data.draw(tst.broadcastable_shapes())
    x, y = data.draw(tst.arrays(sx)), data.draw(tst.arrays(sy))
    assume(np.all(np.abs(np.subtract(x, y)) > 0.1))
    return x, y


def copysign_case(data):
    """x away from 0 (|x| has a kink there), y away from 0 (its sign bit flips there)."""
    x, y = binary(yavoid=(0.0,))(data)
    return (tst.away_from(x, (0.0,)), y), tnp.copysign


def distinct(data):
    """Arrays with distinct entries (max's derivative is not defined at ties)."""
    shape = data.draw(tst.shapes(min_dims=1))
    perm = data.draw(st.permutations(range(int(np.prod(shape)))))
    return (np.array(perm, dtype=float).reshape(shape) * 0.37 - 1.0,)


def with_axis(draw_args, fn):
    def draw(data):
        (x,) = draw_args(data)
        axis = data.draw(st.sampled_from([None] + list(range(-x.ndim, x.ndim))))
        keepdims = data.draw(st.booleans())
        return (x,), lambda a: fn(a, axis=axis, keepdims=keepdims)
    return draw


def fixed(fn, draw_args):
    def draw(data):
        return draw_args(data), fn
    return draw


def where_case(data):
    sc, sx, sy = data.draw(tst.broadcastable_shapes(3))
    cond = data.draw(tst.arrays(sc)) > 0
    x, y = data.draw(tst.arrays(sx)), data.draw(tst.arrays(sy))
    return (x, y), lambda a, b: tnp.where(cond, a, b)


def matmul_case(data):
    a_nd, b_nd = data.draw(st.sampled_from([(1, 1), (1, 2), (2, 1), (2, 2), (3, 2), (2, 3), (3, 3)]))
    n, m, p, b = (data.draw(st.integers(1, 4)) for _ in range(4))
    sa = {1: (m,), 2: (n, m), 3: (b, n, m)}[a_nd]
    sb = {1: (m,), 2: (m, p), 3: (b, m, p)}[b_nd]
    return (data.draw(tst.arrays(sa)), data.draw(tst.arrays(sb))), tnp.matmul


def reshape_case(data):
    (x,) = unary()(data)
    ones = data.draw(st.integers(0, 2))
    return (x,), lambda a: tnp.reshape(a, (-1,) + (1,) * ones)


def transpose_case(data):
    (x,) = unary()(data)
    perm = tuple(data.draw(st.permutations(range(x.ndim))))
    return (x,), lambda a: tnp.transpose(a, perm)


def broadcast_case(data):
    (x,) = unary()(data)
    extra = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2)))
    target = extra + tuple(data.draw(st.sampled_from([1, 3])) if n == 1 else n for n in x.shape)
    return (x,), lambda a: tnp.broadcast_to(a, target)


def getitem_case(data):
    x = data.draw(tst.arrays(tst.shapes(min_dims=1, min_side=2)))
    idx = data.draw(st.sampled_from([
        0, -1, slice(0, 2), (Ellipsis, 0), np.array([0, 0, 1]), (slice(None), None),
        np.array([[1, 0], [0, 0]]),
    ]))
    return (x,), lambda a: a[idx]


def scatter_case(data):
    g = data.draw(tst.arrays((3, 2)))
    return (g,), lambda a: shapes.scatter_add(a, idx=np.array([0, 2, 0]), shape=(4, 2))


def concat_case(data):
    x = data.draw(tst.arrays(tst.shapes(min_dims=1)))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    other = list(x.shape)
    other[axis] = data.draw(st.integers(1, 3))
    y = data.draw(tst.arrays(tuple(other)))
    return (x, y), lambda a, b: tnp.concatenate([a, b, a], axis=axis)


def logsumexp_case(data):
    return with_axis(unary(), tnp.logsumexp)(data)


def softmax_case(data):
    x = data.draw(tst.arrays(tst.shapes(min_dims=1), -3.0, 3.0))
    axis = data.draw(st.one_of(st.integers(-x.ndim, x.ndim - 1), st.none(),
                               st.lists(st.integers(0, x.ndim - 1), min_size=1, unique=True).map(tuple)))
    return (x,), lambda a: tnp.softmax(a, axis=axis)


def xent_case(data):
    n, c = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    batch = data.draw(st.sampled_from([(), (2,)]))
    z = data.draw(tst.arrays(batch + (n, c), -3.0, 3.0))
    y = data.draw(tst.arrays(batch + (n, c), 0.0, 1.0))
    return (z, y), losses.softmax_cross_entropy


def cumsum_case(data):
    (x,) = unary()(data)
    axis = data.draw(st.integers(0, max(x.ndim - 1, 0)))
    return (x,), lambda a: tnp.cumsum(a, axis=axis if x.ndim else None)


def einsum_case(data):
    spec, shapes = data.draw(st.sampled_from([
        ("ij,jk->ik", [(2, 3), (3, 4)]), ("i,i->", [(3,), (3,)]), ("ij,k->ijk", [(2, 2), (3,)]),
        ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]), ("ij->j", [(3, 2)]), ("ij,jk,kl->il", [(2, 2), (2, 3), (3, 2)]),
    ]))
    return tuple(data.draw(tst.arrays(s)) for s in shapes), lambda *ops: tnp.einsum(spec, *ops)


def square_matrix(data, batch=True):
    n = data.draw(st.integers(1, 3))
    lead = data.draw(st.sampled_from([(), (2,)])) if batch else ()
    # strictly diagonally dominant (|off-diagonal row sum| <= 2 < 4 - 1), so never singular: with + 3 I, all-(-1)
    # entries (a boundary value hypothesis likes) made the singular [[2, -1, -1], [-1, 2, -1], [-1, -1, 2]]
    return data.draw(tst.arrays(lead + (n, n), -1.0, 1.0)) + 4.0 * np.eye(n)


def linalg_case(fn):
    def draw(data):
        return (square_matrix(data),), fn
    return draw


def solve_case(data):
    """b: one vector (also for a batch of matrices: NumPy reads a 1-d b as one right-hand side) or columns,
    with or without the batch axes of a."""
    a = square_matrix(data)
    n, lead = a.shape[-1], a.shape[:-2]
    b = data.draw(tst.arrays(data.draw(st.sampled_from([(n,), (n, 2), lead + (n, 2)]))))
    return (a, b), tnp.linalg.solve


def spd_case(fn):
    def draw(data):
        m = square_matrix(data, batch=False)
        return (m,), lambda x: fn(tnp.matmul(x, tnp.transpose(x)) + 3.0 * np.eye(m.shape[0]))
    return draw


def pinv_case(data):
    m, n = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    a = data.draw(tst.arrays((m, n), -1.0, 1.0))
    a = a + 2.0 * np.eye(m, n)  # full rank
    return (a,), tnp.linalg.pinv


def eigh_case(data):
    n = data.draw(st.integers(1, 3))
    spread = np.diag(np.arange(n) * 2.0)  # well-separated eigenvalues
    m = data.draw(tst.arrays((n, n), -0.3, 0.3))
    return (m,), lambda x: tnp.linalg.eigh(x + tnp.transpose(x) + spread)[0] + tnp.linalg.eigh(
        x + tnp.transpose(x) + spread)[1] ** 2


def eigvalsh_case(data):
    n = data.draw(st.integers(1, 3))
    lead = data.draw(st.sampled_from([(), (2,)]))
    m = data.draw(tst.arrays(lead + (n, n), -0.3, 0.3))
    spread = np.diag(np.arange(n) * 2.0)
    return (m,), lambda x: tnp.linalg.eigvalsh(x + tnp.swapaxes(x, -1, -2) + spread)


def rectangular(data, lo=-0.3, hi=0.3):
    """A (batch of) m x n matrices with well-separated, nonzero singular values."""
    m, n = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    lead = data.draw(st.sampled_from([(), (2,)]))
    spread = np.eye(m, n) * (2.0 + 2.0 * np.arange(n))
    return data.draw(tst.arrays(lead + (m, n), lo, hi)) + spread


def svd_case(data):
    """U, Vh enter as the rank-one terms u_i v_i^T (the singular vectors' signs are arbitrary)."""
    a = rectangular(data)

    def f(x):
        u, s, vh = tnp.linalg.svd(x, full_matrices=False)
        return tnp.concatenate([tnp.ravel(u[..., :, :, None] * vh[..., None, :, :]), tnp.ravel(s)])
    return (a,), f


def qr_case(data):
    m = data.draw(st.integers(1, 4))
    n = data.draw(st.integers(1, m))
    lead = data.draw(st.sampled_from([(), (2,)]))
    # No exact zeros: LAPACK skips the reflection of a column that is already zero below the diagonal, so the
    # signs of Q and R jump there (a discontinuity of the value, not of the rule).
    a = tst.away_from(data.draw(tst.arrays(lead + (m, n), -1.0, 1.0)), (0.0,), 0.05) + 3.0 * np.eye(m, n)
    return (a,), lambda x: tnp.concatenate([tnp.ravel(part) for part in tnp.linalg.qr(x)])


def complex_case(fn, re_lo=-2.0):
    """Elementwise functions of complex inputs (vjp/jvp take complex; grad takes real inputs only)."""
    def draw(data):
        shape = data.draw(tst.shapes())
        re, im = data.draw(tst.arrays(shape, re_lo, 2.0)), data.draw(tst.arrays(shape))
        return (tst.away_from(re, (0.0,), 0.2) + 1j * im,), fn
    return draw


def fft_case(fn, real_input=True):
    def draw(data):
        shape = data.draw(tst.shapes(min_dims=1))
        x = data.draw(tst.arrays(shape))
        if not real_input:
            x = x + 1j * data.draw(tst.arrays(shape))
        axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
        return (x,), lambda a: fn(a, axis=axis)
    return draw


def irfft_case(data):
    shape = data.draw(tst.shapes(min_dims=1))
    n = data.draw(st.integers(1, 5))
    spectrum = np.fft.rfft(data.draw(tst.arrays(shape[:-1] + (n,))), axis=-1)
    return (spectrum,), lambda c: tnp.fft.irfft(c, n=n)


CASES = {
    "add": fixed(tnp.add, binary()),
    "subtract": fixed(tnp.subtract, binary()),
    "multiply": fixed(tnp.multiply, binary()),
    "divide": fixed(tnp.divide, binary(yavoid=(0.0,))),
    "power": fixed(tnp.power, binary(0.3, 2.0, -2.0, 2.0)),
    "negative": fixed(tnp.negative, unary()),
    "square": fixed(tnp.square, unary()),
    "sqrt": fixed(tnp.sqrt, unary(0.2, 3.0)),
    "exp": fixed(tnp.exp, unary()),
    "log": fixed(tnp.log, unary(0.2, 3.0)),
    "log1p": fixed(tnp.log1p, unary(-0.7, 3.0)),
    "sin": fixed(tnp.sin, unary()),
    "cos": fixed(tnp.cos, unary()),
    "tanh": fixed(tnp.tanh, unary()),
    "abs": fixed(tnp.abs, unary(avoid=(0.0,))),
    "tan": fixed(tnp.tan, unary(-1.2, 1.2)),
    "arcsin": fixed(tnp.arcsin, unary(-0.9, 0.9)),
    "arccos": fixed(tnp.arccos, unary(-0.9, 0.9)),
    "arctan": fixed(tnp.arctan, unary()),
    "arctan2": fixed(tnp.arctan2, binary(0.3, 2.0)),
    "sinh": fixed(tnp.sinh, unary()),
    "cosh": fixed(tnp.cosh, unary()),
    "arcsinh": fixed(tnp.arcsinh, unary()),
    "log2": fixed(tnp.log2, unary(0.2, 3.0)),
    "log10": fixed(tnp.log10, unary(0.2, 3.0)),
    "exp2": fixed(tnp.exp2, unary()),
    "expm1": fixed(tnp.expm1, unary()),
    "reciprocal": fixed(tnp.reciprocal, unary(avoid=(0.0,), lo=-2.0, hi=2.0)),
    "hypot": fixed(tnp.hypot, binary(0.3, 2.0)),
    "fmod": fixed(tnp.fmod, binary(0.1, 0.9, 1.0, 2.0)),
    "mod": fixed(tnp.mod, binary(2.2, 2.8, 1.0, 1.05)),  # x / y in (2.09, 2.8): away from floor's jumps
    "maximum": fixed(tnp.maximum, separated_pair),
    "minimum": fixed(tnp.minimum, separated_pair),
    "where": where_case,
    "sum": with_axis(unary(), tnp.sum),
    "max": with_axis(distinct, tnp.max),
    "logsumexp": logsumexp_case,
    "softmax": softmax_case,
    "matmul": matmul_case,
    "reshape": reshape_case,
    "transpose": transpose_case,
    "broadcast_to": broadcast_case,
    "getitem": getitem_case,
    "scatter_add": scatter_case,
    "concatenate": concat_case,
    "softmax_cross_entropy": xent_case,
    "cumsum": cumsum_case,
    "real": complex_case(tnp.real),
    "imag": complex_case(tnp.imag),
    "conj": complex_case(tnp.conj),
    "angle": complex_case(tnp.angle, re_lo=0.3),  # away from the branch cut on the negative real axis
    "fft": fft_case(tnp.fft.fft),
    "ifft": fft_case(tnp.fft.ifft, real_input=False),
    "rfft": fft_case(tnp.fft.rfft),
    "irfft": irfft_case,
    "inv": linalg_case(tnp.linalg.inv),
    "det": linalg_case(tnp.linalg.det),
    "cofactors": linalg_case(cofactors),
    "inverse_transpose": linalg_case(inverse_transpose),
    "logabsdet": linalg_case(lambda a: tnp.linalg.slogdet(a)[1]),
    "solve": solve_case,
    "cholesky": spd_case(tnp.linalg.cholesky),
    "eigh": eigh_case,
    "pinv": pinv_case,
    "eigvalsh": eigvalsh_case,
    "svd": svd_case,
    "svdvals": lambda data: ((rectangular(data),), tnp.linalg.svdvals),
    "qr": qr_case,
    "sigmoid": fixed(tnp.sigmoid, unary(-4.0, 4.0)),
    "softplus": fixed(tnp.softplus, unary(-4.0, 4.0)),
    "relu": fixed(tnp.relu, unary(avoid=(0.0,))),
    "logaddexp": fixed(tnp.logaddexp, binary()),
    "logaddexp2": fixed(tnp.logaddexp2, binary()),
    "erf": fixed(tnp.erf, unary()),
    "erfc": fixed(tnp.erfc, unary()),
    "arccosh": fixed(tnp.arccosh, unary(1.2, 3.0)),
    "arctanh": fixed(tnp.arctanh, unary(-0.8, 0.8)),
    "float_power": fixed(tnp.float_power, binary(0.3, 2.0, -2.0, 2.0)),
    "fmax": fixed(tnp.fmax, separated_pair),
    "fmin": fixed(tnp.fmin, separated_pair),
    "copysign": copysign_case,
    "sinc": fixed(tnp.sinc, unary()),
    "einsum": einsum_case,
    "astype": fixed(lambda a: tnp.astype(a, np.float64), unary()),
}


def differentiable():
    return sorted(name for name, p in REGISTRY.items() if not p.nondiff)


def test_every_differentiable_primitive_has_both_rules():
    for name in differentiable():
        p = REGISTRY[name]
        n = 4 if p.arity is None else p.arity  # variadic: any number of operands; look at a few
        assert n > 0 and any(p.vjp_rule(i) is not None for i in range(n)), f"{name} has no VJP rule"
        for i in range(n):
            has_jvp = p.linear or p.jvp_rule(i) is not None  # a linear primitive is its own JVP
            assert has_jvp == (p.vjp_rule(i) is not None), f"{name}: argument {i} has a rule in one mode only"


def test_every_primitive_is_in_the_sweep():
    missing = [n for n in differentiable() if n not in CASES]
    assert not missing, f"primitives without a gradient-check case in tests/test_primitives.py: {missing}"


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_primitive_rules_match_finite_differences(name, data):
    args, fn = CASES[name](data)
    check_grads(fn, args, modes=("fwd", "rev"), order=2)


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=5)
@given(data=st.data())
def test_sweep_case_differentiates_every_argument(name, data):
    """The case of each primitive must put a tangent on every argument that has a rule, so that the sweep
    above really checks every rule (a case passing a constant would leave that rule untested)."""
    args, fn = CASES[name](data)
    prim, calls = REGISTRY[name], []
    process = ForwardTrace.process

    def spy(self, p, a, kw):
        if p is prim:
            calls.append(({i for i, x in enumerate(a) if type(x) is Dual and x.trace is self},
                          {i for i in range(len(a)) if p.vjp_rule(i) is not None}))
        return process(self, p, a, kw)

    with mock.patch.object(ForwardTrace, "process", spy):
        tinyad.jvp(fn, args, tuple(np.ones_like(a) for a in args))
    assume(calls)  # a degenerate draw (an identity transpose) applies no primitive; hypothesis fails if all do
    assert any(boxed == ruled for boxed, ruled in calls), f"{name}: some argument with a rule gets no tangent"


def test_nondiff_primitives_return_constants():
    def f(x):
        for p in (tnp.floor, tnp.sign, tnp.round, tnp.ceil):
            assert type(p(x)) is np.ndarray
        assert type(x > 0) is np.ndarray
        assert type(tnp.argmax(x)) is np.intp or np.isscalar(tnp.argmax(x))
        return tnp.sum(x * tnp.floor(x))

    x = np.array([0.5, 1.5, 2.5])
    np.testing.assert_allclose(tinyad.grad(f)(x), np.floor(x))


@pytest.mark.parametrize("name", sorted(CASES))
@settings(max_examples=5)
@given(data=st.data())
def test_batched_jvp_equals_one_direction_at_a_time(name, data):
    """k tangent directions in one pass (batched rules, aligned elementwise rules, the per-direction
    fallback) give what k separate passes give."""
    args, fn = CASES[name](data)
    rng = np.random.default_rng(1)
    dirs = [tuple(rng.standard_normal(np.shape(a)) + (1j * rng.standard_normal(np.shape(a)) if np.iscomplexobj(a)
                                                       else 0) for a in args) for _ in range(3)]
    _, batched = tinyad.jvp(fn, args, tuple(np.stack([d[i] for d in dirs]) for i in range(len(args))), batched=True)
    for j, d in enumerate(dirs):
        np.testing.assert_allclose(batched[j], tinyad.jvp(fn, args, d)[1], rtol=1e-12, atol=1e-12)
