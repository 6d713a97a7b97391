"""Sample photos: the walkthrough's listing (served from 127.0.0.1) and the packaged fallback."""

from __future__ import annotations

import io
import json
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from PIL import Image

from pipeline.errors import SqlRunnerError
from sqlrunner.samples import (
    PACKAGED_PHOTOS,
    download_walkthrough_images,
    write_demo_images,
)
from tests.support.loopback_http import QuietHandler, serve


def _jpeg(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buffer, format="JPEG")
    return buffer.getvalue()


class _FakeStorage(QuietHandler):
    """Cloud Storage's JSON listing (two pages) and media URLs for gs://cloud-samples-data."""

    objects: ClassVar[dict[str, bytes]] = {
        "vision/a.jpg": _jpeg((255, 0, 0)),
        "vision/label/b.jpg": _jpeg((0, 255, 0)),
        "vision/notes.txt": b"not an image",
        "vision/../escape.jpg": _jpeg((0, 0, 255)),
        "vision/c.png": b"png, not matched by *.jpg",
        "vision/d.JPG": b"upper case, not matched by *.jpg either",
    }

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/storage/v1/b/cloud-samples-data/o":
            query = urllib.parse.parse_qs(url.query)
            assert query["prefix"] == ["vision/"]
            names = sorted(self.objects)
            page = names[:3] if "pageToken" not in query else names[3:]
            body: dict[str, object] = {
                "items": [{"name": n, "size": str(len(self.objects[n]))} for n in page]
            }
            if "pageToken" not in query:
                body["nextPageToken"] = "page-2"
            self.reply(json.dumps(body).encode())
            return
        name = urllib.parse.unquote(url.path.removeprefix("/cloud-samples-data/"))
        if name in self.objects:
            self.reply(self.objects[name])
        else:
            self.send_error(404)


@pytest.fixture(scope="module")
def storage_url() -> Iterator[str]:
    with serve(_FakeStorage) as url:
        yield url


def test_walkthrough_images_are_listed_across_pages_and_fetched(
    storage_url: str, tmp_path: Path
) -> None:
    dest = tmp_path / "gcs" / "cloud-samples-data" / "vision"
    samples = download_walkthrough_images(dest, storage_url=storage_url)
    assert samples.source == "gs://cloud-samples-data/vision/*.jpg"
    assert sorted(p.relative_to(dest).as_posix() for p in samples.paths) == ["a.jpg", "label/b.jpg"]
    assert (dest / "a.jpg").read_bytes() == _FakeStorage.objects["vision/a.jpg"]
    assert not (tmp_path / "gcs" / "cloud-samples-data" / "escape.jpg").exists()


def test_unreachable_storage_is_a_quick_error(tmp_path: Path) -> None:
    with pytest.raises(SqlRunnerError, match=r"cannot fetch http://127\.0\.0\.1:9/"):
        download_walkthrough_images(tmp_path, storage_url="http://127.0.0.1:9", timeout=2)


def test_demo_images_fall_back_to_packaged_photos_as_jpeg(tmp_path: Path) -> None:
    samples = write_demo_images(tmp_path, storage_url="http://127.0.0.1:9")
    assert samples.source.startswith("the scikit-image wheel (")
    assert samples.fallback_reason is not None
    assert samples.fallback_reason.startswith("cannot fetch http://127.0.0.1:9/storage/v1/b/")
    assert len(samples.paths) == len(PACKAGED_PHOTOS)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        Path(name).stem + ".jpg" for name in PACKAGED_PHOTOS
    )
    for path in samples.paths:
        with Image.open(path) as image:
            assert image.format == "JPEG"
            assert image.mode == "RGB"
    with Image.open(tmp_path / "chelsea.jpg") as cat:
        assert cat.size == (451, 300)


def test_demo_images_can_skip_the_network(tmp_path: Path) -> None:
    samples = write_demo_images(tmp_path, allow_network=False)
    assert samples.source.startswith("the scikit-image wheel (")
    assert samples.fallback_reason == "network use turned off"
    assert (tmp_path / "rocket.jpg").is_file()
