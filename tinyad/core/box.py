"""What every box (``Dual``, ``Var``) shares: NumPy-like operators, array methods, and clear refusals.

Operators call the built-in primitives (``x * y`` on boxes is ``tinyad.numpy.multiply(x, y)``), looked up
by name in the registry that ``tinyad.ops`` fills, so this module needs nothing from the layers above it.
Array methods (``x.mean()``, ``x.reshape(...)``) and NumPy's own functions and ufuncs called on a box
(``np.mean(x)``, ``np.tanh(x)``) go to the ``tinyad.numpy`` function of the same name, through the table
:data:`NUMPY_API` that ``tinyad.numpy`` fills.

Reading the number for control flow is allowed (``if x > 0``, ``bool(x)``): comparisons are
non-differentiable primitives that return plain arrays. Turning a box into a plain number *silently*
(``float(x)``, ``np.asarray(x)``, ``x.item()``, writing it into a NumPy array) would drop its derivative,
so it raises and says what to write instead. Boxes are immutable: a copy of a box is the box itself, and
pickling one (which would detach it from its differentiation) is refused.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .primitive import REGISTRY, dtype_of, shape_of
from .trace import Box, innermost, strip

# "mean" -> tinyad.numpy.mean, "linalg.norm" -> tinyad.numpy.linalg.norm, ...: filled by tinyad.numpy.
NUMPY_API: dict[str, Callable] = {}
_ROUTING: set = set()  # the tinyad.numpy functions NumPy's own are being routed to right now

_SILENT_CONSTANT = (
    "Converting a tinyad {kind} to a plain number would silently drop its derivative. "
    "Use tinyad.numpy operations on it, or tinyad.stop_gradient(x) if you mean its value as a constant "
    "(for printing, logging or NumPy code that must not be differentiated)."
)


def _index(idx: Any) -> Any:
    """Indices are constants: a box used as an index is read as its value."""
    if isinstance(idx, tuple):
        return tuple(strip(i) for i in idx)
    return strip(idx)


# NumPy functions that read only dtypes and shapes, never values: they take boxes (staged values included)
_QUERIES = frozenset({np.result_type, np.shape, np.ndim, np.size, np.iscomplexobj, np.isrealobj, np.can_cast,
                      np.min_scalar_type})


def _stand_ins(x: Any) -> Any:
    """Boxes replaced by their values (a staged value by the example it carries), inside tuples, lists, dicts."""
    if isinstance(x, Box):
        x = innermost(x)
        return getattr(x, "value", x) if isinstance(x, Box) else x
    if type(x) is tuple or type(x) is list:
        return type(x)(_stand_ins(e) for e in x)
    if type(x) is dict:
        return {k: _stand_ins(v) for k, v in x.items()}
    return x


# Python's arithmetic operators and the primitives they apply (// is floor_divide: a constant, as in JAX)
ARITHMETIC = (("add", "__add__", "__radd__"), ("subtract", "__sub__", "__rsub__"),
              ("multiply", "__mul__", "__rmul__"), ("divide", "__truediv__", "__rtruediv__"),
              ("power", "__pow__", "__rpow__"), ("mod", "__mod__", "__rmod__"),
              ("floor_divide", "__floordiv__", "__rfloordiv__"))


def set_operators(cls: type, make: Callable) -> None:
    """Give ``cls`` the operators of :data:`ARITHMETIC`, each ``make(primitive name, reflected)``."""
    for name, op, rop in ARITHMETIC:
        setattr(cls, op, make(name, False))
        setattr(cls, rop, make(name, True))


def _binary(name: str, reflected: bool = False) -> Callable:
    if reflected:
        return lambda self, other: REGISTRY[name](other, self)
    return lambda self, other: REGISTRY[name](self, other)


def _unary(name: str) -> Callable:
    return lambda self: REGISTRY[name](self)


def _numpy_method(name: str) -> Callable:
    def method(self, *args, **kwargs):
        return NUMPY_API[name](self, *args, **kwargs)

    method.__name__ = name
    method.__doc__ = f"``tinyad.numpy.{name}(x, ...)``."
    return method


class ArrayBox(Box):
    __slots__ = ()
    __array_priority__ = 1000.0

    # ---- shape queries --------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return shape_of(innermost(self))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def dtype(self) -> np.dtype:
        return dtype_of(self)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tinyad box")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    # ---- arithmetic (the operators of ARITHMETIC, set below the class) ----------------------------------
    __matmul__, __rmatmul__ = _binary("matmul"), _binary("matmul", True)
    __neg__, __abs__ = _unary("negative"), _unary("abs")

    def __divmod__(self, other):
        return self // other, self % other

    def __rdivmod__(self, other):
        return other // self, other % self

    def __pos__(self):
        return self

    # ---- comparisons read the value (plain boolean results) --------------------------------------
    __lt__, __le__ = _binary("less"), _binary("less_equal")
    __gt__, __ge__ = _binary("greater"), _binary("greater_equal")
    __eq__, __ne__ = _binary("equal"), _binary("not_equal")  # type: ignore[assignment]
    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        return bool(innermost(self))

    # ---- indexing and array methods --------------------------------------------------------------
    def __getitem__(self, idx):
        return REGISTRY["getitem"](self, idx=_index(idx))

    def __setitem__(self, idx, value):
        raise TypeError(
            f"tinyad {type(self).__name__}s are immutable: x[{idx!r}] = v would overwrite a value being "
            "differentiated. Write it functionally: x = tnp.index_update(x, idx, v) (or tnp.index_add), "
            "x = tnp.where(mask, v, x), or build the array with tnp.stack / tnp.concatenate."
        )

    @property
    def T(self):
        return NUMPY_API["transpose"](self)

    def transpose(self, *axes):
        return NUMPY_API["transpose"](self, axes[0] if len(axes) == 1 else (axes or None))

    def reshape(self, *shape):
        return NUMPY_API["reshape"](self, shape[0] if len(shape) == 1 else shape)

    sum = _numpy_method("sum")
    max = _numpy_method("max")
    min = _numpy_method("min")
    mean = _numpy_method("mean")
    var = _numpy_method("var")
    std = _numpy_method("std")
    prod = _numpy_method("prod")
    cumsum = _numpy_method("cumsum")
    cumprod = _numpy_method("cumprod")
    ravel = flatten = _numpy_method("ravel")
    dot = _numpy_method("dot")
    astype = _numpy_method("astype")
    squeeze = _numpy_method("squeeze")
    clip = _numpy_method("clip")
    conj = conjugate = _numpy_method("conj")
    round = _numpy_method("round")  # noqa: A003 - NumPy's method name
    take = _numpy_method("take")
    swapaxes = _numpy_method("swapaxes")
    diagonal = _numpy_method("diagonal")
    repeat = _numpy_method("repeat")
    sort = _numpy_method("sort")
    argmax = _numpy_method("argmax")
    argmin = _numpy_method("argmin")
    argsort = _numpy_method("argsort")
    any = _numpy_method("any")  # noqa: A003
    all = _numpy_method("all")  # noqa: A003
    nonzero = _numpy_method("nonzero")

    @property
    def real(self):
        return NUMPY_API["real"](self)

    @property
    def imag(self):
        return NUMPY_API["imag"](self)

    @property
    def mT(self):  # noqa: N802 - NumPy's name
        return NUMPY_API["swapaxes"](self, -1, -2)

    def copy(self):
        """Boxes are immutable, so a copy is the box itself (derivatives flow through it unchanged)."""
        return self

    def __copy__(self):
        return self

    def __deepcopy__(self, memo: dict):
        return self

    # ---- refusals ---------------------------------------------------------------------------------
    def _refuse(self, *_: Any, **__: Any):
        raise TypeError(_SILENT_CONSTANT.format(kind=type(self).__name__))

    __float__ = __int__ = __index__ = __complex__ = item = tolist = _refuse

    def __array__(self, *_: Any, **__: Any):
        raise TypeError(
            f"NumPy tried to turn a tinyad {type(self).__name__} into a plain array (np.array / np.asarray of it, a "
            "NumPy array holding it, or writing it into one), which would silently drop its derivative. To build "
            "an array from boxes use tnp.array([...]) or tnp.stack([...]); to write into one, tnp.index_update; "
            "for its value as a constant, tinyad.stop_gradient(x).")

    def __round__(self, ndigits: int | None = None):
        raise TypeError(
            f"round() of a tinyad {type(self).__name__} would give a plain number and drop its derivative. "
            "Use tnp.round(x) (a constant array: rounding has derivative 0), or "
            "round(float(tinyad.stop_gradient(x))) for the value.")

    def __reduce_ex__(self, protocol: int):
        raise TypeError(
            f"a tinyad {type(self).__name__} cannot be pickled: it belongs to a differentiation in progress "
            f"({self._trace!r}), which a copy in another process could not take part in. Pickle "
            "tinyad.stop_gradient(x) (its value) instead.")

    def __format__(self, spec: str) -> str:
        return format(innermost(self), spec)

    # ---- NumPy's functions and ufuncs called on boxes -----------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        fn = NUMPY_API.get(ufunc.__name__)
        if method != "__call__" or kwargs or fn is None:
            call = f"numpy.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
            if "out" in kwargs:
                why = ("writes its result into an existing array (out=, or an in-place operator such as "
                       "a += box), which would silently drop the derivative; write a = a + box instead")
            elif fn is not None and method == "__call__":
                why = f"was given options tinyad does not take ({', '.join(kwargs)}); call tinyad.numpy.{fn.__name__}"
            elif fn is not None:
                why = f"is not supported on boxes; use the tinyad.numpy functions (e.g. tnp.{fn.__name__})"
            else:
                why = "has no differentiable tinyad.numpy equivalent (see docs/numpy.md)"
            raise TypeError(f"the ufunc {call} was applied to a tinyad {type(self).__name__} and {why}. Use "
                            "tinyad.stop_gradient(x) if the value is meant to be a constant.")
        return fn(*inputs)

    def __array_function__(self, func, types, args, kwargs):
        if func in _QUERIES:  # about dtypes and shapes only: answered from the values, for boxes of every kind
            return func(*_stand_ins(args), **_stand_ins(kwargs))
        sub = func.__module__.split(".")[1] if func.__module__.startswith(("numpy.fft", "numpy.linalg")) else ""
        key = f"{sub}.{func.__name__}" if sub else func.__name__
        fn = NUMPY_API.get(key)
        if fn is None or fn in _ROUTING:
            refuse = getattr(self._trace, "refuse", None)  # a value traced by tinyad.jit: say why there
            if refuse is not None:
                refuse(f"numpy.{key}")
            what = "has no differentiable" if fn is None else "cannot compute, on this value, a differentiable"
            raise TypeError(
                f"numpy.{key} was called on a tinyad {type(self).__name__}, and tinyad.numpy {what} "
                f"{func.__name__}. Use the tinyad.numpy operations (see docs/numpy.md), or "
                "tinyad.stop_gradient(x) if the value is meant to be a constant."
            )
        _ROUTING.add(fn)  # a tinyad.numpy function that hands the box back to NumPy must not loop
        try:
            return fn(*args, **kwargs)
        finally:
            _ROUTING.discard(fn)


set_operators(ArrayBox, _binary)
