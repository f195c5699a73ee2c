"""``tinyad.numpy.linalg``: differentiable inv, det, slogdet, solve, cholesky, eigh, eigvalsh, svd, svdvals,
qr, pinv, lstsq, norm (every order NumPy has), matrix_norm, vector_norm, cond, matrix_power, multi_dot,
matrix_transpose; matrix_rank (a constant).

Matrices may carry leading batch axes (lstsq: one matrix, as NumPy). Arguments follow NumPy's signatures
and results its types (named tuples with NumPy's field names). ``eigh`` and ``cholesky`` treat their input
as symmetric (Hermitian), as NumPy does by reading one triangle; the derivative of eigenvectors and of
singular vectors needs distinct eigenvalues / singular values, while eigenvalues and singular values alone
(``eigvalsh``, ``svdvals``, ``eigh(a)[0]``, ``svd(a)[1]``, the 2-, -2- and nuclear norms) are
differentiable where they repeat too. Options whose derivative is not defined (``svd(full_matrices=True)``
of a non-square matrix, ``qr(mode='complete')`` of a tall one) are refused under differentiation with a
message saying what to use; on plain arrays they return NumPy's result.
"""

from __future__ import annotations

from typing import Any as _Any
from typing import NamedTuple as _NamedTuple

import numpy as _np

from ..core.primitive import is_complex as _is_complex
from ..core.primitive import ndim_of as _ndim_of
from ..core.primitive import shape_of as _shape_of
from ..core.trace import Box as _Box
from ..core.trace import innermost as _innermost
from ..core.trace import strip as _strip
from ..core.vspace import getitem as _getitem
from ..core.vspace import reshape as _reshape
from ..core.vspace import swap_last as _swap_last
from ..core.vspace import transpose as _transpose
from ..ops import linalg as _p
from ..ops.contractions import matmul as _matmul
from ..ops.elementwise import abs as _abs
from ..ops.elementwise import conj as _conj
from ..ops.elementwise import divide as _divide
from ..ops.elementwise import real as _real
from ..ops.elementwise import sqrt as _sqrt
from ..ops.elementwise import where as _where
from ..ops.linalg import det, inv  # noqa: F401
from ..ops.nondiff import greater as _greater
from ..ops.nondiff import not_equal as _not_equal
from .reductions import max as _max
from .reductions import min as _min
from .reductions import sum as _sum
from .shaping import concatenate as _concatenate
from .shaping import expand_dims as _expand_dims
from .shaping import moveaxis as _moveaxis

LinAlgError = _np.linalg.LinAlgError


class SlogdetResult(_NamedTuple):
    sign: _Any
    logabsdet: _Any


class EighResult(_NamedTuple):
    eigenvalues: _Any
    eigenvectors: _Any


class SVDResult(_NamedTuple):
    U: _Any
    S: _Any
    Vh: _Any


class QRResult(_NamedTuple):
    Q: _Any
    R: _Any


def _array(x: _Any) -> _Any:
    """A box or an ndarray as it is; anything else NumPy takes (lists, scalars) as an ndarray."""
    return x if isinstance(x, (_Box, _np.ndarray)) else _np.asarray(x)


def _H(a: _Any) -> _Any:
    return _conj(_swap_last(a)) if _is_complex(a) else _swap_last(a)


def _refuse(what: str, instead: str) -> NotImplementedError:
    return NotImplementedError(f"tinyad.numpy.linalg: {what} has no unique derivative, so it is not supported under "
                               f"differentiation; {instead}")


# ---- solve, determinants, inverses ------------------------------------------------------------------------
def solve(a: _Any, b: _Any) -> _Any:
    return _p.solve(_array(a), _array(b))


def slogdet(a: _Any) -> SlogdetResult:
    """(sign, log|det a|). The log-determinant is differentiable (inf/NaN derivatives at a singular matrix,
    as in JAX); the sign is a constant for real matrices and det/|det| for complex ones."""
    a = _array(a)
    sign = _p.det_sign(a)
    if _is_complex(a) and isinstance(a, _Box):  # the phase of det(a) moves with a
        d = det(a)
        mag = _abs(d)
        nonzero = _greater(mag, 0.0)
        sign = _where(nonzero, d / _where(nonzero, mag, 1.0), sign)
    return SlogdetResult(sign, _p.logabsdet(a))


def pinv(a: _Any, rcond: _Any = None, hermitian: bool = False, *, rtol: _Any = _np._NoValue) -> _Any:
    """The pseudo-inverse, with NumPy's cut-off (``rcond``/``rtol``) for small singular values. Its derivative
    assumes the rank does not change nearby (Golub & Pereyra)."""
    a = _array(a)
    if rcond is None:
        if rtol is _np._NoValue:
            rcond = 1e-15
        elif rtol is None:
            rcond = max(_shape_of(a)[-2:]) * _np.finfo(_np.result_type(_innermost(a), 1.0)).eps
        else:
            rcond = rtol
    elif rtol is not _np._NoValue:
        raise ValueError("tinyad.numpy.linalg.pinv: `rtol` and `rcond` can't be both set")
    return _pinv(a, rcond if _np.ndim(rcond) else float(rcond), bool(hermitian))


def _pinv(a: _Any, rcond: _Any, hermitian: bool) -> _Any:
    """pinv with the right derivative in each case: Golub & Pereyra's rule where the cut-off drops only
    (numerically) zero singular values — the pseudo-inverse of a matrix of that rank — and the derivative of
    the truncated SVD where it drops nonzero ones (a truncated pseudo-inverse of a matrix of higher rank;
    it needs distinct kept singular values). A Hermitian matrix is read symmetrically (as eigh reads it)."""
    if not isinstance(a, _Box):
        return _np.linalg.pinv(a, rcond=rcond, hermitian=hermitian)
    if hermitian:  # the same value for a Hermitian input; the derivative of its Hermitian part, as JAX
        a = (a + _conj(_swap_last(a))) / 2.0
    value = _innermost(a)
    if not isinstance(value, _Box):  # (a value traced by jit: the rank rule)
        s = _np.linalg.svd(value, compute_uv=False)
        largest = s[..., :1]
        kept = s > _np.asarray(rcond)[..., None] * largest
        noise = max(_shape_of(a)[-2:]) * _np.finfo(_np.result_type(value, 1.0)).eps * largest
        if _np.any(~kept & (s > noise)):
            u, sv, v = _p.unpack_svd(_p.svd_packed(a), _shape_of(a)[-2])
            inv_s = _where(kept, 1.0 / _where(kept, sv, 1.0), 0.0)
            return _matmul(v * _expand_dims(inv_s, -2), _H(u))  # V diag(1/s) U^H over the kept s
    return _p.pinv(a, rcond=rcond, hermitian=hermitian)


def lstsq(a: _Any, b: _Any, rcond: _Any = None) -> tuple:
    """(x, residuals, rank, s) as NumPy returns them: x = pinv(a) b (the minimum-norm least-squares solution,
    differentiable in a and b at constant rank), residuals the squared 2-norms of the columns of b - a x
    (empty unless a has full column rank and more rows than columns), rank a constant, s = svdvals(a)."""
    a, b = _array(a), _array(b)
    if not isinstance(a, _Box) and not isinstance(b, _Box):
        return _np.linalg.lstsq(a, b, rcond=rcond)
    _, residuals, rank, _ = _np.linalg.lstsq(_innermost(a), _innermost(b), rcond=rcond)  # checks shapes
    m, n = _shape_of(a)[-2:]
    eps = _np.finfo(_np.result_type(_innermost(a), _innermost(b), 1.0)).eps
    cutoff = eps * max(m, n) if rcond is None else (eps if rcond < 0 else rcond)
    cols = _reshape(b, _shape_of(b) + (1,)) if _ndim_of(b) == 1 else b
    x = _matmul(_pinv(a, float(cutoff), False), cols)
    if _np.size(residuals):
        r = cols - _matmul(a, x)
        residuals = _sum(_real(r * _conj(r)) if _is_complex(r) else r * r, axis=0)
    return _reshape(x, (n,)) if _ndim_of(b) == 1 else x, residuals, rank, _p.svdvals(a)


def matrix_power(a: _Any, n: int) -> _Any:
    """a @ a @ ... (n times) by repeated squaring; n = 0 gives the identity, n < 0 powers of inv(a)."""
    a = _array(a)
    if not isinstance(n, (int, _np.integer)) or isinstance(n, bool):
        raise TypeError(f"tinyad.numpy.linalg.matrix_power: exponent must be an integer, got {n!r}")
    shp = _shape_of(a)
    if len(shp) < 2 or shp[-1] != shp[-2]:
        raise LinAlgError(f"tinyad.numpy.linalg.matrix_power: last 2 dimensions of the array must be square, got {shp}")
    if n == 0:
        return _np.broadcast_to(_np.eye(shp[-1], dtype=_np.result_type(_innermost(a))), shp).copy()
    if n < 0:
        a, n = inv(a), -n
    result = None
    while n:
        if n & 1:
            result = a if result is None else _matmul(result, a)
        n >>= 1
        if n:
            a = _matmul(a, a)
    return result


def multi_dot(arrays: _Any, *, out: _Any = None) -> _Any:
    """A chain of matmuls (a 1-d first or last array is a row or column vector, as NumPy)."""
    if out is not None:
        raise TypeError("tinyad.numpy.linalg.multi_dot: out= would write into an existing array; use the result")
    arrays = [_array(x) for x in arrays]
    if len(arrays) < 2:
        raise ValueError("tinyad.numpy.linalg.multi_dot: expecting at least two arrays")
    result = arrays[0]
    for x in arrays[1:]:
        result = _matmul(result, x)
    return result


def matrix_transpose(x: _Any, /) -> _Any:
    if _ndim_of(x) < 2:
        raise ValueError("tinyad.numpy.linalg.matrix_transpose: input must be at least 2-dimensional")
    return _swap_last(_array(x))


def matrix_rank(A: _Any, tol: _Any = None, hermitian: bool = False, *, rtol: _Any = None) -> _Any:  # noqa: N803
    """The rank (a constant: an integer has no derivative)."""
    return _np.linalg.matrix_rank(_strip(A), tol=_strip(tol), hermitian=hermitian, rtol=_strip(rtol))


# ---- decompositions -------------------------------------------------------------------------------------------
def cholesky(a: _Any, /, *, upper: bool = False) -> _Any:
    """The lower Cholesky factor L (a = L L^H), or its conjugate transpose with ``upper=True``."""
    low = _p.cholesky(_array(a))
    return _H(low) if upper else low


def _lower_reader(a: _Any, uplo: str) -> _Any:
    """NumPy reads one triangle of a Hermitian matrix; the upper one of ``a`` is the lower one of a^H."""
    if uplo not in ("L", "U"):
        raise ValueError(f"tinyad.numpy.linalg: UPLO argument must be 'L' or 'U', got {uplo!r}")
    return _H(a) if uplo == "U" else a


def eigh(a: _Any, UPLO: str = "L") -> EighResult:  # noqa: N803 - NumPy's name
    """(eigenvalues w ascending, eigenvectors V as columns) of a symmetric (Hermitian) matrix."""
    a = _lower_reader(_array(a), UPLO)
    w, v = _p.unpack_eigh(_p.eigh_packed(a))
    if isinstance(a, _Box):
        w = _p.eigvalsh(a)  # differentiable where eigenvalues repeat, unlike w through the packed rule
    return EighResult(w, v)


def eigvalsh(a: _Any, UPLO: str = "L") -> _Any:  # noqa: N803
    """The eigenvalues of a symmetric (Hermitian) matrix, ascending."""
    return _p.eigvalsh(_lower_reader(_array(a), UPLO))


def svd(a: _Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False) -> _Any:
    """(U, S, Vh) with a = U diag(S) Vh, or S alone with ``compute_uv=False``.

    Under differentiation the reduced factors are used: ``full_matrices=True`` is the same for square
    matrices and refused for others (the extra columns of U or V are any orthonormal completion)."""
    a = _array(a)
    if not compute_uv:
        return _p.svdvals(a)
    if not isinstance(a, _Box):
        return _np.linalg.svd(a, full_matrices=full_matrices, hermitian=hermitian)
    m, n = _shape_of(a)[-2:]
    if full_matrices and m != n:
        raise _refuse(f"svd(full_matrices=True) of a {m}x{n} matrix", "pass full_matrices=False (the reduced U, Vh)")
    if hermitian:
        raise NotImplementedError("tinyad.numpy.linalg.svd: hermitian=True is not supported under differentiation "
                                  "(NumPy's eigh-based path may choose other signs of the singular vectors); pass "
                                  "hermitian=False")
    u, _, v = _p.unpack_svd(_p.svd_packed(a), m)
    return SVDResult(u, _p.svdvals(a), _H(v))


def svdvals(x: _Any, /) -> _Any:
    """The singular values, descending."""
    return _p.svdvals(_array(x))


def qr(a: _Any, mode: str = "reduced") -> _Any:
    """(Q, R) with a = Q R (``mode='reduced'``, ``'complete'``), or R alone (``mode='r'``).

    A wide matrix (m < n) is A = [X | Y] with X square: Q R_X = X, and R = [R_X | Q^H Y] (as LAPACK's
    Householder QR gives it), so its derivative follows from the square case."""
    if mode not in ("reduced", "complete", "r", "raw"):
        raise ValueError(f"tinyad.numpy.linalg.qr: unrecognized mode {mode!r}")
    a = _array(a)
    if not isinstance(a, _Box):
        return _np.linalg.qr(a, mode=mode)
    m, n = _shape_of(a)[-2:]
    if mode == "raw":
        raise NotImplementedError("tinyad.numpy.linalg.qr: mode='raw' (Householder reflectors) is not supported under "
                                  "differentiation; use mode='reduced'")
    if mode == "complete" and m > n:
        raise _refuse(f"qr(mode='complete') of a {m}x{n} matrix", "use mode='reduced' (Q with n columns)")
    if m >= n:
        q, r = _p.unpack_qr(_p.qr_packed(a), m)
    else:
        q, r_x = _p.unpack_qr(_p.qr_packed(_getitem(a, idx=(Ellipsis, slice(None), slice(0, m)))), m)
        y = _getitem(a, idx=(Ellipsis, slice(None), slice(m, None)))
        r = _concatenate([r_x, _matmul(_H(q), y)], axis=-1)
    return r if mode == "r" else QRResult(q, r)


# ---- norms ----------------------------------------------------------------------------------------------------
def _dtype(x: _Any) -> _Any:
    return _np.result_type(_innermost(x))


def _abs2(x: _Any) -> _Any:
    return _real(x * _conj(x)) if _is_complex(x) else x * x


def _vector_norm(x: _Any, ord: _Any, axis: tuple, keepdims: bool) -> _Any:  # noqa: A002
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    if ord is None or ord == 2:
        return _sqrt(_sum(_abs2(x), axis=axis, keepdims=keepdims))
    if ord == _np.inf:
        if not _np.prod([_shape_of(x)[a] for a in axis]):  # NumPy: the largest of no entries is 0
            return _np.zeros(_np.sum(_np.zeros(_shape_of(x)), axis=axis, keepdims=keepdims).shape)
        return _max(_abs(x), axis=axis, keepdims=keepdims)
    if ord == -_np.inf:
        return _min(_abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:  # the number of nonzero entries: a constant
        return _sum(_not_equal(x, 0), axis=axis, keepdims=keepdims, dtype=_np.real(_np.zeros((), _dtype(x))).dtype)
    if ord == 1:
        return _sum(_abs(x), axis=axis, keepdims=keepdims)
    p = float(ord)
    return _sum(_abs(x) ** p, axis=axis, keepdims=keepdims) ** (1.0 / p)


def _matrix_norm(x: _Any, ord: _Any, row: int, col: int, keepdims: bool) -> _Any:  # noqa: A002
    if ord in (2, -2, "nuc"):
        s = _p.svdvals(_moveaxis(x, (row, col), (-2, -1)))
        if ord == 2:
            out = _max(s, axis=-1) if _shape_of(s)[-1] else _np.zeros(_shape_of(s)[:-1])
        elif ord == -2:
            out = _min(s, axis=-1)
        else:
            out = _sum(s, axis=-1)
    elif ord in (1, -1):  # the largest (smallest) column sum of |x|
        sums = _sum(_abs(x), axis=row)
        out = (_max if ord == 1 else _min)(sums, axis=col - 1 if col > row else col)
    elif ord in (_np.inf, -_np.inf):  # the largest (smallest) row sum
        sums = _sum(_abs(x), axis=col)
        out = (_max if ord == _np.inf else _min)(sums, axis=row - 1 if row > col else row)
    elif ord in (None, "fro", "f"):
        out = _sqrt(_sum(_abs2(x), axis=(row, col)))
    else:
        raise ValueError(f"Invalid norm order {ord!r} for matrices.")
    if keepdims:
        out = _reshape(out, tuple(1 if i in (row, col) else n for i, n in enumerate(_shape_of(x))))
    return out


def norm(x: _Any, ord: _Any = None, axis: _Any = None, keepdims: bool = False) -> _Any:  # noqa: A002
    """NumPy's ``linalg.norm``, every order: vector norms over one axis (or a 1-d input) — ord None/2, 1,
    inf, -inf, 0 (the count of nonzeros, a constant), any other p, negative too: sum(|x|^p)^(1/p); matrix
    norms over two axes (or a 2-d input) — 'fro'/None, 'nuc' (sum of singular values), 2 / -2 (largest /
    smallest singular value), 1 / -1 (largest / smallest column sum of |x|), inf / -inf (row sums).

    Derivatives at kinks follow JAX: the 2-norm of 0 has a NaN derivative (sqrt at 0 times 0), max/min ties
    split evenly, and |x|' = sign(x), 0 at 0 (see docs/numpy.md)."""
    x = _array(x)
    if _np.result_type(_innermost(x)).kind not in "fc":
        x = _np.asarray(x, dtype=float)
    nd = _ndim_of(x)
    if axis is None:
        if ord is None or (ord in ("f", "fro") and nd == 2) or (ord == 2 and nd == 1):
            out = _sqrt(_sum(_abs2(x)))
            return _reshape(out, (1,) * nd) if keepdims else out
        axis = tuple(range(nd))
    elif not isinstance(axis, tuple):
        try:
            axis = (int(axis),)
        except Exception as e:
            raise TypeError("'axis' must be None, an integer or a tuple of integers") from e
    if len(axis) == 1:
        return _vector_norm(x, ord, (_one_axis(axis[0], nd),), keepdims)
    if len(axis) == 2:
        row, col = (_one_axis(a, nd) for a in axis)
        if row == col:
            raise ValueError("Duplicate axes given.")
        return _matrix_norm(x, ord, row, col, keepdims)
    raise ValueError("Improper number of dimensions to norm.")


def _one_axis(a: _Any, nd: int) -> int:
    if not -nd <= a < nd:
        raise _np.exceptions.AxisError(f"axis {a} is out of bounds for array of dimension {nd}")
    return int(a) % nd


def vector_norm(x: _Any, /, *, axis: _Any = None, keepdims: bool = False, ord: _Any = 2) -> _Any:  # noqa: A002
    """The vector norm over ``axis`` (None: all entries; a tuple: those axes taken as one vector)."""
    x = _array(x)
    nd = _ndim_of(x)
    axes = tuple(range(nd)) if axis is None else tuple(
        _one_axis(a, nd) for a in (axis if isinstance(axis, tuple) else (axis,)))
    if len(axes) == 1:
        return norm(x, ord, axes, keepdims)
    rest = tuple(a for a in range(nd) if a not in axes)
    flat = _reshape(_transpose(x, rest + axes), tuple(_shape_of(x)[a] for a in rest) + (-1,))
    out = norm(flat, ord, -1)
    if keepdims:
        for a in sorted(axes):
            out = _expand_dims(out, a)
    return out


def matrix_norm(x: _Any, /, *, keepdims: bool = False, ord: _Any = "fro") -> _Any:  # noqa: A002
    """The matrix norm of the last two axes."""
    return norm(x, ord, (-2, -1), keepdims)


def cond(x: _Any, p: _Any = None) -> _Any:
    """The condition number: s_max / s_min for p None, 2 (s_min / s_max for -2), else norm(x, p) norm(inv(x), p)."""
    x = _array(x)
    if p is None or p in (2, -2):
        s = _p.svdvals(x)
        first, last = (_getitem(s, idx=(Ellipsis, i)) for i in (0, -1))
        return _divide(last, first) if p == -2 else _divide(first, last)
    return norm(x, p, axis=(-2, -1)) * norm(inv(x), p, axis=(-2, -1))
