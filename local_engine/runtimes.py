"""The inference runtimes a cached model artifact runs on, and the settings that pick one.

Settings (environment variables):

* `SQLRUNNER_RUNTIME` = `openvino` | `onnxruntime` | `tensorflow` | `litert`. ONNX
  artifacts run on OpenVINO by default: on these 2-core AVX-512 machines ResNet-50 FP32
  ran about 1.15x faster on OpenVINO than on ONNX Runtime (DESIGN.md, "Performance").
  `tensorflow` runs a TENSORFLOW model's SavedModel itself, skipping the ONNX copy.
* `SQLRUNNER_PRECISION` = `fp32` (default) | `bf16`. BF16 runs on OpenVINO only, with
  INFERENCE_PRECISION_HINT=bf16, and is refused where the CPU has no AVX512-BF16/AMX.
* `SQLRUNNER_THREADS`: inference threads, default every core.
* `SQLRUNNER_OPENVINO_HINT` = `throughput` (default) | `latency`: OpenVINO's
  PERFORMANCE_HINT. THROUGHPUT splits each batch over its streams (2 on 2 cores, one
  thread each), so a core taken by image decoding or other work stalls one stream,
  not the whole batch: as fast as LATENCY on a quiet machine, 1.2-1.4x under load,
  with outputs bit-identical and in order.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from local_engine.errors import EngineError
from local_engine.openvino_runtime import import_openvino

RUNTIME_ENV = "SQLRUNNER_RUNTIME"
PRECISION_ENV = "SQLRUNNER_PRECISION"
THREADS_ENV = "SQLRUNNER_THREADS"
OPENVINO_HINT_ENV = "SQLRUNNER_OPENVINO_HINT"
OPENVINO_HINTS = ("throughput", "latency")

# Artifact formats a ModelRecord.runtime names, and the runtimes that can run each.
FORMAT_RUNTIMES: dict[str, tuple[str, ...]] = {
    "onnx": ("openvino", "onnxruntime"),
    "tensorflow": ("tensorflow",),
    "tflite": ("litert",),
}
ALL_RUNTIMES = ("openvino", "onnxruntime", "tensorflow", "litert")
PRECISIONS = ("fp32", "bf16")

Feeds = dict[str, np.ndarray]
RunFn = Callable[[Feeds], Feeds]


@dataclass(frozen=True)
class RuntimeChoice:
    """Every setting a loaded model depends on, read once, so a cache can key on it."""

    runtime: str
    precision: str
    threads: int = 1
    openvino_hint: str = ""  # PERFORMANCE_HINT, for runtime "openvino" only


def inference_threads() -> int:
    text = os.environ.get(THREADS_ENV, "").strip()
    if text:
        if not text.isdigit() or int(text) < 1:
            raise EngineError(f"{THREADS_ENV} must be a positive integer, got {text!r}")
        return int(text)
    return os.cpu_count() or 1


def choose_runtime(artifact_format: str, source_format: str) -> RuntimeChoice:
    """The runtime for an artifact, from the settings; `source_format` allows `tensorflow`."""
    precision = os.environ.get(PRECISION_ENV, "fp32").strip().lower() or "fp32"
    if precision not in PRECISIONS:
        raise EngineError(
            f"{PRECISION_ENV} must be one of {', '.join(PRECISIONS)}, got {precision!r}"
        )
    asked = os.environ.get(RUNTIME_ENV, "").strip().lower()
    if asked and asked not in ALL_RUNTIMES:
        raise EngineError(f"{RUNTIME_ENV} must be one of {', '.join(ALL_RUNTIMES)}, got {asked!r}")
    usable = FORMAT_RUNTIMES[artifact_format]
    if asked == "tensorflow" and source_format == "tensorflow":
        runtime = "tensorflow"
    elif asked:
        if asked not in usable:
            raise EngineError(
                f"{RUNTIME_ENV}={asked} cannot run this model ({artifact_format} artifact;"
                f" use {' or '.join(usable)})"
            )
        runtime = asked
    else:
        runtime = usable[0]
    if precision == "bf16" and runtime != "openvino":
        raise EngineError(
            f"{PRECISION_ENV}=bf16 runs on OpenVINO only; this model runs on {runtime}"
            + (f" (set {RUNTIME_ENV}=openvino)" if "openvino" in usable else "")
        )
    hint = openvino_hint() if runtime == "openvino" else ""
    return RuntimeChoice(runtime, precision, inference_threads(), hint)


def open_runtime(choice: RuntimeChoice, path: Path) -> RunFn:
    """A function running the artifact at `path` on a batch of named input arrays."""
    openers: dict[str, Callable[[Path, RuntimeChoice], RunFn]] = {
        "openvino": _open_openvino,
        "onnxruntime": _open_onnxruntime,
        "tensorflow": _open_tensorflow,
        "litert": _open_litert,
    }
    return openers[choice.runtime](path, choice)


def _open_onnxruntime(path: Path, choice: RuntimeChoice) -> RunFn:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = choice.threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    names = [out.name for out in session.get_outputs()]

    def run(feeds: Feeds) -> Feeds:
        return dict(zip(names, session.run(names, feeds), strict=True))

    return run


def cpu_supports_bf16() -> bool:
    ov = import_openvino()

    capabilities = ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    return "BF16" in [str(c).upper() for c in capabilities]


def openvino_hint() -> str:
    """OpenVINO's PERFORMANCE_HINT from SQLRUNNER_OPENVINO_HINT: THROUGHPUT unless told."""
    text = os.environ.get(OPENVINO_HINT_ENV, "").strip().lower() or "throughput"
    if text not in OPENVINO_HINTS:
        raise EngineError(
            f"{OPENVINO_HINT_ENV} must be one of {', '.join(OPENVINO_HINTS)}, got {text!r}"
        )
    return text.upper()


def _open_openvino(path: Path, choice: RuntimeChoice) -> RunFn:
    ov = import_openvino()

    precision = choice.precision
    if precision == "bf16" and not cpu_supports_bf16():
        raise EngineError(
            f"{PRECISION_ENV}=bf16 needs a CPU with AVX512-BF16 or AMX; OpenVINO finds no BF16"
            " support on this one (unset it to run in FP32)"
        )
    config: dict[str, Any] = {
        # Explicit, since OpenVINO defaults to bf16 on AMX machines.
        "INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32",
        "PERFORMANCE_HINT": choice.openvino_hint or openvino_hint(),
        "INFERENCE_NUM_THREADS": choice.threads,
    }
    compiled = ov.Core().compile_model(str(path), "CPU", config)
    streams = int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
    if not _batch_is_dynamic(compiled):
        streams = 1  # a fixed batch size cannot be sliced
    requests = [compiled.create_infer_request() for _ in range(max(1, streams))]
    outputs = list(compiled.outputs)
    names = [out.get_any_name() for out in outputs]

    def run(feeds: Feeds) -> Feeds:
        rows = next(iter(feeds.values())).shape[0] if feeds else 0
        # One slice of the batch per stream, run side by side; slices along the batch
        # axis are contiguous views, and share_inputs lets OpenVINO read them in place.
        cuts = np.linspace(0, rows, max(1, min(len(requests), rows)) + 1).astype(int)
        started = []
        try:
            for request, start, stop in zip(requests, cuts[:-1], cuts[1:], strict=False):
                request.start_async({k: v[start:stop] for k, v in feeds.items()}, share_inputs=True)
                started.append(request)
        finally:
            _wait_all(started)
        parts = [[np.array(r.get_tensor(out).data) for out in outputs] for r in started]
        return {name: np.concatenate([p[i] for p in parts]) for i, name in enumerate(names)}

    return run


def _batch_is_dynamic(compiled: Any) -> bool:
    """Whether every input of an OpenVINO compiled model takes any batch size."""
    for port in compiled.inputs:
        shape = port.get_partial_shape()
        if shape.rank.is_static and (shape.rank.get_length() == 0 or shape[0].is_static):
            return False
    return True


def _wait_all(requests: list[Any]) -> None:
    """Wait for every started request (none is left busy), then raise the first failure."""
    failure: Exception | None = None
    for request in requests:
        try:
            request.wait()
        except Exception as exc:  # OpenVINO's own error types
            failure = failure or exc
    if failure is not None:
        raise failure


def _open_tensorflow(path: Path, choice: RuntimeChoice) -> RunFn:
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    signature = loaded.signatures["serving_default"]

    def run(feeds: Feeds) -> Feeds:
        outputs = signature(**{name: tf.constant(value) for name, value in feeds.items()})
        return {name: tensor.numpy() for name, tensor in outputs.items()}

    run.keepalive = loaded  # type: ignore[attr-defined]  # the signature needs its module alive
    return run


def _open_litert(path: Path, choice: RuntimeChoice) -> RunFn:
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:
        raise EngineError(
            "TENSORFLOW_LITE models need the LiteRT runtime: pip install ai-edge-litert"
        ) from exc
    interpreter = Interpreter(model_path=str(path), num_threads=choice.threads)
    inputs = {d["name"]: d for d in interpreter.get_input_details()}
    outputs = interpreter.get_output_details()
    batch_size: list[int] = [-1]

    def run(feeds: Feeds) -> Feeds:
        rows = next(iter(feeds.values())).shape[0]
        if rows != batch_size[0]:
            for name, value in feeds.items():
                interpreter.resize_tensor_input(inputs[name]["index"], list(value.shape))
            interpreter.allocate_tensors()
            batch_size[0] = rows
        for name, value in feeds.items():
            interpreter.set_tensor(inputs[name]["index"], value)
        interpreter.invoke()
        return {d["name"]: np.array(interpreter.get_tensor(d["index"])) for d in outputs}

    return run
