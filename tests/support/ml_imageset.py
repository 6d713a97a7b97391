"""Generated images for the image and model tests: every format and mode ML.DECODE_IMAGE meets."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image


def _smooth(rng: np.random.Generator, height: int, width: int, channels: int) -> np.ndarray:
    """Photo-like content: gradients plus noise, so JPEG and resize have real work."""
    y = np.linspace(0, 1, height)[:, None, None]
    x = np.linspace(0, 1, width)[None, :, None]
    base = (np.sin(6 * x + np.arange(channels)) * 0.5 + 0.5) * (y * 0.7 + 0.3)
    return (base * 255 + rng.normal(0, 20, (height, width, channels))).clip(0, 255).astype(np.uint8)


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_16bit_rgb(pixels: np.ndarray) -> bytes:
    """A 16-bit-per-sample RGB PNG, written by hand (Pillow cannot write one)."""
    height, width, _ = pixels.shape
    raw = b"".join(b"\x00" + pixels[row].astype(">u2").tobytes() for row in range(height))
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(raw))
        + _png_chunk(b"IEND", b"")
    )


def png_header_only(width: int, height: int) -> bytes:
    """A valid PNG of width x height black pixels, compressed to almost nothing (a bomb)."""
    row = b"\x00" + b"\x00" * width
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", body)
        + _png_chunk(b"IEND", b"")
    )


def varied_images() -> dict[str, bytes]:
    """Name -> encoded bytes, across sizes, formats and modes TensorFlow decodes."""
    rng = np.random.default_rng(7)
    rgb = _smooth(rng, 37, 53, 3)
    palette = Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    gray16 = (rng.random((20, 30)) * 65535).astype(np.uint16)
    return {
        "jpeg_rgb_444.jpg": encode(Image.fromarray(rgb), "JPEG", quality=92, subsampling=0),
        "jpeg_rgb_420.jpg": encode(Image.fromarray(_smooth(rng, 101, 67, 3)), "JPEG", quality=75),
        "jpeg_progressive.jpg": encode(
            Image.fromarray(_smooth(rng, 64, 80, 3)), "JPEG", progressive=True
        ),
        "jpeg_large.jpg": encode(Image.fromarray(_smooth(rng, 480, 640, 3)), "JPEG", quality=85),
        "jpeg_gray.jpg": encode(Image.fromarray(_smooth(rng, 30, 40, 1)[:, :, 0]), "JPEG"),
        "jpeg_cmyk.jpg": encode(Image.fromarray(_smooth(rng, 30, 40, 4), "CMYK"), "JPEG"),
        "png_rgb.png": encode(Image.fromarray(rgb), "PNG"),
        "png_rgba.png": encode(Image.fromarray(_smooth(rng, 20, 30, 4), "RGBA"), "PNG"),
        "png_gray.png": encode(Image.fromarray(_smooth(rng, 21, 31, 1)[:, :, 0]), "PNG"),
        "png_gray_alpha.png": encode(Image.fromarray(_smooth(rng, 20, 30, 2), "LA"), "PNG"),
        "png_palette.png": encode(palette, "PNG"),
        "png_palette_transparent.png": encode(palette, "PNG", transparency=3),
        "png_1bit.png": encode(Image.fromarray(_smooth(rng, 20, 30, 1)[:, :, 0] > 128), "PNG"),
        "png_16bit_gray.png": encode(Image.fromarray(gray16), "PNG"),
        "png_16bit_rgb.png": png_16bit_rgb((rng.random((10, 12, 3)) * 65535).astype(np.uint16)),
        "png_tall.png": encode(Image.fromarray(_smooth(rng, 300, 7, 3)), "PNG"),
        "bmp_rgb.bmp": encode(Image.fromarray(rgb), "BMP"),
        "bmp_rgba.bmp": encode(Image.fromarray(_smooth(rng, 20, 30, 4), "RGBA"), "BMP"),
        "bmp_gray.bmp": encode(Image.fromarray(_smooth(rng, 20, 30, 1)[:, :, 0]), "BMP"),
    }


def photo_like_jpeg(height: int, width: int, seed: int = 0) -> bytes:
    return encode(Image.fromarray(_smooth(np.random.default_rng(seed), height, width, 3)), "JPEG")
