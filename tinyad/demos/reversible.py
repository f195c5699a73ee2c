"""Exactly reversible learning on the digits (Maclaurin et al. 2015, scaled to a CPU): learn a per-step,
per-layer learning-rate schedule from hypergradients averaged over seeds, check the paper's claims about its
shape, and distil the training set into 10 synthetic images.

Every hypergradient trains T steps forward in exact fixed-point arithmetic, then runs training *backwards*,
recovering every weight bit for bit, and collects d loss / d alpha[t, group] on the way: memory holds the
final weights, velocity and an information buffer, never the trajectory.

Why seeds. One training run's schedule hypergradient depends on its initial weights and its minibatches: a
per-step schedule learned from one run fits that run's quirks and comes out noisy. The paper drew a fresh
seed (initialisation and minibatches) for every hypergradient. Here every meta-step takes the mean of the
hypergradients of ``--seeds`` fresh seeds (with its standard error), fanned out over ``--workers`` processes
by the library's executor helpers (``tinyad.hyper.executors``): each seed's hypergradient is a pure function
of (data, schedule, seed) and the mean is taken here in seed order, so the numbers are the same bit for bit
whichever executor runs them. The paper's own procedure, one fresh seed per meta-step, runs beside it, so the
noise the averaging removes is measured rather than asserted.

The setup is the paper's Figure 2 experiment where a CPU allows: three hidden layers of 50 tanh units
(64-50-50-50-10 on the 8x8 digits, for 784-50-50-50-10 on MNIST); T = 100 steps of SGD with momentum; one
learning rate per step for the weights and one for the biases of each layer (800 hyperparameters), all
starting at e^-1; weights drawn at scale 0.05 in the first layer (the paper's initial exp(-3)); minibatches of
100 drawn with replacement; Adam with step 0.04 on log alpha for 50 meta-steps; and as the meta-objective the
loss on the whole training set, as in the paper (a schedule tuned on validation loss can regularise by
stopping early). Where it differs: the paper also learned the momentum schedule (it stayed near its initial
0.5, so here it is fixed at 0.5) and the initialisation scales, and trained on 10,000 MNIST images (here the
1,000 training digits).

The paper's claims about the learned weight schedules (its Figure 2: "starts by taking large steps only in
the topmost layer, then takes larger steps in the first layer. All layers take smaller step sizes in the
last 10 iterations") are then measured on the learned schedules and printed as holding or not, with the
numbers behind each verdict.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any, NamedTuple

import numpy as np

from tinyad import datasets, nn, optim
from tinyad import reversible as R
from tinyad.hyper import executors
from tinyad.hyper.hypergrad import SeedAverage, average
from tinyad.plotting import figure

from ._args import demo_parser, int_at_least, non_negative_int, plot_file, positive_int

SIZES = (64, 50, 50, 50, 10)  # the paper's three hidden layers of 50 units, on 8x8 digits
LAYERS = len(SIZES) - 1
# one learning-rate column per (kind, layer): the weights of layers 1..4, then their biases
GROUPS = {**{f"W{i}": i - 1 for i in range(1, LAYERS + 1)}, **{f"b{i}": LAYERS + i - 1 for i in range(1, LAYERS + 1)}}
BATCH = 100
GAMMA = 0.5  # the paper learned the momentum schedule from 0.5; it stayed near 0.5
LR0 = float(np.exp(-1.0))  # the paper's initial learning rates
INIT_SCALE = 0.4  # nn.init_mlp's N(0, (scale / sqrt(fan_in))^2): 0.05 in the first layer, the paper's exp(-3)
META_LR = 0.04  # the paper's Adam step on log alpha
CLEAR = 1.05  # a learning rate is "larger" than another when it is larger by more than 5%
WHO = "tinyad demo reversible"

# ---- one seed's training run (module level, so that process pools can pickle it) ------------------------
class Minibatches:
    """A seed's training loss at step t: the cross-entropy on minibatch t, the rows ``batches[t]`` of the
    training set. The rows are drawn once per seed, so the loss is a function of t, as reversal needs."""

    def __init__(self, X: np.ndarray, Y: np.ndarray, batches: np.ndarray) -> None:
        self.X, self.Y, self.batches = X, Y, batches

    def __call__(self, params: dict, meta: Any, t: int) -> Any:
        rows = self.batches[t]
        return nn.cross_entropy(nn.mlp(params, self.X[rows]), self.Y[rows])


class WholeSetLoss:
    """The cross-entropy on a whole data set (the meta-objective, on the training set; or the validation loss)."""

    def __init__(self, X: np.ndarray, Y: np.ndarray) -> None:
        self.X, self.Y = X, Y

    def __call__(self, params: dict) -> Any:
        return nn.cross_entropy(nn.mlp(params, self.X), self.Y)


class SeedRun(NamedTuple):
    """What one seed's run sends back."""

    loss: float  # training-set loss after T steps: the meta-objective
    d_alphas: np.ndarray  # its hypergradient, (T, groups)
    val_loss: float
    stats: dict  # memory of the reversible run


def seeds_for(seed: int, meta_step: int, n: int) -> list[np.random.SeedSequence]:
    """The ``n`` seeds of one meta-step: ``SeedSequence(seed).spawn(meta_step + 1)[meta_step].spawn(n)``, built
    directly from their spawn keys, because ``spawn`` counts the children it has made (a SeedSequence that
    spawns again gives new ones)."""
    return [np.random.SeedSequence(seed, spawn_key=(meta_step, i)) for i in range(n)]


def child(seed: np.random.SeedSequence, i: int) -> np.random.SeedSequence:
    """``seed.spawn(i + 1)[i]``, without changing ``seed``."""
    return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, i))


def initial_params(seed: np.random.SeedSequence) -> dict:
    """The seed's initial weights: drawn from its first child."""
    return nn.init_mlp(SIZES, seed=int(child(seed, 0).generate_state(1)[0]), scale=INIT_SCALE)


def minibatch_rows(seed: np.random.SeedSequence, T: int, n_train: int) -> np.ndarray:
    """The seed's minibatches, (T, BATCH) row indices drawn with replacement from its second child."""
    return np.random.default_rng(child(seed, 1)).integers(0, n_train, size=(T, BATCH))


def seed_hypergrad(data: datasets.Split, alphas: np.ndarray, seed: np.random.SeedSequence) -> SeedRun:
    """One seed's reversible run from its own initial weights and minibatches: the training-set loss after
    T = len(alphas) steps and its hypergradient with respect to every learning rate."""
    rows = minibatch_rows(seed, len(alphas), len(data.X_train))
    res = R.hypergrad(Minibatches(data.X_train, data.Y_train, rows), WholeSetLoss(data.X_train, data.Y_train),
                      initial_params(seed), alphas, GAMMA, groups=GROUPS)
    val = WholeSetLoss(data.X_val, data.Y_val)(res.params_final)
    return SeedRun(res.val_loss, res.d_alphas, float(val), res.stats)


def averaged_hypergrad(data: datasets.Split, alphas: np.ndarray, seeds: list, executor: Any) -> tuple:
    """``(SeedAverage, runs)``: the mean and standard error over ``seeds`` of the training-set loss and of the
    schedule hypergradient, and each seed's :class:`SeedRun`, in seed order. ``executor``: None (here, one
    seed after another) or anything with ``submit`` (a process pool, a cluster client)."""
    runs = executors.map_all(executor, seed_hypergrad, [(data, alphas, s) for s in seeds], WHO)
    return average([(r.loss, r.d_alphas) for r in runs], alphas), runs


def one_blas_thread() -> Any:
    """Limit BLAS to one thread in this process; returns the limit (``.restore_original_limits()`` lifts it),
    or None without threadpoolctl (it comes with scikit-learn, which the demo needs for the digits).

    Two reasons. Two workers on two cores should not each start a BLAS thread per core. And OpenBLAS splits
    some matrix products differently across threads, which changes their last bits: with one thread in every
    process, a seed's hypergradient has the same bits wherever it runs."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return threadpool_limits(1)


def make_executor(workers: int) -> ProcessPoolExecutor | None:
    """None (serial) for one worker; else a pool of freshly started (spawned) processes, which is safe with
    numba and threads on every platform, each with one BLAS thread."""
    if workers == 1:
        return None
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=one_blas_thread)


# ---- learning the schedule --------------------------------------------------------------------------------
def learn_schedule(data: datasets.Split, T: int, meta_steps: int, n_seeds: int, executor: Any = None, seed: int = 0,
                   log=print) -> dict:
    """Adam on log alpha (T, groups), each meta-step along the mean hypergradient of ``n_seeds`` fresh seeds.

    Returns the learned ``alphas`` (the schedule of the last meta-step), the ``history`` of (training-set loss,
    its standard error, validation loss) per meta-step, the hypergradients of meta-step 0 (``initial``: the
    SeedAverage, and ``initial_runs``: each seed's) and of the last (``final``), and the memory ``stats`` of one
    run."""
    log_alpha = np.full((T, len(GROUPS)), np.log(LR0))
    outer = optim.adam(META_LR)
    state = outer.init(log_alpha)
    history = []
    for k in range(meta_steps + 1):
        alphas = np.exp(log_alpha)
        avg, runs = averaged_hypergrad(data, alphas, seeds_for(seed, k, n_seeds), executor)
        if k == 0:
            initial, initial_runs = avg, runs
        val = float(np.mean([r.val_loss for r in runs]))
        history.append((avg.value, avg.value_stderr, val))
        if k % 10 == 0 or k == meta_steps:
            se = f" +- {avg.value_stderr:.4f}" if n_seeds > 1 else ""
            rates = ", ".join(f"{a:.2f}" for a in alphas[:, :LAYERS].mean(axis=0))
            log(f"  meta-step {k:3d}: training loss {avg.value:.4f}{se}, validation loss {val:.4f}; mean learning "
                f"rate of the weights, layers 1-{LAYERS}: {rates}")
        if k == meta_steps:
            break
        log_alpha, state = outer.update(avg.grad * alphas, state, log_alpha)  # chain rule: d/d log alpha
    return {"alphas": alphas, "history": history, "initial": initial, "initial_runs": initial_runs, "final": avg,
            "stats": runs[0].stats, "seeds": n_seeds}


# ---- the paper's claims, measured -------------------------------------------------------------------------
class Claim(NamedTuple):
    claim: str
    holds: bool
    numbers: str


def phases(alphas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean learning rate of each layer's weights over the first 10% of the steps, the middle 80%, and the
    last 10% (at least one step each): three arrays of shape (LAYERS,)."""
    W = alphas[:, :LAYERS]
    n = max(1, len(W) // 10)
    return W[:n].mean(axis=0), W[n:-n].mean(axis=0), W[-n:].mean(axis=0)


def _rates(x: np.ndarray) -> str:
    return " ".join(f"{v:.2f}" for v in x)


def schedule_claims(alphas: np.ndarray) -> list[Claim]:
    """Maclaurin et al.'s claims about the learned weight schedules (Figure 2), and the usual shorter
    reading of them, as measurable statements about the first 10% / middle 80% / last 10% of the steps. A
    rate counts as larger than another only when it is larger by more than ``CLEAR`` (5%): a schedule's
    jitter makes smaller differences meaningless."""
    early, middle, late = phases(alphas)
    top, first = LAYERS - 1, 0
    return [
        Claim("early, large steps only in the topmost layer (over the first 10%, its mean rate is the largest)",
              bool(early[top] > CLEAR * np.delete(early, top).max()), f"first 10%, layers 1-{LAYERS}: {_rates(early)}"),
        Claim("then larger steps in the first layer (over the middle 80%, its mean rate is the largest)",
              bool(middle[first] > CLEAR * np.delete(middle, first).max()),
              f"middle 80%, layers 1-{LAYERS}: {_rates(middle)}"),
        Claim("all layers take smaller steps in the last 10% than in the middle 80%",
              bool(np.all(CLEAR * late < middle)), f"last 10%: {_rates(late)}"),
        Claim("(the usual summary) large early steps: every layer's first 10% above its middle 80%",
              bool(np.all(early > CLEAR * middle)), f"first 10% / middle 80%: {_rates(early / middle)}"),
    ]


def roughness(alphas: np.ndarray) -> float:
    """How jagged a schedule is: mean |log alpha[t+1] - log alpha[t]| over the weights' schedules."""
    return float(np.abs(np.diff(np.log(alphas[:, :LAYERS]), axis=0)).mean())


def jaggedness(g: np.ndarray) -> float:
    """How jagged a hypergradient is along the steps, relative to its size: mean |g[t+1] - g[t]| / mean |g|
    over the weights' columns (0 for a constant, sqrt(2) for independent noise around zero)."""
    W = g[:, :LAYERS]
    return float(np.abs(np.diff(W, axis=0)).mean() / np.abs(W).mean())


def settled(avg: SeedAverage) -> float:
    """The fraction of the weights' schedule hypergradient whose sign the seeds settle: |mean| > 2 standard
    errors (NaN for one seed)."""
    W, se = avg.grad[:, :LAYERS], avg.grad_stderr[:, :LAYERS]
    return float(np.mean(np.abs(W) > 2 * se)) if avg.n > 1 else float("nan")


def noise_report(averaged: dict, single: dict) -> dict:
    """What averaging over seeds changes: the hypergradient at the initial schedule (the paper's Figure 4 shows
    it averaged over 100 seeds, to show it is smooth in t), how much of it the seeds settle at the first and
    at the last meta-step, and the roughness of the learned schedules."""
    per_seed = [jaggedness(r.d_alphas) for r in averaged["initial_runs"]]
    return {
        "jagged_one_seed": float(np.mean(per_seed)),
        "jagged_average": jaggedness(averaged["initial"].grad),
        "settled_first": settled(averaged["initial"]),
        "settled_last": settled(averaged["final"]),
        "rough_one_seed": roughness(single["alphas"]),
        "rough_average": roughness(averaged["alphas"]),
    }


# ---- dataset distillation -----------------------------------------------------------------------------------
def distillation_experiment(data, T: int, meta_steps: int, log=print) -> dict:
    """Learn 10 synthetic 8x8 images (one per class), starting blank, that train logistic regression well."""
    labels = np.eye(10)
    p0 = {"W1": np.zeros((64, 10)), "b1": np.zeros(10)}

    def train_loss(p, meta, t):
        return nn.cross_entropy(nn.mlp(p, meta["images"]), labels)

    def val_loss(p):
        return nn.cross_entropy(nn.mlp(p, data.X_train), data.Y_train)

    images = np.zeros((10, 64))
    outer = optim.adam(0.05)
    state = outer.init(images)
    history = []
    for k in range(meta_steps + 1):
        res = R.hypergrad(train_loss, val_loss, p0, np.full(T, 0.5), 0.5, meta={"images": images})
        history.append(res.val_loss)
        if k % 10 == 0 or k == meta_steps:
            acc = nn.accuracy(nn.mlp(res.params_final, data.X_val), data.Y_val)
            log(f"  meta-step {k:3d}: loss on the real training set {res.val_loss:.4f}, "
                f"validation accuracy {acc:.3f}")
        if k == meta_steps:
            break
        images, state = outer.update(res.d_meta["images"], state, images)
        images = np.clip(images, 0.0, 1.0)  # keep them images (pixels in [0, 1], like the data)
    return {"images": images, "history": history, "accuracy": acc}


# ---- the command ---------------------------------------------------------------------------------------------
def print_claims(claims: list[Claim], indent: str = "    ") -> None:
    for c in claims:
        print(f"{indent}{'holds        ' if c.holds else 'does not hold'}  {c.claim}: {c.numbers}")


def held_out(data: datasets.Split, schedules: dict, seeds: list, executor: Any) -> dict:
    """Each schedule's mean (and standard error of the) training-set loss on seeds no meta-step used."""
    out = {}
    for name, alphas in schedules.items():
        avg, _ = averaged_hypergrad(data, alphas, seeds, executor)
        out[name] = (avg.value, avg.value_stderr)
    return out


def schedule_experiment(data: datasets.Split, args: Any, executor: Any) -> dict:
    """Learn the schedule from ``args.seeds`` seeds per meta-step (and, for comparison, from one), test the
    learned schedules on fresh seeds, and measure the paper's claims and the noise."""
    s = "s" if args.seeds > 1 else ""
    print(f"\n  a. each meta-step along the mean hypergradient of {args.seeds} fresh seed{s} ({args.workers} "
          f"worker{'s' if args.workers > 1 else ''})")
    averaged = learn_schedule(data, args.T, args.meta_steps, args.seeds, executor, args.seed)
    out = {"schedule": averaged, "single_seed": None}
    schedules = {"initial (constant e^-1)": np.full_like(averaged["alphas"], LR0),
                 f"learned, {args.seeds} seed{s} per meta-step": averaged["alphas"]}
    if args.seeds > 1:
        print("\n  b. the paper's procedure: one fresh seed per meta-step")
        out["single_seed"] = single = learn_schedule(data, args.T, args.meta_steps, 1, executor, args.seed)
        schedules["learned, one seed per meta-step"] = single["alphas"]
    fresh = seeds_for(args.seed, args.meta_steps + 1, args.seeds)  # the meta-steps used 0 .. meta_steps
    out["held_out"] = held_out(data, schedules, fresh, executor)
    st = averaged["stats"]
    kib, trajectory = st["bytes"] / 1024, st["trajectory_bytes"] / 1024
    print(f"\n  memory of one run: {kib:.0f} KiB for the exact state and buffer vs {trajectory:.0f} KiB to store the "
          f"trajectory ({trajectory / kib:.0f}x)")
    print(f"\n  training-set loss after T steps on {args.seeds} fresh seed{s} (mean +- standard error):")
    for name, (loss, se) in out["held_out"].items():
        print(f"    {name:38} {loss:.4f}" + (f" +- {se:.4f}" if args.seeds > 1 else ""))
    out["claims"] = schedule_claims(averaged["alphas"])
    print(f"\n  the paper's claims, on the mean learning rate of each layer's weights (learned from {args.seeds} "
          f"seed{s} per meta-step; a difference under {CLEAR - 1:.0%} counts as none):")
    print_claims(out["claims"])
    if args.seeds > 1:
        out["single_claims"] = schedule_claims(single["alphas"])
        print("  the same, on the schedule learned from one seed per meta-step:")
        print_claims(out["single_claims"])
        out["noise"] = noise = noise_report(averaged, single)
        print(f"\n  noise, the hypergradient at the initial schedule: jaggedness along the steps (mean |g[t+1] - g[t]| "
              f"/ mean |g|, weights) {noise['jagged_one_seed']:.2f} for one seed (mean over {args.seeds}), "
              f"{noise['jagged_average']:.2f} for their mean")
        print(f"  noise, the mean hypergradient's sign is settled (|mean| > 2 standard errors) at "
              f"{noise['settled_first']:.0%} of the weights' entries at the first meta-step, "
              f"{noise['settled_last']:.0%} at the last")
        print(f"  noise, the learned schedule: roughness (mean |log alpha[t+1] - log alpha[t]|, weights) "
              f"{noise['rough_one_seed']:.3f} from one seed per meta-step, {noise['rough_average']:.3f} from "
              f"{args.seeds}")
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = demo_parser("reversible", __doc__)
    ap.add_argument("--T", type=int_at_least(3), default=100,
                    help="training steps in the schedule experiment (default %(default)s)")
    ap.add_argument("--meta-steps", type=non_negative_int, default=50,
                    help="meta-steps on the schedule (default %(default)s, as the paper)")
    ap.add_argument("--seeds", type=positive_int, default=6,
                    help="seeds averaged per meta-step (default %(default)s; the paper's Figure 4 averages 100)")
    ap.add_argument("--workers", type=positive_int,
                    help="worker processes for the seeds (default: one per core, at most one per seed; 1: one "
                         "seed after another, in this process)")
    ap.add_argument("--seed", type=non_negative_int, default=0, help="root of every seed (default %(default)s)")
    ap.add_argument("--distil-meta-steps", type=non_negative_int, default=40,
                    help="meta-steps on the distilled images (default %(default)s)")
    ap.add_argument("--plot", metavar="FILE", type=plot_file, help="save the learned schedules and images to a PNG")
    args = ap.parse_args(argv)
    if args.workers is None:
        args.workers = min(os.cpu_count() or 1, args.seeds)
    data = datasets.digits()
    start = time.perf_counter()
    print(f"1. learning-rate schedules: MLP {'-'.join(map(str, SIZES))}, T={args.T} steps of SGD (momentum {GAMMA}, "
          f"batch {BATCH}), one learning rate per step for the weights and for the biases of each of {LAYERS} layers; "
          "meta-objective: the training-set loss")
    executor, limit = make_executor(args.workers), one_blas_thread()  # one thread here too: the same bits
    try:
        out = schedule_experiment(data, args, executor)
    finally:
        if executor is not None:
            executor.shutdown()
        if limit is not None:
            limit.restore_original_limits()
    out["seconds"] = time.perf_counter() - start
    print(f"  (the schedule experiment took {out['seconds']:.0f} s)")
    print("\n2. dataset distillation: 10 synthetic images, one per class, from blank; logistic regression "
          "trained 30 steps on them alone")
    out["distillation"] = distillation_experiment(data, 30, args.distil_meta_steps)
    if args.plot:
        _plot(out, args.plot)
        print(f"\nplot saved to {args.plot}")
    return out


def _plot(out: dict, path: str) -> None:
    sched, single, dist = out["schedule"], out["single_seed"], out["distillation"]
    fig = figure(figsize=(14, 7))
    grid = fig.add_gridspec(4, 16, wspace=1.0, hspace=0.9, left=0.075, right=0.99, bottom=0.08, top=0.94)
    panels = [(sched, f"learned from {sched['seeds']} seeds per meta-step")]
    if single is not None:
        panels.append((single, "learned from one seed per meta-step"))
    top = max(p["alphas"][:, :LAYERS].max() for p, _ in panels)
    for j, (run, title) in enumerate(panels):
        ax = fig.add_subplot(grid[0:2, 5 * j:5 * j + 5])
        for i in range(LAYERS):
            ax.plot(run["alphas"][:, i], label=f"layer {i + 1} weights")
        ax.set(xlabel="training step", title=title, ylim=(0, 1.05 * top))
        if j == 0:
            ax.set_ylabel("learning rate")
            ax.legend(fontsize=7)
    ax = fig.add_subplot(grid[0:2, 11:16])
    for run, title in panels:
        ax.plot([h[0] for h in run["history"]], ".-", label=title.replace("learned from ", ""))
    ax.set(xlabel="meta-step", ylabel="training-set loss after T steps", title="meta-optimisation", yscale="log")
    ax.legend(fontsize=7)
    ax = fig.add_subplot(grid[2:4, 0:8])
    g, se = sched["initial"].grad[:, :LAYERS], sched["initial"].grad_stderr[:, :LAYERS]
    for i in range(LAYERS):
        line, = ax.plot(g[:, i], label=f"layer {i + 1}")
        ax.plot(sched["initial_runs"][0].d_alphas[:, i], ":", color=line.get_color(), linewidth=0.8)
        if sched["seeds"] > 1:
            ax.fill_between(np.arange(len(g)), g[:, i] - 2 * se[:, i], g[:, i] + 2 * se[:, i], color=line.get_color(),
                            alpha=0.2)
    n = max(1, len(g) * 9 // 10)  # the last steps' hypergradient is far larger: let it run off the scale
    band = np.nan_to_num(2 * se[:n])
    low, high = (g[:n] - band).min(), (g[:n] + band).max()
    ax.set(xlabel="training step", ylabel="d loss / d learning rate",
           ylim=(low - 0.2 * (high - low), high + 0.2 * (high - low)),
           title=f"hypergradient at the initial schedule: mean of {sched['seeds']} seeds (band: +- 2 s.e.), one seed "
                 "dotted")
    ax.legend(fontsize=7, loc="lower left")
    for i in range(10):
        ax = fig.add_subplot(grid[2 + i // 5, 11 + i % 5])
        ax.imshow(dist["images"][i].reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(str(i), fontsize=9)
    fig.text(0.8, 0.47, "10 distilled training images", ha="center", fontsize=11)
    fig.savefig(path, dpi=100)


if __name__ == "__main__":
    main(sys.argv[1:])
