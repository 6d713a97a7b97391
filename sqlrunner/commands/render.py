"""`python -m sqlrunner render FILE [--outputs outputs.json]`: print a template filled in."""

from __future__ import annotations

import argparse
from typing import Any

from pipeline.templates import RenderOptions, render_file
from sqlrunner.commands import add_command
from sqlrunner.outputs_file import add_outputs_arguments, local_model_dir, outputs_from_args


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "render",
        help="print a sql/ template filled from stack outputs",
        description="Print the SQL of a template with every placeholder filled from the stack "
        "outputs, identifiers validated and back-quoted.",
        examples=(
            "python -m sqlrunner render predict.sql --outputs outputs.json",
            "python -m sqlrunner render predict.sql --full-refresh",
        ),
    )
    parser.add_argument("file", help="template file (a name in sql/, or a path)")
    add_outputs_arguments(parser)
    parser.add_argument(
        "--full-refresh", action="store_true", help="render predict.sql as a full rebuild"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    outputs = outputs_from_args(args)
    options = RenderOptions(
        full_refresh=args.full_refresh, local_model_dir=local_model_dir(args, outputs)
    )
    rendered = render_file(args.file, outputs, options)
    print(rendered.sql, end="" if rendered.sql.endswith("\n") else "\n")
    return 0
