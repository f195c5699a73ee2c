"""What the outer loop returns and keeps: :class:`Result`, its checkpoint file, and its JSON and CSV exports.

A Result is plain data (floats, arrays, dicts, and the outer optimizer, a plain object), so it pickles with
the standard library: that is the checkpoint format (:meth:`Result.save`, :meth:`Result.load`) and how a
trial's Result comes back from a worker process. JSON and CSV are for reading results elsewhere; they
keep the numbers, not the loop state, so only a pickled Result can be resumed.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import pickle
import tempfile
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ..core.tree import flatten, leaf_names
from ..plotting import plot_history

FORMAT = "tinyad.hyper.Result"
TREES = ("hparams", "hypergrad", "hypergrad_unconstrained")  # the per-hyperparameter entries of a history row


@dataclass(eq=False)
class Result:
    """What :func:`tinyad.hyper.optimize` returns.

    * ``hparams``, ``loss``: the last hyperparameters evaluated (the best known good ones if the loop stopped
      at a non-finite hypergradient) and their validation loss.
    * ``history``: one row per evaluated outer step, a dict with
        - ``"step"``: 0, 1, ...; row k is evaluated after k updates of the hyperparameters;
        - ``"hparams"``: the hyperparameters evaluated, in the structure they were given;
        - ``"loss"``: ``run(hparams)``;
        - ``"hypergrad"``: d loss / d hyperparameter, in the hyperparameters' own units (d loss / d lr), the
          numbers :func:`tinyad.hyper.hypergrad` returns at ``hparams``;
        - ``"hypergrad_unconstrained"``: d loss / d u, where the outer optimizer steps: u = log(lr) for a
          'positive' hyperparameter (= lr * d loss / d lr), u = logit(momentum) for a 'unit' one
          (= momentum (1 - momentum) * d loss / d momentum), u = h for a 'real' one.
    * ``stopped``: None if every step ran; ``"interrupted"`` after Ctrl-C; ``"error: Type: message"`` when
      ``run`` or the callback raised (the exception is re-raised with this Result as ``err.result``); or a
      message starting ``"outer step k: ..."`` naming a non-finite hypergradient.
    * ``constraints``: the constraint each hyperparameter was tuned under, by name ('real', 'positive', 'unit').
    * ``seed``: the seed ``run`` was given (an int, or a numpy SeedSequence as ``{"entropy", "spawn_key"}``:
      ``numpy.random.SeedSequence(**result.seed)`` rebuilds it), or None.
    * ``warnings``: ``(category, message)`` of each warning the loop issued (they travel back from workers).
    * ``state``: what ``optimize(..., resume=result)`` continues from: the unconstrained hyperparameters, the
      outer optimizer and its state, the number of updates made.
    """

    hparams: Any
    loss: float
    history: list = field(default_factory=list)
    stopped: str | None = None
    constraints: dict = field(default_factory=dict)
    seed: Any = None
    warnings: list = field(default_factory=list)
    state: dict | None = None

    def __repr__(self) -> str:
        return (f"Result(loss={self.loss!r}, hparams={self.hparams!r}, steps={self.updates}, "
                f"stopped={self.stopped!r})")

    def __setstate__(self, d: dict) -> None:  # a Result pickled by an older version: new fields take defaults
        for f in fields(self):
            if f.name not in d:
                d[f.name] = f.default_factory() if callable(f.default_factory) else f.default
        self.__dict__.update(d)

    @property
    def updates(self) -> int:
        """How many outer updates of the hyperparameters were made."""
        if self.state is not None:
            return self.state["updates"]
        return max(len(self.history) - 1, 0)

    @property
    def names(self) -> list[str]:
        """The hyperparameters' names, as in ``constraints`` and in the JSON/CSV columns."""
        return leaf_names(flatten(self.hparams)[1])

    # ---- plots ----------------------------------------------------------------------------------------------
    def plot(self, path: str | None = None, title: str = "hyperparameter optimisation") -> Any:
        """Loss and each hyperparameter against the outer step (needs matplotlib). Returns a matplotlib
        ``Figure`` made without pyplot, so the user's backend is left as it was."""
        if not self.history:
            raise ValueError("this Result has no evaluated step to plot")
        return plot_history(self.history, path, title)

    # ---- checkpoints --------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write this Result to ``path`` (pickle) atomically: a temporary file in the same directory is
        written and fsynced, then renamed over ``path``, so a reader (or a restart after a crash) sees the
        previous version or this one, never half of one."""
        write_atomic(path, pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Result":
        """Read a Result written by :meth:`save` (or by ``optimize(..., checkpoint=path)``).

        This unpickles the file: unpickling runs code named in the file, so load only files you (or a
        process you trust) wrote, never ones from an untrusted source."""
        with open(path, "rb") as f:
            head = f.read(1)
            f.seek(0)
            if head in (b"{", b"[") or not head:
                raise ValueError(f"{os.fspath(path)!r} is not a Result written by Result.save"
                                 + (" (it looks like JSON: use Result.from_json)" if head else " (it is empty)"))
            try:
                obj = pickle.load(f)
            except (pickle.UnpicklingError, EOFError) as e:
                raise ValueError(f"{os.fspath(path)!r} is not a Result written by Result.save "
                                 f"({type(e).__name__}: {e})") from None
        if not isinstance(obj, cls):
            raise TypeError(f"{os.fspath(path)!r} holds a {type(obj).__name__}, not a tinyad.hyper.Result")
        return obj

    # ---- exports ----------------------------------------------------------------------------------------
    def to_json(self, path: str | os.PathLike | None = None) -> str:
        """The Result as JSON (returned, and written to ``path`` if given).

        Hyperparameters and hypergradients are objects keyed by leaf name ("lr", "opt.momentum", "lrs[0]"),
        arrays as nested lists, with their shapes under "shapes". NaN and infinities are written as null.
        The loop state is not included (resume from a pickled Result: :meth:`save`/:meth:`load`)."""
        doc = {
            "format": FORMAT, "version": 1, "names": self.names,
            "shapes": {n: list(np.shape(x)) for n, x in zip(self.names, flatten(self.hparams)[0])},
            "hparams": _by_name(self.hparams), "loss": self.loss, "stopped": self.stopped,
            "constraints": self.constraints, "seed": self.seed, "warnings": [list(w) for w in self.warnings],
            "history": [{k: (_by_name(v) if k in TREES else v) for k, v in row.items()} for row in self.history],
        }
        text = json.dumps(_jsonable(doc), indent=1, allow_nan=False)
        if path is not None:
            write_atomic(path, text.encode())
        return text

    @classmethod
    def from_json(cls, source: str | os.PathLike) -> "Result":
        """A Result from :meth:`to_json`'s text (or a path to it). The hyperparameter containers come back as
        flat dicts keyed by leaf name, arrays as arrays; it has no loop state, so it cannot be resumed."""
        if isinstance(source, str) and source.lstrip().startswith("{"):
            text = source
        else:
            try:
                with open(source, encoding="utf-8") as f:
                    text = f.read()
            except UnicodeDecodeError:
                raise ValueError(f"{os.fspath(source)!r} is not JSON (a Result saved with Result.save? read it with "
                                 "Result.load)") from None
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"not a Result's JSON: {e}") from None
        if doc.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} JSON document (format {doc.get('format')!r})")
        shapes = {n: tuple(s) for n, s in doc["shapes"].items()}

        def tree(d: dict) -> dict:
            return {n: _number(d[n], shapes[n]) for n in doc["names"]}

        history = [{k: (tree(v) if k in TREES else _number(v, ()) if k == "loss" else v) for k, v in row.items()}
                   for row in doc["history"]]
        seed = doc["seed"]
        if isinstance(seed, dict):
            seed = {"entropy": seed["entropy"], "spawn_key": tuple(seed["spawn_key"])}
        return cls(tree(doc["hparams"]), _number(doc["loss"], ()), history, doc["stopped"], doc["constraints"],
                   seed, [tuple(w) for w in doc["warnings"]], None)

    def to_csv(self, path: str | os.PathLike | None = None, arrays: str = "expand") -> str:
        """One row per evaluated outer step (returned, and written to ``path`` if given).

        Columns: ``step``, ``loss``, each hyperparameter by leaf name, then ``hypergrad:NAME`` (d loss / d h)
        and ``hypergrad_unconstrained:NAME`` (d loss / d u) for each. An array hyperparameter is expanded into
        one column per entry, ``NAME[i,j]`` (``arrays="expand"``), or summarised by its mean, ``NAME[mean]``
        (``arrays="mean"``). Numbers are written with full precision."""
        if arrays not in ("expand", "mean"):
            raise ValueError(f"to_csv: arrays must be 'expand' or 'mean', got {arrays!r}")
        names = self.names
        shapes = [np.shape(x) for x in flatten(self.hparams)[0]]
        cells = []
        for n, shape in zip(names, shapes):
            if shape == ():
                cells.append([n])
            elif arrays == "mean":
                cells.append([f"{n}[mean]"])
            else:
                cells.append([f"{n}[{','.join(map(str, i))}]" for i in np.ndindex(*shape)])
        columns = ["step", "loss"]
        for prefix in ("", "hypergrad:", "hypergrad_unconstrained:"):
            columns += [prefix + c for group in cells for c in group]
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(columns)
        for row in self.history:
            values = [row["step"], row["loss"]]
            for key in TREES:
                for x in flatten(row[key])[0]:
                    a = np.asarray(x, dtype=float)
                    values += [float(a)] if a.shape == () else [float(a.mean())] if arrays == "mean" else \
                        [float(v) for v in a.ravel()]
            w.writerow([repr(v) if isinstance(v, float) else v for v in values])
        text = out.getvalue()
        if path is not None:
            write_atomic(path, text.encode())
        return text


load_result = Result.load


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Replace ``path`` by ``data`` atomically: temp file in the same directory, fsync, ``os.replace``."""
    path = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    try:  # make the rename itself durable (POSIX; not possible everywhere)
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _by_name(tree: Any) -> dict:
    leaves, td = flatten(tree)
    return dict(zip(leaf_names(td), leaves))


def _jsonable(x: Any) -> Any:
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        return float(x) if math.isfinite(x) else None
    return x


def _number(x: Any, shape: tuple) -> Any:
    if shape == ():
        return math.nan if x is None else float(x)
    return np.array(x, dtype=float).reshape(shape)
