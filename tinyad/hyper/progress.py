"""Progress bars for the outer loop and for many trials: shown on a terminal, silent in logs and workers.

``progress="auto"`` (the default everywhere) shows a bar only when stderr is a terminal, so batch jobs, CI
logs and worker processes print nothing; ``True`` or ``False`` force it. tqdm draws the bar when it is
installed; otherwise a one-line report is rewritten in place.
"""

from __future__ import annotations

import sys
from typing import Any


def wanted(progress: Any) -> bool:
    """Whether to show progress: ``"auto"`` means "stderr is a terminal"."""
    if progress == "auto":
        isatty = getattr(sys.stderr, "isatty", None)
        try:
            return bool(isatty and isatty())
        except ValueError:  # a closed stream
            return False
    if isinstance(progress, bool):
        return progress
    raise ValueError(f"progress must be 'auto', True or False, got {progress!r}")


def bar(total: int, desc: str) -> Any:
    """A progress bar with ``update(n)``, ``set_postfix_str(s)`` and ``close()``."""
    try:
        from tqdm.auto import tqdm

        return tqdm(total=total, desc=desc, file=sys.stderr, leave=True)
    except ImportError:
        return PlainProgress(total, desc)


class PlainProgress:
    """A one-line progress report for when tqdm is not installed."""

    def __init__(self, total: int, desc: str) -> None:
        self.total, self.desc, self.n, self.postfix = total, desc, 0, ""

    def update(self, n: int = 1) -> None:
        self.n += n
        self._show()

    def set_postfix_str(self, s: str) -> None:
        self.postfix = s
        self._show()

    def _show(self) -> None:
        print(f"\r  {self.desc} {self.n}/{self.total}  {self.postfix}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        print(file=sys.stderr)


def say(message: str) -> None:
    """One line of information on stderr (shown only where a progress bar would be)."""
    print(message, file=sys.stderr, flush=True)
