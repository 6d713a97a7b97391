"""One benchmark run: build what it needs, measure cases A to E, B's memory and growth, BF16.

Every case runs in its own fresh process, one after another, on the same photos and
the same model. The speed cases (A's candidates, B at N in FP32 and BF16, C, D, E)
run in interleaved rounds and each one's figure is its median round (bench/rounds.py);
the long runs (B at 10xN, ML.PREDICT alone, B on ONNX Runtime, the profile) run once.
A case that fails is recorded with its error and the run goes on, so the report
always says what was and was not measured.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np

from bench import cases, preprocess
from bench.converted import convert_with_tf2onnx, engine_onnx
from bench.engine_run import PREDICT_ONLY, EngineRun
from bench.engine_run import run_subprocess as run_engine
from bench.lake import CONNECTION, BenchLake
from bench.machine import MachineInfo, describe_machine
from bench.photos import write_photos
from bench.profile import ProfileSummary, profile_engine
from bench.rounds import Repeated, interleaved
from bench.tensors import photo_tensors
from bench.timing import Throughput
from bench.trained import TrainedFigures, measure_trained
from bench.workspace import Workspace

T = TypeVar("T")
WARMUP_IMAGES = 32
REPEATS = 3  # interleaved rounds of the speed cases
DECODE_PAIRS = 2  # alternating BF16 runs at 10xN, decoding before and beside
PER_CORE = "one process pinned to one core"
B_AT_N, B_BF16 = "B at N", "B in BF16 at N"
BESIDE = {"SQLRUNNER_DECODE": "beside"}  # the engine's default here is "before"
B_BESIDE, B_BF16_BESIDE = "B at N, decoding beside", "B in BF16 at N, decoding beside"


@dataclass(frozen=True)
class BenchConfig:
    work_dir: Path
    count: int
    growth_factor: int = 10
    batch_size: int = 32
    rounds: int = 2  # passes over the pre-built batches within one case process
    quick: bool = False
    profile: bool = True
    repeats: int = REPEATS

    @property
    def warmup_count(self) -> int:
        """Photos of the warm-up predict.sql each engine process runs before the timed one."""
        return 2 if self.quick else WARMUP_IMAGES


@dataclass
class CaseResult:
    name: str
    throughput: Throughput | None = None  # the median round's
    settings: str = ""
    error: str | None = None
    samples: list[float] = field(default_factory=list)  # images/s of every round, in order


@dataclass(frozen=True)
class Measurement:
    """What one round of a speed case gives: its throughput, and B's whole run."""

    throughput: Throughput
    settings: str = ""
    engine: EngineRun | None = None


@dataclass
class Bf16Result:
    refused: str | None = None
    runtime_speedup: float | None = None
    engine_speedup: float | None = None
    top1_agreement: float | None = None
    engine_top1_agreement: float | None = None
    max_prob_diff: float | None = None
    distinct_top1: int | None = None
    error: str | None = None


@dataclass
class BenchResults:
    config: BenchConfig
    machine: MachineInfo
    model: str = ""
    onnx_source: str = ""
    conversion_seconds: float | None = None
    runtimes: list[CaseResult] = field(default_factory=list)
    peer_loop: CaseResult = field(default_factory=lambda: CaseResult("C"))
    tf_batched: CaseResult = field(default_factory=lambda: CaseResult("D"))
    preprocess_engine: CaseResult = field(default_factory=lambda: CaseResult("E"))
    preprocess_tf: CaseResult = field(default_factory=lambda: CaseResult("E (TensorFlow ops)"))
    engine_n: EngineRun | None = None
    engine_10n: EngineRun | None = None
    engine_bf16: EngineRun | None = None
    engine_onnxruntime: EngineRun | None = None
    predict_only_n: EngineRun | None = None
    predict_only_10n: EngineRun | None = None
    engine_onnxruntime_error: str | None = None
    engine_error: str | None = None
    engine_n_samples: list[float] = field(default_factory=list)  # B at N, every round
    engine_bf16_samples: list[float] = field(default_factory=list)
    # B at N with SQLRUNNER_DECODE=beside: the next batch decoded while the model runs.
    decode_beside: CaseResult | None = None
    decode_beside_bf16: CaseResult | None = None
    # BF16 at 10xN, where decoding weighs most: images/s decoding before (the default)
    # and beside, alternating, DECODE_PAIRS runs of each.
    decode_10n_bf16: dict[str, list[float]] = field(default_factory=dict)
    bf16: Bf16Result = field(default_factory=Bf16Result)
    profile: ProfileSummary | None = None
    profile_error: str | None = None
    seconds: float = 0.0
    load_before: float = 0.0
    load_after: float = 0.0
    log: list[str] = field(default_factory=list)
    # The trained EfficientNet-Lite0's BF16 agreement and throughput (bench.trained).
    trained: TrainedFigures | None = None
    trained_error: str | None = None

    def ceiling(self) -> CaseResult | None:
        """The fastest FP32 runtime setting on pre-built batches (case A)."""
        fp32 = [r for r in self.runtimes if r.throughput and "BF16" not in r.name]
        return max(
            fp32, key=lambda r: r.throughput.per_second if r.throughput else 0.0, default=None
        )


def _error_text(exc: BaseException) -> str:
    """The last line of the message: a failed subprocess's error is the tail of its stderr."""
    lines = str(exc).strip().splitlines()
    return lines[-1] if lines else type(exc).__name__


def _attempt(log: list[str], what: str, step: Callable[[], T]) -> tuple[T | None, str | None]:
    start = time.perf_counter()
    print(f"bench: {what} ...", flush=True)
    try:
        value = step()
    except Exception as exc:  # recorded in the report: a benchmark reports what failed
        message = _error_text(exc)
        log.append(f"{what}: FAILED: {message}")
        print(f"bench: {what} FAILED: {message}", flush=True)
        return None, message
    log.append(f"{what}: {time.perf_counter() - start:.1f} s")
    return value, None


def build_model(config: BenchConfig) -> tuple[Path, str]:
    models = config.work_dir / "models"
    if config.quick:
        from sqlrunner.modelzoo.tiny import build_tiny_savedmodel

        target = models / "tiny"
        if not (target / "saved_model.pb").is_file():
            shutil.rmtree(target, ignore_errors=True)
            build_tiny_savedmodel(target)
        return (
            target,
            "tiny test model (ResNet-50 signature, one dense layer; not ResNet-50's cost)",
        )
    from sqlrunner.modelzoo.standin import cached_standin

    standin = cached_standin(models)
    return standin, "ResNet-50 stand-in (real architecture and cost, untrained weights)"


def prepare_lake(
    config: BenchConfig, model_dir: Path, photos: list[Path]
) -> tuple[BenchLake, float]:
    """A fresh lake: photos, object tables, labels, model; returns CREATE MODEL's seconds."""
    from local_engine.engine import LocalEngine

    home = config.work_dir / "lake"
    shutil.rmtree(home, ignore_errors=True)
    lake = BenchLake(home)
    counts = sorted({config.warmup_count, config.count, config.count * config.growth_factor})
    for count in counts:
        lake.add_photos(photos, count)
    lake.add_model(model_dir)
    with LocalEngine(home, progress=False) as engine:
        engine.create_connection(CONNECTION)
        engine.execute(lake.setup_sql(counts))
        start = time.perf_counter()
        engine.execute(lake.create_model_sql())
        return lake, time.perf_counter() - start


def _case_result(name: str, outcome: Repeated[Measurement]) -> CaseResult:
    """A speed case's median round, with every round's rate."""
    median = outcome.median(lambda m: m.throughput.per_second)
    samples = [m.throughput.per_second for m in outcome.runs]
    if median is None:
        return CaseResult(name, error=outcome.error, samples=samples)
    return CaseResult(name, median.throughput, median.settings, outcome.error, samples)


def _engine_median(outcome: Repeated[Measurement]) -> EngineRun | None:
    median = outcome.median(lambda m: m.throughput.per_second)
    return median.engine if median else None


def _timed_case(space: Workspace, case: str) -> Measurement:
    throughput, settings = cases.run_subprocess(space, case)
    return Measurement(throughput, settings)


def _timed_engine(
    home: Path, count: int, warmup: int, env: dict[str, str] | None = None
) -> Measurement:
    run = run_engine(home, count, warmup, env=env)
    return Measurement(Throughput(images=run.count, seconds=run.seconds), engine=run)


def _preprocess(photos_dir: Path, count: int, impl: str) -> Measurement:
    rate = preprocess.run_subprocess(photos_dir, count, impl)
    return Measurement(Throughput(images=count, seconds=count / rate), PER_CORE)


def run_benchmark(config: BenchConfig) -> BenchResults:
    started = time.perf_counter()
    results = BenchResults(config=config, machine=describe_machine())
    results.load_before = os.getloadavg()[0]
    log = results.log
    threads = results.machine.cores
    warmup = config.warmup_count
    total = config.count * config.growth_factor

    photos_dir = config.work_dir / "photos"
    photos, _ = _attempt(
        log, f"write {total} photos", lambda: write_photos(photos_dir, total, workers=threads)
    )
    if photos is None:
        raise RuntimeError("could not write the benchmark photos")
    model, error = _attempt(log, "build the model", lambda: build_model(config))
    if model is None:
        raise RuntimeError(f"could not build the model: {error}")
    model_dir, results.model = model

    lake_and_seconds, results.engine_error = _attempt(
        log, "set up the lake and CREATE MODEL", lambda: prepare_lake(config, model_dir, photos)
    )
    lake = lake_and_seconds[0] if lake_and_seconds else None
    if lake_and_seconds:
        results.conversion_seconds = lake_and_seconds[1]

    onnx_path = engine_onnx(lake.home) if lake else None
    if onnx_path is not None:
        shown = onnx_path.relative_to(lake.home) if lake else onnx_path
        results.onnx_source = f"the engine's conversion (HOME/{shown})"
    else:
        onnx_path = config.work_dir / "onnx" / f"{model_dir.name}.onnx"
        _attempt(log, "convert with tf2onnx", lambda: convert_with_tf2onnx(model_dir, onnx_path))
        results.onnx_source = "tf2onnx in the benchmark (the engine left no .onnx file)"

    space = Workspace(
        root=config.work_dir,
        photos_dir=photos_dir,
        savedmodel_dir=model_dir,
        onnx_path=onnx_path,
        count=config.count,
        batch_size=config.batch_size,
        rounds=config.rounds,
        threads=threads,
    )
    space.save()
    _attempt(
        log,
        "pre-build tensors",
        lambda: np.save(space.tensors_path, photo_tensors(photos[: config.count])),
    )

    bf16_ok = results.machine.bf16
    runtime_cases = [
        ("onnxruntime_fp32", "ONNX Runtime"),
        ("openvino_f32", "OpenVINO"),
        ("openvino_f32_streams", "OpenVINO (streams)"),
    ]
    if bf16_ok:
        runtime_cases.append(("openvino_bf16", "OpenVINO BF16"))
    else:
        results.bf16.refused = "the CPU lists neither avx512_bf16 nor amx_bf16 in /proc/cpuinfo"
    steps: dict[str, Callable[[], Measurement]] = {
        f"A: {name}": partial(_timed_case, space, case) for case, name in runtime_cases
    }
    steps["C: TensorFlow per-image loop"] = partial(_timed_case, space, "tensorflow_loop")
    steps["D: TensorFlow batched"] = partial(_timed_case, space, "tensorflow_batched")
    steps["E: engine decode+resize"] = partial(_preprocess, photos_dir, config.count, "engine")
    steps["E: TensorFlow decode+resize"] = partial(
        _preprocess, photos_dir, config.count, "tensorflow"
    )
    if lake is not None:
        bf16_env = {"SQLRUNNER_PRECISION": "bf16"}
        steps[B_AT_N] = partial(_timed_engine, lake.home, config.count, warmup)
        steps[B_BESIDE] = partial(_timed_engine, lake.home, config.count, warmup, BESIDE)
        if bf16_ok:
            steps[B_BF16] = partial(_timed_engine, lake.home, config.count, warmup, bf16_env)
            steps[B_BF16_BESIDE] = partial(
                _timed_engine, lake.home, config.count, warmup, {**bf16_env, **BESIDE}
            )
    outcomes = interleaved(steps, config.repeats, partial(_attempt, log))
    results.runtimes = [_case_result(name, outcomes[f"A: {name}"]) for _, name in runtime_cases]
    results.peer_loop = _case_result("C", outcomes["C: TensorFlow per-image loop"])
    results.tf_batched = _case_result("D", outcomes["D: TensorFlow batched"])
    results.preprocess_engine = _case_result("E", outcomes["E: engine decode+resize"])
    results.preprocess_tf = _case_result(
        "E (TensorFlow ops)", outcomes["E: TensorFlow decode+resize"]
    )

    if lake is not None:
        b_at_n = outcomes[B_AT_N]
        results.engine_n, results.engine_error = _engine_median(b_at_n), b_at_n.error
        results.engine_n_samples = [m.throughput.per_second for m in b_at_n.runs]
        results.decode_beside = _case_result("B, decoding beside", outcomes[B_BESIDE])
        if bf16_ok:
            b_bf16 = outcomes[B_BF16]
            results.engine_bf16, results.bf16.error = _engine_median(b_bf16), b_bf16.error
            results.engine_bf16_samples = [m.throughput.per_second for m in b_bf16.runs]
            results.decode_beside_bf16 = _case_result(
                "B in BF16, decoding beside", outcomes[B_BF16_BESIDE]
            )
        results.engine_10n, error = _attempt(
            log, f"B at {total}", lambda: run_engine(lake.home, total, warmup)
        )
        results.engine_error = results.engine_error or error
        predict_only = partial(run_engine, lake.home, warmup_count=warmup, query=PREDICT_ONLY)
        results.predict_only_n, _ = _attempt(
            log, f"ML.PREDICT alone at {config.count}", partial(predict_only, count=config.count)
        )
        results.predict_only_10n, _ = _attempt(
            log, f"ML.PREDICT alone at {total}", partial(predict_only, count=total)
        )
        if bf16_ok:
            decode_steps = {
                mode: partial(
                    run_engine,
                    lake.home,
                    total,
                    warmup,
                    env={"SQLRUNNER_PRECISION": "bf16", "SQLRUNNER_DECODE": mode},
                )
                for mode in ("before", "beside")
            }
            pairs = interleaved(decode_steps, DECODE_PAIRS, partial(_attempt, log))
            results.decode_10n_bf16 = {
                mode: [run.per_second for run in outcome.runs] for mode, outcome in pairs.items()
            }
        results.engine_onnxruntime, results.engine_onnxruntime_error = _attempt(
            log,
            f"B on ONNX Runtime at {config.count}",
            lambda: run_engine(
                lake.home, config.count, warmup, env={"SQLRUNNER_RUNTIME": "onnxruntime"}
            ),
        )
        if config.profile:
            results.profile, results.profile_error = _attempt(
                log,
                "profile B",
                lambda: profile_engine(lake.home, config.count, warmup, config.work_dir),
            )
    _compare_bf16(results, space)
    results.trained, results.trained_error = _attempt(
        log,
        "trained model: BF16 against FP32, own throughput",
        lambda: measure_trained(config.work_dir, config.count, config.batch_size, threads),
    )
    results.seconds = time.perf_counter() - started
    results.load_after = os.getloadavg()[0]
    save_results(results, config.work_dir / "results.json")
    return results


def save_results(results: BenchResults, path: Path) -> None:
    """Every figure of the run as JSON, beside the caches, for a closer look later."""
    path.write_text(json.dumps(asdict(results), indent=1, default=str) + "\n")


def _compare_bf16(results: BenchResults, space: Workspace) -> None:
    bf16 = results.bf16
    by_name = {r.name: r for r in results.runtimes if r.throughput}
    fp32, low = by_name.get("OpenVINO"), by_name.get("OpenVINO BF16")
    if fp32 and low and fp32.throughput and low.throughput:
        bf16.runtime_speedup = low.throughput.per_second / fp32.throughput.per_second
    fp32_path, bf16_path = space.probs_path("openvino_f32"), space.probs_path("openvino_bf16")
    if fp32_path.is_file() and bf16_path.is_file():
        a, b = np.load(fp32_path), np.load(bf16_path)
        bf16.top1_agreement = float(np.mean(a.argmax(1) == b.argmax(1)))
        bf16.max_prob_diff = float(np.abs(a - b).max())
        bf16.distinct_top1 = len(set(a.argmax(1).tolist()))
    if results.engine_bf16 and results.engine_n:
        bf16.engine_speedup = results.engine_bf16.per_second / results.engine_n.per_second
        same = np.asarray(results.engine_bf16.top1) == np.asarray(results.engine_n.top1)
        bf16.engine_top1_agreement = float(np.mean(same)) if len(same) else None
