"""CREATE MODEL's model handling: fetch, check, hash, convert, cache; and loading for ML.PREDICT.

Converted models live under HOME/models/<sha256>/ (the hash of the model type and of
every source file with its relative path): `source/` holds the files as listed under
model_path, `model.onnx` the tf2onnx conversion, `record.json` the ModelRecord. A
second CREATE MODEL over the same files reuses the directory without converting.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np

from bigquery_facts import MAX_MODEL_BYTES, MODEL_TYPES
from local_engine import convert
from local_engine.errors import EngineError
from local_engine.records import ModelRecord, TensorSpec
from local_engine.runtimes import RunFn, RuntimeChoice, choose_runtime, open_runtime

__all__ = [
    "LocalModel",
    "ModelRecord",
    "TensorSpec",
    "create_model",
    "load_model",
]


class _ObjectInfo(Protocol):
    @property
    def uri(self) -> str: ...
    @property
    def size(self) -> int: ...


class ModelFileStore(Protocol):
    """The part of the engine's ObjectStore that CREATE MODEL uses."""

    def list(self, pattern: str) -> Iterator[_ObjectInfo]: ...
    def read(self, uri: str) -> bytes: ...


class LocalModel(Protocol):
    record: ModelRecord

    def predict(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]: ...


def models_dir(home: Path) -> Path:
    return home / "models"


def _list_model_files(model_path: str, store: ModelFileStore) -> list[tuple[str, str, int]]:
    """(uri, path relative to model_path's folder, size) of each file; errors name the path."""
    if not model_path.startswith("gs://"):
        raise EngineError(f"model_path must be a gs:// URI, got {model_path!r}")
    if "*" in model_path:
        prefix = model_path[: model_path.index("*")]
        objects = list(store.list(model_path))
    else:
        prefix = model_path
        objects = [o for o in store.list(model_path) if o.uri == model_path]
    folder = prefix[: prefix.rfind("/") + 1]
    files = [
        (o.uri, o.uri[len(folder) :], int(o.size))
        for o in objects
        if not o.uri.endswith("/") and o.uri[len(folder) :]
    ]
    if not files:
        hint = "" if "*" in model_path else f" (a folder is written {model_path.rstrip('/')}/*)"
        raise EngineError(f"model_path {model_path} matches no files{hint}")
    total = sum(size for _, _, size in files)
    if total >= MAX_MODEL_BYTES:
        raise EngineError(
            f"the model at {model_path} is {total:,} bytes; BigQuery imports models of less"
            f" than {MAX_MODEL_BYTES / 1e6:.0f} MB ({MAX_MODEL_BYTES:,} bytes)"
        )
    return sorted(files, key=lambda f: f[1])


def _check_model_type(model_type: str, model_path: str, names: list[str]) -> str | None:
    """The main file for ONNX/TFLite (None for a SavedModel); errors for a wrong type."""
    if model_type not in MODEL_TYPES:
        raise EngineError(
            f"model_type {model_type!r} is not supported locally (use {', '.join(MODEL_TYPES)})"
        )
    if model_type == "TENSORFLOW":
        if "saved_model.pb" not in names:
            raise EngineError(
                f"model_type TENSORFLOW needs a SavedModel (saved_model.pb) at {model_path};"
                f" found {', '.join(names[:5])}"
            )
        return None
    suffix = ".onnx" if model_type == "ONNX" else ".tflite"
    found = [n for n in names if n.endswith(suffix)]
    if len(found) != 1:
        raise EngineError(
            f"model_type {model_type} needs exactly one {suffix} file at {model_path};"
            f" found {len(found)} among {', '.join(names[:5])}"
        )
    return found[0]


def create_model(
    model_type: str, model_path: str, store: ModelFileStore, home: Path
) -> ModelRecord:
    """Fetch, check and convert the model at model_path; return what the catalog stores."""
    model_type = model_type.upper()
    files = _list_model_files(model_path, store)
    main_file = _check_model_type(model_type, model_path, [rel for _, rel, _ in files])
    root = models_dir(home)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".create-", dir=root))
    try:
        digest = hashlib.sha256(model_type.encode())
        for uri, rel, _ in files:
            data = store.read(uri)
            target = staging / "source" / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            digest.update(b"\0" + rel.encode() + b"\0" + hashlib.sha256(data).digest())
        content_hash = digest.hexdigest()
        final = root / content_hash
        cached = final / "record.json"
        if cached.exists():
            record = ModelRecord.from_json(cached.read_text())
            return dataclasses.replace(record, model_path=model_path)
        record = _prepare(model_type, model_path, content_hash, staging, main_file)
        (staging / "record.json").write_text(record.to_json())
        if final.exists():
            shutil.rmtree(final)  # a half-made directory from an interrupted run
        staging.rename(final)
        return record
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _prepare(
    model_type: str, model_path: str, content_hash: str, staging: Path, main_file: str | None
) -> ModelRecord:
    source = staging / "source"
    if model_type == "ONNX":
        assert main_file is not None
        try:
            features, labels = convert.onnx_signature(source / main_file)
        except Exception as exc:  # ONNX Runtime raises its own types for a bad file
            raise EngineError(f"the ONNX model at {model_path} cannot be loaded: {exc}") from exc
        return ModelRecord(model_type, model_path, content_hash, f"{content_hash}/source/{main_file}",
                           "onnx", features, labels)  # fmt: skip
    if model_type == "TENSORFLOW_LITE":
        assert main_file is not None
        try:
            features, labels = convert.tflite_signature(source / main_file)
        except ImportError as exc:
            raise EngineError(
                "TENSORFLOW_LITE models need the LiteRT runtime: pip install ai-edge-litert"
            ) from exc
        except (ValueError, RuntimeError) as exc:
            raise EngineError(f"the TFLite model at {model_path} cannot be loaded: {exc}") from exc
        return ModelRecord(model_type, model_path, content_hash, f"{content_hash}/source/{main_file}",
                           "tflite", features, labels)  # fmt: skip
    features, labels = convert.savedmodel_signature(source, model_path)
    onnx_path = staging / "model.onnx"
    problem = convert.savedmodel_to_onnx(source, onnx_path)
    if problem is None:
        problem = convert.probe_disagreement(source, onnx_path, features, model_path)
    if problem is None:
        return ModelRecord(model_type, model_path, content_hash, f"{content_hash}/model.onnx",
                           "onnx", features, labels)  # fmt: skip
    print(
        f"warning: {model_path}: ONNX conversion not used ({problem}); running it on TensorFlow",
        file=sys.stderr,
    )
    onnx_path.unlink(missing_ok=True)
    return ModelRecord(model_type, model_path, content_hash, f"{content_hash}/source",
                       "tensorflow", features, labels)  # fmt: skip


class LoadedModel:
    """A ModelRecord bound to a runtime; checks feeds against the features."""

    def __init__(self, record: ModelRecord, run: RunFn, runtime: str, precision: str) -> None:
        self.record = record
        self.runtime = runtime
        self.precision = precision
        self._run = run
        self._lock = threading.Lock()

    def predict(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        ready: dict[str, np.ndarray] = {}
        for spec in self.record.features:
            if spec.name not in feeds:
                raise EngineError(
                    f"model {self.record.model_path} needs the feature {spec.name}, which the input lacks"
                )
            value = np.ascontiguousarray(feeds[spec.name], dtype=np.dtype(spec.dtype))
            _check_shape(spec, value.shape, self.record.model_path)
            ready[spec.name] = value
        rows = next(iter(ready.values())).shape[0] if ready else 0
        if rows > 1 and any(spec.shape and spec.shape[0] == 1 for spec in self.record.features):
            # BigQuery accepts models whose batch dimension is fixed at 1: run row by row.
            parts = [
                self._run_batch({k: v[i : i + 1] for k, v in ready.items()}) for i in range(rows)
            ]
            return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
        return self._run_batch(ready)

    def _run_batch(self, ready: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        try:
            with self._lock:
                outputs = self._run(ready)
        except EngineError:
            raise
        except Exception as exc:  # runtime-specific error types
            raise EngineError(
                f"model {self.record.model_path} failed on {self.runtime}: {exc}"
            ) from exc
        missing = [spec.name for spec in self.record.labels if spec.name not in outputs]
        if missing:
            raise EngineError(
                f"model {self.record.model_path} returned no output {', '.join(missing)}"
            )
        return {spec.name: outputs[spec.name] for spec in self.record.labels}


def _check_shape(spec: TensorSpec, shape: tuple[int, ...], model_path: str) -> None:
    if len(spec.shape) != len(shape) or any(
        want is not None and want != got
        for want, got in zip(spec.shape[1:], shape[1:], strict=False)
    ):
        got = "[" + ", ".join(str(d) for d in shape) + "]"
        raise EngineError(
            f"input shape mismatch: feature {spec.name} of model {model_path} takes"
            f" {spec.shape_text()}, got {got}"
        )


_loaded: dict[tuple[str, str, RuntimeChoice], LoadedModel] = {}
_loaded_lock = threading.Lock()


def load_model(record: ModelRecord, home: Path) -> LocalModel:
    """The record's model on the runtime the settings pick; cached per process and settings."""
    source_format = "tensorflow" if record.model_type == "TENSORFLOW" else record.runtime
    choice = choose_runtime(record.runtime, source_format)
    root = models_dir(home)
    if choice.runtime == "tensorflow" and record.runtime != "tensorflow":
        path = root / record.content_hash / "source"
    else:
        path = root / record.artifact
    # Keyed on every setting: a model loaded under other SQLRUNNER_* values is another model.
    key = (str(path.resolve()), record.content_hash, choice)
    with _loaded_lock:
        model = _loaded.get(key)
        if model is None:
            if not path.exists():
                raise EngineError(
                    f"the cached model for {record.model_path} is missing ({path}); run CREATE MODEL again"
                )
            try:
                run = open_runtime(choice, path)
            except EngineError:
                raise
            except Exception as exc:  # runtime-specific error types
                raise EngineError(
                    f"cannot load model {record.model_path} on {choice.runtime}: {exc}"
                ) from exc
            model = LoadedModel(record, run, choice.runtime, choice.precision)
            _loaded[key] = model
    return model
