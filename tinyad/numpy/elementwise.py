"""Elementwise functions that are compositions or wrappers of primitives: where (the condition is a
constant), clip, float casts."""

from __future__ import annotations

from typing import Any

import numpy as _np

from ..core.trace import strip
from ..ops.elementwise import where as _where
from ..ops.nondiff import greater, less
from ..ops.structural import astype_p


def where(condition: Any, x: Any, y: Any) -> Any:
    """Select ``x`` where ``condition`` else ``y``. The condition is a constant.

    NaN trap: both branches are computed, and the unselected branch's derivative is multiplied by 0 —
    0 * inf = NaN. Guard the input, not just the output: ``tnp.where(x > 0, tnp.log(tnp.where(x > 0, x,
    1.0)), 0.0)``."""
    return _where(strip(condition), x, y)


def clip(x: Any, a_min: Any, a_max: Any) -> Any:
    """Clip to [a_min, a_max]; the derivative flows to whichever of x, a_min, a_max is selected."""
    if a_min is not None:
        x = where(less(x, a_min), a_min, x)
    if a_max is not None:
        x = where(greater(x, a_max), a_max, x)
    return x


def astype(x: Any, dtype: Any) -> Any:
    """Float-to-float casts keep the derivative; casts to integer or bool give constants (index math)."""
    dt = _np.dtype(dtype)
    if dt.kind == "f":
        return astype_p(x, dtype=dt)
    return _np.asarray(strip(x)).astype(dt)
