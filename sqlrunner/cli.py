"""`python -m sqlrunner SUBCOMMAND ...`: each subcommand lives in `sqlrunner.commands.<name>`.

A command module exposes `register(subparsers)`, which adds its parser and sets
`func` to a callable taking the parsed namespace and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

import sqlrunner.commands
from local_engine.errors import EngineError
from pipeline.errors import SqlRunnerError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sqlrunner", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(sqlrunner.commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"sqlrunner.commands.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (SqlRunnerError, EngineError) as exc:
        message = " ".join(str(exc).split())
        print(f"error: {message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
