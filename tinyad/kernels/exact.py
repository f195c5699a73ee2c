"""Exact multiplication of fixed-point integers by rationals n/d, with an information buffer.

Multiplying v by n/d (n <= d) in integers destroys information (the remainder of the division). Following
Maclaurin, Duvenaud and Adams (2015), the remainder is pushed into an integer buffer B and a digit base n
is popped back out of it, which makes the operation a bijection on (v, B):

    forward:  r = v mod d;  B = B d + r;  v = v div d;  s = B mod n;  B = B div n;  v = v n + s
    reverse:  s = v mod n;  v = v div n;  B = B n + s;  r = B mod d;  B = B div d;  v = v d + r

(floor division and modulo, as in Python). B grows by log2(d / n) bits per call on average. Callers keep
B * d + r below 2**63 by spilling B before it gets there (see tinyad/reversible.py).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def mul_rational(v: np.ndarray, buf: np.ndarray, n: np.ndarray, d: np.ndarray) -> None:
    """In place: v <- v * n / d exactly, the lost remainder kept in ``buf``. Elementwise n, d (int64)."""
    for i in range(v.shape[0]):
        ni, di = n[i], d[i]
        r = v[i] % di
        b = buf[i] * di + r
        q = v[i] // di
        s = b % ni
        buf[i] = b // ni
        v[i] = q * ni + s


@njit(cache=True)
def unmul_rational(v: np.ndarray, buf: np.ndarray, n: np.ndarray, d: np.ndarray) -> None:
    """In place: the exact inverse of :func:`mul_rational`."""
    for i in range(v.shape[0]):
        ni, di = n[i], d[i]
        s = v[i] % ni
        q = v[i] // ni
        b = buf[i] * ni + s
        r = b % di
        buf[i] = b // di
        v[i] = q * di + r
