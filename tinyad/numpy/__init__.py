"""``import tinyad.numpy as tnp``: the NumPy-like namespace models are written in.

Every function accepts floats, ndarrays and tinyad boxes alike. Primitives (with their derivative rules)
live in ``tinyad.primitives``; what is defined here is either a re-export or a composition of primitives,
so it needs no rules of its own. Constants and anything non-differentiable (``array``, ``zeros``,
``arange``, dtypes, ``random``) come straight from NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as _np
from numpy import (  # noqa: F401  constants and constructors: no derivative to carry
    arange,
    array,
    asarray,
    e,
    empty,
    eye,
    float32,
    float64,
    full,
    inf,
    int32,
    int64,
    linspace,
    nan,
    ndarray,
    newaxis,
    ones,
    pi,
    random,
    zeros,
)

from ..primitive import ndim_of, shape_of
from ..primitives.elementwise import (  # noqa: F401
    abs,
    add,
    arccos,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    ceil,
    cos,
    cosh,
    divide,
    equal,
    exp,
    exp2,
    expm1,
    floor,
    floor_divide,
    fmod,
    greater,
    greater_equal,
    hypot,
    isfinite,
    isinf,
    isnan,
    less,
    less_equal,
    log,
    log1p,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    maximum,
    minimum,
    mod,
    multiply,
    negative,
    not_equal,
    power,
    reciprocal,
    rint,
    round,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    subtract,
    tan,
    tanh,
    trunc,
)
from ..primitives.elementwise import where as _where
from ..primitives.linalg import matmul
from ..primitives.reductions import logsumexp as _logsumexp
from ..primitives.reductions import max as _max
from ..primitives.reductions import stack  # noqa: F401
from ..primitives.reductions import sum as _sum
from ..primitives.shapes import (  # noqa: F401
    _axes,
    astype_p,
    broadcast_to,
    getitem,
    reshape,
    scatter_add,
    transpose,
)
from ..primitives.shapes import (
    concatenate as _concatenate,
)
from ..primitives.special import argmax, argmin, ones_like, stop_gradient, zeros_like  # noqa: F401
from ..tags import strip as _strip

absolute = abs
fabs = abs
true_divide = divide
remainder = mod


def shape(x: Any) -> tuple:
    return shape_of(x)


def ndim(x: Any) -> int:
    return ndim_of(x)


def size(x: Any) -> int:
    return int(_np.prod(shape_of(x)))


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    return _sum(x, axis=axis, keepdims=keepdims)


def max(x: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    return _max(x, axis=axis, keepdims=keepdims)


amax = max


def min(x: Any, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A001
    return negative(_max(negative(x), axis=axis, keepdims=keepdims))


amin = min


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    shp = shape_of(x)
    count = int(_np.prod([shp[a] for a in _axes(axis, len(shp))]))
    return _sum(x, axis=axis, keepdims=keepdims) / float(count)


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return _logsumexp(x, axis=axis, keepdims=keepdims)


def log_softmax(x: Any, axis: int = -1) -> Any:
    return x - _logsumexp(x, axis=axis, keepdims=True)


def softmax(x: Any, axis: int = -1) -> Any:
    return exp(log_softmax(x, axis))


def where(condition: Any, x: Any, y: Any) -> Any:
    """Select ``x`` where ``condition`` else ``y``. The condition is a constant.

    NaN trap: both branches are computed, and the unselected branch's derivative is multiplied by 0 —
    0 * inf = NaN. Guard the input, not just the output: ``tnp.where(x > 0, tnp.log(tnp.where(x > 0, x,
    1.0)), 0.0)``."""
    return _where(_strip(condition), x, y)


def clip(x: Any, a_min: Any, a_max: Any) -> Any:
    """Clip to [a_min, a_max]; the derivative flows to whichever of x, a_min, a_max is selected."""
    if a_min is not None:
        x = where(less(x, a_min), a_min, x)
    if a_max is not None:
        x = where(greater(x, a_max), a_max, x)
    return x


def outer(a: Any, b: Any) -> Any:
    return multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def concatenate(arrays: Any, axis: int = 0) -> Any:
    arrays = list(arrays)
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    return _concatenate(*arrays, axis=axis)


def expand_dims(x: Any, axis: int) -> Any:
    shp = shape_of(x)
    ax = axis % (len(shp) + 1)
    return reshape(x, shp[:ax] + (1,) + shp[ax:])


def squeeze(x: Any, axis: Any = None) -> Any:
    return reshape(x, _np.squeeze(_np.empty(shape_of(x), dtype=bool), axis=axis).shape)


def ravel(x: Any) -> Any:
    return reshape(x, (-1,))


def swapaxes(x: Any, a: int, b: int) -> Any:
    perm = list(range(ndim_of(x)))
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(x, tuple(perm))


def _scattered(x: Any, idx: Any, v: Any) -> Any:
    """``v`` broadcast to the shape of ``x[idx]`` and placed there, in zeros the shape of ``x``."""
    target = _np.empty(shape_of(x), dtype=bool)[idx].shape
    return scatter_add(broadcast_to(v, target), idx=idx, shape=shape_of(x))


def index_add(x: Any, idx: Any, v: Any) -> Any:
    """Functional ``x[idx] += v`` (repeated indices accumulate)."""
    return add(x, _scattered(x, idx, v))


def index_update(x: Any, idx: Any, v: Any) -> Any:
    """Functional ``x[idx] = v``: a new array; ``x`` is unchanged."""
    mask = _np.zeros(shape_of(x), dtype=bool)
    mask[idx] = True
    return where(mask, _scattered(x, idx, v), x)


def astype(x: Any, dtype: Any) -> Any:
    """Float-to-float casts keep the derivative; casts to integer or bool give constants (index math)."""
    dt = _np.dtype(dtype)
    if dt.kind == "f":
        return astype_p(x, dtype=dt)
    return _np.asarray(_strip(x)).astype(dt)


from ..primitives.elementwise import angle, conj, imag, real  # noqa: E402,F401
from ..primitives.special import argsort, nonzero, searchsorted  # noqa: E402,F401
from . import fft, linalg  # noqa: E402,F401

conjugate = conj
from ._more import (  # noqa: E402,F401
    array_split,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    cumprod,
    cumsum,
    diag,
    diagonal,
    einsum,
    flip,
    hstack,
    inner,
    meshgrid,
    moveaxis,
    norm,
    pad,
    prod,
    repeat,
    roll,
    rot90,
    sort,
    split,
    std,
    take,
    take_along_axis,
    tensordot,
    tile,
    trace,
    tril,
    triu,
    var,
    vstack,
)
from ._more import dot_any as dot  # noqa: E402,F401
