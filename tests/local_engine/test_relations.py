"""ML.PREDICT over an object table reads image bytes only for the rows its input query keeps.

The fused image feature's `data` travels through the input query as the object's uri;
the bytes are read after filters and joins (the incremental `NOT IN` / `NOT EXISTS`).
A store wrapper records every read, and the results are compared with the same query
over a plain table of the same bytes, which still carries the bytes through SQL.
"""

from __future__ import annotations

import gc
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sqlglot import exp, parse_one

from local_engine.engine import LocalEngine
from local_engine.errors import EngineError
from local_engine.names import TableName
from local_engine.objects import with_object_bytes
from local_engine.predict_sql import outer_needs_column, plan_input
from local_engine.storage import ObjectInfo, ObjectStore, open_store

BUCKET = "lazy-photos"
RESIZE = "ML.RESIZE_IMAGE(ML.DECODE_IMAGE({col}), 224, 224, FALSE) AS input_1"
NOT_IN = "uri NOT IN (SELECT uri FROM ds.done)"
NOT_EXISTS = "NOT EXISTS (SELECT 1 FROM ds.done AS d WHERE d.uri = o.uri)"
DONE = 5  # objects already predicted, listed in ds.done


class CountingStore:
    """An ObjectStore that records each read and can fail reading one object."""

    def __init__(self, inner: ObjectStore, fail: str | None = None) -> None:
        self.inner = inner
        self.fail = fail
        self.reads: list[str] = []
        self._lock = threading.Lock()

    def list(self, pattern: str) -> Iterator[ObjectInfo]:
        return self.inner.list(pattern)

    def md5(self, info: ObjectInfo) -> str:
        return self.inner.md5(info)

    def read(self, uri: str) -> bytes:
        with self._lock:
            self.reads.append(uri)
        if uri == self.fail:
            raise PermissionError(13, "Permission denied", uri)
        return self.inner.read(uri)


def _object_names(sample_images: Path) -> list[tuple[Path, str]]:
    """Twelve objects: every sample photo, then the first ones again under other names."""
    photos = sorted(sample_images.iterdir())
    names = [(photo, f"imgs/{photo.name}") for photo in photos]
    names += [(photo, f"imgs/again/{photo.name}") for photo in photos[: 12 - len(photos)]]
    return names


@pytest.fixture(scope="module")
def lake(
    tmp_path_factory: pytest.TempPathFactory, tiny_savedmodel: Path, sample_images: Path
) -> Path:
    home = tmp_path_factory.mktemp("lazy") / "lake"
    bucket = home / "gcs" / BUCKET
    for photo, name in _object_names(sample_images):
        (bucket / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(photo, bucket / name)
    shutil.copytree(tiny_savedmodel, home / "gcs" / "lazy-models" / "tiny")
    with LocalEngine(home, progress=False) as engine:
        engine.create_connection("us.lake-connection")
        engine.execute(
            "CREATE SCHEMA ds;"
            "CREATE EXTERNAL TABLE ds.images WITH CONNECTION `us.lake-connection`"
            f" OPTIONS(object_metadata = 'SIMPLE', uris = ['gs://{BUCKET}/imgs/*']);"
            "CREATE MODEL ds.m OPTIONS(model_type = 'TENSORFLOW',"
            " model_path = 'gs://lazy-models/tiny/*');"
            f"CREATE TABLE ds.done AS SELECT uri FROM ds.images ORDER BY uri LIMIT {DONE};"
            "CREATE TABLE ds.blobs AS SELECT uri, generation, size, data FROM ds.images;"
        )
    return home


@pytest.fixture
def store(lake: Path) -> CountingStore:
    return CountingStore(open_store(lake))


@pytest.fixture
def engine(lake: Path, store: CountingStore) -> Iterator[LocalEngine]:
    with LocalEngine(lake, progress=False, store=store) as engine:
        yield engine


def _all_uris(lake: Path) -> list[str]:
    root = lake / "gcs" / BUCKET
    return sorted(f"gs://{BUCKET}/{p.relative_to(root).as_posix()}" for p in root.rglob("*.*"))


def _survivors(lake: Path) -> list[str]:
    return _all_uris(lake)[DONE:]


def _predict(engine: LocalEngine, query: str) -> pa.Table:
    table = engine.execute(f"SELECT * FROM ML.PREDICT(MODEL ds.m, ({query})) ORDER BY uri").table
    assert table is not None
    return table


def _bytes_path_reference(engine: LocalEngine) -> pa.Table:
    """The same prediction over a plain table's BYTES column, which SQL carries as bytes."""
    return _predict(
        engine,
        f"SELECT uri, generation, size, {RESIZE.format(col='data')} FROM ds.blobs AS o"
        f" WHERE {NOT_IN}",
    )


@pytest.mark.parametrize("condition", [NOT_IN, NOT_EXISTS], ids=["not-in", "not-exists"])
def test_filtered_input_reads_only_surviving_objects_and_predicts_as_before(
    engine: LocalEngine, store: CountingStore, lake: Path, condition: str
) -> None:
    table = _predict(
        engine,
        f"SELECT uri, generation, size, {RESIZE.format(col='data')} FROM ds.images AS o"
        f" WHERE {condition}",
    )
    assert sorted(store.reads) == _survivors(lake)
    reference = _bytes_path_reference(engine)
    assert table.schema.names == ["uri", "generation", "size", "input_1", "activation_49"]
    assert table.column("uri").to_pylist() == _survivors(lake)
    assert table.column("size").to_pylist() == reference.column("size").to_pylist()
    scores = np.array(table.column("activation_49").to_pylist())
    assert scores.shape == (len(_survivors(lake)), 1001)
    np.testing.assert_allclose(scores.sum(axis=1), 1.0, atol=1e-4)
    np.testing.assert_array_equal(scores, np.array(reference.column("activation_49").to_pylist()))
    assert table.column("input_1").to_pylist() == reference.column("input_1").to_pylist()


def test_anti_join_on_a_qualified_data_column_reads_only_survivors(
    engine: LocalEngine, store: CountingStore, lake: Path
) -> None:
    table = engine.execute(
        "SELECT o.uri, p.activation_49 FROM ML.PREDICT(MODEL ds.m, (SELECT o.uri,"
        f" {RESIZE.format(col='o.data')} FROM ds.images AS o LEFT JOIN ds.done AS d"
        " ON d.uri = o.uri WHERE d.uri IS NULL)) AS p JOIN ds.images AS o ON o.uri = p.uri"
        " ORDER BY o.uri"
    ).table
    assert table is not None
    assert sorted(store.reads) == _survivors(lake)
    assert table.column("uri").to_pylist() == _survivors(lake)
    np.testing.assert_array_equal(
        np.array(table.column("activation_49").to_pylist()),
        np.array(_bytes_path_reference(engine).column("activation_49").to_pylist()),
    )


def test_input_that_also_selects_data_keeps_carrying_the_bytes(
    engine: LocalEngine, lake: Path
) -> None:
    table = _predict(
        engine,
        f"SELECT uri, data, {RESIZE.format(col='data')} FROM ds.images WHERE {NOT_IN}",
    )
    root = lake / "gcs" / BUCKET
    expected = [
        (root / uri.removeprefix(f"gs://{BUCKET}/")).read_bytes() for uri in _survivors(lake)
    ]
    assert table.column("data").to_pylist() == expected
    np.testing.assert_array_equal(
        np.array(table.column("activation_49").to_pylist()),
        np.array(_bytes_path_reference(engine).column("activation_49").to_pylist()),
    )


def test_queries_that_need_no_bytes_read_none(
    engine: LocalEngine, store: CountingStore, lake: Path
) -> None:
    table = engine.execute(
        "SELECT o.uri, o.size FROM ds.images AS o JOIN ds.blobs AS b ON b.uri = o.uri"
        " WHERE LENGTH(b.data) > 0 AND o.uri NOT IN (SELECT uri FROM ds.done) ORDER BY o.uri"
    ).table
    assert table is not None
    assert table.column("uri").to_pylist() == _survivors(lake)
    assert store.reads == []
    sizes = engine.execute(
        "SELECT a.uri, LENGTH(a.data) AS n, b.size FROM ds.images AS a"
        " JOIN ds.images AS b ON a.uri = b.uri ORDER BY a.uri"
    ).table
    assert sizes is not None
    assert sizes.column("n").to_pylist() == sizes.column("size").to_pylist()
    assert sorted(store.reads) == _all_uris(lake)  # `a` read its bytes once each, `b` none


def test_a_failed_read_names_the_object_and_leaves_no_table(lake: Path) -> None:
    victim = _survivors(lake)[1]
    store = CountingStore(open_store(lake), fail=victim)
    with LocalEngine(lake, progress=False, store=store) as engine:
        with pytest.raises(EngineError, match=f"cannot read {victim}: .*Permission denied"):
            engine.execute(
                "CREATE TABLE ds.failed AS SELECT * FROM ML.PREDICT(MODEL ds.m,"
                f" (SELECT uri, {RESIZE.format(col='data')} FROM ds.images WHERE {NOT_IN}))"
            )
        assert engine.catalog.relation_kind(TableName("ds", "failed")) is None


def test_no_read_threads_outlive_a_statement_that_stops_early(engine: LocalEngine) -> None:
    table = engine.execute(
        "SELECT uri FROM ML.PREDICT(MODEL ds.m,"
        f" (SELECT uri, {RESIZE.format(col='data')} FROM ds.images)) LIMIT 1"
    ).table
    assert table is not None and table.num_rows == 1
    gc.collect()
    assert [t.name for t in threading.enumerate() if t.name.startswith("sqlrunner-read")] == []


def test_with_object_bytes_keeps_order_nulls_and_other_columns(lake: Path) -> None:
    uris = [*_all_uris(lake), None]
    batches = pa.RecordBatchReader.from_batches(
        pa.schema([("n", pa.int64()), ("src", pa.string())]),
        [pa.record_batch({"n": list(range(len(uris))), "src": uris})],
    )
    out = with_object_bytes(batches, open_store(lake), ["src"], fetch_rows=5).read_all()
    assert out.schema.field("src").type == pa.binary()
    assert out.column("n").to_pylist() == list(range(len(uris)))
    root = lake / "gcs" / BUCKET
    expected = [(root / u.removeprefix(f"gs://{BUCKET}/")).read_bytes() for u in uris[:-1]]
    assert out.column("src").to_pylist() == [*expected, None]


def _plan(sql: str, object_tables: set[str]) -> dict[str, tuple[str, bool]]:
    """{feature: (the SQL its source column is carried as, whether bytes come by uri)}."""
    predict = parse_one(f"SELECT * FROM ML.PREDICT(MODEL ds.m, ({sql}))", read="bigquery")
    node = predict.find(exp.Predict)
    assert node is not None
    plan = plan_input(
        node, ["input_1"], outer_needs_column(predict, node), lambda t: t.name in object_tables
    )
    carried = {
        p.alias_or_name: p.this.sql("bigquery") for p in plan.query.expressions if p.alias_or_name
    }
    return {f: (carried[p.source_column], p.bytes_from_uri) for f, p in plan.fused.items()}


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (f"SELECT uri, {RESIZE.format(col='data')} FROM ds.images", ("uri", True)),
        (f"SELECT {RESIZE.format(col='o.data')} FROM ds.images AS o", ("o.uri", True)),
        (f"SELECT uri, {RESIZE.format(col='data')} FROM ds.blobs", ("data", False)),
        (f"SELECT DISTINCT {RESIZE.format(col='data')} FROM ds.images", ("data", False)),
        (f"SELECT data, {RESIZE.format(col='data')} FROM ds.images", ("data", False)),
        (
            f"SELECT uri, {RESIZE.format(col='data')} FROM ds.images WHERE LENGTH(data) > 9",
            ("data", False),
        ),
        (
            f"SELECT i.uri, {RESIZE.format(col='data')} FROM ds.images AS i JOIN ds.blobs AS b"
            " ON b.uri = i.uri",
            ("data", False),  # unqualified over a join: whose data it is is not decided here
        ),
        (
            f"SELECT uri, {RESIZE.format(col='data')} FROM (SELECT uri, data FROM ds.images)",
            ("data", False),
        ),
    ],
)
def test_plan_carries_the_uri_only_for_a_plain_object_table_data_column(
    sql: str, expected: tuple[str, bool]
) -> None:
    assert _plan(sql, {"images"}) == {"input_1": expected}


def test_filtered_predict_reads_survivors_through_cloud_storage(
    emulator: str, tmp_path: Path, lake: Path, tiny_savedmodel: Path
) -> None:
    from google.cloud import storage

    bucket = storage.Client().create_bucket(BUCKET)
    root = lake / "gcs" / BUCKET
    for uri in _all_uris(lake):
        name = uri.removeprefix(f"gs://{BUCKET}/")
        bucket.blob(name).upload_from_filename(str(root / name))
    for path in sorted(tiny_savedmodel.rglob("*")):
        if path.is_file():
            bucket.blob(
                f"model/{path.relative_to(tiny_savedmodel).as_posix()}"
            ).upload_from_filename(str(path))
    store = CountingStore(open_store(tmp_path, use_gcs=True))
    with LocalEngine(tmp_path / "gcs-lake", progress=False, store=store) as engine:
        engine.create_connection("us.lake-connection")
        engine.execute(
            "CREATE SCHEMA ds;"
            "CREATE EXTERNAL TABLE ds.images WITH CONNECTION `us.lake-connection`"
            f" OPTIONS(object_metadata = 'SIMPLE', uris = ['gs://{BUCKET}/imgs/*']);"
            f"CREATE MODEL ds.m OPTIONS(model_type = 'TENSORFLOW', model_path = 'gs://{BUCKET}/model/*');"
            f"CREATE TABLE ds.done AS SELECT uri FROM ds.images ORDER BY uri LIMIT {DONE};"
        )
        store.reads.clear()
        table = _predict(
            engine, f"SELECT uri, {RESIZE.format(col='data')} FROM ds.images WHERE {NOT_IN}"
        )
    assert sorted(store.reads) == _survivors(lake)
    with LocalEngine(lake, progress=False) as local:
        reference = _bytes_path_reference(local)
    assert table.column("uri").to_pylist() == _survivors(lake)
    np.testing.assert_allclose(
        np.array(table.column("activation_49").to_pylist()),
        np.array(reference.column("activation_49").to_pylist()),
        atol=1e-6,
    )
