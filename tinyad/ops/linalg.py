"""Linear-algebra primitives: inv, det, log|det|, solve, cholesky, eigh, eigvalsh, svd, svdvals, qr, pinv
(batched over leading axes; real or complex).

Each writes its JVP only — the standard results (Giles 2008, "Extended collection of matrix derivative
results"; Murray 2016 for the Cholesky factor; Townsend 2016 for the SVD; Walter & Lehmann 2018 for QR),
in tinyad ops — and gets its VJP by transposing that JVP (:func:`tinyad.core.reverse.transposed_jvps`):
the math is written once, and the cost of the derived rule is small next to the factorisation. Complex
matrices follow JAX's convention (a cotangent c of z means dL = Re(sum(c dz))): the rules use conjugate
transposes ``_H`` where the math has them, and the transposition takes care of the rest.

Decompositions with several outputs are one primitive returning them packed in one array (eigh: w over
V as (..., n + 1, n); svd: U over s over V; qr: Q over R), so that the rules see all of them;
``tinyad.numpy.linalg`` unpacks them by indexing. The values alone (eigvalsh, svdvals) are primitives of
their own: their JVPs do not divide by eigenvalue or singular-value gaps, so they stay finite where values
repeat (the identity matrix) — the packed rule's gap terms would turn the zero cotangent of unused
eigenvectors into 0 * inf = NaN there.
"""

from __future__ import annotations

import numpy as np

from ..core.primitive import builtin, is_complex, ndim_of, shape_of
from ..core.reverse import transposed_jvps
from ..core.vspace import concatenate, getitem, real, reshape, sum, swap_last, unbroadcast
from .contractions import matmul
from .elementwise import conj, multiply, negative, square, where


def _T(a):
    return swap_last(a)


def _H(a):
    """The conjugate transpose of (a batch of) matrices; the transpose for real ones."""
    return conj(swap_last(a)) if is_complex(a) else swap_last(a)


def _diagonal(x):
    """The diagonal of (a batch of) square matrices, in tinyad ops."""
    return sum(x * np.eye(shape_of(x)[-1]), axis=-1)


def _row(v):
    """(..., k) -> (..., 1, k): a vector that scales the columns of a matrix it multiplies."""
    return reshape(v, shape_of(v)[:-1] + (1, shape_of(v)[-1]))


def _linalg(impl, name: str, jvp_a, *more_jvps, batched: bool = False):
    """A linear-algebra primitive from its JVP rules; the VJPs are their transposes. ``batched``: the rules
    broadcast over a leading axis of k tangent directions as written (they only multiply the tangent by
    matrices from the right and elementwise), so k directions cost one pass."""
    prim = builtin(impl, name).defjvp(jvp_a, *more_jvps)
    if batched:
        prim.defjvp_batched(jvp_a, *more_jvps)
    return prim.defvjp(*transposed_jvps(prim))


# ---- inverse, determinants ---------------------------------------------------------------------------
inv = _linalg(np.linalg.inv, "inv", lambda g, ans, a: negative(matmul(matmul(ans, g), ans)))

_RCOND_FAST = 1e-6  # det * inv^T loses about cond(a) * eps of its accuracy: above this 1/cond, ~1e-10 at worst


def _minor_index(n: int) -> tuple:
    """The index taking (..., n, n) to (..., n, n, n - 1, n - 1): the matrix without row i and column j."""
    keep = np.array([[j for j in range(n) if j != i] for i in range(n)], dtype=np.intp).reshape(n, max(n - 1, 0))
    return (Ellipsis, keep[:, None, :, None], keep[None, :, None, :])


def _signs(n: int) -> np.ndarray:
    return (-1.0) ** np.add.outer(np.arange(n), np.arange(n))


def _cofactors(a):
    """The cofactor matrix of plain a. Well-conditioned a (the common case) takes one factorisation:
    det(a) inv(a)^T. Near-singular a, where inv(a) is inaccurate or does not exist, takes the n^2 minors'
    determinants (exact at singular a). The two are the same analytic function of a, so switching on the
    conditioning of the value is safe; it happens here, on plain arrays, so that no derivative rule reads a
    value (a jitted program replays the rules on new values)."""
    a = np.asarray(a)
    n = a.shape[-1]
    if a.size == 0 or n == 1:
        return np.ones_like(a)  # the 1x1 cofactor is det of the empty minor: 1
    s = np.linalg.svd(a, compute_uv=False) if np.all(np.isfinite(a)) else None
    if s is None or np.all(s[..., -1] > _RCOND_FAST * s[..., 0]):
        return np.linalg.det(a)[..., None, None] * np.swapaxes(np.linalg.inv(a), -1, -2)
    return _signs(n) * np.linalg.det(a[_minor_index(n)])


def _cofactors_jvp(g, ans, a):
    """dC_ij = (-1)^(i+j) d det(M_ij) = (-1)^(i+j) sum(C(M_ij) * dM_ij), M_ij a's minor: the same rule one
    size down (so second derivatives of det are right at rank-deficient matrices too)."""
    n = shape_of(a)[-1]
    if n <= 1:
        return g * 0.0
    idx = _minor_index(n)
    return _signs(n) * sum(cofactors(getitem(a, idx=idx)) * getitem(g, idx=idx), axis=(-2, -1))


cofactors = _linalg(_cofactors, "cofactors", _cofactors_jvp, batched=True)
cofactors.__doc__ = """C_ij = (-1)^(i+j) det(a without row i and column j) (the transposed adjugate), so that
d det(a) = sum(C * da) at every a, singular or not."""

det = _linalg(np.linalg.det, "det", lambda g, ans, a: sum(cofactors(a) * g, axis=(-2, -1)), batched=True)


def _inverse_transpose(a):
    """inv(a)^T; at an exactly singular a (where inv raises) C / det(a): inf, and NaN where C is 0, as JAX's
    derivative of log|det a| has it there."""
    try:
        return np.swapaxes(np.linalg.inv(a), -1, -2)
    except np.linalg.LinAlgError:
        with np.errstate(divide="ignore", invalid="ignore"):
            return _cofactors(a) / np.linalg.det(a)[..., None, None]


# d(a^-T) = -a^-T da^T a^-T
inverse_transpose = _linalg(_inverse_transpose, "inverse_transpose",
                            lambda g, ans, a: negative(matmul(matmul(ans, _T(g)), ans)), batched=True)


def _logabsdet(a):
    return np.linalg.slogdet(a)[1]


def _det_sign(a):
    return np.linalg.slogdet(a)[0]


det_sign = builtin(_det_sign, "det_sign", nondiff=True)  # slogdet's sign: a constant (-1, 0, 1)


def _logabsdet_jvp(g, ans, a):
    """d log|det a| = Re(tr(a^-1 da)) = Re(sum(a^-T * da)) — inv(a)^T, not C / det(a): the determinant over- or
    underflows where log|det| does not. At a singular a the gradient is C / 0 (as JAX's); a JVP along a direction
    with zeros where C / 0 is infinite is NaN (0 * inf) where JAX's LU-based rule may give inf."""
    t = sum(inverse_transpose(a) * g, axis=(-2, -1))
    return real(t) if is_complex(t) else t


logabsdet = _linalg(_logabsdet, "logabsdet", _logabsdet_jvp, batched=True)


# ---- solve ---------------------------------------------------------------------------------------------
def _columns(x, b):
    """``x`` (the solution, or a tangent or cotangent of it) as a stack of column matrices: NumPy reads a 1-d b
    as one right-hand side, also for a batch of matrices a (x is then (..., n))."""
    return reshape(x, shape_of(x) + (1,)) if ndim_of(b) == 1 else x


def _solve_jvp_a(g, ans, a, b):
    """dx = -a^-1 da x."""
    return reshape(negative(solve(a, matmul(g, _columns(ans, b)))), shape_of(ans))


def _solve_vjp_b(g, ans, a, b):
    """The transpose of db -> a^-1 db: a^-T g, summed over the batch axes b was broadcast along."""
    c = solve(_T(a), _columns(g, b))
    if ndim_of(b) == 1:
        c = reshape(c, shape_of(c)[:-1])
    return unbroadcast(c, shape_of(b))


solve = _linalg(np.linalg.solve, "solve", _solve_jvp_a, lambda g, ans, a, b: solve(a, g))
# Transposing solve(a, .) needs solve's own VJP for b, so that one is written out.
solve.defvjp(solve.vjps[0], _solve_vjp_b)


# ---- cholesky ------------------------------------------------------------------------------------------
def _phi(x):
    """Lower triangle with half the diagonal."""
    n = shape_of(x)[-1]
    return multiply(x, np.tril(np.ones((n, n))) - 0.5 * np.eye(n))


def _cholesky_jvp(g, ans, a):
    """dL = L phi(L^-1 sym(dA) L^-H). NumPy reads only the lower triangle of A, so A is taken as symmetric
    (Hermitian) and so is its tangent (symmetrised, as JAX's cholesky symmetrises its input), which makes
    the JVP and its transpose, the VJP, agree."""
    li = inv(ans)
    return matmul(ans, _phi(matmul(matmul(li, _sym(g)), _H(li))))


def _sym(g):
    return 0.5 * (g + _H(g))


cholesky = _linalg(np.linalg.cholesky, "cholesky", _cholesky_jvp)


# ---- symmetric eigendecomposition ------------------------------------------------------------------------
def _eigh_packed(a):
    w, v = np.linalg.eigh(a)
    return np.concatenate([w[..., None, :].astype(v.dtype), v], axis=-2)


def unpack_eigh(p):
    """(w, V) from eigh's packed output (w real, as NumPy gives it, also for a Hermitian input)."""
    w = getitem(p, idx=(Ellipsis, 0, slice(None)))
    return real(w) if is_complex(w) else w, getitem(p, idx=(Ellipsis, slice(1, None), slice(None)))


def _f_matrix(w):
    """F_ij = 1 / (w_j - w_i) off the diagonal, 0 on it, in tinyad ops (it is differentiated at second
    order). Infinite where values repeat: the eigenvectors' derivative does not exist there."""
    n = shape_of(w)[-1]
    off = ~np.eye(n, dtype=bool)
    diff = _row(w) - reshape(w, shape_of(w) + (1,))
    return where(off, 1.0 / where(off, diff, 1.0), 0.0)


def _eigh_jvp(g, ans, a):
    w, v = unpack_eigh(ans)
    at = matmul(matmul(_H(v), _sym(g)), v)
    dw = real(_diagonal(at)) if is_complex(at) else _diagonal(at)
    dv = matmul(v, multiply(_f_matrix(w), at))
    return concatenate(_row(dw), dv, axis=-2)


eigh_packed = _linalg(_eigh_packed, "eigh", _eigh_jvp)


def _eigvalsh(a):
    return np.linalg.eigvalsh(a)


def _eigvalsh_jvp(g, ans, a):
    """dw_i = v_i^H sym(dA) v_i: no eigenvalue gaps, so finite where eigenvalues repeat (for a sum of them
    it is then the derivative; one of several equal eigenvalues has none, and this picks NumPy's basis)."""
    _, v = unpack_eigh(eigh_packed(a))
    dw = sum(conj(v) * matmul(_sym(g), v), axis=-2)
    return real(dw) if is_complex(dw) else dw


eigvalsh = _linalg(_eigvalsh, "eigvalsh", _eigvalsh_jvp, batched=True)


# ---- singular value decomposition ---------------------------------------------------------------------------
def _svd_packed(a):
    """a = U diag(s) V^H (reduced), packed as U over s over V: (..., m + 1 + n, k), k = min(m, n)."""
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return np.concatenate([u, s[..., None, :].astype(u.dtype), np.conj(np.swapaxes(vh, -1, -2))], axis=-2)


def unpack_svd(p, m: int):
    """(U, s, V) from svd's packed output, for an input with m rows."""
    u = getitem(p, idx=(Ellipsis, slice(0, m), slice(None)))
    s = getitem(p, idx=(Ellipsis, m, slice(None)))
    v = getitem(p, idx=(Ellipsis, slice(m + 1, None), slice(None)))
    return u, (real(s) if is_complex(s) else s), v


def _svd_jvp(g, ans, a):
    """Townsend (2016), as JAX writes it: with dP = U^H dA V and F_ij = 1 / (s_j^2 - s_i^2),
    ds = Re diag(dP), dU = U (F o (dP S + S dP^H)) + (I - U U^H) dA V S^-1, and dV likewise with dA^H.
    Needs distinct singular values (and nonzero ones where m != n) — as the derivative of U and V does."""
    m, n = shape_of(a)[-2:]
    u, s, v = unpack_svd(ans, m)
    k = shape_of(s)[-1]
    dp = matmul(matmul(_H(u), g), v)
    ds = real(_diagonal(dp)) if is_complex(dp) else _diagonal(dp)
    srow = _row(s)
    f = _f_matrix(square(s))
    dps = dp * srow  # dP S
    sdp = _T(srow) * dp  # S dP
    du = matmul(u, f * (dps + _H(dps)))
    dv = matmul(v, f * (sdp + _H(sdp)))
    if is_complex(dp):  # the phases of U's columns: i Im(diag(dP)) / s
        du = du + matmul(u, 0.5 * (dp - _H(dp)) * (np.eye(k) / srow))
    if m > k:
        dav = matmul(g, v)
        du = du + (dav - matmul(u, matmul(_H(u), dav))) / srow
    if n > k:
        dahu = matmul(_H(g), u)
        dv = dv + (dahu - matmul(v, matmul(_H(v), dahu))) / srow
    return concatenate(du, _row(ds), dv, axis=-2)


svd_packed = _linalg(_svd_packed, "svd", _svd_jvp)


def _svdvals(a):
    return np.linalg.svd(a, compute_uv=False)


def _svdvals_jvp(g, ans, a):
    """ds_i = Re(u_i^H dA v_i): no singular-value gaps, so finite where singular values repeat (a sum of
    them, such as the nuclear norm, is then differentiable); needs s_i > 0 (|.| has a kink at 0)."""
    u, _, v = unpack_svd(svd_packed(a), shape_of(a)[-2])
    ds = sum(conj(u) * matmul(g, v), axis=-2)
    return real(ds) if is_complex(ds) else ds


svdvals = _linalg(_svdvals, "svdvals", _svdvals_jvp, batched=True)


# ---- QR (reduced, m >= n; tinyad.numpy.linalg.qr reduces m < n to this) ---------------------------------------
def _qr_packed(a):
    """a = Q R with Q (..., m, n), R (..., n, n), packed as Q over R: (..., m + n, n)."""
    if shape_of(a)[-2] < shape_of(a)[-1]:
        raise ValueError(f"the qr primitive takes matrices with at least as many rows as columns, got {np.shape(a)}")
    q, r = np.linalg.qr(a)
    return np.concatenate([q, r], axis=-2)


def unpack_qr(p, m: int):
    return getitem(p, idx=(Ellipsis, slice(0, m), slice(None))), getitem(p, idx=(Ellipsis, slice(m, None), slice(None)))


def _qr_jvp(g, ans, a):
    """Walter & Lehmann (2018), as JAX writes it: with C = Q^H dA R^-1 and its strictly lower part L,
    dO = L - L^H (+ i Im diag(C) for complex input), dQ = Q (dO - C) + dA R^-1, dR = (C - dO) R."""
    m, n = shape_of(a)[-2:]
    q, r = unpack_qr(ans, m)
    da_rinv = matmul(g, inv(r))
    c = matmul(_H(q), da_rinv)
    low = c * np.tril(np.ones((n, n)), -1)
    do = low - _H(low)
    if is_complex(c):
        do = do + np.eye(n) * (c - real(c))
    dq = matmul(q, do - c) + da_rinv
    dr = matmul(c - do, r)
    return concatenate(dq, dr, axis=-2)


qr_packed = _linalg(_qr_packed, "qr", _qr_jvp)


# ---- pseudo-inverse (Golub & Pereyra) ---------------------------------------------------------------------
def _pinv(a, *, rcond=1e-15, hermitian=False):
    return np.linalg.pinv(a, rcond=rcond, hermitian=hermitian)


def _projections(a, p):
    """(I - A A+, I - A+ A): the projectors onto the complements of A's range and of A+'s range."""
    m, n = shape_of(a)[-2:]
    return np.eye(m) - matmul(a, p), np.eye(n) - matmul(p, a)


def _pinv_jvp(g, ans, a, rcond=1e-15, hermitian=False):
    """dA+ = -A+ dA A+ + A+ A+^H dA^H (I - A A+) + (I - A+ A) dA^H A+^H A+ (constant rank)."""
    p = ans
    q, r = _projections(a, p)
    return (negative(matmul(matmul(p, g), p)) + matmul(matmul(matmul(p, _H(p)), _H(g)), q)
            + matmul(matmul(r, _H(g)), matmul(_H(p), p)))


pinv = _linalg(_pinv, "pinv", _pinv_jvp)
