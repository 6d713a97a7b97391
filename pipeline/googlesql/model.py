"""The model's features and labels as GoogleSQL types: what ML.PREDICT takes and returns.

An imported model's features are its input tensors and its labels its outputs; BigQuery
passes an image feature the STRUCT that ML.DECODE_IMAGE returns (float pixels) or that
ML.CONVERT_IMAGE_TYPE returns (integer pixels), and returns a [-1, n] output as an ARRAY.
The signature comes from the stack outputs when they carry it, else it is the
walkthrough's ResNet-50 (`input_1` float32 [-1, 224, 224, 3] -> `activation_49`
float32 [-1, 1001]).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bigquery_facts import ML_IMAGE_TYPE, ML_INT_IMAGE_TYPE
from pipeline.errors import SqlRunnerError
from pipeline.googlesql.types import TypeDict, array_of, scalar, type_proto

DEFAULT_INPUT = "input_1"
DEFAULT_OUTPUT = "activation_49"
DEFAULT_IMAGE_SIZE = 224
DEFAULT_CLASSES = 1001
# Stack-output keys that override the defaults, when the stack exports them.
INPUT_KEY, OUTPUT_KEY, IMAGE_SIZE_KEY, CLASSES_KEY = (
    "model_input_name",
    "model_output_name",
    "image_size",
    "num_classes",
)
_FLOATS = ("float16", "bfloat16", "float32", "float64")


@dataclass(frozen=True)
class Tensor:
    name: str
    dtype: str
    shape: tuple[int | None, ...]

    def bigquery_type(self) -> TypeDict:
        """The GoogleSQL type BigQuery uses for this tensor, one row per batch entry."""
        floating = self.dtype in _FLOATS
        if len(self.shape) == 4 and self.shape[-1] in (1, 3, 4):
            return type_proto(ML_IMAGE_TYPE if floating else ML_INT_IMAGE_TYPE)
        element = scalar("TYPE_DOUBLE" if floating else "TYPE_INT64")
        if len(self.shape) <= 1:
            return element
        if len(self.shape) == 2:
            return array_of(element)
        raise SqlRunnerError(
            f"model tensor {self.name}: rank {len(self.shape)} has no BigQuery column type"
        )


@dataclass(frozen=True)
class ModelSignature:
    features: tuple[Tensor, ...]
    labels: tuple[Tensor, ...]


def _positive(outputs: Mapping[str, object], key: str, default: int) -> int:
    value = outputs.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SqlRunnerError(f"{key}: {value!r} is not a positive integer")
    return value


def _name(outputs: Mapping[str, object], key: str, default: str) -> str:
    value = outputs.get(key, default)
    if not isinstance(value, str) or not value:
        raise SqlRunnerError(f"{key}: {value!r} is not a tensor name")
    return value


def signature_from_outputs(outputs: Mapping[str, object]) -> ModelSignature:
    """The image classifier the stack imports: one image feature, one score vector."""
    size = _positive(outputs, IMAGE_SIZE_KEY, DEFAULT_IMAGE_SIZE)
    classes = _positive(outputs, CLASSES_KEY, DEFAULT_CLASSES)
    return ModelSignature(
        features=(
            Tensor(_name(outputs, INPUT_KEY, DEFAULT_INPUT), "float32", (None, size, size, 3)),
        ),
        labels=(Tensor(_name(outputs, OUTPUT_KEY, DEFAULT_OUTPUT), "float32", (None, classes)),),
    )
