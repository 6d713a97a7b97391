"""Bad images: TensorFlow's result or one EngineError naming the object and the reason."""

from __future__ import annotations

import shutil
import struct
import threading
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
import tensorflow as tf
from PIL import Image

from bigquery_facts import MAX_DECODE_IMAGE_BYTES
from local_engine.decode import decode_rgb
from local_engine.errors import EngineError
from local_engine.errortrap import ErrorTrap
from local_engine.images import register_image_functions
from local_engine.models import create_model, load_model
from local_engine.predict import FusedImageFeature, predict_stream
from tests.support.decode_fixtures import images, stored
from tests.support.ml_imageset import encode, photo_like_jpeg, png_header_only, varied_images
from tests.support.ml_lake import DirStore, put_tree

GOOD_JPEG = photo_like_jpeg(64, 80)
GOOD_PNG = varied_images()["png_rgb.png"]


def _jpeg_with_size(width: int, height: int) -> bytes:
    """A real JPEG whose frame header claims width x height (a decompression bomb)."""
    data = bytearray(GOOD_JPEG)
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


def _bmp_16bit(width: int = 5, height: int = 3) -> bytes:
    """An uncompressed 16-bit (X1R5G5B5) BMP: Pillow reads it, TensorFlow refuses it."""
    row = b"\x1f\x7c" * width + b"\0" * ((4 - (2 * width) % 4) % 4)
    pixels = row * height
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 16, 0, len(pixels), 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + len(pixels), 0, 0, 54) + info + pixels


BAD = {
    "empty.jpg": (b"", "the object is empty"),
    "notes.txt": (b"hello, these are not pixels\n", "not a JPEG, PNG or BMP image"),
    "anim.gif": (encode(Image.new("RGB", (4, 4)), "GIF"), "unsupported image format GIF"),
    "photo.webp": (encode(Image.new("RGB", (4, 4)), "WEBP"), "unsupported image format WEBP"),
    "truncated.jpg": (GOOD_JPEG[: len(GOOD_JPEG) // 2], "corrupt or truncated JPEG"),
    "truncated.png": (GOOD_PNG[: len(GOOD_PNG) // 2], "corrupt or truncated PNG"),
    "header_only.jpg": (GOOD_JPEG[:20], "corrupt or truncated JPEG"),
    "garbage.png": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "corrupt or truncated PNG"),
    "huge.jpg": (_jpeg_with_size(60000, 60000), "decompression bomb"),
    "bomb.png": (png_header_only(10000, 10000), "decompression bomb"),
    "too_big.png": (
        GOOD_PNG + b"\0" * MAX_DECODE_IMAGE_BYTES,
        "larger than ML.DECODE_IMAGE's 10,000,000-byte limit",
    ),
    "rgb565.bmp": (_bmp_16bit(), "16-bit BMP: TensorFlow's BMP decoder takes 8, 24 and 32-bit"),
    "mono.bmp": (encode(Image.new("1", (9, 4), 1), "BMP"), "1-bit BMP"),
    "palette.bmp": (
        encode(Image.new("RGB", (4, 4), (200, 10, 10)).convert("P"), "BMP"),
        "palette BMP",
    ),
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_image_raises_named_error_quickly(name: str) -> None:
    data, reason = BAD[name]
    start = time.monotonic()
    with pytest.raises(EngineError) as caught:
        decode_rgb(data, f"gs://bucket/{name}")
    message = str(caught.value)
    assert message.startswith(f"cannot decode image gs://bucket/{name}: ")
    assert reason in message
    assert time.monotonic() - start < 30  # the bombs are refused before decoding


def test_tensorflow_also_refuses_the_undecodable_ones() -> None:
    for name in (
        "rgb565.bmp",
        "mono.bmp",
        "empty.jpg",
        "notes.txt",
        "truncated.jpg",
        "truncated.png",
        "header_only.jpg",
        "garbage.png",
    ):
        with pytest.raises(tf.errors.InvalidArgumentError):
            tf.io.decode_image(BAD[name][0], channels=3, expand_animations=False)


def test_corrupted_scan_gives_tensorflows_pixels_or_an_error() -> None:
    data = bytearray(GOOD_JPEG)
    for offset in range(len(data) // 2, len(data) // 2 + 40, 3):
        data[offset] ^= 0x55
    try:
        mine = decode_rgb(bytes(data), "gs://b/flipped.jpg")
    except EngineError as exc:
        assert "gs://b/flipped.jpg" in str(exc)
        return
    np.testing.assert_array_equal(mine, tf.io.decode_image(bytes(data), channels=3).numpy())


def test_modes_that_decode_match_tensorflow() -> None:
    # CMYK, grayscale, alpha, 16-bit and palette PNG decode (to TensorFlow's pixels, see test_ml_images)
    images = varied_images()
    for name in (
        "jpeg_cmyk.jpg",
        "png_gray.png",
        "png_rgba.png",
        "png_16bit_gray.png",
        "png_palette_transparent.png",
    ):
        np.testing.assert_array_equal(
            decode_rgb(images[name]),
            tf.io.decode_image(images[name], channels=3).numpy(),
            err_msg=name,
        )


def test_sql_function_error_names_the_uri() -> None:
    con = duckdb.connect()
    trap = ErrorTrap()
    register_image_functions(con, trap)
    con.execute(
        "CREATE TABLE t AS SELECT * FROM (VALUES (?::BLOB, 'gs://b/ok.jpg'), (?::BLOB, 'gs://b/cut.jpg')) v(data, uri)",
        [GOOD_JPEG, BAD["truncated.jpg"][0]],
    )
    with pytest.raises(
        duckdb.Error, match=r"cannot decode image gs://b/cut\.jpg: corrupt or truncated JPEG"
    ):
        con.execute("SELECT ml_decode_image(data, uri) FROM t").fetchall()
    assert isinstance(trap.error, EngineError) and "gs://b/cut.jpg" in str(trap.error)
    con.close()


def test_predict_stream_stops_at_the_bad_image(tiny_savedmodel: Path, tmp_path: Path) -> None:
    store = DirStore(tmp_path / "gcs")
    (tmp_path / "gcs").mkdir()
    record = create_model(
        "TENSORFLOW", put_tree(store, tiny_savedmodel, "gs://b/m"), store, tmp_path / "home"
    )
    uris = [f"gs://b/{i}.jpg" for i in range(6)] + ["gs://b/bomb.png"]
    blobs = [photo_like_jpeg(40, 40, seed=i) for i in range(6)] + [BAD["bomb.png"][0]]
    table = pa.table({"uri": uris, "data": blobs})
    source = pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=2))
    stream = predict_stream(
        load_model(record, tmp_path / "home"),
        source,
        {"input_1": FusedImageFeature("data", "uri", (224, 224, False), emit=False)},
        batch_size=2,
        progress=False,
    )
    with pytest.raises(
        EngineError, match=r"gs://b/bomb.png: 10000 x 10000 pixels .* \(decompression bomb\)"
    ):
        stream.read_all()
    assert not [
        t
        for t in threading.enumerate()
        if t.name.startswith(("sqlrunner-decode", "sqlrunner-infer"))
    ]


def test_engine_statement_fails_naming_uri_and_leaves_no_table(
    tiny_savedmodel: Path, tmp_path: Path
) -> None:
    from local_engine import engine as engine_module

    home = tmp_path / "lake"
    images = home / "gcs" / "bucket" / "images"
    images.mkdir(parents=True)
    (images / "a.jpg").write_bytes(GOOD_JPEG)
    (images / "z_cut.jpg").write_bytes(BAD["truncated.jpg"][0])
    shutil.copytree(tiny_savedmodel, home / "gcs" / "bucket" / "m")
    with engine_module.LocalEngine(home, progress=False) as engine:
        engine.create_connection("us.lake-connection")
        engine.execute(
            "CREATE SCHEMA ds;"
            " CREATE EXTERNAL TABLE ds.imgs WITH CONNECTION `us.lake-connection`"
            " OPTIONS (object_metadata = 'SIMPLE', uris = ['gs://bucket/images/*']);"
            " CREATE MODEL ds.m OPTIONS (model_type = 'TENSORFLOW', model_path = 'gs://bucket/m/*')"
        )
        with pytest.raises(
            EngineError,
            match=r"cannot decode image gs://bucket/images/z_cut.jpg: corrupt or truncated JPEG",
        ):
            engine.execute(
                "CREATE TABLE ds.predictions AS SELECT uri, activation_49 FROM ML.PREDICT(MODEL ds.m,"
                " (SELECT uri, ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 224, 224, FALSE) AS input_1 FROM ds.imgs))"
            )
        with pytest.raises(EngineError):
            engine.execute("SELECT * FROM ds.predictions")


def test_two_engines_on_one_lake_each_decode_and_report_their_own_bad_image(
    tmp_path: Path,
) -> None:
    """Engines in one process share DuckDB's function catalog (the served lake beside an
    in-process engine): each registers its own image functions and keeps its own errors."""
    from local_engine import engine as engine_module

    home = tmp_path / "lake"
    images = home / "gcs" / "bucket" / "images"
    images.mkdir(parents=True)
    (images / "a.jpg").write_bytes(GOOD_JPEG)
    (images / "z_cut.jpg").write_bytes(BAD["truncated.jpg"][0])
    table = (
        "CREATE EXTERNAL TABLE ds.imgs WITH CONNECTION `us.lake-connection` "
        "OPTIONS (object_metadata = 'SIMPLE', uris = ['gs://bucket/images/*'])"
    )
    good = "SELECT ML.DECODE_IMAGE(data).shape AS s FROM ds.imgs WHERE uri LIKE '%a.jpg'"
    bad = "SELECT ML.DECODE_IMAGE(data).shape AS s FROM ds.imgs"
    with (
        engine_module.LocalEngine(home, progress=False) as first,
        engine_module.LocalEngine(home, progress=False) as second,
    ):
        first.create_connection("us.lake-connection")
        first.execute(f"CREATE SCHEMA ds; {table}")
        for engine in (first, second, first):
            result = engine.execute(good).table
            assert result is not None and result.to_pylist()[0]["s"][2] == 3
        for engine in (second, first):
            with pytest.raises(EngineError, match=r"cannot decode image gs://bucket/images/z_cut"):
                engine.execute(bad)


def test_pinned_pixels_are_still_tensorflows() -> None:
    # test_decode_pinned.py compares with these arrays without importing TensorFlow.
    pinned = stored()
    assert sorted(pinned) == sorted(images())
    for name, (data, pixels) in pinned.items():
        np.testing.assert_array_equal(
            tf.io.decode_image(data, channels=3, expand_animations=False).numpy(),
            pixels,
            err_msg=name,
        )
