"""How kernels are compiled: numba's ``njit`` with its on-disk cache, or without it where it cannot be kept.

``cache=True`` keeps compiled machine code on disk (beside the package, or in the user's cache directory),
so only the first process on a machine pays for compilation. A read-only install with no writable home
directory leaves numba no place for that cache, and ``njit(cache=True)`` refuses to decorate ("cannot cache
function ...: no locator available"); the kernel is then compiled in memory in every process instead —
slower to start, never a crash.

:func:`warmup` compiles every kernel now, for the argument types the library passes: each kernel module
registers a small call of its entry points with :func:`warms_up`. Call it once in a parent process before
starting workers (``tinyad.hyper.optimize_many`` does), so that the workers load the compiled code from the
cache instead of all compiling it at once and racing to write the same cache files.
"""

from __future__ import annotations

import warnings
from typing import Callable

from numba import njit

UNCACHED: list[str] = []  # names of the kernels compiled without the on-disk cache
KERNELS: dict[str, Callable] = {}  # every kernel called from Python ("module.name" -> numba dispatcher)
WARMUPS: list[Callable[[], None]] = []  # what warmup() calls: one per kernel module


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
    if options.get("inline") != "always":  # an always-inlined kernel is compiled into its callers
        KERNELS[f"{fn.__module__}.{fn.__name__}"] = compiled
    return compiled


def warms_up(fn: Callable[[], None]) -> Callable[[], None]:
    """Register ``fn`` (no arguments) with :func:`warmup`: it calls a module's kernels on tiny inputs of the
    types the library uses, which compiles them (or loads them from the cache)."""
    WARMUPS.append(fn)
    return fn


def warmup() -> list[str]:
    """Compile every kernel for the argument types the library uses (or load them from numba's cache);
    returns the kernels' names. Cheap once done: later calls find them compiled."""
    for fn in WARMUPS:
        fn()
    return sorted(KERNELS)
