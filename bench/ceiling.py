"""Case A, the ceiling: the converted ONNX model on pre-built float32 batches, no I/O.

Both FP32 runtimes run the very same ONNX file; the fastest configuration is the
ceiling. OpenVINO runs one batch at a time on every core (LATENCY, as the engine calls
it) and, as a second FP32 candidate, with several streams and batches in flight
(THROUGHPUT). It is also timed with bf16 inference precision (the opt-in mode).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.timing import Throughput, measure
from local_engine.openvino_runtime import import_openvino

Infer = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class RuntimeResult:
    """One runtime configuration's throughput on pre-built batches."""

    name: str
    settings: str
    throughput: Throughput


def _timed(batches: list[np.ndarray], infer: Infer) -> Throughput:
    def run(index: int) -> int:
        batch = batches[index % len(batches)]
        infer(batch)
        return len(batch)

    return measure(run, batches=len(batches))


def onnxruntime_fp32(
    onnx_path: Path, batches: list[np.ndarray], threads: int
) -> tuple[RuntimeResult, Infer]:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    input_name = session.get_inputs()[0].name

    def infer(batch: np.ndarray) -> np.ndarray:
        return np.asarray(session.run(None, {input_name: batch})[0])

    settings = f"intra_op_num_threads={threads}, inter_op_num_threads=1, sequential"
    return RuntimeResult("ONNX Runtime", settings, _timed(batches, infer)), infer


def openvino_compiled(onnx_path: Path, precision: str, threads: int, hint: str = "LATENCY") -> Any:
    """The ONNX file compiled for the CPU with `precision` ('f32' or 'bf16').

    The precision hint is always explicit: on CPUs with AMX, OpenVINO defaults to bf16.
    """
    ov = import_openvino()

    core = ov.Core()
    config = {
        "INFERENCE_PRECISION_HINT": precision,
        "PERFORMANCE_HINT": hint,
        "INFERENCE_NUM_THREADS": str(threads),
    }
    return core.compile_model(core.read_model(str(onnx_path)), "CPU", config)


def openvino(
    onnx_path: Path, batches: list[np.ndarray], threads: int, precision: str
) -> tuple[RuntimeResult, Infer]:
    request = openvino_compiled(onnx_path, precision, threads).create_infer_request()

    def infer(batch: np.ndarray) -> np.ndarray:
        return np.array(request.infer({0: batch})[0])

    name = "OpenVINO" if precision == "f32" else f"OpenVINO {precision.upper()}"
    settings = f"INFERENCE_PRECISION_HINT={precision}, PERFORMANCE_HINT=LATENCY, {threads} threads"
    return RuntimeResult(name, settings, _timed(batches, infer)), infer


def openvino_streams(
    onnx_path: Path, batches: list[np.ndarray], threads: int
) -> tuple[RuntimeResult, Infer]:
    """OpenVINO FP32 with PERFORMANCE_HINT=THROUGHPUT: several streams, batches in flight."""
    ov = import_openvino()

    compiled = openvino_compiled(onnx_path, "f32", threads, hint="THROUGHPUT")
    requests = int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
    queue = ov.AsyncInferQueue(compiled, requests)

    def run_all(count: int) -> int:
        for index in range(count):
            queue.start_async({0: batches[index % len(batches)]})
        queue.wait_all()
        return sum(len(batches[index % len(batches)]) for index in range(count))

    run_all(requests)  # warm-up: one batch per request
    start = time.perf_counter()
    images = run_all(len(batches))
    throughput = Throughput(images=images, seconds=time.perf_counter() - start)
    request = compiled.create_infer_request()

    def infer(batch: np.ndarray) -> np.ndarray:
        return np.array(request.infer({0: batch})[0])

    settings = f"INFERENCE_PRECISION_HINT=f32, PERFORMANCE_HINT=THROUGHPUT, {requests} requests"
    return RuntimeResult("OpenVINO (streams)", settings, throughput), infer
