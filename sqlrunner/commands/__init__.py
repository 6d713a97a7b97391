"""One module per CLI subcommand, each with `register(subparsers)`; the options they share."""

from __future__ import annotations

import argparse
import textwrap
from collections.abc import Sequence
from typing import Any


def add_command(
    subparsers: Any, name: str, *, help: str, description: str, examples: Sequence[str]
) -> argparse.ArgumentParser:
    """A subcommand whose `--help` says what it does for its user and ends with examples."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=help,
        description=textwrap.fill(description, 88),
        epilog="examples:\n" + "\n".join(f"  {example}" for example in examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def add_home_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--home", default=None, help="local lake directory (default $SQLRUNNER_HOME or .lake)"
    )
