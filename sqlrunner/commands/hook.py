"""`python -m sqlrunner hook --stack dev`: the post-deploy step by hand, on BigQuery."""

from __future__ import annotations

import argparse
import uuid
from pathlib import Path
from typing import Any

from pipeline.templates import RenderOptions
from sqlrunner.commands import add_command


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "hook",
        help="run the post-deploy step (labels, CREATE MODEL, predict) for a stack",
        description="Read the stack's outputs (`pulumi stack output --json`) and run what "
        "`pulumi up` runs after deploying: sql/labels.sql, sql/create_model.sql and "
        "sql/predict.sql on BigQuery; with --delete, what `pulumi destroy` runs.",
        examples=(
            "python -m sqlrunner hook --stack dev",
            "python -m sqlrunner hook --outputs outputs.json --full-refresh",
            "python -m sqlrunner hook --stack dev --delete",
        ),
    )
    parser.add_argument("--stack", default="dev", help="the Pulumi stack (default dev)")
    parser.add_argument("--cwd", type=Path, help="the Pulumi project directory")
    parser.add_argument(
        "--outputs", type=Path, help="read the outputs from this JSON file instead of pulumi"
    )
    parser.add_argument("--full-refresh", action="store_true", help="predict every object again")
    parser.add_argument(
        "--delete", action="store_true", help="drop the model, predictions and labels instead"
    )
    parser.add_argument(
        "--run-key", help="job-id key of a failed run to resume (default: a new key per run)"
    )
    parser.add_argument(
        "--permission-grace",
        type=float,
        default=300.0,
        help="seconds during which permission and on-demand errors are retried (default 300)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline import post_deploy
    from pipeline.outputs import read_outputs_mapping, read_pulumi_stack_outputs

    if args.outputs:
        outputs = read_outputs_mapping(args.outputs)
    else:
        outputs = dict(read_pulumi_stack_outputs(args.stack, cwd=args.cwd).to_dict())
    inputs = post_deploy.StepInputs.render(
        args.stack,
        outputs,
        {},
        epoch=args.run_key or uuid.uuid4().hex,
        options=RenderOptions(full_refresh=args.full_refresh),
    )
    executor = post_deploy.bigquery_executor(inputs, permission_grace_s=args.permission_grace)
    if args.delete:
        post_deploy.delete(inputs, executor)
        print(f"dropped the model, {inputs.predictions_table_id} and {inputs.labels_table_id}")
        return 0
    result = post_deploy.create(inputs, executor)
    print(f"{result.predictions_table_id}: {result.predictions_rows} rows written")
    return 0
