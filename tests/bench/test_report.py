"""The report's arithmetic: profile grouping, ratios against the targets, missed targets."""

from __future__ import annotations

from pathlib import Path

from bench.engine_run import EngineRun
from bench.machine import MachineInfo
from bench.profile import summarise
from bench.report import checks, render
from bench.rounds import Repeated, interleaved
from bench.run import BenchConfig, BenchResults, CaseResult
from bench.timing import Throughput

RAW_PROFILE = """\
<module> (engine_run.py:10);_finish (predict.py:200);predict (models.py:50);infer (openvino/runtime.py:9) 60
<module> (engine_run.py:10);preprocess_image (predict.py:180);decode_rgb (decode.py:70);load (PIL/ImageFile.py:300) 25
<module> (engine_run.py:10);preprocess_image (predict.py:181);resize_bilinear (imageops.py:80) 10
<module> (engine_run.py:10);execute (engine.py:111);sql (duckdb/__init__.py:1) 5
_bootstrap (threading.py:1002);_worker (concurrent/futures/thread.py:81);get (queue.py:171);wait (threading.py:331) 40
_bootstrap (threading.py:1002);_worker (/venv/lib/python3.11/concurrent/futures/thread.py:81) 30
"""


def test_profile_groups_samples_by_stage_and_leaf_function() -> None:
    summary = summarise(RAW_PROFILE)
    # The parked pool workers (70 samples) are idle, not work.
    assert summary.samples == 100
    assert summary.stages == [
        ("model inference", 60.0),
        ("image decoding", 25.0),
        ("image resizing", 10.0),
        ("DuckDB SQL", 5.0),
    ]
    assert summary.top_functions[0] == ("infer (runtime.py)", 60.0)
    assert ("resize_bilinear (imageops.py)", 10.0) in summary.top_functions


def _rate(per_second: float) -> Throughput:
    return Throughput(images=100, seconds=100 / per_second)


def _engine(count: int, seconds: float, rss: float) -> EngineRun:
    return EngineRun(count, seconds, 1.0, count, rss, [1] * count)


def _results() -> BenchResults:
    machine = MachineInfo("Test CPU", 2, True, "3.11", {"numpy": "2"})
    results = BenchResults(config=BenchConfig(work_dir=Path("/tmp"), count=200), machine=machine)
    results.runtimes = [
        CaseResult("ONNX Runtime", _rate(50.0)),
        CaseResult("OpenVINO", _rate(60.0)),
        CaseResult("OpenVINO BF16", _rate(120.0)),
    ]
    results.peer_loop = CaseResult("C", _rate(25.0))
    results.tf_batched = CaseResult("D", _rate(45.0))
    results.preprocess_engine = CaseResult("E", _rate(240.0))
    results.engine_n = _engine(200, 4.0, 500.0)  # 50 images/s
    results.engine_10n = _engine(2000, 42.0, 700.0)
    results.engine_bf16 = _engine(200, 2.5, 500.0)
    results.bf16.engine_speedup = 1.6
    results.bf16.engine_top1_agreement = 1.0
    return results


def test_ceiling_is_the_fastest_fp32_runtime_not_bf16() -> None:
    ceiling = _results().ceiling()
    assert ceiling is not None and ceiling.name == "OpenVINO"


def test_checks_compute_ratios_and_flag_missed_targets() -> None:
    by_name = {check.measure: check for check in checks(_results())}
    b_over_a = by_name["B/A"]
    assert b_over_a.measured is not None and abs(b_over_a.measured - 50 / 60) < 1e-9
    assert b_over_a.met is False  # 0.83 < 0.85
    assert by_name["B/C"].measured == 2.0 and by_name["B/C"].met is True
    assert by_name["B/D"].met is False  # 50 / 45 = 1.11 < 1.2
    rss = by_name["peak RSS at 10xN minus at N"]
    assert rss.measured == 200.0 and rss.met is False
    growth = by_name["growth: time at 10xN / time at N"]
    assert growth.measured == 10.5 and growth.met is True
    assert by_name["BF16 speed-up over the FP32 engine"].met is False


def test_report_names_every_missed_target_with_its_figure() -> None:
    text = render(_results(), "python -m bench --out docs/benchmarks.md")
    missed = text.split("## Missed targets", 1)[1].split("##", 1)[0]
    assert "- B/A: 0.833 (target >= 0.85)" in missed
    assert "peak RSS at 10xN minus at N: 200 MB" in missed
    assert "- B/D: 1.111 (target >= 1.2)" in missed
    assert "B/C" not in missed and "growth" not in missed
    # 1 / (1/60 + 1/(240 * 2)) = 53.3 images/s for an ideal pipeline; B = 50 is 94 % of it.
    assert "an ideal pipeline reaches about 53.3 images/s, and the engine reaches 94 %" in missed
    assert "BF16 inference alone is 2.00x FP32" in missed
    assert "Test CPU, 2 cores" in text


def test_rounds_interleave_the_cases_and_keep_failures_apart() -> None:
    order: list[str] = []
    rates = {"x": iter([30.0, 10.0, 20.0]), "y": iter([5.0, 7.0, 6.0])}

    def attempt(what: str, step: object) -> tuple[float | None, str | None]:
        order.append(what)
        name = what.split(" ")[0]
        if what == "y (round 2 of 3)":
            next(rates["y"])
            return None, "boom"
        return next(rates[name]), None

    steps = {"x": lambda: 0.0, "y": lambda: 0.0}
    outcomes = interleaved(steps, 3, attempt)
    assert order == [f"{name} (round {i} of 3)" for i in (1, 2, 3) for name in ("x", "y")]
    assert outcomes["x"].runs == [30.0, 10.0, 20.0] and outcomes["x"].error is None
    assert outcomes["y"].runs == [5.0, 6.0] and outcomes["y"].error == "boom"
    assert outcomes["x"].median(lambda r: r) == 20.0
    assert outcomes["y"].median(lambda r: r) == 5.0  # the lower middle of an even count
    assert Repeated[float]().median(lambda r: r) is None


def test_report_lists_every_round_and_uses_the_median() -> None:
    results = _results()
    results.config = BenchConfig(work_dir=Path("/tmp"), count=200, repeats=3)
    results.peer_loop = CaseResult("C", _rate(25.0), samples=[26.0, 25.0, 20.0])
    results.engine_n_samples = [49.0, 50.0, 55.0]
    text = render(results, "python -m bench")
    assert "median of 3 interleaved rounds" in text
    rounds = text.split("## Rounds", 1)[1].split("##", 1)[0]
    assert "| C | 26.0 | 25.0 | 20.0 | 25.0 | 30.0 % |" in rounds
    assert "| B at N | 49.0 | 50.0 | 55.0 | 50.0 | 12.2 % |" in rounds


def test_sql_cost_is_a_figure_only_above_the_rounds_spread() -> None:
    results = _results()
    results.engine_n = _engine(200, 4.0, 500.0)
    results.engine_n_samples = [49.0, 50.0, 50.5]  # a 3.1 % spread
    results.predict_only_n = _engine(200, 3.8, 480.0)  # 5 % faster: a figure
    text = render(results, "python -m bench")
    assert "cost 0.20 s, 5.0 % of B at N" in text
    results.predict_only_n = _engine(200, 4.1, 480.0)  # slower than predict.sql: noise
    text = render(results, "python -m bench")
    assert "costs less than the run-to-run spread of B's rounds (3.1 %)" in text
    assert "cost -" not in text
