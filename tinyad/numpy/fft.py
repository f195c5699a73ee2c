"""``tinyad.numpy.fft``: fft, ifft, rfft, irfft, fft2, ifft2, rfft2, irfft2, fftn, ifftn, rfftn, irfftn,
fftshift, ifftshift (differentiable), with NumPy's arguments: ``n``/``s`` (truncate or zero-pad the input:
a linear map, differentiated like any other), ``axis``/``axes`` and ``norm`` ('backward', 'ortho',
'forward': a constant scale). The primitives (one axis each, NumPy's default scaling) are in
``tinyad.ops.fft``; the n-dimensional transforms apply them axis by axis, as NumPy does.

``hfft``/``ihfft`` are not provided."""

from __future__ import annotations

from typing import Any as _Any

import numpy as _np
from numpy.fft import fftfreq, rfftfreq  # noqa: F401 - constants: no derivative to carry

from ..core.primitive import ndim_of as _ndim_of
from ..core.primitive import shape_of as _shape_of
from ..ops import fft as _p
from .shaping import as_array as _as_array
from .shaping import one_axis as _one_axis
from .shaping import roll as _roll


def _scaled(y: _Any, n: int, norm: _Any, inverse: bool) -> _Any:
    """NumPy's normalisations relative to its default ('backward': forward unscaled, inverse 1/n)."""
    if norm is None or norm == "backward":
        return y
    if norm == "ortho":  # Python floats: a float32 transform stays complex64
        return y * float(_np.sqrt(n)) if inverse else y / float(_np.sqrt(n))
    if norm == "forward":
        return y * float(n) if inverse else y / float(n)
    raise ValueError(f'Invalid norm value {norm}; should be "backward", "ortho" or "forward".')


def _prepare(a: _Any, n: _Any, axis: _Any, out: _Any) -> tuple:
    """The input as an array, truncated or zero-padded to ``n`` along ``axis``; (input, axis, n)."""
    if out is not None:
        raise TypeError("tinyad.numpy.fft: out= would write into an existing array; use the returned array")
    a = _as_array(a)
    ax = _one_axis(axis, _ndim_of(a))
    if n is None:
        return a, ax, _shape_of(a)[ax]
    n = int(n)
    if n < 1:
        raise ValueError(f"Invalid number of FFT data points ({n}) specified.")
    return (_p.resize(a, ax, n) if _shape_of(a)[ax] != n else a), ax, n


def fft(a: _Any, n: _Any = None, axis: int = -1, norm: _Any = None, out: _Any = None) -> _Any:
    a, ax, n = _prepare(a, n, axis, out)
    return _scaled(_p.fft(a, axis=ax), n, norm, inverse=False)


def ifft(a: _Any, n: _Any = None, axis: int = -1, norm: _Any = None, out: _Any = None) -> _Any:
    a, ax, n = _prepare(a, n, axis, out)
    return _scaled(_p.ifft(a, axis=ax), n, norm, inverse=True)


def rfft(a: _Any, n: _Any = None, axis: int = -1, norm: _Any = None, out: _Any = None) -> _Any:
    a, ax, n = _prepare(a, n, axis, out)
    return _scaled(_p.rfft(a, axis=ax), n, norm, inverse=False)


def irfft(a: _Any, n: _Any = None, axis: int = -1, norm: _Any = None, out: _Any = None) -> _Any:
    """The real signal of length n (default 2(m - 1)) whose half-spectrum is ``a`` (truncated or zero-padded
    to n // 2 + 1 bins)."""
    if out is not None:
        raise TypeError("tinyad.numpy.fft: out= would write into an existing array; use the returned array")
    a = _as_array(a)
    ax = _one_axis(axis, _ndim_of(a))
    n_out = 2 * (_shape_of(a)[ax] - 1) if n is None else int(n)
    if n_out < 1:
        raise ValueError(f"Invalid number of FFT data points ({n_out}) specified.")
    return _scaled(_p.irfft(a, n=n_out, axis=ax), n_out, norm, inverse=True)


def _nd_args(a: _Any, s: _Any, axes: _Any, inverse_real: bool = False) -> tuple:
    """NumPy's (s, axes) for the n-dimensional transforms (``axes`` default: the last len(s) axes, or all)."""
    nd = _ndim_of(a)
    if axes is None:
        axes = list(range(nd)) if s is None else list(range(-len(s), 0))
    else:
        axes = [axes] if _np.isscalar(axes) else list(axes)
    if s is None:
        s = [_shape_of(a)[ax] for ax in axes]
        if inverse_real and axes:
            s[-1] = 2 * (_shape_of(a)[axes[-1]] - 1)
    else:
        s = [_shape_of(a)[ax] if n == -1 else n for n, ax in zip(s, axes)] if len(s) == len(axes) else list(s)
    if len(s) != len(axes):
        raise ValueError("Shape and axes have different lengths.")
    return s, axes


def fftn(a: _Any, s: _Any = None, axes: _Any = None, norm: _Any = None, out: _Any = None) -> _Any:
    a = _as_array(a)
    s, axes = _nd_args(a, s, axes)
    for n, ax in reversed(list(zip(s, axes))):
        a = fft(a, n, ax, norm, out)
    return a


def ifftn(a: _Any, s: _Any = None, axes: _Any = None, norm: _Any = None, out: _Any = None) -> _Any:
    a = _as_array(a)
    s, axes = _nd_args(a, s, axes)
    for n, ax in reversed(list(zip(s, axes))):
        a = ifft(a, n, ax, norm, out)
    return a


def rfftn(a: _Any, s: _Any = None, axes: _Any = None, norm: _Any = None, out: _Any = None) -> _Any:
    a = _as_array(a)
    s, axes = _nd_args(a, s, axes)
    a = rfft(a, s[-1], axes[-1], norm, out)
    for n, ax in zip(s[:-1], axes[:-1]):
        a = fft(a, n, ax, norm, out)
    return a


def irfftn(a: _Any, s: _Any = None, axes: _Any = None, norm: _Any = None, out: _Any = None) -> _Any:
    a = _as_array(a)
    s, axes = _nd_args(a, s, axes, inverse_real=True)
    for n, ax in zip(s[:-1], axes[:-1]):
        a = ifft(a, n, ax, norm, out)
    return irfft(a, s[-1], axes[-1], norm, out)


def fft2(a: _Any, s: _Any = None, axes: _Any = (-2, -1), norm: _Any = None, out: _Any = None) -> _Any:
    return fftn(a, s, axes, norm, out)


def ifft2(a: _Any, s: _Any = None, axes: _Any = (-2, -1), norm: _Any = None, out: _Any = None) -> _Any:
    return ifftn(a, s, axes, norm, out)


def rfft2(a: _Any, s: _Any = None, axes: _Any = (-2, -1), norm: _Any = None, out: _Any = None) -> _Any:
    return rfftn(a, s, axes, norm, out)


def irfft2(a: _Any, s: _Any = None, axes: _Any = (-2, -1), norm: _Any = None, out: _Any = None) -> _Any:
    return irfftn(a, s, axes, norm, out)


def _axes(axes: _Any, nd: int) -> list:
    if axes is None:
        return list(range(nd))
    return [axes] if _np.isscalar(axes) else list(axes)


def fftshift(x: _Any, axes: _Any = None) -> _Any:
    x = _as_array(x)
    for ax in _axes(axes, _ndim_of(x)):
        x = _roll(x, _shape_of(x)[ax] // 2, ax)
    return x


def ifftshift(x: _Any, axes: _Any = None) -> _Any:
    x = _as_array(x)
    for ax in _axes(axes, _ndim_of(x)):
        x = _roll(x, -(_shape_of(x)[ax] // 2), ax)
    return x
