"""Linear-algebra primitives: inv, det, log|det|, solve, cholesky, eigh, pinv (batched over leading axes).

Rules follow the standard results (Giles 2008, "Extended collection of matrix derivative results"; Murray
2016 for the Cholesky factor), written in tinyad ops. ``eigh`` is one primitive returning w and V packed as
(..., n + 1, n), so that its rules see both; ``tinyad.numpy.linalg.eigh`` unpacks them by indexing.
"""

from __future__ import annotations

import numpy as np

from ..primitive import Primitive, ndim_of, shape_of
from .elementwise import multiply, negative, where
from .linalg import _swap_last, matmul
from .reductions import sum as _sum
from .shapes import concatenate, getitem, reshape


def _T(a):
    return _swap_last(a)


def _expand2(g):
    """A batch of scalars (...,) -> (..., 1, 1), to scale a batch of matrices."""
    return reshape(g, shape_of(g) + (1, 1))


# ---- inverse, determinants ---------------------------------------------------------------------------
inv = Primitive(np.linalg.inv, "inv")
inv.defjvp(lambda g, ans, a: negative(matmul(matmul(ans, g), ans)))
inv.defvjp(lambda g, ans, a: negative(matmul(matmul(_T(ans), g), _T(ans))))

det = Primitive(np.linalg.det, "det")
det.defjvp(lambda g, ans, a: ans * _sum(_T(inv(a)) * g, axis=(-2, -1)))
det.defvjp(lambda g, ans, a: _expand2(g * ans) * _T(inv(a)))


def _logabsdet(a):
    return np.linalg.slogdet(a)[1]


logabsdet = Primitive(_logabsdet, "logabsdet")
logabsdet.defjvp(lambda g, ans, a: _sum(_T(inv(a)) * g, axis=(-2, -1)))
logabsdet.defvjp(lambda g, ans, a: _expand2(g) * _T(inv(a)))


# ---- solve ---------------------------------------------------------------------------------------------
def _as_columns(b, a):
    """b as a matrix of right-hand sides: (n,) -> (n, 1), as NumPy's solve reads a 1-d b."""
    return reshape(b, shape_of(b) + (1,)) if ndim_of(b) == 1 else b


def _solve_vjp_a(g, ans, a, b):
    gb = solve(_T(a), g)
    return negative(matmul(_as_columns(gb, a), _T(_as_columns(ans, a))))


solve = Primitive(np.linalg.solve, "solve")
solve.defjvp(lambda g, ans, a, b: negative(reshape(solve(a, matmul(g, _as_columns(ans, a))), shape_of(ans))),
             lambda g, ans, a, b: solve(a, g))
solve.defvjp(_solve_vjp_a, lambda g, ans, a, b: solve(_T(a), g))


# ---- cholesky ------------------------------------------------------------------------------------------
def _phi(x):
    """Lower triangle with half the diagonal."""
    n = shape_of(x)[-1]
    return multiply(x, np.tril(np.ones((n, n))) - 0.5 * np.eye(n))


def _cholesky_jvp(g, ans, a):
    li = inv(ans)
    return matmul(ans, _phi(matmul(matmul(li, g), _T(li))))


def _cholesky_vjp(g, ans, a):
    li = inv(ans)
    s = matmul(matmul(_T(li), _phi(matmul(_T(ans), g))), li)
    return 0.5 * (s + _T(s))  # A is symmetric: its cotangent is too


cholesky = Primitive(np.linalg.cholesky, "cholesky")
cholesky.defjvp(_cholesky_jvp)
cholesky.defvjp(_cholesky_vjp)


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
    at = matmul(matmul(_T(v), 0.5 * (g + _T(g))), v)
    n = shape_of(a)[-1]
    dw = _sum(at * np.eye(n), axis=-1)
    dv = matmul(v, multiply(f, at))
    return concatenate(reshape(dw, shape_of(dw)[:-1] + (1, n)), dv, axis=-2)


def _eigh_vjp(g, ans, a):
    w, v = _unpack(ans)
    gw, gv = _unpack(g)
    f = _f_matrix(w)
    n = shape_of(a)[-1]
    inner = reshape(gw, shape_of(gw)[:-1] + (1, n)) * np.eye(n) + multiply(f, matmul(_T(v), gv))
    s = matmul(matmul(v, inner), _T(v))
    return 0.5 * (s + _T(s))


eigh_packed = Primitive(_eigh_packed, "eigh")
eigh_packed.defjvp(_eigh_jvp)
eigh_packed.defvjp(_eigh_vjp)


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


def _pinv_vjp(g, ans, a):
    p = ans
    q, r = _projections(a, p)
    return (negative(matmul(matmul(_T(p), g), _T(p))) + matmul(matmul(q, _T(g)), matmul(p, _T(p)))
            + matmul(matmul(matmul(_T(p), p), _T(g)), r))


pinv = Primitive(np.linalg.pinv, "pinv")
pinv.defjvp(_pinv_jvp)
pinv.defvjp(_pinv_vjp)


