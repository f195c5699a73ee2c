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


def show(h: Any) -> str:
    """A hyperparameter's value for an error message: the number, or an array's shape and range."""
    a = np.asarray(h, dtype=float)
    if a.shape == ():
        return repr(float(a))
    return f"an array of shape {a.shape} with values in [{np.min(a):.4g}, {np.max(a):.4g}]"


class Constraint:
    """h = u: no constraint.

    ``forward`` maps u to h in tinyad ops (u may be a box); ``inverse`` maps a plain h to u, checking that h
    is in the constraint's range; ``slope`` is dh/du at a plain u, the chain-rule factor between a
    hypergradient in the hyperparameter's own units (d loss / dh) and in the unconstrained space
    (d loss / du = d loss / dh * dh/du). ``name`` in ``inverse`` is the hyperparameter's name, for errors."""

    name = "real"
    formula = "h = u"

    def forward(self, u: Any) -> Any:
        return u

    def inverse(self, h: Any, name: str = "hyperparameter") -> Any:
        return h

    def slope(self, u: Any) -> Any:
        return np.ones_like(u) if np.ndim(u) else 1.0

    def __reduce__(self) -> tuple:  # unpickle to the shared instance in CONSTRAINTS
        return constraint, (self.name,)

    def __repr__(self) -> str:
        return f"<constraint {self.name!r}: {self.formula}>"


class Positive(Constraint):
    """h = exp(u)."""

    name = "positive"
    formula = "h = exp(u)"

    def forward(self, u: Any) -> Any:
        return tnp.exp(u)

    def inverse(self, h: Any, name: str = "hyperparameter") -> Any:
        a = np.asarray(h, dtype=float)
        if not np.all(a > 0):
            raise ValueError(f"hyperparameter {name!r} = {show(h)} must be > 0 to be tuned as exp(u) (constraint "
                             f"'positive'); start it above 0, or pass constraints={{{name!r}: 'real'}} to tune it "
                             "unconstrained")
        out = np.log(a)
        return float(out) if out.shape == () else out

    def slope(self, u: Any) -> Any:
        out = np.exp(np.asarray(u, dtype=float))
        return float(out) if out.shape == () else out


class Unit(Constraint):
    """h = sigmoid(u) in (0, 1)."""

    name = "unit"
    formula = "h = sigmoid(u)"

    def forward(self, u: Any) -> Any:
        return sigmoid(u)

    def inverse(self, h: Any, name: str = "hyperparameter") -> Any:
        a = np.asarray(h, dtype=float)
        if not np.all((a > 0) & (a < 1)):
            raise ValueError(f"hyperparameter {name!r} = {show(h)} must lie strictly inside (0, 1) to be tuned as "
                             f"sigmoid(u) (constraint 'unit'); pass constraints={{{name!r}: 'real'}} to tune it "
                             "unconstrained")
        return logit(h, f"hyperparameter {name!r}")

    def slope(self, u: Any) -> Any:
        s = 0.5 * (1.0 + np.tanh(0.5 * np.asarray(u, dtype=float)))  # sigmoid, as above
        out = s * (1.0 - s)
        return float(out) if out.shape == () else out


CONSTRAINTS = {"real": Constraint(), "positive": Positive(), "unit": Unit()}


def constraint(name: str) -> Constraint:
    """The constraint called ``name`` ('real', 'positive' or 'unit')."""
    if not isinstance(name, str) or name not in CONSTRAINTS:
        raise ValueError(f"a constraint must be one of {sorted(CONSTRAINTS)}, got {name!r}")
    return CONSTRAINTS[name]


def choose(names: list[str], given: dict | None = None) -> list[tuple[Constraint, str]]:
    """The constraint of each hyperparameter and why it got it: ``given`` (a dict from names to constraint
    names) first, else :func:`default_constraint`. Errors name the hyperparameter."""
    given = {} if given is None else given
    if not isinstance(given, dict):
        raise TypeError(f"constraints must be a dict from hyperparameter names to 'real', 'positive' or 'unit', got "
                        f"{type(given).__name__}")
    unknown = set(given) - set(names)
    if unknown:
        raise ValueError(f"constraints given for unknown hyperparameters {sorted(map(str, unknown))}; the "
                         f"hyperparameters are {names}")
    out = []
    for n in names:
        if n in given:
            if given[n] not in CONSTRAINTS:
                raise ValueError(f"the constraint given for hyperparameter {n!r} must be one of {sorted(CONSTRAINTS)}, "
                                 f"got {given[n]!r}")
            out.append((CONSTRAINTS[given[n]], "given in constraints="))
        else:
            out.append((CONSTRAINTS[default_constraint(n)], default_reason(n)))
    return out


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


def default_reason(name: str) -> str:
    """Why :func:`default_constraint` chose what it chose, for messages."""
    key, choice = base_name(name), default_constraint(name)
    if choice == "real":
        return f"default: {key!r} is in neither POSITIVE nor UNIT"
    return f"default: {key!r} is in {'POSITIVE' if choice == 'positive' else 'UNIT'}"
