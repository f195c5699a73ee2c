"""Reductions and statistics as NumPy spells them: sum, max, min, mean, var, std, prod, cumsum, cumprod,
logsumexp, softmax. Each is a primitive or a composition of primitives."""

from __future__ import annotations

from typing import Any

import numpy as _np

from ..core.primitive import ndim_of, shape_of
from ..core.vspace import concatenate, getitem, normalize_axes, reshape, transpose
from ..core.vspace import sum as _sum
from ..ops.elementwise import negative, sqrt
from ..ops.structural import cumsum_p
from ..ops.structural import log_softmax as _log_softmax
from ..ops.structural import logsumexp as _logsumexp
from ..ops.structural import max as _max
from ..ops.structural import softmax as _softmax
from .shaping import one_axis, ravel


def _count(x: Any, axis: Any, what: str) -> int:
    """How many elements a reduction over ``axis`` combines; zero raises (the mean of nothing)."""
    shp = shape_of(x)
    n = int(_np.prod([shp[a] for a in normalize_axes(axis, len(shp))]))
    if n == 0:
        raise ValueError(f"tinyad.numpy.{what}: the reduction over axis={axis!r} of an array of shape {shp} "
                         "combines no elements, so its value is undefined (NumPy returns nan with a warning)")
    return n


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    return _sum(x, axis=axis, keepdims=keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    return _max(x, axis=None if axis is None else normalize_axes(axis, ndim_of(x)), keepdims=keepdims)


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    return negative(max(negative(x), axis=axis, keepdims=keepdims))


amax, amin = max, min


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _sum(x, axis=axis, keepdims=keepdims) / float(_count(x, axis, "mean"))


def var(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    n = _count(x, axis, "var")
    if n - ddof <= 0:
        raise ValueError(f"tinyad.numpy.var: ddof={ddof} leaves no degrees of freedom for {n} elements")
    centred = x - _sum(x, axis=axis, keepdims=True) / float(n)
    return _sum(centred * centred, axis=axis, keepdims=keepdims) / float(n - ddof)


def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    return sqrt(var(x, axis, ddof, keepdims))


def _along(axis: int, index: Any) -> tuple:
    return (slice(None),) * axis + (index,)


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Pairwise products (log-depth): exact derivatives even with zeros among the factors."""
    nd, shp = ndim_of(x), shape_of(x)
    axes = normalize_axes(axis, nd)
    rest = tuple(a for a in range(nd) if a not in axes)
    out_shape = tuple(1 if i in axes else n for i, n in enumerate(shp)) if keepdims else tuple(shp[a] for a in rest)
    m = int(_np.prod([shp[a] for a in axes]))
    if m == 0:
        return _np.ones(out_shape)
    # The reduced axes last, merged into one, then multiplied in pairs along it.
    x = reshape(transpose(x, rest + axes), tuple(shp[a] for a in rest) + (m,))
    last = len(rest)
    while shape_of(x)[last] > 1:
        n = shape_of(x)[last]
        pairs = getitem(x, idx=_along(last, slice(0, n - n % 2, 2))) * getitem(x, idx=_along(last, slice(1, n, 2)))
        if n % 2:
            pairs = concatenate(pairs, getitem(x, idx=_along(last, slice(n - 1, n))), axis=last)
        x = pairs
    return reshape(x, out_shape)


def cumsum(x: Any, axis: int | None = None) -> Any:
    if axis is None:
        return cumsum_p(ravel(x), axis=0)
    return cumsum_p(x, axis=one_axis(axis, ndim_of(x)))


def cumprod(x: Any, axis: int | None = None) -> Any:
    """Hillis-Steele scan of products (log-depth), exact with zeros."""
    if axis is None:
        x, axis = ravel(x), 0
    axis = one_axis(axis, ndim_of(x))
    n, shift = shape_of(x)[axis], 1
    while shift < n:
        ones_shape = tuple(shift if i == axis else s for i, s in enumerate(shape_of(x)))
        shifted = concatenate(_np.ones(ones_shape), getitem(x, idx=_along(axis, slice(0, n - shift))), axis=axis)
        x = x * shifted
        shift *= 2
    return x


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _logsumexp(x, axis=None if axis is None else normalize_axes(axis, ndim_of(x)), keepdims=keepdims)


def log_softmax(x: Any, axis: int = -1) -> Any:
    return _log_softmax(x, axis=one_axis(axis, ndim_of(x)))


def softmax(x: Any, axis: int = -1) -> Any:
    return _softmax(x, axis=one_axis(axis, ndim_of(x)))
