"""Online hypergradient descent (Baydin et al., ICLR 2018): optimizers that adapt their learning rate
every step, as ordinary :class:`~tinyad.optim.Optimizer` objects.

With the update ``theta_t = theta_{t-1} + u_t`` and ``u_t = -alpha_t * dir_t``, the derivative of the loss
at the current point with respect to the learning rate used in the previous step is
``h_t = g_t . d u_{t-1}/d alpha = -g_t . dir_{t-1}``, summed over *all* parameter arrays (one global
learning rate). It is applied *before* the parameter step::

    alpha_t = alpha_{t-1} - hyper_lr * h_t          (alpha_1 = alpha_0: there is no u_0)
    theta_t = theta_{t-1} - alpha_t * dir_t

``dir`` is g (SGD-HD), SGD's Nesterov direction (SGDN-HD), or Adam's bias-corrected direction (Adam-HD),
the same functions :class:`~tinyad.optim.SGD` and :class:`~tinyad.optim.Adam` use. ``g`` includes L2 weight
decay (``g = grad + weight_decay * theta``, as in Baydin et al.'s code). Because the state keeps
``dir_{t-1}`` (not ``u_{t-1}``), starting from ``lr = 0`` works.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import numpy as tnp
from ..core.primitive import shape_of
from ..core.trace import Box
from ..core.tree import flatten, mismatch, tree_map
from ..core.vspace import unbroadcast
from .adaptive import adam_direction
from .base import Optimizer, _is_number, check_like_params, is_zero, leafwise, like_param, zeros_like_params
from .momentum import momentum_direction


class HypergradientError(FloatingPointError):
    """A hypergradient became NaN or infinite during online tuning (the message names the step)."""


def check_finite(value: Any, what: str, step: int) -> None:
    if not isinstance(value, Box) and not np.all(np.isfinite(value)):
        raise HypergradientError(
            f"{what} at step {step} is {value} (not finite). The learning rate or the hyper learning rate is "
            "probably too large; lower them, or use the safeguards (nonneg=True, clip=..., multiplicative=True).")


def vdot(a: Any, b: Any) -> Any:
    """<a, b> summed over every array of two containers of the same structure."""
    total = 0.0
    for x, y in zip(flatten(a)[0], flatten(b)[0]):
        total = total + tnp.sum(x * y)
    return total


def _dot_over(a: Any, b: Any, alpha: Any) -> Any:
    """<a, b> over what one learning rate ``alpha`` scales: every array (a scalar alpha and containers a, b),
    or, elementwise, the axes alpha broadcasts over (one array a, b and its rate: a scalar or a weight each)."""
    if not isinstance(a, (dict, list, tuple)):
        return unbroadcast(a * b, shape_of(alpha))
    return vdot(a, b)


class HypergradientDescent(Optimizer):
    """The hypergradient-descent loop around a direction (subclasses give ``direction`` and ``init_inner``)."""

    numeric = ("lr", "hyper_lr", "weight_decay")
    tunable = ("hyper_lr",)
    online = True

    def __init__(self, lr: Any, hyper_lr: Any, *, nonneg: bool = False, clip: float | None = None,
                 multiplicative: bool = False, weight_decay: Any = 0.0, **extra: Any) -> None:
        super().__init__(lr=lr, hyper_lr=hyper_lr, **extra, nonneg=nonneg, clip=clip, multiplicative=multiplicative,
                         weight_decay=weight_decay)
        if isinstance(hyper_lr, (int, float)) and hyper_lr < 0:
            raise ValueError(f"{self.name}: hyper_lr must be >= 0, got {hyper_lr} (a negative value would climb the "
                             "loss)")
        if isinstance(lr, (int, float)) and multiplicative and lr == 0:
            raise ValueError(f"{self.name}: the multiplicative update keeps lr = 0 at 0 forever; start from lr > 0 or "
                             "use the additive update")
        if clip is not None and not isinstance(clip, Box) and (not _is_number(clip) or not clip > 0
                                                               or not np.isfinite(clip)):
            raise ValueError(f"{self.name}: clip must be None or a number > 0, got {clip!r:.40}")

    def direction(self, grads: Any, inner: Any, params: Any) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError

    def init_inner(self, params: Any) -> Any:
        return None

    def init(self, params: Any) -> dict:
        lr = self._hyperparams["lr"]
        if self.per_param and flatten(lr)[1] != flatten(params)[1]:
            raise ValueError(f"{self.name}: per-parameter learning rates must have the structure of the parameters: "
                             f"{mismatch(flatten(params)[1], flatten(lr)[1])}")
        return {"lr": lr, "dir": None, "t": 0, "inner": self.init_inner(params)}

    def apply(self, grads: Any, state: dict, params: Any) -> tuple:
        h = self._hyperparams
        check_like_params("gradients", grads, params)
        if not is_zero(h["weight_decay"]):
            grads = tree_map(lambda g, p: g + h["weight_decay"] * p, grads, params)
        t = state["t"] + 1
        alpha = state["lr"]
        if state["dir"] is not None:
            if self.per_param:  # one learning rate per parameter array (or per weight): its own hypergradient
                alpha = tree_map(lambda a, g, d: self._hd_step(a, g, d, t), alpha, grads, state["dir"])
            else:
                alpha = self._hd_step(alpha, grads, state["dir"], t)
        dirs, inner = self.direction(grads, state["inner"], params)
        if self.per_param:
            new_params = tree_map(lambda p, d, a: like_param(p - a * d, p), params, dirs, alpha)
        else:
            new_params = tree_map(lambda p, d: like_param(p - alpha * d, p), params, dirs)
        return new_params, {"lr": alpha, "dir": dirs, "t": t, "inner": inner}

    @property
    def per_param(self) -> bool:
        return not flatten(self._hyperparams["lr"])[1].is_leaf

    def _hd_step(self, alpha: Any, grads: Any, dirs: Any, t: int) -> Any:
        """alpha - hyper_lr * h with h = -<g, dir> = d loss(theta_{t-1}) / d alpha_{t-1}: summed over everything
        alpha scales (all arrays for one global rate; one array, or one weight, for a per-parameter one)."""
        h = self._hyperparams
        hg = -_dot_over(grads, dirs, alpha)
        check_finite(hg, f"{self.name}: the hypergradient", t)
        if h["clip"] is not None:
            hg = tnp.clip(hg, -h["clip"], h["clip"])
        if h["multiplicative"]:  # Baydin et al.'s normalised variant: a relative change of alpha
            norms = tnp.sqrt(_dot_over(grads, grads, alpha) * _dot_over(dirs, dirs, alpha))
            alpha = alpha * (1.0 - h["hyper_lr"] * hg / tnp.where(norms > 0, norms, 1.0))
        else:
            alpha = alpha - h["hyper_lr"] * hg
        return tnp.maximum(alpha, 0.0) if h["nonneg"] else alpha

    def levels(self, state: dict) -> list[dict]:
        return [{"lr": state["lr"]}]

    def check(self, state: dict) -> None:  # under jit the hypergradient is inside the program: a NaN shows in lr
        for lr in flatten(state["lr"])[0]:
            check_finite(lr, f"{self.name}: the hypergradient", state["t"])


class SGDHD(HypergradientDescent):
    """SGD-HD: SGD whose learning rate follows ``alpha_t = alpha_{t-1} + hyper_lr * g_t . g_{t-1}``.

    Safeguards (off by default, as in the paper): ``nonneg`` keeps lr >= 0; ``clip`` bounds |h_t|;
    ``multiplicative`` uses ``alpha_t = alpha_{t-1} (1 - hyper_lr h_t / (|g_t| |dir_{t-1}|))``."""

    name = "sgd_hd"

    def __init__(self, lr: Any, hyper_lr: Any, nonneg: bool = False, clip: float | None = None,
                 multiplicative: bool = False, weight_decay: Any = 0.0) -> None:
        super().__init__(lr, hyper_lr, nonneg=nonneg, clip=clip, multiplicative=multiplicative,
                         weight_decay=weight_decay)

    def direction(self, grads: Any, inner: Any, params: Any) -> tuple:
        return grads, None


class SGDNHD(HypergradientDescent):
    """SGDN-HD: Nesterov momentum (as :class:`~tinyad.optim.SGD` with ``nesterov=True``) with hypergradient
    descent on the learning rate."""

    name = "sgdn_hd"
    numeric = HypergradientDescent.numeric + ("momentum",)

    def __init__(self, lr: Any, hyper_lr: Any, momentum: Any = 0.9, nonneg: bool = False, clip: float | None = None,
                 multiplicative: bool = False, weight_decay: Any = 0.0) -> None:
        super().__init__(lr, hyper_lr, nonneg=nonneg, clip=clip, multiplicative=multiplicative,
                         weight_decay=weight_decay, momentum=momentum)

    def init_inner(self, params: Any) -> Any:
        return zeros_like_params(params)

    def direction(self, grads: Any, inner: Any, params: Any) -> tuple:
        mu = self._hyperparams["momentum"]
        return leafwise(lambda g, b: momentum_direction(g, b, mu, True), 2, params,
                        {"gradients": grads, "state 'inner'": inner}, ())


class AdamHD(HypergradientDescent):
    """Adam-HD: Adam (as :class:`~tinyad.optim.Adam`, eps inside the root) with hypergradient descent on lr,
    using the bias-corrected previous Adam direction."""

    name = "adam_hd"
    numeric = HypergradientDescent.numeric + ("b1", "b2", "eps")

    def __init__(self, lr: Any, hyper_lr: Any, b1: Any = 0.9, b2: Any = 0.999, eps: Any = 1e-8, nonneg: bool = False,
                 clip: float | None = None, multiplicative: bool = False, weight_decay: Any = 0.0) -> None:
        super().__init__(lr, hyper_lr, nonneg=nonneg, clip=clip, multiplicative=multiplicative,
                         weight_decay=weight_decay, b1=b1, b2=b2, eps=eps)

    def init_inner(self, params: Any) -> dict:
        zeros = zeros_like_params(params)
        return {"m": zeros, "v": zeros, "t": 0}

    def direction(self, grads: Any, inner: dict, params: Any) -> tuple:
        h = self._hyperparams
        t = inner["t"] + 1
        d, m, v = leafwise(lambda g, m, v: adam_direction(g, m, v, t, h["b1"], h["b2"], h["eps"]), 3, params,
                           {"gradients": grads, "state 'm'": inner["m"], "state 'v'": inner["v"]}, ())
        return d, {"m": m, "v": v, "t": t}


sgd_hd = SGDHD
sgdn_hd = SGDNHD
adam_hd = AdamHD
