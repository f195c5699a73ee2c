"""The outer loop: tune hyperparameters by gradient descent on ``run(hparams)``, the validation loss after
training, with the hypergradients of :func:`tinyad.hyper.hypergrad`.

The loop loses nothing it has done: Ctrl-C returns the :class:`~tinyad.hyper.Result` so far, an exception
from the user's code is re-raised with the partial Result attached, ``checkpoint=PATH`` keeps the Result on
disk after every step, and ``resume=result`` continues exactly where a Result left off (the same numbers,
bit for bit, as a run that was never stopped).
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import optim
from ..core.trace import innermost
from ..core.transforms import check_differentiable
from ..core.tree import flatten, leaf_names
from ..optim.base import Optimizer
from ..optim.constraints import choose
from . import progress as progress_
from .hypergrad import Seeded, _hypergrad, check_mode, check_run
from .result import Result


class StoppedWarning(RuntimeWarning):
    """The outer loop stopped before its last step (interrupted, or a non-finite hypergradient); the
    Result holds every step completed."""


class HypergradientWarning(StoppedWarning):
    """The outer loop stopped early (a NaN or infinite hypergradient); the last good values were kept."""


WARNINGS = {c.__name__: c for c in (StoppedWarning, HypergradientWarning)}


def optimize(
    run: Callable[[Any], Any],
    hparams: Any,
    outer_opt: Optimizer,
    steps: int,
    constraints: dict | None = None,
    mode: str = "forward",
    progress: Any = "auto",
    callback: Callable[[dict], None] | None = None,
    *,
    seed: Any = None,
    resume: Result | None = None,
    checkpoint: str | os.PathLike | None = None,
) -> Result:
    """Tune ``hparams`` by gradient descent on ``run(hparams)`` (the validation loss after training).

    The outer optimiser (any :mod:`tinyad.optim` optimizer, e.g. ``optim.adam(0.05)``) steps in an
    unconstrained space: ``h = exp(u)`` for "positive" hyperparameters, ``h = sigmoid(u)`` for "unit"
    ones, ``h = u`` for "real" ones. ``constraints`` maps leaf names ("lr", "opt.momentum") to one of
    those; names not given follow :func:`default_constraint` (the last name component looked up in
    ``POSITIVE`` and ``UNIT``, else 'real'). Each step computes the loss and all hypergradients in one pass
    (see :func:`hypergrad`), records a history row (see :class:`Result`), calls ``callback(row)``, and
    updates the hyperparameters; ``steps`` updates in all, so the history has ``steps + 1`` rows.

    * ``progress``: ``"auto"`` shows a bar (and the constraint each hyperparameter got) when stderr is a
      terminal; ``True``/``False`` force it.
    * ``seed``: if given, ``run`` is called as ``run(hparams, seed)`` at every step (an int, or a
      ``numpy.random.SeedSequence``); it is recorded in the Result.
    * Ctrl-C returns the Result so far, with ``stopped="interrupted"`` and a :class:`StoppedWarning`. An
      exception raised by ``run`` or ``callback`` (``optuna.TrialPruned`` too) is re-raised with the partial
      Result as its ``result`` attribute: ``except Exception as e: e.result``.
    * ``checkpoint=PATH`` writes the Result (pickle, atomically) after every outer step and when the loop
      ends, so a killed process loses at most the step in flight; ``Result.load(PATH)`` reads it back.
    * ``resume=result`` continues a Result (from an earlier call, an exception's ``.result``, or
      ``Result.load``): ``steps`` is then the *total* number of outer steps, so re-running the same call
      after a crash finishes the job, and 5 steps resumed to 10 give bit for bit what 10 straight steps give
      (history, hyperparameters, optimizer state). ``hparams`` must have the same structure as the resumed
      run's (its values are not used: the run continues from the Result), the outer optimizer must be of the
      same type (its hyperparameters may change, e.g. a lower learning rate), and ``constraints`` and
      ``seed``, if given, must match; by default they are the resumed run's.

    If a hypergradient is NaN or infinite, the loop stops with a :class:`HypergradientWarning` naming the
    step and the hyperparameter, and the result holds the last good hyperparameters.
    """
    return outer_loop(run, hparams, outer_opt, steps, constraints, mode, progress, callback, seed, resume,
                      checkpoint, emit_warnings=True)


def outer_loop(run: Callable, hparams: Any, outer_opt: Optimizer, steps: int, constraints: dict | None, mode: str,
               progress: Any, callback: Callable | None, seed: Any, resume: Result | None,
               checkpoint: Any, emit_warnings: bool) -> Result:
    """:func:`optimize`. Warnings are recorded in the Result, and issued here unless ``emit_warnings`` is
    False (trials of ``optimize_many``, whose warnings the parent process issues)."""
    who = "optimize"
    check_run(run, who)
    check_mode(mode, who)
    check_optimizer(outer_opt)
    steps = check_steps(steps)
    check_checkpoint(checkpoint)
    if callback is not None and not callable(callback):
        raise TypeError(f"optimize: callback must be a function of a history row, or None; got {callback!r:.60}")
    show = progress_.wanted(progress)
    loop = start_loop(hparams, outer_opt, steps, constraints, seed, resume)
    earlier = len(loop.warned)
    try:
        return loop.run(run, outer_opt, steps, mode, show, callback, checkpoint)
    finally:
        if emit_warnings:
            for category, message in loop.warned[earlier:]:
                warnings.warn(message, WARNINGS[category], stacklevel=3)


def start_loop(hparams: Any, outer_opt: Optimizer, steps: int, constraints: dict | None, seed: Any,
               resume: Result | None) -> "Loop":
    """The loop's starting state, after checking the hyperparameters, their constraints and (on resume) that
    the call continues the Result it is given. Cheap: no run is evaluated."""
    check_hparams(hparams)
    leaves, td = flatten(hparams)
    names = leaf_names(td)
    if resume is not None:
        return Loop.resumed(resume, td, leaves, names, outer_opt, constraints, seed, steps)
    return Loop.start(td, leaves, names, outer_opt, constraints, seed)


class Loop:
    """The outer loop's state: ``u`` (unconstrained hyperparameters) after ``updates`` outer updates, the
    optimizer's state, and the history. Its invariant: the history has ``updates`` rows (u not evaluated
    yet) or ``updates + 1`` (evaluated; the last row's hypergradient is the next update's)."""

    def __init__(self, td: Any, names: list, chosen: list, u: Any, opt_state: Any, updates: int, history: list,
                 seed: Any, warned: list) -> None:
        self.td, self.names, self.chosen = td, names, chosen
        self.u, self.opt_state, self.updates, self.history = u, opt_state, updates, history
        self.seed, self.warned = seed, warned
        self.status, self.stopped = "running", None

    @classmethod
    def start(cls, td: Any, leaves: list, names: list, outer_opt: Optimizer, constraints: dict | None,
              seed: Any) -> "Loop":
        chosen = choose(names, constraints)
        u = []
        for (c, reason), x, n in zip(chosen, leaves, names):
            try:
                u.append(c.inverse(np.array(x, dtype=float) if np.ndim(x) else float(x), n))
            except ValueError as e:
                raise ValueError(f"optimize: {e} ({c.name!r} is the constraint of {n!r}: {reason})") from None
        u_tree = td.unflatten(u)
        return cls(td, names, chosen, u_tree, outer_opt.init(u_tree), 0, [], seed_record(seed), [])

    @classmethod
    def resumed(cls, res: Result, td: Any, leaves: list, names: list, outer_opt: Optimizer,
                constraints: dict | None, seed: Any, steps: int) -> "Loop":
        if not isinstance(res, Result):
            raise TypeError(f"optimize: resume must be a tinyad.hyper.Result (from optimize, an exception's .result, "
                            f"or Result.load(path)), got {type(res).__name__}")
        st = res.state
        if st is None:
            raise ValueError("optimize: this Result carries no loop state to resume (one read from JSON has none); "
                             "resume from the Result itself or from its checkpoint file (Result.load)")
        if st["status"] == "nonfinite":
            raise ValueError(f"optimize: the resumed run stopped at a non-finite hypergradient ({res.stopped}); "
                             "resuming would repeat it. Start a new run from result.hparams, with a smaller outer "
                             "learning rate")
        r_leaves, r_td = flatten(st["u"])
        r_names = leaf_names(r_td)
        if r_td != td or [np.shape(x) for x in r_leaves] != [np.shape(x) for x in leaves]:
            raise ValueError(f"optimize: hparams {list(zip(names, map(np.shape, leaves)))} do not have the structure "
                             f"of the resumed run's {list(zip(r_names, map(np.shape, r_leaves)))} (names and shapes "
                             "must match)")
        chosen = choose(names, res.constraints if constraints is None else constraints)
        for n, (c, _) in zip(names, chosen):
            if c.name != res.constraints.get(n):
                raise ValueError(f"optimize: hyperparameter {n!r} was tuned as {res.constraints.get(n)!r} in the "
                                 f"resumed run; it cannot continue as {c.name!r}")
        old = st["optimizer"]
        if type(outer_opt) is not type(old) or outer_opt.name != old.name:
            raise TypeError(f"optimize: the resumed run's outer optimizer was {old!r}; its state cannot continue in "
                            f"{outer_opt!r}. Pass the same kind of optimizer (its hyperparameters may differ)")
        record = res.seed if seed is None else seed_record(seed)
        if record != res.seed:
            raise ValueError(f"optimize: the resumed run used seed {res.seed!r}, not {record!r}; leave seed out to "
                             "continue with the run's own")
        if steps < st["updates"]:
            raise ValueError(f"optimize: steps is the total number of outer steps of a resumed run; this one has "
                             f"already made {st['updates']}, so steps must be at least {st['updates']}")
        return cls(td, names, chosen, st["u"], st["opt_state"], st["updates"], list(res.history), res.seed,
                   list(res.warnings))

    # ---- the loop -----------------------------------------------------------------------------------------
    def run(self, run: Callable, outer_opt: Optimizer, steps: int, mode: str, show: bool, callback: Callable | None,
            checkpoint: Any) -> Result:
        """Evaluate and update until ``steps`` updates are made; see :func:`optimize` for what ends it early."""
        fn = run if self.seed is None else Seeded(run, seed_object(self.seed))
        bar = None
        if show:
            progress_.say("optimize: " + "; ".join(f"{n}: {c.name} ({c.formula}; {why})"
                                                   for n, (c, why) in zip(self.names, self.chosen)))
            bar = progress_.bar(steps, "outer steps")
            bar.update(self.updates)
        try:
            while True:
                if len(self.history) == self.updates:
                    row = self.evaluate(fn, mode)
                    if row is None:
                        break
                    self.history.append(row)
                    if bar is not None:
                        bar.set_postfix_str(f"loss {row['loss']:.4f}  " + "  ".join(
                            f"{n}={_fmt(x)}" for n, x in zip(self.names, flatten(row["hparams"])[0])))
                    if callback is not None:
                        callback(row)
                if self.updates >= steps:
                    self.status = "done"
                    break
                self.u, self.opt_state = outer_opt.update(self.history[-1]["hypergrad_unconstrained"], self.opt_state,
                                                          self.u)
                self.updates += 1
                if bar is not None:
                    bar.update(1)
                if checkpoint is not None:
                    self.result(outer_opt).save(checkpoint)
        except KeyboardInterrupt:
            self.status, self.stopped = "interrupted", "interrupted"
            message = (f"optimize was interrupted after {self.updates} outer steps; the Result holds every step "
                       "completed (optimize(..., resume=result) continues)")
            self.warned.append((StoppedWarning.__name__, message))
        except Exception as e:
            self.status, self.stopped = "error", f"error: {type(e).__name__}: {e}"
            res = self.result(outer_opt)
            _save_quietly(res, checkpoint, e)
            attach(e, res, f"tinyad.hyper.optimize: the Result of the {self.updates} outer steps completed is "
                           "attached to this exception as its .result attribute")
            raise
        finally:
            if bar is not None:
                bar.close()
        res = self.result(outer_opt)
        if checkpoint is not None:
            try:
                res.save(checkpoint)
            except OSError as e:
                attach(e, res, "tinyad.hyper.optimize: the Result could not be written to its checkpoint; it is "
                               "attached to this exception as its .result attribute")
                raise
        return res

    def evaluate(self, fn: Callable, mode: str) -> dict | None:
        """One outer step's row at the current u; None (and the loop stops) if anything is not finite."""
        u_leaves = flatten(self.u)[0]
        h = self.constrained()
        value, g_h = _hypergrad(fn, h, mode)
        loss = float(innermost(value))
        g_leaves = [_plain(innermost(g)) for g in flatten(g_h)[0]]
        g_u = [_plain(g * c.slope(x)) for g, (c, _), x in zip(g_leaves, self.chosen, u_leaves)]
        bad = [n for n, a, b in zip(self.names, g_leaves, g_u) if not np.all(np.isfinite(a) & np.isfinite(b))]
        if bad or not math.isfinite(loss):
            what = f"hypergradient of {', '.join(map(repr, bad))}" if bad else "loss"
            self.status = "nonfinite"
            self.stopped = (f"outer step {len(self.history)}: the {what} is not finite (NaN/inf); stopped and kept "
                            "the last good hyperparameters. Try a smaller outer learning rate or fewer inner steps.")
            self.warned.append((HypergradientWarning.__name__, self.stopped))
            return None
        return {"step": len(self.history), "hparams": h, "loss": loss, "hypergrad": self.td.unflatten(g_leaves),
                "hypergrad_unconstrained": self.td.unflatten(g_u)}

    def constrained(self) -> Any:
        """The hyperparameters at the current u, as plain numbers in their containers."""
        return self.td.unflatten([_plain(c.forward(x)) for (c, _), x in zip(self.chosen, flatten(self.u)[0])])

    def result(self, outer_opt: Optimizer) -> Result:
        """The Result of everything done so far (a snapshot: later steps do not change it)."""
        if self.history:
            hparams, loss = self.history[-1]["hparams"], self.history[-1]["loss"]
        else:
            hparams, loss = self.constrained(), math.nan
        state = {"u": self.u, "opt_state": self.opt_state, "updates": self.updates, "optimizer": outer_opt,
                 "status": self.status}
        return Result(hparams, loss, list(self.history), self.stopped,
                      {n: c.name for n, (c, _) in zip(self.names, self.chosen)}, self.seed, list(self.warned), state)


# ---- checks ---------------------------------------------------------------------------------------------------
def check_optimizer(outer_opt: Any) -> None:
    if isinstance(outer_opt, Optimizer):
        return
    if isinstance(outer_opt, str):
        name = outer_opt if callable(getattr(optim, outer_opt, None)) else "adam"
        raise TypeError(f"optimize: outer_opt must be an optimizer object, not the string {outer_opt!r}: pass e.g. "
                        f"tinyad.optim.{name}(0.05)")
    if isinstance(outer_opt, type) and issubclass(outer_opt, Optimizer):
        raise TypeError(f"optimize: outer_opt is the class {outer_opt.__name__}; pass an instance with its learning "
                        f"rate, e.g. tinyad.optim.{outer_opt.name}(0.05)")
    raise TypeError(f"optimize: outer_opt must be a tinyad.optim optimizer such as tinyad.optim.adam(0.05), got "
                    f"{type(outer_opt).__name__} {outer_opt!r:.60}")


def check_steps(steps: Any) -> int:
    if isinstance(steps, (bool, np.bool_)) or not isinstance(steps, (int, np.integer)):
        raise TypeError(f"optimize: steps must be a whole number of outer steps (an int >= 0), got "
                        f"{type(steps).__name__} {steps!r}")
    if steps < 0:
        raise ValueError(f"optimize: steps must be >= 0 (0 evaluates the starting hyperparameters), got {steps}")
    return int(steps)


def check_checkpoint(path: Any) -> None:
    """A checkpoint must be writable before the first outer step is spent: a file in an existing directory."""
    if path is None:
        return
    try:
        p = Path(os.fspath(path))
    except TypeError:
        raise TypeError(f"optimize: checkpoint must be a file path (str or os.PathLike), got {path!r:.60}") from None
    folder = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise ValueError(f"optimize: checkpoint {os.fspath(path)!r} is a directory; give a file path in it")
    if not folder.is_dir():
        raise FileNotFoundError(f"optimize: the folder of checkpoint {os.fspath(path)!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise PermissionError(f"optimize: the folder of checkpoint {os.fspath(path)!r} is not writable")


def check_hparams(hparams: Any) -> None:
    """Starting values must be finite real numbers or float arrays; name the one that is not. None and strings
    are looked for before flattening, where None could pass for an empty container."""
    for n, x in _walk(hparams, ""):
        what = f"hyperparameter {n or 'hyperparameter'!r}"
        if x is None:
            raise TypeError(f"optimize: {what} is None; give it a starting value (a float, or an array of floats)")
        if isinstance(x, str):
            raise TypeError(f"optimize: {what} is the string {x!r}; give a number (e.g. 0.1, not '0.1')")
    leaves, td = flatten(hparams)
    if not leaves:
        raise ValueError(f"optimize: hparams has no hyperparameters to tune: {hparams!r:.80}")
    names = leaf_names(td)
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"optimize: two hyperparameters are both named {twice[0]!r} (a key with a dot in it, "
                         "beside a nested one?); rename one, so that the history, the constraints and the "
                         "exported columns can tell them apart")
    for n, x in zip(names, leaves):
        check_differentiable(x, f"hyperparameter {n!r}")
        if not np.all(np.isfinite(innermost(x))):
            raise ValueError(f"optimize: hyperparameter {n!r} = {innermost(x)!r:.60} is not finite")


def _walk(tree: Any, prefix: str):
    """(name, value) of everything below dicts, lists and tuples, named as ``leaf_names`` names leaves."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from _walk(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(tree, (list, tuple)):
        for i, v in enumerate(tree):
            yield from _walk(v, f"{prefix}[{i}]")
    else:
        yield prefix, tree


# ---- seeds ----------------------------------------------------------------------------------------------------
def seed_record(seed: Any) -> Any:
    """How a seed is recorded in a Result: a SeedSequence as ``{"entropy", "spawn_key"}``, anything else as is."""
    if isinstance(seed, np.random.SeedSequence):
        return {"entropy": seed.entropy, "spawn_key": tuple(seed.spawn_key)}
    if isinstance(seed, dict):
        if set(seed) != {"entropy", "spawn_key"}:
            raise ValueError(f"a seed given as a dict must be a SeedSequence's {{'entropy', 'spawn_key'}}, got "
                             f"{seed!r}")
        return {"entropy": seed["entropy"], "spawn_key": tuple(seed["spawn_key"])}
    return seed


def seed_object(record: Any) -> Any:
    """What ``run`` receives for a recorded seed: a SeedSequence for ``{"entropy", "spawn_key"}``."""
    if isinstance(record, dict):
        return np.random.SeedSequence(record["entropy"], spawn_key=record["spawn_key"])
    return record


# ---- helpers --------------------------------------------------------------------------------------------------
def attach(e: BaseException, res: Result, note: str) -> None:
    """Attach the partial Result to an exception on its way out (and say so, on Python >= 3.11)."""
    try:
        e.result = res
    except (AttributeError, TypeError):  # an exception type that takes no attributes: nothing to attach to
        return
    if hasattr(e, "add_note"):
        e.add_note(note)


def _save_quietly(res: Result, checkpoint: Any, e: BaseException) -> None:
    """Write the checkpoint on the way out of an error; a failure to write must not hide the error."""
    if checkpoint is None:
        return
    try:
        res.save(checkpoint)
    except OSError as ce:
        if hasattr(e, "add_note"):
            e.add_note(f"tinyad.hyper.optimize: could not write the checkpoint {checkpoint!r}: {ce}")


def _plain(x: Any) -> Any:
    x = innermost(x)
    return float(x) if np.ndim(x) == 0 else np.array(x, dtype=float)


def _fmt(x: Any) -> str:
    return f"{x:.4g}" if np.ndim(x) == 0 else f"[{np.mean(x):.3g} avg]"

