"""The model's features and labels as GoogleSQL types: what ML.PREDICT takes and returns.

An imported model's features are its input tensors and its labels its outputs; BigQuery
passes an image feature the STRUCT that ML.DECODE_IMAGE returns (float pixels) or that
ML.CONVERT_IMAGE_TYPE returns (integer pixels), and returns a [-1, n] output as an ARRAY.
The signature is the model the stack outputs describe (`pipeline.model_spec`: the
walkthrough's ResNet-50 when they name none).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bigquery_facts import ML_IMAGE_TYPE, ML_INT_IMAGE_TYPE
from pipeline.errors import SqlRunnerError
from pipeline.googlesql.types import TypeDict, array_of, scalar, type_proto
from pipeline.model_spec import spec_from_outputs

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


def signature_from_outputs(outputs: Mapping[str, object]) -> ModelSignature:
    """The image classifier the stack imports: one image feature, one score vector."""
    spec = spec_from_outputs(outputs)
    size = spec.image_size
    return ModelSignature(
        features=(Tensor(spec.input_name, "float32", (None, size, size, 3)),),
        labels=(Tensor(spec.output_name, "float32", (None, spec.class_count)),),
    )
