"""What the templates need to know about the model: feature and output names, image size, labels.

The defaults are the walkthrough's TF Hub ResNet-50 (`input_1` float32 [-1, 224, 224, 3]
-> `activation_49` [-1, 1001], index 0 "background"). Another image classifier fits
by configuring its own values; `check_model_dir` compares them with a local SavedModel's
actual `serving_default` signature and names both when they differ.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import SqlRunnerError
from pipeline.savedmodel_signature import read_serving_signature

DEFAULT_INPUT = "input_1"
DEFAULT_OUTPUT = "activation_49"
DEFAULT_IMAGE_SIZE = 224
DEFAULT_CLASS_COUNT = 1001
DEFAULT_BACKGROUND = True
IMAGENET_CLASSES = 1000
# A column name the templates back-quote: letters, digits, underscore, not a digit first.
_COLUMN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,299}")
MAX_IMAGE_SIZE = 4096


@dataclass(frozen=True)
class ModelSpec:
    input_name: str = DEFAULT_INPUT
    output_name: str = DEFAULT_OUTPUT
    image_size: int = DEFAULT_IMAGE_SIZE
    class_count: int = DEFAULT_CLASS_COUNT
    background_class: bool = DEFAULT_BACKGROUND

    def validate(self, source: str = "model") -> ModelSpec:
        """Refuse values no template can take, naming the key; returns self."""
        for key, name in (("model_input", self.input_name), ("model_output", self.output_name)):
            if not isinstance(name, str) or not _COLUMN.fullmatch(name):
                raise SqlRunnerError(
                    f"{source} {key}: {name!r} is not a column name (letters, digits and "
                    "underscores, not starting with a digit)"
                )
        size = self.image_size
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_IMAGE_SIZE:
            raise SqlRunnerError(
                f"{source} image_size: {size!r} is not an integer from 1 to {MAX_IMAGE_SIZE}"
            )
        if not isinstance(self.background_class, bool):
            raise SqlRunnerError(
                f"{source} background_class: {self.background_class!r} is not a boolean"
            )
        expected = IMAGENET_CLASSES + (1 if self.background_class else 0)
        if self.class_count != expected or isinstance(self.class_count, bool):
            raise SqlRunnerError(
                f"{source} class_count: {self.class_count!r} does not fit the ImageNet-1k label "
                f"list, which has {expected} classes "
                f"{'with' if self.background_class else 'without'} a background class"
            )
        return self

    def describe(self) -> str:
        labels = "index 0 background" if self.background_class else "no background class"
        return (
            f"{self.input_name} float32 [-1,{self.image_size},{self.image_size},3] -> "
            f"{self.output_name} float32 [-1,{self.class_count}] ({labels})"
        )

    def as_outputs(self) -> dict[str, str | int | bool]:
        return {
            "model_input": self.input_name,
            "model_output": self.output_name,
            "image_size": self.image_size,
            "class_count": self.class_count,
            "background_class": self.background_class,
        }


def spec_from_outputs(outputs: Mapping[str, object]) -> ModelSpec:
    """The spec in stack outputs; a key missing (an older stack) takes ResNet-50's value."""
    spec = ModelSpec(
        input_name=outputs.get("model_input", DEFAULT_INPUT),  # type: ignore[arg-type]
        output_name=outputs.get("model_output", DEFAULT_OUTPUT),  # type: ignore[arg-type]
        image_size=outputs.get("image_size", DEFAULT_IMAGE_SIZE),  # type: ignore[arg-type]
        class_count=outputs.get("class_count", DEFAULT_CLASS_COUNT),  # type: ignore[arg-type]
        background_class=outputs.get("background_class", DEFAULT_BACKGROUND),  # type: ignore[arg-type]
    )
    return spec.validate("stack output")


def check_model_dir(spec: ModelSpec, model_dir: Path) -> None:
    """Refuse a SavedModel whose serving signature is not what `spec` says, naming both."""
    signature = read_serving_signature(model_dir)
    size = spec.image_size
    want_in = f"{spec.input_name} float32 [-1, {size}, {size}, 3]"
    want_out = f"{spec.output_name} float32 [-1, {spec.class_count}]"
    got_in = ", ".join(s.describe() for s in signature.inputs) or "none"
    got_out = ", ".join(s.describe() for s in signature.outputs) or "none"
    if [got_in, got_out] != [want_in, want_out]:
        raise SqlRunnerError(
            f"the configured model ({want_in} -> {want_out}) does not match the SavedModel "
            f"in {model_dir} ({got_in} -> {got_out})"
        )
