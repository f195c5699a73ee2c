"""What the transforms check at their boundary, so that bad input gets a clear error instead of a silent
wrong number: inputs to differentiate (real floating point), outputs (floating point numbers, not None or
strings), and ``argnums``."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from .trace import Box, innermost
from .tree import flatten

ArgNums = int | Sequence[int]


def name_of(f: Callable) -> str:
    return getattr(f, "__name__", type(f).__name__)


def check_differentiable(x: Any, what: str, allow_complex: bool = False) -> Any:
    """Inputs to differentiate must be real floating point (or complex, where allowed); say what to do
    otherwise."""
    if type(x) is float or isinstance(x, Box) or (type(x) is np.ndarray and x.dtype.kind == "f"):
        return x
    dt = np.result_type(x) if isinstance(x, (np.ndarray, np.generic, float, int, complex, bool)) else None
    if dt is None:
        raise TypeError(f"{what} must be a float or a floating-point array (or a container of them), got "
                        f"{type(x).__name__}: {x!r:.80}")
    if isinstance(x, (bool, np.bool_)) or dt.kind in "biu":
        raise TypeError(
            f"{what} has integer/boolean dtype ({dt if not isinstance(x, (int, bool)) else type(x).__name__}), "
            f"but derivatives need real floating-point inputs: pass a float (e.g. 3.0, or x.astype(float)).")
    if dt.kind == "c":
        if allow_complex:
            return x
        raise TypeError(f"{what} is complex ({dt}); a real floating-point value is expected here.")
    if dt.kind != "f":
        raise TypeError(f"{what} has dtype {dt}; a real floating-point input is expected.")
    return x


def check_output(out: Any, f: Callable, transform: str) -> None:
    """A differentiated function must return numbers: a float, a complex, an array of them, a box, or a
    container of those. None (a forgotten ``return``), strings and integers would otherwise come back with
    silently zero derivatives."""
    if out is None:
        raise TypeError(f"{transform}: {name_of(f)} returned None — is a `return` statement missing? It must "
                        "return the value to differentiate (a float or an array).")
    for leaf in flatten(out)[0]:
        x = innermost(leaf)
        dt = getattr(x, "dtype", None)  # arrays, NumPy scalars, and the staged values of tinyad.jit
        ok = isinstance(x, (float, complex)) or (isinstance(dt, np.dtype) and dt.kind in "fc")
        if not ok:
            what = f"an array of dtype {x.dtype}" if isinstance(x, np.ndarray) else f"{type(x).__name__} {x!r:.40}"
            raise TypeError(f"{transform}: {name_of(f)} returned {what}; a differentiated function must return "
                            "floating-point numbers (an integer or boolean result has no derivative; convert with "
                            "float() or .astype(float) before returning if that is what you mean).")


def argnums_tuple(argnums: ArgNums, nargs: int, fname: str) -> tuple[int, ...]:
    """``argnums`` as a tuple of distinct non-negative positions among ``nargs`` arguments."""
    items = (argnums,) if isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool) else argnums
    if isinstance(items, (str, bytes)) or not isinstance(items, (tuple, list)) or not items:
        raise TypeError(f"{fname}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    nums = []
    for n in items:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"{fname}: argnums must be an int or a tuple of ints, got {argnums!r}")
        if not -nargs <= n < nargs:
            raise ValueError(f"{fname}: argnums={argnums!r} but the function was called with {nargs} positional "
                             "arguments")
        nums.append(int(n) % nargs)
    if len(set(nums)) != len(nums):
        raise ValueError(f"{fname}: argnums={argnums!r} names an argument twice")
    return tuple(nums)


def split_aux(out: Any, f: Callable, transform: str) -> tuple:
    """(output, aux) of a function called with ``has_aux=True``, which must return such a pair."""
    if not (isinstance(out, (tuple, list)) and len(out) == 2):
        got = f"a {type(out).__name__}" + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "")
        raise TypeError(f"{transform}(..., has_aux=True): {name_of(f)} must return a pair (output, aux), got {got}")
    return out[0], out[1]
