"""The ResNet-50 stand-in: the real architecture with deterministic, untrained weights.

`keras.applications.ResNet50(weights=None, classes=1001)` initialised from a fixed
seed, wrapped so that its `serving_default` signature is exactly TF Hub's: `input_1`
float32 [-1, 224, 224, 3] in [0, 1], rescaled inside the graph the way Keras' ResNet-50
preprocessing does, and `activation_49` float32 [-1, 1001] softmax. Its STANDIN.json
marks it untrained. Builds take a minute, so they are cached under a key of the recipe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlrunner.modelzoo.cache import build_into, recipe_key
from sqlrunner.modelzoo.marker import StandInMarker, read_marker, write_marker
from sqlrunner.modelzoo.signature import (
    IMAGE_SIZE,
    INPUT_NAME,
    NUM_CLASSES,
    OUTPUT_NAME,
    SIGNATURE_KEY,
)

STANDIN_SEED = 50
# Bump when the build below changes what the model computes.
RECIPE_VERSION = 1
# keras.applications.resnet50.preprocess_input ("caffe"): RGB -> BGR, minus ImageNet means.
_BGR_MEANS = (103.939, 116.779, 123.68)
UNTRAINED_NOTE = (
    "UNTRAINED stand-in: ResNet-50 architecture with deterministic random weights "
    "and the real signature; its labels mean nothing"
)


def standin_recipe(seed: int = STANDIN_SEED) -> dict[str, Any]:
    """Everything that decides the stand-in's outputs; its hash is the cache key."""
    import keras
    import tensorflow as tf

    return {
        "architecture": "keras.applications.ResNet50(weights=None, classes=1001, softmax)",
        "seed": seed,
        "recipe_version": RECIPE_VERSION,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def cached_standin(cache_dir: Path, seed: int = STANDIN_SEED) -> Path:
    """The stand-in SavedModel under `cache_dir/<recipe key>/`, built there if not yet."""
    recipe = standin_recipe(seed)
    target = cache_dir / f"resnet50-standin-{recipe_key(recipe)}"
    if (target / "saved_model.pb").is_file() and read_marker(target) is not None:
        return target
    return build_into(target, lambda folder: build_standin_savedmodel(folder, seed))


def standin_network(seed: int = STANDIN_SEED) -> Any:
    """The Keras ResNet-50 with the stand-in's weights (the same for the same seed)."""
    import keras

    keras.utils.set_random_seed(seed)
    return keras.applications.ResNet50(
        weights=None,
        input_shape=(IMAGE_SIZE, IMAGE_SIZE, 3),
        classes=NUM_CLASSES,
        classifier_activation="softmax",
    )


def rescale_unit_rgb(images: Any) -> Any:
    """[0, 1] RGB -> what Keras' ResNet-50 expects (0..255 BGR minus the ImageNet means)."""
    import tensorflow as tf

    means = tf.constant(_BGR_MEANS, dtype=tf.float32)
    return tf.reverse(images * 255.0, axis=[-1]) - means


def build_standin_savedmodel(dest: Path, seed: int = STANDIN_SEED) -> Path:
    """Build the stand-in and save it as a SavedModel in `dest` (a new directory)."""
    import tensorflow as tf

    recipe = standin_recipe(seed)
    network = standin_network(seed)

    class StandIn(tf.Module):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(name="resnet50_standin")
            self.network = network

        @tf.function(  # type: ignore[untyped-decorator]
            input_signature=[
                tf.TensorSpec([None, IMAGE_SIZE, IMAGE_SIZE, 3], tf.float32, name=INPUT_NAME)
            ]
        )
        def serve(self, input_1: tf.Tensor) -> dict[str, tf.Tensor]:
            return {OUTPUT_NAME: self.network(rescale_unit_rgb(input_1), training=False)}

    module = StandIn()
    dest.mkdir(parents=True, exist_ok=True)
    tf.saved_model.save(module, str(dest), signatures={SIGNATURE_KEY: module.serve})
    write_marker(dest, StandInMarker("resnet50-standin", False, UNTRAINED_NOTE, recipe))
    return dest
