"""``import tinyad.numpy as tnp``: the NumPy-like namespace models are written in.

Every function accepts floats, ndarrays and tinyad boxes alike. Primitives (with their derivative rules)
live in ``tinyad.ops``; what is defined in this package is a re-export or a composition of primitives, so it
needs no rules of its own: ``elementwise`` (where, clip, astype), ``shaping`` (axes, joining, splitting,
indexing), ``reductions`` (sums, statistics, products, softmax), ``contractions`` (dot, tensordot, einsum),
``linalg`` and ``fft``. Arguments follow NumPy's signatures (lists and scalars for arrays, every axis form).
Constants and anything non-differentiable (``zeros``, ``arange``, dtypes, ``random``) come straight from
NumPy; ``array``/``asarray`` are NumPy's except that a list holding boxes is stacked (differentiably).

Importing this package also fills ``tinyad.core.box.NUMPY_API``, through which array methods on boxes
(``x.mean()``) and NumPy's own functions and ufuncs called on boxes (``np.mean(x)``, ``np.tanh(x)``) reach
these functions.
"""

from __future__ import annotations

from typing import Any

import numpy as _np
from numpy import (  # noqa: F401  constants and constructors: no derivative to carry
    arange,
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

from ..core.box import NUMPY_API as _NUMPY_API
from ..core.primitive import ndim_of as _ndim_of
from ..core.primitive import shape_of as _shape_of
from ..core.vspace import broadcast_to, getitem, scatter_add, transpose  # noqa: F401
from ..ops.contractions import matmul  # noqa: F401
from ..ops.elementwise import (  # noqa: F401
    abs,
    add,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    conj,
    copysign,
    cos,
    cosh,
    divide,
    erf,
    erfc,
    exp,
    exp2,
    expm1,
    float_power,
    fmax,
    fmin,
    fmod,
    hypot,
    imag,
    log,
    log1p,
    log2,
    log10,
    logaddexp,
    logaddexp2,
    maximum,
    minimum,
    mod,
    multiply,
    negative,
    power,
    real,
    reciprocal,
    relu,
    sigmoid,
    sin,
    sinc,
    sinh,
    softplus,
    sqrt,
    square,
    subtract,
    tan,
    tanh,
)
from ..ops.nondiff import (  # noqa: F401
    all,
    allclose,
    any,
    argmax,
    argmin,
    argsort,
    ceil,
    empty_like,
    equal,
    floor,
    floor_divide,
    greater,
    greater_equal,
    isclose,
    isfinite,
    isinf,
    isnan,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    nonzero,
    not_equal,
    ones_like,
    rint,
    round,
    searchsorted,
    sign,
    stop_gradient,
    trunc,
    zeros_like,
)
from . import fft, linalg  # noqa: F401
from .contractions import (  # noqa: F401
    convolve,
    correlate,
    cross,
    dot,
    einsum,
    inner,
    kron,
    outer,
    polyval,
    tensordot,
    trace,
    vdot,
    vecdot,
)
from .elementwise import (  # noqa: F401
    angle,
    astype,
    clip,
    deg2rad,
    degrees,
    full_like,
    interp,
    positive,
    rad2deg,
    radians,
    select,
    where,
)
from .linalg import norm  # noqa: F401
from .reductions import (  # noqa: F401
    amax,
    amin,
    average,
    corrcoef,
    count_nonzero,
    cov,
    cumprod,
    cumsum,
    cumulative_prod,
    cumulative_sum,
    log_softmax,
    logsumexp,
    max,
    mean,
    median,
    min,
    nanmax,
    nanmean,
    nanmin,
    nanprod,
    nanstd,
    nansum,
    nanvar,
    percentile,
    prod,
    ptp,
    quantile,
    softmax,
    std,
    sum,
    var,
)
from .shaping import (  # noqa: F401
    append,
    array,
    array_split,
    asarray,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    column_stack,
    concatenate,
    diag,
    diagonal,
    diff,
    dstack,
    expand_dims,
    flip,
    fliplr,
    flipud,
    hstack,
    index_add,
    index_update,
    meshgrid,
    moveaxis,
    pad,
    ravel,
    repeat,
    reshape,
    roll,
    rot90,
    sort,
    split,
    squeeze,
    stack,
    swapaxes,
    take,
    take_along_axis,
    tile,
    tril,
    triu,
    vstack,
)

absolute = fabs = abs
true_divide = divide
remainder = mod
conjugate = conj
around = round
# NumPy 2's array-API names
acos, acosh, asin, asinh, atan, atan2, atanh, pow = arccos, arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, power
concat = concatenate


def permute_dims(a: Any, axes: Any) -> Any:
    return transpose(a, axes)


def matrix_transpose(x: Any, /) -> Any:
    return linalg.matrix_transpose(x)


def shape(x: Any) -> tuple:
    return _shape_of(x)


def ndim(x: Any) -> int:
    return _ndim_of(x)


def size(x: Any) -> int:
    return int(_np.prod(_shape_of(x)))


def _fill_numpy_api() -> None:
    """Register every public function here (and in linalg/fft) under the name NumPy uses for it."""
    for prefix, namespace in (("", globals()), ("linalg.", vars(linalg)), ("fft.", vars(fft))):
        for name, fn in namespace.items():
            if callable(fn) and not name.startswith("_") and not isinstance(fn, type):
                _NUMPY_API[prefix + name] = fn
    for name in ("zeros", "ones", "empty", "full", "eye", "arange", "linspace"):
        _NUMPY_API.pop(name, None)  # constructors: NumPy's own, never called with a box to differentiate


_fill_numpy_api()
