"""TensorFlow's decoding rules on tiny images whose pixels are known, without TensorFlow.

test_decode.py compares with TensorFlow itself; these are the same rules written out, fast
enough to run against every mutant of local_engine/decode.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

from local_engine.decode import decode_rgb, sniff_format
from local_engine.errors import EngineError
from tests.support.ml_imageset import encode, png_header_only


def solid(mode: str, size: tuple[int, int], color: object) -> Image.Image:
    return Image.new(mode, size, color)  # type: ignore[arg-type]


def test_rgb_png_and_bmp_are_exact() -> None:
    for fmt in ("PNG", "BMP"):
        rgb = decode_rgb(encode(solid("RGB", (5, 3), (10, 20, 30)), fmt))
        assert rgb.shape == (3, 5, 3) and rgb.dtype == np.uint8
        assert (rgb == [10, 20, 30]).all(), fmt


def test_gray_is_replicated_into_three_channels() -> None:
    rgb = decode_rgb(encode(solid("L", (4, 2), 77), "PNG"))
    assert rgb.shape == (2, 4, 3) and (rgb == 77).all()


def test_sixteen_bit_gray_keeps_the_high_byte() -> None:
    image = solid("I;16", (3, 2), 0x1234)
    rgb = decode_rgb(encode(image, "PNG"))
    assert rgb.shape == (2, 3, 3) and (rgb == 0x12).all()


def test_alpha_is_dropped_without_compositing() -> None:
    rgb = decode_rgb(encode(solid("RGBA", (2, 2), (200, 100, 50, 0)), "PNG"))
    assert (rgb == [200, 100, 50]).all()


def test_palette_colours_are_kept_as_they_are_even_when_transparent() -> None:
    image = solid("P", (2, 2), 1)
    image.putpalette([0, 0, 0, 9, 99, 199] + [0] * 762)
    image.info["transparency"] = 1
    assert (decode_rgb(encode(image, "PNG", transparency=1)) == [9, 99, 199]).all()
    plain = solid("P", (2, 2), 1)
    plain.putpalette([0, 0, 0, 9, 99, 199] + [0] * 762)
    assert (decode_rgb(encode(plain, "PNG")) == [9, 99, 199]).all()


def test_32_bit_bmp_decodes() -> None:
    rgb = decode_rgb(encode(solid("RGBA", (3, 3), (1, 2, 3, 255)), "BMP"))
    assert (rgb == [1, 2, 3]).all()


def test_cmyk_jpeg_is_scaled_by_k_as_tensorflow_does() -> None:
    rgb = decode_rgb(encode(solid("CMYK", (8, 8), (0, 0, 0, 0)), "JPEG", quality=100))
    assert rgb.shape == (8, 8, 3)
    assert abs(int(rgb.mean()) - 255) <= 2  # no ink: white


def test_a_jpeg_decodes_to_its_colour() -> None:
    rgb = decode_rgb(encode(solid("RGB", (16, 8), (250, 10, 10)), "JPEG", quality=100))
    assert rgb.shape == (8, 16, 3)
    assert abs(int(rgb[..., 0].mean()) - 250) <= 4 and int(rgb[..., 1].mean()) <= 20


def test_transient_decodes_reuse_one_buffer_and_plain_ones_do_not() -> None:
    small = encode(solid("RGB", (4, 4), (1, 1, 1)), "JPEG")
    other = encode(solid("RGB", (4, 4), (200, 200, 200)), "JPEG")
    first = decode_rgb(small, transient=True)
    kept = first.copy()
    decode_rgb(other, transient=True)
    assert not np.array_equal(first, kept)  # overwritten: the same buffer
    plain = decode_rgb(small)
    decode_rgb(other)
    assert np.array_equal(plain, kept)


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"\xff\xd8\xff\xe0", "JPEG"),
        (b"\x89PNG\r\n\x1a\n", "PNG"),
        (b"BM", "BMP"),
        (b"GIF89a", None),
    ],
)
def test_sniff_format(data: bytes, fmt: str | None) -> None:
    assert sniff_format(data + b"rest") == fmt


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "the object is empty"),
        (None, "the object is empty"),
        (
            b"GIF87a....",
            r"unsupported image format GIF \(ML\.DECODE_IMAGE takes JPEG, PNG or BMP\)",
        ),
        (b"RIFF....WEBP", "unsupported image format WEBP"),
        (b"II*\x00....", "unsupported image format TIFF"),
        (b"MM\x00*....", "unsupported image format TIFF"),
        (b"plain text", "not a JPEG, PNG or BMP image"),
    ],
)
def test_refusals_name_the_object(data: bytes | None, reason: str) -> None:
    with pytest.raises(EngineError, match=rf"^cannot decode image gs://b/o: {reason}"):
        decode_rgb(data, "gs://b/o")
    with pytest.raises(EngineError, match=rf"^cannot decode image: {reason}"):
        decode_rgb(data)


def test_palette_and_low_bit_bmps_are_refused() -> None:
    palette = encode(solid("RGB", (4, 4), (200, 10, 10)).convert("P"), "BMP")
    with pytest.raises(EngineError, match="palette BMP"):
        decode_rgb(palette)
    with pytest.raises(EngineError, match="1-bit BMP"):
        decode_rgb(encode(solid("1", (9, 4), 1), "BMP"))


def bmp_claiming(width: int, height: int) -> bytes:
    data = bytearray(encode(solid("RGB", (4, 4), (1, 2, 3)), "BMP"))
    data[18:22] = width.to_bytes(4, "little", signed=True)
    data[22:26] = height.to_bytes(4, "little", signed=True)
    return bytes(data)


@pytest.mark.parametrize(
    ("image", "claimed"),
    [
        (png_header_only(10_000, 10_000), "10000 x 10000"),
        (bmp_claiming(10_000, 10_000), "10000 x 10000"),
        (bmp_claiming(10_000, -10_000), "10000 x 10000"),  # a top-down BMP
        (bmp_claiming(-10_000, 6_000), "10000 x 6000"),
    ],
)
def test_bombs_are_refused_from_their_header_before_pillow_sees_them(
    image: bytes, claimed: str
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Pillow's own DecompressionBombWarning would fail
        with pytest.raises(
            EngineError, match=rf"^cannot decode image: {claimed} pixels is over the 50,000,000"
        ):
            decode_rgb(image)


def test_cmyk_ink_darkens_as_tensorflow_computes_it() -> None:
    # TensorFlow: channel * K / 255 on Adobe-inverted CMYK, i.e. pure black ink gives black.
    black = decode_rgb(encode(solid("CMYK", (8, 8), (0, 0, 0, 255)), "JPEG", quality=100))
    assert int(black.max()) <= 3
    cyan = decode_rgb(encode(solid("CMYK", (8, 8), (255, 0, 0, 0)), "JPEG", quality=100))
    assert int(cyan[..., 0].mean()) <= 5 and int(cyan[..., 1].mean()) >= 250
