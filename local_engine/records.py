"""What CREATE MODEL stores in the catalog: the model's tensors and where its artifact lives."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class TensorSpec:
    """One model input (feature) or output (label), e.g. ("input_1", "float32", (None, 224, 224, 3))."""

    name: str
    dtype: str
    shape: tuple[int | None, ...]

    def shape_text(self) -> str:
        return "[" + ", ".join("-1" if d is None else str(d) for d in self.shape) + "]"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TensorSpec:
        shape = tuple(None if d is None else int(d) for d in data["shape"])
        return cls(name=str(data["name"]), dtype=str(data["dtype"]), shape=shape)


@dataclass(frozen=True)
class ModelRecord:
    """A created model. `artifact` is relative to HOME/models/; `runtime` is its format:
    `onnx` (OpenVINO or ONNX Runtime), `tensorflow` (a SavedModel, the fallback when
    conversion fails or disagrees) or `tflite` (LiteRT)."""

    model_type: str
    model_path: str
    content_hash: str
    artifact: str
    runtime: str
    features: tuple[TensorSpec, ...]
    labels: tuple[TensorSpec, ...]

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ModelRecord:
        data = json.loads(text)
        return cls(
            model_type=str(data["model_type"]),
            model_path=str(data["model_path"]),
            content_hash=str(data["content_hash"]),
            artifact=str(data["artifact"]),
            runtime=str(data["runtime"]),
            features=tuple(TensorSpec.from_dict(t) for t in data["features"]),
            labels=tuple(TensorSpec.from_dict(t) for t in data["labels"]),
        )
