"""Exact pixels and exact refusals of decode_rgb, fast enough to run against every mutant.

The expected pixels are TensorFlow's, stored beside each image under
tests/local_engine/data/decode/ (test_decode.py re-derives them with TensorFlow), so a
change of DCT mode, CMYK arithmetic, 16-bit shift or alpha handling shows here as a
wrong pixel. The refusals are checked word for word, with the object's URI.
"""

from __future__ import annotations

import io
import struct
import threading
import zlib
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import pytest
import simplejpeg
from PIL import Image

from local_engine import decode
from local_engine.decode import MAX_IMAGE_PIXELS, decode_rgb
from local_engine.errors import EngineError
from tests.support.decode_fixtures import bmp_with, stored
from tests.support.ml_imageset import encode

PINNED = stored()
JPEGS = sorted(name for name in PINNED if name.endswith(".jpg"))
URI = "gs://b/x"
T = TypeVar("T")
# The largest JPEG whose RGB pixels fit the reused per-thread buffer: 36,000,000 bytes.
REUSED_AT_MOST = (4000, 3000)


def refusal(data: bytes) -> str:
    with pytest.raises(EngineError) as caught:
        decode_rgb(data, URI)
    message = str(caught.value)
    assert message.startswith(f"cannot decode image {URI}: ")
    return message.removeprefix(f"cannot decode image {URI}: ")


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_ihdr_only(width: int, height: int) -> bytes:
    """A PNG signature and IHDR claiming width x height, and nothing after it."""
    return b"\x89PNG\r\n\x1a\n" + png_chunk(
        b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    )


def in_a_new_thread(work: Callable[[], T]) -> T:
    """`work()` on a thread of its own (no JPEG buffer kept yet); its result or its error."""
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(work())
        except BaseException as exc:  # handed back to the test, which re-raises it
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return results[0]


# pixels


@pytest.mark.parametrize("name", sorted(PINNED))
def test_pixels_are_tensorflows(name: str) -> None:
    data, expected = PINNED[name]
    rgb = decode_rgb(data, f"gs://b/{name}")
    assert rgb.dtype == np.uint8 and expected.dtype == np.uint8
    np.testing.assert_array_equal(rgb, expected)


@pytest.mark.parametrize("name", JPEGS)
def test_transient_decodes_give_the_same_pixels(name: str) -> None:
    data, expected = PINNED[name]

    def decoded() -> np.ndarray:
        return decode_rgb(data, transient=True).copy()

    rgb = in_a_new_thread(decoded)
    assert rgb.dtype == np.uint8
    np.testing.assert_array_equal(rgb, expected)


def test_the_fixture_set_covers_every_mode_decode_handles() -> None:
    assert simplejpeg.decode_jpeg_header(PINNED["jpeg_cmyk.jpg"][0])[2] == "CMYK"
    assert simplejpeg.decode_jpeg_header(PINNED["jpeg_ycck.jpg"][0])[2] == "YCCK"
    assert PINNED["bmp_bitfields.bmp"][0][30] == 3  # BI_BITFIELDS
    assert PINNED["png_16bit_gray.png"][0][24] == 16  # IHDR bit depth
    # EXIF orientation 6 is ignored, as TensorFlow ignores it: 20 wide, 12 high.
    assert PINNED["jpeg_exif_rotated.jpg"][1].shape == (12, 20, 3)


@pytest.mark.parametrize(("width", "height"), [(1, 1), (1, 7), (7, 1)])
@pytest.mark.parametrize("fmt", ["PNG", "BMP", "JPEG"])
def test_one_pixel_wide_or_high_images_decode(fmt: str, width: int, height: int) -> None:
    colour = (0, 0, 0) if fmt == "JPEG" else (10, 20, 30)
    rgb = decode_rgb(encode(Image.new("RGB", (width, height), colour), fmt))
    assert rgb.shape == (height, width, 3)
    assert (rgb == colour).all()


@pytest.mark.parametrize("name", ["jpeg_rgb_420.jpg", "jpeg_cmyk.jpg", "jpeg_ycck.jpg"])
def test_a_truncated_jpeg_is_refused_not_half_decoded(name: str) -> None:
    data = PINNED[name][0]
    assert refusal(data[: len(data) * 2 // 3]).startswith("corrupt or truncated JPEG data (")


# the reused JPEG buffer


def test_transient_decodes_share_one_buffer_per_thread() -> None:
    red = simplejpeg.encode_jpeg(np.full((8, 16, 3), (250, 0, 0), np.uint8), quality=100)
    blue = simplejpeg.encode_jpeg(np.full((8, 16, 3), (0, 0, 250), np.uint8), quality=100)
    bigger = simplejpeg.encode_jpeg(np.full((16, 16, 3), 128, np.uint8), quality=100)

    def decodes() -> tuple[np.ndarray, ...]:
        first = decode_rgb(red, transient=True)
        kept = first.copy()
        second = decode_rgb(blue, transient=True)
        third = decode_rgb(bigger, transient=True)
        # One byte a sample, grown to the largest image so far: nothing more is kept.
        held = decode._thread_buffers.jpeg
        assert held.dtype == np.uint8 and held.nbytes == 16 * 16 * 3
        return first, kept, second, third, decode_rgb(red)

    first, kept, second, third, plain = in_a_new_thread(decodes)
    assert np.shares_memory(first, second)
    assert not np.array_equal(first, kept)  # overwritten by the second decode
    np.testing.assert_array_equal(kept, plain)
    assert abs(int(second[..., 2].mean()) - 250) <= 2 and int(second[..., 0].max()) <= 5
    assert third.shape == (16, 16, 3) and abs(int(third.mean()) - 128) <= 2
    assert not np.shares_memory(plain, third)


@pytest.mark.parametrize(
    ("width", "height", "reused"),
    [(*REUSED_AT_MOST, True), (REUSED_AT_MOST[0] + 1, REUSED_AT_MOST[1], False)],
)
def test_the_buffer_is_reused_up_to_36_000_000_bytes(width: int, height: int, reused: bool) -> None:
    assert REUSED_AT_MOST[0] * REUSED_AT_MOST[1] * 3 == 36_000_000
    dark = simplejpeg.encode_jpeg(np.zeros((height, width, 3), np.uint8), fastdct=True)
    light = simplejpeg.encode_jpeg(np.full((height, width, 3), 255, np.uint8), fastdct=True)

    def decodes() -> tuple[np.ndarray, np.ndarray]:
        return decode_rgb(dark, transient=True), decode_rgb(light, transient=True)

    first, second = in_a_new_thread(decodes)
    assert first.shape == second.shape == (height, width, 3)
    assert np.shares_memory(first, second) is reused
    assert int(second.min()) >= 250
    # Reused: the first result now holds the second image; otherwise it keeps its own.
    assert int(first.max()) == (int(second.max()) if reused else 0)


# refusals, word for word


def test_a_jpeg_bomb_names_the_object() -> None:
    data = bytearray(PINNED["jpeg_rgb_444.jpg"][0])
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = (60000).to_bytes(2, "big") + (60000).to_bytes(2, "big")
    assert refusal(bytes(data)) == (
        "60000 x 60000 pixels is over the 50,000,000-pixel limit (decompression bomb)"
    )


def test_a_png_header_of_24_bytes_is_enough_to_refuse_a_bomb() -> None:
    header = png_ihdr_only(10_000, 10_000)[:24]
    assert refusal(header) == (
        "10000 x 10000 pixels is over the 50,000,000-pixel limit (decompression bomb)"
    )
    assert refusal(header[:23]).startswith("corrupt or truncated PNG data (")


@pytest.mark.parametrize(
    ("width", "height"), [(2**24 + 1, 10_000), (10_000, 2**24 + 1), (2**31 - 1, 2**31 - 1)]
)
def test_png_sizes_are_read_as_four_byte_big_endian_numbers(width: int, height: int) -> None:
    assert refusal(png_ihdr_only(width, height)) == (
        f"{width} x {height} pixels is over the 50,000,000-pixel limit (decompression bomb)"
    )


def test_a_bmp_header_of_26_bytes_is_enough_to_refuse_a_bomb() -> None:
    header = bmp_with(10_000, 10_000, 24, b"")[:26]
    assert refusal(header) == (
        "10000 x 10000 pixels is over the 50,000,000-pixel limit (decompression bomb)"
    )
    assert refusal(header[:25]).startswith("corrupt or truncated BMP data (")


def test_a_png_without_ihdr_first_is_corrupt_whatever_its_bytes_say() -> None:
    # Bytes 16-26 read as a size, big- or little-endian, would be a bomb.
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"tEXt", b"\x7f" * 16) + png_chunk(b"IEND", b"")
    assert refusal(data).startswith("corrupt or truncated PNG data (")


def test_a_bmp_that_happens_to_hold_ihdr_is_read_as_a_bmp() -> None:
    data = bytearray(bmp_with(4, 4, 24, b"\0" * 48))
    data[12:18] = b"IHDR\xff\xff"  # read as a PNG's IHDR this would claim 4294902784 x 1024
    assert refusal(bytes(data)).startswith("corrupt or truncated BMP data (")


def test_pillows_own_bomb_guard_is_reported_naming_the_object(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)
    message = refusal(encode(Image.new("RGB", (5, 5)), "PNG"))
    assert message.startswith("decompression bomb (Image size (25 pixels) exceeds limit of 20")


def test_no_pixels_is_refused_naming_the_object() -> None:
    # No PNG, BMP or JPEG decoder here opens a zero-sized image; the guard still stands.
    for width, height in [(0, 5), (5, 0), (0, 0), (-1, 5), (5, -1)]:
        with pytest.raises(EngineError) as caught:
            decode._check_pixels(width, height, URI)
        assert str(caught.value) == f"cannot decode image {URI}: the image has no pixels"
    decode._check_pixels(1, 1, URI)
    decode._check_pixels(1, MAX_IMAGE_PIXELS, URI)


def test_bmp_refusals_name_the_object() -> None:
    sixteen = bmp_with(5, 3, 16, (b"\x1f\x7c" * 5 + b"\0\0") * 3)
    assert refusal(sixteen) == (
        "16-bit BMP: TensorFlow's BMP decoder takes 8, 24 and 32-bit BMPs only"
    )
    palette_message = (
        "palette BMP: TensorFlow's BMP decoder reads the palette indices as gray levels,"
        " so it is refused; save it as 24-bit BMP, PNG or JPEG"
    )
    colour = encode(Image.new("RGB", (4, 4), (200, 10, 10)).convert("P"), "BMP")
    assert refusal(colour) == palette_message
    # 8 bits a pixel with a black-and-white palette: Pillow opens it as mode "1".
    black_white = bmp_with(4, 2, 8, bytes([0, 1, 0, 1] * 2), extra=bytes(4) + b"\xff\xff\xff\0")
    with Image.open(io.BytesIO(black_white)) as opened:
        assert opened.mode == "1"
    assert refusal(black_white) == palette_message
