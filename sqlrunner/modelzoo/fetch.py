"""`make model`: download the real ResNet-50 SavedModel, verify it, say where it came from.

TF Hub's `tensorflow/resnet_50/classification/1` is served by Kaggle Models as a
.tar.gz of the SavedModel directory. The archive is streamed to a temp file next to
the destination (hashing as it goes), extracted refusing any member that would land
outside the staging directory, checked for ResNet-50's signature with TensorFlow, and
only then moved into place with a PROVENANCE.json beside saved_model.pb.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from pipeline.errors import SqlRunnerError
from sqlrunner.modelzoo.marker import MARKER_FILE
from sqlrunner.modelzoo.resolve import resolve_host
from sqlrunner.modelzoo.signature import verify_signature

MODEL_HANDLE = "tensorflow/resnet_50/classification/1"
# Kaggle Models' download API for the migrated TF Hub handle (what OpenVINO Model Server's
# and Triton's docs fetch); TF Hub's own `?tf-hub-format=compressed` form redirects there.
KAGGLE_URL = "https://www.kaggle.com/api/v1/models/tensorflow/resnet-50/tensorFlow2/classification/1/download"
DEFAULT_URL = KAGGLE_URL
PROVENANCE_FILE = "PROVENANCE.json"
# The real archive is about 90 MB; BigQuery refuses models over 450 MB anyway.
MAX_ARCHIVE_BYTES = 1 << 30
MAX_EXTRACTED_BYTES = 2 << 30
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Provenance:
    """Where a downloaded model came from; written as PROVENANCE.json."""

    handle: str
    source_url: str
    final_url: str
    sha256: str
    archive_bytes: int
    fetched_at: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


def read_provenance(model_dir: Path) -> Provenance | None:
    path = model_dir / PROVENANCE_FILE
    if not path.is_file():
        return None
    return Provenance(**json.loads(path.read_text()))


def fetch_model(
    dest: Path,
    url: str = DEFAULT_URL,
    *,
    timeout: float = 10.0,
    force: bool = False,
    progress: bool = True,
) -> Provenance:
    """Download, verify and install the SavedModel at `dest`; returns its provenance.

    `timeout` bounds the connection and every stalled read, so an unreachable host
    fails within seconds. A verified earlier download at `dest` is kept unless `force`; a broken one is replaced.
    """
    existing = read_provenance(dest)
    if existing is not None and not force and _still_valid(dest):
        return existing
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{dest.name}-fetch-", dir=dest.parent) as work:
        archive = Path(work) / "model.tar.gz"
        final_url, sha256, size = download(url, archive, timeout=timeout, progress=progress)
        staging = Path(work) / "extracted"
        extract_archive(archive, staging)
        model_root = find_savedmodel_root(staging, url)
        if (model_root / MARKER_FILE).exists():
            raise SqlRunnerError(
                f"{url} serves a generated stand-in ({MARKER_FILE}), not the real model"
            )
        verify_signature(model_root)
        provenance = Provenance(
            handle=MODEL_HANDLE,
            source_url=url,
            final_url=final_url,
            sha256=sha256,
            archive_bytes=size,
            fetched_at=datetime.now(UTC).isoformat(timespec="seconds"),
        )
        (model_root / PROVENANCE_FILE).write_text(provenance.to_json())
        _replace_dir(model_root, dest, Path(work) / "previous")
    return provenance


def _still_valid(model_dir: Path) -> bool:
    try:
        verify_signature(model_dir)
    except SqlRunnerError:
        return False
    return True


def download(url: str, target: Path, *, timeout: float, progress: bool) -> tuple[str, str, int]:
    """Stream `url` into `target`; returns (final URL after redirects, sha256 hex, bytes)."""
    resolve_host(url, timeout)
    request = urllib.request.Request(url, headers={"User-Agent": "sqlrunner-modelzoo"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise SqlRunnerError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SqlRunnerError(
            f"cannot reach {url}: {reason} (offline? the demo falls back to the stand-in; "
            "`--url` takes a mirror)"
        ) from exc
    with response, target.open("wb") as out:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > MAX_ARCHIVE_BYTES:
            raise SqlRunnerError(f"{url} is {total} bytes, over the {MAX_ARCHIVE_BYTES} limit")
        digest, size = _copy_hashing(response, out, url, total, progress)
        if total is not None and size != total:
            raise SqlRunnerError(f"download of {url} stopped after {size} of {total} bytes")
        return str(response.geturl()), digest, size


def _copy_hashing(
    source: BinaryIO, out: BinaryIO, url: str, total: int | None, progress: bool
) -> tuple[str, int]:
    from rich.console import Console
    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

    digest = hashlib.sha256()
    size = 0
    console = Console(stderr=True)
    with Progress(
        *Progress.get_default_columns(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
        disable=not progress,
        transient=True,
    ) as bar:
        task = bar.add_task("downloading model", total=total)
        while True:
            try:
                chunk = source.read(_CHUNK)
            except OSError as exc:
                raise SqlRunnerError(f"download of {url} failed after {size} bytes: {exc}") from exc
            if not chunk:
                break
            size += len(chunk)
            if size > MAX_ARCHIVE_BYTES:
                raise SqlRunnerError(f"{url} is over the {MAX_ARCHIVE_BYTES}-byte limit")
            digest.update(chunk)
            out.write(chunk)
            bar.update(task, advance=len(chunk))
    return digest.hexdigest(), size


def extract_archive(archive: Path, dest: Path) -> None:
    """Extract a .tar(.gz) into `dest`, refusing members that could escape it."""
    dest.mkdir(parents=True)
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            members = tar.getmembers()
            _check_members(members, archive)
            tar.extractall(dest, members=members, filter="data")
    except tarfile.FilterError as exc:
        raise SqlRunnerError(f"{archive.name}: unsafe archive member refused: {exc}") from exc
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise SqlRunnerError(f"the download is not a readable .tar.gz archive: {exc}") from exc


def _check_members(members: list[tarfile.TarInfo], archive: Path) -> None:
    total = 0
    for member in members:
        path = PurePosixPath(member.name)
        if path.is_absolute() or ".." in path.parts:
            raise SqlRunnerError(
                f"{archive.name}: unsafe path {member.name!r} in the archive refused"
            )
        if not (member.isfile() or member.isdir()):
            raise SqlRunnerError(
                f"{archive.name}: member {member.name!r} is not a plain file or directory; refused"
            )
        total += member.size
        if total > MAX_EXTRACTED_BYTES:
            raise SqlRunnerError(f"{archive.name} unpacks to over {MAX_EXTRACTED_BYTES} bytes")


def find_savedmodel_root(extracted: Path, url: str) -> Path:
    """The directory holding saved_model.pb: the archive's top level or its one folder."""
    if (extracted / "saved_model.pb").is_file():
        return extracted
    candidates = sorted(p.parent for p in extracted.glob("*/saved_model.pb"))
    if len(candidates) == 1:
        return candidates[0]
    raise SqlRunnerError(f"the archive from {url} holds no SavedModel (saved_model.pb missing)")


def _replace_dir(new: Path, dest: Path, backup: Path) -> None:
    # Two renames on one filesystem: dest is never left half-written.
    if dest.exists():
        dest.rename(backup)
    try:
        new.rename(dest)
    except OSError:
        if backup.exists():
            backup.rename(dest)
        raise
    shutil.rmtree(backup, ignore_errors=True)
