"""Each SQLRUNNER_* runtime setting reaches the runtime that loads the model."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from local_engine import runtimes
from local_engine.models import ModelRecord, create_model
from local_engine.openvino_runtime import import_openvino
from local_engine.runtimes import choose_runtime, open_runtime
from tests.support.ml_lake import DirStore, put_tree

SETTINGS = (
    "SQLRUNNER_RUNTIME",
    "SQLRUNNER_PRECISION",
    "SQLRUNNER_THREADS",
    "SQLRUNNER_OPENVINO_HINT",
)


@pytest.fixture(scope="module")
def onnx_model(tiny_savedmodel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("lake")
    store = DirStore(root / "gcs")
    store.root.mkdir()
    record: ModelRecord = create_model(
        "TENSORFLOW", put_tree(store, tiny_savedmodel, "gs://b/m"), store, root / "home"
    )
    return root / "home" / "models" / record.artifact


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)


def openvino_configs(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The config of every OpenVINO compile_model call from here on."""
    ov = import_openvino()
    seen: list[dict[str, Any]] = []

    class RecordingCore:
        def __init__(self) -> None:
            self.core = ov.Core()

        def compile_model(self, path: str, device: str, config: dict[str, Any]) -> Any:
            seen.append(dict(config))
            return self.core.compile_model(path, device, config)

    monkeypatch.setattr(runtimes, "import_openvino", lambda: SimpleNamespace(Core=RecordingCore))
    return seen


def run_once(path: Path) -> None:
    choice = choose_runtime("onnx", "tensorflow")
    run = open_runtime(choice, path)
    outputs = run({"input_1": np.zeros((1, 224, 224, 3), np.float32)})
    assert next(iter(outputs.values())).shape == (1, 1001)


def test_threads_and_hint_reach_openvino(onnx_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = openvino_configs(monkeypatch)
    run_once(onnx_model)
    monkeypatch.setenv("SQLRUNNER_THREADS", "1")
    monkeypatch.setenv("SQLRUNNER_OPENVINO_HINT", "latency")
    run_once(onnx_model)
    default, told = seen
    assert default["PERFORMANCE_HINT"] == "THROUGHPUT"
    assert default["INFERENCE_PRECISION_HINT"] == "f32"
    assert default["INFERENCE_NUM_THREADS"] == (os.cpu_count() or 1)  # every core
    assert told["INFERENCE_NUM_THREADS"] == 1
    assert told["PERFORMANCE_HINT"] == "LATENCY"


def test_runtime_onnxruntime_loads_with_the_threads_given(
    onnx_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import onnxruntime as ort

    sessions: list[Any] = []
    real = ort.InferenceSession

    def recording(path: str, options: Any, **kwargs: Any) -> Any:
        sessions.append(options)
        return real(path, options, **kwargs)

    monkeypatch.setattr(ort, "InferenceSession", recording)
    monkeypatch.setenv("SQLRUNNER_RUNTIME", "onnxruntime")
    monkeypatch.setenv("SQLRUNNER_THREADS", "2")
    run_once(onnx_model)
    (options,) = sessions
    assert options.intra_op_num_threads == 2
    assert openvino_configs(monkeypatch) == []  # OpenVINO was not used


def test_threads_must_be_a_positive_integer(monkeypatch: pytest.MonkeyPatch) -> None:
    from local_engine.errors import EngineError

    for bad in ("0", "-1", "two"):
        monkeypatch.setenv("SQLRUNNER_THREADS", bad)
        with pytest.raises(EngineError, match="SQLRUNNER_THREADS must be a positive integer"):
            choose_runtime("onnx", "tensorflow")
