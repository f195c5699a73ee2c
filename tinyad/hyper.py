"""Hypergradients of whole training runs, and an outer loop that tunes hyperparameters with them.

The mechanism is just composition (see docs/hybrid.md): ``run(hparams)`` is an ordinary training loop
with ``tinyad.grad`` inside; :func:`hypergrad` wraps it in one batched ``tinyad.jvp`` whose k tangent
directions are the k hyperparameters. Every inner backprop then runs on Duals carrying
d(.)/d(hyperparameters), no graph of the run is kept, and memory is O(parameters x (1 + k)) for any
number of steps. ``mode="reverse"`` differentiates the same ``run`` by reverse mode through the unrolled
loop instead: same numbers, memory linear in the number of steps (the comparison every other library has).
"""

from __future__ import annotations

import math
import re
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from . import numpy as tnp
from .optim import Optimizer
from .primitive import shape_of
from .tags import innermost
from .transforms import _check_differentiable, basis_tangents, jvp, value_and_grad
from .tree import TreeDef, flatten


class HypergradientWarning(RuntimeWarning):
    """The outer loop stopped early (a NaN or infinite hypergradient); the last good values were kept."""


def _paths(td: TreeDef, prefix: str = "") -> list[str]:
    """Readable names of a container's leaves: 'lr', 'opt.momentum', '[2]'."""
    if td.kind == "leaf":
        return [prefix or "hyperparameter"]
    keys = td.meta if td.kind == "dict" else range(len(td.children))
    out = []
    for key, child in zip(keys, td.children):
        name = f"{prefix}.{key}" if td.kind == "dict" and prefix else (str(key) if td.kind == "dict"
                                                                          else f"{prefix}[{key}]")
        out += _paths(child, name)
    return out


def hypergrad(run: Callable[[Any], Any], hparams: Any, mode: str = "forward") -> tuple[Any, Any]:
    """``(run(hparams), d run / d hparams)``, the gradient in the container structure of ``hparams``.

    ``mode="forward"`` (default) computes all k hyperparameter derivatives in ONE pass of ``run`` with k
    tangent directions; memory does not grow with the length of the training run. ``mode="reverse"``
    records the whole run on a tape instead (memory grows with its length; useful as a cross-check, or
    when there are many more hyperparameters than a forward pass can carry).
    """
    leaves, td = flatten(hparams)
    names = _paths(td)
    for name, leaf in zip(names, leaves):
        _check_differentiable(leaf, f"hyperparameter {name!r}")
    if mode == "reverse":
        value, g = value_and_grad(run)(hparams)
        return value, g
    if mode != "forward":
        raise ValueError(f"hypergrad: mode must be 'forward' or 'reverse', got {mode!r}")
    tangents, sizes = basis_tangents(leaves)
    value, tangent = jvp(run, (hparams,), (td.unflatten(tangents),), batched=True)
    if shape_of(value) != ():
        raise TypeError(f"hypergrad: run must return a scalar (the validation loss), got shape {shape_of(value)}")
    t = np.asarray(innermost(tangent), dtype=float)
    grads, start = [], 0
    for x, n in zip(leaves, sizes):
        g = t[start:start + n].reshape(shape_of(x))
        grads.append(float(g) if g.shape == () else g)
        start += n
    return value, td.unflatten(grads)


# ---- keeping hyperparameters valid: optimise them in an unconstrained space -------------------------
POSITIVE = re.compile(r"(^|[._\[])(lr|alpha|learning_rate|wd|weight_decay|l2|eps|scale|init_scale)($|[._\]\d])",
                      re.I)
UNIT = re.compile(r"(^|[._\[])(mu|momentum|beta\d?|b1|b2|gamma|decay|rho)($|[._\]\d])", re.I)


class Constraint:
    """A map from an unconstrained real ``u`` to a valid hyperparameter, and back."""

    name = "real"

    def forward(self, u: Any) -> Any:
        return u

    def inverse(self, h: Any) -> Any:
        return h


class Positive(Constraint):
    """h = exp(u): learning rates, weight decay. Steps in u are relative changes of h (well-scaled)."""

    name = "positive"

    def forward(self, u):
        return tnp.exp(u)

    def inverse(self, h):
        if np.any(np.asarray(h) <= 0):
            raise ValueError(f"a 'positive' hyperparameter must start > 0, got {h}")
        return np.log(h)


class Unit(Constraint):
    """h = sigmoid(u) in (0, 1): momentum, betas, decay rates."""

    name = "unit"

    def forward(self, u):
        return 0.5 * (1.0 + tnp.tanh(0.5 * u))  # the logistic function, no overflow

    def inverse(self, h):
        h = np.asarray(h, dtype=float)
        if np.any((h <= 0) | (h >= 1)):
            raise ValueError(f"a 'unit' hyperparameter must start strictly inside (0, 1), got {h}")
        out = np.log(h) - np.log1p(-h)
        return float(out) if out.shape == () else out


CONSTRAINTS = {"real": Constraint(), "positive": Positive(), "unit": Unit()}


def default_constraint(name: str) -> str:
    """'positive' for lr/alpha/wd/eps/scale names, 'unit' for mu/momentum/beta/decay names, else 'real'."""
    if POSITIVE.search(name):  # first: "weight_decay" is positive, a bare "decay" is a unit rate
        return "positive"
    if UNIT.search(name):
        return "unit"
    return "real"


@dataclass
class Result:
    """What :func:`optimize` returns. ``history`` rows: {"step", "hparams", "loss", "hypergrad"}."""

    hparams: Any
    loss: float
    history: list = field(default_factory=list)
    stopped: str | None = None  # why the loop stopped early, or None

    def plot(self, path: str | None = None, title: str = "hyperparameter optimisation") -> Any:
        """Loss and each hyperparameter against the outer step (needs matplotlib)."""
        from .plotting import plot_history

        return plot_history(self.history, path, title)


def _progress(total: int, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm

        return tqdm(total=total, desc="outer steps", file=sys.stderr, leave=True)
    except ImportError:
        return _PlainProgress(total)


class _PlainProgress:
    """A one-line progress report for when tqdm is not installed."""

    def __init__(self, total: int) -> None:
        self.total, self.n = total, 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix_str(self, s: str) -> None:
        print(f"\r  step {self.n}/{self.total}  {s}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        print(file=sys.stderr)


def optimize(
    run: Callable[[Any], Any],
    hparams: Any,
    outer_opt: Optimizer,
    steps: int,
    constraints: dict | None = None,
    mode: str = "forward",
    progress: bool = True,
    callback: Callable[[dict], None] | None = None,
) -> Result:
    """Tune ``hparams`` by gradient descent on ``run(hparams)`` (the validation loss after training).

    The outer optimiser (any :mod:`tinyad.optim` optimizer, e.g. ``optim.adam(0.05)``) steps in an
    unconstrained space: ``h = exp(u)`` for "positive" hyperparameters, ``h = sigmoid(u)`` for "unit"
    ones, ``h = u`` for "real" ones. ``constraints`` maps leaf names ("lr", "opt.momentum") to one of
    those; names not given follow :func:`default_constraint`. Each step computes the loss and all
    hypergradients in one pass (see :func:`hypergrad`).

    If a hypergradient is NaN or infinite, the loop stops with a :class:`HypergradientWarning` naming the
    step and the hyperparameter, and the result holds the last good hyperparameters.
    """
    leaves, td = flatten(hparams)
    names = _paths(td)
    constraints = dict(constraints or {})
    unknown = set(constraints) - set(names)
    if unknown:
        raise ValueError(f"constraints given for unknown hyperparameters {sorted(unknown)}; names are {names}")
    cons = []
    for n in names:
        kind = constraints.get(n, default_constraint(n))
        if kind not in CONSTRAINTS:
            raise ValueError(f"constraint for {n!r} must be one of {sorted(CONSTRAINTS)}, got {kind!r}")
        cons.append(CONSTRAINTS[kind])
    for n, leaf in zip(names, leaves):
        _check_differentiable(leaf, f"hyperparameter {n!r}")

    def constrained(u: Any) -> Any:
        return td.unflatten([c.forward(x) for c, x in zip(cons, flatten(u)[0])])

    u = td.unflatten([c.inverse(np.asarray(x, dtype=float) if np.ndim(x) else float(x))
                      for c, x in zip(cons, leaves)])
    state = outer_opt.init(u)
    history: list = []
    bar = _progress(steps, progress)
    current, stopped, loss = hparams, None, math.nan
    try:
        for step in range(steps + 1):
            value, g_u = hypergrad(lambda uu: run(constrained(uu)), u, mode)
            loss = float(value)
            bad = [n for n, g in zip(names, flatten(g_u)[0]) if not np.all(np.isfinite(g))]
            if bad or not math.isfinite(loss):
                what = f"hypergradient of {', '.join(map(repr, bad))}" if bad else "loss"
                stopped = (f"outer step {step}: the {what} is not finite (NaN/inf); stopped and kept the last "
                           "good hyperparameters. Try a smaller outer learning rate or fewer inner steps.")
                warnings.warn(stopped, HypergradientWarning, stacklevel=2)
                break
            current = _plain(constrained(u))
            row = {"step": step, "hparams": current, "loss": loss, "hypergrad": g_u}
            history.append(row)
            if callback is not None:
                callback(row)
            if bar is not None:
                bar.set_postfix_str(f"loss {loss:.4f}  " + "  ".join(
                    f"{n}={_fmt(x)}" for n, x in zip(names, flatten(current)[0])))
            if step == steps:
                break
            u, state = outer_opt.update(g_u, state, u)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    final_loss = history[-1]["loss"] if history else loss
    return Result(current, final_loss, history, stopped)


def _plain(tree: Any) -> Any:
    leaves, td = flatten(tree)
    return td.unflatten([float(x) if np.ndim(x) == 0 else np.asarray(x) for x in map(innermost, leaves)])


def _fmt(x: Any) -> str:
    return f"{x:.4g}" if np.ndim(x) == 0 else f"[{np.mean(x):.3g} avg]"


# The fourth method, hypergradients at an inner optimum (tinyad/implicit.py, docs/implicit.md):
from .implicit import ImplicitResult, ImplicitWarning, implicit_hypergrad, implicit_solution, newton_minimize  # noqa
