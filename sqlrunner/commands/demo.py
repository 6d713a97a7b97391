"""`python -m sqlrunner demo [--home DIR]`: what `make demo` runs (see sqlrunner.demo)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sqlrunner.commands import add_command, add_home_argument
from sqlrunner.outputs_file import lake_home


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "demo",
        help="run sql/ on the local engine over sample photos (what `make demo` runs)",
        description="Put sample photos into the local lake, get ResNet-50 (real if present or "
        "downloadable, else the untrained stand-in), run sql/ on the local engine and print "
        "the top labels of every image.",
        examples=(
            "python -m sqlrunner demo",
            "python -m sqlrunner demo --home /tmp/lake --offline",
        ),
    )
    add_home_argument(parser)
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=Path("models/resnet_50"),
        help="where `make model` puts the real SavedModel (default models/resnet_50)",
    )
    parser.add_argument(
        "--standin-cache",
        type=Path,
        help="where the untrained stand-in is built and reused (default HOME/cache/standin)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="do not try to download the walkthrough's images or the real model",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sqlrunner.demo import DemoOptions, run_demo

    options = DemoOptions(
        home=lake_home(args.home),
        models_dir=args.models_dir,
        allow_network=not args.offline,
        standin_cache=args.standin_cache,
    )
    run_demo(options)
    return 0
