"""Fast paths that bypass dispatch for whole expressions, when every input is plain or a Dual of one trace.

A fused path is an optimisation only: it must give the numbers of the generic expression it replaces
(tests/test_kernels.py holds them equal), and it returns None whenever its preconditions do not hold, so
the caller falls back to the generic expression. Preconditions: float64 arrays of one shape (scalars for
hyperparameters), and no box other than Duals of a single trace with plain primal and tangent; tangents
of a one-direction trace are treated as k = 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .forward import Dual
from .tags import Box


def _split(x: Any, trace: Any, k: int, shape: tuple) -> tuple | None:
    """(primal, tangent (k, n) or (k,)) of one input, or None if it does not qualify."""
    if type(x) is Dual:
        if x._trace is not trace or isinstance(x._primal, Box) or isinstance(x._tangent, Box):
            return None
        p, t = x._primal, x._tangent
    elif isinstance(x, Box):
        return None
    else:
        p, t = x, None
    if shape == ():  # a scalar hyperparameter
        if np.ndim(p) != 0:
            return None
        tt = np.zeros(k) if t is None else np.reshape(t, (k,))
        return float(p), np.ascontiguousarray(tt, dtype=np.float64)
    if type(p) is not np.ndarray or p.shape != shape or p.dtype != np.float64:
        return None
    tt = np.zeros((k, p.size)) if t is None else np.reshape(t, (k, p.size))
    return np.ascontiguousarray(p).ravel(), np.ascontiguousarray(tt, dtype=np.float64)


_SCALARS = (float, int, np.float64)
_F64 = np.dtype(np.float64)


def _plain_array(x: Any, shape: tuple) -> bool:
    return type(x) is np.ndarray and x.dtype == _F64 and x.shape == shape and x.flags.c_contiguous


def sgd_update(g: Any, b: Any, p: Any, lr: Any, mu: Any, wd: Any, nesterov: bool) -> tuple | None:
    """(new_p, new_b) of SGD with momentum for one parameter array, or None (use the generic path)."""
    if type(p) is np.ndarray and p.ndim and type(lr) in _SCALARS and type(mu) in _SCALARS and type(wd) in _SCALARS:
        shape = p.shape
        if not (_plain_array(p, shape) and _plain_array(g, shape) and _plain_array(b, shape)):
            return None
        from .kernels.sgd import sgd_update_tangents as kernel

        none, none_s = np.empty((0, p.size)), np.empty(0)  # k = 0 tangents: the plain update
        new_p, new_b, _, _ = kernel(g.reshape(-1), none, b.reshape(-1), none, p.reshape(-1), none, float(lr),
                                    none_s, float(mu), none_s, float(wd), none_s, nesterov)
        return new_p.reshape(shape), new_b.reshape(shape)
    arrays = (g, b, p)
    boxes = [x for x in arrays + (lr, mu, wd) if isinstance(x, Box)]
    if not boxes:
        return None
    trace = boxes[0]._trace
    if type(boxes[0]) is not Dual or not trace.live:
        return None
    k = 1 if trace.k is None else trace.k
    shape = np.shape(p._primal if type(p) is Dual else p)
    if shape == ():  # a scalar parameter (e.g. a hyperparameter being tuned): the generic path
        return None
    parts = [_split(x, trace, k, shape) for x in arrays] + [_split(h, trace, k, ()) for h in (lr, mu, wd)]
    if any(x is None for x in parts):
        return None
    from .kernels.sgd import sgd_update_tangents as kernel

    (gp, gt), (bp, bt), (pp, pt), (lp, lt), (mp, mt), (wp, wt) = parts
    new_p, new_b, tp, tb = kernel(gp, gt, bp, bt, pp, pt, lp, lt, mp, mt, wp, wt, nesterov)
    tshape = shape if trace.k is None else (k,) + shape
    return (Dual(new_p.reshape(shape), tp.reshape(tshape), trace),
            Dual(new_b.reshape(shape), tb.reshape(tshape), trace))
