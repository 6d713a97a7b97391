"""`python -m bench --quick`: every case runs and the report holds real figures.

This checks that the benchmark works end to end (tiny model, 6 photos, 60 for 10xN);
it never checks that anything is fast.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

import pytest

import bench.run
from bench.machine import cpu_has_bf16
from bench.profile import py_spy_path
from bench.report import render
from bench.rounds import Repeated, interleaved
from bench.run import DECODE_PAIRS, BenchConfig, BenchResults, run_benchmark
from bench.workspace import REPO_ROOT

# The quick run starts a dozen processes that load TensorFlow or OpenVINO.
pytestmark = pytest.mark.slow

T = TypeVar("T")
COUNT = 6
# The run is told REPEATS rounds but runs one: each round is a dozen processes that load
# TensorFlow or OpenVINO. tests/bench/test_report.py checks the interleaving of several
# rounds; here a spy checks that the run asks for the rounds it was told.
REPEATS = 3


ROUNDS_ASKED: list[int] = []


def _one_round(
    steps: Mapping[str, Callable[[], T]],
    repeats: int,
    attempt: Callable[[str, Callable[[], T]], tuple[T | None, str | None]],
) -> dict[str, Repeated[T]]:
    ROUNDS_ASKED.append(repeats)
    return interleaved(steps, 1, attempt)


@pytest.fixture(scope="module")
def quick_results(
    tmp_path_factory: pytest.TempPathFactory,
    tiny_savedmodel: Path,
    efficientnet_savedmodel: Path,
    efficientnet_onnx: Path,
) -> Iterator[BenchResults]:
    work = tmp_path_factory.mktemp("bench")
    # The session's builds where the run keeps its own, so it builds neither again; its
    # CREATE MODEL finds the tiny model's conversion in the session's cache, and the trained
    # model's conversion is the session's (tests/bench/test_trained.py covers converting).
    shutil.copytree(tiny_savedmodel, work / "models" / "tiny")
    shutil.copytree(efficientnet_savedmodel, work / "models" / efficientnet_savedmodel.name)
    onnx = work / "onnx" / f"{efficientnet_savedmodel.name}.onnx"
    onnx.parent.mkdir()
    shutil.copy(efficientnet_onnx, onnx)
    config = BenchConfig(
        work_dir=work, count=COUNT, batch_size=2, rounds=1, quick=True, repeats=REPEATS
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bench.run, "interleaved", _one_round)
        yield run_benchmark(config)


def test_the_speed_cases_are_asked_for_the_rounds_configured(
    quick_results: BenchResults,
) -> None:
    # The speed cases at REPEATS rounds; the BF16 decode pairs, if any, at their own count.
    assert ROUNDS_ASKED[0] == REPEATS
    assert ROUNDS_ASKED[1:] in ([], [DECODE_PAIRS])


def test_every_case_measured_a_positive_rate(quick_results: BenchResults) -> None:
    cases = [
        *quick_results.runtimes,
        quick_results.peer_loop,
        quick_results.tf_batched,
        quick_results.preprocess_engine,
        quick_results.preprocess_tf,
    ]
    for case in cases:
        assert case.error is None, f"{case.name}: {case.error}"
        assert case.throughput is not None and case.throughput.per_second > 0, case.name
        assert len(case.samples) == 1 and case.throughput.per_second in case.samples
    assert {r.name for r in quick_results.runtimes} >= {"ONNX Runtime", "OpenVINO"}
    assert quick_results.onnx_source.startswith("the engine's conversion")


def test_engine_predicted_every_photo_at_n_and_10n(quick_results: BenchResults) -> None:
    assert quick_results.engine_error is None
    small, large = quick_results.engine_n, quick_results.engine_10n
    assert small is not None and large is not None
    assert (small.count, small.rows) == (COUNT, COUNT)
    assert (large.count, large.rows) == (10 * COUNT, 10 * COUNT)
    assert small.seconds > 0 and large.seconds > 0
    # Peak RSS of a Python process that imported the engine: far above zero, far below 10 GB.
    assert 50 < small.peak_rss_mb < 10_000 and 50 < large.peak_rss_mb < 10_000
    assert all(0 <= index <= 1000 for index in small.top1)
    assert len(quick_results.engine_n_samples) == 1
    assert small.per_second in quick_results.engine_n_samples


def test_ml_predict_alone_returned_every_photo(quick_results: BenchResults) -> None:
    small, large = quick_results.predict_only_n, quick_results.predict_only_10n
    assert small is not None and large is not None
    assert (small.rows, large.rows) == (COUNT, 10 * COUNT)


@pytest.mark.skipif(not cpu_has_bf16(), reason="the CPU has no BF16 instructions")
def test_bf16_compared_with_fp32(quick_results: BenchResults) -> None:
    runs = quick_results.decode_10n_bf16
    assert len(runs["before"]) == len(runs["beside"]) == 1
    assert all(rate > 0 for rate in runs["before"] + runs["beside"])
    bf16 = quick_results.bf16
    assert bf16.error is None and bf16.refused is None
    assert bf16.engine_speedup is not None and bf16.engine_speedup > 0
    assert bf16.top1_agreement is not None and 0 <= bf16.top1_agreement <= 1
    assert bf16.max_prob_diff is not None and bf16.max_prob_diff < 0.5


@pytest.mark.skipif(py_spy_path() is None, reason="py-spy is not installed")
def test_profile_sampled_the_engine(quick_results: BenchResults) -> None:
    assert quick_results.profile_error is None
    profile = quick_results.profile
    assert profile is not None and profile.samples > 0
    assert abs(sum(share for _, share in profile.stages) - 100.0) < 1e-6


def test_report_has_every_section_and_figure(quick_results: BenchResults) -> None:
    text = render(quick_results, "python -m bench --quick")
    for heading in (
        "## Images per second",
        "## Targets",
        "## Memory and growth",
        "## Missed targets",
    ):
        assert heading in text
    assert "Quick mode" in text
    speeds = text.split("## Images per second", 1)[1].split("##", 1)[0]
    rows = [line for line in speeds.splitlines() if line.startswith(("| A |", "| B |", "| C |"))]
    assert len(rows) == 3 and not any("failed" in row for row in rows)
    assert f"| B at 10xN | {10 * COUNT} |" in text
    decode = text.split("## Decoding before or beside inference", 1)[1].split("##", 1)[0]
    assert "| B at N, FP32 |" in decode
    rounds = text.split("## Rounds", 1)[1].split("##", 1)[0]
    # A column per configured round (the spy ran only the first).
    assert "| case | round 1 | round 2 | round 3 | median | spread |" in rounds
    assert "| B at N |" in rounds and "| D |" in rounds


def test_cli_help_names_quick_mode() -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO_ROOT,
    )
    assert "--quick" in completed.stdout and "--out" in completed.stdout


def test_the_trained_model_was_measured_and_reported(quick_results: BenchResults) -> None:
    from bench.report import render
    from bench.trained import SECTION_START

    assert quick_results.trained_error is None
    trained = quick_results.trained
    assert trained is not None
    assert trained.images == COUNT and trained.fp32.per_second > 0
    assert trained.model.startswith("EfficientNet-Lite0 (trained")
    if quick_results.machine.bf16:
        assert trained.bf16 is not None and trained.bf16.per_second > 0
        assert trained.top1_agreement is not None and 0.0 <= trained.top1_agreement <= 1.0
        assert trained.top5_overlap is not None and 0.0 < trained.top5_overlap <= 1.0
        assert trained.max_prob_diff is not None and trained.max_prob_diff < 0.5
    else:
        assert trained.bf16_refused is not None and trained.bf16 is None
    report = render(quick_results, "python -m bench --quick")
    assert report.count(SECTION_START) == 1
    assert "| EfficientNet-Lite0 FP32 |" in report
    assert "BF16 mean top-5 overlap" in report or "refused" in report
