"""Sample photos for the demo and the tests.

First choice: the walkthrough's own public images, `gs://cloud-samples-data/vision/*.jpg`,
listed through Cloud Storage's public JSON API and fetched over HTTPS with a short
timeout. Offline (as on the build machines) the real photographs that the scikit-image
wheel ships in `skimage/data` are used instead; nothing is downloaded at run time.
"""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pipeline.errors import SqlRunnerError
from sqlrunner.modelzoo.resolve import resolve_host

WALKTHROUGH_BUCKET = "cloud-samples-data"
WALKTHROUGH_PREFIX = "vision/"
WALKTHROUGH_URI = f"gs://{WALKTHROUGH_BUCKET}/{WALKTHROUGH_PREFIX}*.jpg"
STORAGE_URL = "https://storage.googleapis.com"
_MAX_DOWNLOAD_BYTES = 10 * 1024 * 1024

# Real photographs inside the scikit-image wheel: colour JPEG/PNG and one grayscale PNG.
PACKAGED_PHOTOS: tuple[str, ...] = (
    "chelsea.png",
    "coffee.png",
    "astronaut.png",
    "rocket.jpg",
    "motorcycle_left.png",
    "hubble_deep_field.jpg",
    "camera.png",
)


@dataclass(frozen=True)
class SampleSet:
    """Where the sample images came from and the files written."""

    source: str
    paths: tuple[Path, ...]
    # Why the walkthrough's own images were not used, when they were not.
    fallback_reason: str | None = None


def packaged_photo_dir() -> Path:
    """The `skimage/data` directory of the installed scikit-image, without importing it."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or not spec.submodule_search_locations:
        raise SqlRunnerError(
            "scikit-image is not installed; it ships the offline sample photos "
            "(pip install -r requirements-local.txt)"
        )
    data_dir = Path(next(iter(spec.submodule_search_locations))) / "data"
    missing = [name for name in PACKAGED_PHOTOS if not (data_dir / name).is_file()]
    if missing:
        raise SqlRunnerError(f"{data_dir} lacks the sample photos {', '.join(missing)}")
    return data_dir


def copy_packaged_photos(dest: Path, names: Sequence[str] = PACKAGED_PHOTOS) -> SampleSet:
    """Copy the packaged photos into `dest` unchanged (their own JPEG and PNG bytes)."""
    data_dir = packaged_photo_dir()
    dest.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        target = dest / name
        shutil.copyfile(data_dir / name, target)
        paths.append(target)
    return SampleSet(source=f"the scikit-image wheel ({data_dir})", paths=tuple(paths))


def write_packaged_photos_as_jpeg(dest: Path, names: Sequence[str] = PACKAGED_PHOTOS) -> SampleSet:
    """Write the packaged photos into `dest` as RGB JPEG files (`chelsea.png` -> `chelsea.jpg`)."""
    from PIL import Image

    data_dir = packaged_photo_dir()
    dest.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in names:
        source = data_dir / name
        target = dest / f"{source.stem}.jpg"
        if source.suffix.lower() in (".jpg", ".jpeg"):
            shutil.copyfile(source, target)
        else:
            with Image.open(source) as image:
                image.convert("RGB").save(target, format="JPEG", quality=92)
        paths.append(target)
    return SampleSet(source=f"the scikit-image wheel ({data_dir})", paths=tuple(paths))


def download_walkthrough_images(
    dest: Path, *, limit: int = 16, timeout: float = 3.0, storage_url: str = STORAGE_URL
) -> SampleSet:
    """Fetch up to `limit` of `gs://cloud-samples-data/vision/*.jpg` into `dest` (names kept).

    Raises SqlRunnerError quickly when `storage_url` cannot be reached.
    """
    names = _list_walkthrough_jpegs(storage_url, limit, timeout)
    if not names:
        raise SqlRunnerError(f"no objects match {WALKTHROUGH_URI}")
    paths = []
    for name in names:
        relative = name[len(WALKTHROUGH_PREFIX) :]
        target = dest / relative
        url = f"{storage_url}/{WALKTHROUGH_BUCKET}/{urllib.parse.quote(name)}"
        data = _http_get(url, timeout)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        paths.append(target)
    return SampleSet(source=WALKTHROUGH_URI, paths=tuple(paths))


def write_demo_images(
    dest: Path, *, allow_network: bool = True, storage_url: str = STORAGE_URL
) -> SampleSet:
    """Fill `dest` with the walkthrough's images if they can be fetched, else packaged photos."""
    reason = "network use turned off"
    if allow_network:
        try:
            return download_walkthrough_images(dest, storage_url=storage_url)
        except SqlRunnerError as exc:
            reason = str(exc)
    packaged = write_packaged_photos_as_jpeg(dest)
    return SampleSet(packaged.source, packaged.paths, fallback_reason=reason)


def _list_walkthrough_jpegs(storage_url: str, limit: int, timeout: float) -> list[str]:
    # One '*' crosses '/' in an object-table URI, so every name under vision/ ending .jpg counts.
    names: list[str] = []
    page_token = ""
    while len(names) < limit:
        params = {"prefix": WALKTHROUGH_PREFIX, "fields": "items(name,size),nextPageToken"}
        if page_token:
            params["pageToken"] = page_token
        query = urllib.parse.urlencode(params)
        url = f"{storage_url}/storage/v1/b/{WALKTHROUGH_BUCKET}/o?{query}"
        listing = json.loads(_http_get(url, timeout))
        for item in listing.get("items", []):
            name = str(item["name"])
            if _is_wanted(name) and int(item.get("size", 0)) <= _MAX_DOWNLOAD_BYTES:
                names.append(name)
        page_token = str(listing.get("nextPageToken", ""))
        if not page_token:
            break
    return names[:limit]


def _is_wanted(name: str) -> bool:
    # A listed name becomes a local path: refuse anything that could leave the destination.
    parts = PurePosixPath(name[len(WALKTHROUGH_PREFIX) :]).parts
    safe = bool(parts) and not name.startswith("/") and ".." not in parts
    # Case-sensitive, as the object table's `*.jpg` is.
    return safe and name.startswith(WALKTHROUGH_PREFIX) and name.endswith(".jpg")


def _http_get(url: str, timeout: float) -> bytes:
    resolve_host(url, timeout)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            body = io.BytesIO()
            while chunk := response.read(1 << 16):
                body.write(chunk)
                if body.tell() > _MAX_DOWNLOAD_BYTES:
                    raise SqlRunnerError(f"{url} is larger than {_MAX_DOWNLOAD_BYTES} bytes")
            return body.getvalue()
    except (OSError, ValueError) as exc:
        raise SqlRunnerError(f"cannot fetch {url}: {exc}") from exc
