"""Array manipulation and indexing, each a composition of structural primitives (so each is differentiable
in every mode with no rules of its own): moving, adding and removing axes, tiling, splitting, joining,
flipping, padding, diagonals, and functional index updates."""

from __future__ import annotations

import operator as _operator
from typing import Any, Sequence

import numpy as _np

from ..core.primitive import holds_box, ndim_of, shape_of
from ..core.trace import Box, innermost, strip
from ..core.vspace import broadcast_to, getitem, normalize_axes, scatter_add, transpose
from ..core.vspace import concatenate as _concatenate
from ..core.vspace import reshape as _reshape
from ..core.vspace import stack as _stack
from ..ops.elementwise import multiply, where
from ..ops.nondiff import argsort, not_equal
from .elementwise import astype


def one_axis(axis: Any, nd: int) -> int:
    """A single axis as a non-negative int (negative axes count from the end); out of range raises."""
    if axis is None or isinstance(axis, (tuple, list)):
        raise TypeError(f"this function takes a single integer axis, got {axis!r}")
    if isinstance(axis, Box):  # a traced number: operator.index says it needs its value (static_argnums)
        axis = _operator.index(axis)
    if not -nd <= axis < nd:
        raise _np.exceptions.AxisError(f"axis {axis} is out of bounds for array of dimension {nd}")
    return normalize_axes(axis, nd)[0]


def as_array(x: Any) -> Any:
    """A box or an ndarray as it is; anything else NumPy takes for an array (lists, scalars) as an ndarray —
    and a (nested) list or tuple holding boxes as their stack, so that its derivatives are kept."""
    if isinstance(x, (Box, _np.ndarray)):
        return x
    if isinstance(x, (list, tuple)) and holds_box(x):
        return _stack([as_array(item) for item in x], 0)
    return _np.asarray(x)


def array(obj: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:
    """NumPy's ``array``; a (nested) list of boxes becomes their stack (differentiable, as jnp.array)."""
    if not holds_box(obj):
        return _np.array(obj, dtype, *args, **kwargs)
    return _cast(as_array(obj), dtype)


def asarray(obj: Any, dtype: Any = None, *args: Any, **kwargs: Any) -> Any:
    """NumPy's ``asarray``; a box, or a (nested) list of boxes, stays differentiable."""
    if not holds_box(obj):
        return _np.asarray(obj, dtype, *args, **kwargs)
    return _cast(as_array(obj), dtype)


def _along(axis: int, index: Any) -> tuple:
    return (slice(None),) * axis + (index,)


# ---- axes -------------------------------------------------------------------------------------------------
def moveaxis(x: Any, source: Any, destination: Any) -> Any:
    x = as_array(x)
    nd = ndim_of(x)
    src = _np.atleast_1d(source).tolist()
    dst = _np.atleast_1d(destination).tolist()
    if len(src) != len(dst):
        raise ValueError("moveaxis: source and destination must have the same number of elements")
    src = [one_axis(a, nd) for a in src]
    dst = [one_axis(a, nd) for a in dst]
    for name, axes in (("source", src), ("destination", dst)):
        if len(set(axes)) != len(axes):
            raise ValueError(f"moveaxis: repeated axis in `{name}` argument")
    order = [a for a in range(nd) if a not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(x, tuple(order))


def swapaxes(x: Any, a: int, b: int) -> Any:
    x = as_array(x)
    perm = list(range(ndim_of(x)))
    a, b = one_axis(a, len(perm)), one_axis(b, len(perm))
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(x, tuple(perm))


def expand_dims(x: Any, axis: Any) -> Any:
    x = as_array(x)
    shp = shape_of(x)
    axes = normalize_axes(axis, len(shp) + (len(axis) if isinstance(axis, (tuple, list)) else 1))
    out = list(shp)
    for a in axes:
        out.insert(a, 1)
    return reshape(x, tuple(out))


def squeeze(x: Any, axis: Any = None) -> Any:
    x = as_array(x)
    return reshape(x, _np.squeeze(_np.empty(shape_of(x), dtype=bool), axis=axis).shape)


def _order(x: Any, order: str) -> str:
    """NumPy's memory order for reshape/ravel: 'C' (rows), 'F' (columns), 'A' (F if x is Fortran-ordered)."""
    if order not in ("C", "F", "A", "K"):
        raise ValueError(f"order must be one of 'C', 'F', 'A' or 'K' (got {order!r})")
    if order in ("C", "F"):
        return order
    v = innermost(x)
    fortran = isinstance(v, _np.ndarray) and v.flags.f_contiguous and not v.flags.c_contiguous
    return "F" if fortran else "C"


def reshape(x: Any, shape: Any, order: str = "C", *, copy: Any = None) -> Any:
    """NumPy's reshape, also in column-major order (the reverse-axes transpose, reshaped, transposed back)."""
    x = as_array(x)
    if _order(x, order) == "C":
        return _reshape(x, shape)
    shape = (shape,) if _np.isscalar(shape) else tuple(shape)
    out_shape = _np.empty(shape_of(x), dtype=bool).reshape(shape).shape  # resolves -1, checks sizes
    return transpose(_reshape(transpose(x), out_shape[::-1]))


def ravel(x: Any, order: str = "C") -> Any:
    return reshape(x, (-1,), order)


def _each(fn, arrays: tuple) -> Any:
    """NumPy's atleast_nd convention: one array for one argument, a tuple for several."""
    out = tuple(fn(as_array(x)) for x in arrays)
    return out[0] if len(out) == 1 else out


def atleast_1d(*arrays: Any) -> Any:
    return _each(lambda x: reshape(x, (1,)) if ndim_of(x) == 0 else x, arrays)


def _at_least_2d(x: Any) -> Any:
    nd = ndim_of(x)
    return reshape(x, (1,) * (2 - nd) + shape_of(x)) if nd < 2 else x


def atleast_2d(*arrays: Any) -> Any:
    return _each(_at_least_2d, arrays)


def _at_least_3d(x: Any) -> Any:
    s = shape_of(x)
    if len(s) == 0:
        return reshape(x, (1, 1, 1))
    if len(s) == 1:
        return reshape(x, (1,) + s + (1,))
    if len(s) == 2:
        return reshape(x, s + (1,))
    return x


def atleast_3d(*arrays: Any) -> Any:
    return _each(_at_least_3d, arrays)


# ---- joining and splitting -----------------------------------------------------------------------------------
def _no_out(out: Any, name: str) -> None:
    if out is not None:
        raise TypeError(f"tinyad.numpy.{name}: out= would write into an existing array (and drop the derivative); "
                        "use the returned array")


def _cast(x: Any, dtype: Any, casting: str = "unsafe") -> Any:
    """``x`` as ``dtype`` (float and complex casts keep the derivative), refused where ``casting`` forbids it."""
    if dtype is None:
        return x
    dt = _np.dtype(dtype)
    if not _np.can_cast(_np.result_type(innermost(x)), dt, casting):
        raise TypeError(f"Cannot cast array data from {_np.result_type(innermost(x))} to {dt} according to the rule "
                        f"{casting!r}")
    return astype(x, dt)


def concatenate(arrays: Any, axis: Any = 0, out: Any = None, *, dtype: Any = None, casting: str = "same_kind") -> Any:
    _no_out(out, "concatenate")
    arrays = [as_array(a) for a in arrays]
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    if axis is None:
        arrays, axis = [ravel(a) for a in arrays], 0
    elif any(ndim_of(a) == 0 for a in arrays):
        raise ValueError("zero-dimensional arrays cannot be concatenated")
    return _cast(_concatenate(*arrays, axis=one_axis(axis, ndim_of(arrays[0]))), dtype, casting)


def stack(arrays: Any, axis: int = 0, out: Any = None, *, dtype: Any = None, casting: str = "same_kind") -> Any:
    _no_out(out, "stack")
    arrays = [as_array(a) for a in arrays]
    if arrays and len({shape_of(a) for a in arrays}) > 1:
        raise ValueError("all input arrays must have the same shape")
    return _cast(_stack(arrays, axis), dtype, casting)


def hstack(xs: Sequence[Any], *, dtype: Any = None, casting: str = "same_kind") -> Any:
    xs = [atleast_1d(x) for x in xs]
    return concatenate(xs, axis=0 if ndim_of(xs[0]) == 1 else 1, dtype=dtype, casting=casting)


def vstack(xs: Sequence[Any], *, dtype: Any = None, casting: str = "same_kind") -> Any:
    return concatenate([atleast_2d(x) for x in xs], axis=0, dtype=dtype, casting=casting)


def array_split(x: Any, sections: Any, axis: int = 0) -> list:
    x = as_array(x)
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
    x = as_array(x)
    if _np.isscalar(sections) and shape_of(x)[one_axis(axis, ndim_of(x))] % int(sections):
        raise ValueError("array split does not result in an equal division (use tnp.array_split)")
    return array_split(x, sections, axis)


# ---- repeating, flipping, rolling ------------------------------------------------------------------------------
def take(x: Any, indices: Any, axis: int | None = None, out: Any = None, mode: str = "raise") -> Any:
    """Elements at ``indices`` along ``axis`` (None: of the flattened array); ``mode`` 'wrap' or 'clip' maps
    out-of-range indices as NumPy does."""
    _no_out(out, "take")
    x = as_array(x)
    indices = _index_array(indices)
    if axis is None:
        x, axis = ravel(x), 0
    axis = one_axis(axis, ndim_of(x))
    n = shape_of(x)[axis]
    if mode == "wrap":
        indices = _np.mod(indices, n)
    elif mode == "clip":
        indices = _np.clip(indices, 0, n - 1)
    elif mode != "raise":
        raise ValueError(f"tinyad.numpy.take: clipmode must be one of 'clip', 'raise', or 'wrap' (got {mode!r})")
    return getitem(x, idx=_along(axis, indices))


def take_along_axis(x: Any, indices: Any, axis: int | None = -1) -> Any:
    """``x`` at ``indices`` along ``axis``; the other axes of ``indices`` and ``x`` broadcast, as in NumPy."""
    x = as_array(x)
    indices = _index_array(indices)
    if axis is None:
        if indices.ndim != 1:
            raise ValueError("when axis=None, `indices` must have a single dimension.")
        x, axis = ravel(x), 0
    if indices.ndim != ndim_of(x):
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    axis = one_axis(axis, ndim_of(x))
    if not _np.issubdtype(indices.dtype, _np.integer):
        raise IndexError("`indices` must be an integer array")
    nd = ndim_of(x)
    grids = [indices if d == axis else _np.arange(n).reshape((1,) * d + (n,) + (1,) * (nd - d - 1))
             for d, n in enumerate(shape_of(x))]
    return getitem(x, idx=tuple(grids))  # NumPy broadcasts the index arrays (its scatter-add too)


def _index_array(indices: Any) -> Any:
    """An index argument: a constant array, or (under tinyad.jit) the staged value standing for one, kept
    staged so that a replay reads the new indices."""
    indices = strip(indices)
    return indices if isinstance(indices, Box) else _np.asarray(indices)


def sort(x: Any, axis: int | None = -1, kind: Any = None, order: Any = None, *, stable: Any = None) -> Any:
    """Sorted copy; the derivative follows each element to its place (ties keep NumPy's order for ``kind``)."""
    if order is not None:
        raise NotImplementedError("tinyad.numpy.sort: order= (structured arrays) is not supported")
    x = as_array(x)
    if axis is None:
        x, axis = ravel(x), 0
    axis = one_axis(axis, ndim_of(x))
    return take_along_axis(x, argsort(x, axis=axis, kind=kind, stable=stable), axis)


def repeat(x: Any, repeats: Any, axis: int | None = None) -> Any:
    x = as_array(x)
    if axis is None:
        x, axis = ravel(x), 0
    n = shape_of(x)[one_axis(axis, ndim_of(x))]
    return take(x, _np.repeat(_np.arange(n), repeats), axis)


def tile(x: Any, reps: Any) -> Any:
    x = as_array(x)
    reps = (reps,) if _np.isscalar(reps) else tuple(reps)
    s = shape_of(x)
    nd = max(len(s), len(reps))
    s = (1,) * (nd - len(s)) + s
    reps = (1,) * (nd - len(reps)) + reps
    inter = reshape(x, tuple(v for n in s for v in (1, n)))
    big = broadcast_to(inter, tuple(v for r, n in zip(reps, s) for v in (r, n)))
    return reshape(big, tuple(r * n for r, n in zip(reps, s)))


def flip(x: Any, axis: Any = None) -> Any:
    x = as_array(x)
    nd = ndim_of(x)
    axes = normalize_axes(axis, nd)
    return getitem(x, idx=tuple(slice(None, None, -1) if a in axes else slice(None) for a in range(nd)))


def roll(x: Any, shift: Any, axis: Any = None) -> Any:
    x = as_array(x)
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
    x = as_array(x)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    k %= 4
    a, b = (one_axis(ax, ndim_of(x)) for ax in axes)
    if a == b:
        raise ValueError("Axes must be different.")
    if k == 0:
        return x
    if k == 2:
        return flip(flip(x, a), b)
    perm = list(range(ndim_of(x)))
    perm[a], perm[b] = perm[b], perm[a]
    return transpose(flip(x, b), tuple(perm)) if k == 1 else flip(transpose(x, tuple(perm)), b)


_INDEX_MODES = ("edge", "reflect", "symmetric", "wrap")  # each output element is one input element


def pad(x: Any, pad_width: Any, mode: str = "constant", **kwargs: Any) -> Any:
    """NumPy's pad for the modes 'constant' (``constant_values``: one value, or (before, after) per axis) and
    'edge', 'reflect', 'symmetric', 'wrap' (each output element is an input element: a gather, whose
    derivative is the sum of the copies). Axes are padded in order, so corners take the later axis' values,
    as in NumPy."""
    x = as_array(x)
    nd = ndim_of(x)
    widths = _np.broadcast_to(_np.asarray(pad_width, dtype=int), (nd, 2)) if nd else _np.zeros((0, 2), int)
    if _np.any(widths < 0):
        raise ValueError("index can't contain negative values")
    if mode == "constant":
        unknown = set(kwargs) - {"constant_values"}
        values = _np.broadcast_to(_np.asarray(strip(kwargs.get("constant_values", 0)), dtype=float), (nd, 2))
        if isinstance(kwargs.get("constant_values"), Box):
            raise NotImplementedError("tinyad.numpy.pad: constant_values is a constant; pad with a fixed value and "
                                      "add the differentiable one with tnp.where")
    elif mode in _INDEX_MODES:
        unknown = set(kwargs) - ({"reflect_type"} if mode in ("reflect", "symmetric") else set())
        if kwargs.get("reflect_type", "even") != "even":
            raise NotImplementedError("tinyad.numpy.pad: reflect_type='odd' is not supported")
    else:
        raise NotImplementedError(f"tinyad.numpy.pad: mode={mode!r} is not supported; the modes are 'constant', "
                                  f"{', '.join(repr(m) for m in _INDEX_MODES)}")
    if unknown:
        raise ValueError(f"unsupported keyword arguments for mode '{mode}': {sorted(unknown)}")
    for axis, (before, after) in enumerate(widths.tolist()):
        if not before and not after:
            continue
        if mode == "constant":
            x = _pad_constant(x, axis, before, after, values[axis])
        else:
            n = shape_of(x)[axis]
            if n == 0:
                raise ValueError(f"can't extend empty axis {axis} using modes other than 'constant' or 'empty'")
            x = take(x, _np.pad(_np.arange(n), (before, after), mode=mode), axis)  # NumPy's own index map
    return x


def _pad_constant(x: Any, axis: int, before: int, after: int, values: Any) -> Any:
    """``x`` with constant blocks of widths ``before``/``after`` on both sides of ``axis``."""
    shape = shape_of(x)
    dtype = _np.result_type(innermost(x))
    parts = []
    for width, value in ((before, values[0]), (None, None), (after, values[1])):
        if width is None:
            parts.append(x)
        elif width:
            parts.append(_np.full(shape[:axis] + (width,) + shape[axis + 1:], value).astype(dtype))
    return _concatenate(*parts, axis=axis)


# ---- diagonals and triangles ------------------------------------------------------------------------------------
def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    x = as_array(x)
    if ndim_of(x) < 2:
        raise ValueError("diag requires an array of at least two dimensions")
    if one_axis(axis1, ndim_of(x)) == one_axis(axis2, ndim_of(x)):
        raise ValueError("axis1 and axis2 cannot be the same")
    moved = moveaxis(x, (axis1, axis2), (-2, -1))
    n1, n2 = shape_of(moved)[-2:]
    i = _np.arange(max(0, min(n1, n2 - offset) if offset >= 0 else min(n1 + offset, n2)))
    rows, cols = (i, i + offset) if offset >= 0 else (i - offset, i)
    return getitem(moved, idx=(Ellipsis, rows, cols))


def diag(v: Any, k: int = 0) -> Any:
    v = as_array(v)
    if ndim_of(v) == 2:
        return diagonal(v, k)
    if ndim_of(v) != 1:
        raise ValueError("tinyad.numpy.diag: input must be 1-d or 2-d")
    n = shape_of(v)[0] + abs(k)
    i = _np.arange(shape_of(v)[0])
    rows, cols = (i, i + k) if k >= 0 else (i - k, i)
    return scatter_add(v, idx=(rows, cols), shape=(n, n))


def tril(x: Any, k: int = 0) -> Any:
    x = as_array(x)
    return multiply(x, _np.tril(_np.ones(shape_of(x)[-2:], dtype=bool), k))  # a boolean mask keeps x's dtype


def triu(x: Any, k: int = 0) -> Any:
    x = as_array(x)
    return multiply(x, _np.triu(_np.ones(shape_of(x)[-2:], dtype=bool), k))


def meshgrid(*xs: Any, copy: bool = True, sparse: bool = False, indexing: str = "xy") -> tuple:
    """NumPy's meshgrid (a tuple of arrays; ``sparse=True`` keeps the broadcastable shapes)."""
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
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
        out.append(reshape(x, tuple(view)) if sparse else broadcast_to(reshape(x, tuple(view)), shape))
    return tuple(out)


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
    x = as_array(x)
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


# ---- more joining and flipping -------------------------------------------------------------------------------------
def flipud(x: Any) -> Any:
    x = as_array(x)
    if ndim_of(x) < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip(x, 0)


def fliplr(x: Any) -> Any:
    x = as_array(x)
    if ndim_of(x) < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip(x, 1)


def column_stack(xs: Sequence[Any]) -> Any:
    """1-d arrays as columns, 2-d arrays as they are, side by side."""
    cols = [as_array(x) for x in xs]
    cols = [_reshape(c, (max(1, int(_np.prod(shape_of(c)))), 1)) if ndim_of(c) < 2 else c for c in cols]  # 0-d: 1
    return concatenate(cols, axis=1)


def dstack(xs: Sequence[Any]) -> Any:
    return concatenate([atleast_3d(x) for x in xs], axis=2)


def append(x: Any, values: Any, axis: Any = None) -> Any:
    """``x`` with ``values`` after it (both flattened when ``axis`` is None)."""
    x, values = as_array(x), as_array(values)
    if axis is None:
        return concatenate([ravel(x), ravel(values)], axis=0)
    return concatenate([x, values], axis=axis)
