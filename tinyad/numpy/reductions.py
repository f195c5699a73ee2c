"""Reductions and statistics as NumPy spells them: sum, max, min, mean, var, std, prod, cumsum, cumprod,
logsumexp, softmax. Each is a primitive or a composition of primitives."""

from __future__ import annotations

from typing import Any

import numpy as _np

from ..core.primitive import is_complex, ndim_of, shape_of
from ..core.trace import innermost, strip
from ..core.vspace import broadcast_to, concatenate, getitem, normalize_axes, reshape, transpose
from ..core.vspace import sum as _sum
from ..ops.elementwise import conj, maximum, negative, real, sqrt
from ..ops.elementwise import where as _where
from ..ops.structural import cumsum_p
from ..ops.structural import log_softmax as _log_softmax
from ..ops.structural import logsumexp as _logsumexp
from ..ops.structural import max as _max
from ..ops.structural import softmax as _softmax
from .elementwise import astype
from .shaping import as_array, one_axis, ravel


def _count(x: Any, axis: Any, what: str) -> int:
    """How many elements a reduction over ``axis`` combines; zero raises (the mean of nothing)."""
    shp = shape_of(x)
    n = int(_np.prod([shp[a] for a in normalize_axes(axis, len(shp))]))
    if n == 0:
        raise ValueError(f"tinyad.numpy.{what}: the reduction over axis={axis!r} of an array of shape {shp} "
                         "combines no elements, so its value is undefined (NumPy returns nan with a warning)")
    return n


_NOVALUE: Any = _np._NoValue


def _prepare(x: Any, dtype: Any, out: Any, name: str) -> Any:
    """The input as an array (lists, scalars), cast to ``dtype`` when one is given; ``out=`` is refused."""
    if out is not None:
        raise TypeError(f"tinyad.numpy.{name}: out= would write into an existing array (and drop the derivative); "
                        "use the returned array")
    x = as_array(x)
    return x if dtype is None else astype(x, dtype)


def _masked(x: Any, where: Any, fill: float) -> Any:
    """``x`` with ``fill`` where the mask ``where`` is False (NumPy's ``where=`` of reductions)."""
    return x if where is _NOVALUE else _where(strip(where), x, fill)


def _kd(keepdims: Any) -> bool:
    return False if keepdims is _NOVALUE else bool(keepdims)


def sum(x: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = _NOVALUE,  # noqa: A001
        initial: Any = _NOVALUE, where: Any = _NOVALUE) -> Any:
    x = _masked(_prepare(x, dtype, out, "sum"), where, 0)
    total = _sum(x, axis=axis, keepdims=_kd(keepdims))
    return total if initial is _NOVALUE else total + initial


def max(x: Any, axis: Any = None, out: Any = None, keepdims: Any = _NOVALUE,  # noqa: A001
        initial: Any = _NOVALUE, where: Any = _NOVALUE) -> Any:
    """The largest entry; ties split the derivative evenly (as JAX). ``initial`` is one more candidate."""
    return _extreme(x, axis, out, keepdims, initial, where, 1.0, "max")


def min(x: Any, axis: Any = None, out: Any = None, keepdims: Any = _NOVALUE,  # noqa: A001
        initial: Any = _NOVALUE, where: Any = _NOVALUE) -> Any:
    return _extreme(x, axis, out, keepdims, initial, where, -1.0, "min")


def _extreme(x: Any, axis: Any, out: Any, keepdims: Any, initial: Any, where: Any, sign: float, name: str) -> Any:
    x = _prepare(x, None, out, name)
    if where is not _NOVALUE and initial is _NOVALUE:
        raise ValueError(f"reduction operation '{name}imum' does not have an identity, so to use a where mask one has "
                         "to specify 'initial'")
    nd = ndim_of(x)
    axes = None if axis is None else normalize_axes(axis, nd)
    if sign < 0:
        x = negative(x)
    x = _masked(x, where, -_np.inf)
    if initial is not _NOVALUE and not _np.prod([shape_of(x)[a] for a in normalize_axes(axes, nd)]):
        shape = _np.sum(_np.zeros(shape_of(x)), axis=axes, keepdims=_kd(keepdims)).shape
        return broadcast_to(initial, shape)  # no entries: the initial value alone
    m = _max(x, axis=axes, keepdims=_kd(keepdims))
    if initial is not _NOVALUE:
        m = maximum(m, negative(initial) if sign < 0 else initial)
    return negative(m) if sign < 0 else m


amax, amin = max, min


def _count(x: Any, axis: Any, where: Any, what: str) -> Any:
    """How many elements a reduction over ``axis`` combines (per output element with a ``where`` mask); none
    raises (the mean of nothing)."""
    shp = shape_of(x)
    if where is not _NOVALUE:
        mask = _np.broadcast_to(_np.asarray(strip(where), dtype=bool), shp)
        n = _np.sum(mask, axis=axis, keepdims=True).astype(_np.result_type(innermost(x), _np.float16))
        if not _np.all(n):
            raise ValueError(f"tinyad.numpy.{what}: a where= mask selects no elements of some reductions, whose value "
                             "is then undefined (NumPy returns nan with a warning)")
        return n
    n = int(_np.prod([shp[a] for a in normalize_axes(axis, len(shp))]))
    if n == 0:
        raise ValueError(f"tinyad.numpy.{what}: the reduction over axis={axis!r} of an array of shape {shp} "
                         "combines no elements, so its value is undefined (NumPy returns nan with a warning)")
    return float(n)


def _per_output(n: Any, x: Any, axis: Any, keepdims: bool) -> Any:
    """A count kept with keepdims=True (an array) as the reduction's own shape."""
    return n if _np.ndim(n) == 0 or keepdims else _np.sum(n, axis=normalize_axes(axis, ndim_of(x)))


def mean(x: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = _NOVALUE, *,
         where: Any = _NOVALUE) -> Any:
    x = _prepare(x, dtype, out, "mean")
    n = _count(x, axis, where, "mean")
    return _sum(_masked(x, where, 0), axis=axis, keepdims=_kd(keepdims)) / _per_output(n, x, axis, _kd(keepdims))


def var(x: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0, keepdims: Any = _NOVALUE, *,
        where: Any = _NOVALUE, mean: Any = _NOVALUE, correction: Any = _NOVALUE) -> Any:
    """The variance, sum(|x - mean|^2) / (n - ddof), with NumPy's options (``mean``: a precomputed mean, kept
    dimensions; ``correction``: another name for ddof)."""
    if correction is not _NOVALUE:
        if ddof != 0:
            raise ValueError("ddof and correction can't be provided simultaneously.")
        ddof = correction
    x = _prepare(x, dtype, out, "var")
    n = _count(x, axis, where, "var")
    if _np.any(_np.asarray(n) - ddof <= 0):
        raise ValueError(f"tinyad.numpy.var: ddof={ddof} leaves no degrees of freedom for {n} elements")
    centre = (_sum(_masked(x, where, 0), axis=axis, keepdims=True) / n) if mean is _NOVALUE else mean
    centred = x - centre
    sq = real(centred * conj(centred)) if is_complex(centred) else centred * centred
    total = _sum(_masked(sq, where, 0), axis=axis, keepdims=_kd(keepdims))
    return total / (_per_output(n, x, axis, _kd(keepdims)) - ddof)


def std(x: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0, keepdims: Any = _NOVALUE, *,
        where: Any = _NOVALUE, mean: Any = _NOVALUE, correction: Any = _NOVALUE) -> Any:
    return sqrt(var(x, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction))


def _along(axis: int, index: Any) -> tuple:
    return (slice(None),) * axis + (index,)


def prod(x: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = _NOVALUE,
         initial: Any = _NOVALUE, where: Any = _NOVALUE) -> Any:
    """Pairwise products (log-depth): exact derivatives even with zeros among the factors."""
    x = _masked(_prepare(x, dtype, out, "prod"), where, 1)
    keepdims = _kd(keepdims)
    result = _prod(x, axis, keepdims)
    return result if initial is _NOVALUE else result * initial


def _prod(x: Any, axis: Any, keepdims: bool) -> Any:
    nd, shp = ndim_of(x), shape_of(x)
    axes = normalize_axes(axis, nd)
    rest = tuple(a for a in range(nd) if a not in axes)
    out_shape = tuple(1 if i in axes else n for i, n in enumerate(shp)) if keepdims else tuple(shp[a] for a in rest)
    m = int(_np.prod([shp[a] for a in axes]))
    if m == 0:
        return _np.ones(out_shape, dtype=_np.prod(_np.ones(0, dtype=_np.result_type(innermost(x)))).dtype)
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


def cumsum(x: Any, axis: int | None = None, dtype: Any = None, out: Any = None) -> Any:
    x = _prepare(x, dtype, out, "cumsum")
    if axis is None:
        return cumsum_p(ravel(x), axis=0)
    return cumsum_p(x, axis=one_axis(axis, ndim_of(x)))


def cumprod(x: Any, axis: int | None = None, dtype: Any = None, out: Any = None) -> Any:
    """Hillis-Steele scan of products (log-depth), exact with zeros."""
    x = _prepare(x, dtype, out, "cumprod")
    if axis is None:
        x, axis = ravel(x), 0
    axis = one_axis(axis, ndim_of(x))
    n, shift = shape_of(x)[axis], 1
    while shift < n:
        ones_shape = tuple(shift if i == axis else s for i, s in enumerate(shape_of(x)))
        ones = _np.ones(ones_shape, dtype=_np.result_type(innermost(x)))
        shifted = concatenate(ones, getitem(x, idx=_along(axis, slice(0, n - shift))), axis=axis)
        x = x * shifted
        shift *= 2
    return x


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    x = as_array(x)
    return _logsumexp(x, axis=None if axis is None else normalize_axes(axis, ndim_of(x)), keepdims=keepdims)


def log_softmax(x: Any, axis: Any = -1) -> Any:
    """x - logsumexp(x) over ``axis`` (an int, a tuple, or None: all axes, as scipy and JAX take it)."""
    x = as_array(x)
    return _log_softmax(x, axis=normalize_axes(axis, ndim_of(x)))


def softmax(x: Any, axis: Any = -1) -> Any:
    """exp(x - logsumexp(x)) over ``axis`` (an int, a tuple, or None: all axes)."""
    x = as_array(x)
    return _softmax(x, axis=normalize_axes(axis, ndim_of(x)))
