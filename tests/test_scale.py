"""Many trials at once: everything pickles, and the Results are bit for bit the same serially, on threads, in
spawned processes and on a Dask cluster; failures and warnings come back with each trial's Result."""

import multiprocessing
import os
import pickle
import warnings
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

import tinyad
from tinyad import hyper, optim
from tinyad.hyper.hypergrad import Checked, Seeded

from .test_optim import X, loss, params0, y
from .test_outer import same, same_result, sgd_run

ROOT = Path(__file__).resolve().parents[1]
INITS = [{"lr": 0.05, "momentum": 0.5, "wd": 0.01}, {"lr": 0.3, "momentum": 0.8, "wd": 0.001},
         {"lr": 0.1, "momentum": 0.2, "wd": 0.05}]


def seeded_run(h, seed):
    """8 SGD steps on minibatches in an order drawn from the seed (a numpy SeedSequence)."""
    order = np.random.default_rng(seed).permutation(4)
    opt = optim.sgd(h["lr"], h["momentum"], weight_decay=h["wd"])
    p, s = params0, opt.init(params0)
    for t in range(8):
        sl = slice(5 * order[t % 4], 5 * order[t % 4] + 5)
        p, s = opt.update(tinyad.grad(loss)(p, X[sl], y[sl]), s, p)
    return loss(p, X, y)


def fail_fast_lr(row):
    """A callback that fails in the trial whose learning rate started above 0.2, at its step 2."""
    if row["step"] == 2 and row["hparams"]["lr"] > 0.2:
        raise ValueError(f"learning rate {row['hparams']['lr']:.3f} too large")


@pytest.fixture
def worker_path(monkeypatch):
    """Worker processes import this checkout's tinyad (and these tests' functions)."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def same_results(xs, ys):
    assert len(xs) == len(ys)
    for a, b in zip(xs, ys):
        same_result(a, b)
        assert a.seed == b.seed and a.warnings == b.warnings


# ---- B.2 everything that crosses a process boundary pickles ------------------------------------------------
OPTIMIZERS = {
    "sgd": lambda: optim.sgd(0.1, 0.9, weight_decay=1e-3),
    "nesterov": lambda: optim.sgd(0.1, 0.9, nesterov=True),
    "adam": lambda: optim.adam(0.05, weight_decay=1e-3),
    "rmsprop": lambda: optim.rmsprop(0.02, momentum=0.5),
    "sgd_hd": lambda: optim.sgd_hd(0.05, 1e-3, clip=1.0),
    "sgdn_hd": lambda: optim.sgdn_hd(0.05, 1e-3, 0.9),
    "adam_hd": lambda: optim.adam_hd(0.01, 1e-4, nonneg=True),
    "stack2": lambda: optim.stack(optim.adam(0.01), optim.sgd(1e-4)),
    "stack3": lambda: optim.stack(optim.stack(optim.sgd(0.05, 0.5), optim.sgd(1e-3)), optim.adam(1e-4)),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizers_pickle_and_continue_bit_for_bit(name):
    opt = OPTIMIZERS[name]()
    assert pickle.loads(pickle.dumps(opt)).hyperparams == opt.hyperparams

    def steps(o, p, s, ts):
        for t in ts:
            sl = slice(5 * (t % 4), 5 * (t % 4) + 5)
            p, s = o.update(tinyad.grad(loss)(p, X[sl], y[sl]), s, p)
        return p, s

    p, s = steps(opt, params0, opt.init(params0), range(3))
    o2, p2, s2 = pickle.loads(pickle.dumps((opt, p, s)))  # e.g. sent to a worker mid-run
    same(steps(o2, p2, s2, range(3, 7)), steps(opt, p, s, range(3, 7)))


def test_results_constraints_and_run_wrappers_pickle():
    res = hyper.optimize(sgd_run, INITS[0], optim.adam(0.1), 2, progress=False)
    same_result(pickle.loads(pickle.dumps(res)), res)
    for c in hyper.CONSTRAINTS.values():
        assert pickle.loads(pickle.dumps(c)) is c
    wrapped = pickle.loads(pickle.dumps(Checked(Seeded(seeded_run, 3))))
    assert wrapped(INITS[0]) == seeded_run(INITS[0], 3)


# ---- B.1, B.3, B.6: the same Results whatever runs them ---------------------------------------------------------
def test_serial_threads_and_spawned_processes_give_the_same_results(worker_path, capfd):
    serial = hyper.optimize_many(seeded_run, INITS, optim.adam(0.1), 3, seeds=7, progress=False)
    with ThreadPoolExecutor(2) as pool:
        threads = hyper.optimize_many(seeded_run, INITS, optim.adam(0.1), 3, seeds=7, executor=pool, progress=False)
    capfd.readouterr()
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        procs = hyper.optimize_many(seeded_run, INITS, optim.adam(0.1), 3, seeds=7, executor=pool, progress=True)
    err = capfd.readouterr().err
    same_results(threads, serial)
    same_results(procs, serial)
    assert "trials" in err and "outer steps" not in err  # one bar here; the workers print nothing
    # each trial's seed is recorded: SeedSequence(7).spawn(3)[i] ...
    children = np.random.SeedSequence(7).spawn(3)
    assert [r.seed for r in serial] == [{"entropy": 7, "spawn_key": c.spawn_key} for c in children]
    assert len({r.history[0]["loss"] for r in serial}) == 3
    # ... so that one trial re-runs alone
    alone = hyper.optimize(seeded_run, INITS[2], optim.adam(0.1), 3, progress=False, seed=serial[2].seed)
    same_result(alone, serial[2])


def test_a_failing_trial_comes_back_with_its_partial_result_and_the_others_finish(worker_path):
    straight = hyper.optimize_many(sgd_run, INITS, optim.adam(0.1), 4, progress=False)  # no callback
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        with pytest.raises(hyper.TrialsFailed, match="(?s)1 of 3 trials failed.*trial 1: ValueError") as info:
            hyper.optimize_many(sgd_run, INITS, optim.adam(0.1), 4, executor=pool, progress=False,
                                callback=fail_fast_lr)
    failed = info.value
    assert list(failed.errors) == [1] and isinstance(failed.errors[1], ValueError)
    partial = failed.errors[1].result
    assert partial is failed.results[1] and partial.stopped.startswith("error: ValueError: learning rate")
    same(partial.history, straight[1].history[:3])
    for i in (0, 2):
        same_result(failed.results[i], straight[i])
    # it pickles too (a TrialsFailed may itself cross a process boundary)
    assert pickle.loads(pickle.dumps(failed)).errors[1].args == failed.errors[1].args


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_warnings_and_stop_reasons_travel_in_the_results():
    def run(h):
        return tinyad.numpy.sqrt(0.2 - h["lr"]) + h["offset"] ** 2

    with pytest.warns(hyper.HypergradientWarning, match="trial 1: outer step"):
        results = hyper.optimize_many(run, [{"lr": 0.01, "offset": 1.0}, {"lr": 0.1, "offset": 1.0}], optim.sgd(2.0),
                                      20, progress=False)
    assert results[0].stopped is None or "outer step" in results[0].stopped
    assert "outer step" in results[1].stopped and results[1].warnings[0][0] == "HypergradientWarning"


def test_ctrl_c_in_a_serial_search_stops_it_and_keeps_what_is_done():
    def stop_second(row):
        if row["step"] == 1 and abs(row["hparams"]["lr"] - 0.3) < 0.1:
            raise KeyboardInterrupt

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = hyper.optimize_many(sgd_run, INITS, optim.adam(0.1), 3, progress=False, callback=stop_second)
    said = [str(w.message) for w in caught if issubclass(w.category, hyper.StoppedWarning)]
    assert said[0].startswith("trial 1: optimize was interrupted after 1 outer steps")
    assert said[1] == "optimize_many was interrupted: 2 of 3 trials have a Result; the others are None"
    assert results[0].stopped is None and results[1].stopped == "interrupted" and results[2] is None
    assert len(results[1].history) == 2


def test_trials_checkpoint_and_resume(tmp_path):
    pattern = str(tmp_path / "trial-{i}.pkl")
    hyper.optimize_many(sgd_run, INITS, optim.adam(0.1), 2, progress=False, checkpoint=pattern)
    saved = [hyper.load_result(pattern.format(i=i)) for i in range(3)]
    resumed = hyper.optimize_many(sgd_run, INITS, optim.adam(0.1), 4, progress=False, resume=saved)
    same_results(resumed, hyper.optimize_many(sgd_run, INITS, optim.adam(0.1), 4, progress=False))


def test_many_trials_bad_input():
    opt = optim.adam(0.1)
    with pytest.raises(TypeError, match="inits must be a list"):
        hyper.optimize_many(sgd_run, INITS[0], opt, 2)
    with pytest.raises(ValueError, match="inits is empty"):
        hyper.optimize_many(sgd_run, [], opt, 2)
    with pytest.raises(TypeError, match=r"seeds= \(not seed=\)"):
        hyper.optimize_many(sgd_run, INITS, opt, 2, seed=3)
    with pytest.raises(ValueError, match="one per trial"):
        hyper.optimize_many(seeded_run, INITS, opt, 2, seeds=[1, 2])
    with pytest.raises(ValueError, match=r"containing \{i\}"):
        hyper.optimize_many(sgd_run, INITS, opt, 2, checkpoint="run.pkl")
    with pytest.raises(TypeError, match="not the string 'adam'"):
        hyper.optimize_many(sgd_run, INITS, "adam", 2)
    with pytest.raises(ValueError, match=r"inits\[1\]: optimize: hyperparameter 'lr' = -0.3 must be > 0"):
        hyper.optimize_many(sgd_run, [INITS[0], {**INITS[1], "lr": -0.3}], opt, 2)
    with pytest.raises(TypeError, match=r"inits\[0\]: optimize: hyperparameter 'opt.momentum' is None"):
        hyper.optimize_many(sgd_run, [{"opt": {"lr": 0.1, "momentum": None}}], opt, 2)
    with ProcessPoolExecutor(1) as pool:
        with pytest.raises(TypeError, match="run cannot be pickled.*not as a lambda"):
            hyper.optimize_many(lambda h: sgd_run(h), INITS, opt, 2, executor=pool)
        with pytest.raises(TypeError, match="callback cannot be pickled"):
            hyper.optimize_many(sgd_run, INITS, opt, 2, executor=pool, callback=lambda row: None)


# ---- B.6 a Dask cluster --------------------------------------------------------------------------------------
def test_dask_local_cluster_gives_the_serial_results(worker_path):
    distributed = pytest.importorskip("distributed")
    serial = hyper.optimize_many(seeded_run, INITS, optim.adam(0.1), 3, seeds=11, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Dask's own notices about ports and versions
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) \
                as cluster, distributed.Client(cluster) as client:
            on_client = hyper.optimize_many(seeded_run, INITS, optim.adam(0.1), 3, seeds=11, executor=client,
                                            progress=False)
            on_executor = hyper.optimize_many(seeded_run, INITS, optim.adam(0.1), 3, seeds=11,
                                              executor=client.get_executor(), progress=False)
            averaged = hyper.hypergrad(seeded_run, INITS[0], seeds=[1, 2, 3], executor=client)
    same_results(on_client, serial)
    same_results(on_executor, serial)
    assert averaged == hyper.hypergrad(seeded_run, INITS[0], seeds=[1, 2, 3])


class Done:
    """A future with nothing but result()."""

    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


class Minimal:
    """The least an executor needs: submit(fn, *args) returning something with result(). It records whether
    the kernels were warmed up before the first piece of work was submitted."""

    def __init__(self, warmed):
        self.warmed, self.seen = warmed, []

    def submit(self, fn, *args, **kwargs):
        self.seen.append(bool(self.warmed))
        return Done(fn(*args, **kwargs))


def test_any_object_with_submit_is_an_executor_and_kernels_are_warmed_first(monkeypatch):
    from tinyad.hyper import executors

    warmed = []
    monkeypatch.setattr(executors, "warmup", lambda: warmed.append(1))
    ex = Minimal(warmed)
    results = hyper.optimize_many(sgd_run, INITS, optim.adam(0.1), 2, executor=ex, progress=False)
    assert ex.seen == [True, True, True]
    same_results(results, hyper.optimize_many(sgd_run, INITS, optim.adam(0.1), 2, progress=False))
