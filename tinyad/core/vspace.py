"""The vector-space plumbing the engine itself needs, and the primitives it is made of.

Moving tangents and cotangents around takes a few operations: adding them, keeping the real part of a
cotangent that flows into a real input, summing a cotangent back over broadcast axes, aligning a tangent
that carries k directions on a leading axis, and stacking or splitting directions. They are written here
with a handful of primitives — ``add``, ``real`` and the linear structural ops (reshape, transpose,
broadcast_to, sum, getitem and its transpose scatter_add, concatenate) — each with its rules like any
other primitive, so that the engine never imports the op library above it. ``tinyad.ops`` re-exports them.

Static parameters (shapes, axes, indices) are keyword-only on the primitives, so that positional arguments
are exactly the differentiable ones. Linear primitives need only their VJP (the transpose); batched JVP rules
(a leading axis of k tangent directions) shift the axes by one so that k directions cost one NumPy call.
"""

from __future__ import annotations

import operator
from typing import Any, Callable

import numpy as np

from .primitive import builtin, dtype_of, ndim_of, shape_of
from .trace import Box, innermost


def normalize_axes(axis: Any, nd: int) -> tuple:
    """Reduction axes as a sorted tuple of non-negative ints (None: all axes); out-of-range axes raise."""
    if axis is None:
        return tuple(range(nd))
    items = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in items:
        if isinstance(a, Box):  # a traced number: operator.index says it needs its value (static_argnums)
            a = operator.index(a)
        if not isinstance(a, (int, np.integer)) or isinstance(a, bool):
            raise TypeError(f"axis must be an int or a tuple of ints, got {axis!r}")
        if not -max(nd, 1) <= a < max(nd, 1):
            raise np.exceptions.AxisError(f"axis {a} is out of bounds for an array of dimension {nd}")
        out.append(int(a) % nd if nd else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis!r}")
    return tuple(sorted(out))


# ---- add, and the real part of a cotangent --------------------------------------------------------------
add = builtin(np.add, "add", elementwise=True).def_partials(1, 1)
add.scalar = "({0} + {1})"  # for fused kernels (tinyad.core.fusion)

# real: C -> R. With JAX's convention (a cotangent c of z means dL = Re(sum(c dz))) the cotangent of z
# for a real output cotangent g is g itself.
real = builtin(np.real, "real", elementwise=True)
real.defjvp(lambda g, ans, x: real(g))
real.defvjp(lambda g, ans, x: g)


def is_real_array(c: Any) -> bool:
    return type(c) is np.ndarray and c.dtype.kind != "c"


def real_if_real(c: Any, x: Any) -> Any:
    """A cotangent for ``x``: its real part when x is real (a real input only feels Re of a complex one)."""
    if is_real_array(c):
        return c
    if _complex(c) and not _complex(x):
        return real(c)
    return c


def _complex(x: Any) -> bool:
    dt = getattr(innermost(x), "dtype", None)
    return dt.kind == "c" if dt is not None else isinstance(innermost(x), complex)


# ---- dtypes: a tangent or cotangent has the dtype of the value it belongs to ------------------------------------
def float_dtype(x: Any) -> np.dtype:
    """The dtype derivatives of ``x`` take: its own if floating or complex (float32 stays float32), else
    float64 (Python floats and integers)."""
    dt = x.dtype if type(x) is np.ndarray else dtype_of(x)
    return dt if dt.kind in "fc" else np.dtype(np.float64)


def _astype(x, *, dtype):
    return np.asarray(x).astype(dtype)


astype_p = builtin(_astype, "astype", linear=True)
astype_p.defvjp(lambda g, ans, x, dtype: astype_p(real_if_real(g, x), dtype=float_dtype(x)))


def cast_like(t: Any, x: Any) -> Any:
    """``t`` (a tangent or cotangent of ``x``) in ``x``'s floating dtype: one cast, where the rules' constants
    (float64 masks, ``np.eye``) or a float64 seed promoted a float32 derivative."""
    if type(t) is np.ndarray and type(x) is np.ndarray and t.dtype == x.dtype and x.dtype.kind in "fc":
        return t  # (the usual case)
    want = float_dtype(x)
    have = t.dtype if type(t) is np.ndarray else float_dtype(t)
    if have == want or (want.kind == "f" and have.kind == "c"):  # complex -> real is real_if_real's job
        return t
    return astype_p(t, dtype=want)


# ---- reshape, transpose, broadcast ------------------------------------------------------------------------
def _reshape(x, *, shape):
    return np.reshape(x, shape)


reshape_p = builtin(_reshape, "reshape", linear=True)
reshape_p.defvjp(lambda g, ans, x, shape: reshape(g, shape_of(x)))
reshape_p.defjvp_batched(lambda g, ans, x, shape: reshape(g, (shape_of(g)[0],) + shape_of(ans)))


def reshape(x, shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return x if shape_of(x) == shape else reshape_p(x, shape=shape)


def _transpose(x, *, axes=None):
    return np.transpose(x, axes)


def _perm(axes, nd: int) -> tuple:
    """A permutation of ``range(nd)`` from NumPy's ``axes`` argument (None: reversed; negatives allowed)."""
    if axes is None:
        return tuple(range(nd))[::-1]
    perm = tuple(int(a) % nd if -nd <= a < nd else a for a in axes)
    if sorted(perm) != list(range(nd)):
        raise ValueError(f"axes {tuple(axes)} are not a permutation of the {nd} axes of the array")
    return perm


transpose_p = builtin(_transpose, "transpose", linear=True)
transpose_p.defvjp(lambda g, ans, x, axes: transpose(g, tuple(int(a) for a in np.argsort(axes))))
transpose_p.defjvp_batched(lambda g, ans, x, axes: transpose(g, (0,) + tuple(a + 1 for a in axes)))


def transpose(x, axes=None):
    """NumPy's transpose; the primitive always receives the full, non-negative permutation."""
    perm = _perm(axes, ndim_of(x))
    return x if perm == tuple(range(len(perm))) else transpose_p(x, axes=perm)


def swap_last(a):
    """Transpose the last two axes (a batch of matrices)."""
    nd = ndim_of(a)
    return transpose(a, tuple(range(nd - 2)) + (nd - 1, nd - 2))


def _broadcast_to(x, *, shape):
    return np.broadcast_to(x, shape)


broadcast_to_p = builtin(_broadcast_to, "broadcast_to", linear=True)
broadcast_to_p.defvjp(lambda g, ans, x, shape: unbroadcast(g, shape_of(x)))
broadcast_to_p.defjvp_batched(
    lambda g, ans, x, shape: broadcast_to(align(g, len(shape)), (shape_of(g)[0],) + tuple(shape))
)


def broadcast_to(x, shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return x if shape_of(x) == shape else broadcast_to_p(x, shape=shape)


# ---- sum and un-broadcasting ------------------------------------------------------------------------------
def _sum(x, *, axis=None, keepdims=False):
    return np.sum(x, axis=axis, keepdims=keepdims)


def keepdims_shape(shape: tuple, axis: Any) -> tuple:
    axes = normalize_axes(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def expand(g, x, axis, keepdims):
    """A reduced value ``g`` reshaped so that it broadcasts against the unreduced ``x``."""
    return g if keepdims else reshape(g, keepdims_shape(shape_of(x), axis))


sum_p = builtin(_sum, "sum", linear=True)
sum_p.defvjp(lambda g, ans, x, axis=None, keepdims=False: broadcast_to(expand(g, x, axis, keepdims), shape_of(x)))
sum_p.defjvp_batched(
    lambda g, ans, x, axis=None, keepdims=False: sum_p(
        g, axis=tuple(a + 1 for a in normalize_axes(axis, ndim_of(x))), keepdims=keepdims)
)


def sum(x, axis=None, keepdims=False):  # noqa: A001 - the NumPy name
    return sum_p(x, axis=None if axis is None else normalize_axes(axis, ndim_of(x)), keepdims=keepdims)


def unbroadcast(g, shape: tuple):
    """Sum ``g`` over the axes NumPy broadcast to reach its shape from ``shape`` (the VJP of broadcasting)."""
    gshape = shape_of(g)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1)
    if axes:
        g = sum_p(g, axis=axes)
    return g if shape_of(g) == shape else reshape(g, shape)


# ---- indexing ------------------------------------------------------------------------------------------
def is_basic_index(idx) -> bool:
    """True when ``idx`` uses only basic indexing (ints, slices, None, Ellipsis): no element repeats."""
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in items)


def _getitem(x, *, idx):
    return x[idx]


def _scatter_add(g, *, idx, shape):
    out = np.zeros(shape, dtype=float_dtype(g))  # the value's own float dtype: float32 stays float32
    if is_basic_index(idx):
        out[idx] = g
    else:
        np.add.at(out, idx, g)  # repeated integer indices must accumulate
    return out


getitem = builtin(_getitem, "getitem", linear=True)
getitem.defvjp(lambda g, ans, x, idx: scatter_add(g, idx=idx, shape=shape_of(x)))


def _getitem_batched(g, ans, x, idx):
    if is_basic_index(idx):
        return getitem(g, idx=(slice(None),) + (idx if isinstance(idx, tuple) else (idx,)))
    return map_directions(lambda gj: getitem(gj, idx=idx), g)  # advanced indices may move axes


getitem.defjvp_batched(_getitem_batched)

scatter_add = builtin(_scatter_add, "scatter_add", linear=True)
scatter_add.defvjp(lambda g, ans, x, idx, shape: getitem(g, idx=idx))


# ---- concatenate and stack ----------------------------------------------------------------------------------
def _concatenate(*xs, axis=0):  # any number of differentiable inputs; axis is keyword-only
    return np.concatenate(xs, axis=axis)


def _concat_vjp(i: int) -> Callable:
    def rule(g, ans, *xs, axis=0):
        if axis is None:  # the inputs were flattened first
            start = int(np.sum([np.size(innermost(x)) for x in xs[:i]], dtype=int))
            return reshape(getitem(g, idx=slice(start, start + int(np.prod(shape_of(xs[i]))))), shape_of(xs[i]))
        ax = axis % ndim_of(ans)
        start = int(np.sum([shape_of(x)[ax] for x in xs[:i]], dtype=int))
        return getitem(g, idx=(slice(None),) * ax + (slice(start, start + shape_of(xs[i])[ax]),))

    return rule


concatenate = builtin(_concatenate, "concatenate", linear=True).defvariadic(_concat_vjp)


def stack(xs, axis=0):
    """Stack along a new axis (a reshape of each input, then one concatenate)."""
    xs = list(xs)
    if not xs:
        raise ValueError("need at least one array to stack")
    nd = ndim_of(xs[0]) + 1
    ax = normalize_axes(axis, nd)[0]
    return concatenate(*[reshape(x, shape_of(x)[:ax] + (1,) + shape_of(x)[ax:]) for x in xs], axis=ax)


# ---- k tangent directions on a leading axis -----------------------------------------------------------------
def align(g, nd: int):
    """Batched tangent ``g`` (k, *s) reshaped to (k, 1, ..., 1, *s) with ``nd`` trailing axes."""
    gshape = shape_of(g)
    missing = nd - (len(gshape) - 1)
    return g if missing <= 0 else reshape(g, gshape[:1] + (1,) * missing + gshape[1:])


def map_directions(f: Callable, *gs: Any) -> Any:
    """``f`` applied to each of the k directions of batched tangents ``gs`` (k, ...), stacked again: the
    fallback for rules that have no batched form."""
    k = shape_of(gs[0])[0]
    return stack([f(*[g[j] for g in gs]) for j in range(k)])
