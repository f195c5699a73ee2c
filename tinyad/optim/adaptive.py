"""Adam and RMSProp: their updates written once, as functions of one parameter array in tinyad ops (the
online Adam-HD uses the same Adam direction)."""

from __future__ import annotations

from typing import Any

from .. import numpy as tnp
from .base import Optimizer, leafwise, zeros_like_params


def adam_direction(g: Any, m: Any, v: Any, t: int, b1: Any, b2: Any, eps: Any) -> tuple:
    """(direction, new m, new v) of Adam at step t >= 1: the bias-corrected ``m_hat / sqrt(v_hat + eps^2)``."""
    m = b1 * m + (1.0 - b1) * g
    v = b2 * v + (1.0 - b2) * g * g
    m_hat = m / (1.0 - b1 ** t)
    v_hat = v / (1.0 - b2 ** t)
    return m_hat / tnp.sqrt(v_hat + eps * eps), m, v


class Adam(Optimizer):
    """Adam with L2 weight decay, bias-corrected::

        g <- grad + weight_decay * theta
        m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2          (m_0 = v_0 = 0, t = 1, 2, ...)
        m_hat <- m / (1 - b1^t);  v_hat <- v / (1 - b2^t)
        theta <- theta - lr * m_hat / sqrt(v_hat + eps^2)

    Where eps sits: *inside* the square root. The textbook ``sqrt(v_hat) + eps`` has an infinite
    derivative at ``v_hat = 0``, which any parameter whose gradient is exactly zero hits (a constant-zero
    input pixel makes whole rows of a weight matrix such parameters): its hypergradient becomes
    0 * inf = NaN. ``sqrt(v_hat + eps^2)`` is smooth everywhere, differs from the textbook form only where
    ``v_hat`` is of order eps^2, and its hypergradients agree with finite differences
    (tests/test_optim.py).
    """

    name = "adam"
    numeric = ("lr", "b1", "b2", "eps", "weight_decay")
    tunable = ("lr", "b1", "b2")

    def __init__(self, lr: Any, b1: Any = 0.9, b2: Any = 0.999, eps: Any = 1e-8, weight_decay: Any = 0.0) -> None:
        super().__init__(lr=lr, b1=b1, b2=b2, eps=eps, weight_decay=weight_decay)

    def init(self, params: Any) -> dict:
        return {"m": zeros_like_params(params), "v": zeros_like_params(params), "t": 0}

    def apply(self, grads: Any, state: dict, params: Any) -> tuple:
        t = state["t"] + 1

        def one(g, m, v, p, lr, b1, b2, eps, wd):
            d, m, v = adam_direction(g + wd * p, m, v, t, b1, b2, eps)
            return p - lr * d, m, v

        h = self._hyperparams
        new_p, m, v = leafwise(one, 3, params, {"gradients": grads, "state 'm'": state["m"], "state 'v'": state["v"],
                                                "parameters": params},
                               tuple((k, h[k]) for k in ("lr", "b1", "b2", "eps", "weight_decay")))
        return new_p, {"m": m, "v": v, "t": t}


class RMSProp(Optimizer):
    """RMSProp (Hinton's, with optional heavy-ball momentum and L2 weight decay)::

        g <- grad + weight_decay * theta
        s <- decay * s + (1 - decay) * g^2                      (s_0 = 0)
        b <- momentum * b + g / sqrt(s + eps^2)                 (b_0 = 0)
        theta <- theta - lr * b

    eps sits inside the square root for the reason given in :class:`Adam`.
    """

    name = "rmsprop"
    numeric = ("lr", "decay", "eps", "momentum", "weight_decay")
    tunable = ("lr", "decay")

    def __init__(self, lr: Any, decay: Any = 0.9, eps: Any = 1e-8, momentum: Any = 0.0,
                 weight_decay: Any = 0.0) -> None:
        super().__init__(lr=lr, decay=decay, eps=eps, momentum=momentum, weight_decay=weight_decay)

    def init(self, params: Any) -> dict:
        return {"s": zeros_like_params(params), "b": zeros_like_params(params)}

    def apply(self, grads: Any, state: dict, params: Any) -> tuple:
        def one(g, s, b, p, lr, rho, eps, mu, wd):
            g = g + wd * p
            s = rho * s + (1.0 - rho) * g * g
            b = mu * b + g / tnp.sqrt(s + eps * eps)
            return p - lr * b, s, b

        h = self._hyperparams
        new_p, s, b = leafwise(one, 3, params, {"gradients": grads, "state 's'": state["s"], "state 'b'": state["b"],
                                                "parameters": params},
                               tuple((k, h[k]) for k in ("lr", "decay", "eps", "momentum", "weight_decay")))
        return new_p, {"s": s, "b": b}


adam = Adam
rmsprop = RMSProp
