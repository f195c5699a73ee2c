"""tinyad.numpy.linalg: values against NumPy, derivatives against finite differences (check_grads) and
against values computed once with JAX (float64) and written down here."""

from unittest import mock

import numpy as np
import pytest

import tinyad
import tinyad.numpy as tnp
from tinyad.ops import linalg as ops_linalg
from tinyad.testing import check_grads

inf, nan = np.inf, np.nan
M2 = np.array([[1.0, 2.0], [3.0, 4.0]])
RNG = np.random.default_rng(7)
A3 = np.array([[2.0, -1.0, 0.5], [0.3, 1.5, -2.0], [1.0, 0.2, 0.7]])
TALL = np.array([[2.0, -1.0], [0.3, 1.5], [1.0, 0.2]])
BATCH = RNG.standard_normal((2, 3, 4))
MATRIX_ORDS = [None, "fro", "f", "nuc", 1, -1, 2, -2, np.inf, -np.inf]
VECTOR_ORDS = [None, 0, 1, -1, 2, -2, 3, 0.5, -0.5, np.inf, -np.inf]


# ---- norm: every order NumPy has, with NumPy's values --------------------------------------------------------
def test_matrix_2_norm_is_the_largest_singular_value():
    """The reported bug: the vector formula gave 5.4772 (the Frobenius norm) and ord=1 gave 10."""
    np.testing.assert_allclose(tnp.linalg.norm(M2, 2), 5.464985704219043, rtol=1e-14)
    assert tnp.linalg.norm(M2, 1) == 6.0
    np.testing.assert_allclose(tnp.linalg.norm(M2, "nuc"), 5.8309518948453, rtol=1e-14)


@pytest.mark.parametrize("ord", MATRIX_ORDS)
@pytest.mark.parametrize("axis, keepdims", [(None, False), (None, True), ((0, 2), False), ((2, 0), True),
                                            ((-1, -3), False), ((1, 2), True)])
def test_matrix_norms_equal_numpy(ord, axis, keepdims):
    x = BATCH if axis is not None else BATCH[0]
    ours = tnp.linalg.norm(x, ord, axis, keepdims)
    np.testing.assert_allclose(ours, np.linalg.norm(x, ord, axis, keepdims), rtol=1e-13, atol=1e-14)
    assert np.shape(ours) == np.shape(np.linalg.norm(x, ord, axis, keepdims))


@pytest.mark.parametrize("ord", VECTOR_ORDS)
@pytest.mark.parametrize("axis, keepdims", [(None, False), (None, True), (0, False), (-1, True), (1, False)])
def test_vector_norms_equal_numpy(ord, axis, keepdims):
    x = np.array([0.5, -2.0, 0.0, 3.0]) if axis is None else BATCH[0] * (np.abs(BATCH[0]) > 0.3)
    ours = tnp.linalg.norm(x, ord, axis, keepdims)
    np.testing.assert_allclose(ours, np.linalg.norm(x, ord, axis, keepdims), rtol=1e-13)
    assert np.shape(ours) == np.shape(np.linalg.norm(x, ord, axis, keepdims))


def test_norm_of_lists_integers_complex_and_empty_arrays_equals_numpy():
    for x, kw in [([3, 4], {}), (np.arange(6).reshape(2, 3), {"ord": 1}), ([[1, 2], [3, 4]], {"ord": "nuc"}),
                  (np.array([3 + 4j, 1 - 1j]), {}), (np.array([[1 + 1j, 2], [0, 1j]]), {"ord": 2}),
                  (np.array([1 + 2j, -1j]), {"ord": 3}), (np.zeros((0,)), {"ord": np.inf}), (np.zeros((0,)), {})]:
        np.testing.assert_allclose(tnp.linalg.norm(x, **kw), np.linalg.norm(x, **kw), rtol=1e-14)


@pytest.mark.parametrize("call, error", [
    (lambda: tnp.linalg.norm(np.ones(3), "fro"), ValueError), (lambda: tnp.linalg.norm(np.ones(3), "nuc"), ValueError),
    (lambda: tnp.linalg.norm(np.ones((2, 2)), 3), ValueError), (lambda: tnp.linalg.norm(np.ones((2, 2, 2)), 2),
                                                                ValueError),
    (lambda: tnp.linalg.norm(np.ones((2, 2)), axis=(0, 0)), ValueError),
    (lambda: tnp.linalg.norm(np.ones((2, 2)), axis=(0, 1, 1)), ValueError),
    (lambda: tnp.linalg.norm(np.ones(2), axis="a"), TypeError),
    (lambda: tnp.linalg.norm(np.ones(2), axis=1), np.exceptions.AxisError),
])
def test_norm_rejects_what_numpy_rejects(call, error):
    with pytest.raises(error):
        call()


# d norm(M2, ord) / dM2, computed with JAX.
NORM_GRADS_M2 = {
    None: [[0.18257418583505536, 0.3651483716701107], [0.5477225575051661, 0.7302967433402214]],
    "fro": [[0.18257418583505536, 0.3651483716701107], [0.5477225575051661, 0.7302967433402214]],
    1: [[0.0, 1.0], [0.0, 1.0]],
    -1: [[1.0, 0.0], [1.0, 0.0]],
    np.inf: [[0.0, 0.0], [1.0, 1.0]],
    -np.inf: [[1.0, 1.0], [0.0, 0.0]],
    2: [[0.23304246013169685, 0.33068839528718], [0.5268045304253642, 0.7475382155592234]],
    -2: [[-0.7475382155592234, 0.5268045304253642], [0.33068839528718, -0.23304246013169685]],
    "nuc": [[-0.5144957554275266, 0.8574929257125443], [0.8574929257125443, 0.5144957554275266]],
}


@pytest.mark.parametrize("ord", list(NORM_GRADS_M2))
def test_matrix_norm_gradients_equal_jax(ord):
    np.testing.assert_allclose(tinyad.grad(lambda x: tnp.linalg.norm(x, ord))(M2), NORM_GRADS_M2[ord], rtol=1e-12)


@pytest.mark.parametrize("ord", MATRIX_ORDS)
def test_matrix_norm_derivatives_second_order_with_batch_axes(ord):
    check_grads(lambda x: tnp.linalg.norm(x, ord, axis=(2, 0), keepdims=True), (BATCH,), order=2)


@pytest.mark.parametrize("ord", [o for o in VECTOR_ORDS if o != 0])
def test_vector_norm_derivatives_second_order(ord):
    check_grads(lambda x: tnp.linalg.norm(x, ord, axis=-1), (BATCH[0],), order=2)


def test_norm_derivatives_at_kinks_follow_jax():
    zero = np.zeros(3)
    assert np.all(np.isnan(tinyad.grad(tnp.linalg.norm)(zero)))  # sqrt at 0 times 0: NaN, as JAX
    assert np.all(tinyad.grad(lambda x: tnp.linalg.norm(x, 0))(np.array([1.0, 0.0])) == 0.0)  # a count: constant
    # nuclear and 2-norm where singular values repeat (the identity): JAX's values
    np.testing.assert_allclose(tinyad.grad(lambda x: tnp.linalg.norm(x, "nuc"))(np.eye(3)), np.eye(3), rtol=1e-14)
    np.testing.assert_allclose(tinyad.grad(lambda x: tnp.linalg.norm(x, 2))(np.eye(3)), np.eye(3) / 3, rtol=1e-14)


def test_array_api_norms():
    x = BATCH
    np.testing.assert_allclose(tnp.linalg.vector_norm(x, axis=(0, 2), ord=3, keepdims=True),
                               np.linalg.vector_norm(x, axis=(0, 2), ord=3, keepdims=True), rtol=1e-14)
    np.testing.assert_allclose(tnp.linalg.vector_norm(x), np.linalg.vector_norm(x), rtol=1e-14)
    np.testing.assert_allclose(tnp.linalg.matrix_norm(x, ord="nuc"), np.linalg.matrix_norm(x, ord="nuc"), rtol=1e-14)
    check_grads(lambda a: tnp.linalg.vector_norm(a, axis=(0, 2), ord=3), (x,), order=2)


# ---- svd -------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 3, 2)])
def test_svd_values_and_forms_equal_numpy(shape):
    a = RNG.standard_normal(shape)
    for full in (False, True):
        for x, y in zip(tnp.linalg.svd(a, full_matrices=full), np.linalg.svd(a, full_matrices=full)):
            np.testing.assert_allclose(x, y, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(tnp.linalg.svd(a, compute_uv=False), np.linalg.svd(a, compute_uv=False), rtol=1e-14)
    np.testing.assert_allclose(tnp.linalg.svdvals(a), np.linalg.svdvals(a), rtol=1e-14)

    def parts(x):
        u, s, vh = tnp.linalg.svd(x, full_matrices=shape[-1] == shape[-2])
        assert u.shape[-1] == s.shape[-1] == vh.shape[-2] == min(shape[-2:])
        return tnp.matmul(u * s[..., None, :], vh), s  # the reconstruction, and s

    out = tinyad.jvp(parts, (a,), (np.ones(shape),))[0]
    np.testing.assert_allclose(out[0], a, atol=1e-13)
    check_grads(lambda x: parts(x)[0], (a,), order=2)


def test_svd_gradient_equals_jax():
    def f(x):
        u, s, vh = tnp.linalg.svd(x)
        return tnp.sum(u * np.arange(1.0, 4.0)) * tnp.sum(vh[0] * vh[1]) + tnp.sum(s ** 3)

    expected = [[14.581576883432495, -7.836384490982783, 6.937124310694746],
                [-0.5544756015503522, 12.242480174124706, -15.805841831216986],
                [6.894604586184238, -2.034344438793026, 4.093466783121519]]
    np.testing.assert_allclose(tinyad.grad(f)(A3), expected, rtol=1e-10)


def test_singular_values_and_eigenvalues_are_differentiable_where_they_repeat():
    """At the identity every singular value (eigenvalue) repeats: the vectors have no derivative, but the values
    do; JAX gives these numbers (no NaN from the vectors' unused cotangents)."""
    eye = np.eye(3)
    for f in (lambda x: tnp.sum(tnp.linalg.svd(x)[1]), lambda x: tnp.sum(tnp.linalg.svd(x, compute_uv=False)),
              lambda x: tnp.sum(tnp.linalg.svdvals(x))):
        np.testing.assert_allclose(tinyad.grad(f)(eye), eye, rtol=1e-14)
    weights = np.array([1.0, 2.0, 3.0])
    for f in (lambda x: tnp.sum(tnp.linalg.eigvalsh(x) * weights), lambda x: tnp.sum(tnp.linalg.eigh(x)[0] * weights)):
        np.testing.assert_allclose(tinyad.grad(f)(eye), np.diag(weights), rtol=1e-14)
        np.testing.assert_allclose(tinyad.jacfwd(f)(eye), np.diag(weights), rtol=1e-14)


def test_svd_refuses_what_has_no_derivative_and_returns_numpy_values_otherwise():
    a = RNG.standard_normal((4, 2))
    with pytest.raises(NotImplementedError, match="full_matrices=False"):
        tinyad.grad(lambda x: tnp.sum(tnp.linalg.svd(x)[0]))(a)
    with pytest.raises(NotImplementedError, match="hermitian=False"):
        tinyad.grad(lambda x: tnp.sum(tnp.linalg.svd(x, False, hermitian=True)[1]))(a)
    for x, y in zip(tnp.linalg.svd(a), np.linalg.svd(a)):  # plain arrays: NumPy's full matrices
        np.testing.assert_array_equal(x, y)


# ---- qr ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 3), (4, 2), (2, 4), (2, 4, 3), (2, 2, 3)])
@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
def test_qr_values_equal_numpy_and_derivatives_check(shape, mode):
    a = RNG.standard_normal(shape)
    ours, theirs = tnp.linalg.qr(a, mode), np.linalg.qr(a, mode)
    for x, y in zip(*((ours, theirs) if mode != "r" else ((ours,), (theirs,)))):
        np.testing.assert_allclose(x, y, rtol=1e-13, atol=1e-14)
    if mode == "complete" and shape[-2] > shape[-1]:
        with pytest.raises(NotImplementedError, match="mode='reduced'"):
            tinyad.jvp(lambda x: tnp.linalg.qr(x, mode), (a,), (a,))
        return
    value = tinyad.jvp(lambda x: tnp.linalg.qr(x, mode), (a,), (a,))[0]
    for x, y in zip(*((value, theirs) if mode != "r" else ((value,), (theirs,)))):
        np.testing.assert_allclose(x, y, rtol=1e-13, atol=1e-14)
    check_grads(lambda x: tnp.linalg.qr(x, mode), (a,), order=2)


def test_qr_gradient_equals_jax():
    def f(x):
        q, r = tnp.linalg.qr(x)
        return tnp.sum(q * np.array([[1.0, 2], [3, 4], [5, 6]])) + tnp.sum(r ** 2 * np.array([[1.0, -1], [0, 2]]))

    expected = [[3.7512127477488018, -0.1793817396111979], [4.184633479773417, 7.09759410111474],
                [1.4221844605703742, 0.9294852488879777]]
    np.testing.assert_allclose(tinyad.grad(f)(TALL), expected, rtol=1e-12)


# ---- lstsq ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("a_shape, b_shape", [((4, 2), (4,)), ((4, 2), (4, 3)), ((2, 4), (2,)), ((3, 3), (3, 1))])
def test_lstsq_returns_what_numpy_returns_with_a_differentiable_solution(a_shape, b_shape):
    a, b = RNG.standard_normal(a_shape), RNG.standard_normal(b_shape)
    expected = np.linalg.lstsq(a, b)
    traced = tinyad.vjp(lambda x, y: (tnp.sum(x * 0.0), tnp.linalg.lstsq(x, y)), a, b, has_aux=True)[2]
    for got in (tnp.linalg.lstsq(a, b), traced):
        for x, y in zip(got, expected):
            np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-13)
            assert np.shape(x) == np.shape(y)
    check_grads(lambda x, y: tnp.linalg.lstsq(x, y)[0], (a, b), order=2)
    if a_shape[0] > a_shape[1]:
        check_grads(lambda x, y: tnp.linalg.lstsq(x, y)[1], (a, b), order=2)


def test_lstsq_rank_deficient_uses_numpy_cutoff():
    a = np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])  # rank 1: the minimum-norm solution, no residuals
    b = np.array([1.0, 0.0, 2.0])
    x, res, rank, s = tinyad.vjp(lambda m: (tnp.sum(m * 0.0), tnp.linalg.lstsq(m, b)), a, has_aux=True)[2]
    ex, eres, erank, es = np.linalg.lstsq(a, b)
    np.testing.assert_allclose(x, ex, rtol=1e-12)
    np.testing.assert_allclose(s, es, rtol=1e-12)
    assert rank == erank == 1 and np.shape(res) == np.shape(eres) == (0,)


# ---- det at singular matrices: the cofactor matrix, at first and second order -----------------------------------
SINGULAR = {  # name: (matrix, d det, d2 det flattened) with the derivatives from JAX
    "rank1_2x2": (np.array([[1.0, 2.0], [2.0, 4.0]]), [[4.0, -2.0], [-2.0, 1.0]],
                  [[0, 0, 0, 1], [0, 0, -1, 0], [0, -1, 0, 0], [1, 0, 0, 0]]),
    "zero_2x2": (np.zeros((2, 2)), [[0.0, 0.0], [0.0, 0.0]],
                 [[0, 0, 0, 1], [0, 0, -1, 0], [0, -1, 0, 0], [1, 0, 0, 0]]),
    "rank2_3x3": (np.array([[1.0, 2, 3], [2, 4, 6], [1, 1, 1]]), [[-2.0, 4.0, -2.0], [1.0, -2.0, 1.0], [0.0, 0.0, 0.0]],
                  [[0, 0, 0, 0, 1, -1, 0, -6, 4], [0, 0, 0, -1, 0, 1, 6, 0, -2], [0, 0, 0, 1, -1, 0, -4, 2, 0],
                   [0, -1, 1, 0, 0, 0, 0, 3, -2], [1, 0, -1, 0, 0, 0, -3, 0, 1], [-1, 1, 0, 0, 0, 0, 2, -1, 0],
                   [0, 6, -4, 0, -3, 2, 0, 0, 0], [-6, 0, 2, 3, 0, -1, 0, 0, 0], [4, -2, 0, -2, 1, 0, 0, 0, 0]]),
    "zero_3x3": (np.zeros((3, 3)), np.zeros((3, 3)), np.zeros((9, 9))),
}


@pytest.mark.parametrize("name", sorted(SINGULAR))
def test_det_derivatives_at_singular_matrices_equal_jax(name):
    a, d1, d2 = SINGULAR[name]
    n = a.shape[0]
    np.testing.assert_allclose(tinyad.grad(tnp.linalg.det)(a), d1, atol=1e-12)
    np.testing.assert_allclose(tinyad.jacfwd(tnp.linalg.det)(a), d1, atol=1e-12)
    np.testing.assert_allclose(tinyad.hessian(tnp.linalg.det)(a).reshape(n * n, n * n), d2, atol=1e-12)
    np.testing.assert_allclose(tinyad.jacrev(tinyad.grad(tnp.linalg.det))(a).reshape(n * n, n * n), d2, atol=1e-12)
    check_grads(tnp.linalg.det, (a,), order=3)


def test_det_rank_deficient_by_two_and_batched_matrices():
    rank2 = np.outer([1.0, 2, 3, 4], [1.0, 0, 1, 2]) + np.outer([0.0, 1, 1, 1], [2.0, 1, 0, 1])  # 4x4, rank 2
    check_grads(tnp.linalg.det, (rank2,), order=3)
    np.testing.assert_allclose(tinyad.grad(tnp.linalg.det)(rank2), np.zeros((4, 4)), atol=1e-12)  # rank n-2: C = 0
    batch = np.stack([A3, SINGULAR["rank2_3x3"][0]])
    check_grads(lambda x: tnp.linalg.det(x), (batch,), order=2)
    np.testing.assert_allclose(tinyad.jacfwd(lambda x: tnp.sum(tnp.linalg.det(x)))(batch)[1], SINGULAR["rank2_3x3"][1],
                               atol=1e-12)


def test_cofactors_fast_path_is_taken_when_well_conditioned_and_minors_otherwise():
    calls = []
    minor_index = ops_linalg._minor_index
    with mock.patch.object(ops_linalg, "_minor_index", lambda n: calls.append(n) or minor_index(n)):
        tinyad.grad(tnp.linalg.det)(A3)
        assert not calls  # det * inv^T: one factorisation
        tinyad.grad(tnp.linalg.det)(SINGULAR["rank2_3x3"][0])
        assert calls == [3]
    # both paths are the same function: they agree where both apply
    signs = (-1.0) ** np.add.outer(np.arange(3), np.arange(3))
    by_minors = signs * np.linalg.det(A3[ops_linalg._minor_index(3)])
    np.testing.assert_allclose(ops_linalg.cofactors(A3), by_minors, rtol=1e-13)
    np.testing.assert_allclose(ops_linalg.cofactors(A3), np.linalg.det(A3) * np.linalg.inv(A3).T, rtol=1e-13)


def test_slogdet_at_singular_matrices_returns_what_jax_returns():
    s2 = SINGULAR["rank1_2x2"][0]
    sign, logabs = tnp.linalg.slogdet(s2)
    assert sign == 0.0 and logabs == -inf
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_array_equal(tinyad.grad(lambda x: tnp.linalg.slogdet(x)[1])(s2), [[inf, -inf], [-inf, inf]])
        # a JVP pairs that gradient with the direction: +inf and -inf entries meet, so NaN (JAX's LU-based rule
        # gives inf here; docs/numpy.md says so), never a finite number or a crash
        assert np.isnan(tinyad.jvp(lambda x: tnp.linalg.slogdet(x)[1], (s2,), (np.ones((2, 2)) + np.eye(2),))[1])
        assert np.all(np.isnan(tinyad.grad(lambda x: tnp.linalg.slogdet(x).logabsdet)(np.zeros((2, 2)))))


# ---- cholesky: the JVP and VJP are transposes also for non-symmetric directions -------------------------------
SPD = np.array([[4.0, 1, 0.5], [1, 3, -0.2], [0.5, -0.2, 2]])
V_NONSYM = np.array([[0.3, -1.2, 0.7], [0.5, 0.1, -0.4], [2.0, 0.6, -0.9]])
U_LOWER = np.array([[1.0, 0, 0], [0.5, -2, 0], [0.1, 0.3, 0.8]])


def test_cholesky_jvp_and_vjp_are_transposes_for_non_symmetric_directions():
    _, jv = tinyad.jvp(tnp.linalg.cholesky, (SPD,), (V_NONSYM,))
    (jtu,) = tinyad.vjp(tnp.linalg.cholesky, SPD)[1](U_LOWER)
    np.testing.assert_allclose(np.sum(U_LOWER * jv), np.sum(jtu * V_NONSYM), rtol=1e-13)
    for seed in range(5):
        v, u = np.random.default_rng(seed).standard_normal((2, 3, 3))
        _, jv = tinyad.jvp(tnp.linalg.cholesky, (SPD,), (v,))
        (jtu,) = tinyad.vjp(tnp.linalg.cholesky, SPD)[1](u)
        np.testing.assert_allclose(np.sum(u * jv), np.sum(jtu * v), rtol=1e-12)
    # JAX's values (its cholesky symmetrises its input, so its derivative is that of the symmetric reading)
    np.testing.assert_allclose(tinyad.jvp(tnp.linalg.cholesky, (SPD,), (V_NONSYM,))[1],
                               [[0.075, 0.0, 0.0], [-0.19375, 0.08856895746971807, 0.0],
                                [0.665625, -0.10071506788481095, -0.4616182675263361]], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(tinyad.vjp(tnp.linalg.cholesky, SPD)[1](U_LOWER)[0],
                               [[0.1911901963371283, 0.25647506791420865, -0.04247170652544357],
                                [0.25647506791420865, -0.5882786975748948, 0.12475685183612008],
                                [-0.04247170652544357, 0.12475685183612008, 0.2902599485313084]], rtol=1e-12)


def test_cholesky_upper_and_eigh_upper_triangle_read_as_numpy():
    np.testing.assert_allclose(tnp.linalg.cholesky(SPD, upper=True), np.linalg.cholesky(SPD, upper=True), rtol=1e-14)
    lower_only = np.tril(SPD) + np.triu(RNG.standard_normal((3, 3)), 1)
    for uplo in ("L", "U"):
        x = lower_only if uplo == "L" else lower_only.T
        for ours, theirs in zip(tnp.linalg.eigh(x, uplo), np.linalg.eigh(x, uplo)):
            np.testing.assert_allclose(np.abs(ours), np.abs(theirs), rtol=1e-13)
        np.testing.assert_allclose(tnp.linalg.eigvalsh(x, uplo), np.linalg.eigvalsh(x, uplo), rtol=1e-13)
    check_grads(lambda x: tnp.linalg.cholesky(x @ x.T + 3.0 * np.eye(3), upper=True), (A3,), order=2)


# ---- solve: NumPy's broadcasting of right-hand sides -------------------------------------------------------------
@pytest.mark.parametrize("b_shape", [(3,), (3, 2), (2, 3, 2), (1, 3, 2)])
def test_solve_with_a_batch_of_matrices_reads_b_as_numpy_does(b_shape):
    """A 1-d b is one right-hand side for every matrix of the batch (this crashed in the derivative of a)."""
    a = RNG.standard_normal((2, 3, 3)) + 3.0 * np.eye(3)
    b = RNG.standard_normal(b_shape)
    np.testing.assert_allclose(tnp.linalg.solve(a, b), np.linalg.solve(a, b), rtol=1e-13)
    check_grads(tnp.linalg.solve, (a, b), order=2)
    for jac in (tinyad.jacfwd, tinyad.jacrev):
        assert jac(tnp.linalg.solve, argnums=(0, 1))(a, b)[1].shape == np.linalg.solve(a, b).shape + b_shape


# ---- the rest of tinyad.numpy.linalg ---------------------------------------------------------------------------
def test_matrix_power_multi_dot_cond_rank_equal_numpy():
    for n in (-3, -1, 0, 1, 2, 5):
        np.testing.assert_allclose(tnp.linalg.matrix_power(A3, n), np.linalg.matrix_power(A3, n), rtol=1e-12)
        if n:
            check_grads(lambda x: tnp.linalg.matrix_power(x, n), (A3,), order=2)
    v = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(tnp.linalg.multi_dot([v, A3, A3.T, v]), np.linalg.multi_dot([v, A3, A3.T, v]))
    check_grads(lambda x: tnp.linalg.multi_dot([x, x.T, x]), (TALL,), order=2)
    for p in (None, 2, -2, 1, -1, np.inf, "fro", "nuc"):
        np.testing.assert_allclose(tnp.linalg.cond(A3, p), np.linalg.cond(A3, p), rtol=1e-12)
    check_grads(tnp.linalg.cond, (A3,), order=2)
    assert tnp.linalg.matrix_rank(SINGULAR["rank2_3x3"][0]) == 2
    np.testing.assert_array_equal(tnp.linalg.matrix_transpose(BATCH), np.linalg.matrix_transpose(BATCH))


def test_complex_linalg_against_jax():
    """Complex inputs: the rules use conjugate transposes where the math has them (gradients from JAX)."""
    def f(x):
        c = x + 1j * x.T
        return (tnp.real(tnp.sum(tnp.linalg.inv(c) * np.arange(9.0).reshape(3, 3)))
                + tnp.abs(tnp.linalg.det(c)) + tnp.linalg.slogdet(c)[1] + tnp.sum(tnp.linalg.svdvals(c))
                + tnp.sum(tnp.abs(tnp.linalg.pinv(c[:, :2])) ** 2))

    def g(x):
        c = x + 1j * x.T
        w, _ = tnp.linalg.eigh(c + tnp.conj(c.T))
        lower = tnp.linalg.cholesky(c @ tnp.conj(c.T) + 3 * np.eye(3))
        _, r = tnp.linalg.qr(c)
        return (tnp.sum(w * np.array([1.0, 2, 3])) + tnp.sum(tnp.abs(lower) ** 2 * np.arange(9.0).reshape(3, 3))
                + tnp.sum(tnp.abs(r) * np.arange(9.0).reshape(3, 3)) + tnp.real(tnp.linalg.slogdet(c)[0]))

    np.testing.assert_allclose(tinyad.grad(f)(A3), [
        [1.8885848862304842, -6.887136404232193, 3.294117646966719],
        [8.091086578322775, -4.135298227442965, -18.8251468905872],
        [13.29972881798442, 6.251456210034634, -11.770609512755593]], rtol=1e-10)
    np.testing.assert_allclose(tinyad.grad(g)(A3), [
        [2.6470314077572428, -9.701579483616635, 6.3564182408244685],
        [7.5291855752948, 26.847027354864572, -61.63801013930325],
        [21.950259942068556, 8.47315687903523, 21.76527597937112]], rtol=1e-10)
    z = A3 + 1j * A3.T
    np.testing.assert_allclose(tnp.linalg.slogdet(z)[0], np.linalg.slogdet(z)[0], rtol=1e-14)
    check_grads(f, (A3,), order=2)
    check_grads(g, (A3,), order=2)


def test_pinv_and_lstsq_whose_cut_off_drops_a_nonzero_singular_value():
    # a truncated pseudo-inverse of a full-rank matrix: its derivative is the truncated SVD's, not Golub-Pereyra's
    # (which holds only for a matrix of that rank); expected values from JAX's lstsq and central differences
    a = np.array([[3.0, 0.0], [0.0, 1.0], [1.0, 1.0]])  # singular values 3.18, 1.37: rcond=0.5 drops the second
    e = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    h = 1e-6
    fd = (np.linalg.pinv(a + h * e, rcond=0.5) - np.linalg.pinv(a - h * e, rcond=0.5)) / (2 * h)
    np.testing.assert_allclose(tinyad.jvp(lambda m: tnp.linalg.pinv(m, rcond=0.5), (a,), (e,))[1], fd, atol=1e-8)
    _, t = tinyad.jvp(lambda m: tnp.linalg.lstsq(m, np.array([1.0, 2.0, 3.0]), rcond=0.5)[0], (a,), (e,))
    np.testing.assert_allclose(t, [0.30274911, 0.34480318], rtol=1e-7)  # JAX
    check_grads(lambda m: tnp.linalg.pinv(m, rcond=0.5), (np.stack([a, 2.0 * a + 0.1]),), order=2)


def test_pinv_of_a_hermitian_matrix_reads_it_symmetrically():
    a, e = np.array([[2.0, 1.0], [1.0, 3.0]]), np.array([[0.0, 1.0], [0.0, 0.0]])
    _, t = tinyad.jvp(lambda m: tnp.linalg.pinv(m, hermitian=True), (a,), (e,))
    np.testing.assert_allclose(t, [[0.12, -0.14], [-0.14, 0.08]], atol=1e-12)  # JAX
