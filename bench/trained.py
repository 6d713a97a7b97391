"""The trained model beside the throughput model: BF16 against FP32 on real weights, and its speed.

The ResNet-50 stand-in's weights are random, so its BF16 "agreement" is measured on
noise. Here the trained EfficientNet-Lite0 of the model zoo runs the benchmark's photos
(pre-built TF-preprocessed tensors, as case A) through OpenVINO in FP32 and in BF16 on
the same ONNX file: top-1 agreement, mean top-5 overlap and the largest probability
difference, plus both throughputs. With `--resnet` the ResNet-50 stand-in is timed the
same way in the same process, so the two models' throughputs are a same-run ratio.

`python -m bench.trained` runs this part alone and writes its section into
docs/benchmarks.md (between the markers below); `python -m bench` includes it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.ceiling import openvino
from bench.machine import cpu_has_bf16
from bench.photos import write_photos
from bench.tensors import full_batches, photo_tensors
from bench.timing import Throughput

SECTION_START = "<!-- trained-model: written by bench/trained.py -->"
SECTION_END = "<!-- /trained-model -->"
TOP_K = 5


@dataclass(frozen=True)
class PrecisionRun:
    throughput: Throughput
    probabilities: np.ndarray


@dataclass
class TrainedFigures:
    model: str
    images: int
    batch_size: int
    threads: int
    fp32: Throughput
    bf16: Throughput | None = None
    bf16_refused: str | None = None
    top1_agreement: float | None = None
    top5_overlap: float | None = None
    max_prob_diff: float | None = None
    distinct_top1: int | None = None
    resnet_fp32: Throughput | None = None
    # 1-minute load average before and after: other work on the machine slows every figure.
    load: tuple[float, float] = (0.0, 0.0)


def _onnx_for(savedmodel_dir: Path, dest: Path) -> Path:
    """The SavedModel converted the way the engine converts it (tf2onnx, the engine's opset)."""
    from local_engine.convert import savedmodel_to_onnx

    if not dest.is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = dest.with_suffix(".tmp.onnx")
        problem = savedmodel_to_onnx(savedmodel_dir, staging)
        if problem:
            staging.unlink(missing_ok=True)
            raise RuntimeError(f"{savedmodel_dir}: {problem}")
        staging.replace(dest)
    return dest


def _run(onnx_path: Path, batches: list[np.ndarray], threads: int, precision: str) -> PrecisionRun:
    result, infer = openvino(onnx_path, batches, threads, precision)
    probabilities = np.concatenate([infer(batch) for batch in batches])
    return PrecisionRun(result.throughput, probabilities)


def top5_overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Mean share of each row's top-5 classes that both arrays rank in their top 5."""
    top_a = np.argsort(-a, axis=1)[:, :TOP_K]
    top_b = np.argsort(-b, axis=1)[:, :TOP_K]
    shared = [len(set(x) & set(y)) / TOP_K for x, y in zip(top_a, top_b, strict=True)]
    return float(np.mean(shared))


def measure_trained(
    work_dir: Path,
    count: int,
    batch_size: int,
    threads: int,
    *,
    resnet: bool = False,
    model_dir: Path | None = None,
) -> TrainedFigures:
    """Everything the section reports, measured in this process (`model_dir`: a prebuilt
    EfficientNet-Lite0, else the cached build under `work_dir`)."""
    from sqlrunner.modelzoo.efficientnet_lite import cached_efficientnet_lite0

    load_before = os.getloadavg()[0]
    photos = write_photos(work_dir / "photos", count, workers=threads)
    batches = full_batches(photo_tensors(photos), batch_size)
    if not batches:
        raise ValueError(f"{count} photos make no whole batch of {batch_size}")
    model_dir = model_dir or cached_efficientnet_lite0(work_dir / "models")
    onnx_path = _onnx_for(model_dir, work_dir / "onnx" / f"{model_dir.name}.onnx")
    fp32 = _run(onnx_path, batches, threads, "f32")
    figures = TrainedFigures(
        model=f"EfficientNet-Lite0 (trained, {model_dir.name})",
        images=sum(len(batch) for batch in batches),
        batch_size=batch_size,
        threads=threads,
        fp32=fp32.throughput,
    )
    if not cpu_has_bf16():
        figures.bf16_refused = "the CPU lists neither AVX512-BF16 nor AMX-BF16"
    else:
        bf16 = _run(onnx_path, batches, threads, "bf16")
        figures.bf16 = bf16.throughput
        a, b = fp32.probabilities, bf16.probabilities
        figures.top1_agreement = float(np.mean(a.argmax(1) == b.argmax(1)))
        figures.top5_overlap = top5_overlap(a, b)
        figures.max_prob_diff = float(np.abs(a - b).max())
        figures.distinct_top1 = len(set(a.argmax(1).tolist()))
    if resnet:
        from sqlrunner.modelzoo.standin import cached_standin

        standin = cached_standin(work_dir / "models")
        standin_onnx = _onnx_for(standin, work_dir / "onnx" / f"{standin.name}.onnx")
        figures.resnet_fp32 = _run(standin_onnx, batches, threads, "f32").throughput
    figures.load = (load_before, os.getloadavg()[0])
    return figures


def _rate(throughput: Throughput | None) -> str:
    return "not measured" if throughput is None else f"{throughput.per_second:.1f} images/s"


def render_section(figures: TrainedFigures, command: str) -> list[str]:
    """The markdown section, markers included."""
    lines = [
        SECTION_START,
        "## The trained model: BF16 against FP32, and its own throughput",
        "",
        f"Command: `{command}`. Model: {figures.model}; {figures.images} benchmark photos "
        f"(TF-preprocessed tensors, pre-built), batches of {figures.batch_size}, OpenVINO "
        f"(PERFORMANCE_HINT=LATENCY, {figures.threads} threads) on the engine's ONNX conversion. "
        f"Load average {figures.load[0]:.1f} before, {figures.load[1]:.1f} after (other work "
        "on the machine lowers the rates; the agreement figures do not depend on it).",
        "",
        "| figure | value |",
        "|---|---|",
        f"| EfficientNet-Lite0 FP32 | {_rate(figures.fp32)} |",
    ]
    if figures.bf16_refused:
        lines.append(f"| EfficientNet-Lite0 BF16 | refused: {figures.bf16_refused} |")
    else:
        speedup = (
            figures.bf16.per_second / figures.fp32.per_second if figures.bf16 else float("nan")
        )
        lines += [
            f"| EfficientNet-Lite0 BF16 | {_rate(figures.bf16)} ({speedup:.2f}x FP32) |",
            f"| BF16 top-1 agreement with FP32 | {100 * (figures.top1_agreement or 0):.1f} % |",
            f"| BF16 mean top-5 overlap with FP32 | {100 * (figures.top5_overlap or 0):.1f} % |",
            f"| largest probability difference | {figures.max_prob_diff or 0:.4f} |",
            f"| distinct FP32 top-1 classes | {figures.distinct_top1} of {figures.images} images |",
        ]
    if figures.resnet_fp32 is not None:
        ratio = figures.fp32.per_second / figures.resnet_fp32.per_second
        lines.append(
            f"| ResNet-50 stand-in FP32, same run | {_rate(figures.resnet_fp32)} "
            f"(EfficientNet-Lite0 runs {ratio:.2f}x as many images/s) |"
        )
    lines += [
        "",
        "The ResNet-50 stand-in stays the throughput model of the sections above (it has the "
        "walkthrough model's cost); these figures are the trained model's.",
        SECTION_END,
    ]
    return lines


def replace_section(text: str, section: list[str]) -> str:
    """`text` with the marked section replaced, or the section appended if it has none."""
    body = "\n".join(section)
    start, end = text.find(SECTION_START), text.find(SECTION_END)
    if start != -1 and end > start:
        return text[:start] + body + text[end + len(SECTION_END) :]
    return text.rstrip("\n") + "\n\n" + body + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.trained", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks.md"))
    parser.add_argument("--work", type=Path, default=Path("build/bench"), help="cache and scratch")
    parser.add_argument("--count", type=int, default=200, help="photos (default 200)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--resnet", action="store_true", help="time the ResNet-50 stand-in too")
    args = parser.parse_args(argv)
    if args.count < args.batch_size:
        parser.error(f"--count must be at least the batch size, {args.batch_size}")
    threads = os.cpu_count() or 1
    figures = measure_trained(
        args.work.resolve(), args.count, args.batch_size, threads, resnet=args.resnet
    )
    command = shlex.join(
        ["python", "-m", "bench.trained", *(argv if argv is not None else sys.argv[1:])]
    )
    section = render_section(figures, command)
    existing = args.out.read_text() if args.out.is_file() else "# Benchmarks\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(replace_section(existing, section))
    print("\n".join(section))
    return 0


if __name__ == "__main__":
    sys.exit(main())
