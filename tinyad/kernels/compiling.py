"""How kernels are compiled: numba's ``njit`` with its on-disk cache, or without it where it cannot be kept.

``cache=True`` keeps compiled machine code on disk (beside the package, or in the user's cache directory),
so only the first process on a machine pays for compilation. A read-only install with no writable home
directory leaves numba no place for that cache, and ``njit(cache=True)`` refuses to decorate ("cannot cache
function ...: no locator available"); the kernel is then compiled in memory in every process instead —
slower to start, never a crash.
"""

from __future__ import annotations

import warnings
from typing import Callable

from numba import njit

UNCACHED: list[str] = []  # names of the kernels compiled without the on-disk cache


def kernel(fn: Callable | None = None, **options) -> Callable:
    """``numba.njit(cache=True, **options)``, falling back to no cache where none can be written."""
    if fn is None:
        return lambda f: kernel(f, **options)
    try:
        compiled = njit(cache=True, **options)(fn)
    except RuntimeError as e:  # numba: "cannot cache function ...: no locator available for file ..."
        if "cannot cache" not in str(e):
            raise
        if not UNCACHED:
            warnings.warn(f"tinyad: numba cannot cache compiled kernels here ({e}); they are compiled in memory "
                          "in each process instead. Set NUMBA_CACHE_DIR to a writable directory to keep them.",
                          RuntimeWarning, stacklevel=2)
        UNCACHED.append(fn.__name__)
        compiled = njit(cache=False, **options)(fn)
    return compiled
