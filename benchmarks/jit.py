"""tinyad.jit against hand-written NumPy and JAX on the same work, every figure a ratio measured in this run.

    python3 benchmarks/jit.py            # all figures (a few minutes)
    python3 benchmarks/jit.py --quick    # shorter runs
    python3 benchmarks/jit.py --write-docs   # also write the side-by-side table into docs/performance.md

Work: the digits MLP 64-128-10 (tanh, softmax cross-entropy, float64, batch 100) trained by SGD with momentum
and weight decay. Each ratio divides by a hand-written NumPy implementation of the same math
(benchmarks/workloads.py; tests/test_benchmark_baselines.py holds their numbers equal to tinyad's). JAX (jit,
float64) runs the same work when installed. The script re-runs itself with glibc's malloc tunables fixed
(large arrays on the heap, no trimming: identical jobs otherwise differ up to 1.4x depending on the
process's history) and single-threaded BLAS / XLA, and says so.
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
import others  # noqa: E402
import workloads as w  # noqa: E402

import tinyad  # noqa: E402
from tinyad import hyper  # noqa: E402

H0 = {"lr": 0.1, "momentum": 0.9, "wd": 1e-4}
COLUMNS = ("hand NumPy", "tinyad eager", "tinyad jit", "JAX jit")
TABLE: list[tuple[str, dict]] = []  # (work, {column: figure}): the side-by-side table of docs/performance.md


def report(figure: str, value: str, verdict: str = "") -> None:
    print(f"  {figure:<58} {value}" + (f"   [{verdict}]" if verdict else ""))


def row(work: str, **cells: str) -> None:
    """One row of the side-by-side table; keyword names are COLUMNS with spaces as underscores."""
    TABLE.append((work, {k.replace("_", " "): v for k, v in cells.items()}))


def target(ratio: float, limit: float) -> str:
    return f"target <= {limit:g}: {'met' if ratio <= limit else 'NOT met'}"


def ratios(t: dict, base: str, scale: float = 1.0) -> dict:
    """The table cells of the eager, jit and JAX timings in ``t``, as multiples of ``t[base] * scale``."""
    names = {"eager": "tinyad_eager", "jit": "tinyad_jit", "jax": "JAX_jit"}
    return {names[k]: f"{t[k] / (t[base] * scale):.2f}" for k in names if k in t}


def best(f, n: int = 1, reps: int = 3) -> float:
    """Best-of-reps seconds per call (the minimum is the least noisy estimate on a shared machine)."""
    return compare({"f": f}, n, reps)["f"]


def compare(fns: dict, n: int = 1, reps: int = 5) -> dict:
    """Best-of-reps seconds per call of each function, measured in turns (a b c a b c ...) so that a change
    in the machine's load hits all of them alike."""
    for f in fns.values():
        f()
    times: dict = {name: [] for name in fns}
    for _ in range(reps):
        for name, f in fns.items():
            t = time.perf_counter()
            for _ in range(n):
                f()
            times[name].append((time.perf_counter() - t) / n)
    return {name: min(ts) for name, ts in times.items()}


# ---- hand NumPy ------------------------------------------------------------------------------------
def hand_plain_run(d, p0, T):
    p, v = dict(p0), {k: np.zeros_like(x) for k, x in p0.items()}
    for t in range(T):
        X, Y = w.batch(d, t)
        p, v = w.numpy_step(p, v, X, Y, 0.1, 0.9, 1e-4)
    return p


# ---- figures ----------------------------------------------------------------------------------------
def plain_steps(d, p0, T, j) -> float:
    print("\nplain training (T steps of SGD; time per step)")
    h = dict(H0)

    def tinyad_plain(step):
        p, s = p0, {"b": {k: np.zeros_like(v) for k, v in p0.items()}}
        for t in range(T):
            X, Y = w.batch(d, t)
            p, s = step(p, s, X, Y, h)

    eager_opt = tinyad.optim.sgd(0.1, 0.9, weight_decay=1e-4)
    eager_opt.jit = False
    fns = {"hand": lambda: hand_plain_run(d, p0, T),
           "eager": lambda: tinyad_plain(lambda p, s, X, Y, h: w.tinyad_step(p, s, X, Y, eager_opt)),
           "jit": lambda: tinyad_plain(w.jit_step)}
    if j:
        jax, jnp, loss, step, _, pj = j[:6]
        hj = jnp.array([0.1, 0.9, 1e-4])

        @jax.jit
        def train(p):
            return jax.lax.fori_loop(0, T, lambda t, c: step(t, c, hj), (p, jax.tree.map(jnp.zeros_like, p)))[0]

        fns["jax"] = lambda: jax.block_until_ready(train(pj))
    t = {k: v / T for k, v in compare(fns).items()}
    report("hand NumPy plain step", f"{t['hand'] * 1e3:.3f} ms = 1.00")
    report("tinyad eager plain step", f"{t['eager'] / t['hand']:.2f}x")
    report("tinyad jit plain step", f"{t['jit'] / t['hand']:.2f}x", target(t["jit"] / t["hand"], 1.0))
    if j:
        report("JAX jit plain step", f"{t['jax'] / t['hand']:.2f}x")
    row("training step (SGD with momentum and weight decay)", hand_NumPy=f"1 ({t['hand'] * 1e3:.2f} ms)",
        **ratios(t, "hand"))
    return t["hand"]


def forward_hypergradient(d, p0, T, j) -> None:
    print(f"\nforward (hybrid) hypergradient d(val loss after T={T})/d(lr, momentum, wd), k = 3 tangents; "
          "time / (T hand NumPy plain steps)")
    fns = {"hand": lambda: hand_plain_run(d, p0, T), "hand_fwd": lambda: w.numpy_fwd_hypergrad(d, p0, T),
           "eager": lambda: hyper.hypergrad(lambda h: w.tinyad_run(h, d, p0, T), H0),
           "jit": lambda: hyper.hypergrad(lambda h: w.tinyad_run(h, d, p0, T, w.jit_step), H0)}
    if j:
        jax, jnp, *_ = j
        val_loss_after = j[4]
        f = jax.jit(jax.jacfwd(lambda h: val_loss_after(h, T)))
        h = jnp.array([0.1, 0.9, 1e-4])
        fns["jax"] = lambda: jax.block_until_ready(f(h))
    t = compare(fns, reps=3)
    report("hand NumPy forward mode (hand-derived tangents)", f"{t['hand_fwd'] / t['hand']:.2f}x")
    report("tinyad jit", f"{t['jit'] / t['hand']:.2f}x", target(t["jit"] / t["hand"], 2.5))
    if j:
        report("JAX jit(jacfwd)", f"{t['jax'] / t['hand']:.2f}x")
        report("tinyad jit / JAX", f"{t['jit'] / t['jax']:.2f}", "aim: below 1")
    row(f"forward hypergradient, 3 hyperparameters, T={T} (per inner step, vs a hand plain step)",
        hand_NumPy=f"{t['hand_fwd'] / t['hand']:.2f} (hand-derived tangents)", **ratios(t, "hand"))


def reverse_hypergradient(d, p0, T, j) -> None:
    print(f"\nreverse (unrolled) hypergradient, T={T}: time / (T hand NumPy plain steps); memory per inner step")
    run = lambda h, T=T: w.tinyad_run(h, d, p0, T, w.jit_step)  # noqa: E731
    fns = {"hand": lambda: hand_plain_run(d, p0, T), "jit": lambda: hyper.hypergrad(run, H0, mode="reverse"),
           "eager": lambda: hyper.hypergrad(lambda h: w.tinyad_run(h, d, p0, T), H0, mode="reverse")}
    if j:
        jax, jnp, *_ = j
        h = jnp.array([0.1, 0.9, 1e-4])
        f = jax.jit(jax.grad(lambda h: j[4](h, T)))
        fns["jax"] = lambda: jax.block_until_ready(f(h))
    t = compare(fns, reps=3)
    t_jit = t["jit"]
    t_hand = t["hand"] / T
    m_hi = w.peak_memory(lambda: hyper.hypergrad(lambda h: w.tinyad_run(h, d, p0, 100, w.jit_step), H0, mode="reverse"))
    m_lo = w.peak_memory(lambda: hyper.hypergrad(lambda h: w.tinyad_run(h, d, p0, 10, w.jit_step), H0, mode="reverse"))
    per_step = (m_hi - m_lo) / 90
    report("tinyad jit, reverse through the run", f"{t_jit / (T * t_hand):.2f}x")
    report("tinyad memory per inner step (T=100 vs T=10)", f"{per_step / 1e3:.0f} KB", target(per_step / 1e3, 800))
    if j:
        val_loss_after, t_jax = j[4], t["jax"]
        temp = {n: jax.jit(jax.grad(lambda h, n=n: val_loss_after(h, n))).lower(h).compile().memory_analysis()
                for n in (10, 100)}
        jax_per_step = (temp[100].temp_size_in_bytes - temp[10].temp_size_in_bytes) / 90
        report("JAX jit(grad) through fori_loop", f"{t_jax / (T * t_hand):.2f}x")
        report("JAX memory per inner step (XLA temp buffers)", f"{jax_per_step / 1e3:.0f} KB")
        report("tinyad jit / JAX time", f"{t_jit / t_jax:.2f}", target(t_jit / t_jax, 1.0))
    row(f"reverse (unrolled) hypergradient, T={T} (per inner step, vs a hand plain step)", hand_NumPy="-",
        **ratios(t, "hand"))
    row("reverse hypergradient: memory per inner step", hand_NumPy="-", tinyad_jit=f"{per_step / 1e3:.0f} KB",
        **({"JAX_jit": f"{jax_per_step / 1e3:.0f} KB"} if j else {}))


def hvp(d, p0, j) -> None:
    print("\nHessian-vector product of the 1000-row training loss (time / hand NumPy HVP)")
    rng = np.random.default_rng(0)
    v = {k: rng.standard_normal(x.shape) for k, x in p0.items()}
    X, Y = d.X_train, d.Y_train
    f = tinyad.jit(lambda p, v, X, Y: tinyad.hvp(lambda q: w.loss(q, X, Y), p, v))
    fns = {"hand": lambda: w.numpy_hvp(p0, v, X, Y), "eager": lambda: tinyad.hvp(lambda q: w.loss(q, X, Y), p0, v),
           "jit": lambda: f(p0, v, X, Y)}
    if j:
        jax, jnp, loss = j[0], j[1], j[2]
        pj = {k: jnp.asarray(x) for k, x in p0.items()}
        vj = {k: jnp.asarray(x) for k, x in v.items()}
        Xj, Yj = jnp.asarray(X), jnp.asarray(Y)
        g = jax.jit(lambda p, v: jax.jvp(jax.grad(lambda q: loss(q, Xj, Yj)), (p,), (v,))[1])
        fns["jax"] = lambda: jax.block_until_ready(g(pj, vj))
    t = compare(fns, n=10)
    report("hand NumPy HVP", f"{t['hand'] * 1e3:.3f} ms = 1.00")
    report("tinyad eager hvp", f"{t['eager'] / t['hand']:.2f}x")
    report("tinyad jit(hvp)", f"{t['jit'] / t['hand']:.2f}x")
    if j:
        report("JAX jit(jvp(grad))", f"{t['jax'] / t['hand']:.2f}x")
        report("tinyad jit / JAX", f"{t['jit'] / t['jax']:.2f}", target(t["jit"] / t["jax"], 1.5))
    row("Hessian-vector product of the training loss (1000 rows)", hand_NumPy=f"1 ({t['hand'] * 1e3:.2f} ms)",
        **ratios(t, "hand"))


def elementwise_chain(j) -> None:
    print(f"\nper-op cost: value and gradient of a chain of {w.CHAIN} elementwise ops on a length-10 vector")
    x = np.linspace(0.1, 1.0, 10)
    f = tinyad.jit(tinyad.value_and_grad(w.chain))
    fns = {"hand": lambda: w.hand_chain(x), "eager": lambda: tinyad.value_and_grad(w.chain)(x), "jit": lambda: f(x)}
    if j:
        jax, jnp = j[0], j[1]

        def jchain(x):
            for _ in range(w.CHAIN // 4):
                x = jnp.tanh(jnp.sin(x) * 0.9) + 0.1
            return jnp.sum(x)

        g, xj = jax.jit(jax.value_and_grad(jchain)), jnp.asarray(x)
        fns["jax"] = lambda: jax.block_until_ready(g(xj))
    t = compare(fns, n=20)
    t_hand, t_eager, t_jit = (t[k] / w.CHAIN for k in ("hand", "eager", "jit"))
    report("hand NumPy", f"{t_hand * 1e6:.2f} us/op = 1.00")
    report("tinyad eager", f"{t_eager / t_hand:.2f}x")
    report("tinyad jit", f"{t_jit / t_hand:.2f}x", target(t_jit / t_hand, 2.0))
    row(f"a chain of {w.CHAIN} small elementwise ops, value and gradient", hand_NumPy=f"1 ({t_hand * 1e6:.2f} us/op)",
        **ratios(t, "hand"))


FIRST = """
import sys, time
t0 = time.perf_counter()
import numpy as np, tinyad
from tinyad import hyper
sys.path.insert(0, {here!r})
import workloads as w
d, p0 = w.setup()
hyper.hypergrad(lambda h: w.tinyad_run(h, d, p0, {T}, w.jit_step), {{"lr": 0.1, "momentum": 0.9, "wd": 1e-4}})
print(time.perf_counter() - t0)
"""

FIRST_JAX = """
import sys, time
t0 = time.perf_counter()
sys.path.insert(0, {here!r})
import workloads as w, others
d, p0 = w.setup()
first, later, g = others.jax_hypergradient(d, p0, {T}, {{"lr": 0.1, "momentum": 0.9, "wd": 1e-4}})
print(time.perf_counter() - t0 - later)  # everything up to and including the first result
"""


def first_call(T: int) -> None:
    print(f"\ntime to the first T={T} hypergradient in a fresh process (imports, data, compilation included)")
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, TINYAD_CACHE_DIR=cache)
        times = {}
        for label in ("empty", "warm"):
            r = subprocess.run([sys.executable, "-c", FIRST.format(here=str(HERE), T=T)], env=env,
                               capture_output=True, text=True, check=True)
            times[label] = float(r.stdout.split()[-1])
            report(f"tinyad jit, {label} numba cache", f"{times[label]:.2f} s")
    r = subprocess.run([sys.executable, "-c", FIRST_JAX.format(here=str(HERE), T=T)], capture_output=True,
                       text=True)
    if r.returncode == 0:
        t_jax = float(r.stdout.split()[-1])
        report("JAX jit(jacfwd) (compiles in every process)", f"{t_jax:.2f} s")
        report("tinyad (warm cache) / JAX", f"{times['warm'] / t_jax:.2f}", target(times["warm"] / t_jax, 1.0))
    row(f"seconds to the first T={T} hypergradient in a new process (imports and compilation included)",
        hand_NumPy="-", tinyad_jit=f"{times['warm']:.2f} ({times['empty']:.2f} with an empty numba cache)",
        **({"JAX_jit": f"{t_jax:.2f}"} if r.returncode == 0 else {}))


def memory_flat(d, p0, T_hi: int) -> None:
    print("\nhybrid memory: peak of the forward hypergradient at T=10 and at a long run")
    pk = {T: w.peak_memory(lambda T=T: hyper.hypergrad(lambda h: w.tinyad_run(h, d, p0, T, w.jit_step), H0))
          for T in (10, T_hi)}
    report(f"peak T={T_hi} / peak T=10", f"{pk[T_hi] / pk[10]:.2f}  ({pk[10] / 2**20:.1f} MiB, "
           f"{pk[T_hi] / 2**20:.1f} MiB)", target(pk[T_hi] / pk[10], 1.1))
    row(f"forward hypergradient: peak memory at T={T_hi} / at T=10", hand_NumPy="-",
        tinyad_jit=f"{pk[T_hi] / pk[10]:.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="T=200 instead of 1000")
    ap.add_argument("--write-docs", action="store_true", help="write the table into docs/performance.md")
    args = ap.parse_args()
    T = 200 if args.quick else 1000
    print(f"tinyad {tinyad.__version__}, NumPy {np.__version__}, {os.cpu_count()} cores; {quiet.describe()}")
    d, p0 = w.setup()
    j = others.jax_model(d, p0)
    if j is None:
        print("JAX not installed: its columns are skipped (pip install jax)")
    hyper.hypergrad(lambda h: w.tinyad_run(h, d, p0, 5, w.jit_step), H0)  # compile outside the timings
    plain_steps(d, p0, 200, j)
    forward_hypergradient(d, p0, T, j)
    reverse_hypergradient(d, p0, T, j)
    hvp(d, p0, j)
    elementwise_chain(j)
    memory_flat(d, p0, T)
    first_call(100)
    text = (docsection.table(COLUMNS, TABLE) + "\n\nMeasured by `python3 benchmarks/jit.py" +
            (" --quick" if args.quick else "") + f"` on {docsection.machine()}.")
    print("\n" + text)
    if args.write_docs:
        docsection.replace_section(HERE.parent / "docs" / "performance.md", "jit", text)


if __name__ == "__main__":
    main()
