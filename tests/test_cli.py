"""The ``tinyad`` command as a user types it: every demo's help, the version, and bad option values."""

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

import tinyad
from tinyad.cli import main
from tinyad.demos import DEMOS, SUMMARIES

ROOT = Path(__file__).resolve().parents[1]

# Each demo's options, as its --help must list them. A new demo must be added here.
OPTIONS = {
    "quadratic": ["--alpha", "--inner-steps", "--outer-steps", "--hyper-lr", "--plot"],
    "mlp": ["--outer-steps", "--T", "--lr", "--momentum", "--weight-decay", "--outer-lr", "--plot", "--quiet",
            "--no-jit"],
    "hd": ["--steps", "--plot"],
    "stack": ["--steps", "--plot"],
    "reversible": ["--T", "--meta-steps", "--distil-meta-steps", "--plot"],
    "fluid": ["--size", "--steps", "--iterations", "--plot", "--no-plot"],
    "implicit": ["--outer-steps", "--lam0", "--outer-lr", "--solver", "--tol", "--plot"],
}


def tinyad_command(*args):
    """``python -m tinyad ARGS`` in a fresh process, importing this checkout's tinyad (cwd is on sys.path)."""
    return subprocess.run([sys.executable, "-m", "tinyad", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_every_demo_is_listed_here():
    assert set(OPTIONS) == set(DEMOS) == set(SUMMARIES)


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_demo_help_prints_that_demos_options(name):
    out = tinyad_command("demo", name, "--help")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"usage: tinyad demo {name} ")
    for option in OPTIONS[name]:
        assert option in out.stdout, f"{option} missing from tinyad demo {name} --help"


def test_demo_help_lists_the_demos_with_a_line_each():
    out = tinyad_command("demo", "--help")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    for name, summary in SUMMARIES.items():
        assert any(line.split() == [name, *summary.split()] for line in lines), name


def test_demo_without_a_name_lists_them(capsys):
    with pytest.raises(SystemExit) as e:
        main(["demo"])
    assert e.value.code == 2
    assert "name a demo: one of " + ", ".join(DEMOS) in capsys.readouterr().err


def test_options_reach_the_demo(capsys):
    assert main(["demo", "quadratic", "--outer-steps", "2", "--inner-steps", "3"]) == 0
    assert "loss at inner step 2" in capsys.readouterr().out


def test_version_has_one_source():
    from tinyad import _version

    assert tinyad.__version__ == _version.__version__
    out = tinyad_command("--version")
    assert out.returncode == 0 and out.stdout.split() == ["tinyad", tinyad.__version__]
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" in config["project"]["dynamic"] and "version" not in config["project"]
    assert config["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "tinyad._version.__version__"}


def built_from_this_checkout(dist):
    if Path(dist.locate_file("")).resolve() == ROOT:  # the tinyad.egg-info that pip install -e . writes here
        return True
    url = json.loads(dist.read_text("direct_url.json") or "{}").get("url", "")  # an installed .dist-info
    return url.startswith("file:") and Path(unquote(urlparse(url).path)).resolve() == ROOT


def test_installed_metadata_has_the_same_version():
    """The metadata pip installed from this checkout (pip install -e . in CI) has ``tinyad.__version__``."""
    mine = [d for d in importlib.metadata.distributions(name="tinyad") if built_from_this_checkout(d)]
    if not mine:
        pytest.skip("tinyad is not installed from this checkout")
    for dist in mine:
        assert dist.version == tinyad.__version__, "stale metadata: run python3 -m pip install -e . again"


@pytest.mark.parametrize("name, args", [
    ("mlp", ["--outer-steps", "-3"]),
    ("mlp", ["--T", "-5"]),
    ("mlp", ["--T", "0"]),
    ("mlp", ["--T", "2.5"]),
    ("mlp", ["--lr", "nan"]),
    ("mlp", ["--lr", "inf"]),
    ("mlp", ["--lr", "-1"]),
    ("mlp", ["--momentum", "1.5"]),
    ("mlp", ["--momentum", "0"]),
    ("mlp", ["--weight-decay", "-1"]),
    ("mlp", ["--outer-lr", "0"]),
    ("quadratic", ["--inner-steps", "2.5"]),
    ("quadratic", ["--outer-steps", "0"]),
    ("quadratic", ["--alpha", "nan"]),
    ("quadratic", ["--hyper-lr", "0"]),
    ("hd", ["--steps", "2.5"]),
    ("hd", ["--weight-decay", "-0.001"]),
    ("hd", ["--weight-decay", "nan"]),
    ("stack", ["--steps", "0"]),
    ("reversible", ["--T", "-1"]),
    ("reversible", ["--T", "2"]),
    ("reversible", ["--seeds", "0"]),
    ("reversible", ["--workers", "0"]),
    ("reversible", ["--seed", "-1"]),
    ("reversible", ["--meta-steps", "-1"]),
    ("reversible", ["--distil-meta-steps", "x"]),
    ("fluid", ["--size", "0"]),
    ("fluid", ["--steps", "2.5"]),
    ("fluid", ["--iterations", "-1"]),
])
def test_bad_value_is_an_error_naming_the_option(name, args, capsys):
    with pytest.raises(SystemExit) as e:
        main(["demo", name, *args])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert f"tinyad demo {name}: error: argument {args[0]}: must be " in err and repr(args[1]) in err


@pytest.mark.parametrize("name", ["quadratic", "mlp", "hd", "stack", "reversible", "implicit", "fluid"])
def test_a_plot_path_that_cannot_be_written_stops_before_the_run(name, tmp_path, capsys):
    # a long demo must not run for minutes and then fail to save its figure
    for bad, word in ((str(tmp_path / "missing" / "x.png"), "does not exist"), (str(tmp_path), "is a directory"),
                      (str(tmp_path / "x.txt"), "an image file must end in")):
        with pytest.raises(SystemExit) as e:
            main(["demo", name, "--plot", bad])
        assert e.value.code == 2 and word in capsys.readouterr().err


def test_a_plot_name_without_a_suffix_is_saved_and_reported_as_png(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    main(["demo", "quadratic", "--outer-steps", "1", "--plot", str(tmp_path / "curves")])
    assert (tmp_path / "curves.png").exists() and str(tmp_path / "curves.png") in capsys.readouterr().out


def test_bad_value_exits_2_from_the_command_line():
    out = tinyad_command("demo", "mlp", "--lr", "nan")
    assert out.returncode == 2 and "argument --lr: must be a positive finite number, got 'nan'" in out.stderr
