"""A statement that fails half-way leaves the lake exactly as it was: catalog, tables, files.

Each case runs one failing statement over every kind of existing relation and compares a
snapshot of the whole lake (every DuckDB table, the engine's own catalog tables included,
and every file under HOME but the database itself) before and after.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_engine.engine import LocalEngine
from local_engine.errors import EngineError
from tests.support.ml_imageset import photo_like_jpeg

CONNECTION = "us.lake-connection"
IMAGES = 40  # more than one ML.PREDICT batch (32), the last one corrupt
PREDICT_INPUT = (
    "ML.PREDICT(MODEL ds.m, (SELECT uri, ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 224, 224, FALSE)"
    " AS input_1 FROM ds.images))"
)
# An error only the 1,000th row raises, so DuckDB cannot fold it away while planning.
FAIL_AT_1000 = "IF(id = 1000, CAST(CONCAT('not a number ', CAST(id AS STRING)) AS INT64), id)"

Snapshot = dict[str, object]


def snapshot(engine: LocalEngine) -> Snapshot:
    tables = engine.con.execute(
        "SELECT table_schema, table_name, table_type FROM information_schema.tables ORDER BY ALL"
    ).fetchall()
    state: Snapshot = {"relations": tables}
    for schema, name, kind in tables:
        rows = engine.con.execute(f'SELECT * FROM "{schema}"."{name}"').fetchall()
        state[f"{schema}.{name}"] = sorted(map(repr, rows))
        if kind == "VIEW":
            state[f"{schema}.{name} sql"] = engine.con.execute(
                "SELECT sql FROM duckdb_views() WHERE schema_name = ? AND view_name = ?",
                [schema, name],
            ).fetchall()
    files = {}
    for path in sorted(engine.home.rglob("*")):
        if path.is_file() and not path.name.startswith("warehouse.duckdb"):
            files[str(path.relative_to(engine.home))] = hashlib.sha256(
                path.read_bytes()
            ).hexdigest()
    state["files"] = files
    return state


@pytest.fixture(scope="module")
def built_lake(tmp_path_factory: pytest.TempPathFactory, tiny_savedmodel: Path) -> Path:
    """One lake of every kind of relation, a model among them; each test gets a copy."""
    home = tmp_path_factory.mktemp("atomicity") / "lake"
    images = home / "gcs" / "bkt" / "images"
    images.mkdir(parents=True)
    for index in range(IMAGES - 1):
        (images / f"{index:03d}.jpg").write_bytes(photo_like_jpeg(48, 40, seed=index))
    shutil.copytree(tiny_savedmodel, home / "gcs" / "bkt" / "model")
    with LocalEngine(home, progress=False) as engine:
        engine.create_connection(CONNECTION)
        engine.execute(
            "CREATE SCHEMA ds;"
            f" CREATE EXTERNAL TABLE ds.images WITH CONNECTION `{CONNECTION}`"
            " OPTIONS (object_metadata = 'SIMPLE', uris = ['gs://bkt/images/*']);"
            " CREATE MODEL ds.m OPTIONS (model_type = 'TENSORFLOW', model_path = 'gs://bkt/model/*');"
            " CREATE TABLE ds.t AS SELECT id, CAST(id AS STRING) AS name"
            "  FROM UNNEST(GENERATE_ARRAY(1, 3000)) AS id;"
            " CREATE VIEW ds.v AS SELECT id FROM ds.t WHERE id < 10;"
            f" CREATE TABLE ds.predictions AS SELECT uri FROM {PREDICT_INPUT}"
        )
    # The last object of the next ML.PREDICT cannot be decoded.
    (images / f"{IMAGES - 1:03d}.jpg").write_bytes(photo_like_jpeg(48, 40)[:300])
    return home


@pytest.fixture
def engine(built_lake: Path, tmp_path: Path) -> Iterator[LocalEngine]:
    home = tmp_path / "lake"
    shutil.copytree(built_lake, home)
    with LocalEngine(home, progress=False) as engine:
        yield engine


def assert_fails_and_changes_nothing(engine: LocalEngine, sql: str, message: str) -> None:
    before = snapshot(engine)
    with pytest.raises(EngineError, match=message):
        engine.execute(sql)
    assert snapshot(engine) == before
    engine.close()
    with LocalEngine(engine.home, progress=False) as reopened:
        assert snapshot(reopened) == before


BAD_SELECT = f"SELECT {FAIL_AT_1000} AS id FROM ds.t"


@pytest.mark.parametrize("target", ["ds.images", "ds.t", "ds.v", "ds.predictions", "ds.new"])
def test_create_or_replace_table_as_a_failing_select(engine: LocalEngine, target: str) -> None:
    # DuckDB refuses to replace a view by a table before running the query; fine too.
    assert_fails_and_changes_nothing(
        engine,
        f"CREATE OR REPLACE TABLE {target} AS {BAD_SELECT}",
        "not a number 1000" if target != "ds.v" else "type View",
    )


@pytest.mark.parametrize("target", ["ds.images", "ds.t", "ds.v"])
def test_create_or_replace_view_that_cannot_bind(engine: LocalEngine, target: str) -> None:
    assert_fails_and_changes_nothing(
        engine, f"CREATE OR REPLACE VIEW {target} AS SELECT * FROM ds.missing", "missing"
    )


@pytest.mark.parametrize("target", ["ds.t", "ds.predictions", "ds.new"])
def test_create_table_as_ml_predict_failing_on_its_last_batch(
    engine: LocalEngine, target: str
) -> None:
    assert_fails_and_changes_nothing(
        engine,
        f"CREATE OR REPLACE TABLE {target} AS SELECT uri FROM {PREDICT_INPUT}",
        rf"gs://bkt/images/{IMAGES - 1:03d}\.jpg",
    )


def test_insert_from_ml_predict_failing_on_its_last_batch(engine: LocalEngine) -> None:
    assert_fails_and_changes_nothing(
        engine,
        f"INSERT INTO ds.predictions (uri) SELECT uri FROM {PREDICT_INPUT}",
        rf"gs://bkt/images/{IMAGES - 1:03d}\.jpg",
    )


def test_create_or_replace_model_with_a_bad_path(engine: LocalEngine) -> None:
    assert_fails_and_changes_nothing(
        engine,
        "CREATE OR REPLACE MODEL ds.m"
        " OPTIONS (model_type = 'TENSORFLOW', model_path = 'gs://bkt/no-model/*')",
        r"gs://bkt/no-model/\*",
    )


def test_create_or_replace_model_of_the_wrong_type(engine: LocalEngine) -> None:
    assert_fails_and_changes_nothing(
        engine,
        "CREATE OR REPLACE MODEL ds.m"
        " OPTIONS (model_type = 'TENSORFLOW_LITE', model_path = 'gs://bkt/model/*')",
        r"needs exactly one \.tflite file",
    )


@pytest.mark.parametrize(
    "sql",
    [
        f"INSERT INTO ds.t (id, name) SELECT {FAIL_AT_1000}, 'again' FROM ds.t",
        f"UPDATE ds.t SET id = {FAIL_AT_1000} + 1, name = 'changed' WHERE TRUE",
        f"DELETE FROM ds.t WHERE {FAIL_AT_1000} > 0",
        "MERGE ds.t AS target USING ds.t AS source ON target.id = source.id"
        f" WHEN MATCHED THEN UPDATE SET id = {FAIL_AT_1000.replace('id', 'source.id')}",
    ],
    ids=["insert", "update", "delete", "merge"],
)
def test_dml_failing_on_its_1000th_row(engine: LocalEngine, sql: str) -> None:
    assert_fails_and_changes_nothing(engine, sql, "not a number 1000")


def test_a_script_keeps_what_finished_before_the_failing_statement(engine: LocalEngine) -> None:
    engine.execute("CREATE TABLE ds.kept AS SELECT 1 AS id")
    after_first = snapshot(engine)
    with pytest.raises(EngineError, match=r"statement 2 .*not a number 1000"):
        engine.execute(
            f"DELETE FROM ds.kept WHERE TRUE; CREATE OR REPLACE TABLE ds.t AS {BAD_SELECT}"
        )
    state = snapshot(engine)
    assert state["ds.kept"] == [] and after_first["ds.kept"] == ["(1,)"]
    assert state["ds.t"] == after_first["ds.t"]
