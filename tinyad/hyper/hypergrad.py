"""Hypergradients of whole training runs: d run(hparams) / d hparams.

The mechanism is just composition (see docs/hybrid.md): ``run(hparams)`` is an ordinary training loop
with ``tinyad.grad`` inside; :func:`hypergrad` wraps it in one batched ``tinyad.jvp`` whose k tangent
directions are the k hyperparameters. Every inner backprop then runs on Duals carrying
d(.)/d(hyperparameters), no graph of the run is kept, and memory is O(parameters x (1 + k)) for any
number of steps. ``mode="reverse"`` differentiates the same ``run`` by reverse mode through the unrolled
loop instead: same numbers, memory linear in the number of steps (the comparison every other library has).

``seeds=[...]`` averages the hypergradient over training runs ``run(hparams, seed)`` that differ in their
randomness (initialisation, minibatch order), optionally spread over an executor (docs/scale.md).
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import numpy as np

from ..core.primitive import shape_of
from ..core.trace import innermost
from ..core.transforms import basis_tangents, check_differentiable, jvp, value_and_grad
from ..core.tree import flatten, leaf_names
from . import executors

MODES = ("forward", "reverse")


class SeedAverage(NamedTuple):
    """What ``hypergrad(..., seeds=[...])`` returns: the means over the seeds of the loss and of each
    hypergradient, and their standard errors (sample standard deviation / sqrt(n); NaN for one seed)."""

    value: float
    grad: Any
    value_stderr: float
    grad_stderr: Any
    n: int


class Seeded:
    """``run`` with its seed bound: ``Seeded(run, seed)(hparams) == run(hparams, seed)``. A module-level class,
    so that it pickles whenever ``run`` and ``seed`` do."""

    def __init__(self, run: Callable, seed: Any) -> None:
        self.run, self.seed = run, seed

    def __call__(self, hparams: Any) -> Any:
        return self.run(hparams, self.seed)

    @property
    def __name__(self) -> str:  # errors from the transforms name the user's function, not this wrapper
        return run_name(self.run)


class Checked:
    """``run`` whose return value is checked to be the validation loss (a real scalar) before it is
    differentiated, so that a forgotten ``return`` says so instead of failing deep in the engine."""

    def __init__(self, run: Callable) -> None:
        self.run = run

    def __call__(self, hparams: Any) -> Any:
        out = self.run(hparams)
        check_loss(out, self.run)
        return out

    @property
    def __name__(self) -> str:
        return run_name(self.run)


def run_name(run: Callable) -> str:
    while isinstance(run, (Seeded, Checked)):
        run = run.run
    return getattr(run, "__name__", type(run).__name__)


def check_run(run: Any, who: str) -> None:
    if not callable(run):
        raise TypeError(f"{who}: run must be a function of the hyperparameters that trains and returns the "
                        f"validation loss; got {type(run).__name__} {run!r:.60}")


def check_mode(mode: Any, who: str) -> None:
    if mode not in MODES:
        raise ValueError(f"{who}: mode must be 'forward' (one pass with k tangents; memory flat in the number of "
                         f"steps) or 'reverse' (through the unrolled run), got {mode!r}")


def check_loss(out: Any, run: Callable) -> None:
    """The value of ``run`` must be a real scalar (a float, a 0-d float array, or a box around one)."""
    x = innermost(out)
    what = f"run ({run_name(run)})"
    if x is None:
        raise TypeError(f"{what} returned None; it must return the validation loss, a float. Did it forget a "
                        "`return`?")
    if isinstance(x, (complex, np.complexfloating)) or (isinstance(x, np.ndarray) and x.dtype.kind == "c"):
        raise TypeError(f"{what} must return a real float (the validation loss), got a complex number: {x!r:.60}")
    if not isinstance(x, (float, np.floating, np.ndarray)):
        hint = " (an integer has no derivative; did the loss not depend on the hyperparameters?)" \
            if isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_)) else ""
        raise TypeError(f"{what} must return the validation loss as a float, got {type(x).__name__}: "
                        f"{x!r:.60}{hint}")
    if np.shape(x) != ():
        raise TypeError(f"{what} must return a scalar (the validation loss), got shape {np.shape(x)}")
    if np.result_type(x).kind != "f":
        raise TypeError(f"{what} must return the validation loss as a float, got dtype {np.result_type(x)}")


def hypergrad(run: Callable[..., Any], hparams: Any, mode: str = "forward", *, seeds: Any = None,
              executor: Any = None) -> Any:
    """``(run(hparams), d run / d hparams)``, the gradient in the container structure of ``hparams``.

    ``mode="forward"`` (default) computes all k hyperparameter derivatives in ONE pass of ``run`` with k
    tangent directions; memory does not grow with the length of the training run. ``mode="reverse"``
    records the whole run on a tape instead (memory grows with its length; useful as a cross-check, or
    when there are many more hyperparameters than a forward pass can carry).

    ``seeds=[s1, s2, ...]``: ``run`` takes a seed, ``run(hparams, seed)``, and the result is a
    :class:`SeedAverage` ``(value, grad, value_stderr, grad_stderr, n)``: the means over the seeds and their
    standard errors. ``executor`` (anything with ``submit(fn, *args)`` returning futures: a
    ``concurrent.futures`` pool, loky, a dask.distributed Client, ...) runs the seeds in parallel; the
    numbers are the same as with ``executor=None`` (serial), since the mean is taken here, in seed order. For
    a process or cluster executor, ``run`` must pickle (a module-level function or class; docs/scale.md).
    """
    check_run(run, "hypergrad")
    check_mode(mode, "hypergrad")
    if seeds is None:
        if executor is not None:
            raise ValueError("hypergrad: executor= spreads the seeds of seeds=[...] over workers; without seeds there "
                             "is a single run, and nothing to spread")
        return _hypergrad(run, hparams, mode)
    if isinstance(seeds, (int, str)) or not hasattr(seeds, "__len__"):
        raise TypeError(f"hypergrad: seeds must be a list of seeds (one training run each), got {seeds!r:.60}")
    if len(seeds) == 0:
        raise ValueError("hypergrad: seeds=[] is empty; give at least one seed")
    ex = executors.resolve(executor, "hypergrad")
    executors.check_picklable(ex, "hypergrad", run=run, hparams=hparams)
    parts = executors.map_all(ex, one_seed, [(run, hparams, mode, s) for s in seeds], "hypergrad")
    return average(parts, hparams)


def one_seed(run: Callable, hparams: Any, mode: str, seed: Any) -> tuple:
    """One seed's ``(loss, hypergradient)`` as plain numbers (what a worker sends back)."""
    value, g = _hypergrad(Seeded(run, seed), hparams, mode)
    return float(innermost(value)), g


def average(parts: list, hparams: Any) -> SeedAverage:
    """Means and standard errors of per-seed ``(loss, hypergradient)`` pairs, leaf by leaf."""
    n = len(parts)
    td = flatten(hparams)[1]

    def stats(xs: list) -> tuple:
        a = np.stack([np.asarray(x, dtype=float) for x in xs])
        mean = a.mean(axis=0)
        se = a.std(axis=0, ddof=1) / math.sqrt(n) if n > 1 else np.full(mean.shape, np.nan)
        return (float(mean), float(se)) if mean.shape == () else (mean, se)

    value, value_se = stats([v for v, _ in parts])
    columns = list(zip(*[flatten(g)[0] for _, g in parts]))
    leaf_stats = [stats(list(c)) for c in columns]
    return SeedAverage(value, td.unflatten([m for m, _ in leaf_stats]), value_se,
                       td.unflatten([s for _, s in leaf_stats]), n)


def _hypergrad(run: Callable, hparams: Any, mode: str) -> tuple:
    leaves, td = flatten(hparams)
    if not leaves:
        raise ValueError(f"hypergrad: hparams has no hyperparameters to differentiate by: {hparams!r:.80}")
    names = leaf_names(td)
    for name, leaf in zip(names, leaves):
        check_differentiable(leaf, f"hyperparameter {name!r}")
    run = Checked(run)
    if mode == "reverse":
        value, g = value_and_grad(run)(hparams)
        return value, g
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
