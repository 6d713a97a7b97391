"""Small JPEG data URIs of the predicted images, from the local bucket or Cloud Storage."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bigquery_facts import MAX_OBJECT_IMAGE_BYTES
from pipeline.errors import SqlRunnerError

THUMBNAIL_PIXELS = 160
JPEG_QUALITY = 72

ObjectFetcher = Callable[[str, str], bytes]
"""(bucket, object name) -> the object's bytes; raises ThumbnailUnavailable."""


class ThumbnailUnavailable(Exception):
    """Why one image has no preview; the report shows the reason on its card."""


@dataclass(frozen=True)
class Thumbnail:
    data_uri: str | None
    problem: str | None = None


def split_gcs_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("gs://"):
        raise ThumbnailUnavailable(f"not a gs:// uri: {uri}")
    bucket, _, name = uri[len("gs://") :].partition("/")
    if not bucket or not name:
        raise ThumbnailUnavailable(f"not a gs://bucket/object uri: {uri}")
    return bucket, name


def local_bucket_fetcher(home: Path) -> ObjectFetcher:
    """Objects of the local lake: gs://BUCKET/OBJECT is HOME/gcs/BUCKET/OBJECT."""
    root = (home / "gcs").resolve()

    def fetch(bucket: str, name: str) -> bytes:
        path = (root / bucket / name).resolve()
        if not path.is_relative_to(root):
            raise ThumbnailUnavailable("object path leaves the local bucket")
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise ThumbnailUnavailable("object not found in the local bucket") from None
        _check_size(size)
        return path.read_bytes()

    return fetch


def gcs_fetcher(project: str | None) -> ObjectFetcher:
    """Objects in Cloud Storage, read with the user's application-default credentials.

    google-cloud-storage honours STORAGE_EMULATOR_HOST, which the tests use.
    """
    from google.api_core import exceptions as api_exceptions
    from google.auth import exceptions as auth_exceptions
    from google.cloud.storage import Client as StorageClient

    try:
        client = StorageClient(project=project)
    except auth_exceptions.DefaultCredentialsError as exc:
        raise SqlRunnerError(
            "no Google Cloud credentials for the thumbnails "
            "(run `gcloud auth application-default login`, or pass --no-thumbnails): "
            f"{exc}"
        ) from None

    def fetch(bucket: str, name: str) -> bytes:
        try:
            blob = client.bucket(bucket).get_blob(name)
            if blob is None:
                raise ThumbnailUnavailable("object not found in Cloud Storage")
            _check_size(blob.size or 0)
            return bytes(blob.download_as_bytes())
        except api_exceptions.GoogleAPICallError as exc:
            raise ThumbnailUnavailable(f"Cloud Storage: {exc.message}") from None

    return fetch


def _check_size(size: int) -> None:
    # Larger than an object table's images may be for inference: never worth a preview.
    if size > MAX_OBJECT_IMAGE_BYTES:
        raise ThumbnailUnavailable(f"{size / 1e6:.0f} MB is too large to preview")


def thumbnail_from_bytes(data: bytes, max_pixels: int = THUMBNAIL_PIXELS) -> Thumbnail:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            # JPEG decodes at 1/2..1/8 scale directly, far cheaper than a full decode.
            image.draft("RGB", (max_pixels * 2, max_pixels * 2))
            preview = ImageOps.exif_transpose(image).convert("RGB")
            preview.thumbnail((max_pixels, max_pixels))
    except UnidentifiedImageError:
        return Thumbnail(None, "cannot decode: not an image format Pillow reads")
    except (Image.DecompressionBombError, OSError, ValueError) as exc:
        return Thumbnail(None, f"cannot decode: {exc}")
    buffer = io.BytesIO()
    preview.save(buffer, format="JPEG", quality=JPEG_QUALITY, optimize=True)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    return Thumbnail(f"data:image/jpeg;base64,{encoded}")


def thumbnail_for(uri: str, fetch: ObjectFetcher) -> Thumbnail:
    try:
        bucket, name = split_gcs_uri(uri)
        return thumbnail_from_bytes(fetch(bucket, name))
    except ThumbnailUnavailable as exc:
        return Thumbnail(None, str(exc))


def thumbnails_for(
    uris: Iterable[str], fetch: ObjectFetcher, workers: int = 4
) -> dict[str, Thumbnail]:
    """Thumbnails keyed by uri; fetches overlap (Cloud Storage latency, Pillow decode)."""
    unique = list(dict.fromkeys(uris))
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(unique)))) as pool:
        thumbnails = pool.map(lambda uri: thumbnail_for(uri, fetch), unique)
        return dict(zip(unique, thumbnails, strict=True))
