"""``tinyad.numpy.linalg``: differentiable inv, det, slogdet, solve, cholesky, eigh, pinv, norm.

Matrices may carry leading batch axes. ``eigh`` assumes a symmetric input with distinct eigenvalues (its
derivative divides by their differences) and treats the input as symmetric, as NumPy does by reading one
triangle; ``cholesky`` likewise takes a symmetric positive-definite input.
"""

from __future__ import annotations

from typing import Any as _Any

import numpy as _np

from ..core.vspace import getitem as _getitem
from ..core.vspace import sum as _sum
from ..ops.elementwise import abs as _abs
from ..ops.elementwise import sqrt as _sqrt
from ..ops.linalg import cholesky, det, inv, pinv, solve  # noqa: F401
from ..ops.linalg import det_sign as _det_sign
from ..ops.linalg import eigh_packed as _eigh_packed
from ..ops.linalg import logabsdet as _logabsdet
from ..ops.structural import max as _max

LinAlgError = _np.linalg.LinAlgError


def slogdet(a: _Any) -> tuple:
    """(sign, log|det a|): the sign is a constant; the log-determinant is differentiable."""
    return _det_sign(a), _logabsdet(a)


def eigh(a: _Any) -> tuple:
    """(eigenvalues w ascending, eigenvectors V as columns) of a symmetric matrix."""
    packed = _eigh_packed(a)
    return (_getitem(packed, idx=(Ellipsis, 0, slice(None))),
            _getitem(packed, idx=(Ellipsis, slice(1, None), slice(None))))


def norm(x: _Any, ord: _Any = None, axis: _Any = None, keepdims: bool = False) -> _Any:  # noqa: A002
    """Vector norms (ord None/2, 1, inf, -inf, p) and the Frobenius matrix norm. The 2-norm's derivative is
    undefined at 0 (NaN there, as in JAX)."""
    if ord in (None, 2, "fro") and (ord != 2 or axis is None or _np.isscalar(axis)):
        return _sqrt(_sum(x * x, axis=axis, keepdims=keepdims))
    if ord == 1:
        return _sum(_abs(x), axis=axis, keepdims=keepdims)
    if ord == _np.inf:
        return _max(_abs(x), axis=axis, keepdims=keepdims)
    if ord == -_np.inf:
        return -_max(-_abs(x), axis=axis, keepdims=keepdims)
    if _np.isscalar(ord) and ord > 0:
        return _sum(_abs(x) ** float(ord), axis=axis, keepdims=keepdims) ** (1.0 / float(ord))
    raise NotImplementedError(f"tinyad.numpy.norm: ord={ord!r} is not supported")
