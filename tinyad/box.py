"""What every box (``Dual``, ``Var``) shares: NumPy-like operators, shape queries, and clear refusals.

Operators call primitives, so ``x * y`` on boxes is differentiated like ``tnp.multiply(x, y)``. Reading
the number for control flow is allowed (``if x > 0``, ``bool(x)``): comparisons are non-differentiable
primitives that return plain arrays. Turning a box into a plain number *silently* (``float(x)``,
``np.asarray(x)``, writing it into a NumPy array) would drop its derivative, so it raises and says what to
write instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .primitives import elementwise as ew
from .primitives import linalg, reductions, shapes
from .tags import Box, innermost, strip

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


class ArrayBox(Box):
    __slots__ = ()
    __array_priority__ = 1000.0

    def _inner(self) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    # ---- shape queries --------------------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return np.shape(innermost(self))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def dtype(self) -> np.dtype:
        return np.result_type(innermost(self))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tinyad box")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    # ---- arithmetic -----------------------------------------------------------------------------
    def __add__(self, o): return ew.add(self, o)
    def __radd__(self, o): return ew.add(o, self)
    def __sub__(self, o): return ew.subtract(self, o)
    def __rsub__(self, o): return ew.subtract(o, self)
    def __mul__(self, o): return ew.multiply(self, o)
    def __rmul__(self, o): return ew.multiply(o, self)
    def __truediv__(self, o): return ew.divide(self, o)
    def __rtruediv__(self, o): return ew.divide(o, self)
    def __pow__(self, o): return ew.power(self, o)
    def __rpow__(self, o): return ew.power(o, self)
    def __matmul__(self, o): return linalg.matmul(self, o)
    def __rmatmul__(self, o): return linalg.matmul(o, self)
    def __neg__(self): return ew.negative(self)
    def __pos__(self): return self
    def __abs__(self): return ew.abs(self)

    # ---- comparisons read the value (plain boolean results) --------------------------------------
    def __lt__(self, o): return ew.less(self, o)
    def __le__(self, o): return ew.less_equal(self, o)
    def __gt__(self, o): return ew.greater(self, o)
    def __ge__(self, o): return ew.greater_equal(self, o)
    def __eq__(self, o): return ew.equal(self, o)  # type: ignore[override]
    def __ne__(self, o): return ew.not_equal(self, o)  # type: ignore[override]
    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        return bool(innermost(self))

    # ---- indexing and array methods --------------------------------------------------------------
    def __getitem__(self, idx):
        return shapes.getitem(self, idx=_index(idx))

    def __setitem__(self, idx, value):
        raise TypeError(
            f"tinyad {type(self).__name__}s are immutable: x[{idx!r}] = v would overwrite a value being "
            "differentiated. Write it functionally: x = tnp.index_update(x, idx, v) (or tnp.index_add), "
            "x = tnp.where(mask, v, x), or build the array with tnp.stack / tnp.concatenate."
        )

    @property
    def T(self):
        return shapes.transpose(self)

    def transpose(self, *axes):
        return shapes.transpose(self, axes=axes[0] if len(axes) == 1 else (axes or None))

    def reshape(self, *shape):
        return shapes.reshape(self, shape=shape[0] if len(shape) == 1 else shape)

    def ravel(self):
        return shapes.reshape(self, shape=(-1,))

    flatten = ravel

    def sum(self, axis=None, keepdims=False):
        return reductions.sum(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return reductions.max(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        from . import numpy as tnp

        return tnp.mean(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        from . import numpy as tnp

        return tnp.min(self, axis=axis, keepdims=keepdims)

    def dot(self, o):
        return linalg.matmul(self, o)

    def astype(self, dtype):
        from . import numpy as tnp

        return tnp.astype(self, dtype)

    # ---- refusals ---------------------------------------------------------------------------------
    def _refuse(self, *_: Any, **__: Any):
        raise TypeError(_SILENT_CONSTANT.format(kind=type(self).__name__))

    __float__ = __int__ = __index__ = __complex__ = __array__ = _refuse

    def __format__(self, spec: str) -> str:
        return format(innermost(self), spec)

    # ---- NumPy and boxes ----------------------------------------------------------------------------
    # ``__array_ufunc__ = None`` makes ``ndarray * box`` return NotImplemented at once, so Python calls
    # ``box.__rmul__``: 1.7 us per op faster than routing through NumPy's ufunc machinery, and
    # ``buf += box`` rebinds ``buf`` to a new box instead of writing into the array. A NumPy ufunc called
    # directly on a box (``np.sin(x)``) raises NumPy's TypeError: use ``tnp.sin``.
    __array_ufunc__ = None

    def __array_function__(self, func, types, args, kwargs):
        from . import numpy as tnp

        namespace = tnp  # numpy.fft.* -> tinyad.numpy.fft.*, numpy.linalg.* -> tinyad.numpy.linalg.*
        for sub in ("fft", "linalg"):
            if func.__module__.startswith(f"numpy.{sub}"):
                namespace = getattr(tnp, sub)
        fn = getattr(namespace, func.__name__, None)
        if fn is None or fn is func or not callable(fn) or isinstance(fn, type(tnp)):
            public = "numpy." + ("" if namespace is tnp else namespace.__name__.rsplit(".", 1)[1] + ".")
            raise TypeError(
                f"{public}{func.__name__} was called on a tinyad {type(self).__name__}, and tinyad.numpy has no "
                f"differentiable {func.__name__}. Use the tinyad.numpy operations (see docs/numpy.md), or "
                "tinyad.stop_gradient(x) if the value is meant to be a constant."
            )
        return fn(*args, **kwargs)
