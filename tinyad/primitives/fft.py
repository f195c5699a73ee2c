"""Discrete Fourier transforms along one axis (``fft``, ``ifft``, ``rfft``, ``irfft``; NumPy's default
normalisation). The 2-d transforms and the shifts are compositions in ``tinyad.numpy.fft``.

They are linear, so each JVP is the transform of the tangent; each VJP is the adjoint for the real inner
product Re<a, b>: fft's is n * ifft, ifft's is fft / n; rfft's is the real part of n * ifft of the
zero-padded cotangent; irfft's is rfft of the cotangent weighted 1/n at DC (and Nyquist) and 2/n elsewhere.
"""

from __future__ import annotations

import numpy as np

from ..primitive import Primitive, ndim_of, shape_of
from .elementwise import multiply, real
from .shapes import scatter_add


def _n(x, axis):
    return shape_of(x)[axis % ndim_of(x)]


def _fft(x, *, axis=-1):
    return np.fft.fft(x, axis=axis)


def _ifft(x, *, axis=-1):
    return np.fft.ifft(x, axis=axis)


fft = Primitive(_fft, "fft", linear=True)
fft.defvjp(lambda g, ans, x, axis=-1: multiply(ifft(g, axis=axis), float(_n(x, axis))))
ifft = Primitive(_ifft, "ifft", linear=True)
ifft.defvjp(lambda g, ans, x, axis=-1: multiply(fft(g, axis=axis), 1.0 / _n(x, axis)))


def _rfft(x, *, axis=-1):
    return np.fft.rfft(x, axis=axis)


def _rfft_vjp(g, ans, x, axis=-1):
    ax = axis % ndim_of(x)
    n = _n(x, ax)
    padded = scatter_add(g, idx=(slice(None),) * ax + (slice(0, shape_of(g)[ax]),),
                         shape=shape_of(g)[:ax] + (n,) + shape_of(g)[ax + 1:])
    return real(multiply(ifft(padded, axis=ax), float(n)))


rfft = Primitive(_rfft, "rfft", linear=True)
rfft.defvjp(_rfft_vjp)


def _irfft(c, *, n=None, axis=-1):
    return np.fft.irfft(c, n=n, axis=axis)


def _irfft_weights(m, n, ax, nd):
    w = np.full(m, 2.0 / n)
    w[0] = 1.0 / n
    if n % 2 == 0:
        w[-1] = 1.0 / n
    return w.reshape((m,) + (1,) * (nd - ax - 1))


def _irfft_vjp(g, ans, c, n=None, axis=-1):
    ax = axis % ndim_of(c)
    n_out = _n(ans, ax)
    spectrum = rfft(g, axis=ax)
    m = _n(c, ax)
    return multiply(spectrum, _irfft_weights(m, n_out, ax, ndim_of(c)))


irfft = Primitive(_irfft, "irfft", linear=True)
irfft.defvjp(_irfft_vjp)
