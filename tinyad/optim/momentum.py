"""SGD with heavy-ball or Nesterov momentum and L2 weight decay — its update written once, and beside it
the fast path that replaces it on plain arrays or on Duals of one trace (a numba kernel carrying k
tangents; tests/test_kernels.py holds the two equal)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.forward import Dual, ForwardTrace
from ..core.trace import Box
from ..kernels.sgd import sgd_update_tangents
from .base import Optimizer, is_zero, leafwise, zeros_like_params


def momentum_direction(g: Any, b: Any, mu: Any, nesterov: bool) -> tuple:
    """(direction, new buffer): ``b <- mu b + g``; the direction is ``g + mu b`` (Nesterov) or ``b``."""
    b = mu * b + g
    return (g + mu * b if nesterov else b), b


def sgd_step(g: Any, b: Any, p: Any, lr: Any, mu: Any, wd: Any, nesterov: bool) -> tuple:
    """One parameter array's (new p, new b): the generic update, in tinyad ops (any argument may be a box)."""
    d, b = momentum_direction(g + wd * p, b, mu, nesterov)
    return p - lr * d, b


class SGD(Optimizer):
    """SGD with heavy-ball or Nesterov momentum and L2 weight decay (PyTorch's convention)::

        g <- grad + weight_decay * theta
        b <- momentum * b + g                      (b_0 = 0)
        d <- g + momentum * b   if nesterov else b
        theta <- theta - lr * d

    With ``v = -b`` this is the ``v <- mu v - g; theta <- theta + alpha v`` form of the reference run.
    """

    name = "sgd"
    numeric = ("lr", "momentum", "weight_decay")

    def __init__(self, lr: Any, momentum: Any = 0.0, nesterov: bool = False, weight_decay: Any = 0.0) -> None:
        super().__init__(lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)

    @property
    def tunable(self) -> tuple[str, ...]:
        return ("lr",) if is_zero(self._hyperparams["momentum"]) else ("lr", "momentum")

    def init(self, params: Any) -> dict:
        return {"b": zeros_like_params(params)}

    def apply(self, grads: Any, state: dict, params: Any) -> tuple:
        h = self._hyperparams
        nesterov = h["nesterov"]

        def one(g, b, p, lr, mu, wd):
            fast = fused_sgd_step(g, b, p, lr, mu, wd, nesterov)  # one numba pass, when it applies
            return fast if fast is not None else sgd_step(g, b, p, lr, mu, wd, nesterov)

        new_p, b = leafwise(one, 2, params, {"gradients": grads, "state 'b'": state["b"], "parameters": params},
                            (("lr", h["lr"]), ("momentum", h["momentum"]), ("weight_decay", h["weight_decay"])))
        return new_p, {"b": b}


sgd = SGD


# ---- the fast path ------------------------------------------------------------------------------------------
_SCALARS = (float, int, np.float64)
_F64 = np.dtype(np.float64)


def _plain_array(x: Any, shape: tuple) -> bool:
    return type(x) is np.ndarray and x.dtype == _F64 and x.shape == shape and x.flags.c_contiguous


def _split(x: Any, trace: ForwardTrace, k: int, shape: tuple) -> tuple | None:
    """(primal, tangent (k, n) or (k,)) of one input, or None if it does not qualify."""
    if type(x) is Dual:
        if x.trace is not trace or isinstance(x.primal, Box) or isinstance(x.tangent, Box):
            return None
        p, t = x.primal, x.tangent
    elif isinstance(x, Box):
        return None
    else:
        p, t = x, None
    if shape == ():  # a scalar hyperparameter
        if np.ndim(p) != 0:
            return None
        tt = np.zeros(k) if t is None else np.reshape(t, (k,))
        return float(p), np.ascontiguousarray(tt, dtype=np.float64)
    if type(p) is not np.ndarray or p.shape != shape or p.dtype != _F64:
        return None
    tt = np.zeros((k, p.size)) if t is None else np.reshape(t, (k, p.size))
    return np.ascontiguousarray(p).ravel(), np.ascontiguousarray(tt, dtype=np.float64)


def fused_sgd_step(g: Any, b: Any, p: Any, lr: Any, mu: Any, wd: Any, nesterov: bool) -> tuple | None:
    """:func:`sgd_step` in one numba pass, or None when its preconditions fail (use the generic path).

    Preconditions: float64 arrays of one shape (scalars for the hyperparameters), and no box other than Duals
    of a single live trace with plain primal and tangent; a one-direction trace is treated as k = 1."""
    if type(p) is np.ndarray and p.ndim and type(lr) in _SCALARS and type(mu) in _SCALARS and type(wd) in _SCALARS:
        shape = p.shape
        if not (_plain_array(p, shape) and _plain_array(g, shape) and _plain_array(b, shape)):
            return None
        none, none_s = np.empty((0, p.size)), np.empty(0)  # k = 0 tangents: the plain update
        new_p, new_b, _, _ = sgd_update_tangents(g.reshape(-1), none, b.reshape(-1), none, p.reshape(-1), none,
                                                 float(lr), none_s, float(mu), none_s, float(wd), none_s, nesterov)
        return new_p.reshape(shape), new_b.reshape(shape)
    boxes = [x for x in (g, b, p, lr, mu, wd) if isinstance(x, Box)]
    if not boxes or type(boxes[0]) is not Dual or not boxes[0].trace.live:
        return None
    trace = boxes[0].trace
    k = 1 if trace.k is None else trace.k
    shape = np.shape(p.primal if type(p) is Dual else p)
    if shape == ():  # a scalar parameter (e.g. a hyperparameter being tuned): the generic path
        return None
    parts = [_split(x, trace, k, shape) for x in (g, b, p)] + [_split(h, trace, k, ()) for h in (lr, mu, wd)]
    if any(x is None for x in parts):
        return None
    (gp, gt), (bp, bt), (pp, pt), (lp, lt), (mp, mt), (wp, wt) = parts
    new_p, new_b, tp, tb = sgd_update_tangents(gp, gt, bp, bt, pp, pt, lp, lt, mp, mt, wp, wt, nesterov)
    tshape = shape if trace.k is None else (k,) + shape
    return (Dual(new_p.reshape(shape), tp.reshape(tshape), trace),
            Dual(new_b.reshape(shape), tb.reshape(tshape), trace))
