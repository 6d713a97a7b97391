"""Pre-built model inputs: the benchmark photos as float32 [224, 224, 3] tensors in [0, 1].

Built once with TensorFlow's own ops (the preprocessing BigQuery ML's SQL asks for),
outside any timing, for the cases that run on pre-built batches (A, D, BF16).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sqlrunner.modelzoo.signature import IMAGE_SIZE


def photo_tensors(paths: Sequence[Path]) -> np.ndarray:
    """[len(paths), 224, 224, 3] float32: decode_image, convert_image_dtype, bilinear resize."""
    import tensorflow as tf

    tensors = np.empty((len(paths), IMAGE_SIZE, IMAGE_SIZE, 3), dtype=np.float32)
    for index, path in enumerate(paths):
        image = tf.io.decode_image(tf.io.read_file(str(path)), channels=3, expand_animations=False)
        image = tf.image.convert_image_dtype(image, tf.float32)
        tensors[index] = tf.image.resize(image, [IMAGE_SIZE, IMAGE_SIZE], method="bilinear")
    return tensors


def full_batches(tensors: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """The whole batches of `batch_size` (contiguous copies); a partial last one is left out."""
    count = len(tensors) // batch_size
    return [
        np.ascontiguousarray(tensors[i * batch_size : (i + 1) * batch_size]) for i in range(count)
    ]
