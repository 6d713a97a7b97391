"""A tiny SavedModel with ResNet-50's exact serving signature, for fast tests.

It average-pools the [0, 1] image to 8x8x3, applies one dense layer with fixed
seeded weights and a softmax over 1001 classes: outputs depend on the pixels, so
tests can tell images apart and compare runtimes, in well under a second.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sqlrunner.modelzoo.marker import StandInMarker, write_marker
from sqlrunner.modelzoo.signature import (
    IMAGE_SIZE,
    INPUT_NAME,
    NUM_CLASSES,
    OUTPUT_NAME,
    SIGNATURE_KEY,
)

TINY_SEED = 20240
_POOLED = 8  # 224 / 28


def tiny_weights(seed: int = TINY_SEED) -> tuple[np.ndarray, np.ndarray]:
    """The dense layer's kernel [192, 1001] and bias [1001], the same for the same seed."""
    rng = np.random.default_rng(seed)
    features = _POOLED * _POOLED * 3
    kernel = rng.normal(0.0, 4.0, size=(features, NUM_CLASSES)).astype(np.float32)
    bias = rng.normal(0.0, 0.1, size=(NUM_CLASSES,)).astype(np.float32)
    return kernel, bias


def build_tiny_savedmodel(dest: Path, seed: int = TINY_SEED) -> Path:
    """Write the tiny SavedModel to `dest` (created; must not hold a model already)."""
    import tensorflow as tf

    kernel, bias = tiny_weights(seed)

    class TinyClassifier(tf.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(name="tiny_resnet_signature")
            self.kernel = tf.Variable(kernel, name="kernel")
            self.bias = tf.Variable(bias, name="bias")

        @tf.function(  # type: ignore[untyped-decorator]
            input_signature=[
                tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 3], tf.float32, name=INPUT_NAME)
            ]
        )
        def serve(self, input_1: tf.Tensor) -> dict[str, tf.Tensor]:
            pooled = tf.nn.avg_pool2d(input_1, ksize=28, strides=28, padding="VALID")
            flat = tf.reshape(pooled, [-1, _POOLED * _POOLED * 3])
            logits = tf.matmul(flat - 0.5, self.kernel) + self.bias
            return {OUTPUT_NAME: tf.nn.softmax(logits)}

    module = TinyClassifier()
    dest.mkdir(parents=True, exist_ok=True)
    tf.saved_model.save(module, str(dest), signatures={SIGNATURE_KEY: module.serve})
    note = "untrained tiny test model (not ResNet-50): its labels mean nothing"
    write_marker(dest, StandInMarker("tiny", False, note, {"seed": seed}))
    return dest
