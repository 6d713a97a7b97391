"""The serving signature every ResNet-50 SavedModel here has, and a check for it.

TF Hub `tensorflow/resnet_50/classification/1`: `serving_default` takes `input_1`
float32 [-1, 224, 224, 3] in [0, 1] and returns `activation_49` float32 [-1, 1001],
softmax probabilities with index 0 "background".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import SqlRunnerError

SIGNATURE_KEY = "serving_default"
INPUT_NAME = "input_1"
OUTPUT_NAME = "activation_49"
IMAGE_SIZE = 224
NUM_CLASSES = 1001
INPUT_SHAPE: tuple[int | None, ...] = (None, IMAGE_SIZE, IMAGE_SIZE, 3)
OUTPUT_SHAPE: tuple[int | None, ...] = (None, NUM_CLASSES)


@dataclass(frozen=True)
class SignatureSpec:
    """One tensor of a SavedModel signature, as TensorFlow reports it."""

    name: str
    dtype: str
    shape: tuple[int | None, ...]


def read_signature(model_dir: Path) -> tuple[list[SignatureSpec], list[SignatureSpec]]:
    """Load `model_dir` with TensorFlow and return the `serving_default` inputs and outputs."""
    if not (model_dir / "saved_model.pb").is_file():
        raise SqlRunnerError(f"{model_dir} is not a SavedModel: saved_model.pb is missing")
    import tensorflow as tf  # after the check: a wrong path is refused without loading it

    try:
        loaded = tf.saved_model.load(str(model_dir))
    except Exception as exc:  # TF raises many types for a corrupt model
        raise SqlRunnerError(f"{model_dir}: TensorFlow cannot load the SavedModel: {exc}") from exc
    signatures = loaded.signatures
    if SIGNATURE_KEY not in signatures:
        raise SqlRunnerError(f"{model_dir} has no {SIGNATURE_KEY!r} signature")
    function = signatures[SIGNATURE_KEY]
    _, input_specs = function.structured_input_signature
    inputs = [_spec(name, spec) for name, spec in sorted(input_specs.items())]
    outputs = [_spec(name, spec) for name, spec in sorted(function.structured_outputs.items())]
    return inputs, outputs


def verify_signature(model_dir: Path) -> None:
    """Refuse a SavedModel whose serving signature is not ResNet-50's, naming what differs."""
    inputs, outputs = read_signature(model_dir)
    _expect(model_dir, "input", inputs, SignatureSpec(INPUT_NAME, "float32", INPUT_SHAPE))
    _expect(model_dir, "output", outputs, SignatureSpec(OUTPUT_NAME, "float32", OUTPUT_SHAPE))


def _spec(name: str, spec: object) -> SignatureSpec:
    shape = tuple(spec.shape.as_list())  # type: ignore[attr-defined]
    return SignatureSpec(name=name, dtype=spec.dtype.name, shape=shape)  # type: ignore[attr-defined]


def _expect(model_dir: Path, kind: str, got: list[SignatureSpec], want: SignatureSpec) -> None:
    if got != [want]:
        shown = ", ".join(_describe(s) for s in got) or "none"
        raise SqlRunnerError(
            f"{model_dir}: {SIGNATURE_KEY} {kind} must be {_describe(want)}, the model has {shown}"
        )


def _describe(spec: SignatureSpec) -> str:
    dims = ", ".join("-1" if d is None else str(d) for d in spec.shape)
    return f"{spec.name} {spec.dtype} [{dims}]"
