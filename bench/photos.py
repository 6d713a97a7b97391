"""N realistic 640x480 JPEG photos, made from the real photos scikit-image ships.

Each photo is a random crop of one shipped photo, upscaled, blended with a crop of
another, lit by a soft colour gradient and given fine sensor-like grain, so the
JPEGs carry photo-like detail (and decode cost) rather than flat colour or noise.
The same seed gives the same bytes.
"""

from __future__ import annotations

import importlib.util
import io
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path

import numpy as np
from PIL import Image

WIDTH, HEIGHT = 640, 480
JPEG_QUALITY = 90
# Colour photographs in skimage/data (the rest are grayscale, tiny or synthetic).
SOURCE_PHOTOS = (
    "astronaut.png",
    "chelsea.png",
    "coffee.png",
    "motorcycle_left.png",
    "rocket.jpg",
    "hubble_deep_field.jpg",
    "ihc.png",
    "retina.jpg",
)


def skimage_data_dir() -> Path:
    """Where scikit-image keeps its shipped photos, found without importing scikit-image."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("scikit-image is not installed: it ships the photos the benchmark uses")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


@cache
def source_photos() -> tuple[np.ndarray, ...]:
    """The shipped colour photos as uint8 RGB arrays."""
    folder = skimage_data_dir()
    return tuple(np.asarray(Image.open(folder / name).convert("RGB")) for name in SOURCE_PHOTOS)


def _random_crop(photo: np.ndarray, rng: np.random.Generator) -> Image.Image:
    """A crop of 40-100 % of the photo with the output's aspect ratio, upscaled to 640x480."""
    height, width = photo.shape[:2]
    scale = rng.uniform(0.4, 1.0)
    crop_w = min(width, round(height * scale * WIDTH / HEIGHT))
    crop_h = min(height, round(crop_w * HEIGHT / WIDTH))
    left = int(rng.integers(0, width - crop_w + 1))
    top = int(rng.integers(0, height - crop_h + 1))
    crop = Image.fromarray(photo[top : top + crop_h, left : left + crop_w])
    if rng.random() < 0.5:
        crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return crop.resize((WIDTH, HEIGHT), Image.Resampling.BICUBIC)


def _gradient(rng: np.random.Generator) -> np.ndarray:
    """A soft linear colour cast across the frame, as uneven light gives, in [0.75, 1.25]."""
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float32)
    ramp = (np.cos(angle) * xs / WIDTH + np.sin(angle) * ys / HEIGHT)[..., None]
    tint = rng.uniform(-0.25, 0.25, size=3).astype(np.float32)
    gain: np.ndarray = np.clip(1.0 + ramp * tint, 0.75, 1.25)
    return gain


def make_photo(seed: int) -> bytes:
    """One 640x480 JPEG; the same seed gives the same bytes."""
    rng = np.random.default_rng(seed)
    photos = source_photos()
    first, second = rng.choice(len(photos), size=2, replace=False)
    base = np.asarray(_random_crop(photos[first], rng), dtype=np.float32)
    overlay = np.asarray(_random_crop(photos[second], rng), dtype=np.float32)
    alpha = np.float32(rng.uniform(0.15, 0.35))
    pixels: np.ndarray = (1 - alpha) * base + alpha * overlay
    pixels *= _gradient(rng)
    # Upscaling smooths the crop: grain puts back the fine detail a camera records.
    pixels += rng.normal(0.0, 4.0, size=pixels.shape).astype(np.float32)
    image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def _write_photo(path: Path, seed: int) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(make_photo(seed))
    tmp.replace(path)


def write_photos(folder: Path, count: int, seed: int = 0, workers: int = 1) -> list[Path]:
    """Write `count` photos as folder/photo_00000.jpg ...; keep those already there."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"photo_{index:05d}.jpg" for index in range(count)]
    missing = [(path, seed * 1_000_003 + index) for index, path in enumerate(paths)]
    missing = [(path, photo_seed) for path, photo_seed in missing if not path.exists()]
    if workers > 1 and len(missing) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_write_photo, *zip(*missing, strict=True), chunksize=16))
    else:
        for path, photo_seed in missing:
            _write_photo(path, photo_seed)
    return paths
