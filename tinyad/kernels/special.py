"""Special functions NumPy lacks: the error function ``erf`` and its complement ``erfc``, elementwise.

numba compiles ``math.erf``/``math.erfc`` (the C library's, accurate to an ulp or two), one pass over the
flat array. The entry points take what a ufunc takes (floats, ints, arrays of any shape) and return a
float array of the input's shape (a float64 scalar for a 0-d input, as a ufunc does); complex inputs are
refused by name, since the C library has no complex error function.
"""

from __future__ import annotations

import math

import numpy as np

from .compiling import kernel, warms_up


def erf(x) -> np.ndarray:
    """The error function 2/sqrt(pi) * integral_0^x exp(-t^2) dt, elementwise."""
    return _apply(_erf, x, "erf")


def erfc(x) -> np.ndarray:
    """1 - erf(x), accurate where erf(x) is close to 1 (x >> 1)."""
    return _apply(_erfc, x, "erfc")


def _apply(compiled, x, name: str):
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"tinyad.numpy.{name} takes real numbers, got dtype {x.dtype} (a complex error function is "
                        "not available)")
    out_dtype = np.result_type(x.dtype, np.float16) if x.dtype.kind == "f" else np.dtype(np.float64)
    flat = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    out = compiled(flat).reshape(x.shape).astype(out_dtype, copy=False)
    return out[()] if out.ndim == 0 else out


@kernel
def _erf(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = math.erf(x[i])
    return out


@kernel
def _erfc(x: np.ndarray) -> np.ndarray:
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        out[i] = math.erfc(x[i])
    return out


@warms_up
def _warm_up() -> None:
    """The library's calls: a flat C-contiguous float64 array."""
    erf(np.ones(2))
    erfc(np.ones(2))
