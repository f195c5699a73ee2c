"""Array manipulation and indexing, each a composition of structural primitives (so each is differentiable
in every mode with no rules of its own): moving, adding and removing axes, tiling, splitting, joining,
flipping, padding, diagonals, and functional index updates."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as _np

from ..core.primitive import ndim_of, shape_of
from ..core.trace import innermost, strip
from ..core.vspace import broadcast_to, getitem, normalize_axes, reshape, scatter_add, transpose
from ..core.vspace import concatenate as _concatenate
from ..core.vspace import stack as _stack
from ..ops.elementwise import multiply, where
from ..ops.nondiff import argsort, not_equal


def one_axis(axis: Any, nd: int) -> int:
    """A single axis as a non-negative int (negative axes count from the end); out of range raises."""
    if isinstance(axis, (tuple, list)):
        raise TypeError(f"this function takes a single axis, got {axis!r}")
    return normalize_axes(axis, nd)[0]


def _along(axis: int, index: Any) -> tuple:
    return (slice(None),) * axis + (index,)


# ---- axes -------------------------------------------------------------------------------------------------
def moveaxis(x: Any, source: Any, destination: Any) -> Any:
    nd = ndim_of(x)
    src = _np.atleast_1d(source).tolist()
    dst = _np.atleast_1d(destination).tolist()
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination must have the same number of elements")
    src = [one_axis(a, nd) for a in src]
    dst = [one_axis(a, nd) for a in dst]
    order = [a for a in range(nd) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, tuple(order))


def swapaxes(x: Any, a: int, b: int) -> Any:
    perm = list(range(ndim_of(x)))
    a, b = one_axis(a, len(perm)), one_axis(b, len(perm))
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(x, tuple(perm))


def expand_dims(x: Any, axis: Any) -> Any:
    shp = shape_of(x)
    axes = normalize_axes(axis, len(shp) + (len(axis) if isinstance(axis, (tuple, list)) else 1))
    out = list(shp)
    for a in axes:
        out.insert(a, 1)
    return reshape(x, tuple(out))


def squeeze(x: Any, axis: Any = None) -> Any:
    return reshape(x, _np.squeeze(_np.empty(shape_of(x), dtype=bool), axis=axis).shape)


def ravel(x: Any) -> Any:
    return reshape(x, (-1,))


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


# ---- joining and splitting -----------------------------------------------------------------------------------
def concatenate(arrays: Any, axis: Any = 0) -> Any:
    arrays = list(arrays)
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    return _concatenate(*arrays, axis=one_axis(axis, ndim_of(arrays[0])))


def stack(arrays: Any, axis: int = 0) -> Any:
    return _stack(list(arrays), axis)


def hstack(xs: Sequence[Any]) -> Any:
    xs = [atleast_1d(x) for x in xs]
    return concatenate(xs, axis=0 if ndim_of(xs[0]) == 1 else 1)


def vstack(xs: Sequence[Any]) -> Any:
    return concatenate([atleast_2d(x) for x in xs], axis=0)


def array_split(x: Any, sections: Any, axis: int = 0) -> list:
    axis = one_axis(axis, ndim_of(x))
    n = shape_of(x)[axis]
    if _np.isscalar(sections):
        k = int(sections)
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        bounds = _np.cumsum([0] + sizes)
    else:
        bounds = [0] + list(sections) + [n]
    return [getitem(x, idx=_along(axis, slice(int(a), int(b)))) for a, b in zip(bounds[:-1], bounds[1:])]


def split(x: Any, sections: Any, axis: int = 0) -> list:
    if _np.isscalar(sections) and shape_of(x)[one_axis(axis, ndim_of(x))] % int(sections):
        raise ValueError("array split does not result in an equal division (use tnp.array_split)")
    return array_split(x, sections, axis)


# ---- repeating, flipping, rolling ------------------------------------------------------------------------------
def take(x: Any, indices: Any, axis: int | None = None) -> Any:
    indices = _np.asarray(strip(indices))
    if axis is None:
        return getitem(ravel(x), idx=indices)
    return getitem(x, idx=_along(one_axis(axis, ndim_of(x)), indices))


def take_along_axis(x: Any, indices: Any, axis: int | None) -> Any:
    indices = _np.asarray(strip(indices))
    if axis is None:
        x, axis = ravel(x), 0
    axis = one_axis(axis, ndim_of(x))
    grids = list(_np.ogrid[tuple(slice(n) for n in indices.shape)])
    grids[axis] = indices
    return getitem(x, idx=tuple(_np.broadcast_arrays(*grids)))


def sort(x: Any, axis: int | None = -1) -> Any:
    if axis is None:
        x, axis = ravel(x), 0
    return take_along_axis(x, argsort(x, axis=axis), axis)


def repeat(x: Any, repeats: Any, axis: int | None = None) -> Any:
    if axis is None:
        x, axis = ravel(x), 0
    n = shape_of(x)[one_axis(axis, ndim_of(x))]
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


def flip(x: Any, axis: Any = None) -> Any:
    nd = ndim_of(x)
    axes = normalize_axes(axis, nd)
    return getitem(x, idx=tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(nd)))


def roll(x: Any, shift: Any, axis: Any = None) -> Any:
    if axis is None:
        return reshape(roll(ravel(x), shift, 0), shape_of(x))
    shifts, axes = _np.broadcast_arrays(_np.atleast_1d(shift), _np.atleast_1d(axis))
    total: dict[int, int] = {}
    for s, a in zip(shifts.tolist(), axes.tolist()):  # NumPy adds shifts given twice for one axis
        a = one_axis(a, ndim_of(x))
        total[a] = total.get(a, 0) + int(s)
    for a, s in total.items():
        n = shape_of(x)[a]
        if n:
            x = take(x, (_np.arange(n) - s) % n, a)
    return x


def rot90(x: Any, k: int = 1, axes: tuple = (0, 1)) -> Any:
    k %= 4
    a, b = (one_axis(ax, ndim_of(x)) for ax in axes)
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


# ---- diagonals and triangles ------------------------------------------------------------------------------------
def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    moved = moveaxis(x, (axis1, axis2), (-2, -1))
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


def tril(x: Any, k: int = 0) -> Any:
    return multiply(x, _np.tril(_np.ones(shape_of(x)[-2:]), k))


def triu(x: Any, k: int = 0) -> Any:
    return multiply(x, _np.triu(_np.ones(shape_of(x)[-2:]), k))


def meshgrid(*xs: Any, indexing: str = "xy") -> list:
    xs = [ravel(x) for x in xs]
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


# ---- functional index updates -----------------------------------------------------------------------------------
def _scattered(x: Any, idx: Any, v: Any) -> Any:
    """``v`` broadcast to the shape of ``x[idx]`` and placed there, in zeros the shape of ``x``."""
    target = _np.empty(shape_of(x), dtype=bool)[idx].shape
    return scatter_add(broadcast_to(v, target), idx=idx, shape=shape_of(x))


def index_add(x: Any, idx: Any, v: Any) -> Any:
    """Functional ``x[idx] += v`` (repeated indices accumulate, as ``np.add.at``)."""
    return x + _scattered(x, strip(idx), v)


def index_update(x: Any, idx: Any, v: Any) -> Any:
    """Functional ``x[idx] = v``: a new array; ``x`` is unchanged. As in NumPy, where an index repeats the
    last write wins, and the derivative flows to that write only."""
    idx = strip(idx)
    target = _np.empty(shape_of(x), dtype=bool)[idx].shape
    # Which element of x[idx] lands on each position of x: write the positions' numbers the NumPy way.
    owner = _np.full(shape_of(x), -1)
    owner[idx] = _np.arange(int(_np.prod(target))).reshape(target)
    written = owner >= 0
    winners = owner[written]  # flat positions in x[idx] whose write survives, in x's order
    flat_v = ravel(broadcast_to(v, target))
    placed = scatter_add(getitem(flat_v, idx=winners), idx=_np.nonzero(written), shape=shape_of(x))
    return where(written, placed, x)



# ---- differences -------------------------------------------------------------------------------------------------
def diff(x: Any, n: int = 1, axis: int = -1, prepend: Any = _np._NoValue, append: Any = _np._NoValue) -> Any:
    """The n-th forward difference along ``axis`` (``x[1:] - x[:-1]``, n times), with NumPy's ``prepend`` and
    ``append`` (scalars are broadcast across the other axes). Boolean inputs give ``!=``, as in NumPy."""
    if n < 0:
        raise ValueError(f"tinyad.numpy.diff: order must be non-negative but got {n!r}")
    if n == 0:
        return x
    nd = ndim_of(x)
    if nd == 0:
        raise ValueError("tinyad.numpy.diff requires input that is at least one dimensional")
    axis = one_axis(axis, nd)
    parts = []
    for extra in (prepend, None, append):
        if extra is None:
            parts.append(x)
        elif extra is not _np._NoValue:
            if ndim_of(extra) == 0:
                extra = broadcast_to(extra, tuple(1 if i == axis else m for i, m in enumerate(shape_of(x))))
            parts.append(extra)
    if len(parts) > 1:
        x = concatenate(parts, axis=axis)
    for _ in range(int(n)):
        m = shape_of(x)[axis]
        hi, lo = getitem(x, idx=_along(axis, slice(1, None))), getitem(x, idx=_along(axis, slice(0, max(m - 1, 0))))
        if _np.result_type(innermost(x)).kind == "b":
            x = not_equal(hi, lo)
        else:
            x = hi - lo
    return x
