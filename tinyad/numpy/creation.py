"""Building arrays: ``array`` and ``asarray`` stack tinyad boxes (differentiably) where NumPy would stack
numbers; without boxes they are NumPy's own."""

from __future__ import annotations

from typing import Any

import numpy as _np

from ..core.primitive import holds_box, stack_nested
from ..core.trace import Box
from .elementwise import astype


def array(obj: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``np.array``; a (nested) list or tuple holding boxes is stacked into one box, as in JAX."""
    if isinstance(obj, Box) or holds_box(obj):
        out = stack_nested(obj)
        return out if dtype is None else astype(out, dtype)
    return _np.array(obj, dtype=dtype, **kwargs)


def asarray(obj: Any, dtype: Any = None, **kwargs: Any) -> Any:
    """``np.asarray``; boxes (and lists holding them) stay differentiable, as in :func:`array`."""
    if isinstance(obj, Box) or holds_box(obj):
        return array(obj, dtype)
    return _np.asarray(obj, dtype=dtype, **kwargs)
