"""The ResNet-50 stand-in: real architecture and signature, deterministic, marked untrained."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from sqlrunner.modelzoo.marker import read_marker
from sqlrunner.modelzoo.signature import read_signature, verify_signature
from sqlrunner.modelzoo.standin import cached_standin, rescale_unit_rgb, standin_network


def _photo_batch(sample_images: Path) -> np.ndarray:
    names = ["chelsea.png", "coffee.png", "rocket.jpg"]
    images = []
    for name in names:
        with Image.open(sample_images / name) as image:
            resized = image.convert("RGB").resize((224, 224))
        images.append(np.asarray(resized, dtype=np.float32) / 255.0)
    return np.stack(images)


def test_standin_has_exactly_the_real_signature(standin_savedmodel: Path) -> None:
    verify_signature(standin_savedmodel)
    inputs, outputs = read_signature(standin_savedmodel)
    assert [(s.name, s.dtype, s.shape) for s in inputs] == [
        ("input_1", "float32", (None, 224, 224, 3))
    ]
    assert [(s.name, s.dtype, s.shape) for s in outputs] == [
        ("activation_49", "float32", (None, 1001))
    ]
    weights = standin_savedmodel / "variables" / "variables.data-00000-of-00001"
    assert weights.stat().st_size > 90_000_000  # ResNet-50's ~25.6 M float32 parameters


def test_standin_is_marked_untrained(standin_savedmodel: Path) -> None:
    marker = read_marker(standin_savedmodel)
    assert marker is not None
    assert marker.trained is False
    assert marker.model == "resnet50-standin"
    assert "UNTRAINED" in marker.note
    assert marker.recipe["seed"] == 50


def test_standin_is_cached_by_recipe(standin_savedmodel: Path) -> None:
    before = (standin_savedmodel / "saved_model.pb").stat().st_mtime_ns
    again = cached_standin(standin_savedmodel.parent)
    assert again == standin_savedmodel
    assert (again / "saved_model.pb").stat().st_mtime_ns == before


def test_standin_outputs_softmax_and_matches_a_fresh_build(
    standin_savedmodel: Path, sample_images: Path
) -> None:
    import tensorflow as tf

    batch = _photo_batch(sample_images)
    serve = tf.saved_model.load(str(standin_savedmodel)).signatures["serving_default"]
    saved = serve(input_1=tf.constant(batch))["activation_49"].numpy()
    assert saved.shape == (3, 1001)
    np.testing.assert_allclose(saved.sum(axis=1), 1.0, rtol=1e-4)
    assert np.all(saved >= 0.0)
    # Same seed, same weights: a network built afresh in this process gives the same outputs,
    # and the [0, 1] -> ResNet preprocessing lives inside the saved graph.
    fresh = standin_network()(rescale_unit_rgb(tf.constant(batch)), training=False).numpy()
    np.testing.assert_allclose(saved, fresh, atol=1e-5)
