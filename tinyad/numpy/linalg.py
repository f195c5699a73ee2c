"""``tinyad.numpy.linalg``: differentiable inv, det, slogdet, solve, cholesky, eigh, pinv, norm.

Matrices may carry leading batch axes. ``eigh`` assumes a symmetric input with distinct eigenvalues (its
derivative divides by their differences) and treats the input as symmetric, as NumPy does by reading one
triangle; ``cholesky`` likewise takes a symmetric positive-definite input.
"""

from __future__ import annotations

from typing import Any as _Any

import numpy as _np

from ..primitives.decompositions import cholesky, det, inv, pinv, solve  # noqa: F401
from ..primitives.decompositions import eigh_packed as _eigh_packed
from ..primitives.decompositions import logabsdet as _logabsdet
from ..primitives.shapes import getitem as _getitem
from ..tags import strip as _strip
from ._more import norm  # noqa: F401

LinAlgError = _np.linalg.LinAlgError


def slogdet(a: _Any) -> tuple:
    """(sign, log|det a|): the sign is a constant; the log-determinant is differentiable."""
    return _np.linalg.slogdet(_strip(a))[0], _logabsdet(a)


def eigh(a: _Any) -> tuple:
    """(eigenvalues w ascending, eigenvectors V as columns) of a symmetric matrix."""
    packed = _eigh_packed(a)
    return (_getitem(packed, idx=(Ellipsis, 0, slice(None))),
            _getitem(packed, idx=(Ellipsis, slice(1, None), slice(None))))
