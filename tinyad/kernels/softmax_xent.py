"""Softmax cross-entropy, forward and backward, one pass over each row (no temporaries).

The entry points check shapes and dtypes before a kernel runs: a kernel indexes its inputs without bounds
checks, so mismatched arrays would read out of bounds (garbage, or a segfault) instead of raising.
"""

from __future__ import annotations

import numpy as np

from .compiling import kernel, warms_up


def applies(z, y) -> bool:
    """Whether the kernels can take these arguments: float64 matrices of one shape, with columns."""
    return (type(z) is np.ndarray and type(y) is np.ndarray and z.ndim == 2 and z.shape == y.shape
            and z.dtype == np.float64 and y.dtype == np.float64 and z.shape[1] > 0)


def _check(z, y) -> None:
    if not applies(z, y):
        raise ValueError(f"softmax cross-entropy kernels take float64 matrices of one shape with at least one "
                         f"column; got logits {getattr(z, 'dtype', type(z))}{np.shape(z)} and labels "
                         f"{getattr(y, 'dtype', type(y))}{np.shape(y)}")


def xent_value(z: np.ndarray, y: np.ndarray) -> float:
    """mean over rows of logsumexp(z_i) - <z_i, y_i>."""
    _check(z, y)
    return _xent_value(z, y)


def xent_grad(z: np.ndarray, y: np.ndarray, scale: float) -> np.ndarray:
    """scale * (softmax(z) - y), row by row: the VJP of the mean cross-entropy with scale = g / n."""
    _check(z, y)
    return _xent_grad(z, y, float(scale))


@kernel(inline="always")
def _row_max(z: np.ndarray, i: int) -> float:
    m = z[i, 0]
    for j in range(1, z.shape[1]):
        if z[i, j] > m:
            m = z[i, j]
    return m


@kernel
def _xent_value(z: np.ndarray, y: np.ndarray) -> float:
    n, c = z.shape
    total = 0.0
    for i in range(n):
        m = _row_max(z, i)
        s = 0.0
        dot = 0.0
        for j in range(c):
            s += np.exp(z[i, j] - m)
            dot += z[i, j] * y[i, j]
        total += np.log(s) + m - dot
    return total / n


@kernel
def _xent_grad(z: np.ndarray, y: np.ndarray, scale: float) -> np.ndarray:
    n, c = z.shape
    out = np.empty_like(z)
    for i in range(n):
        m = _row_max(z, i)
        s = 0.0
        for j in range(c):
            e = np.exp(z[i, j] - m)
            out[i, j] = e
            s += e
        inv = 1.0 / s
        for j in range(c):
            out[i, j] = scale * (out[i, j] * inv - y[i, j])
    return out


@warms_up
def _warm_up() -> None:
    z, y = np.zeros((2, 3)), np.full((2, 3), 1 / 3)
    xent_value(z, y)
    xent_grad(z, y, 0.5)
