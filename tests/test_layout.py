"""The package's shape: every module imports on its own, and imports sit at the top of their modules.

The layers themselves (each importing only from below, no cycles) are checked by ``lint-imports`` with
the contracts in pyproject.toml; .ci/run runs it.
"""

import ast
import pkgutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import tinyad

ROOT = Path(tinyad.__file__).resolve().parent
# Optional dependencies may be imported where they are needed, so that tinyad runs without them.
OPTIONAL = {"matplotlib", "tqdm", "sklearn", "threadpoolctl"}


def all_modules() -> list[str]:
    names = ["tinyad"]
    for info in pkgutil.walk_packages([str(ROOT)], prefix="tinyad."):
        if not info.name.endswith(".__main__"):  # `python -m tinyad`: running it is its job
            names.append(info.name)
    return sorted(names)


def _import_alone(name: str) -> str | None:
    r = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True, text=True, timeout=300)
    return f"{name}: {r.stderr.strip().splitlines()[-1]}" if r.returncode else None


def test_every_module_imports_alone_in_a_fresh_interpreter():
    modules = all_modules()
    assert len(modules) > 40
    with ThreadPoolExecutor(4) as pool:
        failures = [f for f in pool.map(_import_alone, modules) if f]
    assert not failures, "\n".join(failures)


def test_no_imports_inside_functions_except_optional_dependencies():
    found = []
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    roots = {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom):
                    roots = {"." if node.level else (node.module or "").split(".")[0]}
                else:
                    continue
                if not roots <= OPTIONAL:
                    found.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} in {fn.name}()")
    assert not found, "function-level imports of non-optional modules:\n" + "\n".join(found)
