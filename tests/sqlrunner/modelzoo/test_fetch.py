"""`fetch` against a local HTTP server on 127.0.0.1 serving archives made from the tiny model."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from pipeline.errors import SqlRunnerError
from sqlrunner.modelzoo.fetch import PROVENANCE_FILE, fetch_model, read_provenance
from sqlrunner.modelzoo.marker import MARKER_FILE
from sqlrunner.modelzoo.signature import read_signature
from tests.support.loopback_http import QuietHandler, serve


class _Archives(QuietHandler):
    routes: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        if self.path.startswith("/redirect/"):
            self.send_response(302)
            self.send_header("Location", "/" + self.path.removeprefix("/redirect/"))
            self.end_headers()
            return
        body = self.routes.get(self.path)
        if body is None:
            self.send_error(404, "Not Found")
            return
        self.reply(body)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with serve(_Archives) as url:
        yield url


def _tar_gz(entries: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _model_archive(model_dir: Path, *, prefix: str = "", skip: tuple[str, ...] = ()) -> bytes:
    entries: list[tuple[tarfile.TarInfo, bytes | None]] = []
    for path in sorted(model_dir.rglob("*")):
        name = path.relative_to(model_dir).as_posix()
        if name in skip:
            continue
        info = tarfile.TarInfo(prefix + name)
        if path.is_dir():
            info.type = tarfile.DIRTYPE
            entries.append((info, None))
        else:
            data = path.read_bytes()
            info.size = len(data)
            entries.append((info, data))
    return _tar_gz(entries)


@pytest.fixture(scope="module")
def archive(tiny_savedmodel: Path) -> bytes:
    # What Kaggle serves: the SavedModel's files at the archive's top level (no marker file).
    return _model_archive(tiny_savedmodel, skip=(MARKER_FILE,))


def test_fetch_downloads_verifies_and_records_provenance(
    server: str, archive: bytes, tmp_path: Path
) -> None:
    _Archives.routes["/model.tar.gz"] = archive
    dest = tmp_path / "models" / "resnet_50"
    url = f"{server}/redirect/model.tar.gz"
    provenance = fetch_model(dest, url, progress=False)

    assert (dest / "saved_model.pb").is_file()
    assert (dest / "variables" / "variables.index").is_file()
    inputs, outputs = read_signature(dest)
    assert (inputs[0].name, outputs[0].name) == ("input_1", "activation_49")
    assert provenance.sha256 == hashlib.sha256(archive).hexdigest()
    assert provenance.source_url == url
    assert provenance.final_url == f"{server}/model.tar.gz"
    assert provenance.archive_bytes == len(archive)
    on_disk = json.loads((dest / PROVENANCE_FILE).read_text())
    assert on_disk["sha256"] == provenance.sha256
    assert on_disk["handle"] == "tensorflow/resnet_50/classification/1"
    assert read_provenance(dest) == provenance
    # Nothing but the model is left beside it.
    assert sorted(p.name for p in dest.parent.iterdir()) == ["resnet_50"]


def test_fetch_accepts_an_archive_with_one_top_folder_and_replaces_only_with_force(
    server: str, tiny_savedmodel: Path, tmp_path: Path
) -> None:
    _Archives.routes["/nested.tar.gz"] = _model_archive(
        tiny_savedmodel, prefix="resnet_50/", skip=(MARKER_FILE,)
    )
    dest = tmp_path / "resnet_50"
    first = fetch_model(dest, f"{server}/nested.tar.gz", progress=False)
    assert (dest / "saved_model.pb").is_file()
    # Present and verified: kept as it is, even though the URL now 404s.
    assert fetch_model(dest, f"{server}/gone.tar.gz", progress=False) == first
    with pytest.raises(SqlRunnerError, match="HTTP 404"):
        fetch_model(dest, f"{server}/gone.tar.gz", progress=False, force=True)
    assert read_provenance(dest) == first
    # A broken earlier download is replaced, not trusted.
    (dest / "saved_model.pb").write_bytes(b"truncated")
    again = fetch_model(dest, f"{server}/nested.tar.gz", progress=False)
    assert again.sha256 == first.sha256
    assert read_signature(dest)[0][0].name == "input_1"


def test_fetch_404_is_a_clear_error_and_leaves_nothing(server: str, tmp_path: Path) -> None:
    dest = tmp_path / "resnet_50"
    with pytest.raises(SqlRunnerError, match=r"download of .*/missing\.tar\.gz failed: HTTP 404"):
        fetch_model(dest, f"{server}/missing.tar.gz", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_fetch_refuses_a_file_that_is_not_an_archive(server: str, tmp_path: Path) -> None:
    _Archives.routes["/bad.tar.gz"] = b"<html>this is a login page, not a model</html>"
    with pytest.raises(SqlRunnerError, match=r"not a readable \.tar\.gz archive"):
        fetch_model(tmp_path / "resnet_50", f"{server}/bad.tar.gz", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_fetch_refuses_an_archive_without_a_savedmodel(server: str, tmp_path: Path) -> None:
    info = tarfile.TarInfo("README.txt")
    info.size = 5
    _Archives.routes["/empty.tar.gz"] = _tar_gz([(info, b"hello")])
    with pytest.raises(SqlRunnerError, match=r"holds no SavedModel \(saved_model.pb missing\)"):
        fetch_model(tmp_path / "resnet_50", f"{server}/empty.tar.gz", progress=False)


@pytest.mark.parametrize("name", ["../escaped.txt", "/tmp/absolute-escape.txt", "a/../../up.txt"])
def test_fetch_refuses_path_traversal(server: str, tmp_path: Path, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.size = 4
    _Archives.routes["/evil.tar.gz"] = _tar_gz([(info, b"evil")])
    dest = tmp_path / "inner" / "resnet_50"
    with pytest.raises(SqlRunnerError, match="unsafe path"):
        fetch_model(dest, f"{server}/evil.tar.gz", progress=False)
    assert not (tmp_path / "escaped.txt").exists()
    assert not (tmp_path / "inner" / "escaped.txt").exists()
    assert not Path("/tmp/absolute-escape.txt").exists()
    assert list((tmp_path / "inner").iterdir()) == []


def test_fetch_refuses_a_symlink_member(server: str, tmp_path: Path) -> None:
    link = tarfile.TarInfo("saved_model.pb")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    _Archives.routes["/link.tar.gz"] = _tar_gz([(link, None)])
    with pytest.raises(SqlRunnerError, match="not a plain file or directory"):
        fetch_model(tmp_path / "resnet_50", f"{server}/link.tar.gz", progress=False)


def test_fetch_refuses_a_model_with_the_wrong_signature(server: str, tmp_path: Path) -> None:
    import tensorflow as tf

    class Other(tf.Module):  # type: ignore[misc]
        @tf.function(input_signature=[tf.TensorSpec([None, 32], tf.float32, name="x")])
        def serve(self, x: tf.Tensor) -> dict[str, tf.Tensor]:
            return {"y": x * 2.0}

    other = Other()
    model_dir = tmp_path / "other"
    tf.saved_model.save(other, str(model_dir), signatures={"serving_default": other.serve})
    _Archives.routes["/other.tar.gz"] = _model_archive(model_dir)
    with pytest.raises(
        SqlRunnerError,
        match=r"input must be input_1 float32 \[-1, 224, 224, 3\], the model has x float32 \[-1, 32\]",
    ):
        fetch_model(tmp_path / "resnet_50", f"{server}/other.tar.gz", progress=False)
    assert not (tmp_path / "resnet_50").exists()


def test_fetch_cli_fails_fast_and_clearly_when_the_host_is_unreachable(tmp_path: Path) -> None:
    # Port 9 on loopback: nothing listens, the connection is refused at once.
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sqlrunner.modelzoo",
            "fetch",
            "--dest",
            str(tmp_path / "m"),
            "--url",
            "http://127.0.0.1:9/model.tar.gz",
            "--timeout",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: cannot reach http://127.0.0.1:9/model.tar.gz")
    assert time.monotonic() - started < 60
    assert not (tmp_path / "m").exists()


def test_fetch_refuses_a_url_without_a_host(tmp_path: Path) -> None:
    with pytest.raises(SqlRunnerError, match="is not an http\\(s\\) URL with a host"):
        fetch_model(tmp_path / "resnet_50", "models/resnet.tar.gz", progress=False)
