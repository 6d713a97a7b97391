"""`python -m sqlrunner run FILE... [--outputs outputs.json] [--dry-run] [--local]`."""

from __future__ import annotations

import argparse
import sys
import uuid
from typing import Any

from pipeline.errors import SqlRunnerError
from pipeline.templates import PIPELINE, SQL_DIR, RenderedTemplate, RenderOptions, render_file
from sqlrunner.commands import add_command
from sqlrunner.outputs_file import (
    add_outputs_arguments,
    lake_home,
    local_model_dir,
    outputs_from_args,
)


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "run",
        help="run sql/ templates on BigQuery (or the local engine with --local)",
        description="Render each template from the stack outputs and run its statements in "
        "order: on BigQuery, one job per statement after a dry run; with --local, on the "
        "embedded engine over the lake in HOME.",
        examples=(
            "python -m sqlrunner run sql/labels.sql sql/create_model.sql sql/predict.sql --outputs outputs.json",
            "python -m sqlrunner run sql/predict.sql --outputs outputs.json --dry-run",
            "python -m sqlrunner run --local sql/create_model.sql sql/predict.sql",
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="templates, in the order to run")
    add_outputs_arguments(parser)
    parser.add_argument("--local", action="store_true", help="run on the local engine in HOME")
    parser.add_argument(
        "--dry-run", action="store_true", help="BigQuery dry runs only: statement types and bytes"
    )
    parser.add_argument(
        "--full-refresh", action="store_true", help="predict every object again, not only new ones"
    )
    parser.add_argument("--stack", default="dev", help="stack name for job ids and labels")
    parser.add_argument(
        "--run-key",
        help="job-id key: pass the key of a failed run to resume it without rerunning the "
        "statements that finished (default: a new key per run)",
    )
    parser.add_argument("--maximum-bytes-billed", type=int, help="cap per job, in bytes")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds per job")
    parser.add_argument(
        "--permission-grace",
        type=float,
        default=0.0,
        help="seconds during which permission errors are retried (IAM propagation after deploy)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    outputs = outputs_from_args(args)
    options = RenderOptions(
        full_refresh=args.full_refresh, local_model_dir=local_model_dir(args, outputs)
    )
    templates = [render_file(name, outputs, options) for name in args.files]
    if args.local:
        if args.dry_run:
            raise SqlRunnerError("--dry-run is for BigQuery; the local engine has no dry run")
        run_local(templates, args)
    else:
        if args.dry_run and not check_with_googlesql(templates, outputs, options):
            return 1
        run_bigquery(templates, outputs, args)
    return 0


def check_with_googlesql(
    templates: list[RenderedTemplate], outputs: dict[str, object], options: RenderOptions
) -> bool:
    """`check` before BigQuery's dry runs; False (problems printed) when GoogleSQL rejects."""
    from pipeline.googlesql.preflight import check_before_billing

    context = [render_file(SQL_DIR / name, outputs, options) for name in PIPELINE]
    result = check_before_billing(templates, outputs, context)
    if result.skipped is not None:
        print(f"warning: {result.skipped}", file=sys.stderr)
    if result.problems:
        print(result.report(), file=sys.stderr)
    return not result.problems


def run_local(templates: list[RenderedTemplate], args: argparse.Namespace) -> None:
    from local_engine.engine import LocalEngine
    from sqlrunner.local_runs import LocalExecutor

    with LocalEngine(lake_home(args.home)) as engine:
        executor = LocalExecutor(engine)
        for template in templates:
            result = executor.execute(template)
            for summary in result.statements:
                rows = "" if summary.rows is None else f", {summary.rows} rows"
                print(f"{template.name} statement {summary.index}: {summary.kind}{rows}")


def run_bigquery(
    templates: list[RenderedTemplate], outputs: dict[str, object], args: argparse.Namespace
) -> None:
    from pipeline.bigquery import BigQueryRunner, RunSettings
    from pipeline.bigquery_client import make_client
    from pipeline.retry import RetryPolicy

    project, location = outputs.get("project"), outputs.get("location")
    if not isinstance(project, str) or not isinstance(location, str):
        raise SqlRunnerError("stack outputs 'project' and 'location' are needed to run on BigQuery")
    settings = RunSettings(
        stack=args.stack,
        location=location,
        run_key=args.run_key or uuid.uuid4().hex,
        timeout_s=args.timeout,
        maximum_bytes_billed=args.maximum_bytes_billed,
        dry_run_only=args.dry_run,
    )
    runner = BigQueryRunner(
        make_client(project, location),
        settings,
        RetryPolicy(permission_grace_s=args.permission_grace),
    )
    print(f"run key {settings.run_key}")
    runner.run_templates(templates)
