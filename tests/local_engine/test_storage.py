"""The lake's object stores: HOME/gcs files, and Cloud Storage through gcp-storage-emulator."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from local_engine.engine import LocalEngine
from local_engine.errors import EngineError
from local_engine.storage import GcsObjectStore, LocalObjectStore, UriPattern, open_store
from sqlrunner.cli import main


def _png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (10, 20, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 20, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def bucket_root(tmp_path: Path) -> Path:
    root = tmp_path / "gcs"
    files = {
        "bkt/vision/a.jpg": _jpeg_bytes(),
        "bkt/vision/deep/down/b.jpg": _jpeg_bytes(),
        "bkt/vision/png-named.jpg": _png_bytes(),
        "bkt/vision/notes.txt": b"plain text",
        "bkt/vision/blob.jpgx": b"\x00\x01",
        "bkt/other/c.jpg": _jpeg_bytes(),
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def test_one_star_crosses_slashes_and_suffix_filters(bucket_root: Path) -> None:
    store = LocalObjectStore(bucket_root)
    uris = sorted(info.uri for info in store.list("gs://bkt/vision/*.jpg"))
    assert uris == [
        "gs://bkt/vision/a.jpg",
        "gs://bkt/vision/deep/down/b.jpg",
        "gs://bkt/vision/png-named.jpg",
    ]


def test_bucket_wide_star_and_exact_object(bucket_root: Path) -> None:
    store = LocalObjectStore(bucket_root)
    assert len(list(store.list("gs://bkt/*"))) == 6
    exact = list(store.list("gs://bkt/other/c.jpg"))
    assert [info.uri for info in exact] == ["gs://bkt/other/c.jpg"]
    assert list(store.list("gs://bkt/other/missing.jpg")) == []
    assert list(store.list("gs://no-such-bucket/*")) == []


def test_object_info_fields(bucket_root: Path) -> None:
    store = LocalObjectStore(bucket_root)
    infos = {info.uri: info for info in store.list("gs://bkt/vision/*")}
    data = (bucket_root / "bkt/vision/a.jpg").read_bytes()
    a = infos["gs://bkt/vision/a.jpg"]
    assert a.size == len(data)
    # A full read, so the listing leaves it to md5(), which only queries using it call.
    assert a.md5_hash is None
    assert store.md5(a) == base64.b64encode(hashlib.md5(data).digest()).decode()
    assert a.updated.utcoffset() is not None and a.updated.utcoffset().total_seconds() == 0
    assert a.generation > 0
    assert a.metadata == []
    # Content type comes from the bytes first, then the extension.
    assert a.content_type == "image/jpeg"
    assert infos["gs://bkt/vision/png-named.jpg"].content_type == "image/png"
    assert infos["gs://bkt/vision/notes.txt"].content_type == "text/plain"
    assert infos["gs://bkt/vision/blob.jpgx"].content_type == "application/octet-stream"


def test_read_and_missing_object_names_the_uri(bucket_root: Path) -> None:
    store = LocalObjectStore(bucket_root)
    assert store.read("gs://bkt/vision/notes.txt") == b"plain text"
    with pytest.raises(EngineError, match=r"gs://bkt/vision/nope\.jpg"):
        store.read("gs://bkt/vision/nope.jpg")


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("gs://bkt/a*/b*.jpg", "only one"),
        ("s3://bkt/a.jpg", "must start with gs://"),
        ("gs:///a.jpg", "does not name a bucket"),
        ("gs://bkt/../etc/passwd", r"'\.\.'"),
    ],
)
def test_bad_patterns_are_refused(pattern: str, message: str) -> None:
    with pytest.raises(EngineError, match=message):
        UriPattern.parse(pattern)


def test_open_store_picks_gcs_when_emulator_env_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    assert isinstance(open_store(tmp_path), LocalObjectStore)
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", "http://127.0.0.1:9")
    assert isinstance(open_store(tmp_path), GcsObjectStore)


def _upload(files: dict[str, tuple[bytes, str]]) -> None:
    from google.cloud import storage

    client = storage.Client()
    bucket = client.create_bucket("emu-bucket")
    for name, (data, content_type) in files.items():
        blob = bucket.blob(name)
        blob.metadata = {"origin": "test"}
        blob.upload_from_string(data, content_type=content_type)


def test_gcs_store_lists_and_reads_through_the_emulator(emulator: str) -> None:
    jpeg = _jpeg_bytes()
    _upload(
        {
            "vision/a.jpg": (jpeg, "image/jpeg"),
            "vision/deep/b.jpg": (jpeg, "image/jpeg"),
            "vision/c.png": (_png_bytes(), "image/png"),
        }
    )
    store = GcsObjectStore()
    infos = list(store.list("gs://emu-bucket/vision/*.jpg"))
    assert sorted(info.uri for info in infos) == [
        "gs://emu-bucket/vision/a.jpg",
        "gs://emu-bucket/vision/deep/b.jpg",
    ]
    first = next(info for info in infos if info.uri.endswith("a.jpg"))
    assert first.size == len(jpeg)
    assert first.content_type == "image/jpeg"
    assert first.md5_hash == base64.b64encode(hashlib.md5(jpeg).digest()).decode()
    assert first.metadata == [("origin", "test")]
    assert store.read("gs://emu-bucket/vision/a.jpg") == jpeg
    with pytest.raises(EngineError, match=r"gs://emu-bucket/vision/zzz\.jpg"):
        store.read("gs://emu-bucket/vision/zzz.jpg")


def test_engine_object_table_over_the_emulator(emulator: str, tmp_path: Path) -> None:
    jpeg = _jpeg_bytes()
    _upload({"imgs/x.jpg": (jpeg, "image/jpeg"), "imgs/y.jpg": (jpeg, "image/jpeg")})
    with LocalEngine(tmp_path / "lake") as engine:
        assert engine.use_gcs
        engine.create_connection("us.lake-connection")
        result = engine.execute(
            "CREATE SCHEMA ds;"
            "CREATE EXTERNAL TABLE ds.objs WITH CONNECTION `us.lake-connection`"
            " OPTIONS(object_metadata = 'SIMPLE', uris = ['gs://emu-bucket/imgs/*']);"
            "SELECT uri, size, data FROM ds.objs ORDER BY uri"
        )
    assert result.table is not None
    assert result.table.to_pylist() == [
        {"uri": "gs://emu-bucket/imgs/x.jpg", "size": len(jpeg), "data": jpeg},
        {"uri": "gs://emu-bucket/imgs/y.jpg", "size": len(jpeg), "data": jpeg},
    ]
    # Nothing was written to HOME/gcs: the objects came from the emulator.
    assert list((tmp_path / "lake" / "gcs").iterdir()) == []


def test_query_command_with_gcs_flag(
    emulator: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _upload({"imgs/x.jpg": (_jpeg_bytes(), "image/jpeg")})
    home = str(tmp_path / "lake")
    assert main(["connection", "create", "us.lake-connection", "--home", home]) == 0
    code = main(
        [
            "query",
            "--home",
            home,
            "--gcs",
            "--format",
            "json",
            "CREATE SCHEMA ds; CREATE EXTERNAL TABLE ds.o WITH CONNECTION `us.lake-connection`"
            " OPTIONS(object_metadata = 'SIMPLE', uris = ['gs://emu-bucket/*.jpg']);"
            " SELECT uri, content_type FROM ds.o",
        ]
    )
    out = capsys.readouterr().out.splitlines()[-1]
    assert code == 0
    assert json.loads(out) == [{"uri": "gs://emu-bucket/imgs/x.jpg", "content_type": "image/jpeg"}]
