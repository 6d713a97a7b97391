"""Case B in its own process: `sql/predict.sql` on the local engine, timed, with peak RSS.

Run as `python -m bench.engine_run --home H --count N [--warmup-count W]`; prints one
JSON object. `--query ml.predict` times ML.PREDICT alone instead of predict.sql. The warm-up runs the same predict.sql over a small object table first,
so the timed run measures the engine's steady throughput, not model loading (whose
cost is reported separately as `warmup_seconds`). Peak RSS is the process's VmHWM,
read at the end, so it covers the warm-up, the run and everything imported.
With --py-spy, py-spy samples only the timed run (that run's timing is not reported).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.lake import BenchLake
from bench.workspace import REPO_ROOT

if TYPE_CHECKING:
    from local_engine.engine import LocalEngine

PREDICT_SQL = "predict.sql"
PREDICT_ONLY = "ml.predict"
QUERIES = (PREDICT_SQL, PREDICT_ONLY)


@dataclass(frozen=True)
class EngineRun:
    count: int
    seconds: float
    warmup_seconds: float
    rows: int
    peak_rss_mb: float
    top1: list[int]

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def _top1_indices(lake: BenchLake, engine: LocalEngine, count: int) -> list[int]:
    table = lake.outputs(count)["predictions_table_id"]
    sql = (
        f"SELECT uri, top_labels[OFFSET(0)].class_index AS class_index FROM `{table}` "
        "WHERE skip_reason IS NULL ORDER BY uri"
    )
    result = engine.execute(sql).table
    if result is None:
        raise RuntimeError(f"no rows from {table}")
    return [int(value) for value in result.column("class_index").to_pylist()]


@contextmanager
def sampled_by_py_spy(py_spy: str | None, raw_path: Path | None) -> Iterator[None]:
    """Record this process with py-spy (all threads, raw collapsed stacks) while inside."""
    if py_spy is None or raw_path is None:
        yield
        return
    command = [py_spy, "record", "--pid", str(os.getpid()), "--format", "raw", "--rate", "100"]
    command += ["--nonblocking", "--idle", "--output", str(raw_path)]
    spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # let py-spy attach before the work starts
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        _, errors = spy.communicate(timeout=60)
        if not raw_path.is_file():
            raise RuntimeError(f"py-spy wrote no profile: {errors.decode()[-2000:]}")


def run_in_process(
    home: Path,
    count: int,
    warmup_count: int,
    py_spy: str | None = None,
    profile_path: Path | None = None,
    query: str = PREDICT_SQL,
) -> EngineRun:
    """Time `query` (predict.sql, or ML.PREDICT alone) over `count` photos in this process."""
    from local_engine.engine import LocalEngine

    lake = BenchLake(home)
    statement = lake.predict_sql if query == PREDICT_SQL else lake.predict_only_sql
    with LocalEngine(home, progress=False) as engine:
        warmup_seconds = 0.0
        if warmup_count:
            start = time.perf_counter()
            engine.execute(statement(warmup_count))
            warmup_seconds = time.perf_counter() - start
        with sampled_by_py_spy(py_spy, profile_path):
            start = time.perf_counter()
            result = engine.execute(statement(count))
            seconds = time.perf_counter() - start
        if query == PREDICT_SQL:
            top1 = _top1_indices(lake, engine, count)
            rows = len(top1)
        else:
            top1 = []
            rows = int(result.table.column("n")[0].as_py()) if result.table else 0
    return EngineRun(count, seconds, warmup_seconds, rows, peak_rss_mb(), top1)


def _without_engine_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment less SQLRUNNER_* settings, so only what a case sets applies."""
    return {k: v for k, v in environ.items() if not k.startswith("SQLRUNNER_")}


def run_subprocess(
    home: Path,
    count: int,
    warmup_count: int,
    profile: tuple[str, Path] | None = None,
    env: dict[str, str] | None = None,
    query: str = PREDICT_SQL,
) -> EngineRun:
    """Run case B in a fresh interpreter with engine defaults, changed only by `env`.

    With `profile` (the py-spy executable, its raw output path) py-spy samples the run.
    """
    command = [sys.executable, "-m", "bench.engine_run", "--home", str(home)]
    command += ["--count", str(count), "--warmup-count", str(warmup_count), "--query", query]
    if profile is not None:
        command += ["--py-spy", profile[0], "--profile", str(profile[1])]
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
        env={**_without_engine_settings(os.environ), **(env or {})},
    )
    if completed.returncode != 0:
        raise RuntimeError(f"engine run failed:\n{completed.stderr[-4000:]}")
    body = json.loads(completed.stdout.strip().splitlines()[-1])
    return EngineRun(**body)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--warmup-count", type=int, default=0)
    parser.add_argument("--query", choices=QUERIES, default=PREDICT_SQL)
    parser.add_argument("--py-spy", help="py-spy executable: sample the timed run")
    parser.add_argument("--profile", type=Path, help="where py-spy writes its raw samples")
    args = parser.parse_args()
    run = run_in_process(
        args.home, args.count, args.warmup_count, args.py_spy, args.profile, args.query
    )
    print(json.dumps(run.__dict__))
    return 0


if __name__ == "__main__":
    sys.exit(main())
