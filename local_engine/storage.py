"""Object storage for the local engine: `gs://` URIs over HOME/gcs, or over Cloud Storage.

`LocalObjectStore` maps `gs://BUCKET/OBJECT` to the file `HOME/gcs/BUCKET/OBJECT`;
`GcsObjectStore` lists and reads through google-cloud-storage (a real bucket with the
user's credentials, or the emulator named by STORAGE_EMULATOR_HOST).
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from local_engine.errors import EngineError

GCS_EMULATOR_ENV = "STORAGE_EMULATOR_HOST"

# Leading bytes of the formats an object table is most often built over; anything
# else falls back to the file extension.
_MAGIC_CONTENT_TYPES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"BM", "image/bmp"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"%PDF-", "application/pdf"),
)
_SNIFF_BYTES = 16
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class ObjectInfo:
    uri: str
    generation: int
    content_type: str
    size: int
    # None where the listing does not carry it for free (local files): ObjectStore.md5.
    md5_hash: str | None
    updated: datetime
    metadata: list[tuple[str, str]] = field(default_factory=list)


class ObjectStore(Protocol):
    def list(self, pattern: str) -> Iterator[ObjectInfo]: ...

    def read(self, uri: str) -> bytes: ...

    def md5(self, info: ObjectInfo) -> str:
        """The object's base64 MD5, `info.md5_hash` when the listing carried it."""
        ...


@dataclass(frozen=True)
class UriPattern:
    """`gs://bucket/prefix*suffix`: at most one `*`, and it may cross `/`."""

    bucket: str
    prefix: str
    suffix: str | None  # None: no wildcard, the pattern names one object

    @classmethod
    def parse(cls, pattern: str) -> UriPattern:
        bucket, name = split_uri(pattern)
        stars = name.count("*")
        if stars > 1:
            raise EngineError(f"URI {pattern!r} has {stars} wildcards; only one '*' is allowed")
        if stars == 0:
            return cls(bucket, name, None)
        prefix, suffix = name.split("*")
        return cls(bucket, prefix, suffix)

    def matches(self, name: str) -> bool:
        if self.suffix is None:
            return name == self.prefix
        return (
            len(name) >= len(self.prefix) + len(self.suffix)
            and name.startswith(self.prefix)
            and name.endswith(self.suffix)
        )


def split_uri(uri: str) -> tuple[str, str]:
    """`gs://bucket/name` -> (bucket, name); name may be empty for a bucket-wide pattern."""
    if not uri.startswith("gs://"):
        raise EngineError(f"URI {uri!r} must start with gs://")
    bucket, _, name = uri[len("gs://") :].partition("/")
    if not bucket or "*" in bucket or bucket in (".", ".."):
        raise EngineError(f"URI {uri!r} does not name a bucket")
    if any(part in (".", "..") for part in name.split("/")):
        raise EngineError(f"URI {uri!r} has a '.' or '..' path segment")
    return bucket, name


def sniff_content_type(head: bytes, name: str) -> str:
    for magic, content_type in _MAGIC_CONTENT_TYPES:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or DEFAULT_CONTENT_TYPE


class LocalObjectStore:
    """`gs://BUCKET/OBJECT` is the file `root/BUCKET/OBJECT`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        # MD5s cost a full read; keep them while a file's size and mtime stay the same.
        self._md5_cache: dict[tuple[str, int, int], str] = {}

    def path_of(self, uri: str) -> Path:
        bucket, name = split_uri(uri)
        return self.root / bucket / name

    def list(self, pattern: str) -> Iterator[ObjectInfo]:
        parsed = UriPattern.parse(pattern)
        bucket_dir = self.root / parsed.bucket
        if parsed.suffix is None:
            candidates: Iterator[Path] = iter([bucket_dir / parsed.prefix])
        else:
            # Walk only below the deepest directory the prefix fixes.
            start = bucket_dir / parsed.prefix.rpartition("/")[0]
            candidates = (p for p in sorted(start.rglob("*")) if p.is_file())
        for path in candidates:
            if not path.is_file():
                continue
            name = path.relative_to(bucket_dir).as_posix()
            if parsed.matches(name):
                yield self._info(f"gs://{parsed.bucket}/{name}", path)

    def read(self, uri: str) -> bytes:
        path = self.path_of(uri)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise EngineError(f"object {uri} not found (no file {path})") from None
        except IsADirectoryError:
            raise EngineError(f"object {uri} not found ({path} is a directory)") from None

    def _info(self, uri: str, path: Path) -> ObjectInfo:
        stat = path.stat()
        with path.open("rb") as handle:
            head = handle.read(_SNIFF_BYTES)
        return ObjectInfo(
            uri=uri,
            generation=stat.st_mtime_ns // 1000,
            content_type=sniff_content_type(head, path.name),
            size=stat.st_size,
            md5_hash=None,  # a full read: computed only for queries that use it
            updated=datetime.fromtimestamp(stat.st_mtime_ns / 1e9, tz=UTC),
            metadata=[],
        )

    def md5(self, info: ObjectInfo) -> str:
        if info.md5_hash is not None:
            return info.md5_hash
        path = self.path_of(info.uri)
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise EngineError(f"object {info.uri} not found (no file {path})") from None
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        cached = self._md5_cache.get(key)
        if cached is None:
            digest = hashlib.md5(usedforsecurity=False)
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
            cached = base64.b64encode(digest.digest()).decode("ascii")
            self._md5_cache[key] = cached
        return cached


class GcsObjectStore:
    """Cloud Storage through google-cloud-storage (honours STORAGE_EMULATOR_HOST)."""

    def __init__(self, client: Any = None) -> None:
        if client is None:
            from google.cloud import storage

            try:
                client = storage.Client()
            except Exception as exc:  # google.auth raises several unrelated types
                raise EngineError(f"cannot create a Cloud Storage client: {exc}") from exc
        self._client = client

    def list(self, pattern: str) -> Iterator[ObjectInfo]:
        parsed = UriPattern.parse(pattern)
        try:
            if parsed.suffix is None:
                blob = self._client.bucket(parsed.bucket).get_blob(parsed.prefix)
                blobs = [] if blob is None else [blob]
            else:
                blobs = self._client.list_blobs(parsed.bucket, prefix=parsed.prefix)
            for blob in blobs:
                if blob.name.endswith("/") or not parsed.matches(blob.name):
                    continue
                yield _blob_info(parsed.bucket, blob)
        except EngineError:
            raise
        except Exception as exc:
            raise EngineError(f"cannot list {pattern}: {_short(exc)}") from exc

    def read(self, uri: str) -> bytes:
        from google.api_core import exceptions

        bucket, name = split_uri(uri)
        try:
            data: bytes = self._client.bucket(bucket).blob(name).download_as_bytes()
        except exceptions.NotFound:
            raise EngineError(f"object {uri} not found") from None
        except Exception as exc:
            raise EngineError(f"cannot read {uri}: {_short(exc)}") from exc
        return data

    def md5(self, info: ObjectInfo) -> str:
        return info.md5_hash or ""


def _blob_info(bucket: str, blob: Any) -> ObjectInfo:
    updated = blob.updated or datetime.fromtimestamp(0, tz=UTC)
    return ObjectInfo(
        uri=f"gs://{bucket}/{blob.name}",
        generation=int(blob.generation or 0),
        content_type=blob.content_type or sniff_content_type(b"", blob.name),
        size=int(blob.size or 0),
        md5_hash=blob.md5_hash or "",
        updated=updated.astimezone(UTC),
        metadata=sorted((blob.metadata or {}).items()),
    )


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


def use_gcs_requested(flag: bool) -> bool:
    return flag or bool(os.environ.get(GCS_EMULATOR_ENV))


def open_store(home: Path, use_gcs: bool = False) -> ObjectStore:
    if use_gcs_requested(use_gcs):
        return GcsObjectStore()
    return LocalObjectStore(home / "gcs")
