"""Write a benchmark's figures into a marked section of a docs page, leaving the prose around it alone.

A section is everything between ``<!-- begin NAME -->`` and ``<!-- end NAME -->``; a benchmark run with
``--write-docs`` replaces it, so the page's figures always come from one run of one script.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path

import numpy as np


def machine() -> str:
    """One line naming what the figures were measured on."""
    return (f"{os.cpu_count()} cores ({platform.machine()}), Python {platform.python_version()}, "
            f"NumPy {np.__version__}, {time.strftime('%Y-%m-%d')}")


def table(columns: tuple[str, ...], rows: list[tuple[str, dict]]) -> str:
    """A markdown table: the work in the first column, then one cell per column ("" where not measured)."""
    lines = ["| work | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    lines += ["| " + work + " | " + " | ".join(cells.get(c, "") for c in columns) + " |" for work, cells in rows]
    return "\n".join(lines)


def replace_section(path: Path, name: str, text: str) -> None:
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    page = path.read_text()
    if begin not in page or end not in page:
        raise SystemExit(f"{path} has no section {begin} ... {end} to write the figures into")
    head, rest = page.split(begin, 1)
    path.write_text(head + begin + "\n" + text.strip("\n") + "\n" + end + rest.split(end, 1)[1])
    print(f"\nwrote the figures into {path} (section {name!r})")
