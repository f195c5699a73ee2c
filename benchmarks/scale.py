"""Many trials at once: 8 hyperparameter searches on 2 worker processes vs one after another.

    python3 benchmarks/scale.py                     # 8 trials, 2 workers, T = 60 inner steps, 3 outer steps
    python3 benchmarks/scale.py --trials 4 --T 10   # smaller

The workload is the digits MLP demo's (64-128-10, SGD with momentum and weight decay, forward-mode
hypergradients d/d(lr, momentum, weight decay)), from 8 random starting points: random restarts, the
commonest use of tinyad.hyper.optimize_many. The figure is the wall-time ratio parallel / serial (2 workers
can at best halve it: 0.5). Kernels are compiled before either is timed. The parallel time is given twice:
with a pool already started (the usual case: a long-lived pool or cluster), and including starting the
worker processes (each imports numpy, numba and tinyad).

As docs/scale.md advises, the script runs (and its workers inherit) single-threaded BLAS, so that two
workers do not fight over two cores, and glibc malloc tunables that stop large temporary arrays from being
returned to the system and faulted in again every step. It re-executes itself with them when they are not
already set.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import quiet  # noqa: E402

if __name__ == "__main__":
    quiet.ensure()
sys.path.insert(0, str(ROOT))  # measure this checkout's tinyad (the workers inherit sys.path)

import numpy as np  # noqa: E402

from tinyad import datasets, hyper, kernels, nn, optim  # noqa: E402
from tinyad.demos.mlp import make_run  # noqa: E402


def starting_points(n: int, seed: int = 0) -> list[dict]:
    """Random restarts: lr log-uniform in [0.003, 0.3], momentum in [0.3, 0.9], weight decay in [1e-4, 1e-2]."""
    r = np.random.default_rng(seed)
    return [{"lr": float(10 ** r.uniform(-2.5, -0.5)), "momentum": float(r.uniform(0.3, 0.9)),
             "weight_decay": float(10 ** r.uniform(-4, -2))} for _ in range(n)]


def ready(run, h) -> int:
    """Run in each worker before timing, so that the pool is as one in use: imports done, kernels loaded, one
    hypergradient taken (the first in a process pays for loading and first-call set-up)."""
    kernels.warmup()
    hyper.hypergrad(run, h)
    time.sleep(0.5)  # keep this worker busy so that the other one gets the other call
    return os.getpid()


def main(argv: list[str] | None = None) -> float:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--T", type=int, default=60, help="inner training steps per outer step")
    ap.add_argument("--steps", type=int, default=3, help="outer steps per trial")
    ap.add_argument("--repeat", type=int, default=3, help="timings of each, the median reported")
    args = ap.parse_args(argv)

    run = make_run(datasets.digits(), nn.init_mlp((64, 128, 10), seed=0), args.T)
    inits = starting_points(args.trials)
    opt = optim.adam(0.1)
    ready(make_run(datasets.digits(), nn.init_mlp((64, 128, 10), seed=0), 1), inits[0])  # the same, here
    print(f"{args.trials} trials of hyper.optimize on the digits MLP (T = {args.T} inner steps, {args.steps} outer "
          f"steps each), {args.workers} worker processes (spawn), {os.cpu_count()} cores")
    print("environment, here and in the workers: " + " ".join(f"{k}={os.environ.get(k)}" for k in quiet.ENV))
    if hasattr(os, "getloadavg"):
        print(f"load average before the run: {os.getloadavg()[0]:.2f} (anything else running competes for the "
              "cores; the parallel figure is only meaningful on an otherwise idle machine)")

    small = make_run(datasets.digits(), nn.init_mlp((64, 128, 10), seed=0), 1)
    serial_times, warm_times = [], []
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        pids = {f.result() for f in [pool.submit(ready, small, inits[0]) for _ in range(args.workers)]}
        t_cold = None
        for r in range(args.repeat):  # serial and parallel in turn, so that a passing load hits both alike
            t = time.perf_counter()
            parallel = hyper.optimize_many(run, inits, opt, args.steps, executor=pool, progress=False)
            warm_times.append(time.perf_counter() - t)
            if t_cold is None:
                t_cold = time.perf_counter() - t0
            t = time.perf_counter()
            serial = hyper.optimize_many(run, inits, opt, args.steps, progress=False)
            serial_times.append(time.perf_counter() - t)
    t_serial, t_warm = float(np.median(serial_times)), float(np.median(warm_times))

    same = all(a.history == b.history and a.hparams == b.hparams for a, b in zip(serial, parallel))
    best = min(serial, key=lambda r: r.loss)
    print(f"medians of {args.repeat} runs each (all: serial {', '.join(f'{t:.2f}' for t in serial_times)} s; "
          f"parallel {', '.join(f'{t:.2f}' for t in warm_times)} s)")
    print(f"serial                      {t_serial:7.2f} s")
    print(f"{args.workers} workers, pool started    {t_warm:7.2f} s   ratio {t_warm / t_serial:.2f}  (target <= 0.6)")
    print(f"{args.workers} workers, incl. start-up  {t_cold:7.2f} s   ratio {t_cold / t_serial:.2f}  "
          f"(the first parallel run, {len(pids)} workers started)")
    print(f"same Results serial and parallel: {'yes' if same else 'NO'}; best validation loss {best.loss:.4f} "
          f"(lr {best.hparams['lr']:.3g}, momentum {best.hparams['momentum']:.3f}, "
          f"weight decay {best.hparams['weight_decay']:.2g})")
    return t_warm / t_serial


if __name__ == "__main__":
    main()
