"""docs/benchmarks.md from one run's results: tables, ratios against the targets, reading."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from bench.engine_run import EngineRun
from bench.profile import ProfileSummary
from bench.run import BenchResults, CaseResult
from bench.trained import SECTION_END, SECTION_START, render_section

# The project's speed and memory targets on these 2-core machines.
TARGET_B_OVER_A = 0.85
TARGET_B_OVER_C = 1.8
TARGET_B_OVER_D = 1.2
TARGET_BF16_SPEEDUP = 1.8
TARGET_BF16_AGREEMENT = 0.99
TARGET_RSS_GROWTH_MB = 150.0
TARGET_GROWTH = (9.0, 11.0)


@dataclass(frozen=True)
class Check:
    measure: str
    measured: float | None
    target: str
    met: bool | None
    shown: str = ""


def _rate(result: CaseResult | None) -> float | None:
    return result.throughput.per_second if result and result.throughput else None


def _ratio(top: float | None, bottom: float | None) -> float | None:
    return top / bottom if top is not None and bottom else None


def _fmt(value: float | None, digits: int = 1, suffix: str = "") -> str:
    return "not measured" if value is None else f"{value:.{digits}f}{suffix}"


def checks(results: BenchResults) -> list[Check]:
    b = results.engine_n.per_second if results.engine_n else None
    a = _rate(results.ceiling())
    out: list[Check] = []
    for measure, bottom, target in (
        ("B/A", a, TARGET_B_OVER_A),
        ("B/C", _rate(results.peer_loop), TARGET_B_OVER_C),
        ("B/D", _rate(results.tf_batched), TARGET_B_OVER_D),
    ):
        ratio = _ratio(b, bottom)
        met = None if ratio is None else ratio >= target
        # Three decimals: a ratio just under its target must not read as the target.
        out.append(Check(measure, ratio, f">= {target}", met, _fmt(ratio, 3)))
    bf16 = results.bf16
    if bf16.refused:
        out.append(Check("BF16 speed-up over the FP32 engine", None, "refused", None, bf16.refused))
    else:
        speedup = bf16.engine_speedup
        met = None if speedup is None else speedup >= TARGET_BF16_SPEEDUP
        out.append(
            Check(
                "BF16 speed-up over the FP32 engine",
                speedup,
                f">= {TARGET_BF16_SPEEDUP}",
                met,
                _fmt(speedup, 3, "x"),
            )
        )
        agreement = bf16.engine_top1_agreement
        if agreement is None:
            agreement = bf16.top1_agreement
        met = None if agreement is None else agreement >= TARGET_BF16_AGREEMENT
        shown = "not measured" if agreement is None else f"{100 * agreement:.1f} %"
        out.append(Check("BF16 top-1 agreement with FP32", agreement, ">= 99 %", met, shown))
    small, large = results.engine_n, results.engine_10n
    rss = large.peak_rss_mb - small.peak_rss_mb if small and large else None
    met = None if rss is None else rss <= TARGET_RSS_GROWTH_MB
    out.append(
        Check(
            "peak RSS at 10xN minus at N",
            rss,
            f"<= {TARGET_RSS_GROWTH_MB:.0f} MB",
            met,
            _fmt(rss, 0, " MB"),
        )
    )
    growth = large.seconds / small.seconds if small and large else None
    low, high = TARGET_GROWTH
    met = None if growth is None else low <= growth <= high
    out.append(
        Check(
            "growth: time at 10xN / time at N",
            growth,
            f"{low:.0f} to {high:.0f}",
            met,
            _fmt(growth, 2),
        )
    )
    return out


def _case_row(label: str, what: str, result: CaseResult | None) -> str:
    if result is None:
        return f"| {label} | {what} | not measured | |"
    if result.throughput is None:
        return f"| {label} | {what} | failed: {result.error} | |"
    return f"| {label} | {what} | {result.throughput.per_second:.1f} | {result.settings} |"


def _engine_row(label: str, what: str, results: BenchResults) -> str:
    run = results.engine_n
    if run is None:
        return f"| {label} | {what} | failed: {results.engine_error} | |"
    settings = (
        f"{run.count} photos, after a {results.config.count and 'warm-up'} run; engine defaults"
    )
    return f"| {label} | {what} | {run.per_second:.1f} | {settings} |"


def _throughput_table(results: BenchResults) -> list[str]:
    ceiling = results.ceiling()
    lines = [
        "| case | what | images/s | settings |",
        "|---|---|---|---|",
        _case_row(
            "A",
            f"ceiling: fastest FP32 runtime setting on pre-built float32 batches ({ceiling.name if ceiling else 'none'})",
            ceiling,
        ),
    ]
    for runtime in results.runtimes:
        lines.append(_case_row("", f"A candidate: {runtime.name}", runtime))
    lines += [
        _engine_row("B", "the engine: `sql/predict.sql` over the object table", results),
        _case_row("C", "per-image TensorFlow loop (decode, resize, call)", results.peer_loop),
        _case_row("D", "SavedModel on pre-built batches", results.tf_batched),
        _case_row("E", "engine decode + resize, per core", results.preprocess_engine),
        _case_row("", "TensorFlow decode + resize, per core (reference)", results.preprocess_tf),
    ]
    return lines


def _rounds_note(results: BenchResults) -> list[str]:
    repeats = results.config.repeats
    if repeats == 1:
        return ["Each speed case ran once.", ""]
    return [
        f"Each figure of A to E is the median of {repeats} interleaved rounds (every speed case "
        "once per round, each in a fresh process, round after round); the rounds are listed "
        'under "Rounds".',
        "",
    ]


def _spread(samples: list[float]) -> str:
    return f"{100 * (max(samples) / min(samples) - 1):.1f} %" if len(samples) > 1 else ""


def _rounds_table(results: BenchResults) -> list[str]:
    repeats = results.config.repeats
    head = " | ".join(f"round {i}" for i in range(1, repeats + 1))
    lines = [f"| case | {head} | median | spread |", "|---" * (repeats + 3) + "|"]
    rows: list[tuple[str, list[float]]] = [
        *((f"A candidate: {r.name}", r.samples) for r in results.runtimes),
        ("B at N", results.engine_n_samples),
        ("B at N, BF16", results.engine_bf16_samples),
        *(
            (f"{case.name} (SQLRUNNER_DECODE=beside)", case.samples)
            for case in (results.decode_beside, results.decode_beside_bf16)
            if case is not None
        ),
        ("C", results.peer_loop.samples),
        ("D", results.tf_batched.samples),
        ("E (engine, per core)", results.preprocess_engine.samples),
        ("E (TensorFlow, per core)", results.preprocess_tf.samples),
    ]
    for label, samples in rows:
        if not samples:
            continue
        cells = [f"{rate:.1f}" for rate in samples] + [""] * (repeats - len(samples))
        median = statistics.median_low(samples)
        lines.append(f"| {label} | {' | '.join(cells)} | {median:.1f} | {_spread(samples)} |")
    return lines


def _checks_table(results: BenchResults) -> list[str]:
    lines = ["| measure | measured | target | met |", "|---|---|---|---|"]
    for check in checks(results):
        met = {True: "yes", False: "**MISSED**", None: "not measured"}[check.met]
        lines.append(f"| {check.measure} | {check.shown} | {check.target} | {met} |")
    return lines


def _engine_runs_table(results: BenchResults) -> list[str]:
    lines = [
        "| run | images | seconds | images/s | warm-up seconds | peak RSS (VmHWM) |",
        "|---|---|---|---|---|---|",
    ]
    for label, run in (
        ("B at N", results.engine_n),
        ("B at 10xN", results.engine_10n),
        ("B at N, SQLRUNNER_PRECISION=bf16", results.engine_bf16),
        ("B at N, SQLRUNNER_RUNTIME=onnxruntime", results.engine_onnxruntime),
        ("ML.PREDICT alone at N", results.predict_only_n),
        ("ML.PREDICT alone at 10xN", results.predict_only_10n),
    ):
        if run is None:
            lines.append(f"| {label} | | not measured | | | |")
            continue
        lines.append(
            f"| {label} | {run.count} | {run.seconds:.2f} | {run.per_second:.1f} | "
            f"{run.warmup_seconds:.2f} | {run.peak_rss_mb:.0f} MB |"
        )
    return lines


def _bf16_section(results: BenchResults) -> list[str]:
    bf16 = results.bf16
    if bf16.refused:
        return [f"BF16 was refused on this machine: {bf16.refused}."]
    lines = [
        f"- engine (`SQLRUNNER_PRECISION=bf16`) over the FP32 engine: {_fmt(bf16.engine_speedup, 2, 'x')}",
        f"- OpenVINO BF16 over OpenVINO FP32 on pre-built batches: {_fmt(bf16.runtime_speedup, 2, 'x')}",
    ]
    if bf16.engine_top1_agreement is not None:
        lines.append(
            f"- engine top-1 agreement, BF16 vs FP32: {100 * bf16.engine_top1_agreement:.1f} %"
        )
    if bf16.top1_agreement is not None:
        lines.append(
            f"- OpenVINO top-1 agreement on the {results.config.count} benchmark photos: "
            f"{100 * bf16.top1_agreement:.1f} %, largest probability difference "
            f"{_fmt(bf16.max_prob_diff, 4)}; FP32 picked {bf16.distinct_top1} distinct classes"
        )
        if bf16.distinct_top1 is not None and bf16.distinct_top1 <= 3:
            lines.append(
                "  (the untrained stand-in puts almost every photo in the same few classes, so "
                "top-1 agreement is a weak check here; the probability difference is the stronger one)"
            )
    if bf16.error:
        lines.append(f"- the engine's BF16 run failed: {bf16.error}")
    return lines


def _decode_section(results: BenchResults) -> list[str]:
    """The engine's default (decode each batch just before it runs) against decoding beside."""
    lines = [
        "The engine decodes each batch on every core just before the model runs it "
        "(`SQLRUNNER_DECODE=auto`, which is `before` when inference uses every core); "
        "`beside` decodes the next batch on the same cores while the model runs this one.",
        "",
        "| run | before (default) | beside | default over beside |",
        "|---|---|---|---|",
    ]
    for label, before, beside in (
        ("B at N, FP32", results.engine_n, results.decode_beside),
        ("B at N, BF16", results.engine_bf16, results.decode_beside_bf16),
    ):
        rate = _rate(beside)
        if before is None or rate is None:
            continue
        lines.append(
            f"| {label} | {before.per_second:.1f} | {rate:.1f} | {before.per_second / rate:.3f}x |"
        )
    runs = results.decode_10n_bf16
    if runs.get("before") and runs.get("beside"):
        before_rate = statistics.fmean(runs["before"])
        beside_rate = statistics.fmean(runs["beside"])
        each = ", ".join(
            f"{a:.1f} vs {b:.1f}" for a, b in zip(runs["before"], runs["beside"], strict=False)
        )
        lines.append(
            f"| B at 10xN, BF16 (mean of {len(runs['before'])} alternating runs: {each}) | "
            f"{before_rate:.1f} | {beside_rate:.1f} | {before_rate / beside_rate:.3f}x |"
        )
    return lines


def _profile_section(profile: ProfileSummary | None, error: str | None) -> list[str]:
    if profile is None:
        return [f"No profile: {error}."]
    lines = [
        f"{profile.tool}, 100 samples/s over every Python thread of the engine process during "
        f"B at N ({profile.samples} samples). These are wall-clock samples: a thread blocked "
        "inside a native call counts for the Python frame that made it (waiting on OpenVINO's "
        "asynchronous requests counts as inference, the statement's thread inside DuckDB as "
        "DuckDB SQL, though there it mostly waits for the ML.PREDICT stream), and pool workers "
        "parked with nothing to do are left out. OpenVINO's own worker threads are not sampled.",
        "",
        "| stage | share of samples |",
        "|---|---|",
    ]
    lines += [f"| {name} | {share:.1f} % |" for name, share in profile.stages]
    lines += ["", "| function (self) | share |", "|---|---|"]
    lines += [f"| `{name}` | {share:.1f} % |" for name, share in profile.top_functions]
    return lines


def _pipeline_bound(inference: float, per_core: float, cores: int) -> float:
    """Images/s of an ideal pipeline whose preprocessing shares the cores with inference.

    Each image costs 1/inference seconds of the whole machine plus 1/per_core seconds
    of one core, which is 1/(per_core * cores) of the machine.
    """
    return 1 / (1 / inference + 1 / (per_core * cores))


def _runtime_rate(results: BenchResults, name: str) -> float | None:
    return _rate(next((r for r in results.runtimes if r.name == name), None))


@dataclass(frozen=True)
class Bf16Cap:
    """BF16 against FP32 OpenVINO run the same way the engine runs it (one batch at a time)."""

    bf16_rate: float
    fp32_rate: float
    bf16_bound: float
    fp32_bound: float

    @property
    def inference_speedup(self) -> float:
        return self.bf16_rate / self.fp32_rate

    @property
    def engine_cap(self) -> float:
        return self.bf16_bound / self.fp32_bound


def _bf16_cap(results: BenchResults) -> Bf16Cap | None:
    low, high = _runtime_rate(results, "OpenVINO BF16"), _runtime_rate(results, "OpenVINO")
    e, cores = _rate(results.preprocess_engine), results.machine.cores
    if not (low and high and e):
        return None
    return Bf16Cap(low, high, _pipeline_bound(low, e, cores), _pipeline_bound(high, e, cores))


def _reading(results: BenchResults) -> list[str]:
    lines = []
    a = _rate(results.ceiling())
    b = results.engine_n.per_second if results.engine_n else None
    e = _rate(results.preprocess_engine)
    e_tf = _rate(results.preprocess_tf)
    cores = results.machine.cores
    if a and b:
        lines.append(
            f"The engine runs at {100 * b / a:.0f} % of the ceiling ({b:.1f} vs {a:.1f} images/s)."
        )
    c, d = _rate(results.peer_loop), _rate(results.tf_batched)
    if a and c and d:
        lines.append(
            f"Headroom: an engine as fast as the ceiling would give B/C = A/C = {a / c:.2f} "
            f"and B/D = A/D = {a / d:.2f} (targets {TARGET_B_OVER_C} and {TARGET_B_OVER_D}); "
            "whatever B loses to A comes straight off both."
        )
    if a and e:
        bound = _pipeline_bound(a, e, cores)
        lines.append(
            f"The engine's decode + resize runs at {e:.0f} images/s per core. It shares the "
            f"{cores} cores with inference, so an ideal pipeline would reach about "
            f"{bound:.1f} images/s, B/A = {bound / a:.2f} (each image costs its inference "
            "plus its preprocessing spread over the cores): the CPU time preprocessing takes "
            "is what separates the engine from the ceiling, besides any stall."
        )
        if e_tf:
            tf_bound = _pipeline_bound(a, e_tf, cores)
            lines.append(
                f"TensorFlow's own decode + resize runs at {e_tf:.0f} images/s per core; "
                f"preprocessing that fast would allow B/A up to {tf_bound / a:.2f}."
            )
    if results.profile and results.profile.stages:
        shares = ", ".join(f"{name} {share:.0f} %" for name, share in results.profile.stages)
        lines.append(f"Profile of B (share of samples over all threads): {shares}.")
    small, large = results.engine_n, results.engine_10n
    if small and large:
        lines.append(
            f"At N the engine ran {small.per_second:.1f} images/s, at 10xN "
            f"{large.per_second:.1f} images/s; the first predict.sql in a fresh process "
            f"(the warm-up: loading and compiling the model) took {small.warmup_seconds:.1f} s."
        )
    alone_small, alone_large = results.predict_only_n, results.predict_only_10n
    if small and large and alone_small and alone_large:
        lines.append(
            "ML.PREDICT alone (the same image input, outputs read and dropped) grew peak RSS by "
            f"{alone_large.peak_rss_mb - alone_small.peak_rss_mb:.0f} MB from N to 10xN and "
            f"took {alone_large.seconds / alone_small.seconds:.2f}x the time; the whole "
            f"predict.sql grew it by {large.peak_rss_mb - small.peak_rss_mb:.0f} MB and took "
            f"{large.seconds / small.seconds:.2f}x. What predict.sql adds to ML.PREDICT (the "
            "UNNEST of 1001 scores per image, the top-k ARRAY_AGG, the labels join, the insert) "
            "is the difference."
        )
    if small and alone_small:
        lines.append(_sql_cost(small, alone_small, results.engine_n_samples))
    cap = _bf16_cap(results)
    if cap and results.engine_bf16:
        lines.append(
            f"In BF16 inference alone runs at {cap.bf16_rate:.1f} images/s "
            f"({cap.inference_speedup:.2f}x OpenVINO FP32 run the same way), but with the same "
            f"preprocessing on the same cores an ideal pipeline reaches about "
            f"{cap.bf16_bound:.1f} images/s against {cap.fp32_bound:.1f} in FP32: a BF16 "
            f"speed-up of about {cap.engine_cap:.2f}x at best."
        )
    return lines


def _sql_cost(small: EngineRun, alone: EngineRun, rounds: list[float]) -> str:
    """What predict.sql adds to ML.PREDICT alone at N, or that it is below the noise."""
    extra = small.seconds - alone.seconds
    share = extra / small.seconds
    noise = max(rounds) / min(rounds) - 1 if len(rounds) > 1 else 0.0
    said = (
        f"At N, predict.sql took {small.seconds:.2f} s and ML.PREDICT alone "
        f"{alone.seconds:.2f} s ({alone.per_second:.1f} images/s, one run)"
    )
    if share <= 0 or share < noise:
        return (
            f"{said}: the SQL around the inference (CREATE TABLE IF NOT EXISTS, the DELETE, "
            f"the INSERT's ranking, labels and writes) costs less than the run-to-run spread "
            f"of B's rounds ({100 * noise:.1f} %), so this run cannot put a figure on it."
        )
    return (
        f"{said}: the SQL around the inference (CREATE TABLE IF NOT EXISTS, the DELETE, "
        f"the INSERT's ranking, labels and writes, each statement's parsing and planning) "
        f"cost {extra:.2f} s, {100 * share:.1f} % of B at N."
    )


def _held_back_by(measure: str, results: BenchResults) -> str:
    """One sentence on what holds a missed target back, from this run's own figures."""
    a, e = _rate(results.ceiling()), _rate(results.preprocess_engine)
    b = results.engine_n.per_second if results.engine_n else None
    cores = results.machine.cores
    bound = _pipeline_bound(a, e, cores) if a and e else None
    if measure in ("B/A", "B/C", "B/D") and a and b and bound:
        peer = {"B/A": a, "B/C": _rate(results.peer_loop), "B/D": _rate(results.tf_batched)}
        other = peer[measure]
        best = a / other if other else None
        ideal = bound / other if other else None
        return (
            f"preprocessing shares the cores with inference: with decode + resize at {e:.0f} "
            f"images/s per core an ideal pipeline reaches about {bound:.1f} images/s, and the "
            f"engine reaches {100 * b / bound:.0f} % of that estimate. That ideal pipeline "
            f"would give {measure} = {_fmt(ideal, 2)}, and even B = A (no preprocessing at "
            f"all) {measure} = {_fmt(best, 2)}."
        )
    cap = _bf16_cap(results)
    if measure.startswith("BF16 speed-up") and cap:
        return (
            f"BF16 inference alone is {cap.inference_speedup:.2f}x FP32, but decode + resize "
            f"cost the same in both modes, which caps the engine's speed-up near "
            f"{cap.engine_cap:.2f}x."
        )
    if measure.startswith("peak RSS"):
        small, large = results.predict_only_n, results.predict_only_10n
        if small and large:
            return (
                f"ML.PREDICT alone grew by {large.peak_rss_mb - small.peak_rss_mb:.0f} MB; "
                "the rest comes from the SQL predict.sql runs on the scores (UNNEST of 1001 "
                "scores per image, the top-k ARRAY_AGG, the labels join, the insert)."
            )
    if measure.startswith("growth") and results.engine_n and results.engine_10n:
        return (
            f"{results.engine_n.per_second:.1f} images/s at N against "
            f"{results.engine_10n.per_second:.1f} at 10xN."
        )
    if measure.startswith("BF16 top-1") and results.bf16.max_prob_diff is not None:
        return f"the largest probability difference was {results.bf16.max_prob_diff:.4f}."
    return "see the reading above."


def _missed(results: BenchResults) -> list[str]:
    missed = [c for c in checks(results) if c.met is False]
    if not missed:
        return ["No target was missed in this run."]
    return [
        f"- {c.measure}: {c.shown} (target {c.target}). Held back: "
        f"{_held_back_by(c.measure, results)}"
        for c in missed
    ]


def _load_note(results: BenchResults) -> list[str]:
    """The 1-minute load average around the run: other work on the cores skews every figure."""
    before, after, cores = results.load_before, results.load_after, results.machine.cores
    note = f"Load average (1 min) before the run: {before:.2f}, after: {after:.2f}."
    # Only the figure before says much: during the run the benchmark itself loads every core.
    if before > 0.5 * cores:
        note += (
            " **Other work was running on these cores: the figures are skewed by it and only "
            "ratios measured close together mean much.**"
        )
    return [note, ""]


def _trained_section(results: BenchResults, command: str) -> list[str]:
    if results.trained is not None:
        return render_section(results.trained, command)
    reason = results.trained_error or "not measured"
    return [SECTION_START, "## The trained model", "", f"Not measured: {reason}.", SECTION_END]


def render(results: BenchResults, command: str) -> str:
    config, machine = results.config, results.machine
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    versions = ", ".join(f"{name} {version}" for name, version in machine.versions.items())
    lines = ["# Benchmarks", ""]
    if config.quick:
        lines += [
            "> **Quick mode** (`--quick`): the tiny test model and a handful of photos. This",
            "> checks that the benchmark works; its figures mean nothing about speed.",
            "",
        ]
    lines += [
        f"Command: `{command}` (`make bench`), {now}, {results.seconds / 60:.1f} minutes.",
        "",
        f"Machine: {machine.cpu_model}, {machine.cores} cores, BF16 instructions: "
        f"{'yes' if machine.bf16 else 'no'}; Python {machine.python}; {versions}.",
        "",
        *_load_note(results),
        f"Workload: N = {config.count} JPEG photos of 640x480 (and 10xN = "
        f"{config.count * config.growth_factor} for growth and memory), made from the real "
        "photos scikit-image ships (crops upscaled, blended, graded, with grain); model: "
        f"{results.model}; batch size {config.batch_size}; ONNX file: {results.onnx_source}; "
        f"CREATE MODEL (conversion, once): {_fmt(results.conversion_seconds, 1, ' s')}.",
        "",
        "## Images per second",
        "",
        *_rounds_note(results),
        *_throughput_table(results),
        "",
        "## Targets",
        "",
        *_checks_table(results),
        "",
        "## Memory and growth (B, each run in a fresh process)",
        "",
        *_engine_runs_table(results),
        "",
        "## Decoding before or beside inference",
        "",
        *_decode_section(results),
        "",
        "## Reduced precision (BF16, opt-in)",
        "",
        *_bf16_section(results),
        "",
        *_trained_section(results, command),
        "",
        "## Where the time goes",
        "",
        *_profile_section(results.profile, results.profile_error),
        "",
        *_reading(results),
        "",
        "## Missed targets",
        "",
        *_missed(results),
        "",
        *(["## Rounds", "", *_rounds_table(results), ""] if results.config.repeats > 1 else []),
        "## Run log",
        "",
        *[f"- {entry}" for entry in results.log],
        "",
    ]
    return "\n".join(lines)
