"""Stacks of hyperoptimizers (Chandra et al., NeurIPS 2022, "Gradient Descent: The Ultimate Optimizer"):
an optimizer whose hyperparameters are tuned online by another optimizer, to any height.

Each step, the engine differentiates the *previous* base update with respect to the tuned
hyperparameters (a VJP, with the new gradient as cotangent): that is d loss(theta_{t-1}) /
d hyperparameters, found by the engine, never derived by hand. The hyperoptimizer steps them, then the base
steps the parameters with the new values. A stack is itself an optimizer whose hyperparameters are its
hyperoptimizer's, so ``stack(stack(base, mid), top)`` lets ``top`` tune ``mid`` (height 3), and so on.
Memory holds one previous step per level, never the trajectory.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..core.trace import strip
from ..core.transforms import vjp
from ..core.tree import flatten, tree_map
from .base import Optimizer, _is_number, as_floats, is_numeric
from .constraints import UNIT, logit, sigmoid
from .online import check_finite


class Stack(Optimizer):
    """``base`` with its hyperparameters ``tune`` tuned online by ``hyperopt`` (see the module docstring).

    Momentum, betas and decay rates (the names in :data:`tinyad.optim.constraints.UNIT`) are tuned as
    ``sigmoid(u)`` so they stay in (0, 1); learning rates are tuned as they are (so
    ``stack(sgd(a), sgd(b))`` is exactly ``sgd_hd(a, b)``). ``tune`` defaults to ``base.tunable`` (lr and
    momentum for SGD with momentum, lr/b1/b2 for Adam)."""

    online = True

    def __init__(self, base: Optimizer, hyperopt: Optimizer, tune: Sequence[str] | None = None) -> None:
        for what, o in (("base", base), ("hyperopt", hyperopt)):
            if not isinstance(o, Optimizer):
                raise TypeError(f"stack: {what} must be a tinyad.optim optimizer (e.g. optim.sgd(0.01)), got "
                                f"{type(o).__name__} {o!r:.40}")
        tune = tuple(base.tunable if tune is None else (tune,) if isinstance(tune, str) else tune)
        if not tune:
            raise ValueError(f"stack({base.name}, {hyperopt.name}): nothing to tune — {base.name} names no tunable "
                             "hyperparameters; pass tune=(...) with some of " + str([k for k, _ in base.hyperparams]))
        values = dict(base.hyperparams)
        for k in tune:
            if k not in values:
                raise ValueError(f"stack: {base.name} has no hyperparameter {k!r}; it has {list(values)}")
            leaves = flatten(values[k])[0]
            if not leaves or not all(_is_number(x) or isinstance(x, np.ndarray) for x in leaves):
                raise TypeError(f"stack: {base.name}'s {k!r} = {values[k]!r:.60} must be a float (or a container of "
                                "them, one per parameter array: per-parameter tuning) to be tuned online")
        self.base, self.hyperopt, self.tune = base, hyperopt, tune
        self.squashed = tuple(k for k in tune if k in UNIT)
        self.u0 = {k: tree_map(lambda x, k=k: _unconstrained(x, k in self.squashed, f"{base.name}'s {k!r}"),
                               values[k]) for k in tune}
        self.name = f"hyper({base.name}/{hyperopt.name})"
        self._hyperparams = dict(hyperopt.hyperparams)

    @property
    def tunable(self) -> tuple[str, ...]:
        return self.hyperopt.tunable

    def rebuild(self, **hyperparams: Any) -> "Stack":
        return Stack(self.base, self.hyperopt.rebuild(**hyperparams), self.tune)

    def parts(self) -> tuple:
        return (self.base, self.hyperopt, self.tune)

    @classmethod
    def assemble(cls, static: tuple, parts: tuple, dynamic: dict) -> "Stack":
        base, hyperopt, tune = parts
        return cls(base, hyperopt.rebuild(**dict(static), **dynamic), tune)

    def check(self, state: dict) -> None:
        for k in self.tune:  # under jit the hypergradient is inside the program: a NaN shows in u
            for x in flatten(state["u"][k])[0]:
                check_finite(x, f"{self.name}: the hypergradient of {k!r}", state["t"])

    def base_at(self, u: dict) -> Optimizer:
        """The base optimizer with the tuned hyperparameters at the unconstrained values ``u``."""
        return self.base.with_hyperparams(**{k: tree_map(sigmoid, u[k]) if k in self.squashed else u[k]
                                             for k in self.tune})

    def init(self, params: Any) -> dict:
        return {"base": self.base.init(params), "u": self.u0, "hyper": self.hyperopt.init(self.u0), "prev": None,
                "t": 0}

    def apply(self, grads: Any, state: dict, params: Any) -> tuple:
        t = state["t"] + 1
        u, hstate = state["u"], state["hyper"]
        if state["prev"] is not None:
            p_grads, p_state, p_params = state["prev"]
            _, pullback = vjp(lambda uu: self.base_at(uu).update(p_grads, p_state, p_params)[0], u)
            (hg,) = pullback(grads)
            for k in self.tune:
                for x in flatten(hg[k])[0]:
                    check_finite(x, f"{self.name}: the hypergradient of {k!r}", t)
            u, hstate = self.hyperopt.update(hg, hstate, u)
        new_params, bstate = self.base_at(u).update(grads, state["base"], params)
        return new_params, {"base": bstate, "u": u, "hyper": hstate, "prev": (grads, state["base"], params), "t": t}

    def levels(self, state: dict) -> list[dict]:
        """Hyperparameters in use at every level, bottom first: [base's, (base's hyperoptimizer's, ...)];
        each level lists all its numeric hyperparameters, the tuned ones at their current values."""
        ours = {k: as_floats(v) for k, v in self.base.hyperparams if is_numeric(v)}
        ours.update({k: tree_map(lambda x, k=k: _plain(sigmoid(x) if k in self.squashed else x), v)
                     for k, v in state["u"].items()})
        return (self.base.levels(state["base"]) if self.base.online else []) + [ours]


def _unconstrained(x: Any, squashed: bool, what: str) -> Any:
    if squashed:
        return logit(x, what)
    return float(x) if np.ndim(x) == 0 else np.array(x, dtype=float)


def _plain(x: Any) -> Any:
    """A hyperparameter in use as a plain number (a float, or an array for per-weight values)."""
    x = np.asarray(strip(x), dtype=float)
    return float(x) if x.ndim == 0 else x


def stack(base: Optimizer, hyperopt: Optimizer, tune: Sequence[str] | None = None) -> Stack:
    """Tune ``base``'s hyperparameters online with ``hyperopt``: a stack of height 2 (nest for more)."""
    return Stack(base, hyperopt, tune)


def hyperparams_in_use(opt: Optimizer, state: dict, level: int = 0) -> dict:
    """The hyperparameters an optimizer is using now, as floats (containers of them for per-parameter ones);
    ``level`` 0 is the base optimizer (its learning rate, ...), 1 the hyperoptimizer tuning it, and so on."""
    return {k: tree_map(_plain, v) for k, v in opt.levels(state)[level].items()}
