"""ML.DECODE_IMAGE's byte limit and the engine's pixel guard, exactly at and one past each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bigquery_facts import MAX_DECODE_IMAGE_BYTES
from local_engine.decode import MAX_IMAGE_PIXELS, decode_rgb
from local_engine.engine import LocalEngine
from local_engine.errors import EngineError
from tests.support.ml_imageset import photo_like_jpeg, png_header_only, varied_images

JPEG = photo_like_jpeg(64, 80)
PNG = varied_images()["png_rgb.png"]
# 42123 x 1187 is the one factorisation of 50,000,001 with both sides a JPEG can hold.
ONE_PAST = (42123, 1187)


def test_the_documented_limits() -> None:
    assert MAX_DECODE_IMAGE_BYTES == 10_000_000
    assert MAX_IMAGE_PIXELS == 50_000_000
    assert ONE_PAST[0] * ONE_PAST[1] == MAX_IMAGE_PIXELS + 1


def jpeg_claiming(width: int, height: int) -> bytes:
    data = bytearray(JPEG)
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = height.to_bytes(2, "big") + width.to_bytes(2, "big")
    return bytes(data)


@pytest.mark.parametrize("image", [JPEG, PNG], ids=["jpeg", "png"])
def test_exactly_10_000_000_bytes_decode(image: bytes) -> None:
    padded = image + b"\0" * (MAX_DECODE_IMAGE_BYTES - len(image))  # after EOI / IEND
    assert len(padded) == MAX_DECODE_IMAGE_BYTES
    np.testing.assert_array_equal(decode_rgb(padded), decode_rgb(image))


@pytest.mark.parametrize("image", [JPEG, PNG], ids=["jpeg", "png"])
def test_10_000_001_bytes_are_refused_naming_both_sizes(image: bytes) -> None:
    padded = image + b"\0" * (MAX_DECODE_IMAGE_BYTES + 1 - len(image))
    with pytest.raises(
        EngineError,
        match=r"^cannot decode image gs://b/x: 10,000,001 bytes is larger than "
        r"ML\.DECODE_IMAGE's 10,000,000-byte limit$",
    ):
        decode_rgb(padded, "gs://b/x")


def test_a_png_of_exactly_50_megapixels_decodes() -> None:
    rgb = decode_rgb(png_header_only(10_000, 5_000))
    assert rgb.shape == (5_000, 10_000, 3) and not rgb.any()


@pytest.mark.parametrize(
    "image",
    [png_header_only(*ONE_PAST), jpeg_claiming(*ONE_PAST)],
    ids=["png", "jpeg"],
)
def test_one_pixel_past_50_megapixels_is_a_decompression_bomb(image: bytes) -> None:
    with pytest.raises(
        EngineError,
        match=r"42123 x 1187 pixels is over the 50,000,000-pixel limit \(decompression bomb\)",
    ):
        decode_rgb(image, "gs://b/bomb")


def test_a_jpeg_claiming_exactly_50_megapixels_is_not_called_a_bomb() -> None:
    # The header passes the guard; the scan (64 x 80 pixels of data) then runs out.
    with pytest.raises(EngineError, match="corrupt or truncated JPEG") as refused:
        decode_rgb(jpeg_claiming(10_000, 5_000), "gs://b/x")
    assert "bomb" not in str(refused.value)


def test_end_to_end_the_statement_fails_naming_the_object_and_the_limit(tmp_path: Path) -> None:
    # One engine throughout: image functions keep working after a statement failed.
    home = tmp_path / "lake"
    for name, data in {
        "at_limit.jpg": jpeg_claiming(10_000, 5_000),
        "one_past.png": png_header_only(*ONE_PAST),
        "too_big.png": PNG + b"\0" * (MAX_DECODE_IMAGE_BYTES + 1 - len(PNG)),
        "exactly_10mb.png": PNG + b"\0" * (MAX_DECODE_IMAGE_BYTES - len(PNG)),
    }.items():
        path = home / "gcs" / "b" / "img" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    with LocalEngine(home, progress=False) as engine:
        engine.create_connection("us.c")
        engine.execute(
            "CREATE SCHEMA ds; CREATE EXTERNAL TABLE ds.o WITH CONNECTION `us.c`"
            " OPTIONS (object_metadata = 'SIMPLE', uris = ['gs://b/img/*'])"
        )

        def decode(name: str) -> object:
            return engine.execute(
                "SELECT ML.DECODE_IMAGE(data).shape AS shape FROM ds.o"
                f" WHERE uri = 'gs://b/img/{name}'"
            ).table

        table = decode("exactly_10mb.png")
        assert table is not None and table.to_pylist() == [{"shape": list(decode_rgb(PNG).shape)}]
        for name, reason in {
            "one_past.png": "42123 x 1187 pixels is over the 50,000,000-pixel limit",
            "too_big.png": "10,000,001 bytes is larger than ML.DECODE_IMAGE's 10,000,000-byte",
            "at_limit.jpg": "corrupt or truncated JPEG",
        }.items():
            with pytest.raises(
                EngineError, match=rf"cannot decode image gs://b/img/{name}: {reason}"
            ):
                decode(name)
