"""Running independent pieces of work (trials, seeds) on whatever executor the user has.

tinyad builds no scheduler. An *executor* is anything with ``submit(fn, *args, **kwargs)`` returning a future
with ``result()``: the standard library's ``concurrent.futures`` pools, loky, ``mpi4py.futures``, Dask's
``distributed.Client`` (or ``client.get_executor()``), or a few lines around Ray (docs/scale.md). ``None``
runs the work here, one piece after another. Whatever runs it, the numbers are the same: each piece is a
pure function of its arguments, and the results are put back in submission order.

Process and cluster executors pickle what they send; :func:`check_picklable` tries that with the standard
library first, so a lambda or closure fails here with a message saying what to do instead of deep inside a
worker.
"""

from __future__ import annotations

import pickle
import queue
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from ..kernels import warmup


class Deferred:
    """A future of the serial executor: the work runs when its result is asked for (once)."""

    def __init__(self, fn: Callable, args: tuple, kwargs: dict) -> None:
        self.fn, self.args, self.kwargs, self.done = fn, args, kwargs, False

    def result(self) -> Any:
        if not self.done:
            fn, args, kwargs = self.fn, self.args, self.kwargs
            self.fn = self.args = self.kwargs = None  # free the inputs; a failure is raised once
            self.done = True
            self._value = fn(*args, **kwargs)
        return self._value


class Serial:
    """``executor=None``: each piece runs in this process when its result is collected, in order."""

    def submit(self, fn: Callable, *args: Any, **kwargs: Any) -> Deferred:
        return Deferred(fn, args, kwargs)


def resolve(executor: Any, who: str) -> Any:
    """The executor to use (:class:`Serial` for None), after checking it has a ``submit`` method."""
    if executor is None:
        return Serial()
    if isinstance(executor, str) or not callable(getattr(executor, "submit", None)):
        raise TypeError(f"{who}: executor must have a submit(fn, *args) method returning futures (a "
                        "concurrent.futures pool, loky, mpi4py.futures, a dask.distributed Client, ...) or be None "
                        f"to run here; got {type(executor).__name__} {executor!r:.60}")
    return executor


def crosses_processes(executor: Any) -> bool:
    """Whether work sent to ``executor`` may run in another process (every executor but ours and threads)."""
    return not isinstance(executor, (Serial, ThreadPoolExecutor))


def check_picklable(executor: Any, who: str, **objects: Any) -> None:
    """Pickle ``objects`` with the standard library when ``executor`` sends work to other processes, and say
    which one fails and what to do: process executors can only send module-level functions and classes."""
    if not crosses_processes(executor):
        return
    for name, obj in objects.items():
        try:
            pickle.dumps(obj)
        except Exception as e:  # PicklingError, AttributeError ("Can't pickle local object"), TypeError
            raise TypeError(
                f"{who}: {name} cannot be pickled ({type(e).__name__}: {e}), so it cannot be sent to the "
                f"{type(executor).__name__}'s worker processes. Define it at the top level of a module (a def, or "
                "an instance of a module-level class holding its data), not as a lambda or a function defined "
                "inside another function; or use executor=None or a ThreadPoolExecutor, which need no pickling."
            ) from e


def prepare(executor: Any) -> None:
    """Before fanning out to other processes: compile every numba kernel here, so that the workers load them
    from numba's on-disk cache instead of all compiling (and writing the cache) at once."""
    if crosses_processes(executor):
        warmup()


def gather(futures: list, on_done: Callable[[int, Any, BaseException | None], None]) -> None:
    """Wait for every future, calling ``on_done(index, value, error)`` in this thread as each finishes: in the
    order they finish when the futures report it (``add_done_callback``), else in submission order."""
    if all(callable(getattr(f, "add_done_callback", None)) for f in futures):
        finished: queue.SimpleQueue = queue.SimpleQueue()
        for i, f in enumerate(futures):
            f.add_done_callback(lambda _f, i=i: finished.put(i))
        order = (_next(finished) for _ in futures)
    else:
        order = iter(range(len(futures)))
    for i in order:
        try:
            value, error = futures[i].result(), None
        except Exception as e:  # the work raised, or the executor failed to run it
            value, error = None, e
        on_done(i, value, error)


def _next(q: queue.SimpleQueue) -> int:
    while True:  # a timeout keeps Ctrl-C responsive while waiting
        try:
            return q.get(timeout=0.2)
        except queue.Empty:
            continue


def cancel(futures: list) -> None:
    """Cancel what has not started (best effort: not every executor can)."""
    for f in futures:
        c = getattr(f, "cancel", None)
        if callable(c):
            try:
                c()
            except Exception:  # cancelling is a courtesy; the interrupt is what matters
                pass


def map_all(executor: Any, fn: Callable, argslist: list, who: str) -> list:
    """``[fn(*args) for args in argslist]`` on ``executor``, in order; the first failure (by index) is raised
    once everything has finished."""
    ex = resolve(executor, who)
    prepare(ex)
    futures = [ex.submit(fn, *args) for args in argslist]
    out: list = [None] * len(futures)
    errors: dict = {}

    def done(i: int, value: Any, error: BaseException | None) -> None:
        out[i] = value
        if error is not None:
            errors[i] = error

    try:
        gather(futures, done)
    except BaseException:
        cancel(futures)
        raise
    if errors:
        raise errors[min(errors)]
    return out
