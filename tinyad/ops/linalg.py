"""Linear-algebra primitives: inv, det, log|det|, solve, cholesky, eigh, pinv (batched over leading axes).

Each writes its JVP only — the standard results (Giles 2008, "Extended collection of matrix derivative
results"; Murray 2016 for the Cholesky factor), in tinyad ops — and gets its VJP by transposing that JVP
(:func:`tinyad.core.reverse.transposed_jvps`): the math is written once, and the cost of the derived rule is
small next to the factorisation. ``eigh`` is one primitive returning w and V packed as (..., n + 1, n), so
that its rules see both; ``tinyad.numpy.linalg.eigh`` unpacks them by indexing.
"""

from __future__ import annotations

import numpy as np

from ..core.primitive import builtin, ndim_of, shape_of
from ..core.reverse import transposed_jvps
from ..core.vspace import concatenate, getitem, reshape, sum, swap_last
from .contractions import matmul
from .elementwise import multiply, negative, where


def _T(a):
    return swap_last(a)


def _linalg(impl, name: str, jvp_a, *more_jvps):
    """A linear-algebra primitive from its JVP rules; the VJPs are their transposes."""
    prim = builtin(impl, name).defjvp(jvp_a, *more_jvps)
    return prim.defvjp(*transposed_jvps(prim))


# ---- inverse, determinants ---------------------------------------------------------------------------
inv = _linalg(np.linalg.inv, "inv", lambda g, ans, a: negative(matmul(matmul(ans, g), ans)))
det = _linalg(np.linalg.det, "det", lambda g, ans, a: ans * sum(_T(inv(a)) * g, axis=(-2, -1)))


def _logabsdet(a):
    return np.linalg.slogdet(a)[1]


def _det_sign(a):
    return np.linalg.slogdet(a)[0]


det_sign = builtin(_det_sign, "det_sign", nondiff=True)  # slogdet's sign: a constant (-1, 0, 1)


logabsdet = _linalg(_logabsdet, "logabsdet", lambda g, ans, a: sum(_T(inv(a)) * g, axis=(-2, -1)))


# ---- solve ---------------------------------------------------------------------------------------------
def _as_columns(b, a):
    """b as a matrix of right-hand sides: (n,) -> (n, 1), as NumPy's solve reads a 1-d b."""
    return reshape(b, shape_of(b) + (1,)) if ndim_of(b) == 1 else b


solve = _linalg(np.linalg.solve, "solve",
                lambda g, ans, a, b: negative(reshape(solve(a, matmul(g, _as_columns(ans, a))), shape_of(ans))),
                lambda g, ans, a, b: solve(a, g))
# Transposing solve(a, .) needs solve's own VJP for b, so that one is written out: solve(a^T, .).
solve.defvjp(solve.vjps[0], lambda g, ans, a, b: solve(_T(a), g))


# ---- cholesky ------------------------------------------------------------------------------------------
def _phi(x):
    """Lower triangle with half the diagonal."""
    n = shape_of(x)[-1]
    return multiply(x, np.tril(np.ones((n, n))) - 0.5 * np.eye(n))


def _cholesky_jvp(g, ans, a):
    """dL = L phi(L^-1 sym(dA) L^-T). NumPy reads only the lower triangle of A, so A is taken as symmetric
    and so is its tangent (symmetrised), which makes the JVP and its transpose, the VJP, agree."""
    li = inv(ans)
    return matmul(ans, _phi(matmul(matmul(li, _sym(g)), _T(li))))


def _sym(g):
    return 0.5 * (g + _T(g))


cholesky = _linalg(np.linalg.cholesky, "cholesky", _cholesky_jvp)


# ---- symmetric eigendecomposition ------------------------------------------------------------------------
def _eigh_packed(a):
    w, v = np.linalg.eigh(a)
    return np.concatenate([w[..., None, :], v], axis=-2)


def _unpack(p):
    return getitem(p, idx=(Ellipsis, 0, slice(None))), getitem(p, idx=(Ellipsis, slice(1, None), slice(None)))


def _f_matrix(w):
    """F_ij = 1 / (w_j - w_i) off the diagonal, 0 on it, in tinyad ops (it is differentiated at second
    order). Eigenvalues must be distinct."""
    n = shape_of(w)[-1]
    off = ~np.eye(n, dtype=bool)
    diff = reshape(w, shape_of(w)[:-1] + (1, n)) - reshape(w, shape_of(w) + (1,))
    return where(off, 1.0 / where(off, diff, 1.0), 0.0)


def _eigh_jvp(g, ans, a):
    w, v = _unpack(ans)
    f = _f_matrix(w)
    at = matmul(matmul(_T(v), _sym(g)), v)
    n = shape_of(a)[-1]
    dw = sum(at * np.eye(n), axis=-1)
    dv = matmul(v, multiply(f, at))
    return concatenate(reshape(dw, shape_of(dw)[:-1] + (1, n)), dv, axis=-2)


eigh_packed = _linalg(_eigh_packed, "eigh", _eigh_jvp)


# ---- pseudo-inverse (Golub & Pereyra) ---------------------------------------------------------------------
def _projections(a, p):
    """(I - A A+, I - A+ A): the projectors onto the complements of A's range and of A+'s range."""
    m, n = shape_of(a)[-2:]
    return np.eye(m) - matmul(a, p), np.eye(n) - matmul(p, a)


def _pinv_jvp(g, ans, a):
    p = ans
    q, r = _projections(a, p)
    return (negative(matmul(matmul(p, g), p)) + matmul(matmul(matmul(p, _T(p)), _T(g)), q)
            + matmul(matmul(r, _T(g)), matmul(_T(p), p)))


pinv = _linalg(np.linalg.pinv, "pinv", _pinv_jvp)
