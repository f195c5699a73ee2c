"""Structural primitives — shapes and reductions — beyond the ones the engine itself needs.

``tinyad.core.vspace`` defines reshape, transpose, broadcast_to, sum, getitem/scatter_add and concatenate
(the engine moves tangents and cotangents with them); they are re-exported here. This file adds the
reductions whose derivatives are not linear (max, logsumexp, and softmax built on it) and cumulative sums.
"""

from __future__ import annotations

import numpy as np

from ..core.primitive import builtin, ndim_of
from ..core.trace import strip
from ..core.vspace import (  # noqa: F401 - re-exported: the structural primitives the engine defines
    astype_p,
    broadcast_to,
    concatenate,
    expand,
    getitem,
    normalize_axes,
    reshape,
    scatter_add,
    stack,
    sum,
    swap_last,
    transpose,
    unbroadcast,
)
from .elementwise import subtract, where
from .nondiff import as_float, equal, isfinite


# ---- max and logsumexp: derivatives are weighted sums over the reduced axes --------------------------------
def _weighted_sum_jvp(weights):
    """The JVP ``sum(g * weights, axis)`` of a reduction. The axes are counted from the end, so the one rule
    also serves a tangent with a leading axis of k directions (it is the batched rule too)."""
    def rule(g, ans, x, axis=None, keepdims=False):
        nd = ndim_of(x)
        trailing = tuple(a - nd for a in normalize_axes(axis, nd))
        return sum(g * weights(ans, x, axis, keepdims), axis=trailing, keepdims=keepdims)

    return rule


def _amax(x, axis=None, keepdims=False):
    return np.max(x, axis=axis, keepdims=keepdims)


def _argmax_weights(ans, x, axis, keepdims):
    """Where the maximum is attained, split evenly among ties (a constant)."""
    hit = as_float(equal(x, expand(ans, x, axis, keepdims)))
    return hit / sum(hit, axis=axis, keepdims=True)


max = builtin(_amax, "max")  # noqa: A001 - the NumPy name
max.defjvp(_weighted_sum_jvp(_argmax_weights))
max.defjvp_batched(max.jvps[0])
max.defvjp(lambda g, ans, x, axis=None, keepdims=False:
           expand(g, x, axis, keepdims) * _argmax_weights(ans, x, axis, keepdims))


# ---- logsumexp and softmax -------------------------------------------------------------------------------
def logsumexp_value(x, axis=None, keepdims=False):
    """log(sum(exp(x))) on plain arrays, shifted by the maximum so that it cannot overflow."""
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis)


def _softmax_of(ans, x, axis, keepdims):
    """d logsumexp / dx: the softmax, computed shifted by the maximum (exp(x - ans) would lose the digits
    that rounding ans dropped: large logits, float32)."""
    return softmax_p(x, axis=normalize_axes(axis, ndim_of(x)))


logsumexp = builtin(logsumexp_value, "logsumexp")
logsumexp.defjvp(_weighted_sum_jvp(_softmax_of))
logsumexp.defjvp_batched(logsumexp.jvps[0])
logsumexp.defvjp(lambda g, ans, x, axis=None, keepdims=False:
                 expand(g, x, axis, keepdims) * _softmax_of(ans, x, axis, keepdims))


def log_softmax(x, axis=-1):
    """(x - m) - logsumexp(x - m) with m the maximum, a constant (the result does not depend on it): x -
    logsumexp(x) would keep only the digits of x that survive rounding logsumexp(x)."""
    m = max(strip(x), axis=axis, keepdims=True)
    shifted = subtract(x, where(isfinite(m), m, 0.0))
    return subtract(shifted, logsumexp(shifted, axis=axis, keepdims=True))


def _softmax(x, *, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _softmax_jacobian_product(t, s, x, axis):
    """J t = s * (t - sum(s * t)) over ``axis``: the Jacobian of softmax is symmetric, so this one formula is
    its JVP and its VJP (with the axes counted from the end, it serves k tangent directions too)."""
    nd = ndim_of(x)
    return s * (t - sum(s * t, axis=tuple(a - nd for a in axis), keepdims=True))


softmax_p = builtin(_softmax, "softmax")
softmax_p.defjvp(_softmax_jacobian_product)
softmax_p.defjvp_batched(_softmax_jacobian_product)
softmax_p.defvjp(_softmax_jacobian_product)


def softmax(x, axis=-1):
    """exp(x - logsumexp(x)) over ``axis`` (an int, a tuple, or None: all), one primitive (losses and
    tinyad.numpy use it)."""
    return softmax_p(x, axis=normalize_axes(axis, ndim_of(x)))


# ---- cumulative sum ----------------------------------------------------------------------------------------
def _cumsum(x, *, axis):
    return np.cumsum(x, axis=axis)


def _flip(g, axis):
    return getitem(g, idx=(slice(None),) * (axis % ndim_of(g)) + (slice(None, None, -1),))


cumsum_p = builtin(_cumsum, "cumsum", linear=True)
cumsum_p.defvjp(lambda g, ans, x, axis: _flip(cumsum_p(_flip(g, axis), axis=axis), axis))
