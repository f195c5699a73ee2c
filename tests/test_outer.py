"""tinyad.hyper.optimize loses nothing: interrupts, errors, resume bit for bit, checkpoints; the history's two
hypergradients; constraints named in messages; exports; clear errors for bad input."""

import csv
import io
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinyad.numpy as tnp
from tinyad import hyper, optim

from .test_optim import CASES, make_run

ROOT = Path(__file__).resolve().parents[1]
H0 = {"lr": 0.05, "momentum": 0.5, "wd": 0.01}


def sgd_run(h):
    """A module-level run (it pickles): 8 SGD steps with momentum and weight decay on a small tanh model."""
    return make_run(CASES["sgd"][0])(h)


def same(a, b, where="result"):
    """Bit-for-bit equality of two nested structures of dicts, lists, tuples, floats and arrays."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), where
        for k in a:
            same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{where}[{i}]")
    elif isinstance(a, (np.ndarray, float, np.floating)):
        x, y = np.asarray(a), np.asarray(b)
        assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), (where, a, b)
    else:
        assert a == b, (where, a, b)


def same_result(a, b):
    same(a.history, b.history, "history")
    same(a.hparams, b.hparams, "hparams")
    assert a.loss == b.loss and a.stopped == b.stopped and a.constraints == b.constraints
    same(a.state["u"], b.state["u"], "u")
    same(a.state["opt_state"], b.state["opt_state"], "optimizer state")
    assert a.state["updates"] == b.state["updates"]


class Interrupt:
    """A run that behaves like ``run`` but raises ``error`` on its ``at``-th call (Ctrl-C, or a failure)."""

    def __init__(self, run, at, error=KeyboardInterrupt):
        self.run, self.at, self.error, self.calls = run, at, error, 0

    def __call__(self, h):
        self.calls += 1
        if self.calls == self.at:
            raise self.error("stop here")
        return self.run(h)


# ---- A.2 resume -------------------------------------------------------------------------------------------
def test_five_plus_five_steps_are_ten_steps_bit_for_bit():
    straight = hyper.optimize(sgd_run, H0, optim.adam(0.1), 10, progress=False)
    first = hyper.optimize(sgd_run, H0, optim.adam(0.1), 5, progress=False)
    assert len(first.history) == 6 and first.state["updates"] == 5
    resumed = hyper.optimize(sgd_run, H0, optim.adam(0.1), 10, progress=False, resume=first)
    same_result(resumed, straight)
    assert resumed.state["opt_state"]["t"] == 10  # Adam's moments and step count carried on
    # what a restart from the hyperparameters alone gives: Adam's moments reset, other numbers
    restart = hyper.optimize(sgd_run, first.hparams, optim.adam(0.1), 5, progress=False)
    assert restart.hparams["lr"] != straight.hparams["lr"]


def test_steps_is_the_total_when_resuming():
    done = hyper.optimize(sgd_run, H0, optim.adam(0.1), 3, progress=False)
    again = hyper.optimize(sgd_run, H0, optim.adam(0.1), 3, progress=False, resume=done)
    same_result(again, done)  # nothing left to do: the same result, no extra evaluation
    with pytest.raises(ValueError, match="total number of outer steps.*already made 3"):
        hyper.optimize(sgd_run, H0, optim.adam(0.1), 2, progress=False, resume=done)


def test_resume_refuses_an_incompatible_call():
    done = hyper.optimize(sgd_run, H0, optim.adam(0.1), 2, progress=False)
    with pytest.raises(ValueError, match="structure of the resumed run"):
        hyper.optimize(sgd_run, {"lr": 0.05, "momentum": 0.5}, optim.adam(0.1), 4, progress=False, resume=done)
    with pytest.raises(ValueError, match="'lr' was tuned as 'positive'.*cannot continue as 'real'"):
        hyper.optimize(sgd_run, H0, optim.adam(0.1), 4, {"lr": "real"}, progress=False, resume=done)
    with pytest.raises(TypeError, match="outer optimizer was <tinyad.optim.adam"):
        hyper.optimize(sgd_run, H0, optim.sgd(0.1), 4, progress=False, resume=done)
    with pytest.raises(ValueError, match="seed"):
        hyper.optimize(sgd_run, H0, optim.adam(0.1), 4, progress=False, resume=done, seed=3)
    with pytest.raises(ValueError, match="no loop state"):
        hyper.optimize(sgd_run, H0, optim.adam(0.1), 4, progress=False, resume=hyper.Result.from_json(done.to_json()))
    with pytest.raises(TypeError, match="resume must be a tinyad.hyper.Result"):
        hyper.optimize(sgd_run, H0, optim.adam(0.1), 4, progress=False, resume=done.history)
    # the optimizer's hyperparameters may change (e.g. a lower outer learning rate after a bad step)
    slower = hyper.optimize(sgd_run, H0, optim.adam(0.01), 4, progress=False, resume=done)
    assert slower.state["updates"] == 4 and len(slower.history) == 5


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_a_run_stopped_at_a_nan_is_not_resumed():
    def run(h):
        return tnp.sqrt(0.2 - h["lr"]) + h["offset"] ** 2

    with pytest.warns(hyper.HypergradientWarning):
        res = hyper.optimize(run, {"lr": 0.1, "offset": 1.0}, optim.sgd(2.0), 20, progress=False)
    with pytest.raises(ValueError, match="non-finite hypergradient.*smaller outer learning rate"):
        hyper.optimize(run, {"lr": 0.1, "offset": 1.0}, optim.sgd(2.0), 20, progress=False, resume=res)


# ---- A.1 interrupts and errors ------------------------------------------------------------------------------
def test_ctrl_c_returns_the_steps_so_far_and_resume_finishes_the_job():
    straight = hyper.optimize(sgd_run, H0, optim.adam(0.1), 6, progress=False)
    with pytest.warns(hyper.StoppedWarning, match="interrupted after 3 outer steps"):
        part = hyper.optimize(Interrupt(sgd_run, 4), H0, optim.adam(0.1), 6, progress=False)
    assert part.stopped == "interrupted" and len(part.history) == 3 and part.state["updates"] == 3
    assert part.warnings and part.warnings[0][0] == "StoppedWarning"
    same(part.history, straight.history[:3])
    same_result(hyper.optimize(sgd_run, H0, optim.adam(0.1), 6, progress=False, resume=part), straight)


@pytest.mark.parametrize("where", ["run", "callback"])
def test_an_exception_from_user_code_carries_the_partial_result(where):
    class Boom(Exception):
        pass

    run, callback = sgd_run, None
    if where == "run":
        run = Interrupt(sgd_run, 3, Boom)
    else:
        def callback(row):
            if row["step"] == 2:
                raise Boom("from the callback")
    with pytest.raises(Boom) as info:
        hyper.optimize(run, H0, optim.adam(0.1), 6, progress=False, callback=callback)
    res = info.value.result
    assert isinstance(res, hyper.Result) and res.stopped.startswith("error: Boom")
    assert len(res.history) == (2 if where == "run" else 3)  # a row reported to the callback is kept
    if sys.version_info >= (3, 11):
        assert any(".result" in note for note in info.value.__notes__)
    straight = hyper.optimize(sgd_run, H0, optim.adam(0.1), 6, progress=False)
    same_result(hyper.optimize(sgd_run, H0, optim.adam(0.1), 6, progress=False, resume=res), straight)


# ---- A.2 checkpoints ------------------------------------------------------------------------------------------
def test_checkpoint_is_written_after_every_step_atomically(tmp_path):
    path = tmp_path / "run.pkl"
    on_disk = []

    def callback(row):  # when row k is reported, the file holds k updates
        on_disk.append(hyper.load_result(path).state["updates"] if path.exists() else None)

    res = hyper.optimize(sgd_run, H0, optim.adam(0.1), 4, progress=False, callback=callback, checkpoint=path)
    assert on_disk == [None, 1, 2, 3, 4]
    same_result(hyper.Result.load(path), res)
    assert os.listdir(tmp_path) == ["run.pkl"]  # no temporary file left behind
    (tmp_path / "other.pkl").write_bytes(pickle.dumps({"not": "a result"}))
    with pytest.raises(TypeError, match="not a tinyad.hyper.Result"):
        hyper.Result.load(tmp_path / "other.pkl")


KILLED = """
import os, signal, sys
from tinyad import hyper, optim
from tests.test_outer import H0, sgd_run

def callback(row):
    if row["step"] == 3:
        os.kill(os.getpid(), signal.SIGKILL)  # the machine dies while step 3 is being reported

hyper.optimize(sgd_run, H0, optim.adam(0.1), 6, progress=False, callback=callback, checkpoint=sys.argv[1])
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_a_killed_process_resumes_from_its_checkpoint_bit_for_bit(tmp_path):
    path = tmp_path / "run.pkl"
    out = subprocess.run([sys.executable, "-c", KILLED, str(path)], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert out.returncode == -signal.SIGKILL, out.stderr
    saved = hyper.load_result(path)
    assert saved.state["updates"] == 3 and len(saved.history) == 3  # only the step in flight was lost
    resumed = hyper.optimize(sgd_run, H0, optim.adam(0.1), 6, progress=False, resume=saved)
    same_result(resumed, hyper.optimize(sgd_run, H0, optim.adam(0.1), 6, progress=False))


# ---- A.3 the two hypergradients in the history --------------------------------------------------------------
def test_history_records_the_hypergradient_in_both_spaces():
    res = hyper.optimize(sgd_run, {**H0, "offset": 0.0}, optim.adam(0.1), 2, progress=False,
                         constraints={"offset": "real"})
    row = res.history[2]
    h = row["hparams"]
    # "hypergrad" is d loss / d h: exactly what hyper.hypergrad gives at those hyperparameters
    same(row["hypergrad"], hyper.hypergrad(lambda hh: sgd_run(hh) + hh["offset"] ** 2, h)[1])
    # "hypergrad_unconstrained" is d loss / d u, with lr = exp(u), momentum = sigmoid(u), offset = u ...
    g, gu = row["hypergrad"], row["hypergrad_unconstrained"]
    assert gu["lr"] == pytest.approx(g["lr"] * h["lr"], rel=1e-12)
    assert gu["momentum"] == pytest.approx(g["momentum"] * h["momentum"] * (1 - h["momentum"]), rel=1e-12)
    assert gu["offset"] == g["offset"]
    # ... checked by finite differences in u
    e = 1e-6
    at = lambda u: sgd_run({**h, "lr": np.exp(u)})  # noqa: E731
    fd = (at(np.log(h["lr"]) + e) - at(np.log(h["lr"]) - e)) / (2 * e)
    assert gu["lr"] == pytest.approx(fd, rel=1e-6)


# ---- A.4 constraints --------------------------------------------------------------------------------------------
def test_constraint_errors_name_the_hyperparameter():
    with pytest.raises(ValueError, match=r"hyperparameter 'lr' = -0\.1 must be > 0.*default: 'lr' is in POSITIVE"):
        hyper.optimize(sgd_run, {**H0, "lr": -0.1}, optim.adam(0.1), 1, progress=False)
    with pytest.raises(ValueError, match=r"hyperparameter 'momentum' = 1\.0 must lie strictly inside \(0, 1\)"):
        hyper.optimize(sgd_run, {**H0, "momentum": 1.0}, optim.adam(0.1), 1, progress=False)
    with pytest.raises(ValueError, match="constraint given for hyperparameter 'wd' must be one of"):
        hyper.optimize(sgd_run, H0, optim.adam(0.1), 1, {"wd": "nonneg"}, progress=False)
    with pytest.raises(ValueError, match=r"unknown hyperparameters \['weight_decay'\]"):
        hyper.optimize(sgd_run, H0, optim.adam(0.1), 1, {"weight_decay": "real"}, progress=False)


def test_progress_reports_each_constraint_and_auto_follows_the_terminal(capsys, monkeypatch):
    def run(h):
        return (h["log_lr"] - 1.0) ** 2 + (h["lr"] - 0.2) ** 2

    res = hyper.optimize(run, {"log_lr": -2.3, "lr": 0.1}, optim.adam(0.1), 2, progress=True)
    err = capsys.readouterr().err
    assert "log_lr: real (h = u; default: 'log_lr' is in neither POSITIVE nor UNIT)" in err
    assert "lr: positive (h = exp(u); default: 'lr' is in POSITIVE)" in err
    assert res.constraints == {"log_lr": "real", "lr": "positive"}
    hyper.optimize(run, {"log_lr": -2.3, "lr": 0.1}, optim.adam(0.1), 2)  # "auto", and stderr is no terminal
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    hyper.optimize(run, {"log_lr": -2.3, "lr": 0.1}, optim.adam(0.1), 2)
    assert "log_lr: real" in capsys.readouterr().err


# ---- A.5 exports and plots ----------------------------------------------------------------------------------------
def per_weight_result():
    def run(h):
        return tnp.sum((h["lrs"] - np.array([[0.3, 0.1]])) ** 2) + (h["momentum"] - 0.7) ** 2

    return hyper.optimize(run, {"lrs": np.array([[0.1, 0.2]]), "momentum": 0.5}, optim.adam(0.1), 3, progress=False)


def test_csv_has_a_row_per_step_and_a_column_per_number():
    res = per_weight_result()
    rows = list(csv.DictReader(io.StringIO(res.to_csv())))
    assert list(rows[0]) == ["step", "loss", "lrs[0,0]", "lrs[0,1]", "momentum", "hypergrad:lrs[0,0]",
                             "hypergrad:lrs[0,1]", "hypergrad:momentum", "hypergrad_unconstrained:lrs[0,0]",
                             "hypergrad_unconstrained:lrs[0,1]", "hypergrad_unconstrained:momentum"]
    assert len(rows) == 4
    for row, h in zip(rows, res.history):
        assert int(row["step"]) == h["step"] and float(row["loss"]) == h["loss"]
        assert float(row["lrs[0,1]"]) == h["hparams"]["lrs"][0, 1]
        assert float(row["hypergrad_unconstrained:momentum"]) == h["hypergrad_unconstrained"]["momentum"]
    means = list(csv.DictReader(io.StringIO(res.to_csv(arrays="mean"))))
    assert float(means[2]["hypergrad:lrs[mean]"]) == np.mean(res.history[2]["hypergrad"]["lrs"])


def test_json_round_trip(tmp_path):
    res = per_weight_result()
    text = res.to_json(tmp_path / "r.json")
    assert (tmp_path / "r.json").read_text() == text
    back = hyper.Result.from_json(tmp_path / "r.json")
    same(back.history, res.history)
    same(back.hparams, res.hparams)
    assert back.loss == res.loss and back.constraints == res.constraints and back.state is None


def test_plot_leaves_the_matplotlib_backend_alone(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    before = matplotlib.get_backend()
    other = "svg" if before.lower() != "svg" else "pdf"
    matplotlib.use(other)
    try:
        fig = per_weight_result().plot(tmp_path / "h.png")
        assert matplotlib.get_backend().lower() == other
        assert fig.__class__.__name__ == "Figure" and (tmp_path / "h.png").stat().st_size > 1000
    finally:
        matplotlib.use(before)


# ---- A.6 clear errors ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, error, match", [
    ({"hparams": {"lr": "0.1"}}, TypeError, "hyperparameter 'lr' is the string '0.1'"),
    ({"hparams": {"lr": 0.1, "momentum": None}}, TypeError, "hyperparameter 'momentum' is None"),
    ({"hparams": {"lr": float("nan")}}, ValueError, "hyperparameter 'lr' = nan is not finite"),
    ({"hparams": {}}, ValueError, "no hyperparameters"),
    ({"outer_opt": "adam"}, TypeError, r"not the string 'adam': pass e.g. tinyad.optim.adam\(0.05\)"),
    ({"outer_opt": optim.adam}, TypeError, r"the class Adam.*tinyad.optim.adam\(0.05\)"),
    ({"steps": 2.5}, TypeError, "steps must be a whole number"),
    ({"steps": -1}, ValueError, "steps must be >= 0"),
    ({"mode": "backward"}, ValueError, "mode must be 'forward'.*or 'reverse'"),
    ({"run": "sgd_run"}, TypeError, "run must be a function"),
    ({"run": lambda h: None}, TypeError, r"returned None.*forget a `return`"),
    ({"run": lambda h: "0.5"}, TypeError, "must return the validation loss as a float, got str"),
    ({"run": lambda h: h["lr"] * np.ones(3)}, TypeError, r"must return a scalar.*shape \(3,\)"),
    ({"run": lambda h: h["lr"] * 1j}, TypeError, "real float"),
    ({"callback": 3}, TypeError, "callback must be a function"),
    ({"run": lambda h: 1}, TypeError, r"run \(<lambda>\) must return the validation loss as a float, got int"),
    ({"hparams": {"a.b": 0.1, "a": {"b": 0.2}}}, ValueError, "two hyperparameters are both named 'a.b'"),
])
def test_bad_input_is_named(kwargs, error, match):
    args = {"run": sgd_run, "hparams": {"lr": 0.1}, "outer_opt": optim.adam(0.1), "steps": 2, **kwargs}
    with pytest.raises(error, match=match):
        hyper.optimize(args.pop("run"), args.pop("hparams"), args.pop("outer_opt"), args.pop("steps"),
                       progress=False, **args)


def test_reverse_mode_also_names_a_missing_return():
    with pytest.raises(TypeError, match="returned None"):
        hyper.hypergrad(lambda h: None, {"lr": 0.1}, mode="reverse")


@pytest.mark.parametrize("hparams", [None, {}, []])
def test_hypergrad_needs_hyperparameters(hparams):
    with pytest.raises(ValueError, match="hypergrad: hparams has no hyperparameters"):
        hyper.hypergrad(lambda h: 1.0, hparams)


def test_optuna_pruning_goes_through_with_the_partial_result():
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    partial = []

    def objective(trial):
        h = {"lr": trial.suggest_float("lr", 0.01, 0.3, log=True), "momentum": 0.5, "wd": 0.01}

        def report(row):
            trial.report(row["loss"], row["step"])
            if row["step"] == 2:  # a pruner's decision, made certain for the test
                raise optuna.TrialPruned()

        try:
            return hyper.optimize(sgd_run, h, optim.adam(0.1), 5, progress=False, callback=report).loss
        except optuna.TrialPruned as e:
            partial.append(e.result)
            raise

    study = optuna.create_study()
    study.optimize(objective, n_trials=2)
    assert [t.state for t in study.trials] == [optuna.trial.TrialState.PRUNED] * 2
    assert [len(r.history) for r in partial] == [3, 3]
    assert study.trials[0].intermediate_values == {k: partial[0].history[k]["loss"] for k in range(3)}


def test_a_checkpoint_that_cannot_be_written_is_refused_before_the_first_step(tmp_path):
    calls = []

    def counted(h):
        calls.append(1)
        return sgd_run(h)

    for bad, error in ((tmp_path / "missing" / "c.pkl", FileNotFoundError), (tmp_path, ValueError), (3, TypeError)):
        with pytest.raises(error, match="checkpoint"):
            hyper.optimize(counted, {"lr": 0.1}, optim.adam(0.1), 2, progress=False, checkpoint=bad)
    assert not calls


def test_load_and_from_json_say_which_format_a_file_is(tmp_path):
    res = hyper.optimize(sgd_run, H0, optim.adam(0.1), 1, progress=False)
    res.to_json(tmp_path / "r.json")
    res.save(tmp_path / "r.pkl")
    with pytest.raises(ValueError, match="looks like JSON: use Result.from_json"):
        hyper.Result.load(tmp_path / "r.json")
    with pytest.raises(ValueError, match="is not JSON .* Result.load"):
        hyper.Result.from_json(tmp_path / "r.pkl")
