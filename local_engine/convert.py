"""TensorFlow SavedModel signatures, SavedModel -> ONNX with tf2onnx, and the probe check."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from local_engine.errors import EngineError
from local_engine.records import TensorSpec

ONNX_OPSET = 17
CONVERT_TIMEOUT_S = 1800
PROBE_BATCH = 2
PROBE_SIDE = 224  # stands in for unknown spatial dimensions in the probe batch
PROBE_RTOL = 1e-3
PROBE_ATOL = 1e-4

_ONNX_TYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(float16)": "float16",
    "tensor(uint8)": "uint8",
    "tensor(int8)": "int8",
    "tensor(int32)": "int32",
    "tensor(int64)": "int64",
    "tensor(bool)": "bool",
    "tensor(string)": "string",
}


def _tf_spec(name: str, spec: Any) -> TensorSpec:
    dims = spec.shape.as_list() if spec.shape.rank is not None else []
    return TensorSpec(name, spec.dtype.name, tuple(None if d is None else int(d) for d in dims))


def savedmodel_signature(
    src: Path, model_path: str
) -> tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]:
    """Features and labels of the SavedModel's serving_default signature."""
    import tensorflow as tf

    try:
        loaded = tf.saved_model.load(str(src))
    except Exception as exc:  # TensorFlow raises many types for a broken SavedModel
        raise EngineError(f"cannot load the TensorFlow SavedModel at {model_path}: {exc}") from exc
    signature = loaded.signatures.get("serving_default")
    if signature is None:
        raise EngineError(f"the SavedModel at {model_path} has no serving_default signature")
    inputs = signature.structured_input_signature[1]
    outputs = signature.structured_outputs
    features = tuple(_tf_spec(name, inputs[name]) for name in sorted(inputs))
    labels = tuple(_tf_spec(name, outputs[name]) for name in sorted(outputs))
    return features, labels


def onnx_signature(path: Path) -> tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]:
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def spec(arg: Any) -> TensorSpec:
        dims = tuple(d if isinstance(d, int) else None for d in (arg.shape or []))
        return TensorSpec(arg.name, _ONNX_TYPES.get(arg.type, arg.type), dims)

    return tuple(spec(a) for a in session.get_inputs()), tuple(
        spec(a) for a in session.get_outputs()
    )


def tflite_signature(path: Path) -> tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))

    def spec(detail: dict[str, Any]) -> TensorSpec:
        dims = detail.get("shape_signature", detail["shape"])
        shape = tuple(None if int(d) < 0 else int(d) for d in dims)
        return TensorSpec(str(detail["name"]), np.dtype(detail["dtype"]).name, shape)

    return (
        tuple(spec(d) for d in interpreter.get_input_details()),
        tuple(spec(d) for d in interpreter.get_output_details()),
    )


def savedmodel_to_onnx(src: Path, dst: Path) -> str | None:
    """Convert with tf2onnx in a child process; None on success, else why it failed."""
    command = [
        sys.executable, "-m", "tf2onnx.convert",
        "--saved-model", str(src),
        "--signature_def", "serving_default",
        "--opset", str(ONNX_OPSET),
        "--output", str(dst),
    ]  # fmt: skip
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=CONVERT_TIMEOUT_S, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return f"tf2onnx took longer than {CONVERT_TIMEOUT_S} s"
    if done.returncode != 0 or not dst.exists():
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        return f"tf2onnx failed: {lines[-1] if lines else f'exit code {done.returncode}'}"
    return None


def probe_batch(features: tuple[TensorSpec, ...]) -> dict[str, np.ndarray]:
    """A fixed random batch matching the features: floats in [0, 1), integers 0..255."""
    rng = np.random.default_rng(20240601)
    feeds: dict[str, np.ndarray] = {}
    for spec in features:
        dims = [
            (PROBE_BATCH if i == 0 else PROBE_SIDE) if d is None else d
            for i, d in enumerate(spec.shape)
        ]
        dtype = np.dtype(spec.dtype)
        if dtype.kind == "f":
            feeds[spec.name] = rng.random(dims).astype(dtype)
        else:
            feeds[spec.name] = rng.integers(0, 256, dims).astype(dtype)
    return feeds


def probe_disagreement(
    src: Path, onnx_path: Path, features: tuple[TensorSpec, ...], model_path: str
) -> str | None:
    """Run TensorFlow and ONNX Runtime on the probe batch; None when they agree."""
    import onnxruntime as ort
    import tensorflow as tf

    feeds = probe_batch(features)
    signature = tf.saved_model.load(str(src)).signatures["serving_default"]
    try:
        results = signature(**{k: tf.constant(v) for k, v in feeds.items()})
    except Exception as exc:  # TensorFlow raises many types
        shapes = ", ".join(f"{k} {list(v.shape)}" for k, v in feeds.items())
        raise EngineError(
            f"the SavedModel at {model_path} fails on a probe batch of its signature ({shapes}): {exc}"
        ) from exc
    expected = {k: v.numpy() for k, v in results.items()}
    try:
        session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
        names = [o.name for o in session.get_outputs()]
        got = dict(zip(names, session.run(names, feeds), strict=True))
    except Exception as exc:  # any ONNX Runtime failure means the conversion is unusable
        return f"the ONNX model does not run: {exc}"
    for name, want in expected.items():
        if name not in got:
            return f"the ONNX model has no output {name}"
        if got[name].shape != want.shape:
            return f"output {name} has shape {got[name].shape}, TensorFlow gives {want.shape}"
        if not np.allclose(got[name], want, rtol=PROBE_RTOL, atol=PROBE_ATOL):
            diff = float(np.max(np.abs(got[name].astype(np.float64) - want)))
            return f"output {name} differs from TensorFlow by up to {diff:.3g} on the probe batch"
    return None
