"""Thumbnails for the report cards: bounded JPEG data URIs from the local bucket or from
Cloud Storage (a gcp-storage-emulator server on loopback stands in for it)."""

from __future__ import annotations

import base64
import io
import shutil
from pathlib import Path

import pytest
from PIL import Image

from bigquery_facts import MAX_OBJECT_IMAGE_BYTES
from sqlrunner.report_thumbnails import (
    ThumbnailUnavailable,
    gcs_fetcher,
    local_bucket_fetcher,
    thumbnail_for,
    thumbnail_from_bytes,
    thumbnails_for,
)


def encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def decoded(data_uri: str | None) -> Image.Image:
    assert data_uri is not None
    prefix, payload = data_uri.split(",", 1)
    assert prefix == "data:image/jpeg;base64"
    image = Image.open(io.BytesIO(base64.b64decode(payload)))
    image.load()
    return image


def test_a_large_photo_becomes_a_small_jpeg_keeping_its_shape() -> None:
    photo = Image.linear_gradient("L").resize((1600, 900)).convert("RGB")
    thumbnail = thumbnail_from_bytes(encoded(photo, "JPEG", quality=95))
    image = decoded(thumbnail.data_uri)
    assert image.format == "JPEG" and image.mode == "RGB"
    assert max(image.size) == 160
    assert abs(image.size[0] / image.size[1] - 16 / 9) < 0.05
    assert len(thumbnail.data_uri or "") < 20_000


def test_grayscale_alpha_and_exif_rotation_are_handled() -> None:
    rgba = Image.new("RGBA", (300, 100), (255, 0, 0, 128))
    assert decoded(thumbnail_from_bytes(encoded(rgba, "PNG")).data_uri).size == (160, 53)
    gray = Image.new("L", (50, 40), 90)
    assert decoded(thumbnail_from_bytes(encoded(gray, "PNG")).data_uri).size == (50, 40)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    wide = Image.new("RGB", (320, 160), (0, 128, 255))
    assert decoded(thumbnail_from_bytes(encoded(wide, "JPEG", exif=exif)).data_uri).size == (
        80,
        160,
    )


def test_bytes_that_are_no_image_give_a_reason_not_an_error() -> None:
    thumbnail = thumbnail_from_bytes(b"plain text, not an image")
    assert thumbnail.data_uri is None
    assert thumbnail.problem == "cannot decode: not an image format Pillow reads"


def test_local_bucket_reads_home_gcs_and_refuses_paths_outside_it(tmp_path: Path) -> None:
    bucket = tmp_path / "gcs" / "b"
    bucket.mkdir(parents=True)
    (bucket / "a.png").write_bytes(encoded(Image.new("RGB", (8, 8)), "PNG"))
    (tmp_path / "secret.png").write_bytes(encoded(Image.new("RGB", (8, 8)), "PNG"))
    fetch = local_bucket_fetcher(tmp_path)
    assert thumbnail_for("gs://b/a.png", fetch).data_uri
    assert thumbnail_for("gs://b/../../secret.png", fetch).problem == (
        "object path leaves the local bucket"
    )
    assert thumbnail_for("gs://b/missing.png", fetch).problem == (
        "object not found in the local bucket"
    )
    assert thumbnail_for("s3://b/a.png", fetch).problem == "not a gs:// uri: s3://b/a.png"


def test_objects_over_the_size_bound_are_not_read(tmp_path: Path) -> None:
    bucket = tmp_path / "gcs" / "b"
    bucket.mkdir(parents=True)
    with (bucket / "huge.jpg").open("wb") as handle:
        handle.truncate(MAX_OBJECT_IMAGE_BYTES + 1)  # sparse: no 20 MB written
    with pytest.raises(ThumbnailUnavailable, match="too large to preview"):
        local_bucket_fetcher(tmp_path)("b", "huge.jpg")


def test_thumbnails_are_keyed_by_uri_once_each(tmp_path: Path) -> None:
    bucket = tmp_path / "gcs" / "b"
    bucket.mkdir(parents=True)
    for index in range(6):
        (bucket / f"{index}.png").write_bytes(encoded(Image.new("RGB", (20 + index, 10)), "PNG"))
    uris = [f"gs://b/{index}.png" for index in range(6)] + ["gs://b/0.png"]
    thumbnails = thumbnails_for(uris, local_bucket_fetcher(tmp_path))
    assert list(thumbnails) == uris[:6]
    assert [decoded(t.data_uri).size[0] for t in thumbnails.values()] == [20, 21, 22, 23, 24, 25]


def test_cloud_storage_objects_are_fetched_with_the_storage_client(
    emulator: str,
) -> None:
    from google.cloud import storage

    client = storage.Client(project="test-project")
    bucket = client.create_bucket("photos")
    photo = encoded(Image.new("RGB", (400, 200), (10, 200, 30)), "JPEG")
    bucket.blob("cats/one.jpg").upload_from_string(photo, content_type="image/jpeg")

    fetch = gcs_fetcher("test-project")
    thumbnails = thumbnails_for(["gs://photos/cats/one.jpg", "gs://photos/cats/none.jpg"], fetch)
    image = decoded(thumbnails["gs://photos/cats/one.jpg"].data_uri)
    assert image.size == (160, 80)
    assert image.getpixel((80, 40))[1] > 150  # green, as uploaded
    assert thumbnails["gs://photos/cats/none.jpg"].problem == "object not found in Cloud Storage"


def test_a_lake_on_cloud_storage_gets_its_thumbnails_from_there(
    emulator: str, tmp_path: Path, sample_images: Path
) -> None:
    from google.cloud import storage

    from sqlrunner.report import write_local_report
    from tests.sqlrunner.test_report_html import BUCKET, TABLE_ID, make_lake

    lake = make_lake(tmp_path / "lake", sample_images)
    bucket = storage.Client(project="test-project").create_bucket(BUCKET)
    chelsea = lake.home / "gcs" / BUCKET / "chelsea.png"
    bucket.blob("chelsea.png").upload_from_filename(str(chelsea), content_type="image/png")
    shutil.rmtree(lake.home / "gcs" / BUCKET)  # only Cloud Storage has the objects now

    _, data = write_local_report(lake.home, tmp_path / "r.html", table_id=TABLE_ID)
    assert decoded(data.thumbnails[f"gs://{BUCKET}/chelsea.png"].data_uri).size == (160, 106)
    assert data.thumbnails[f"gs://{BUCKET}/coffee.png"].problem == (
        "object not found in Cloud Storage"
    )
