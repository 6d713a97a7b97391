"""Image bytes to an RGB uint8 array, exactly as `tf.io.decode_image(channels=3)` decodes them.

BigQuery's ML.DECODE_IMAGE takes JPEG, PNG and BMP up to 10,000,000 bytes.
JPEG goes through libjpeg-turbo (simplejpeg) with TensorFlow's defaults: the fast
integer DCT and fancy upsampling; Pillow's JPEG decoder uses the accurate DCT and
differs by a few levels. PNG and BMP go through Pillow, steered to TensorFlow's
rules: alpha dropped without compositing, gray replicated into three channels,
palettes expanded, the high byte of 16-bit samples kept. Anything that cannot be
decoded raises EngineError naming the object and the reason.
"""

from __future__ import annotations

import io
import threading

import numpy as np
import simplejpeg
from PIL import Image, UnidentifiedImageError

from bigquery_facts import MAX_DECODE_IMAGE_BYTES
from local_engine.errors import EngineError

# Refuse decompression bombs before decoding: 50 megapixels is an 8660 x 5773 photo.
MAX_IMAGE_PIXELS = 50_000_000
# The largest per-thread JPEG output buffer kept for reuse (a 12-megapixel photo).
_MAX_REUSED_BYTES = 36_000_000

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"BM", "BMP"),
)
_OTHER_FORMATS: tuple[tuple[bytes, str], ...] = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"RIFF", "WEBP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
)


def image_error(uri: str | None, reason: str) -> EngineError:
    where = f" {uri}" if uri else ""
    return EngineError(f"cannot decode image{where}: {reason}")


def sniff_format(data: bytes) -> str | None:
    """The format ML.DECODE_IMAGE accepts (JPEG, PNG, BMP) that `data` starts with, or None."""
    for magic, name in _SIGNATURES:
        if data.startswith(magic):
            return name
    return None


def _unsupported_reason(data: bytes) -> str:
    for magic, name in _OTHER_FORMATS:
        if data.startswith(magic):
            return f"unsupported image format {name} (ML.DECODE_IMAGE takes JPEG, PNG or BMP)"
    return "not a JPEG, PNG or BMP image"


def decode_rgb(
    data: bytes | None, uri: str | None = None, *, transient: bool = False
) -> np.ndarray:
    """Decode to an (H, W, 3) uint8 array, or raise EngineError naming `uri`.

    With `transient`, a JPEG is decoded into a buffer this thread reuses: the array is
    valid only until the thread's next transient decode. For callers that only read it
    (resize it, convert it) before decoding the next image; it spares a fresh
    page-faulting allocation per image.
    """
    if data is None or len(data) == 0:
        raise image_error(uri, "the object is empty")
    if len(data) > MAX_DECODE_IMAGE_BYTES:
        raise image_error(
            uri,
            f"{len(data):,} bytes is larger than ML.DECODE_IMAGE's "
            f"{MAX_DECODE_IMAGE_BYTES:,}-byte limit",
        )
    fmt = sniff_format(data)
    if fmt is None:
        raise image_error(uri, _unsupported_reason(data))
    try:
        if fmt == "JPEG":
            return _decode_jpeg(data, uri, transient)
        return _decode_with_pillow(data, fmt, uri)
    except EngineError:
        raise
    except Image.DecompressionBombError as exc:
        raise image_error(uri, f"decompression bomb ({exc})") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise image_error(uri, f"corrupt or truncated {fmt} data ({exc})") from exc


def _check_pixels(width: int, height: int, uri: str | None) -> None:
    if width <= 0 or height <= 0:
        raise image_error(uri, "the image has no pixels")
    if width * height > MAX_IMAGE_PIXELS:
        raise image_error(
            uri,
            f"{width} x {height} pixels is over the {MAX_IMAGE_PIXELS:,}-pixel limit"
            " (decompression bomb)",
        )


def _decode_jpeg(data: bytes, uri: str | None, transient: bool) -> np.ndarray:
    height, width, colorspace, _ = simplejpeg.decode_jpeg_header(data)
    _check_pixels(width, height, uri)
    if colorspace in ("CMYK", "YCCK"):
        raw = simplejpeg.decode_jpeg(data, colorspace="CMYK", fastdct=True, strict=True)
        # TensorFlow's conversion of (Adobe-inverted) CMYK: channel * K / 255, truncated.
        wide = np.asarray(raw, dtype=np.uint32)
        return (wide[:, :, :3] * wide[:, :, 3:4] // 255).astype(np.uint8)
    size = height * width * 3
    buffer = _reused_buffer(size) if transient and size <= _MAX_REUSED_BYTES else None
    rgb = simplejpeg.decode_jpeg(data, colorspace="RGB", fastdct=True, strict=True, buffer=buffer)
    return np.asarray(rgb, dtype=np.uint8)


_thread_buffers = threading.local()


def _reused_buffer(size: int) -> np.ndarray:
    """This thread's JPEG output buffer, at least `size` bytes."""
    buffer: np.ndarray | None = getattr(_thread_buffers, "jpeg", None)
    if buffer is None or buffer.size < size:
        buffer = np.empty(size, dtype=np.uint8)
        _thread_buffers.jpeg = buffer
    return buffer[:size]


def _header_size(data: bytes, fmt: str) -> tuple[int, int] | None:
    """(width, height) from a PNG IHDR or BMP info header, read before Pillow sees the data."""
    if fmt == "PNG" and len(data) >= 24 and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if fmt == "BMP" and len(data) >= 26:
        width = int.from_bytes(data[18:22], "little", signed=True)
        height = int.from_bytes(data[22:26], "little", signed=True)
        return abs(width), abs(height)
    return None


def _decode_with_pillow(data: bytes, fmt: str, uri: str | None) -> np.ndarray:
    # Checked here first so Pillow never warns about (or starts on) a decompression bomb.
    claimed = _header_size(data, fmt)
    if claimed is not None and claimed[0] * claimed[1] > MAX_IMAGE_PIXELS:
        _check_pixels(*claimed, uri)
    with Image.open(io.BytesIO(data), formats=[fmt]) as im:
        width, height = im.size
        _check_pixels(width, height, uri)
        bits = int.from_bytes(data[28:30], "little") if fmt == "BMP" and len(data) >= 30 else 0
        if fmt == "BMP" and bits not in (8, 24, 32):
            raise image_error(
                uri, f"{bits}-bit BMP: TensorFlow's BMP decoder takes 8, 24 and 32-bit BMPs only"
            )
        if fmt == "BMP" and im.mode in ("P", "1"):
            raise image_error(
                uri,
                "palette BMP: TensorFlow's BMP decoder reads the palette indices as gray"
                " levels, so it is refused; save it as 24-bit BMP, PNG or JPEG",
            )
        im.load()
        return _to_rgb(im)


def _to_rgb(im: Image.Image) -> np.ndarray:
    mode = im.mode
    if mode == "RGB":
        return np.asarray(im, dtype=np.uint8)
    if mode.startswith("I;16") or mode == "I":
        # 16-bit gray PNG: TensorFlow keeps the high byte, Pillow would clip at 255.
        gray = (np.asarray(im).astype(np.uint32) >> 8).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode == "P" and "transparency" in im.info:
        # Palette colours as they are: TensorFlow drops the tRNS alpha, never composites.
        im = im.convert("RGBA")
    return np.asarray(im.convert("RGB"), dtype=np.uint8)
