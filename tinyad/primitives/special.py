"""Primitives whose outputs are constants at every level of differentiation."""

from __future__ import annotations

import numpy as np

from ..primitive import Primitive, shape_of


def _identity(x):
    return x


stop_gradient = Primitive(_identity, "stop_gradient", nondiff=True)
stop_gradient.__doc__ = """The value of ``x`` as a constant: no derivative flows through it, at any level.

Use it for values you read but must not differentiate (a running statistic, a target network, a number
to print)."""

argmax = Primitive(np.argmax, "argmax", nondiff=True)
argmin = Primitive(np.argmin, "argmin", nondiff=True)


def _zeros_like(x, dtype=None):
    return np.zeros(shape_of(x), dtype=dtype or np.result_type(x, np.float64))


def _ones_like(x, dtype=None):
    return np.ones(shape_of(x), dtype=dtype or np.result_type(x, np.float64))


zeros_like = Primitive(_zeros_like, "zeros_like", nondiff=True)
ones_like = Primitive(_ones_like, "ones_like", nondiff=True)

argsort = Primitive(np.argsort, "argsort", nondiff=True)
nonzero = Primitive(np.nonzero, "nonzero", nondiff=True)
searchsorted = Primitive(np.searchsorted, "searchsorted", nondiff=True)
