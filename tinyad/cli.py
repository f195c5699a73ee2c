"""The ``tinyad`` command: ``tinyad demo NAME [options]`` (``tinyad demo --help`` lists them)."""

from __future__ import annotations

import argparse
import importlib
import sys

from .demos import DEMOS


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = argparse.ArgumentParser(prog="tinyad", description="tinyad: hypergradients by dual numbers "
                                 "through backprop.")
    sub = ap.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run a demo", description="Demos: " + ", ".join(DEMOS) +
                          ". Options after the name go to the demo (tinyad demo mlp --help).")
    demo.add_argument("name", choices=sorted(DEMOS))
    args, rest = ap.parse_known_args(argv)
    if args.command == "demo":
        importlib.import_module(DEMOS[args.name]).main(rest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
