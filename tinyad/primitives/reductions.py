"""Reductions: sum, max, logsumexp (each with axis/keepdims), and stack built on concatenate."""

from __future__ import annotations

import numpy as np

from ..primitive import Primitive, ndim_of, shape_of
from .elementwise import equal, exp
from .shapes import _axes, broadcast_to, concatenate, reshape


def keepdims_shape(shape: tuple, axis) -> tuple:
    axes = _axes(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def expand(g, x, axis, keepdims):
    """A reduced value ``g`` reshaped so that it broadcasts against the unreduced ``x``."""
    return g if keepdims else reshape(g, keepdims_shape(shape_of(x), axis))


def _batched_axis(axis, nd):
    return tuple(a + 1 for a in _axes(axis, nd))


def _sum(x, axis=None, keepdims=False):
    return np.sum(x, axis=axis, keepdims=keepdims)


sum = Primitive(_sum, "sum", linear=True)  # noqa: A001 - the NumPy name
sum.defvjp(
    lambda g, ans, x, axis=None, keepdims=False: broadcast_to(expand(g, x, axis, keepdims), shape_of(x))
)
sum.defjvp_batched(
    lambda g, ans, x, axis=None, keepdims=False: sum(g, axis=_batched_axis(axis, ndim_of(x)), keepdims=keepdims)
)


def _amax(x, axis=None, keepdims=False):
    return np.max(x, axis=axis, keepdims=keepdims)


def _argmax_weights(ans, x, axis, keepdims):
    """Where the maximum is attained, split evenly among ties (a constant)."""
    hit = np.asarray(equal(x, expand(ans, x, axis, keepdims)), dtype=float)
    return hit / np.sum(hit, axis=axis, keepdims=True)


max = Primitive(_amax, "max")  # noqa: A001 - the NumPy name
max.defjvp(
    lambda g, ans, x, axis=None, keepdims=False: sum(
        g * _argmax_weights(ans, x, axis, keepdims), axis=axis, keepdims=keepdims)
)
max.defvjp(
    lambda g, ans, x, axis=None, keepdims=False: expand(g, x, axis, keepdims) * _argmax_weights(ans, x, axis, keepdims)
)


def _logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax_of(ans, x, axis, keepdims):
    return exp(x - expand(ans, x, axis, keepdims))


logsumexp = Primitive(_logsumexp, "logsumexp")
logsumexp.defjvp(
    lambda g, ans, x, axis=None, keepdims=False: sum(
        g * _softmax_of(ans, x, axis, keepdims), axis=axis, keepdims=keepdims)
)
logsumexp.defvjp(
    lambda g, ans, x, axis=None, keepdims=False: expand(g, x, axis, keepdims) * _softmax_of(ans, x, axis, keepdims)
)


def stack(xs, axis=0):
    """Stack along a new axis (a reshape of each input, then one concatenate)."""
    xs = list(xs)
    nd = ndim_of(xs[0]) + 1
    ax = axis % nd
    parts = [reshape(x, shape_of(x)[:ax] + (1,) + shape_of(x)[ax:]) for x in xs]
    return concatenate(*parts, axis=ax)


def _cumsum(x, *, axis):
    return np.cumsum(x, axis=axis)


def _flip(g, axis):
    from .shapes import getitem

    return getitem(g, idx=(slice(None),) * (axis % ndim_of(g)) + (slice(None, None, -1),))


cumsum_p = Primitive(_cumsum, "cumsum", linear=True)
cumsum_p.defvjp(lambda g, ans, x, axis: _flip(cumsum_p(_flip(g, axis), axis=axis), axis))
