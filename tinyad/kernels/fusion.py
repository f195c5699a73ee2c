"""Generated numba kernels for fused runs of elementwise operations: one pass over memory, no temporaries.

A kernel is described by :class:`LoopNest`: the number of loop dimensions, its inputs (arrays indexed by some
of the loop variables — the broadcast pattern — or scalars), a body of scalar assignments, and its outputs
(arrays indexed the same way). The source is generated, written to a file in a cache directory named by
its hash, imported, and compiled with numba's on-disk cache, so a kernel is compiled once per machine; where
no directory is writable it is compiled in memory instead. Kernels are specialised on the broadcast pattern,
not on sizes: the loop bounds are arguments.

This module knows nothing about differentiation or programs (``tinyad.core.fusion`` decides what to fuse).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from numba import njit

_COMPILED: dict[str, Callable] = {}


@dataclass(frozen=True)
class LoopNest:
    """``ndim`` nested loops; ``inputs``: per input, the loop dimensions indexing its axes (a tuple with -1
    for a broadcast axis of length 1), or None for a scalar; ``body``: ``(name, expression)`` assignments in
    order, reading ``x0, x1, ...`` (the inputs) and earlier names; ``outputs``: per output array, the name it
    stores and its index pattern like an input's."""

    ndim: int
    inputs: tuple
    body: tuple
    outputs: tuple

    def source(self, name: str) -> str:
        loops = [f"i{d}" for d in range(self.ndim)]
        args = [f"a{k}" for k in range(len(self.inputs))] + [f"o{k}" for k in range(len(self.outputs))]
        args += [f"n{d}" for d in range(self.ndim)]
        lines = ["import numpy as np", "from numba import njit", "", "",
                 '@njit(cache=True, error_model="numpy")', f"def {name}({', '.join(args)}):"]
        for k, pattern in enumerate(self.inputs):
            if pattern is None:
                lines.append(f"    x{k} = a{k}")
        indent = "    "
        for d in range(self.ndim):
            lines.append(f"{indent}for i{d} in range(n{d}):")
            indent += "    "
        for k, pattern in enumerate(self.inputs):
            if pattern is not None:
                lines.append(f"{indent}x{k} = a{k}[{_index(pattern, loops)}]")
        for target, expr in self.body:
            lines.append(f"{indent}{target} = {expr}")
        for k, (src, pattern) in enumerate(self.outputs):
            lines.append(f"{indent}o{k}[{_index(pattern, loops)}] = {src}")
        return "\n".join(lines) + "\n"


def _index(pattern: tuple, loops: list) -> str:
    if not pattern:
        return "()"
    return ", ".join("0" if d < 0 else loops[d] for d in pattern) + ("," if len(pattern) == 1 else "")


def compile_nest(nest: LoopNest) -> Callable:
    """The compiled kernel of ``nest`` (from the in-process table, the disk cache, or freshly compiled)."""
    digest = hashlib.sha1(repr(nest).encode()).hexdigest()[:16]
    fn = _COMPILED.get(digest)
    if fn is None:
        fn = _COMPILED[digest] = _load(f"fused_{digest}", nest.source(f"fused_{digest}"))
    return fn


def cache_dir() -> Path | None:
    """Where generated kernels live: $TINYAD_CACHE_DIR, else the user's cache directory, else a temporary
    directory; None if none is writable."""
    candidates = [os.environ.get("TINYAD_CACHE_DIR"),
                  os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tinyad"),
                  os.path.join(tempfile.gettempdir(), f"tinyad-{os.getuid() if hasattr(os, 'getuid') else 'user'}")]
    for c in candidates:
        if not c:
            continue
        path = Path(c) / "fused"
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = path / f".probe{os.getpid()}"
            probe.write_text("")
            probe.unlink()
            return path
        except OSError:
            continue
    return None


def _load(name: str, source: str) -> Callable:
    folder = cache_dir()
    if folder is not None:
        path = folder / f"{name}.py"
        try:
            if not path.exists() or path.read_text() != source:
                tmp = path.with_suffix(f".{os.getpid()}.tmp")
                tmp.write_text(source)
                os.replace(tmp, path)
            spec = importlib.util.spec_from_file_location(f"tinyad_fused.{name}", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            sys.modules[spec.name] = module
            return getattr(module, name)
        except (OSError, RuntimeError):  # unwritable after all, or numba refused the cache: compile in memory
            pass
    env: dict = {"np": np, "njit": njit}
    exec(compile(source.replace("cache=True", "cache=False"), f"<tinyad fused {name}>", "exec"), env)  # noqa: S102
    return env[name]
