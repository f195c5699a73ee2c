"""Online hypergradient descent (Baydin et al., ICLR 2018) and stacks of hyperoptimizers (Chandra et al.,
NeurIPS 2022), as ordinary :class:`tinyad.optim.Optimizer` objects.

Hypergradient descent adapts the learning rate every step. With the update ``theta_t = theta_{t-1} + u_t``
and ``u_t = -alpha_t * dir_t``, the derivative of the loss at the current point with respect to the
learning rate used in the previous step is ``h_t = g_t . d u_{t-1}/d alpha = -g_t . dir_{t-1}``, summed over
*all* parameter arrays (one global learning rate). It is applied *before* the parameter step::

    alpha_t = alpha_{t-1} - hyper_lr * h_t          (alpha_1 = alpha_0: there is no u_0)
    theta_t = theta_{t-1} - alpha_t * dir_t

``dir`` is g (SGD-HD), g + mu v with v = mu v + g (SGDN-HD), or Adam's bias-corrected
m_hat / sqrt(v_hat + eps^2) (Adam-HD; eps inside the root, as in :func:`tinyad.optim.adam`). Because the
state keeps ``dir_{t-1}`` (not ``u_{t-1}``), starting from ``lr = 0`` works.

:func:`hyper` stacks optimizers: the hyperoptimizer tunes the base optimizer's hyperparameters online, with
hypergradients found by the engine (a VJP of one base update with respect to them), never derived by hand.
A stack is itself an optimizer whose hyperparameters are its hyperoptimizer's, so stacks nest to any height.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from . import numpy as tnp
from .optim import Optimizer, _leafwise
from .tags import Box
from .transforms import vjp
from .tree import flatten, tree_map


class HypergradientError(FloatingPointError):
    """A hypergradient became NaN or infinite during online tuning (the message names the step)."""


def _check_finite(value: Any, what: str, step: int) -> None:
    if not isinstance(value, Box) and not np.all(np.isfinite(value)):
        raise HypergradientError(
            f"{what} at step {step} is {value} (not finite). The learning rate or the hyper learning rate is "
            "probably too large; lower them, or use the safeguards (nonneg=True, clip=..., multiplicative=True).")


def _vdot(a: Any, b: Any) -> Any:
    """<a, b> summed over every array of two containers of the same structure."""
    total = 0.0
    for x, y in zip(flatten(a)[0], flatten(b)[0]):
        total = total + tnp.sum(x * y)
    return total


def _hd(name: str, direction: Callable, init_inner: Callable, lr: Any, hyper_lr: Any, nonneg: bool,
        clip: float | None, multiplicative: bool, hyperparams: tuple, factory: Callable) -> Optimizer:
    if isinstance(hyper_lr, (int, float)) and hyper_lr < 0:
        raise ValueError(f"{name}: hyper_lr must be >= 0, got {hyper_lr} (a negative value would climb the loss)")
    if isinstance(lr, (int, float)) and multiplicative and lr == 0:
        raise ValueError(f"{name}: the multiplicative update keeps lr = 0 at 0 forever; start from lr > 0 or use "
                         "the additive update")
    if clip is not None and clip <= 0:
        raise ValueError(f"{name}: clip must be > 0, got {clip}")

    def init(params: Any) -> dict:
        return {"lr": lr, "dir": None, "t": 0, "inner": init_inner(params)}

    def update(grads: Any, state: dict, params: Any) -> tuple:
        t = state["t"] + 1
        alpha = state["lr"]
        if state["dir"] is not None:
            h = -_vdot(grads, state["dir"])  # d loss(theta_{t-1}) / d alpha_{t-1}
            _check_finite(h, f"{name}: the hypergradient", t)
            if clip is not None:
                h = tnp.clip(h, -clip, clip)
            if multiplicative:  # Baydin et al.'s normalised variant: a relative change of alpha
                norms = tnp.sqrt(_vdot(grads, grads) * _vdot(state["dir"], state["dir"]))
                alpha = alpha * (1.0 - hyper_lr * h / tnp.where(norms > 0, norms, 1.0))
            else:
                alpha = alpha - hyper_lr * h
            if nonneg:
                alpha = tnp.maximum(alpha, 0.0)
        dirs, inner = direction(grads, state["inner"], params)
        new_params = tree_map(lambda p, d: p - alpha * d, params, dirs)
        return new_params, {"lr": alpha, "dir": dirs, "t": t, "inner": inner}

    return Optimizer(init, update, name, hyperparams, factory, ("hyper_lr",), lambda state: [{"lr": state["lr"]}])


def sgd_hd(lr: Any, hyper_lr: Any, nonneg: bool = False, clip: float | None = None,
           multiplicative: bool = False) -> Optimizer:
    """SGD-HD: SGD whose learning rate follows ``alpha_t = alpha_{t-1} + hyper_lr * g_t . g_{t-1}``.

    Safeguards (off by default, as in the paper): ``nonneg`` keeps lr >= 0; ``clip`` bounds |h_t|;
    ``multiplicative`` uses ``alpha_t = alpha_{t-1} (1 - hyper_lr h_t / (|g_t| |dir_{t-1}|))``."""
    return _hd("sgd_hd", lambda g, inner, p: (g, None), lambda p: None, lr, hyper_lr, nonneg, clip, multiplicative,
               (("lr", lr), ("hyper_lr", hyper_lr)),
               lambda **kw: sgd_hd(kw["lr"], kw["hyper_lr"], nonneg, clip, multiplicative))


def sgdn_hd(lr: Any, hyper_lr: Any, momentum: Any = 0.9, nonneg: bool = False, clip: float | None = None,
            multiplicative: bool = False) -> Optimizer:
    """SGDN-HD: Nesterov momentum (``v = mu v + g``, ``dir = g + mu v``, as :func:`tinyad.optim.sgd`) with
    hypergradient descent on the learning rate."""

    def direction(g: Any, inner: Any, p: Any) -> tuple:
        v = tree_map(lambda vv, gg: momentum * vv + gg, inner, g)
        return tree_map(lambda gg, vv: gg + momentum * vv, g, v), v

    return _hd("sgdn_hd", direction, lambda p: tree_map(lambda x: np.zeros(np.shape(x)), p), lr, hyper_lr, nonneg,
               clip, multiplicative, (("lr", lr), ("hyper_lr", hyper_lr), ("momentum", momentum)),
               lambda **kw: sgdn_hd(kw["lr"], kw["hyper_lr"], kw["momentum"], nonneg, clip, multiplicative))


def adam_hd(lr: Any, hyper_lr: Any, b1: Any = 0.9, b2: Any = 0.999, eps: Any = 1e-8, nonneg: bool = False,
            clip: float | None = None, multiplicative: bool = False) -> Optimizer:
    """Adam-HD: Adam (as :func:`tinyad.optim.adam`, eps inside the root) with hypergradient descent on lr,
    using the bias-corrected previous Adam direction."""

    def direction(g: Any, inner: dict, p: Any) -> tuple:
        t = inner["t"] + 1

        def one(gg, m, v):
            m = b1 * m + (1.0 - b1) * gg
            v = b2 * v + (1.0 - b2) * gg * gg
            d = (m / (1.0 - b1 ** t)) / tnp.sqrt(v / (1.0 - b2 ** t) + eps * eps)
            return d, m, v

        d, m, v = _leafwise(one, 3, g, (g, inner["m"], inner["v"]), ())
        return d, {"m": m, "v": v, "t": t}

    def init_inner(p: Any) -> dict:
        zeros = tree_map(lambda x: np.zeros(np.shape(x)), p)
        return {"m": zeros, "v": zeros, "t": 0}

    return _hd("adam_hd", direction, init_inner, lr, hyper_lr, nonneg, clip, multiplicative,
               (("lr", lr), ("hyper_lr", hyper_lr), ("b1", b1), ("b2", b2), ("eps", eps)),
               lambda **kw: adam_hd(kw["lr"], kw["hyper_lr"], kw["b1"], kw["b2"], kw["eps"], nonneg, clip,
                                    multiplicative))


# ---- stacks -----------------------------------------------------------------------------------------
UNIT_INTERVAL = ("momentum", "b1", "b2", "decay")  # kept in (0, 1) by h = sigmoid(u)


def _sigmoid(u: float) -> float:
    return 0.5 * (1.0 + math.tanh(0.5 * u))  # no overflow for large |u|


def _logit(h: float) -> float:
    if not 0.0 < h < 1.0:
        raise ValueError(f"a momentum/beta/decay to be tuned must lie strictly inside (0, 1), got {h}")
    return math.log(h) - math.log1p(-h)


def hyper(base: Optimizer, hyperopt: Optimizer, tune: Sequence[str] | None = None) -> Optimizer:
    """Tune ``base``'s hyperparameters online with ``hyperopt``: a stack of height 2 (nest for more).

    Each step, the engine differentiates the *previous* base update with respect to the tuned
    hyperparameters (a VJP, with the new gradient as cotangent): that is d loss(theta_{t-1}) /
    d hyperparameters. ``hyperopt`` steps them, then ``base`` steps the parameters with the new values.
    Momentum, betas and decay rates are tuned as ``sigmoid(u)`` so they stay in (0, 1); learning rates
    are tuned as they are (so ``hyper(sgd(a), sgd(b))`` is exactly ``sgd_hd(a, b)``).

    ``tune`` names the hyperparameters (default: ``base.tunable``, e.g. lr and momentum for SGD with
    momentum, lr/b1/b2 for Adam). The stack's own hyperparameters are ``hyperopt``'s, so
    ``hyper(hyper(base, mid), top)`` lets ``top`` tune ``mid`` (height 3), and so on. Memory holds one
    previous step per level, never the trajectory.
    """
    tune = tuple(base.tunable if tune is None else tune)
    if not tune:
        raise ValueError(f"hyper({base.name}, {hyperopt.name}): nothing to tune — {base.name} names no tunable "
                         "hyperparameters; pass tune=(...) with some of " + str([k for k, _ in base.hyperparams]))
    values = dict(base.hyperparams)
    for k in tune:
        if k not in values:
            raise ValueError(f"hyper: {base.name} has no hyperparameter {k!r}; it has {list(values)}")
        if not isinstance(values[k], (int, float)) or isinstance(values[k], bool):
            raise TypeError(f"hyper: {base.name}'s {k!r} = {values[k]!r} must be a float to be tuned online")
    squashed = {k for k in tune if k in UNIT_INTERVAL}
    u0 = {k: _logit(float(values[k])) if k in squashed else float(values[k]) for k in tune}

    def base_at(u: dict) -> Optimizer:
        return base.with_hyperparams(**{k: 0.5 * (1.0 + tnp.tanh(0.5 * u[k])) if k in squashed else u[k]
                                        for k in tune})

    def init(params: Any) -> dict:
        return {"base": base.init(params), "u": u0, "hyper": hyperopt.init(u0), "prev": None, "t": 0}

    def update(grads: Any, state: dict, params: Any) -> tuple:
        t = state["t"] + 1
        u, hstate = state["u"], state["hyper"]
        if state["prev"] is not None:
            p_grads, p_state, p_params = state["prev"]
            _, pullback = vjp(lambda uu: base_at(uu).update(p_grads, p_state, p_params)[0], u)
            (hg,) = pullback(grads)
            for k in tune:
                _check_finite(hg[k], f"hyper({base.name}/{hyperopt.name}): the hypergradient of {k!r}", t)
            u, hstate = hyperopt.update(hg, hstate, u)
        new_params, bstate = base_at(u).update(grads, state["base"], params)
        return new_params, {"base": bstate, "u": u, "hyper": hstate, "prev": (grads, state["base"], params), "t": t}

    def levels(state: dict) -> list:
        """Hyperparameters in use at every level, bottom first: [base's, (base's hyperoptimizer's, ...)];
        each level lists all its numeric hyperparameters, the tuned ones at their current values."""
        ours = {k: float(v) for k, v in base.hyperparams if isinstance(v, (int, float)) and not isinstance(v, bool)}
        ours.update({k: _sigmoid(float(v)) if k in squashed else float(v) for k, v in state["u"].items()})
        below = base.levels(state["base"]) if base.levels is not None else []
        return below + [ours]

    return Optimizer(init, update, f"hyper({base.name}/{hyperopt.name})", hyperopt.hyperparams,
                     lambda **kw: hyper(base, hyperopt.with_hyperparams(**kw), tune), hyperopt.tunable, levels)


def hyperparams_in_use(opt: Optimizer, state: dict, level: int = 0) -> dict:
    """The hyperparameters an online tuner (HD optimizer or stack) is using now, as floats; ``level`` 0 is
    the base optimizer (its learning rate, ...), 1 the hyperoptimizer tuning it, and so on."""
    if opt.levels is None:
        return {k: v for k, v in opt.hyperparams if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return {k: float(v) for k, v in opt.levels(state)[level].items()}
