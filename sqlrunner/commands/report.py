"""`python -m sqlrunner report [--local | --outputs outputs.json] --out FILE.html`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sqlrunner.commands import add_command, add_home_argument
from sqlrunner.outputs_file import lake_home


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "report",
        help="write a self-contained HTML page of the predictions table",
        description="Summary, a chart of the most frequent top-1 labels and one card per "
        "image (thumbnail, top-5 labels), from the local lake or a deployed stack.",
        examples=(
            "python -m sqlrunner report --local --home .lake",
            "python -m sqlrunner report --outputs outputs.json --out report.html",
        ),
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--local",
        action="store_true",
        help="read the local lake in HOME through the local engine (the default)",
    )
    source.add_argument(
        "--outputs",
        type=Path,
        metavar="FILE",
        help="a stack's outputs (`pulumi stack output --json`): read BigQuery and Cloud Storage",
    )
    add_home_argument(parser)
    parser.add_argument(
        "--table", help="local predictions table (default: HOME/outputs.json's, if any)"
    )
    parser.add_argument(
        "--out", type=Path, help="HTML file to write (default HOME/report.html, or report.html)"
    )
    parser.add_argument(
        "--max-cards",
        type=int,
        default=None,
        help="at most this many image cards (default 500); the page says how many it shows",
    )
    parser.add_argument(
        "--no-thumbnails", action="store_true", help="leave the images out of the cards"
    )
    parser.add_argument(
        "--gcs",
        action="store_true",
        help="with --local: read gs:// objects through Cloud Storage (also when "
        "STORAGE_EMULATOR_HOST is set) instead of HOME/gcs",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pipeline.errors import SqlRunnerError
    from pipeline.outputs import read_outputs
    from sqlrunner import report

    max_cards = report.DEFAULT_MAX_CARDS if args.max_cards is None else args.max_cards
    thumbnails = not args.no_thumbnails
    if args.outputs is not None:
        if args.table or args.gcs:
            raise SqlRunnerError(
                "--table and --gcs are for --local; a stack's table comes from --outputs"
            )
        path, data = report.write_bigquery_report(
            read_outputs(args.outputs),
            args.out or Path(report.REPORT_FILE_NAME),
            max_cards=max_cards,
            thumbnails=thumbnails,
        )
    else:
        path, data = report.write_local_report(
            lake_home(args.home),
            args.out,
            table_id=args.table,
            max_cards=max_cards,
            thumbnails=thumbnails,
            use_gcs=args.gcs,
        )
    print(f"wrote {path} ({len(data.cards)} of {data.summary.images} images as cards)")
    return 0
