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


@njit(cache=True)
def pack_bits(words: np.ndarray, width: int) -> np.ndarray:
    """Non-negative int64 ``words``, each below 2**width (0 <= width <= 63), written back to back at
    ``width`` bits each into uint64 words (least significant bits first): ceil(n * width / 64) words."""
    out = np.zeros((words.shape[0] * width + 63) // 64, dtype=np.uint64)
    pos = 0
    for i in range(words.shape[0]):
        x = np.uint64(words[i])
        k, o = pos >> 6, pos & 63
        out[k] |= x << np.uint64(o)
        if o + width > 64:  # the word straddles two uint64s: its high bits start the next one
            out[k + 1] |= x >> np.uint64(64 - o)
        pos += width
    return out


@njit(cache=True)
def unpack_bits(packed: np.ndarray, width: int, n: int) -> np.ndarray:
    """The inverse of :func:`pack_bits`: the ``n`` int64 words stored at ``width`` bits each."""
    out = np.zeros(n, dtype=np.int64)
    if width == 0:
        return out
    mask = (np.uint64(1) << np.uint64(width)) - np.uint64(1)
    pos = 0
    for i in range(n):
        k, o = pos >> 6, pos & 63
        x = packed[k] >> np.uint64(o)
        if o + width > 64:
            x |= packed[k + 1] << np.uint64(64 - o)
        out[i] = np.int64(x & mask)
        pos += width
    return out
