"""The engine's SQL side without models: schemas, object tables, transpiling, errors, transactions."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from PIL import Image
from sqlglot import exp

from local_engine.dialect import DIALECT
from local_engine.engine import LocalEngine
from local_engine.errors import EngineError
from local_engine.names import TableName
from local_engine.statements import split_script

OBJECT_TABLE = """
CREATE EXTERNAL TABLE ds.images
WITH CONNECTION `us.lake-connection`
OPTIONS(object_metadata = 'SIMPLE', uris = ['gs://bkt/pics/*.jpg', 'gs://bkt/more/*'])
"""


def _jpeg(color: tuple[int, int, int], size: tuple[int, int] = (8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "lake"
    for name, data in {
        "bkt/pics/a.jpg": _jpeg((255, 0, 0)),
        "bkt/pics/sub/b.jpg": _jpeg((0, 255, 0), (5, 7)),
        "bkt/pics/skip.png": b"not matched",
        "bkt/more/c.bin": b"\x00\x01\x02",
    }.items():
        path = home / "gcs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return home


@pytest.fixture
def engine(home: Path) -> Iterator[LocalEngine]:
    with LocalEngine(home, progress=False) as engine:
        engine.create_connection("us.lake-connection")
        engine.execute("CREATE SCHEMA ds")
        yield engine


def _rows(engine: LocalEngine, sql: str) -> list[dict[str, object]]:
    table = engine.execute(sql).table
    assert table is not None
    return table.to_pylist()


# parsing


def test_script_splits_on_semicolons_outside_strings_and_drops_comments() -> None:
    statements = split_script(
        "-- leading comment\nCREATE SCHEMA a; /* block */ SELECT 'x;y' AS `c;d`;\n-- tail\n;"
    )
    assert [s.text for s in statements] == ["CREATE SCHEMA a", "SELECT 'x;y' AS `c;d`"]
    assert statements[1].label == "statement 2 (SELECT 'x;y' AS `c;d`)"


def test_with_connection_parses_into_a_create_not_a_command() -> None:
    tree = DIALECT.parse(OBJECT_TABLE)[0]
    assert isinstance(tree, exp.Create)
    connection = tree.find(exp.RemoteWithConnectionModelProperty)
    assert connection is not None
    assert [part.name for part in connection.this.parts] == ["us", "lake-connection"]
    assert tree.find(exp.ExternalProperty) is not None


def test_syntax_error_names_the_statement() -> None:
    with pytest.raises(EngineError, match=r"statement 2: syntax error"):
        split_script("SELECT 1; SELECT FROM WHERE")


# schemas


def test_create_schema_forms(engine: LocalEngine) -> None:
    engine.execute(
        "CREATE SCHEMA local-lake.two; CREATE SCHEMA `local-lake.three`;"
        " CREATE SCHEMA IF NOT EXISTS ds; CREATE SCHEMA `four` OPTIONS(location = 'US')"
    )
    assert engine.catalog.dataset_exists("two")
    assert engine.catalog.dataset_exists("three")
    assert engine.catalog.dataset_exists("four")
    with pytest.raises(EngineError, match="dataset ds already exists"):
        engine.execute("CREATE SCHEMA ds")
    with pytest.raises(EngineError, match="names project 'Else_where', which must be"):
        engine.execute("CREATE SCHEMA `Else_where.five`")


def test_drop_schema_keeps_catalog_in_step(engine: LocalEngine) -> None:
    engine.execute(OBJECT_TABLE)
    with pytest.raises(EngineError, match="use CASCADE"):
        engine.execute("DROP SCHEMA ds")
    engine.execute("DROP SCHEMA ds CASCADE")
    assert not engine.catalog.dataset_exists("ds")
    assert engine.catalog.object_table(TableName("ds", "images")) is None


# object tables


def test_object_table_has_bigquerys_columns_and_star_leaves_out_data(engine: LocalEngine) -> None:
    engine.execute(OBJECT_TABLE)
    table = engine.execute("SELECT * FROM ds.images ORDER BY uri").table
    assert table is not None
    assert table.schema.names == [
        "uri",
        "generation",
        "content_type",
        "size",
        "md5_hash",
        "updated",
        "metadata",
    ]
    assert table.schema.field("generation").type == pa.int64()
    assert table.schema.field("size").type == pa.int64()
    assert pa.types.is_timestamp(table.schema.field("updated").type)
    assert table.schema.field("updated").type.tz == "UTC"
    metadata_type = table.schema.field("metadata").type
    assert pa.types.is_list(metadata_type)
    assert [f.name for f in metadata_type.value_type] == ["name", "value"]
    rows = table.to_pylist()
    assert [r["uri"] for r in rows] == [
        "gs://bkt/more/c.bin",
        "gs://bkt/pics/a.jpg",
        "gs://bkt/pics/sub/b.jpg",
    ]
    assert [r["content_type"] for r in rows] == [
        "application/octet-stream",
        "image/jpeg",
        "image/jpeg",
    ]


def test_data_pseudocolumn_holds_the_bytes(engine: LocalEngine, home: Path) -> None:
    engine.execute(OBJECT_TABLE)
    rows = _rows(
        engine,
        "SELECT i.uri, data, LENGTH(data) AS n FROM `local-lake.ds.images` AS i"
        " WHERE uri LIKE '%.jpg' ORDER BY i.uri",
    )
    expected = (home / "gcs/bkt/pics/a.jpg").read_bytes()
    assert rows[0] == {"uri": "gs://bkt/pics/a.jpg", "data": expected, "n": len(expected)}
    # With data referenced elsewhere, SELECT * still leaves it out.
    star = engine.execute("SELECT * FROM ds.images WHERE LENGTH(data) > 0").table
    assert star is not None and "data" not in star.schema.names
    qualified = engine.execute("SELECT ds.images.uri FROM ds.images ORDER BY 1").table
    assert qualified is not None and qualified.num_rows == 3


def test_new_files_show_up_without_recreating(engine: LocalEngine, home: Path) -> None:
    engine.execute(OBJECT_TABLE)
    assert _rows(engine, "SELECT COUNT(*) AS n FROM ds.images") == [{"n": 3}]
    time.sleep(0.01)
    (home / "gcs/bkt/pics/new.jpg").write_bytes(_jpeg((1, 2, 3)))
    assert _rows(engine, "SELECT COUNT(*) AS n FROM ds.images") == [{"n": 4}]


def test_object_table_ddl_rules(engine: LocalEngine) -> None:
    engine.execute(OBJECT_TABLE)
    with pytest.raises(EngineError, match=r"object table ds\.images already exists"):
        engine.execute(OBJECT_TABLE)
    engine.execute(OBJECT_TABLE.replace("EXTERNAL TABLE", "EXTERNAL TABLE IF NOT EXISTS"))
    engine.execute(
        "CREATE OR REPLACE EXTERNAL TABLE ds.images WITH CONNECTION `local-lake.us.lake-connection`"
        " OPTIONS(object_metadata = 'SIMPLE', uris = ['gs://bkt/more/*'])"
    )
    assert _rows(engine, "SELECT uri FROM ds.images") == [{"uri": "gs://bkt/more/c.bin"}]
    with pytest.raises(EngineError, match="read-only"):
        engine.execute("INSERT INTO ds.images (uri) VALUES ('x')")
    engine.execute("DROP EXTERNAL TABLE ds.images")
    with pytest.raises(EngineError, match="images does not exist"):
        engine.execute("SELECT * FROM ds.images")


def test_plain_table_over_an_object_table_name(engine: LocalEngine) -> None:
    engine.execute(OBJECT_TABLE)
    with pytest.raises(EngineError, match=r"object table ds\.images already exists"):
        engine.execute("CREATE TABLE ds.images AS SELECT 1 AS a")
    engine.execute("CREATE TABLE IF NOT EXISTS ds.images AS SELECT 1 AS a")
    assert engine.catalog.relation_kind(TableName("ds", "images")) == "object table"
    engine.execute("CREATE OR REPLACE TABLE ds.images AS SELECT 1 AS a")
    assert engine.catalog.relation_kind(TableName("ds", "images")) == "table"
    assert _rows(engine, "SELECT * FROM ds.images") == [{"a": 1}]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            "CREATE EXTERNAL TABLE ds.x WITH CONNECTION `us.nope`"
            " OPTIONS(object_metadata = 'SIMPLE', uris = ['gs://bkt/*'])",
            r"connection us\.nope not found; create it with `python -m sqlrunner connection create",
        ),
        (
            "CREATE EXTERNAL TABLE ds.x OPTIONS(object_metadata = 'SIMPLE', uris = ['gs://bkt/*'])",
            "needs WITH CONNECTION",
        ),
        (
            "CREATE EXTERNAL TABLE ds.x WITH CONNECTION `us.lake-connection`"
            " OPTIONS(format = 'CSV', uris = ['gs://bkt/*'])",
            r"only object tables \(object_metadata = 'SIMPLE'\) are supported",
        ),
        (
            "CREATE EXTERNAL TABLE ds.x WITH CONNECTION `us.lake-connection`"
            " OPTIONS(object_metadata = 'SIMPLE', uris = ['gs://bkt/*/*'])",
            "only one",
        ),
        (
            "CREATE EXTERNAL TABLE nods.x WITH CONNECTION `us.lake-connection`"
            " OPTIONS(object_metadata = 'SIMPLE', uris = ['gs://bkt/*'])",
            "dataset nods not found",
        ),
        ("SELECT * FROM ds.missing", "missing does not exist"),
        ("SELECT * FROM `other_project.ds.t`", "names project 'other_project', which must"),
        (
            "SELECT APPROX_TOP_COUNT(x, 2) FROM UNNEST([1]) AS x",
            "not supported by the local engine",
        ),
        ("SELECT ML.EVALUATE(1)", "ML.EVALUATE is not supported"),
        ("DECLARE x INT64", "DECLARE statements are not supported"),
        ("CREATE VIEW ds.v AS SELECT uri FROM ds.images", "a view over object tables"),
        ("SELECT * FROM ML.PREDICT(MODEL ds.nomodel, TABLE ds.t)", "model ds.nomodel not found"),
    ],
)
def test_clear_errors(engine: LocalEngine, sql: str, message: str) -> None:
    engine.execute(OBJECT_TABLE)
    with pytest.raises(EngineError, match=message) as caught:
        engine.execute(sql)
    assert str(caught.value).startswith("statement 1 (")


def test_connections_registry(engine: LocalEngine) -> None:
    assert engine.create_connection("local-lake.US.other-conn") == "us.other-conn"
    assert engine.connections() == ["us.lake-connection", "us.other-conn"]
    engine.drop_connection("us.other-conn")
    with pytest.raises(EngineError, match=r"connection us\.other-conn not found"):
        engine.drop_connection("us.other-conn")
    with pytest.raises(EngineError, match=r"LOCATION\.CONNECTION_ID"):
        engine.create_connection("just-an-id")


# transpiled statements


def test_bigquery_sql_runs_transpiled(engine: LocalEngine) -> None:
    result = engine.execute(
        """
        CREATE TABLE ds.t AS SELECT 1 AS id, 'a' AS v UNION ALL SELECT 2, 'b';
        INSERT INTO `local-lake.ds.t` (id, v) VALUES (3, 'c');
        CREATE TABLE ds.s AS SELECT 2 AS id, 'B' AS v UNION ALL SELECT 4, 'd';
        MERGE ds.t T USING ds.s S ON T.id = S.id
          WHEN MATCHED THEN UPDATE SET v = S.v
          WHEN NOT MATCHED THEN INSERT (id, v) VALUES (S.id, S.v);
        SELECT id, v, SAFE_DIVIDE(id, 0) AS q FROM ds.t ORDER BY id
        """
    )
    assert [s.kind for s in result.statements] == [
        "CREATE TABLE",
        "INSERT",
        "CREATE TABLE",
        "MERGE",
        "SELECT",
    ]
    assert result.statements[1].rows == 1
    assert result.table is not None
    assert result.table.to_pylist() == [
        {"id": 1, "v": "a", "q": None},
        {"id": 2, "v": "B", "q": None},
        {"id": 3, "v": "c", "q": None},
        {"id": 4, "v": "d", "q": None},
    ]
    offsets = _rows(
        engine, "SELECT x, off FROM UNNEST(['p', 'q']) AS x WITH OFFSET AS off ORDER BY off"
    )
    assert offsets == [{"x": "p", "off": 0}, {"x": "q", "off": 1}]


def test_unnamed_result_columns_get_bigquerys_names(engine: LocalEngine) -> None:
    table = engine.execute(
        "SELECT 1, 'x' AS named, UPPER('y') UNION ALL SELECT 2, 'z', 'w' ORDER BY 1"
    ).table
    assert table is not None
    assert table.schema.names == ["f0_", "named", "f1_"]
    assert table.to_pylist()[0] == {"f0_": 1, "named": "x", "f1_": "Y"}


def test_views_over_plain_tables_persist(engine: LocalEngine, home: Path) -> None:
    engine.execute(
        "CREATE TABLE ds.base AS SELECT 4 AS a; CREATE VIEW ds.v AS SELECT a * 2 AS b FROM ds.base"
    )
    engine.close()
    with LocalEngine(home, progress=False) as again:
        assert _rows(again, "SELECT b FROM ds.v") == [{"b": 8}]


def test_last_row_returning_statement_wins(engine: LocalEngine) -> None:
    result = engine.execute("SELECT 1 AS a; CREATE TABLE ds.z AS SELECT 5 AS b; SELECT 2 AS c")
    assert result.table is not None and result.table.to_pylist() == [{"c": 2}]
    result = engine.execute("SELECT 7 AS a; DROP TABLE ds.z")
    assert result.table is not None and result.table.to_pylist() == [{"a": 7}]


def test_failed_statement_leaves_the_lake_as_it_was(engine: LocalEngine, home: Path) -> None:
    engine.execute("CREATE TABLE ds.t AS SELECT 1 AS id")
    with pytest.raises(EngineError, match=r"statement 2 \(INSERT INTO ds.t"):
        engine.execute("INSERT INTO ds.t VALUES (2); INSERT INTO ds.t SELECT CAST('x' AS INT64)")
    # Statement 1 of that script committed; statement 2 rolled back whole.
    assert _rows(engine, "SELECT id FROM ds.t ORDER BY id") == [{"id": 1}, {"id": 2}]
    with pytest.raises(EngineError):
        engine.execute(
            "CREATE TABLE ds.u AS SELECT uri FROM ds.images"  # ds.images does not exist
        )
    assert engine.catalog.relation_kind(TableName("ds", "u")) is None
    engine.close()
    # And it is all still there from a fresh process's point of view.
    with LocalEngine(home, progress=False) as again:
        assert _rows(again, "SELECT COUNT(*) AS n FROM ds.t") == [{"n": 2}]
        assert again.connections() == ["us.lake-connection"]


def test_unnest_with_offset_counts_from_zero_and_stays_lateral(engine: LocalEngine) -> None:
    engine.execute(
        "CREATE TABLE ds.arrays AS SELECT 1 AS id, [10, 20, 30] AS arr"
        " UNION ALL SELECT 2, [] UNION ALL SELECT 3, [5]"
    )
    rows = _rows(
        engine,
        "SELECT id, x, pos FROM ds.arrays, UNNEST(arrays.arr) AS x WITH OFFSET AS pos"
        " ORDER BY id, pos",
    )
    assert rows == [
        {"id": 1, "x": 10, "pos": 0},
        {"id": 1, "x": 20, "pos": 1},
        {"id": 1, "x": 30, "pos": 2},
        {"id": 3, "x": 5, "pos": 0},
    ]
    kept = _rows(
        engine,
        "SELECT id, x FROM ds.arrays LEFT JOIN UNNEST(arr) AS x WITH OFFSET ORDER BY id, x",
    )
    assert {"id": 2, "x": None} in kept


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT [1, 2][OFFSET(2)]", "Array index 2 is out of bounds"),
        ("SELECT [1, 2][ORDINAL(0)]", "Array index 0 is out of bounds"),
        ("SELECT x / (x - 1) FROM UNNEST([1]) AS x", r"division by zero: x / \(x - 1\)"),
    ],
)
def test_errors_bigquery_raises_are_raised(engine: LocalEngine, sql: str, message: str) -> None:
    with pytest.raises(EngineError, match=message):
        engine.execute(sql)


def test_safe_forms_and_in_bounds_indexes_return_values(engine: LocalEngine) -> None:
    assert _rows(
        engine,
        "SELECT [1, 2][OFFSET(1)] AS a, [1, 2][ORDINAL(1)] AS b, [1, 2][SAFE_OFFSET(9)] AS c,"
        " SAFE_DIVIDE(1, 0) AS d, 6 / 4 AS e, CAST(NULL AS ARRAY<INT64>)[OFFSET(0)] AS f",
    ) == [{"a": 2, "b": 1, "c": None, "d": None, "e": 1.5, "f": None}]


def test_two_engines_on_one_lake_in_one_process(tmp_path: Path) -> None:
    with (
        LocalEngine(tmp_path, progress=False) as first,
        LocalEngine(tmp_path, progress=False) as second,
    ):
        for engine in (first, second):
            table = engine.execute("SELECT UPPER('straße') AS u, LOWER('ǅ') AS l").table
            assert table is not None and table.to_pylist() == [{"u": "STRASSE", "l": "ǆ"}]
