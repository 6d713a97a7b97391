"""`python -m sqlrunner query [--home DIR] [--format table|json|csv] [--gcs] (SQL | --file F ...)`.

Runs the statements in order on the local engine and prints the rows of the last one
that returned rows. Any failure: exit code 1 and one `error:` line naming the statement.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from pipeline.errors import SqlRunnerError
from sqlrunner.commands import add_command, add_home_argument
from sqlrunner.outputs_file import lake_home

FORMATS = ("table", "json", "csv")


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "query",
        help="run BigQuery SQL on the local engine",
        description="Run ;-separated BigQuery statements on the local lake and print the rows "
        "of the last statement that returns rows.",
        examples=(
            'python -m sqlrunner query "SELECT uri, size FROM resnet_inference_test.vision_images"',
            "python -m sqlrunner query --file walkthrough.sql --format json",
        ),
    )
    parser.add_argument("sql", nargs="?", help="the SQL to run (or use --file)")
    parser.add_argument(
        "--file",
        "-f",
        action="append",
        type=Path,
        default=[],
        metavar="F",
        help="read SQL from F (repeatable, run in order; '-' reads stdin)",
    )
    add_home_argument(parser)
    parser.add_argument("--format", choices=FORMATS, default="table", help="output format")
    parser.add_argument(
        "--gcs",
        action="store_true",
        help="list and read gs:// objects through Cloud Storage (also when STORAGE_EMULATOR_HOST "
        "is set) instead of HOME/gcs",
    )
    parser.set_defaults(func=run)


def read_sql(args: argparse.Namespace) -> str:
    if args.sql is not None and args.file:
        raise SqlRunnerError("give the SQL as an argument or with --file, not both")
    if args.sql is not None:
        return str(args.sql)
    if not args.file:
        raise SqlRunnerError("no SQL given: pass it as an argument or with --file F")
    parts = []
    for path in args.file:
        if str(path) == "-":
            parts.append(sys.stdin.read())
            continue
        try:
            parts.append(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise SqlRunnerError(f"cannot read {path}: {exc.strerror}") from exc
    # A file need not end its last statement with ';'.
    return ";\n".join(parts)


def run(args: argparse.Namespace) -> int:
    from local_engine.engine import LocalEngine
    from local_engine.formats import render

    sql = read_sql(args)
    with LocalEngine(lake_home(args.home), use_gcs=args.gcs) as engine:
        result = engine.execute(sql)
    text = render(result.table, args.format)
    if text:
        print(text)
    return 0
