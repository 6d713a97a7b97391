"""Small images with the pixels TensorFlow decodes them to, stored under tests/local_engine/data/.

Each image is kept as its encoded file beside `<name>.npy`, the array
`tf.io.decode_image(data, channels=3)` returns for it, so the fast decode tests compare
exact pixels without importing TensorFlow. tests/local_engine/test_decode.py decodes the
stored files with TensorFlow again and compares, so the arrays cannot drift from it.
`python -m tests.support.decode_fixtures` writes the set anew (TensorFlow needed).
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import simplejpeg
from PIL import Image

from tests.support.ml_imageset import encode, varied_images

DATA = Path(__file__).resolve().parents[1] / "local_engine" / "data" / "decode"

# The generated images TensorFlow decodes (jpeg_large is left out: 900 KB of pixels).
FROM_IMAGESET = (
    "jpeg_rgb_444.jpg",
    "jpeg_rgb_420.jpg",
    "jpeg_progressive.jpg",
    "jpeg_gray.jpg",
    "jpeg_cmyk.jpg",
    "png_rgb.png",
    "png_rgba.png",
    "png_gray.png",
    "png_gray_alpha.png",
    "png_palette.png",
    "png_palette_transparent.png",
    "png_1bit.png",
    "png_16bit_gray.png",
    "png_16bit_rgb.png",
    "bmp_rgb.bmp",
    "bmp_rgba.bmp",
    "bmp_gray.bmp",
)


def bmp_with(
    width: int, height: int, bits: int, pixels: bytes, compression: int = 0, extra: bytes = b""
) -> bytes:
    """A bottom-up BMP with a 40-byte info header; `extra` (masks or a palette) follows it."""
    offset = 14 + 40 + len(extra)
    colours = len(extra) // 4 if bits <= 8 else 0
    info = struct.pack(
        "<IiiHHIIiiII", 40, width, height, 1, bits, compression, len(pixels), 2835, 2835,
        colours, 0,
    )  # fmt: skip
    return b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset) + info + extra + pixels


def bitfields_bmp() -> bytes:
    """A 32-bit BMP stored as BI_BITFIELDS with the standard BGRA masks."""
    rng = np.random.default_rng(11)
    bgra = rng.integers(0, 256, (6, 5, 4), dtype=np.uint8)
    bgra[..., 3] = 255
    masks = struct.pack("<III", 0x00FF0000, 0x0000FF00, 0x000000FF)
    return bmp_with(5, 6, 32, bgra.tobytes(), compression=3, extra=masks)


def ycck_jpeg() -> bytes:
    """A YCCK JPEG (libjpeg-turbo stores CMYK input that way), with ink in every channel."""
    rng = np.random.default_rng(12)
    return bytes(
        simplejpeg.encode_jpeg(
            rng.integers(0, 256, (16, 24, 4), dtype=np.uint8), quality=90, colorspace="CMYK"
        )
    )


def exif_rotated_jpeg() -> bytes:
    """A JPEG whose EXIF says "rotate 90°": TensorFlow ignores the orientation tag."""
    rng = np.random.default_rng(13)
    exif = Image.Exif()
    exif[0x0112] = 6
    image = Image.fromarray(rng.integers(0, 256, (12, 20, 3), dtype=np.uint8))
    return encode(image, "JPEG", quality=90, exif=exif.tobytes())


def images() -> dict[str, bytes]:
    """Name -> encoded bytes of every image in the set."""
    varied = varied_images()
    return {
        **{name: varied[name] for name in FROM_IMAGESET},
        "jpeg_ycck.jpg": ycck_jpeg(),
        "jpeg_exif_rotated.jpg": exif_rotated_jpeg(),
        "bmp_bitfields.bmp": bitfields_bmp(),
    }


def stored() -> dict[str, tuple[bytes, np.ndarray]]:
    """Name -> (the stored file's bytes, TensorFlow's pixels for it)."""
    return {
        path.name: (path.read_bytes(), np.load(path.with_name(path.name + ".npy")))
        for path in sorted(DATA.iterdir())
        if path.suffix != ".npy"
    }


def write() -> None:
    import tensorflow as tf

    DATA.mkdir(parents=True, exist_ok=True)
    for name, data in images().items():
        (DATA / name).write_bytes(data)
        pixels = tf.io.decode_image(data, channels=3, expand_animations=False).numpy()
        np.save(DATA / f"{name}.npy", pixels, allow_pickle=False)


if __name__ == "__main__":
    write()
