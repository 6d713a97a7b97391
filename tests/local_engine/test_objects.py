"""An object table is listed once per statement, and its MD5s are computed only when read.

`md5_hash` of a local file costs a full read of it, so a query that cannot read the
column (the incremental predict.sql, COUNT(*)) hashes nothing, while `*`, the column
by name and a whole-row value still get the real MD5. Every reference to the table
in one statement sees the same listing.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_engine.engine import LocalEngine
from local_engine.storage import LocalObjectStore, ObjectInfo

BUCKET = "listing"
FILES = {"a.jpg": b"\xff\xd8\xff first", "b.png": b"\x89PNG\r\n\x1a\n second", "c.txt": b"third"}


class RecordingStore:
    """The local store, recording list and md5 calls."""

    def __init__(self, root: Path) -> None:
        self.inner = LocalObjectStore(root)
        self.listed: list[str] = []
        self.hashed: list[str] = []

    def list(self, pattern: str) -> Iterator[ObjectInfo]:
        self.listed.append(pattern)
        return self.inner.list(pattern)

    def read(self, uri: str) -> bytes:
        return self.inner.read(uri)

    def md5(self, info: ObjectInfo) -> str:
        self.hashed.append(info.uri)
        return self.inner.md5(info)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "lake"
    bucket = home / "gcs" / BUCKET
    bucket.mkdir(parents=True)
    for name, data in FILES.items():
        (bucket / name).write_bytes(data)
    with LocalEngine(home, progress=False) as engine:
        engine.create_connection("us.conn")
        engine.execute(
            "CREATE SCHEMA ds;"
            "CREATE EXTERNAL TABLE ds.objects WITH CONNECTION `us.conn`"
            f" OPTIONS(object_metadata = 'SIMPLE', uris = ['gs://{BUCKET}/*']);"
            "CREATE TABLE ds.seen (uri STRING);"
        )
    return home


@pytest.fixture
def store(home: Path) -> RecordingStore:
    return RecordingStore(home / "gcs")


@pytest.fixture
def engine(home: Path, store: RecordingStore) -> Iterator[LocalEngine]:
    with LocalEngine(home, progress=False, store=store) as engine:
        yield engine


def _md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def _expected() -> dict[str, str]:
    return {f"gs://{BUCKET}/{name}": _md5(data) for name, data in FILES.items()}


def test_one_listing_for_every_reference_in_a_statement(
    engine: LocalEngine, store: RecordingStore
) -> None:
    table = engine.execute(
        "SELECT (SELECT COUNT(*) FROM ds.objects) AS n, o.uri FROM ds.objects AS o"
        " WHERE o.uri NOT IN (SELECT uri FROM ds.objects WHERE content_type = 'text/plain')"
        " ORDER BY o.uri"
    ).table
    assert table is not None
    assert table.column("uri").to_pylist() == [f"gs://{BUCKET}/a.jpg", f"gs://{BUCKET}/b.png"]
    assert table.column("n").to_pylist() == [3, 3]
    assert store.listed == [f"gs://{BUCKET}/*"]
    engine.execute("SELECT COUNT(*) FROM ds.objects")
    assert len(store.listed) == 2  # the next statement lists again, so new files show up


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT COUNT(*) FROM ds.objects WHERE size > (SELECT MIN(size) FROM ds.objects)", 2),
        (
            "SELECT COUNT(*) FROM ds.objects WHERE size BETWEEN 0 AND (SELECT MAX(size) FROM ds.objects)",
            3,
        ),
        ("SELECT COUNT(*) FROM ds.objects WHERE size IN (SELECT size FROM ds.objects)", 3),
    ],
)
def test_comparisons_with_an_object_table_subquery_read_it_once(
    engine: LocalEngine, store: RecordingStore, query: str, expected: object
) -> None:
    """BigQuery's NaN rules repeat a comparison's operands: a subquery over an object
    table (a stream DuckDB can read once) must still run, from one listing."""
    table = engine.execute(query).table
    assert table is not None
    assert table.column(0).to_pylist() == [expected]
    assert store.listed == [f"gs://{BUCKET}/*"]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT uri, size FROM ds.objects",
        "SELECT COUNT(*) AS n FROM ds.objects",
        "DELETE FROM ds.seen AS s WHERE NOT EXISTS"
        " (SELECT 1 FROM ds.objects AS o WHERE o.uri = s.uri)",
        "INSERT INTO ds.seen SELECT uri FROM ds.objects WHERE uri NOT IN (SELECT uri FROM ds.seen)",
    ],
)
def test_queries_that_cannot_read_md5_hash_no_file(
    engine: LocalEngine, store: RecordingStore, query: str
) -> None:
    engine.execute(query)
    assert store.hashed == []


@pytest.mark.parametrize(
    "query",
    [
        "SELECT uri, md5_hash FROM ds.objects",
        "SELECT o.uri, o.md5_hash FROM ds.objects AS o",
        "SELECT * FROM ds.objects",
        "SELECT o.* FROM ds.objects AS o",
        "SELECT uri, md5 AS md5_hash FROM (SELECT uri, md5_hash AS md5 FROM ds.objects)",
        "SELECT o.uri, o.md5_hash FROM ds.seen AS s RIGHT JOIN ds.objects AS o ON s.uri = o.uri",
    ],
)
def test_queries_reading_md5_hash_get_the_real_md5(engine: LocalEngine, query: str) -> None:
    table = engine.execute(query).table
    assert table is not None
    rows = table.select(["uri", "md5_hash"]).to_pylist()
    assert {row["uri"]: row["md5_hash"] for row in rows} == _expected()


def test_a_whole_row_value_carries_the_md5(engine: LocalEngine) -> None:
    table = engine.execute("SELECT TO_JSON_STRING(o) AS j FROM ds.objects AS o").table
    assert table is not None
    text = " ".join(table.column("j").to_pylist())
    assert all(md5 in text for md5 in _expected().values())


def test_md5_hash_of_another_table_does_not_hash_objects(
    engine: LocalEngine, store: RecordingStore
) -> None:
    engine.execute(f"CREATE TABLE ds.sums AS SELECT 'gs://{BUCKET}/a.jpg' AS uri, 'y' AS md5_hash")
    table = engine.execute(
        "SELECT s.md5_hash, o.size FROM ds.sums AS s JOIN ds.objects AS o ON s.uri = o.uri"
    ).table
    assert table is not None
    assert table.to_pylist() == [{"md5_hash": "y", "size": len(FILES["a.jpg"])}]
    assert store.hashed == []
