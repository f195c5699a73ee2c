"""What the demos' command lines share: a parser named for the demo, and argument types.

Each type is an ``argparse`` ``type=``: it turns the text into a number or raises ``ArgumentTypeError``, so a bad
value stops the command at once with exit code 2 and a message naming the option ("argument --T: must be
a positive integer, got '-5'") instead of silently running zero steps or failing deep inside a demo.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path
from typing import Callable, TypeVar

N = TypeVar("N", int, float)


def demo_parser(name: str, doc: str) -> argparse.ArgumentParser:
    """The parser of ``tinyad demo NAME``, described by the first paragraph of the demo's docstring."""
    return argparse.ArgumentParser(prog=f"tinyad demo {name}", description=doc.split("\n\n")[0])


def _checked(convert: Callable[[str], N], ok: Callable[[N], bool], what: str) -> Callable[[str], N]:
    def parse(text: str) -> N:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"must be {what}, got {text!r}")
        return value

    return parse


positive_int = _checked(int, lambda n: n >= 1, "a positive integer")
non_negative_int = _checked(int, lambda n: n >= 0, "a non-negative integer")
positive_float = _checked(float, lambda x: math.isfinite(x) and x > 0, "a positive finite number")
non_negative_float = _checked(float, lambda x: math.isfinite(x) and x >= 0, "a non-negative finite number")
unit_interval = _checked(float, lambda x: 0 < x < 1, "a number strictly between 0 and 1")


_IMAGE_SUFFIXES = {".png", ".pdf", ".svg", ".svgz", ".jpg", ".jpeg", ".eps", ".ps", ".tif", ".tiff", ".webp"}


def plot_file(text: str) -> str:
    """Where a demo saves its figure, checked before the run (a long demo must not fail at its very end):
    a file in an existing, writable directory, with an image suffix (``.png`` added when there is none, as
    matplotlib does)."""
    path = Path(text).expanduser()
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a directory; give a file name such as "
                                         f"{str(path / 'plot.png')!r}")
    if not path.suffix:
        path = path.with_name(path.name + ".png")
    elif path.suffix.lower() not in _IMAGE_SUFFIXES:
        raise argparse.ArgumentTypeError(f"{text!r}: an image file must end in one of {sorted(_IMAGE_SUFFIXES)}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"the folder {str(folder)!r} of {text!r} does not exist")
    if not os.access(folder, os.W_OK):
        raise argparse.ArgumentTypeError(f"the folder {str(folder)!r} of {text!r} is not writable")
    return str(path)


def int_at_least(low: int) -> Callable[[str], int]:
    """An integer >= ``low``."""
    return _checked(int, lambda n: n >= low, f"an integer >= {low}")
