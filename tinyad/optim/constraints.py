"""Keeping hyperparameters valid while gradient descent moves them: optimise an unconstrained ``u`` and use
``h = forward(u)``.

* ``real``: h = u.
* ``positive``: h = exp(u) — learning rates, weight decay, eps, scales. Steps in u are relative changes of h.
* ``unit``: h = sigmoid(u) in (0, 1) — momentum, Adam's betas, decay rates.

The default for a hyperparameter is decided by its name, by one explicit rule (:func:`default_constraint`):
the last component of its name (``"opt.momentum"`` -> ``"momentum"``, ``"lr[2]"`` -> ``"lr"``) looked up
in :data:`POSITIVE` and :data:`UNIT`; any other name is ``real``. Online stacks (``tinyad.optim.stack``) and
the outer loop (``tinyad.hyper.optimize``) use the same rule and the same functions.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from .. import numpy as tnp

POSITIVE = ("lr", "learning_rate", "alpha", "weight_decay", "wd", "l2", "eps", "scale", "init_scale", "hyper_lr")
UNIT = ("momentum", "mu", "b1", "b2", "beta1", "beta2", "decay", "rho", "gamma")


def sigmoid(u: Any) -> Any:
    """The logistic function in tinyad ops, written with tanh so that it cannot overflow for large |u|."""
    return 0.5 * (1.0 + tnp.tanh(0.5 * u))


def logit(h: Any, what: str = "hyperparameter") -> Any:
    """The inverse of :func:`sigmoid`, for plain numbers strictly inside (0, 1)."""
    a = np.asarray(h, dtype=float)
    if not np.all((a > 0) & (a < 1)):
        raise ValueError(f"{what} = {h!r} must lie strictly inside (0, 1) to be tuned as sigmoid(u)")
    out = np.log(a) - np.log1p(-a)
    return float(out) if out.shape == () else out


class Constraint:
    """h = u: no constraint."""

    name = "real"

    def forward(self, u: Any) -> Any:
        return u

    def inverse(self, h: Any, what: str = "hyperparameter") -> Any:
        return h


class Positive(Constraint):
    """h = exp(u)."""

    name = "positive"

    def forward(self, u: Any) -> Any:
        return tnp.exp(u)

    def inverse(self, h: Any, what: str = "hyperparameter") -> Any:
        a = np.asarray(h, dtype=float)
        if not np.all(a > 0):
            raise ValueError(f"{what} = {h!r} must be > 0 to be tuned as exp(u) (constraint 'positive'); pass "
                             f"constraints={{{what!r}: 'real'}} to tune it unconstrained")
        out = np.log(a)
        return float(out) if out.shape == () else out


class Unit(Constraint):
    """h = sigmoid(u) in (0, 1)."""

    name = "unit"

    def forward(self, u: Any) -> Any:
        return sigmoid(u)

    def inverse(self, h: Any, what: str = "hyperparameter") -> Any:
        try:
            return logit(h, what)
        except ValueError as e:
            raise ValueError(f"{e} (constraint 'unit'); pass constraints={{{what!r}: 'real'}} to tune it "
                             "unconstrained") from None


CONSTRAINTS = {"real": Constraint(), "positive": Positive(), "unit": Unit()}


def constraint(name: str) -> Constraint:
    """The constraint called ``name`` ('real', 'positive' or 'unit')."""
    if name not in CONSTRAINTS:
        raise ValueError(f"a constraint must be one of {sorted(CONSTRAINTS)}, got {name!r}")
    return CONSTRAINTS[name]


def base_name(name: str) -> str:
    """The last component of a hyperparameter's name: 'opt.momentum' -> 'momentum', 'lr[2]' -> 'lr'."""
    return re.sub(r"(\[\d+\])+$", "", name).rsplit(".", 1)[-1]


def default_constraint(name: str) -> str:
    """'positive' if the last component of ``name`` is in POSITIVE, 'unit' if in UNIT, else 'real'."""
    key = base_name(name)
    if key in POSITIVE:
        return "positive"
    if key in UNIT:
        return "unit"
    return "real"
