"""`python -m sqlrunner check [TEMPLATE ...] [--outputs FILE]`: GoogleSQL analyzes the templates."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pipeline.googlesql.check import check_templates
from pipeline.googlesql.server import GoogleSqlServer
from pipeline.templates import PIPELINE, SQL_DIR, RenderedTemplate, RenderOptions, render_file
from sqlrunner.outputs_file import add_outputs_arguments, outputs_from_args


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "check",
        help="analyze sql/ templates with GoogleSQL (BigQuery's SQL front end) before running",
        description="Render each template from the stack outputs and analyze every statement, "
        "in order, with GoogleSQL against a catalog of the stack: the object table, the "
        "tables and model earlier statements create, the ML functions. Prints one line per "
        "clean template, or one `error:` line per problem (exit 1).",
    )
    parser.add_argument(
        "files", nargs="*", metavar="TEMPLATE", help="templates (default: every file in sql/)"
    )
    add_outputs_arguments(parser)
    parser.add_argument(
        "--full-refresh", action="store_true", help="check predict.sql as a full rebuild"
    )
    parser.set_defaults(func=run)


def default_templates() -> list[str]:
    return sorted(path.name for path in SQL_DIR.glob("*.sql"))


def run(args: argparse.Namespace) -> int:
    outputs = outputs_from_args(args)
    options = RenderOptions(full_refresh=args.full_refresh)
    templates = [render_file(name, outputs, options) for name in args.files or default_templates()]
    context = [render_file(SQL_DIR / name, outputs, options) for name in PIPELINE]
    with GoogleSqlServer() as server:
        problems = check_templates(server, outputs, templates, context)
    for problem in problems:
        print(problem, file=sys.stderr)
    failed = {p.template for p in problems}
    for template in templates:
        if template.name not in failed:
            print(f"{template.name}: {_statements(template)} analyzed by GoogleSQL, no problems")
    return 1 if problems else 0


def _statements(template: RenderedTemplate) -> str:
    count = len(template.statements)
    return f"{count} statement{'s' if count != 1 else ''}"
