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

from .compiling import kernel, warms_up


def _int64_vectors(**arrays: np.ndarray) -> int:
    """The common length of 1-d int64 arrays (a kernel indexes them unchecked: anything else raises here)."""
    n = None
    for name, a in arrays.items():
        if type(a) is not np.ndarray or a.ndim != 1 or a.dtype != np.int64:
            raise TypeError(f"exact kernels take 1-d int64 arrays; {name} is {getattr(a, 'dtype', type(a))} "
                            f"with shape {np.shape(a)}")
        if n is not None and a.shape[0] != n:
            raise ValueError(f"exact kernels take arrays of one length; {name} has {a.shape[0]}, not {n}")
        n = a.shape[0]
    return n


def mul_rational(v: np.ndarray, buf: np.ndarray, n: np.ndarray, d: np.ndarray) -> None:
    """In place: v <- v * n / d exactly, the lost remainder kept in ``buf``. Elementwise n, d (int64, > 0)."""
    _int64_vectors(v=v, buf=buf, n=n, d=d)
    if np.any(n <= 0) or np.any(d <= 0):
        raise ValueError("exact kernels need positive numerators and denominators")
    _mul_rational(v, buf, n, d)


def unmul_rational(v: np.ndarray, buf: np.ndarray, n: np.ndarray, d: np.ndarray) -> None:
    """In place: the exact inverse of :func:`mul_rational`."""
    _int64_vectors(v=v, buf=buf, n=n, d=d)
    if np.any(n <= 0) or np.any(d <= 0):
        raise ValueError("exact kernels need positive numerators and denominators")
    _unmul_rational(v, buf, n, d)


def pack_bits(words: np.ndarray, width: int) -> np.ndarray:
    """Non-negative int64 ``words``, each below 2**width (0 <= width <= 63), written back to back at
    ``width`` bits each into uint64 words (least significant bits first): ceil(n * width / 64) words."""
    _int64_vectors(words=words)
    if not 0 <= int(width) <= 63:
        raise ValueError(f"pack_bits: width must be in [0, 63], got {width}")
    if words.size and (words.min() < 0 or int(words.max()).bit_length() > width):
        raise ValueError(f"pack_bits: the words must be non-negative and below 2**{width}")
    return _pack_bits(words, int(width))


def unpack_bits(packed: np.ndarray, width: int, n: int) -> np.ndarray:
    """The inverse of :func:`pack_bits`: the ``n`` int64 words stored at ``width`` bits each."""
    if type(packed) is not np.ndarray or packed.ndim != 1 or packed.dtype != np.uint64:
        raise TypeError(f"unpack_bits takes a 1-d uint64 array, got {getattr(packed, 'dtype', type(packed))}")
    if not 0 <= int(width) <= 63 or packed.shape[0] < (int(n) * int(width) + 63) // 64:
        raise ValueError(f"unpack_bits: {packed.shape[0]} packed words cannot hold {n} words of {width} bits")
    return _unpack_bits(packed, int(width), int(n))


@kernel
def _mul_rational(v: np.ndarray, buf: np.ndarray, n: np.ndarray, d: np.ndarray) -> None:
    for i in range(v.shape[0]):
        ni, di = n[i], d[i]
        r = v[i] % di
        b = buf[i] * di + r
        q = v[i] // di
        s = b % ni
        buf[i] = b // ni
        v[i] = q * ni + s


@kernel
def _unmul_rational(v: np.ndarray, buf: np.ndarray, n: np.ndarray, d: np.ndarray) -> None:
    for i in range(v.shape[0]):
        ni, di = n[i], d[i]
        s = v[i] % ni
        q = v[i] // ni
        b = buf[i] * ni + s
        r = b % di
        buf[i] = b // di
        v[i] = q * di + r


@kernel
def _pack_bits(words: np.ndarray, width: int) -> np.ndarray:
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


@kernel
def _unpack_bits(packed: np.ndarray, width: int, n: int) -> np.ndarray:
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


@warms_up
def _warm_up() -> None:
    v, buf, n, d = (np.full(2, x, dtype=np.int64) for x in (12, 0, 9, 10))
    mul_rational(v, buf, n, d)
    unmul_rational(v, buf, n, d)
    unpack_bits(pack_bits(v, 8), 8, 2)
