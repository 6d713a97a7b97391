"""`python -m bench --out docs/benchmarks.md [--quick]`: run the benchmark, write the report."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from bench.report import render
from bench.run import REPEATS, BenchConfig, run_benchmark

DEFAULT_COUNT = 200
QUICK_COUNT = 6
QUICK_BATCH = 2
BATCH_SIZE = 32  # the engine's ML.PREDICT batch size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--work", type=Path, default=Path("build/bench"), help="cache and scratch")
    parser.add_argument("--count", type=int, help=f"N photos (default {DEFAULT_COUNT})")
    parser.add_argument("--quick", action="store_true", help="tiny model, a few photos: a check")
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profile")
    parser.add_argument(
        "--repeats",
        type=int,
        help=f"interleaved rounds of the speed cases, each figure the median (default {REPEATS};"
        " 1 with --quick)",
    )
    args = parser.parse_args(argv)
    count = args.count or (QUICK_COUNT if args.quick else DEFAULT_COUNT)
    batch_size = QUICK_BATCH if args.quick else BATCH_SIZE
    if count < batch_size:
        parser.error(f"--count must be at least the batch size, {batch_size}")
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else REPEATS)
    if repeats < 1:
        parser.error("--repeats must be at least 1")
    config = BenchConfig(
        work_dir=args.work.resolve(),
        count=count,
        batch_size=batch_size,
        rounds=1 if args.quick else 2,
        quick=args.quick,
        profile=not args.no_profile,
        repeats=repeats,
    )
    results = run_benchmark(config)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    command = shlex.join(["python", "-m", "bench", *(argv if argv is not None else sys.argv[1:])])
    args.out.write_text(render(results, command))
    print(f"bench: wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
