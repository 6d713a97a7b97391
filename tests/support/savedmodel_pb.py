"""Minimal saved_model.pb files: only a `serving_default` signature, for tests of config checks."""

from __future__ import annotations

from pathlib import Path

from pipeline.savedmodel_signature import SAVED_MODEL, SIGNATURE_KEY

FLOAT32 = 1  # tensorflow DataType DT_FLOAT
UINT8 = 4  # DT_UINT8


def signature_pb(
    inputs: dict[str, tuple[int, ...]],
    outputs: dict[str, tuple[int, ...]],
    dtype: int = FLOAT32,
) -> bytes:
    """A SavedModel proto whose serving signature has these tensors (-1: any size)."""
    saved = SAVED_MODEL()
    saved.saved_model_schema_version = 1
    entry = saved.meta_graphs.add().signature_def.add()
    entry.key = SIGNATURE_KEY
    for specs, field in ((inputs, entry.value.inputs), (outputs, entry.value.outputs)):
        for name, shape in specs.items():
            tensor = field.add()
            tensor.key = name
            tensor.value.name = f"serving_default_{name}:0"
            tensor.value.dtype = dtype
            for size in shape:
                tensor.value.tensor_shape.dim.add().size = size
    return bytes(saved.SerializeToString())


def resnet_signature_pb() -> bytes:
    """The walkthrough's ResNet-50 signature: input_1 [-1,224,224,3] -> activation_49 [-1,1001]."""
    return signature_pb({"input_1": (-1, 224, 224, 3)}, {"activation_49": (-1, 1001)})


def write_saved_model_pb(model_dir: Path, data: bytes | None = None) -> Path:
    path = model_dir / "saved_model.pb"
    path.write_bytes(resnet_signature_pb() if data is None else data)
    return path
