"""Every ```python block of the README and of docs/*.md runs as written, as a script of its own.

The convention (stated in docs/scale.md): each block is a complete script; a first line
``# requires: a, b`` names modules it needs, and the block is skipped where one of them is missing.
"""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path: Path) -> list[tuple[str, str]]:
    """(title, code) of each ```python block; the title is the heading above it."""
    out, heading = [], path.name
    for m in re.finditer(r"^(#+ [^\n]*)$|^```python\n(.*?)^```$", path.read_text(), re.M | re.S):
        if m.group(1):
            heading = m.group(1).lstrip("# ").strip()
        else:
            out.append((heading, m.group(2)))
    return out


def requirements(code: str) -> list[str]:
    first = code.splitlines()[0]
    return [r.strip() for r in first.split(":", 1)[1].split(",")] if first.startswith("# requires:") else []


BLOCKS = [(f"{doc.name}: {title}", code) for doc in DOCS for title, code in blocks(doc)]


def test_the_docs_have_their_recipes():
    titles = [t for t, _ in BLOCKS]
    for name in ("standard library", "Seed-averaged", "loky", "Dask", "Ray", "mpi4py", "Optuna", "hybrid.md: Tuning"):
        assert any(name in t for t in titles), name


def test_the_constraint_table_lists_the_default_rule():
    from tinyad.optim.constraints import POSITIVE, UNIT

    text = (ROOT / "docs" / "hybrid.md").read_text()
    rows = {line.split("|")[1].strip(" `"): line for line in text.splitlines() if line.startswith("| `")}
    assert set(rows) == {"positive", "unit", "real"}
    for name in POSITIVE:
        assert f"`{name}`" in rows["positive"], name
    for name in UNIT:
        assert f"`{name}`" in rows["unit"], name
    assert rows["positive"].count("`") // 2 == len(POSITIVE) + 1 and rows["unit"].count("`") // 2 == len(UNIT) + 1


@pytest.mark.slow
@pytest.mark.parametrize("title, code", BLOCKS, ids=[t for t, _ in BLOCKS])
def test_code_block_runs(title, code, tmp_path):
    missing = [r for r in requirements(code) if importlib.util.find_spec(r) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    script = tmp_path / "block.py"
    script.write_text(code)
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("TINYAD_SCHEDULER", None)
    if "mpi4py" in requirements(code):  # Open MPI refuses to start as root (containers, CI) unless told
        env.update({f"{p}_ALLOW_RUN_AS_ROOT{c}": "1" for p in ("OMPI", "PRTE") for c in ("", "_CONFIRM")})
    out = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=180)
    assert out.returncode == 0, f"{title}:\n{out.stdout}\n{out.stderr}"


def test_the_performance_page_holds_measured_figures():
    """docs/performance.md's figures are written by the benchmarks (python3 benchmarks/jit.py --write-docs,
    python3 benchmarks/run.py --write-docs); the sections must hold them, not sit empty."""
    text = (ROOT / "docs" / "performance.md").read_text()
    jit = text.split("<!-- begin jit -->")[1].split("<!-- end jit -->")[0]
    assert "| work | hand NumPy | tinyad eager | tinyad jit | JAX jit |" in jit
    assert jit.count("\n| ") >= 8 and "Measured by `python3 benchmarks/jit.py" in jit
    engine = text.split("<!-- begin engine -->")[1].split("<!-- end engine -->")[0]
    assert engine.count("\n- ") >= 10 and "Measured by `python3 benchmarks/run.py" in engine
