"""``tinyad.numpy.fft``: fft, ifft, fft2, ifft2, rfft, irfft, fftshift, ifftshift (differentiable).

Only the default normalisation and no ``n`` padding argument for fft/ifft/rfft (irfft takes ``n``)."""

from __future__ import annotations

from typing import Any as _Any

from numpy.fft import fftfreq, rfftfreq  # noqa: F401 - constants: no derivative to carry

from ..core.primitive import ndim_of as _ndim_of
from ..core.primitive import shape_of as _shape_of
from ..ops import fft as _p
from .shaping import roll as _roll


def fft(a: _Any, axis: int = -1) -> _Any:
    return _p.fft(a, axis=axis)


def ifft(a: _Any, axis: int = -1) -> _Any:
    return _p.ifft(a, axis=axis)


def fft2(a: _Any, axes: tuple = (-2, -1)) -> _Any:
    return fft(fft(a, axes[0]), axes[1])


def ifft2(a: _Any, axes: tuple = (-2, -1)) -> _Any:
    return ifft(ifft(a, axes[0]), axes[1])


def rfft(a: _Any, axis: int = -1) -> _Any:
    return _p.rfft(a, axis=axis)


def irfft(a: _Any, n: int | None = None, axis: int = -1) -> _Any:
    return _p.irfft(a, n=n, axis=axis)


def _axes(axes: _Any, nd: int) -> list:
    if axes is None:
        return list(range(nd))
    return [axes] if isinstance(axes, int) else list(axes)


def fftshift(x: _Any, axes: _Any = None) -> _Any:
    for ax in _axes(axes, _ndim_of(x)):
        x = _roll(x, _shape_of(x)[ax] // 2, ax)
    return x


def ifftshift(x: _Any, axes: _Any = None) -> _Any:
    for ax in _axes(axes, _ndim_of(x)):
        x = _roll(x, -(_shape_of(x)[ax] // 2), ax)
    return x
