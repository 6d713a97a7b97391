"""The benchmark's photos: 640x480 JPEGs with photo-like detail, the same for the same seed."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from bench.photos import HEIGHT, WIDTH, make_photo, write_photos


def _pixels(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return np.asarray(image.convert("RGB"), dtype=np.float64)


def test_photo_is_a_640x480_rgb_jpeg() -> None:
    pixels = _pixels(make_photo(1))
    assert pixels.shape == (HEIGHT, WIDTH, 3)


def test_same_seed_same_bytes_other_seed_other_photo() -> None:
    assert make_photo(7) == make_photo(7)
    assert make_photo(7) != make_photo(8)


def test_photos_have_structure_not_flat_colour_nor_noise() -> None:
    for seed in range(4):
        gray = _pixels(make_photo(seed)).mean(axis=2)
        # Not flat: a wide spread of brightness across the frame.
        assert gray.std() > 15
        # Not noise: neighbouring pixels agree far more than independent ones would,
        # and yet the fine detail (high-frequency energy) is there.
        left, right = gray[:, :-1].ravel(), gray[:, 1:].ravel()
        assert np.corrcoef(left, right)[0, 1] > 0.8
        assert np.abs(np.diff(gray, axis=1)).mean() > 1.0


def test_write_photos_keeps_existing_files(tmp_path: Path) -> None:
    first = write_photos(tmp_path, 3)
    assert [p.name for p in first] == ["photo_00000.jpg", "photo_00001.jpg", "photo_00002.jpg"]
    before = first[1].stat().st_mtime_ns
    again = write_photos(tmp_path, 4)
    assert len(again) == 4
    assert again[1].stat().st_mtime_ns == before
    assert again[3].read_bytes() == make_photo(3)
