"""What the demos' command lines share: a parser named for the demo, and argument types.

Each type is an ``argparse`` ``type=``: it turns the text into a number or raises ``ArgumentTypeError``, so a bad
value stops the command at once with exit code 2 and a message naming the option ("argument --T: must be
a positive integer, got '-5'") instead of silently running zero steps or failing deep inside a demo.
"""

from __future__ import annotations

import argparse
import math
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


def int_at_least(low: int) -> Callable[[str], int]:
    """An integer >= ``low``."""
    return _checked(int, lambda n: n >= low, f"an integer >= {low}")
