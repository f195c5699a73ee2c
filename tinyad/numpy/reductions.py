"""Reductions and statistics as NumPy spells them: sum, max, min, mean, var, std, prod, cumsum, cumprod,
logsumexp, softmax. Each is a primitive or a composition of primitives."""

from __future__ import annotations

from typing import Any

import numpy as _np

from ..core.primitive import is_complex, ndim_of, shape_of
from ..core.trace import Box, innermost, strip
from ..core.vspace import broadcast_to, concatenate, getitem, normalize_axes, reshape, transpose
from ..core.vspace import sum as _sum
from ..ops.contractions import matmul
from ..ops.elementwise import conj, maximum, minimum, negative, real, sqrt
from ..ops.elementwise import where as _where
from ..ops.nondiff import any as any_
from ..ops.nondiff import argsort, isinf, isnan, logical_and, logical_not, logical_or
from ..ops.nondiff import count_nonzero as _count_nonzero
from ..ops.structural import cumsum_p
from ..ops.structural import log_softmax as _log_softmax
from ..ops.structural import logsumexp as _logsumexp
from ..ops.structural import max as _max
from ..ops.structural import softmax as _softmax
from .elementwise import astype
from .shaping import _at_least_2d, as_array, moveaxis, one_axis, ravel, take, take_along_axis

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
    if where is not _NOVALUE and isinstance(strip(where), Box):  # a mask traced by tinyad.jit: counted in the
        mask = broadcast_to(astype(strip(where), bool), shp)      # program (none selected gives nan, as NumPy)
        return _sum(astype(mask, _count_dtype(x)), axis=axis, keepdims=True)
    if where is not _NOVALUE:
        mask = _np.broadcast_to(_np.asarray(strip(where), dtype=bool), shp)
        n = _np.sum(mask, axis=axis, keepdims=True).astype(_count_dtype(x))
        if not _np.all(n):
            raise ValueError(f"tinyad.numpy.{what}: a where= mask selects no elements of some reductions, whose value "
                             "is then undefined (NumPy returns nan with a warning)")
        return n
    n = int(_np.prod([shp[a] for a in normalize_axes(axis, len(shp))]))
    if n == 0:
        raise ValueError(f"tinyad.numpy.{what}: the reduction over axis={axis!r} of an array of shape {shp} "
                         "combines no elements, so its value is undefined (NumPy returns nan with a warning)")
    return float(n)


def _count_dtype(x: Any) -> _np.dtype:
    """A count's dtype: x's real floating type (float32 stays float32; a complex x's counts are real)."""
    dt = _np.result_type(innermost(x).dtype, _np.float16)
    return _np.empty(0, dt).real.dtype


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
    if not isinstance(n, Box) and _np.any(_np.asarray(n) - ddof <= 0):  # (a count traced by jit: inf/nan, as NumPy)
        raise ValueError(f"tinyad.numpy.var: ddof={ddof} leaves no degrees of freedom for "
                         f"{_np.asarray(n).astype(int).tolist()} elements")
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
    axes = normalize_axes(axis, ndim_of(x))
    if any(shape_of(x)[a] == 0 for a in axes):  # the log of an empty sum: -inf (as SciPy and JAX)
        return _np.full(tuple(1 if a in axes else n for a, n in enumerate(shape_of(x))) if keepdims else
                        tuple(n for a, n in enumerate(shape_of(x)) if a not in axes), -_np.inf)
    return _logsumexp(x, axis=None if axis is None else normalize_axes(axis, ndim_of(x)), keepdims=keepdims)


def log_softmax(x: Any, axis: Any = -1) -> Any:
    """x - logsumexp(x) over ``axis`` (an int, a tuple, or None: all axes, as scipy and JAX take it)."""
    x = as_array(x)
    return _log_softmax(x, axis=normalize_axes(axis, ndim_of(x)))


def softmax(x: Any, axis: Any = -1) -> Any:
    """exp(x - logsumexp(x)) over ``axis`` (an int, a tuple, or None: all axes)."""
    return _softmax(as_array(x), axis=axis)


# ---- more statistics: compositions of the above ----------------------------------------------------------------
def ptp(x: Any, axis: Any = None, out: Any = None, keepdims: Any = _NOVALUE) -> Any:
    """max - min (peak to peak)."""
    return max(x, axis, out, keepdims) - min(x, axis, out, keepdims)


def average(x: Any, axis: Any = None, weights: Any = None, returned: bool = False, *,
            keepdims: Any = _NOVALUE) -> Any:
    """The weighted mean sum(w x) / sum(w); 1-d weights lie along a single ``axis``, as in NumPy."""
    x = as_array(x)
    kd = _kd(keepdims)
    if weights is None:
        avg = mean(x, axis, keepdims=kd)
        total = _np.broadcast_to(float(_count(x, axis, _NOVALUE, "average")), _np.shape(innermost(avg)))
        return (avg, total) if returned else avg
    w = as_array(weights)
    if shape_of(w) != shape_of(x):
        if axis is None:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        if ndim_of(w) != 1 or isinstance(axis, tuple) and len(axis) != 1:
            raise TypeError("1D weights expected when shapes of a and weights differ.")
        ax = one_axis(axis[0] if isinstance(axis, tuple) else axis, ndim_of(x))
        if shape_of(w)[0] != shape_of(x)[ax]:
            raise ValueError("Length of weights not compatible with specified axis.")
        w = reshape(w, tuple(shape_of(w)[0] if i == ax else 1 for i in range(ndim_of(x))))
        w = broadcast_to(w, shape_of(x))
    total = _sum(w, axis=axis, keepdims=kd)
    avg = _sum(x * w, axis=axis, keepdims=kd) / total
    return (avg, total) if returned else avg


def _moved_last(x: Any, axis: Any) -> tuple:
    """``x`` with the reduced axes merged into one last axis, and the shape keepdims=True would give."""
    nd = ndim_of(x)
    axes = normalize_axes(axis, nd)
    rest = tuple(a for a in range(nd) if a not in axes)
    kept = tuple(1 if a in axes else n for a, n in enumerate(shape_of(x)))
    size = int(_np.prod([shape_of(x)[a] for a in axes]))  # (not -1: an empty kept axis leaves it undetermined)
    merged = reshape(transpose(x, rest + axes), tuple(shape_of(x)[a] for a in rest) + (size,))
    return merged, kept


def quantile(x: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
             method: str = "linear", keepdims: bool = False, *, weights: Any = None,
             interpolation: Any = None) -> Any:
    """The q-th quantiles by NumPy's default 'linear' method: sorted values at q (n - 1), interpolated between
    neighbours (differentiable through the sort; ``q`` is a constant). The quantiles' axes come first."""
    if out is not None:
        raise TypeError("tinyad.numpy.quantile: out= would write into an existing array; use the returned array")
    if (interpolation or method) != "linear" or weights is not None:
        raise NotImplementedError("tinyad.numpy.quantile: only method='linear' without weights is supported")
    x = as_array(x)
    q = _np.asarray(strip(q), dtype=float)
    if _np.any((q < 0) | (q > 1)):
        raise ValueError("Quantiles must be in the range [0, 1]")
    merged, kept = _moved_last(x, axis)
    n = shape_of(merged)[-1]
    if n == 0:
        raise ValueError("tinyad.numpy.quantile of an empty array: its value is undefined (NumPy returns nan)")
    ordered = take_along_axis(merged, argsort(merged, axis=-1), -1)
    pos = q * (n - 1)
    lo = _np.floor(pos).astype(int)
    hi = _np.minimum(lo + 1, n - 1)
    frac = (pos - lo).ravel().astype(_np.result_type(innermost(x).dtype, _np.float16))  # float32 stays float32
    below, above = take(ordered, lo.ravel(), -1), take(ordered, hi.ravel(), -1)
    # NumPy's linear interpolation (..., len(q)); at an exact position the value itself, and between infinite
    # values a weighted mean (below + (above - below) frac would give inf - inf)
    with _np.errstate(invalid="ignore"):  # the branches not taken may hold inf - inf
        weighted = below * (1.0 - frac) + above * frac
        infinite = logical_or(isinf(below), isinf(above))
        result = _where(frac == 0, below, _where(infinite, weighted, below + (above - below) * frac))
    result = moveaxis(result, -1, 0)
    shape = q.shape + (kept if keepdims else tuple(n_ for a, n_ in enumerate(shape_of(x))
                                                   if a not in normalize_axes(axis, ndim_of(x))))
    return reshape(result, shape)


def percentile(x: Any, q: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False,
               method: str = "linear", keepdims: bool = False, *, weights: Any = None,
               interpolation: Any = None) -> Any:
    return quantile(x, _np.asarray(strip(q), dtype=float) / 100.0, axis, out, overwrite_input, method, keepdims,
                    weights=weights, interpolation=interpolation)


def median(x: Any, axis: Any = None, out: Any = None, overwrite_input: bool = False, keepdims: bool = False) -> Any:
    """The middle of the sorted values (the mean of the two middle ones for an even count)."""
    return quantile(x, 0.5, axis, out, keepdims=keepdims)


# ---- NaN-ignoring reductions: the NaNs replaced by the reduction's identity --------------------------------------
def _nan_masked(x: Any, fill: float) -> Any:
    x = as_array(x)
    return _where(isnan(x), fill, x)


def nansum(x: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = _NOVALUE,
           initial: Any = _NOVALUE, where: Any = _NOVALUE) -> Any:
    return sum(_nan_masked(x, 0.0), axis, dtype, out, keepdims, initial, where)


def nanprod(x: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = _NOVALUE,
            initial: Any = _NOVALUE, where: Any = _NOVALUE) -> Any:
    return prod(_nan_masked(x, 1.0), axis, dtype, out, keepdims, initial, where)


def nanmax(x: Any, axis: Any = None, out: Any = None, keepdims: Any = _NOVALUE, initial: Any = _NOVALUE,
           where: Any = _NOVALUE) -> Any:
    return _all_nan_is_nan(x, axis, keepdims, initial,
                           max(_nan_masked(x, -_np.inf), axis, out, keepdims, initial, where))


def nanmin(x: Any, axis: Any = None, out: Any = None, keepdims: Any = _NOVALUE, initial: Any = _NOVALUE,
           where: Any = _NOVALUE) -> Any:
    return _all_nan_is_nan(x, axis, keepdims, initial,
                           min(_nan_masked(x, _np.inf), axis, out, keepdims, initial, where))


def _all_nan_is_nan(x: Any, axis: Any, keepdims: Any, initial: Any, result: Any) -> Any:
    """A slice that is all NaN reduces to NaN (as NumPy), not to the identity the NaNs were replaced by."""
    if initial is not _NOVALUE:
        return result
    none_present = logical_not(any_(logical_not(isnan(as_array(x))), axis=axis, keepdims=_kd(keepdims)))
    return _where(none_present, _np.nan, result)


def _present(x: Any, where: Any) -> Any:
    present = logical_not(isnan(as_array(x)))
    return present if where is _NOVALUE else logical_and(present, strip(where))


def nanmean(x: Any, axis: Any = None, dtype: Any = None, out: Any = None, keepdims: Any = _NOVALUE, *,
            where: Any = _NOVALUE) -> Any:
    return mean(_nan_masked(x, 0.0), axis, dtype, out, keepdims, where=_present(x, where))


def nanvar(x: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0, keepdims: Any = _NOVALUE, *,
           where: Any = _NOVALUE, mean: Any = _NOVALUE, correction: Any = _NOVALUE) -> Any:
    return var(_nan_masked(x, 0.0), axis, dtype, out, ddof, keepdims, where=_present(x, where), mean=mean,
               correction=correction)


def nanstd(x: Any, axis: Any = None, dtype: Any = None, out: Any = None, ddof: Any = 0, keepdims: Any = _NOVALUE, *,
           where: Any = _NOVALUE, mean: Any = _NOVALUE, correction: Any = _NOVALUE) -> Any:
    return sqrt(nanvar(x, axis, dtype, out, ddof, keepdims, where=where, mean=mean, correction=correction))


def count_nonzero(x: Any, axis: Any = None, *, keepdims: bool = False) -> Any:
    """The number of nonzero entries (a constant)."""
    return _count_nonzero(x, axis=axis, keepdims=keepdims)


def cumulative_sum(x: Any, /, *, axis: Any = None, dtype: Any = None, out: Any = None,
                   include_initial: bool = False) -> Any:
    """NumPy 2's cumulative_sum: cumsum, optionally starting with a 0."""
    return _cumulative(cumsum, 0.0, x, axis, dtype, out, include_initial, "cumulative_sum")


def cumulative_prod(x: Any, /, *, axis: Any = None, dtype: Any = None, out: Any = None,
                    include_initial: bool = False) -> Any:
    """NumPy 2's cumulative_prod: cumprod, optionally starting with a 1."""
    return _cumulative(cumprod, 1.0, x, axis, dtype, out, include_initial, "cumulative_prod")


def _cumulative(scan: Any, start: float, x: Any, axis: Any, dtype: Any, out: Any, include_initial: bool,
                name: str) -> Any:
    x = as_array(x)
    if axis is None:
        if ndim_of(x) > 1:
            raise ValueError(f"tinyad.numpy.{name}: axis is required for arrays of more than one dimension")
        axis = 0
    total = scan(x, axis, dtype, out)
    if not include_initial:
        return total
    ax = one_axis(axis, ndim_of(total))
    first = _np.full(tuple(1 if i == ax else n for i, n in enumerate(shape_of(total))), start,
                     dtype=_np.result_type(innermost(total)))
    return concatenate(first, total, axis=ax)


# ---- covariance and correlation ------------------------------------------------------------------------------------
def cov(m: Any, y: Any = None, rowvar: bool = True, bias: bool = False, ddof: Any = None, fweights: Any = None,
        aweights: Any = None, *, dtype: Any = None) -> Any:
    """The covariance matrix of the variables in the rows (``rowvar``) or columns of ``m`` (and ``y``)."""
    if fweights is not None or aweights is not None:
        raise NotImplementedError("tinyad.numpy.cov: fweights/aweights are not supported")
    x = _at_least_2d(as_array(m))
    if not rowvar and shape_of(x)[0] != 1:
        x = transpose(x)
    if y is not None:
        y2 = _at_least_2d(as_array(y))
        if not rowvar and shape_of(y2)[0] != 1:
            y2 = transpose(y2)
        x = concatenate(x, y2, axis=0)
    if dtype is not None:
        x = astype(x, dtype)
    if ddof is None:
        ddof = 0 if bias else 1
    n = shape_of(x)[1]
    centred = x - _sum(x, axis=1, keepdims=True) / float(n)
    other = conj(centred) if is_complex(centred) else centred
    c = matmul(centred, transpose(other)) / float(n - ddof)
    return reshape(c, _np.squeeze(_np.empty(shape_of(c))).shape)


def corrcoef(x: Any, y: Any = None, rowvar: bool = True, *, dtype: Any = None) -> Any:
    """Pearson correlation coefficients: cov(x, y) / (std_i std_j), clipped to [-1, 1] as NumPy clips them."""
    c = cov(x, y, rowvar, dtype=dtype)
    if ndim_of(c) == 0:
        return c / c
    d = _sum(c * _np.eye(shape_of(c)[0]), axis=1)
    d = real(d) if is_complex(d) else d
    sd = sqrt(d)
    c = c / reshape(sd, (-1, 1)) / reshape(sd, (1, -1))
    return c if is_complex(c) else minimum(maximum(c, -1.0), 1.0)
