"""Where the stack outputs come from: `--outputs FILE`, else the local lake's HOME/outputs.json."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from pipeline.outputs import read_outputs_mapping
from sqlrunner.commands import add_home_argument

DEFAULT_HOME = Path(".lake")


def lake_home(home: str | None) -> Path:
    """--home, else $SQLRUNNER_HOME, else .lake/ (docs/engine.md)."""
    return Path(home or os.environ.get("SQLRUNNER_HOME") or DEFAULT_HOME)


def add_outputs_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--outputs",
        type=Path,
        help="stack outputs JSON (`pulumi stack output --json`); default HOME/outputs.json",
    )
    add_home_argument(parser)


def outputs_from_args(args: argparse.Namespace) -> dict[str, Any]:
    path: Path = args.outputs or lake_home(args.home) / "outputs.json"
    return read_outputs_mapping(path)
