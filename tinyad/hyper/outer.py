"""The outer loop: tune hyperparameters by gradient descent on ``run(hparams)``, the validation loss after
training, with the hypergradients of :func:`tinyad.hyper.hypergrad`; the :class:`Result` it returns."""

from __future__ import annotations

import math
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..core.trace import innermost
from ..core.transforms import check_differentiable
from ..core.tree import flatten, leaf_names
from ..optim.base import Optimizer
from ..optim.constraints import constraint, default_constraint
from ..plotting import plot_history
from .hypergrad import hypergrad


class HypergradientWarning(RuntimeWarning):
    """The outer loop stopped early (a NaN or infinite hypergradient); the last good values were kept."""


@dataclass
class Result:
    """What :func:`optimize` returns. ``history`` rows: {"step", "hparams", "loss", "hypergrad"}."""

    hparams: Any
    loss: float
    history: list = field(default_factory=list)
    stopped: str | None = None  # why the loop stopped early, or None

    def plot(self, path: str | None = None, title: str = "hyperparameter optimisation") -> Any:
        """Loss and each hyperparameter against the outer step (needs matplotlib)."""
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
    names = leaf_names(td)
    constraints = dict(constraints or {})
    unknown = set(constraints) - set(names)
    if unknown:
        raise ValueError(f"constraints given for unknown hyperparameters {sorted(unknown)}; names are {names}")
    cons = [constraint(constraints.get(n, default_constraint(n))) for n in names]
    for n, leaf in zip(names, leaves):
        check_differentiable(leaf, f"hyperparameter {n!r}")

    def constrained(u: Any) -> Any:
        return td.unflatten([c.forward(x) for c, x in zip(cons, flatten(u)[0])])

    u = td.unflatten([c.inverse(np.asarray(x, dtype=float) if np.ndim(x) else float(x), n)
                      for c, x, n in zip(cons, leaves, names)])
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
