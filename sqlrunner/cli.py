"""The command line: each subcommand is one module of `sqlrunner.commands` with `register`."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
import textwrap
from collections.abc import Sequence

import sqlrunner.commands
from local_engine.errors import EngineError
from pipeline.errors import SqlRunnerError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sqlrunner",
        description=textwrap.fill(
            "Run this project's BigQuery SQL: the sql/ templates on BigQuery after `pulumi "
            "up`, or any BigQuery SQL on the local lake (DuckDB and the model runtimes on this "
            "machine, no cloud account), and look at the predictions.",
            88,
        ),
        epilog="examples:\n"
        "  python -m sqlrunner demo                      # the whole job on sample photos\n"
        '  python -m sqlrunner query "SELECT 1 AS x"     # BigQuery SQL on the local lake\n'
        "  python -m sqlrunner hook --stack dev          # the post-deploy step on BigQuery\n"
        "  python -m sqlrunner COMMAND --help            # what one command does",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
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
