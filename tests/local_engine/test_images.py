"""ML.DECODE_IMAGE, RESIZE_IMAGE, CONVERT_COLOR_SPACE, CONVERT_IMAGE_TYPE against TensorFlow's ops."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pytest
import tensorflow as tf

from local_engine.decode import decode_rgb
from local_engine.errors import EngineError
from local_engine.errortrap import ErrorTrap
from local_engine.imageops import (
    convert_color_space,
    float_to_uint8,
    resize_bilinear,
    resized_shape,
    uint8_to_float,
)
from local_engine.images import register_image_functions
from tests.support.ml_imageset import varied_images

IMAGES = varied_images()


def tf_decode(data: bytes) -> np.ndarray:
    return tf.io.decode_image(data, channels=3, expand_animations=False).numpy()


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_decode_matches_tensorflow_exactly(name: str) -> None:
    mine = decode_rgb(IMAGES[name], f"gs://b/{name}")
    expected = tf_decode(IMAGES[name])
    assert mine.dtype == np.uint8
    assert mine.shape == expected.shape
    np.testing.assert_array_equal(mine, expected)


def test_decode_matches_tensorflow_on_real_photos(sample_images: Path) -> None:
    photos = sorted(sample_images.iterdir())
    assert photos
    for photo in photos:
        data = photo.read_bytes()
        np.testing.assert_array_equal(
            decode_rgb(data, photo.name), tf_decode(data), err_msg=photo.name
        )


RESIZES = [
    ((37, 53), (224, 224, False)),
    ((480, 640), (224, 224, False)),
    ((20, 200), (10, 120, True)),
    ((5, 7), (3, 2, False)),
    ((300, 301), (224, 224, True)),
    ((1, 1), (4, 4, False)),
    ((224, 224), (224, 224, False)),
    ((97, 31), (50, 500, True)),
]


@pytest.mark.parametrize(("size", "target"), RESIZES)
def test_resize_matches_tensorflow_bilinear(
    size: tuple[int, int], target: tuple[int, int, bool]
) -> None:
    rng = np.random.default_rng(size[0] * 1000 + size[1])
    pixels = rng.integers(0, 256, (*size, 3), dtype=np.uint8)
    height, width, keep = target
    expected = tf.image.resize(
        tf.image.convert_image_dtype(pixels, tf.float32),
        (height, width),
        method="bilinear",
        preserve_aspect_ratio=keep,
    ).numpy()
    out_h, out_w = resized_shape(size[0], size[1], height, width, keep)
    mine = resize_bilinear(pixels, out_h, out_w)
    assert mine.shape == expected.shape
    np.testing.assert_allclose(mine, expected, rtol=0, atol=1e-6)
    # the same on float input (the SQL path resizes DECODE_IMAGE's floats)
    np.testing.assert_allclose(
        resize_bilinear(uint8_to_float(pixels), out_h, out_w), expected, atol=1e-6
    )


def test_preserve_aspect_ratio_is_largest_fit_without_padding() -> None:
    assert resized_shape(20, 200, 10, 120, True) == (10, 100)
    assert resized_shape(20, 200, 10, 120, False) == (10, 120)
    assert resized_shape(200, 20, 100, 100, True) == (100, 10)
    with pytest.raises(EngineError, match="positive"):
        resized_shape(20, 20, 0, 10, False)


def test_resize_differs_from_pillow_bilinear_but_not_from_tensorflow() -> None:
    from PIL import Image

    pixels = decode_rgb(IMAGES["jpeg_large.jpg"])
    pillow = np.asarray(Image.fromarray(pixels).resize((224, 224), Image.Resampling.BILINEAR))
    mine = resize_bilinear(pixels, 224, 224)
    # Pillow antialiases when shrinking; TensorFlow's bilinear does not.
    assert np.abs(float_to_uint8(mine).astype(int) - pillow.astype(int)).max() > 10


# Edges included: 1-pixel sides, up and down in one call, 1 and 3 channels.
EXACT_SOURCES = [(480, 640, 3), (1, 1, 3), (1, 9, 3), (9, 1, 3), (3, 200, 3), (33, 47, 1)]
EXACT_TARGETS = [(224, 224), (1, 1), (2, 3), (500, 7), (1, 50), (13, 9)]


@pytest.mark.parametrize("source", EXACT_SOURCES)
def test_resize_is_bit_exact_with_tensorflow(source: tuple[int, int, int]) -> None:
    rng = np.random.default_rng(sum(source))
    pixels = rng.integers(0, 256, source, dtype=np.uint8)
    floats = uint8_to_float(pixels)
    for out_h, out_w in EXACT_TARGETS:
        expected = tf.image.resize(
            tf.image.convert_image_dtype(pixels, tf.float32), (out_h, out_w), method="bilinear"
        ).numpy()
        np.testing.assert_array_equal(resize_bilinear(pixels, out_h, out_w), expected)
        np.testing.assert_array_equal(resize_bilinear(floats, out_h, out_w), expected)
        np.testing.assert_array_equal(
            resize_bilinear(floats.astype(np.float64), out_h, out_w), expected
        )


def test_resize_writes_into_the_given_array() -> None:
    pixels = np.random.default_rng(7).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    batch = np.zeros((2, 24, 24, 3), dtype=np.float32)
    returned = resize_bilinear(pixels, 24, 24, out=batch[1])
    assert np.shares_memory(returned, batch[1])
    np.testing.assert_array_equal(batch[1], resize_bilinear(pixels, 24, 24))
    assert not batch[0].any()
    strided = np.zeros((24, 24, 6), dtype=np.float32)[:, :, ::2]
    with pytest.raises(ValueError, match="C-contiguous"):
        resize_bilinear(pixels, 24, 24, out=strided)
    with pytest.raises(ValueError, match="C-contiguous"):
        resize_bilinear(pixels, 24, 24, out=batch[0, :12])


@pytest.mark.parametrize(
    ("space", "op"),
    [
        ("HSV", "rgb_to_hsv"),
        ("GRAYSCALE", "rgb_to_grayscale"),
        ("YIQ", "rgb_to_yiq"),
        ("YUV", "rgb_to_yuv"),
    ],
)
def test_color_spaces_match_tensorflow(space: str, op: str) -> None:
    rgb = np.random.default_rng(3).random((6, 7, 3))
    rgb[0, 0] = [0.5, 0.5, 0.5]  # gray: hue and saturation 0
    rgb[0, 1] = 0.0
    expected = getattr(tf.image, op)(tf.constant(rgb)).numpy()
    np.testing.assert_allclose(convert_color_space(rgb, space), expected, atol=1e-6)


def test_convert_image_type_matches_tensorflow() -> None:
    values = np.concatenate([np.random.default_rng(4).random(500), [0.0, 0.999, 1 / 255, 0.5]])
    expected = tf.image.convert_image_dtype(tf.constant(values), tf.uint8, saturate=True).numpy()
    np.testing.assert_array_equal(float_to_uint8(values), expected)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    register_image_functions(connection, ErrorTrap())
    connection.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES (?::BLOB, 'gs://b/rgb.jpg'), (?::BLOB, 'gs://b/gray.png'))"
        " v(data, uri)",
        [IMAGES["jpeg_rgb_444.jpg"], IMAGES["png_gray.png"]],
    )
    yield connection
    connection.close()


def test_sql_decode_image_is_bigquery_struct_of_tf_floats(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "SELECT uri, ml_decode_image(data, uri) AS img FROM t ORDER BY uri"
    ).fetchall()
    assert con.execute("SELECT typeof(ml_decode_image(data, uri)) FROM t LIMIT 1").fetchone() == (
        "STRUCT(shape BIGINT[], image DOUBLE[])",
    )
    for uri, img in rows:
        name = "jpeg_rgb_444.jpg" if uri.endswith("rgb.jpg") else "png_gray.png"
        expected = tf.image.convert_image_dtype(tf_decode(IMAGES[name]), tf.float32).numpy()
        assert img["shape"] == list(expected.shape)
        np.testing.assert_array_equal(
            np.array(img["image"], dtype=np.float32), expected.reshape(-1)
        )


def test_sql_resize_and_convert_chain(con: duckdb.DuckDBPyConnection) -> None:
    shape, first = con.execute(
        "SELECT r.shape, r.image[1] FROM (SELECT ml_resize_image(ml_decode_image(data, uri), 10, 120, TRUE) AS r"
        " FROM t WHERE uri LIKE '%rgb.jpg')"
    ).fetchone()
    # 37 x 53 inside 10 x 120 keeping the ratio: scale 10/37 -> 10 x 14
    assert shape == [10, 14, 3]
    expected = tf.image.resize(
        tf.image.convert_image_dtype(tf_decode(IMAGES["jpeg_rgb_444.jpg"]), tf.float32),
        (10, 120),
        preserve_aspect_ratio=True,
    ).numpy()
    assert first == pytest.approx(float(expected[0, 0, 0]), abs=1e-6)
    gray = con.execute(
        "SELECT ml_convert_color_space(ml_decode_image(data, uri), 'GRAYSCALE').shape FROM t WHERE uri LIKE '%gray.png'"
    ).fetchone()
    assert gray == ([21, 31, 1],)
    typed = con.execute(
        "SELECT ml_convert_image_type(ml_decode_image(data, uri)) AS i FROM t WHERE uri LIKE '%rgb.jpg'"
    ).fetchone()[0]
    assert typed["image"][:6] == tf_decode(IMAGES["jpeg_rgb_444.jpg"]).reshape(-1)[:6].tolist()
    hsv_int = con.execute(
        "SELECT ml_convert_color_space(ml_convert_image_type(ml_decode_image(data, uri)), 'HSV').image[3]"
        " FROM t WHERE uri LIKE '%rgb.jpg'"
    ).fetchone()[0]
    assert 0.0 <= hsv_int <= 1.0


def test_sql_null_image_gives_null(con: duckdb.DuckDBPyConnection) -> None:
    assert con.execute("SELECT ml_decode_image(NULL, NULL)").fetchone() == (None,)
    assert con.execute(
        "SELECT ml_resize_image(ml_decode_image(NULL, NULL), 2, 2, FALSE)"
    ).fetchone() == (None,)


def test_sql_unknown_color_space_is_refused(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(duckdb.Error, match="not one of HSV"):
        con.execute(
            "SELECT ml_convert_color_space(ml_decode_image(data, uri), 'LAB') FROM t"
        ).fetchall()
