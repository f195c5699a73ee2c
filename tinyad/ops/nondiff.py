"""Primitives whose outputs are constants at every level of differentiation: comparisons, rounding,
logical ops, index-valued functions, and ``stop_gradient``. Boxes among their arguments are stripped."""

from __future__ import annotations

import numpy as np

from ..core.primitive import builtin
from ..core.vspace import astype_p


def _nd(impl, name: str, scalar: str | None = None):
    """A primitive with constant outputs; ``scalar``, for elementwise ones: the op on scalars, for fused kernels."""
    prim = builtin(impl, name, nondiff=True)
    prim.scalar = scalar
    return prim


equal = _nd(np.equal, "equal", "({0} == {1})")
not_equal = _nd(np.not_equal, "not_equal", "({0} != {1})")
less = _nd(np.less, "less", "({0} < {1})")
less_equal = _nd(np.less_equal, "less_equal", "({0} <= {1})")
greater = _nd(np.greater, "greater", "({0} > {1})")
greater_equal = _nd(np.greater_equal, "greater_equal", "({0} >= {1})")
sign = _nd(np.sign, "sign", "(1.0 if {0} > 0 else (-1.0 if {0} < 0 else {0} + 0.0))")  # sign(-0.0) = 0.0: NumPy's
floor = _nd(np.floor, "floor", "np.floor({0})")
ceil = _nd(np.ceil, "ceil", "np.ceil({0})")
round = _nd(np.round, "round")  # noqa: A001 - the NumPy name
trunc = _nd(np.trunc, "trunc")
rint = _nd(np.rint, "rint")
floor_divide = _nd(np.floor_divide, "floor_divide")
isfinite = _nd(np.isfinite, "isfinite", "np.isfinite({0})")
isnan = _nd(np.isnan, "isnan", "np.isnan({0})")
isinf = _nd(np.isinf, "isinf")
logical_and = _nd(np.logical_and, "logical_and", "({0} and {1})")
logical_or = _nd(np.logical_or, "logical_or", "({0} or {1})")
logical_not = _nd(np.logical_not, "logical_not", "(not {0})")
logical_xor = _nd(np.logical_xor, "logical_xor")

argmax = _nd(np.argmax, "argmax")
argmin = _nd(np.argmin, "argmin")
argsort = _nd(np.argsort, "argsort")
nonzero = _nd(np.nonzero, "nonzero")
searchsorted = _nd(np.searchsorted, "searchsorted")
count_nonzero = _nd(np.count_nonzero, "count_nonzero")


def _astype_constant(x, *, dtype):
    return np.asarray(x).astype(dtype)


astype_constant = _nd(_astype_constant, "astype_constant")  # to an integer or bool dtype: no derivative


def _identity(x):
    return x


stop_gradient = _nd(_identity, "stop_gradient")
stop_gradient.__doc__ = """The value of ``x`` as a constant: no derivative flows through it, at any level.

Use it for values you read but must not differentiate (a running statistic, a target network, a number
to print)."""


# NumPy's own constructors-from-a-template and truth tests: the same dtype and shape rules as NumPy's.
zeros_like = _nd(np.zeros_like, "zeros_like")
ones_like = _nd(np.ones_like, "ones_like")
empty_like = _nd(np.empty_like, "empty_like")
any = _nd(np.any, "any")  # noqa: A001 - the NumPy name
all = _nd(np.all, "all")  # noqa: A001 - the NumPy name
isclose = _nd(np.isclose, "isclose")
allclose = _nd(np.allclose, "allclose")


def as_float(mask):
    """A boolean mask as 0.0/1.0 floats (a constant; a primitive, so that a traced mask stays traced)."""
    return astype_p(mask, dtype=np.dtype(np.float64))
