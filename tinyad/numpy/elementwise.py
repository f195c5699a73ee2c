"""Elementwise functions that are compositions or wrappers of primitives: where (the condition is a
constant), clip, float casts, full_like."""

from __future__ import annotations

from typing import Any

import numpy as _np

from ..core.primitive import is_complex, ndim_of, shape_of
from ..core.trace import Box, innermost, strip
from ..core.vspace import broadcast_to, getitem
from ..ops.elementwise import add, maximum, minimum, multiply
from ..ops.elementwise import angle as _angle
from ..ops.elementwise import where as _where
from ..ops.nondiff import astype_constant, nonzero, searchsorted
from ..ops.structural import astype_p

_NOVALUE: Any = _np._NoValue  # NumPy's marker for "argument not given" (None can be a value)


def where(condition: Any, x: Any = _NOVALUE, y: Any = _NOVALUE) -> Any:
    """Select ``x`` where ``condition`` else ``y``. The condition is a constant. With the condition alone,
    ``nonzero(condition)``, as NumPy.

    NaN trap: both branches are computed, and the unselected branch's derivative is multiplied by 0 —
    0 * inf = NaN. Guard the input, not just the output: ``tnp.where(x > 0, tnp.log(tnp.where(x > 0, x,
    1.0)), 0.0)``."""
    if x is _NOVALUE and y is _NOVALUE:
        return nonzero(condition)
    if x is _NOVALUE or y is _NOVALUE:
        raise ValueError("tinyad.numpy.where: either both or neither of x and y should be given")
    return _where(strip(condition), x, y)


def clip(x: Any, a_min: Any = _NOVALUE, a_max: Any = _NOVALUE, *, min: Any = _NOVALUE,  # noqa: A002
         max: Any = _NOVALUE) -> Any:  # noqa: A002 - NumPy's keyword names
    """``minimum(maximum(x, a_min), a_max)``, as NumPy and JAX define it (a_min > a_max gives a_max).

    The derivative flows to whichever of x, a_min, a_max is selected; at a bound (x == a_min) it is split
    evenly between x and the bound, as maximum/minimum split ties (JAX's convention)."""
    lo = _bound(a_min, min, "a_min", "min")
    hi = _bound(a_max, max, "a_max", "max")
    if lo is not None:
        x = maximum(x, lo)
    if hi is not None:
        x = minimum(x, hi)
    return x


def _bound(positional: Any, keyword: Any, name: str, kw: str) -> Any:
    if positional is not _NOVALUE and keyword is not _NOVALUE:
        raise TypeError(f"tinyad.numpy.clip: give {name} or {kw}=, not both")
    value = keyword if positional is _NOVALUE else positional
    return None if value is _NOVALUE else value


def astype(x: Any, dtype: Any) -> Any:
    """Casts to a float or complex type keep the derivative; casts to integer or bool give constants."""
    dt = _np.dtype(dtype)
    if dt.kind == "c" and not is_complex(x):  # real -> complex: made complex by an add, whose VJP keeps the
        x = add(x, _np.zeros((), dtype=dt))  # real part of the cotangent (no cast of complex to real)
    if dt.kind in "fc":
        return astype_p(x, dtype=dt)
    return astype_constant(x, dtype=dt)


def full_like(a: Any, fill_value: Any, dtype: Any = None, order: str = "K", subok: bool = True,
              shape: Any = None) -> Any:
    """An array like ``a`` (its shape and dtype unless given) filled with ``fill_value``: a constant in ``a``;
    differentiable in ``fill_value`` when that is a box and the dtype is a float or complex type."""
    dt = _np.dtype(dtype) if dtype is not None else _np.result_type(innermost(a))
    target = shape_of(a) if shape is None else ((shape,) if _np.isscalar(shape) else tuple(shape))
    if isinstance(fill_value, Box) and dt.kind in "fc":
        return broadcast_to(astype(fill_value, dt), target)
    if isinstance(a, Box):  # only a's shape and dtype are read (so a value traced by tinyad.jit is fine)
        return _np.full(target, strip(fill_value), dtype=dt)
    return _np.full_like(a, strip(fill_value), dtype=dtype, order=order, subok=subok, shape=shape)


def angle(z: Any, deg: bool = False) -> Any:
    """The argument of complex ``z`` in radians (degrees with ``deg=True``), as NumPy."""
    a = _angle(z)
    return a * (180.0 / _np.pi) if deg else a


def positive(x: Any) -> Any:
    """+x (NumPy's copy; a box is immutable, so itself)."""
    return x if isinstance(x, Box) else _np.positive(x)


def deg2rad(x: Any) -> Any:
    return multiply(x, _np.pi / 180.0)


def rad2deg(x: Any) -> Any:
    return multiply(x, 180.0 / _np.pi)


radians, degrees = deg2rad, rad2deg


def select(condlist: Any, choicelist: Any, default: Any = 0) -> Any:
    """The choice of the first true condition, elementwise (nested ``where``; the conditions are constants)."""
    condlist, choicelist = list(condlist), list(choicelist)
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    out = default
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        out = where(cond, choice, out)
    return out


def interp(x: Any, xp: Any, fp: Any, left: Any = None, right: Any = None, period: Any = None) -> Any:
    """Piecewise-linear interpolation, differentiable in ``x`` and ``fp`` (and ``xp``), as JAX writes it: the
    segment is found by searchsorted (a constant), a zero-width segment takes its left value, and outside
    [xp[0], xp[-1]] the end values (or ``left``/``right``) hold."""
    if period is not None:
        raise NotImplementedError("tinyad.numpy.interp: period= is not supported")
    # the constants (index, masks) are computed on values: plain arrays, or under tinyad.jit staged ones
    xp_c, x_c = _constant(xp), _constant(x)
    if ndim_of(xp) != 1 or ndim_of(fp) != 1 or shape_of(xp)[0] != shape_of(fp)[0]:
        raise ValueError("fp and xp are not of the same length / not 1-d")
    n = shape_of(xp)[0]
    i = _np.clip(searchsorted(xp_c, x_c, side="right"), 1, max(n - 1, 1))
    fp_lo, fp_hi = getitem(fp, idx=i - 1), getitem(fp, idx=i if n > 1 else i - 1)
    xp_lo, xp_hi = getitem(xp, idx=i - 1), getitem(xp, idx=i if n > 1 else i - 1)
    dx = xp_hi - xp_lo
    flat = _np.abs(strip(dx)) <= _np.spacing(_np.finfo(_np.result_type(xp_c, 1.0)).eps)
    f = where(flat, fp_lo, fp_lo + ((x - xp_lo) / where(flat, 1.0, dx)) * (fp_hi - fp_lo))
    f = where(x_c < xp_c[0], getitem(fp, idx=0) if left is None else left, f)
    return where(x_c > xp_c[-1], getitem(fp, idx=n - 1) if right is None else right, f)


def _constant(x: Any) -> Any:
    """``x``'s value as a constant: a plain array, or (under tinyad.jit) the staged value standing for it."""
    x = strip(x)
    return x if isinstance(x, Box) else _np.asarray(x)
