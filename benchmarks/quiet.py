"""The environment every timing runs in: import this first, before NumPy.

glibc's malloc otherwise maps and unmaps large arrays depending on a process's history (identical jobs
differ by up to 1.4x), and multi-threaded BLAS/XLA make timings depend on what else the machine runs. glibc
reads its tunables when a process starts and BLAS its thread count when it loads, so a script that is not
already running in this environment starts itself again in it (the PYTHONPATH is kept, with this checkout
first, so that worker processes find the same tinyad).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {
    "GLIBC_TUNABLES": "glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=2147483648",
    "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false", "JAX_PLATFORMS": "cpu",
}


def ensure() -> None:
    """Re-run the current script in ENV unless it already runs there."""
    if any(os.environ.get(k) != v for k, v in ENV.items()):
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **ENV, "PYTHONPATH": path})


def describe() -> str:
    return "single-threaded BLAS/XLA, GLIBC_TUNABLES=" + ENV["GLIBC_TUNABLES"]
