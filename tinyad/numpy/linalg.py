"""``tinyad.numpy.linalg``: differentiable inv, det, slogdet, solve, cholesky, eigh, pinv, norm.

Matrices may carry leading batch axes. ``eigh`` assumes a symmetric input with distinct eigenvalues (its
derivative divides by their differences) and treats the input as symmetric, as NumPy does by reading one
triangle; ``cholesky`` likewise takes a symmetric positive-definite input.
"""

from __future__ import annotations

from typing import Any

import numpy as _np

from ..primitives.decompositions import cholesky, det, eigh_packed, inv, logabsdet, pinv, solve  # noqa: F401
from ..primitives.shapes import getitem
from ..tags import strip
from ._more import norm  # noqa: F401

LinAlgError = _np.linalg.LinAlgError


def slogdet(a: Any) -> tuple:
    """(sign, log|det a|): the sign is a constant; the log-determinant is differentiable."""
    return _np.linalg.slogdet(strip(a))[0], logabsdet(a)


def eigh(a: Any) -> tuple:
    """(eigenvalues w ascending, eigenvectors V as columns) of a symmetric matrix."""
    packed = eigh_packed(a)
    return getitem(packed, idx=(Ellipsis, 0, slice(None))), getitem(packed, idx=(Ellipsis, slice(1, None), slice(None)))
