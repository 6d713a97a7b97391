"""A SavedModel's `serving_default` signature, read from saved_model.pb without TensorFlow.

The deploy path must not import TensorFlow, so the few messages needed (SavedModel ->
MetaGraphDef.signature_def -> SignatureDef -> TensorInfo -> TensorShapeProto) are
declared here with protobuf's own descriptor API, field numbers as in TensorFlow's
`saved_model.proto`, `meta_graph.proto` and `tensor_shape.proto`; every other field
of the file is skipped by the parser as unknown. A map field is wire-identical to a
repeated key/value message, which is how it is declared.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError

from pipeline.errors import SqlRunnerError

SIGNATURE_KEY = "serving_default"
# tensorflow/core/framework/types.proto, the DataType values an image model uses.
DTYPES = {1: "float32", 2: "float64", 3: "int32", 4: "uint8", 9: "int64", 14: "bfloat16"}
_PACKAGE = "sqlrunner_savedmodel_subset"


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of a signature: its key, dtype and shape (None: any size)."""

    name: str
    dtype: str
    shape: tuple[int | None, ...]

    def describe(self) -> str:
        dims = ", ".join("-1" if d is None else str(d) for d in self.shape)
        return f"{self.name} {self.dtype} [{dims}]"


@dataclass(frozen=True)
class Signature:
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]


_F = descriptor_pb2.FieldDescriptorProto


def _field(name: str, number: int, kind: int, type_name: str = "", repeated: bool = False) -> Any:
    label = _F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL
    field = _F(name=name, number=number, type=kind, label=label)
    if type_name:
        field.type_name = f".{_PACKAGE}.{type_name}"
    return field


def _message(name: str, *fields: Any) -> descriptor_pb2.DescriptorProto:
    return descriptor_pb2.DescriptorProto(name=name, field=list(fields))


def _saved_model_class() -> Any:
    file = descriptor_pb2.FileDescriptorProto(
        name=f"{_PACKAGE}.proto", package=_PACKAGE, syntax="proto3"
    )
    file.message_type.extend(
        [
            _message("Dim", _field("size", 1, _F.TYPE_INT64), _field("name", 2, _F.TYPE_STRING)),
            _message(
                "TensorShapeProto",
                _field("dim", 2, _F.TYPE_MESSAGE, "Dim", repeated=True),
                _field("unknown_rank", 3, _F.TYPE_BOOL),
            ),
            _message(
                "TensorInfo",
                _field("name", 1, _F.TYPE_STRING),
                _field("dtype", 2, _F.TYPE_INT32),  # an enum on the wire is a varint
                _field("tensor_shape", 3, _F.TYPE_MESSAGE, "TensorShapeProto"),
            ),
            _message(
                "TensorInfoEntry",
                _field("key", 1, _F.TYPE_STRING),
                _field("value", 2, _F.TYPE_MESSAGE, "TensorInfo"),
            ),
            _message(
                "SignatureDef",
                _field("inputs", 1, _F.TYPE_MESSAGE, "TensorInfoEntry", repeated=True),
                _field("outputs", 2, _F.TYPE_MESSAGE, "TensorInfoEntry", repeated=True),
                _field("method_name", 3, _F.TYPE_STRING),
            ),
            _message(
                "SignatureEntry",
                _field("key", 1, _F.TYPE_STRING),
                _field("value", 2, _F.TYPE_MESSAGE, "SignatureDef"),
            ),
            _message(
                "MetaGraphDef",
                _field("signature_def", 5, _F.TYPE_MESSAGE, "SignatureEntry", repeated=True),
            ),
            _message(
                "SavedModel",
                _field("saved_model_schema_version", 1, _F.TYPE_INT64),
                _field("meta_graphs", 2, _F.TYPE_MESSAGE, "MetaGraphDef", repeated=True),
            ),
        ]
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.SavedModel"))


# The message class; tests also write minimal saved_model.pb files with it.
SAVED_MODEL = _saved_model_class()


def _spec(entry: Any) -> TensorSpec:
    info = entry.value
    dtype = DTYPES.get(info.dtype, f"DataType {info.dtype}")
    if info.tensor_shape.unknown_rank:
        return TensorSpec(entry.key, dtype, ())
    shape = tuple(None if d.size < 0 else int(d.size) for d in info.tensor_shape.dim)
    return TensorSpec(entry.key, dtype, shape)


def read_serving_signature(model_dir: Path) -> Signature:
    """The `serving_default` inputs and outputs of the SavedModel in `model_dir`, by key."""
    path = model_dir / "saved_model.pb"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SqlRunnerError(
            f"{model_dir} is not a SavedModel: saved_model.pb is missing"
        ) from None
    except OSError as exc:
        raise SqlRunnerError(f"cannot read {path}: {exc.strerror}") from exc
    saved = SAVED_MODEL()
    try:
        saved.ParseFromString(data)
    except DecodeError as exc:
        raise SqlRunnerError(f"{path} is not a SavedModel protobuf: {exc}") from None
    for meta_graph in saved.meta_graphs:
        for entry in meta_graph.signature_def:
            if entry.key == SIGNATURE_KEY:
                signature = entry.value
                return Signature(
                    inputs=tuple(sorted((_spec(e) for e in signature.inputs), key=_by_name)),
                    outputs=tuple(sorted((_spec(e) for e in signature.outputs), key=_by_name)),
                )
    raise SqlRunnerError(f"{model_dir} has no {SIGNATURE_KEY!r} signature")


def _by_name(spec: TensorSpec) -> str:
    return spec.name
