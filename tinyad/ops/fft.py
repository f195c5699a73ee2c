"""Discrete Fourier transforms along one axis (``fft``, ``ifft``, ``rfft``, ``irfft``; NumPy's default
normalisation). The 2-d transforms and the shifts are compositions in ``tinyad.numpy.fft``.

They are linear, so each JVP is the transform of the tangent; each VJP is the plain transpose (JAX's
convention: a cotangent c of z means dL = Re(sum(c dz))). The DFT matrix F is symmetric, so fft's VJP is
fft and ifft's is ifft. rfft keeps the first m = n // 2 + 1 outputs of fft of a real input: its VJP is
the real part of fft of the zero-padded cotangent. irfft(c, n) reads the half-spectrum c (truncated or
zero-padded to n // 2 + 1 bins) as a Hermitian spectrum: its VJP is conj(rfft(g)) weighted 1/n at DC (and
at Nyquist for even n), 2/n elsewhere, on the bins that were read.
"""

from __future__ import annotations

import numpy as np

from ..core.primitive import builtin, ndim_of, shape_of
from ..core.vspace import getitem, real, scatter_add
from .elementwise import conj, multiply


def _along(ax: int, index) -> tuple:
    return (slice(None),) * ax + (index,)


def resize(x, ax: int, m: int):
    """``x`` truncated or zero-padded to length ``m`` along axis ``ax``."""
    have = shape_of(x)[ax]
    if have >= m:
        return getitem(x, idx=_along(ax, slice(0, m)))
    shape = shape_of(x)[:ax] + (m,) + shape_of(x)[ax + 1:]
    return scatter_add(x, idx=_along(ax, slice(0, have)), shape=shape)


def _fft(x, *, axis=-1):
    return np.fft.fft(x, axis=axis)


def _ifft(x, *, axis=-1):
    return np.fft.ifft(x, axis=axis)


fft = builtin(_fft, "fft", linear=True)
fft.defvjp(lambda g, ans, x, axis=-1: fft(g, axis=axis))
ifft = builtin(_ifft, "ifft", linear=True)
ifft.defvjp(lambda g, ans, x, axis=-1: ifft(g, axis=axis))


def _rfft(x, *, axis=-1):
    return np.fft.rfft(x, axis=axis)


def _rfft_vjp(g, ans, x, axis=-1):
    ax = axis % ndim_of(x)
    return real(fft(resize(g, ax, shape_of(x)[ax]), axis=ax))


rfft = builtin(_rfft, "rfft", linear=True)
rfft.defvjp(_rfft_vjp)


def _irfft(c, *, n=None, axis=-1):
    return np.fft.irfft(c, n=n, axis=axis)


def _irfft_weights(m: int, n: int, ax: int, nd: int) -> np.ndarray:
    """1/n at DC (and at Nyquist for even n), 2/n for the bins counted twice in the Hermitian spectrum."""
    w = np.full(m, 2.0 / n)
    w[0] = 1.0 / n
    if n % 2 == 0:
        w[-1] = 1.0 / n
    return w.reshape((m,) + (1,) * (nd - ax - 1))


def _irfft_vjp(g, ans, c, n=None, axis=-1):
    ax = axis % ndim_of(c)
    n_out = shape_of(ans)[ax]
    bins = n_out // 2 + 1  # the bins irfft read (c was truncated or zero-padded to these)
    spectrum = multiply(conj(rfft(g, axis=ax)), _irfft_weights(bins, n_out, ax, ndim_of(c)))
    return resize(spectrum, ax, shape_of(c)[ax])


irfft = builtin(_irfft, "irfft", linear=True)
irfft.defvjp(_irfft_vjp)
