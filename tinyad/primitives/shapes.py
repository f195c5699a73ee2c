"""Linear structural primitives: reshape, transpose, broadcast_to, indexing, scatter-add, concatenate.

They are linear, so their JVP is the op itself applied to the tangent (``linear=True``); only the VJP,
the transpose, is written. Batched JVP rules (a leading axis of k tangent directions) shift the axes by one
so that k directions cost one NumPy call.
"""

from __future__ import annotations

import numpy as np

from ..primitive import Primitive, ndim_of, shape_of
from ..tags import innermost


def _axes(axis, nd: int) -> tuple:
    """Normalised, non-negative reduction axes (None means all)."""
    if axis is None:
        return tuple(range(nd))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(sorted(int(a) % nd if nd else 0 for a in axis))


# Static parameters (shapes, axes, indices) are keyword-only on the primitives, so that positional
# arguments are exactly the differentiable ones; the NumPy-style functions below pass them through.
def _reshape(x, *, shape):
    return np.reshape(x, shape)


reshape_p = Primitive(_reshape, "reshape", linear=True)
reshape_p.defvjp(lambda g, ans, x, shape: reshape(g, shape_of(x)))
reshape_p.defjvp_batched(lambda g, ans, x, shape: reshape(g, (shape_of(g)[0],) + shape_of(ans)))


def reshape(x, shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return x if shape_of(x) == shape else reshape_p(x, shape=shape)


def _transpose(x, *, axes=None):
    return np.transpose(x, axes)


def _inverse_perm(axes):
    return None if axes is None else tuple(int(a) for a in np.argsort(axes))


transpose_p = Primitive(_transpose, "transpose", linear=True)
transpose_p.defvjp(lambda g, ans, x, axes=None: transpose(g, _inverse_perm(axes)))
transpose_p.defjvp_batched(
    lambda g, ans, x, axes=None: transpose(
        g, (0,) + tuple(a + 1 for a in (range(ndim_of(x))[::-1] if axes is None else axes))
    )
)


def transpose(x, axes=None):
    return transpose_p(x, axes=None if axes is None else tuple(axes))


def unbroadcast(g, shape: tuple):
    """Sum ``g`` over the axes NumPy broadcast to reach its shape from ``shape`` (the VJP of broadcasting)."""
    gshape = shape_of(g)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1
    )
    if axes:
        from .reductions import sum as _sum

        g = _sum(g, axis=axes)
    return g if shape_of(g) == shape else reshape(g, shape)


def _broadcast_to(x, *, shape):
    return np.broadcast_to(x, shape)


def _align(g, nd: int):
    """Batched tangent ``g`` (k, *s) reshaped to (k, 1, ..., 1, *s) with ``nd`` trailing axes."""
    gshape = shape_of(g)
    missing = nd - (len(gshape) - 1)
    return g if missing <= 0 else reshape(g, gshape[:1] + (1,) * missing + gshape[1:])


broadcast_to_p = Primitive(_broadcast_to, "broadcast_to", linear=True)
broadcast_to_p.defvjp(lambda g, ans, x, shape: unbroadcast(g, shape_of(x)))
broadcast_to_p.defjvp_batched(
    lambda g, ans, x, shape: broadcast_to(_align(g, len(shape)), (shape_of(g)[0],) + tuple(shape))
)


def broadcast_to(x, shape):
    shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    return x if shape_of(x) == shape else broadcast_to_p(x, shape=shape)


def _is_basic(idx) -> bool:
    """True when ``idx`` uses only basic indexing (ints, slices, None, Ellipsis): no element repeats."""
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(
        i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in items
    )


def _getitem(x, *, idx):
    return x[idx]


def _scatter_add(g, *, idx, shape):
    out = np.zeros(shape, dtype=np.result_type(g, np.float64))
    if _is_basic(idx):
        out[idx] = g
    else:
        np.add.at(out, idx, g)  # repeated integer indices must accumulate
    return out


getitem = Primitive(_getitem, "getitem", linear=True)
getitem.defvjp(lambda g, ans, x, idx: scatter_add(g, idx=idx, shape=shape_of(x)))


def _getitem_batched(g, ans, x, idx):
    if _is_basic(idx):
        items = idx if isinstance(idx, tuple) else (idx,)
        return getitem(g, idx=(slice(None),) + items)
    from .reductions import stack  # advanced indices may move axes: one direction at a time

    return stack([getitem(g[j], idx=idx) for j in range(shape_of(g)[0])])


getitem.defjvp_batched(_getitem_batched)

scatter_add = Primitive(_scatter_add, "scatter_add", linear=True)
scatter_add.defvjp(lambda g, ans, x, idx, shape: getitem(g, idx=idx))


def _concatenate(*xs, axis=0):  # any number of differentiable inputs; axis is keyword-only
    return np.concatenate(xs, axis=axis)


def _concat_vjp(i):
    def rule(g, ans, *xs, axis=0):
        nd = ndim_of(ans)
        ax = axis % nd
        start = int(sum(shape_of(x)[ax] for x in xs[:i]))
        sl = (slice(None),) * ax + (slice(start, start + shape_of(xs[i])[ax]),)
        return getitem(g, idx=sl)

    return rule


class PerOperand(tuple):
    """Rules for a primitive with any number of operands: ``make(i)`` builds the rule for operand i."""

    def __new__(cls, make):
        obj = super().__new__(cls)
        obj.make = make
        return obj

    def __getitem__(self, i):
        return self.make(i)

    def __len__(self):
        return 1 << 30


concatenate = Primitive(_concatenate, "concatenate", linear=True)
concatenate.vjps = PerOperand(_concat_vjp)


def _astype(x, *, dtype):
    return np.asarray(x).astype(dtype)


astype_p = Primitive(_astype, "astype", linear=True)
astype_p.defvjp(lambda g, ans, x, dtype: astype_p(g, dtype=np.result_type(innermost(x))))
