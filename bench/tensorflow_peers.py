"""Cases C and D: what a TensorFlow user would run instead of the engine.

C is the loop a user would write: read each file, decode it with TensorFlow, convert
to float in [0, 1], `tf.image.resize` to 224x224 and call the SavedModel on that one
image. D is TensorFlow's best: the SavedModel on batches of pre-built tensors.
TensorFlow keeps its default thread pools (all cores), as a user would.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.timing import Throughput, measure
from sqlrunner.modelzoo.signature import IMAGE_SIZE, INPUT_NAME, OUTPUT_NAME, SIGNATURE_KEY


def load_signature(model_dir: Path) -> Any:
    import tensorflow as tf

    return tf.saved_model.load(str(model_dir)).signatures[SIGNATURE_KEY]


def per_image_loop(model_dir: Path, paths: Sequence[Path]) -> tuple[Throughput, np.ndarray]:
    """Case C; also returns each image's top-1 class index."""
    import tensorflow as tf

    serve = load_signature(model_dir)
    top1 = np.zeros(len(paths), dtype=np.int64)

    def run(index: int) -> int:
        raw = tf.io.read_file(str(paths[index % len(paths)]))
        image = tf.io.decode_image(raw, channels=3, expand_animations=False)
        image = tf.image.convert_image_dtype(image, tf.float32)
        image = tf.image.resize(image, [IMAGE_SIZE, IMAGE_SIZE], method="bilinear")
        scores = serve(**{INPUT_NAME: image[tf.newaxis]})[OUTPUT_NAME]
        top1[index % len(paths)] = int(tf.argmax(scores[0]))
        return 1

    return measure(run, batches=len(paths)), top1


def batched(model_dir: Path, batches: Sequence[np.ndarray]) -> Throughput:
    """Case D: the SavedModel's serving signature on pre-built float32 batches."""
    import tensorflow as tf

    serve = load_signature(model_dir)
    tensors = [tf.constant(batch) for batch in batches]

    def run(index: int) -> int:
        batch = tensors[index % len(tensors)]
        serve(**{INPUT_NAME: batch})[OUTPUT_NAME].numpy()
        return int(batch.shape[0])

    return measure(run, batches=len(tensors))
