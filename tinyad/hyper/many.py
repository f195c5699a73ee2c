"""Many trials at once: :func:`optimize_many` runs one :func:`~tinyad.hyper.optimize` per starting point (random
restarts, a population, several seeds) on any executor, and gives back one Result per trial.

A trial is a pure function of what is sent to it (``run``, its starting hyperparameters, the outer optimizer,
its seed), so the Results are bit for bit the same whether the trials run here one after another, on
threads, in processes, or on a cluster. Nothing is scheduled here: the executor does that (see
:mod:`tinyad.hyper.executors` and docs/scale.md).
"""

from __future__ import annotations

import pickle
import traceback
import warnings
from typing import Any, Callable

import numpy as np

from ..optim.base import Optimizer
from . import executors
from . import progress as progress_
from .hypergrad import check_run
from .outer import WARNINGS, StoppedWarning, check_optimizer, check_steps, outer_loop, start_loop
from .result import Result

OPTIONS = ("constraints", "mode", "callback")  # what optimize_many passes on to each trial's optimize


class TrialsFailed(Exception):
    """Some trials of :func:`optimize_many` raised. ``results`` has one entry per trial, in order: the
    finished trials' Results, the failed ones' partial Results (``stopped="error: ..."``, with an empty
    history if the first step failed; None if the trial could not start: its arguments were refused before
    any step); ``errors`` maps each failed trial's index to its exception, whose ``result`` attribute is that
    trial's partial Result."""

    def __init__(self, results: list, errors: dict) -> None:
        self.results, self.errors = results, errors
        lines = [f"trial {i}: {type(e).__name__}: {e}" for i, e in sorted(errors.items())]
        super().__init__(f"{len(errors)} of {len(results)} trials failed (the others finished; every Result is in "
                         ".results, the exceptions in .errors):\n  " + "\n  ".join(lines))

    def __reduce__(self) -> tuple:
        return type(self), (self.results, self.errors)


class TrialError(RuntimeError):
    """Stands in for a trial's exception that could not be pickled back from its worker (its text is kept)."""


def optimize_many(run: Callable, inits: list, outer_opt: Optimizer, steps: int, *, executor: Any = None,
                  seeds: Any = None, progress: Any = "auto", checkpoint: str | None = None,
                  resume: list | None = None, **options: Any) -> list[Result]:
    """One :func:`optimize` per starting point in ``inits``, on ``executor``; a list of Results, in order.

    * ``executor``: anything with ``submit(fn, *args, **kwargs)`` returning futures with ``result()``:
      ``concurrent.futures.ProcessPoolExecutor``/``ThreadPoolExecutor``, loky, ``mpi4py.futures``, a Dask
      ``distributed.Client`` (or ``client.get_executor()``); None runs the trials here, one after another.
      For anything but None and threads, ``run``, ``inits``, ``outer_opt`` and the callback are pickled with
      the standard library, so they must be module-level functions and classes (no lambdas or closures): a
      clear error says which one is not. Numba kernels are compiled here first (``tinyad.kernels.warmup``).
    * ``seeds``: None (``run(hparams)``), an int or a ``numpy.random.SeedSequence`` (trial i calls
      ``run(hparams, seed_i)`` with ``seed_i = SeedSequence(seeds).spawn(len(inits))[i]``, recorded in its
      Result as entropy and spawn_key, so a trial can be re-run alone with
      ``optimize(run, inits[i], outer_opt, steps, seed=result.seed)``), or a list with one seed per trial.
    * ``progress``: one bar of finished trials here (``"auto"``: when stderr is a terminal); trials print
      nothing. Each trial's warnings are issued here, prefixed "trial i:", and are kept in its Result.
    * ``checkpoint``: a path containing ``{i}`` (``"ckpt/trial-{i}.pkl"``): trial i checkpoints there;
      ``resume``: a list with, for each trial, a Result to resume or None.
    * ``constraints``, ``mode``, ``callback``: as in :func:`optimize`, for every trial (the callback runs
      where the trial runs).

    If some trials raise, the others still finish; then :class:`TrialsFailed` is raised, carrying every
    Result (``.results``, partial ones for the failed trials) and each exception (``.errors``, by trial
    index, each with its partial Result as ``.result``). Ctrl-C here cancels the trials not yet started and
    returns the list so far, None for each unfinished trial, with a :class:`StoppedWarning`.
    """
    who = "optimize_many"
    check_run(run, who)
    check_optimizer(outer_opt)
    steps = check_steps(steps)
    if isinstance(inits, dict) or not isinstance(inits, (list, tuple)):
        raise TypeError(f"{who}: inits must be a list of starting hyperparameters, one per trial (for one run, use "
                        f"optimize, or [hparams]); got {type(inits).__name__}")
    n = len(inits)
    if n == 0:
        raise ValueError(f"{who}: inits is empty; give at least one starting point")
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise TypeError(f"{who}: unexpected arguments {sorted(unknown)}; it takes {list(OPTIONS)} for every trial's "
                        "optimize, and seeds= (not seed=) for the trials' seeds")
    trial_seeds = spawn_seeds(seeds, n, who)
    checkpoints = per_trial_checkpoints(checkpoint, n, who)
    resumes = [None] * n if resume is None else list(resume)
    if len(resumes) != n:
        raise ValueError(f"{who}: resume must have one entry (a Result or None) per trial: {n}, got {len(resumes)}")
    for i in range(n):  # refuse bad starting points here, before any trial starts
        try:
            start_loop(inits[i], outer_opt, steps, options.get("constraints"), trial_seeds[i], resumes[i])
        except (TypeError, ValueError) as e:
            raise type(e)(f"{who}: inits[{i}]: {e}") from None
    ex = executors.resolve(executor, who)
    executors.check_picklable(ex, who, run=run, inits=inits, outer_opt=outer_opt, callback=options.get("callback"),
                              seeds=trial_seeds, resume=resumes)
    executors.prepare(ex)
    show = progress_.wanted(progress)
    serial = isinstance(ex, executors.Serial)
    results: list = [None] * n
    errors: dict = {}
    bar = progress_.bar(n, "trials") if show else None

    def done(i: int, value: Any, error: BaseException | None) -> None:
        if error is not None:  # the executor could not run the trial (a worker died, ...)
            errors[i] = error
        else:
            res, exc, tb = value
            results[i] = res
            if exc is not None:
                arrived(exc, res, i, None if serial else tb)
                errors[i] = exc
            for category, message in (res.warnings if res is not None else []):
                warnings.warn(f"trial {i}: {message}", WARNINGS.get(category, RuntimeWarning), stacklevel=4)
            if serial and res is not None and res.stopped == "interrupted":
                raise KeyboardInterrupt  # Ctrl-C in this process: stop the whole search, not one trial
        if bar is not None:
            bar.update(1)

    futures = []
    try:
        for i in range(n):
            futures.append(ex.submit(trial, run, inits[i], outer_opt, steps, trial_seeds[i], resumes[i],
                                     checkpoints[i], {k: options[k] for k in OPTIONS if k in options}))
        executors.gather(futures, done)
    except KeyboardInterrupt:
        executors.cancel(futures)
        finished = sum(r is not None for r in results)
        warnings.warn(f"optimize_many was interrupted: {finished} of {n} trials have a Result; the others are None",
                      StoppedWarning, stacklevel=2)
        return results
    finally:
        if bar is not None:
            bar.close()
    if errors:
        raise TrialsFailed(results, errors) from errors[min(errors)]
    return results


def trial(run: Callable, hparams: Any, outer_opt: Optimizer, steps: int, seed: Any, resume: Result | None,
          checkpoint: str | None, options: dict) -> tuple:
    """One trial, where the executor runs it: ``(Result, exception or None, traceback text or None)``.

    The exception is returned, not raised, so that its partial Result comes back with it whatever the
    executor does with exceptions; it is replaced by a :class:`TrialError` if it cannot be pickled."""
    try:
        res = outer_loop(run, hparams, outer_opt, steps, options.get("constraints"), options.get("mode", "forward"),
                         False, options.get("callback"), seed, resume, checkpoint, emit_warnings=False)
        return res, None, None
    except Exception as e:
        res = getattr(e, "result", None)
        if res is not None:
            del e.result  # sent once, beside the exception; put back in the parent
        tb = "".join(traceback.format_exception(type(e), e, e.__traceback__))
        return res, portable(e, tb), tb


def portable(e: Exception, tb: str) -> Exception:
    """``e`` if it survives pickling, else a :class:`TrialError` with its text and traceback."""
    try:
        pickle.loads(pickle.dumps(e))
        return e
    except Exception:
        return TrialError(f"{type(e).__name__}: {e} (the original exception could not be pickled)\n{tb}")


def arrived(e: Exception, res: Result | None, i: int, tb: str | None) -> None:
    """Put a trial's partial Result back on its exception, and say which trial (and where) it came from."""
    try:
        e.result = res
    except (AttributeError, TypeError):
        pass
    if hasattr(e, "add_note"):
        e.add_note(f"tinyad.hyper.optimize_many: raised by trial {i}; its partial Result is .result"
                   + (f"; the worker's traceback:\n{tb}" if tb else ""))


def spawn_seeds(seeds: Any, n: int, who: str) -> list:
    """One seed per trial: None for all, SeedSequence(seeds).spawn(n), or the list given."""
    if seeds is None:
        return [None] * n
    if isinstance(seeds, (list, tuple)):
        if len(seeds) != n:
            raise ValueError(f"{who}: seeds given as a list needs one per trial ({n}), got {len(seeds)}")
        return list(seeds)
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        return np.random.SeedSequence(int(seeds)).spawn(n)
    if isinstance(seeds, np.random.SeedSequence):
        return seeds.spawn(n)
    raise TypeError(f"{who}: seeds must be None, an int or a numpy SeedSequence (spawned into one seed per trial), "
                    f"or a list with one seed per trial; got {type(seeds).__name__}")


def per_trial_checkpoints(checkpoint: Any, n: int, who: str) -> list:
    if checkpoint is None:
        return [None] * n
    if not isinstance(checkpoint, str) or "{i}" not in checkpoint:
        raise ValueError(f"{who}: checkpoint must be a path containing {{i}} (e.g. 'ckpt/trial-{{i}}.pkl'), one file "
                         f"per trial; got {checkpoint!r}")
    return [checkpoint.format(i=i) for i in range(n)]
