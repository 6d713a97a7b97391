"""`python -m bench.serve`: what serving the lake over REST costs against calling the engine.

In one process and one run, interleaved round by round: ML.PREDICT over N photos with
the ResNet-50 stand-in, (a) through `LocalEngine.execute` and (b) through
google-cloud-bigquery against `LakeServer` (jobs.insert, polling, every page of rows as
JSON), each ending with the rows as Python values; then a one-row query's latency both
ways. It prints a Markdown section with the ratios (REST over in-process).
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.lake import DATASET, BenchLake
from bench.machine import describe_machine
from bench.photos import write_photos
from bigquery_facts import LOCAL_PROJECT

DEFAULT_COUNT = 64
DEFAULT_ROUNDS = 3
SMALL_QUERY_REPEATS = 40
SMALL_QUERY = "SELECT 1 AS x"


def predict_scores_sql(count: int) -> str:
    """The walkthrough's ML.PREDICT, keeping what a client reads: each image's 1001 scores."""
    return (
        "SELECT uri, activation_49\n"
        f"FROM ML.PREDICT(MODEL `{LOCAL_PROJECT}.{DATASET}.resnet`, (\n"
        "  SELECT uri, ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 224, 224, FALSE) AS input_1\n"
        f"  FROM `{LOCAL_PROJECT}.{DATASET}.photos_n{count}`))"
    )


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def prepare(work: Path, count: int, tiny: bool) -> BenchLake:
    from local_engine.engine import LocalEngine
    from sqlrunner.modelzoo.standin import cached_standin
    from sqlrunner.modelzoo.tiny import build_tiny_savedmodel

    lake = BenchLake(work / "lake")
    photos = write_photos(work / "photos", count, workers=2)
    if tiny:
        model = work / "tiny"
        if not (model / "saved_model.pb").exists():
            build_tiny_savedmodel(model)
    else:
        model = cached_standin(work / "models")
    lake.add_photos(photos, count)
    lake.add_model(model)
    with LocalEngine(lake.home, progress=False) as engine:
        if "us.lake-connection" not in engine.connections():
            engine.create_connection("us.lake-connection")
        engine.execute(lake.setup_sql([count]))
        engine.execute(lake.create_model_sql())
    return lake


def measure(lake: BenchLake, count: int, rounds: int) -> dict[str, Any]:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    from local_engine.engine import LocalEngine
    from local_engine.rest.server import LakeServer

    sql = predict_scores_sql(count)
    times: dict[str, list[float]] = {"in_process": [], "rest": []}
    small: dict[str, list[float]] = {"in_process": [], "rest_insert": [], "rest_query": []}
    with LocalEngine(lake.home, progress=False) as engine, LakeServer(lake.home) as server:
        client = bigquery.Client(
            project=LOCAL_PROJECT,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=server.endpoint),
        )

        def in_process() -> None:
            table = engine.execute(sql).table
            assert table is not None and table.num_rows == count
            table.to_pylist()

        def rest() -> None:
            rows = list(client.query(sql).result())
            assert len(rows) == count and len(rows[0]["activation_49"]) == 1001

        in_process()  # warm-up: loads the model on both paths' shared cache
        rest()
        for _ in range(rounds):
            times["in_process"].append(timed(in_process))
            times["rest"].append(timed(rest))
        for _ in range(SMALL_QUERY_REPEATS):
            small["in_process"].append(timed(lambda: engine.execute(SMALL_QUERY).table))
            small["rest_insert"].append(timed(lambda: list(client.query(SMALL_QUERY).result())))
            small["rest_query"].append(timed(lambda: list(client.query_and_wait(SMALL_QUERY))))
    return {
        "predict": {k: statistics.median(v) for k, v in times.items()},
        "predict_rounds": times,
        "small": {k: statistics.median(v) for k, v in small.items()},
    }


def render(figures: dict[str, Any], count: int, rounds: int, tiny: bool, command: str) -> str:
    predict = figures["predict"]
    small = figures["small"]
    machine = describe_machine()
    model = "the tiny test model" if tiny else "the ResNet-50 stand-in (real architecture and cost)"
    lines = [
        "## The lake over REST (`python -m sqlrunner serve`) against in-process",
        "",
        f"Command: `{command}`, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {machine.cpu_model},"
        f" {machine.cores} cores. Server and client in one process; every figure is a"
        " median, the cases interleaved. Load average (1 min) before the run:"
        f" {figures['load'][0]:.2f}, after: {figures['load'][1]:.2f}.",
        "",
        f"ML.PREDICT over {count} JPEG photos (640x480) with {model}, reading each image's"
        " 1001 scores: in-process is `LocalEngine.execute` and the rows as Python values;"
        " REST is google-cloud-bigquery's `query().result()` against the server (jobs.insert,"
        f" polling, every page of rows as JSON). Median of {rounds} rounds.",
        "",
        "| path | seconds | images/s |",
        "|---|---|---|",
        f"| in-process | {predict['in_process']:.2f} | {count / predict['in_process']:.1f} |",
        f"| REST | {predict['rest']:.2f} | {count / predict['rest']:.1f} |",
        "",
        f"REST / in-process time: **{predict['rest'] / predict['in_process']:.3f}**.",
        "",
        f"A one-row query (`{SMALL_QUERY}`), median of {SMALL_QUERY_REPEATS} each:",
        "",
        "| path | milliseconds | ratio to in-process |",
        "|---|---|---|",
    ]
    base = small["in_process"]
    for key, what in (
        ("in_process", "in-process `LocalEngine.execute`"),
        ("rest_insert", "REST `client.query(...).result()` (jobs.insert, getQueryResults)"),
        ("rest_query", "REST `client.query_and_wait(...)` (jobs.query)"),
    ):
        lines.append(f"| {what} | {small[key] * 1000:.1f} | {small[key] / base:.1f} |")
    rounds_text = ", ".join(
        f"{a:.2f}/{b:.2f}"
        for a, b in zip(
            figures["predict_rounds"]["in_process"], figures["predict_rounds"]["rest"], strict=True
        )
    )
    lines += ["", f"Rounds (in-process/REST seconds): {rounds_text}.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serve", description=__doc__)
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="photos to predict")
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help="rounds per path")
    parser.add_argument("--work", type=Path, default=Path("build/bench-serve"))
    parser.add_argument("--tiny", action="store_true", help="the tiny model: a quick check")
    args = parser.parse_args(argv)
    if args.count < 1 or args.rounds < 1:
        parser.error("--count and --rounds must be at least 1")
    lake = prepare(args.work, args.count, args.tiny)
    load_before = os.getloadavg()[0]
    figures = measure(lake, args.count, args.rounds)
    figures["load"] = (load_before, os.getloadavg()[0])
    command = shlex.join(["python", "-m", "bench.serve", *(argv or sys.argv[1:])])
    print(render(figures, args.count, args.rounds, args.tiny, command))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
