"""The ``tinyad`` command (also ``python -m tinyad``): ``tinyad demo NAME [options]``, ``tinyad --version``.

Everything after the demo's name goes to that demo's own parser, so ``tinyad demo mlp --help`` prints the
MLP demo's options and a bad value is reported by the demo, naming the option.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from ._version import __version__
from .demos import DEMOS, SUMMARIES


def _parsers() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The ``tinyad`` parser and its ``demo`` subcommand's parser."""
    ap = argparse.ArgumentParser(prog="tinyad", description="tinyad: hypergradients by dual numbers "
                                 "through backprop.")
    ap.add_argument("--version", action="version", version=f"tinyad {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    width = max(map(len, DEMOS))
    listing = "\n".join(f"  {name:<{width}}  {SUMMARIES[name]}" for name in DEMOS)
    demo = sub.add_parser(
        "demo", help="run a demo (tinyad demo --help lists them)", usage="%(prog)s [-h] NAME [demo options]",
        description="Run one of tinyad's demos. Options after NAME go to that demo: "
                    "tinyad demo NAME --help lists them.",
        epilog=f"demos:\n{listing}", formatter_class=argparse.RawDescriptionHelpFormatter)
    demo.add_argument("name", metavar="NAME", nargs="?", choices=list(DEMOS), help="which demo (listed below)")
    # REMAINDER after a positional takes everything that follows, "--help" included, for the demo's parser.
    demo.add_argument("options", nargs=argparse.REMAINDER, metavar="...", help="the demo's own options")
    return ap, demo


def main(argv: list[str] | None = None) -> int:
    ap, demo = _parsers()
    args = ap.parse_args(sys.argv[1:] if argv is None else list(argv))
    if args.command == "demo":
        if args.name is None:
            demo.error(f"name a demo: one of {', '.join(DEMOS)} (tinyad demo --help describes them)")
        importlib.import_module(DEMOS[args.name]).main(args.options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
