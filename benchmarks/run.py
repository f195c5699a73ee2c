"""tinyad benchmarks: every figure is a ratio measured in this one process run.

    python3 benchmarks/run.py            # all sections
    python3 benchmarks/run.py --quick    # fewer repetitions, T up to 100
    python3 benchmarks/run.py --write-docs   # also write the figures into docs/performance.md

Each tinyad figure is divided by a hand-written NumPy implementation of the same math (benchmarks/
workloads.py, whose numbers tests/test_benchmark_baselines.py holds equal to tinyad's and the
reference's). Absolute times on a shared 2-core machine are noise; the ratios are the figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the benchmark helpers beside this script
import quiet  # noqa: E402

if __name__ == "__main__":
    quiet.ensure()

import docsection  # noqa: E402
import numpy as np  # noqa: E402
import workloads as w  # noqa: E402

import tinyad  # noqa: E402
from tinyad import hyper, optim  # noqa: E402
from tinyad.core.forward import Dual, ForwardTrace  # noqa: E402
from tinyad.core.trace import opened  # noqa: E402

H0 = {"lr": 0.1, "momentum": 0.9, "wd": 1e-4}
RESULTS: list[tuple[str, str, str]] = []  # (section, figure, target/verdict)


def best_time(f, n: int, reps: int) -> float:
    """Best-of-reps mean seconds per call (the minimum is the least noisy estimate on a shared machine)."""
    f()
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(n):
            f()
        out.append((time.perf_counter() - t) / n)
    return min(out)


def ratio_times(f_a, f_b, n: int, reps: int) -> tuple[float, float]:
    """Best-of-reps seconds per call of f_a and f_b, measured alternately so that drift in the machine's
    load hits both alike."""
    f_a()
    f_b()
    ta, tb = [], []
    for _ in range(reps):
        for f, out in ((f_a, ta), (f_b, tb)):
            t = time.perf_counter()
            for _ in range(n):
                f()
            out.append((time.perf_counter() - t) / n)
    return min(ta), min(tb)


def report(section: str, text: str, verdict: str = "") -> None:
    print(f"  {text}" + (f"   [{verdict}]" if verdict else ""))
    RESULTS.append((section, text, verdict))


def check(value: float, limit: float) -> str:
    return f"target <= {limit:g}: {'met' if value <= limit else 'NOT met'}"


def check_at_least(value: float, limit: float) -> str:
    return f"target >= {limit:g}: {'met' if value >= limit else 'NOT met'}"


# ---- steps ------------------------------------------------------------------------------------------
def bench_steps(reps: int) -> dict:
    print("\nplain and hybrid training steps (MLP 64-128-10, batch 100, float64)")
    d, p0 = w.setup()
    X, Y = w.batch(d, 0)
    v0 = {k: np.zeros_like(p0[k]) for k in p0}
    opt = optim.sgd(0.1, 0.9, weight_decay=1e-4)
    s0 = opt.init(p0)
    t_np, t_ta = ratio_times(lambda: w.numpy_step(p0, v0, X, Y, 0.1, 0.9, 1e-4),
                             lambda: w.tinyad_step(p0, s0, X, Y, opt), 200, reps)
    report("steps", f"hand NumPy plain step {t_np * 1e3:.3f} ms; tinyad {t_ta * 1e3:.3f} ms; "
           f"ratio {t_ta / t_np:.2f}", check(t_ta / t_np, 1.3))

    tz = {k: np.zeros((3,) + p0[k].shape) for k in p0}
    tr = ForwardTrace(3)
    with opened(tr):
        hd = {k: Dual(v, np.eye(3)[i], tr) for i, (k, v) in enumerate(H0.items())}
        optd = optim.sgd(hd["lr"], hd["momentum"], weight_decay=hd["wd"])
        rng = np.random.default_rng(0)
        pd = {k: Dual(p0[k], rng.standard_normal((3,) + p0[k].shape) * 1e-3, tr) for k in p0}
        sd = optd.init(pd)
        t_npf, t_taf = ratio_times(lambda: w.numpy_fwd_step(p0, tz, v0, tz, X, Y, 0.1, 0.9, 1e-4),
                                   lambda: w.tinyad_step(pd, sd, X, Y, optd), 100, reps)
    report("steps", f"hand NumPy forward-mode step (k=3) {t_npf * 1e3:.3f} ms = {t_npf / t_np:.2f}x its plain step; "
           f"tinyad hybrid step {t_taf * 1e3:.3f} ms; ratio {t_taf / t_npf:.2f}", check(t_taf / t_npf, 1.2))
    report("steps", f"tinyad hybrid step (k=3 tangents) = {t_taf / t_ta:.2f}x tinyad plain step")
    return {"t_np": t_np}


# ---- online hypergradient descent --------------------------------------------------------------------
def bench_online(reps: int) -> None:
    print("\nonline tuning: one training step (gradient + update) of the MLP, divided by a plain SGD step")
    d, p0 = w.setup()
    X, Y = w.batch(d, 0)
    opts = {
        "sgd_hd": optim.sgd_hd(0.01, 1e-3),
        "height-2 stack sgd/sgd": optim.hyper(optim.sgd(0.01), optim.sgd(1e-3)),
        "height-3 stack sgd/sgd/sgd": optim.hyper(optim.hyper(optim.sgd(0.01), optim.sgd(1e-3)), optim.sgd(1e-6)),
    }
    aims = {"sgd_hd": 1.2, "height-2 stack sgd/sgd": 2.0}

    def stepper(opt):
        state = {"p": p0, "s": opt.init(p0)}
        for _ in range(2):  # past the first step, so the hypergradient is taken
            state["p"], state["s"] = w.tinyad_step(state["p"], state["s"], X, Y, opt)
        return lambda: w.tinyad_step(state["p"], state["s"], X, Y, opt)

    plain = stepper(optim.sgd(0.01))
    for name, opt in opts.items():
        t_plain, t = ratio_times(plain, stepper(opt), 100, reps)
        aim = aims.get(name)
        report("online", f"{name}: {t / t_plain:.2f}x a plain sgd step ({t * 1e3:.3f} vs {t_plain * 1e3:.3f} ms)",
               check(t / t_plain, aim) if aim else "")


# ---- exactly reversible learning ------------------------------------------------------------------------
def bench_reversible() -> None:
    print("\nexactly reversible learning (MLP 64-50-10, SGD momentum 0.9): memory of the reversible run vs "
          "storing the trajectory (benchmarks/reversible_memory.py)")
    import reversible_memory as rm

    run, p0 = rm.mlp_run(2)
    run.forward(p0)  # compile the kernels outside the timing
    for T in (100, 1000):
        run, p0 = rm.mlp_run(T)
        t0 = time.perf_counter()
        state, layout = run.forward(p0)
        t_fwd = time.perf_counter() - t0
        t0 = time.perf_counter()
        run.backward(state, layout)
        t_back = time.perf_counter() - t0
        st = run.memory_stats(state, layout)
        report("reversible", f"{rm.describe(T, st)}; forward {t_fwd:.2f} s, exact backward {t_back:.2f} s",
               check_at_least(st["ratio_vs_float32_w"], 180) if T == 1000 else "")


# ---- whole hypergradient ----------------------------------------------------------------------------
def bench_hypergradient(Ts, t_np: float) -> None:
    print("\nwhole hypergradient d(val loss after T steps)/d(lr, momentum, wd)")
    d, p0 = w.setup()
    mem = {}
    for T in Ts:
        run = lambda h, T=T: w.tinyad_run(h, d, p0, T)  # noqa: E731
        t0 = time.perf_counter()
        hyper.hypergrad(run, H0)
        t_f = time.perf_counter() - t0
        m_f = w.peak_memory(lambda: hyper.hypergrad(run, H0))
        t0 = time.perf_counter()
        hyper.hypergrad(run, H0, mode="reverse")
        t_r = time.perf_counter() - t0
        m_r = w.peak_memory(lambda: hyper.hypergrad(run, H0, mode="reverse"))
        mem[T] = (m_f, m_r)
        report("hypergradient", f"T={T:>5}: forward {t_f:7.3f} s ({t_f / (T * t_np):5.1f}x T hand plain steps), "
               f"peak {m_f / 2**20:7.2f} MiB | reverse {t_r:7.3f} s, peak {m_r / 2**20:8.2f} MiB")
    lo, hi = min(Ts), max(Ts)
    gf, gr = mem[hi][0] / mem[lo][0], mem[hi][1] / mem[lo][1]
    report("hypergradient", f"peak memory T={hi} / T={lo}: forward (hybrid) {gf:.2f}x, reverse {gr:.1f}x",
           check(gf, 1.1))


# ---- dispatch overhead ------------------------------------------------------------------------------
def bench_dispatch(reps: int) -> None:
    print(f"\ndispatch overhead: value_and_grad of a chain of {w.CHAIN} elementwise ops, length-10 vector")
    x = np.linspace(0.1, 1.0, 10)
    vg = tinyad.value_and_grad(w.chain)
    t_hand, t_arr = (t / w.CHAIN for t in ratio_times(lambda: w.hand_chain(x), lambda: vg(x), 20, reps))
    t_flt = best_time(lambda: vg(0.5), 20, reps) / w.CHAIN
    t_dual = best_time(lambda: tinyad.jvp(vg, (x,), (np.ones(10),)), 10, reps) / w.CHAIN
    report("dispatch", f"hand NumPy {t_hand * 1e6:.2f} us/op; tinyad arrays {t_arr * 1e6:.2f} us/op "
           f"(ratio {t_arr / t_hand:.2f})", check(t_arr / t_hand, 2.0))
    report("dispatch", f"tinyad float in a box {t_flt * 1e6:.2f} us/op; Duals under a tape "
           f"(forward-over-reverse) {t_dual * 1e6:.2f} us/op")


# ---- first call -------------------------------------------------------------------------------------
FIRST_CALL = """
import sys, time; t0 = time.perf_counter()
import numpy as np, tinyad
from tinyad import hyper
sys.path.insert(0, {here!r})
import workloads as w
d, p0 = w.setup()
t1 = time.perf_counter()
hyper.hypergrad(lambda h: w.tinyad_run(h, d, p0, {T}), {{"lr": 0.1, "momentum": 0.9, "wd": 1e-4}})
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def first_call(T: int, cache: str) -> tuple[float, float]:
    """(import + data seconds, seconds to the first T-step hypergradient) in a fresh process."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache)
    code = FIRST_CALL.format(here=str(HERE), T=T)
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    t_imp, t_call = map(float, r.stdout.split())
    return t_imp, t_call


def bench_first_call() -> dict:
    print("\nfirst call: a fresh process imports tinyad and computes its first T=100 hypergradient "
          "(numba compiles the kernels on first use, or loads them from its on-disk cache)")
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        for label in ("cold", "warm"):
            t_imp, t_call = first_call(100, cache)
            out[label] = t_call
            report("first call", f"{label} numba cache: import + data {t_imp:.2f} s; first T=100 hypergradient "
                   f"{t_call:.2f} s")
        t_imp, t_one = first_call(1, cache)
        report("first call", f"first call (a T=1 hypergradient) after import, warm cache: {t_one:.2f} s",
               check(t_one, 2.0))
    return out


# ---- other libraries, when installed ----------------------------------------------------------------
def bench_others(t_np: float, first: dict) -> None:
    print("\nother AD systems on the same work (installed ones only: pip install 'tinyad[bench]')")
    import others

    d, p0 = w.setup()
    j = others.jax_hypergradient(d, p0, 100, H0)
    if j is None:
        report("others", "JAX: not installed, skipped")
    else:
        first_jax, later_jax, _ = j
        report("others", f"JAX jit(jacfwd), T=100: first result {first_jax:.2f} s (compilation included), then "
               f"{later_jax / 100 / t_np:.1f}x a hand NumPy plain step per inner step")
        report("others", f"time to first T=100 hypergradient, compilation included: tinyad with an empty numba "
               f"cache {first['cold']:.2f} s vs JAX {first_jax:.2f} s: ratio {first['cold'] / first_jax:.2f}",
               check(first["cold"] / first_jax, 1.0))
        report("others", f"the same in any later process (tinyad's compiled kernels on disk; JAX compiles again): "
               f"tinyad {first['warm']:.2f} s vs JAX {first_jax:.2f} s: ratio {first['warm'] / first_jax:.2f}",
               check(first["warm"] / first_jax, 1.0))
    for name, how, work in (("autograd", "make_jvp", others.autograd_hypergradient),
                            ("PyTorch eager", "torch.func.jvp of grad", others.torch_hypergradient)):
        res = work(d, p0, 10, H0)
        if res is None:
            report("others", f"{name}: not installed, skipped")
        else:
            report("others", f"{name} forward-over-reverse ({how}, 3 passes), T=10: "
                   f"{res[0] / 10 / t_np:.1f}x a hand NumPy plain step per inner step")


def write_docs(path: Path) -> None:
    """The figures, grouped by section, into the "engine" section of docs/performance.md (the verdicts
    against the project's targets stay on the console)."""
    titles = {"steps": "Training steps, eager", "dispatch": "Cost per operation, eager",
              "online": "Online hypergradient descent and stacks: cost per step",
              "reversible": "Exactly reversible learning: memory and time",
              "hypergradient": "Whole hypergradients, eager: time and peak memory", "first call": "Start-up",
              "others": "Other libraries on the same work"}
    lines = []
    for section in dict.fromkeys(sec for sec, _, _ in RESULTS):
        lines += [f"**{titles.get(section, section)}**", ""]
        lines += [f"- {text}" for sec, text, _ in RESULTS if sec == section] + [""]
    lines.append(f"Measured by `python3 benchmarks/run.py` on {docsection.machine()}.")
    docsection.replace_section(path, "engine", "\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args()
    reps = 3 if args.quick else 7
    Ts = (10, 100) if args.quick else (10, 100, 1000)
    print(f"tinyad {tinyad.__version__} benchmarks, {os.cpu_count()} cores, NumPy {np.__version__}; {quiet.describe()}")
    t_np = bench_steps(reps)["t_np"]
    bench_dispatch(reps)
    bench_online(reps)
    bench_reversible()
    bench_hypergradient(Ts, t_np)
    first = bench_first_call()
    bench_others(t_np, first)
    if args.write_docs:
        write_docs(HERE.parent / "docs" / "performance.md")


if __name__ == "__main__":
    main()
