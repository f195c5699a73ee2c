"""More of NumPy's surface, each a composition of primitives (so each is differentiable in every mode
without rules of its own): array manipulation, statistics, products, sorting, tensor contractions."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as _np

from ..primitive import ndim_of, shape_of
from ..primitives.elementwise import multiply, sqrt
from ..primitives.linalg import einsum_p, matmul, parse_einsum
from ..primitives.reductions import cumsum_p
from ..primitives.reductions import sum as _sum
from ..primitives.shapes import _axes, broadcast_to, concatenate, getitem, reshape, scatter_add, transpose
from ..primitives.special import argsort
from ..tags import strip

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _axis(axis: int, nd: int) -> int:
    if not -nd <= axis < nd:
        raise ValueError(f"axis {axis} is out of bounds for an array of dimension {nd}")
    return axis % nd


def _along(axis: int, nd: int, index: Any) -> tuple:
    return (slice(None),) * axis + (index,)


# ---- shape manipulation -------------------------------------------------------------------------------
def moveaxis(x: Any, source: int, destination: int) -> Any:
    nd = ndim_of(x)
    order = [a for a in range(nd) if a != _axis(source, nd)]
    order.insert(_axis(destination, nd), _axis(source, nd))
    return transpose(x, tuple(order))


def atleast_1d(x: Any) -> Any:
    return reshape(x, (1,)) if ndim_of(x) == 0 else x


def atleast_2d(x: Any) -> Any:
    nd = ndim_of(x)
    return reshape(x, (1,) * (2 - nd) + shape_of(x)) if nd < 2 else x


def atleast_3d(x: Any) -> Any:
    s = shape_of(x)
    if len(s) == 0:
        return reshape(x, (1, 1, 1))
    if len(s) == 1:
        return reshape(x, (1,) + s + (1,))
    if len(s) == 2:
        return reshape(x, s + (1,))
    return x


def take(x: Any, indices: Any, axis: int | None = None) -> Any:
    indices = _np.asarray(strip(indices))
    if axis is None:
        return getitem(reshape(x, (-1,)), idx=indices)
    return getitem(x, idx=_along(_axis(axis, ndim_of(x)), ndim_of(x), indices))


def take_along_axis(x: Any, indices: Any, axis: int) -> Any:
    indices = _np.asarray(strip(indices))
    nd = ndim_of(x)
    axis = _axis(axis, nd)
    grids = list(_np.ogrid[tuple(slice(n) for n in indices.shape)])
    grids[axis] = indices
    return getitem(x, idx=tuple(_np.broadcast_arrays(*grids)))


def repeat(x: Any, repeats: Any, axis: int | None = None) -> Any:
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    n = shape_of(x)[_axis(axis, ndim_of(x))]
    return take(x, _np.repeat(_np.arange(n), repeats), axis)


def tile(x: Any, reps: Any) -> Any:
    reps = (reps,) if _np.isscalar(reps) else tuple(reps)
    s = shape_of(x)
    nd = max(len(s), len(reps))
    s = (1,) * (nd - len(s)) + s
    reps = (1,) * (nd - len(reps)) + reps
    inter = reshape(x, tuple(v for n in s for v in (1, n)))
    big = broadcast_to(inter, tuple(v for r, n in zip(reps, s) for v in (r, n)))
    return reshape(big, tuple(r * n for r, n in zip(reps, s)))


def array_split(x: Any, sections: Any, axis: int = 0) -> list:
    axis = _axis(axis, ndim_of(x))
    n = shape_of(x)[axis]
    if _np.isscalar(sections):
        k = int(sections)
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        bounds = _np.cumsum([0] + sizes)
    else:
        bounds = [0] + list(sections) + [n]
    return [getitem(x, idx=_along(axis, ndim_of(x), slice(int(a), int(b)))) for a, b in zip(bounds[:-1], bounds[1:])]


def split(x: Any, sections: Any, axis: int = 0) -> list:
    if _np.isscalar(sections) and shape_of(x)[_axis(axis, ndim_of(x))] % int(sections):
        raise ValueError("array split does not result in an equal division (use tnp.array_split)")
    return array_split(x, sections, axis)


def hstack(xs: Sequence[Any]) -> Any:
    xs = [atleast_1d(x) for x in xs]
    return concatenate(*xs, axis=0 if ndim_of(xs[0]) == 1 else 1)


def vstack(xs: Sequence[Any]) -> Any:
    return concatenate(*[atleast_2d(x) for x in xs], axis=0)


def flip(x: Any, axis: Any = None) -> Any:
    nd = ndim_of(x)
    axes = _axes(axis, nd)
    return getitem(x, idx=tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(nd)))


def roll(x: Any, shift: int, axis: int | None = None) -> Any:
    if axis is None:
        return reshape(roll(reshape(x, (-1,)), shift, 0), shape_of(x))
    n = shape_of(x)[_axis(axis, ndim_of(x))]
    return take(x, (_np.arange(n) - shift) % n, axis)


def rot90(x: Any, k: int = 1, axes: tuple = (0, 1)) -> Any:
    k %= 4
    a, b = axes
    if k == 0:
        return x
    if k == 2:
        return flip(flip(x, a), b)
    perm = list(range(ndim_of(x)))
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(flip(x, b), tuple(perm)) if k == 1 else flip(transpose(x, tuple(perm)), b)


def pad(x: Any, pad_width: Any, mode: str = "constant", constant_values: float = 0.0) -> Any:
    """Constant padding (the derivative is the inner block). Other modes: pad by hand with concatenate."""
    if mode != "constant":
        raise NotImplementedError(f"tinyad.numpy.pad supports mode='constant' only, not {mode!r}; build other "
                                  "paddings with tnp.concatenate of slices")
    nd = ndim_of(x)
    widths = _np.broadcast_to(_np.asarray(pad_width, dtype=int).reshape(-1, 2) if _np.ndim(pad_width) else
                              _np.full((1, 2), pad_width), (nd, 2))
    shape = tuple(n + int(lo) + int(hi) for n, (lo, hi) in zip(shape_of(x), widths))
    inner = tuple(slice(int(lo), int(lo) + n) for n, (lo, _) in zip(shape_of(x), widths))
    out = scatter_add(x, idx=inner, shape=shape)
    if constant_values:
        mask = _np.full(shape, float(constant_values))
        mask[inner] = 0.0
        out = out + mask
    return out


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    nd = ndim_of(x)
    a1, a2 = _axis(axis1, nd), _axis(axis2, nd)
    moved = moveaxis(moveaxis(x, a1, -1), a2 if a2 < a1 else a2 - 1, -1)
    n1, n2 = shape_of(moved)[-2:]
    i = _np.arange(max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2)))
    rows, cols = (i, i + offset) if offset >= 0 else (i - offset, i)
    return getitem(moved, idx=(Ellipsis, rows, cols))


def diag(v: Any, k: int = 0) -> Any:
    if ndim_of(v) == 2:
        return diagonal(v, k)
    if ndim_of(v) != 1:
        raise ValueError("tinyad.numpy.diag: input must be 1-d or 2-d")
    n = shape_of(v)[0] + abs(k)
    i = _np.arange(shape_of(v)[0])
    rows, cols = (i, i + k) if k >= 0 else (i - k, i)
    return scatter_add(v, idx=(rows, cols), shape=(n, n))


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    return _sum(diagonal(x, offset, axis1, axis2), axis=-1)


def tril(x: Any, k: int = 0) -> Any:
    return multiply(x, _np.tril(_np.ones(shape_of(x)[-2:]), k))


def triu(x: Any, k: int = 0) -> Any:
    return multiply(x, _np.triu(_np.ones(shape_of(x)[-2:]), k))


def meshgrid(*xs: Any, indexing: str = "xy") -> list:
    xs = [reshape(x, (-1,)) for x in xs]
    shape = tuple(shape_of(x)[0] for x in xs)
    if indexing == "xy" and len(xs) >= 2:
        shape = (shape[1], shape[0]) + shape[2:]
    out = []
    for i, x in enumerate(xs):
        pos = i
        if indexing == "xy" and len(xs) >= 2 and i < 2:
            pos = 1 - i
        view = [1] * len(shape)
        view[pos] = shape[pos]
        out.append(broadcast_to(reshape(x, tuple(view)), shape))
    return out


# ---- statistics, products, sorting --------------------------------------------------------------------
def var(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    shp = shape_of(x)
    n = int(_np.prod([shp[a] for a in _axes(axis, len(shp))]))
    centred = x - _sum(x, axis=axis, keepdims=True) / float(n)
    return _sum(centred * centred, axis=axis, keepdims=keepdims) / float(n - ddof)


def std(x: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Any:
    return sqrt(var(x, axis, ddof, keepdims))


def prod(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    """Pairwise products (log-depth): exact derivatives even with zeros among the factors."""
    if axis is None:
        out = prod(reshape(x, (-1,)), 0)
        return reshape(out, (1,) * ndim_of(x)) if keepdims else out
    axis = _axis(axis, ndim_of(x))
    while shape_of(x)[axis] > 1:
        n = shape_of(x)[axis]
        head = getitem(x, idx=_along(axis, ndim_of(x), slice(0, n - n % 2, 2)))
        tail = getitem(x, idx=_along(axis, ndim_of(x), slice(1, n, 2)))
        pairs = head * tail
        if n % 2:
            pairs = concatenate(pairs, getitem(x, idx=_along(axis, ndim_of(x), slice(n - 1, n))), axis=axis)
        x = pairs
    if shape_of(x)[axis] == 0:
        return _np.ones(tuple(1 if keepdims else n for i, n in enumerate(shape_of(x)) if keepdims or i != axis))
    return x if keepdims else reshape(x, tuple(n for i, n in enumerate(shape_of(x)) if i != axis))


def cumsum(x: Any, axis: int | None = None) -> Any:
    if axis is None:
        return cumsum_p(reshape(x, (-1,)), axis=0)
    return cumsum_p(x, axis=_axis(axis, ndim_of(x)))


def cumprod(x: Any, axis: int | None = None) -> Any:
    """Hillis-Steele scan of products (log-depth), exact with zeros."""
    if axis is None:
        x, axis = reshape(x, (-1,)), 0
    axis = _axis(axis, ndim_of(x))
    n, shift = shape_of(x)[axis], 1
    while shift < n:
        ones_shape = tuple(shift if i == axis else s for i, s in enumerate(shape_of(x)))
        shifted = concatenate(_np.ones(ones_shape), getitem(x, idx=_along(axis, ndim_of(x), slice(0, n - shift))),
                              axis=axis)
        x = x * shifted
        shift *= 2
    return x


def sort(x: Any, axis: int = -1) -> Any:
    return take_along_axis(x, argsort(x, axis=axis), axis)


def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    na, nb = ndim_of(a), ndim_of(b)
    if _np.isscalar(axes):
        ax_a, ax_b = list(range(na - int(axes), na)), list(range(int(axes)))
    else:
        ax_a, ax_b = ([axes[0]] if _np.isscalar(axes[0]) else list(axes[0]),
                      [axes[1]] if _np.isscalar(axes[1]) else list(axes[1]))
    ax_a, ax_b = [a_ % na for a_ in ax_a], [b_ % nb for b_ in ax_b]
    la, lb = list(_LETTERS[:na]), list(_LETTERS[na:na + nb])
    for i, j in zip(ax_a, ax_b):
        lb[j] = la[i]
    out = [c for i, c in enumerate(la) if i not in ax_a] + [c for j, c in enumerate(lb) if j not in ax_b]
    return einsum_p(a, b, subscripts=f"{''.join(la)},{''.join(lb)}->{''.join(out)}")


def dot_any(a: Any, b: Any) -> Any:
    """NumPy's dot for any ranks: a sum over the last axis of a and the second-to-last of b."""
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return multiply(a, b)
    if ndim_of(a) <= 2 and ndim_of(b) <= 2:
        return matmul(a, b)
    return tensordot(a, b, axes=([-1], [max(ndim_of(b) - 2, 0)]))


def inner(a: Any, b: Any) -> Any:
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return multiply(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


def einsum(subscripts: str, *operands: Any) -> Any:
    parse_einsum(subscripts, len(operands))  # validate early, with a clear message
    return einsum_p(*operands, subscripts=subscripts)


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A002
    """Vector norms (ord None/2, 1, inf, -inf, p) and the Frobenius matrix norm. The 2-norm's derivative is
    undefined at 0 (NaN there, as in JAX)."""
    from ..primitives.elementwise import abs as _abs
    from ..primitives.reductions import max as _max

    if ord in (None, 2, "fro") and (ord != 2 or axis is None or _np.isscalar(axis)):
        return sqrt(_sum(x * x, axis=axis, keepdims=keepdims))
    if ord == 1:
        return _sum(_abs(x), axis=axis, keepdims=keepdims)
    if ord == _np.inf:
        return _max(_abs(x), axis=axis, keepdims=keepdims)
    if ord == -_np.inf:
        return -_max(-_abs(x), axis=axis, keepdims=keepdims)
    if _np.isscalar(ord) and ord > 0:
        return _sum(_abs(x) ** float(ord), axis=axis, keepdims=keepdims) ** (1.0 / float(ord))
    raise NotImplementedError(f"tinyad.numpy.norm: ord={ord!r} is not supported")

