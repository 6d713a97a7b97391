"""A minimal gs:// object store over a directory, for the tests of create_model."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class FileInfo:
    uri: str
    size: int


class DirStore:
    """gs://BUCKET/NAME is ROOT/BUCKET/NAME; a pattern is a prefix, `*` matching the rest."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def list(self, pattern: str) -> Iterator[FileInfo]:
        prefix = pattern.split("*", 1)[0]
        for path in sorted(self.root.rglob("*")):
            uri = "gs://" + path.relative_to(self.root).as_posix()
            if path.is_file() and (uri.startswith(prefix) if "*" in pattern else uri == pattern):
                yield FileInfo(uri, path.stat().st_size)

    def read(self, uri: str) -> bytes:
        return (self.root / uri.removeprefix("gs://")).read_bytes()


def put_tree(store: DirStore, source: Path, uri_prefix: str) -> str:
    """Copy a directory under gs://uri_prefix and return the model_path `gs://.../*`."""
    target = store.root / uri_prefix.removeprefix("gs://")
    shutil.copytree(source, target)
    return f"{uri_prefix.rstrip('/')}/*"
