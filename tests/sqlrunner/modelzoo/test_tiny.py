"""The shared fixtures hold what they promise."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from sqlrunner.modelzoo.signature import read_signature


def test_tiny_savedmodel_has_the_resnet_signature(tiny_savedmodel: Path) -> None:
    inputs, outputs = read_signature(tiny_savedmodel)
    assert [(s.name, s.dtype, s.shape) for s in inputs] == [
        ("input_1", "float32", (None, 224, 224, 3))
    ]
    assert [(s.name, s.dtype, s.shape) for s in outputs] == [
        ("activation_49", "float32", (None, 1001))
    ]
    assert (tiny_savedmodel / "variables" / "variables.index").is_file()


def test_tiny_savedmodel_outputs_softmax_that_depends_on_pixels(tiny_savedmodel: Path) -> None:
    import tensorflow as tf

    serve = tf.saved_model.load(str(tiny_savedmodel)).signatures["serving_default"]
    batch = np.stack([np.zeros((224, 224, 3), np.float32), np.ones((224, 224, 3), np.float32)])
    probs = serve(input_1=tf.constant(batch))["activation_49"].numpy()
    assert probs.shape == (2, 1001)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert probs.min() >= 0.0
    assert probs[0].argmax() != probs[1].argmax()


def test_sample_images_are_real_jpeg_and_png_photos(sample_images: Path) -> None:
    formats = {}
    for path in sorted(sample_images.iterdir()):
        with Image.open(path) as image:
            formats[path.name] = (image.format, image.mode)
            assert min(image.size) >= 200
    assert {fmt for fmt, _ in formats.values()} == {"JPEG", "PNG"}
    assert formats["chelsea.png"] == ("PNG", "RGB")
    assert formats["rocket.jpg"] == ("JPEG", "RGB")
    assert formats["camera.png"] == ("PNG", "L")
