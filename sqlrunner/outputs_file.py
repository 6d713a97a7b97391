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


def local_model_dir(args: argparse.Namespace, outputs: dict[str, Any]) -> Path | None:
    """The model's SavedModel directory in the local lake, when `model_files_uri` names one
    there (HOME/gcs/BUCKET/PATH); rendering then checks it against the model outputs."""
    uri = outputs.get("model_files_uri")
    if outputs.get("model_type") != "TENSORFLOW" or not isinstance(uri, str):
        return None
    if not uri.startswith("gs://"):
        return None
    folder = lake_home(args.home) / "gcs" / uri.removeprefix("gs://").rstrip("*").rstrip("/")
    return folder if (folder / "saved_model.pb").is_file() else None
