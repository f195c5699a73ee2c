"""Functional optimizers, written in tinyad ops so that every hyperparameter may be a box.

An optimizer is a pair of pure functions::

    state = opt.init(params)
    params, state = opt.update(grads, state, params)

``params`` is any container (dict, list, tuple, nesting) of arrays. Each hyperparameter is a float, a box
(a ``Dual`` when a hypergradient is being taken), or a container with the structure of ``params`` holding
one value (scalar or array) per parameter array: per-layer or per-weight hyperparameters.

Nothing here is differentiated by hand: taking ``tinyad.jvp`` of a training loop that calls ``update``
gives hypergradients through the update equations below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from . import fused
from . import numpy as tnp
from .tree import flatten, tree_map


@dataclass(frozen=True)
class Optimizer:
    """``init(params) -> state``; ``update(grads, state, params) -> (new_params, new_state)``.

    ``hyperparams`` records the values it was built with and ``factory`` rebuilds it with others
    (:meth:`with_hyperparams`): that is how a hyperoptimizer (:func:`hyper`) differentiates one update with
    respect to them. ``tunable`` names the hyperparameters a stack tunes by default."""

    init: Callable[[Any], Any]
    update: Callable[[Any, Any, Any], tuple]
    name: str = "optimizer"
    hyperparams: tuple = ()
    factory: Callable[..., "Optimizer"] | None = None
    tunable: tuple = ()
    levels: Callable[[Any], list] | None = None  # online tuners: hyperparameters in use, bottom level first

    def with_hyperparams(self, **values: Any) -> "Optimizer":
        """The same optimizer with some hyperparameters replaced (e.g. by boxes)."""
        if self.factory is None:
            raise TypeError(f"{self.name} cannot be rebuilt with new hyperparameters (it has no factory)")
        unknown = set(values) - {k for k, _ in self.hyperparams}
        if unknown:
            raise ValueError(f"{self.name} has no hyperparameters {sorted(unknown)}; it has "
                             f"{[k for k, _ in self.hyperparams]}")
        return self.factory(**{**dict(self.hyperparams), **values})

    def __repr__(self) -> str:
        return f"<tinyad.optim.{self.name} {dict(self.hyperparams)}>"


def _per_param(h: Any, td: Any, n: int) -> list:
    """A hyperparameter as one value per parameter array: shared if scalar/box, else given per array."""
    h_leaves, h_def = flatten(h)
    if h_def.kind == "leaf":
        return [h] * n
    if h_def == td:
        return h_leaves
    raise ValueError(
        f"a hyperparameter must be a scalar (or box), or a container with the structure of the parameters "
        f"({td}); got {h_def}"
    )


def _is_zero(h: Any) -> bool:
    return isinstance(h, (int, float)) and h == 0


def _zeros_like(params: Any) -> Any:
    return tree_map(lambda p: tnp.zeros(tnp.shape(p)), params)


def sgd(lr: Any, momentum: Any = 0.0, nesterov: bool = False, weight_decay: Any = 0.0) -> Optimizer:
    """SGD with heavy-ball or Nesterov momentum and L2 weight decay (PyTorch's convention)::

        g <- grad + weight_decay * theta
        b <- momentum * b + g                      (b_0 = 0)
        d <- g + momentum * b   if nesterov else b
        theta <- theta - lr * d

    With ``v = -b`` this is the ``v <- mu v - g; theta <- theta + alpha v`` form of the reference run.
    """

    def init(params: Any) -> Any:
        return {"b": _zeros_like(params)}

    def update(grads: Any, state: Any, params: Any) -> tuple:
        def one(g, b, p, lr_i, mu_i, wd_i):
            fast = fused.sgd_update(g, b, p, lr_i, mu_i, wd_i, nesterov)  # one numba pass, when it applies
            if fast is not None:
                return fast
            g = g + wd_i * p
            b = mu_i * b + g
            d = g + mu_i * b if nesterov else b
            return p - lr_i * d, b

        new_p, b = _leafwise(one, 2, params, (grads, state["b"], params), (lr, momentum, weight_decay))
        return new_p, {"b": b}

    tunable = ("lr", "momentum") if not _is_zero(momentum) else ("lr",)
    return Optimizer(init, update, "sgd", (("lr", lr), ("momentum", momentum), ("nesterov", nesterov),
                                           ("weight_decay", weight_decay)), sgd, tunable)


def adam(lr: Any, b1: Any = 0.9, b2: Any = 0.999, eps: Any = 1e-8, weight_decay: Any = 0.0) -> Optimizer:
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

    def init(params: Any) -> Any:
        return {"m": _zeros_like(params), "v": _zeros_like(params), "t": 0}

    def update(grads: Any, state: Any, params: Any) -> tuple:
        t = state["t"] + 1
        def one(g, m, v, p, lr_i, b1_i, b2_i, eps_i, wd_i):
            g = g + wd_i * p
            m = b1_i * m + (1.0 - b1_i) * g
            v = b2_i * v + (1.0 - b2_i) * g * g
            m_hat = m / (1.0 - b1_i ** t)
            v_hat = v / (1.0 - b2_i ** t)
            return p - lr_i * m_hat / tnp.sqrt(v_hat + eps_i * eps_i), m, v

        new_p, m, v = _leafwise(one, 3, params, (grads, state["m"], state["v"], params),
                                (lr, b1, b2, eps, weight_decay))
        return new_p, {"m": m, "v": v, "t": t}

    return Optimizer(init, update, "adam", (("lr", lr), ("b1", b1), ("b2", b2), ("eps", eps),
                                            ("weight_decay", weight_decay)), adam, ("lr", "b1", "b2"))


def rmsprop(lr: Any, decay: Any = 0.9, eps: Any = 1e-8, momentum: Any = 0.0, weight_decay: Any = 0.0) -> Optimizer:
    """RMSProp (Hinton's, with optional heavy-ball momentum and L2 weight decay)::

        g <- grad + weight_decay * theta
        s <- decay * s + (1 - decay) * g^2                      (s_0 = 0)
        b <- momentum * b + g / sqrt(s + eps^2)                 (b_0 = 0)
        theta <- theta - lr * b

    eps sits inside the square root for the reason given in :func:`adam`.
    """

    def init(params: Any) -> Any:
        return {"s": _zeros_like(params), "b": _zeros_like(params)}

    def update(grads: Any, state: Any, params: Any) -> tuple:
        def one(g, s, b, p, lr_i, rho_i, eps_i, mu_i, wd_i):
            g = g + wd_i * p
            s = rho_i * s + (1.0 - rho_i) * g * g
            b = mu_i * b + g / tnp.sqrt(s + eps_i * eps_i)
            return p - lr_i * b, s, b

        new_p, s, b = _leafwise(one, 3, params, (grads, state["s"], state["b"], params),
                                (lr, decay, eps, momentum, weight_decay))
        return new_p, {"s": s, "b": b}

    return Optimizer(init, update, "rmsprop", (("lr", lr), ("decay", decay), ("eps", eps),
                                               ("momentum", momentum), ("weight_decay", weight_decay)),
                     rmsprop, ("lr", "decay"))


def _leafwise(fn: Callable, n_out: int, params: Any, trees: tuple, hparams: tuple) -> tuple:
    """Apply ``fn(*tree_leaves, *hyperparameter_values)`` per parameter array; return ``n_out`` params-shaped
    trees. ``trees`` are containers shaped like ``params`` (grads, state, params); ``hparams`` are
    hyperparameters, each shared or given per parameter array."""
    leaves, td = flatten(params)
    columns = []
    for t in trees:
        t_leaves, t_def = flatten(t)
        if t_def != td:
            raise ValueError(f"expected a container shaped like the parameters ({td}), got {t_def}")
        columns.append(t_leaves)
    columns += [_per_param(h, td, len(leaves)) for h in hparams]
    outs = [fn(*xs) for xs in zip(*columns)]
    return tuple(td.unflatten([o[i] for o in outs]) for i in range(n_out))


# Online hypergradient descent and hyperoptimizer stacks live in tinyad/online.py; exported here.
from .online import HypergradientError, adam_hd, hyper, hyperparams_in_use, sgd_hd, sgdn_hd  # noqa: E402,F401
