"""The engine's own DDL (schemas, object tables, models) statement by statement, in a second.

Models here are two tiny ONNX graphs written by onnx.helper: creating one only reads its
signature, so every CREATE MODEL / DROP MODEL rule runs without a model conversion and
these tests are fast enough to run against every mutant of local_engine/ddl.py. Each
test checks the exact error, the catalog's state and the lake's files.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from onnx import TensorProto, helper
from sqlglot import exp

from local_engine.catalog import CATALOG_SCHEMA, ObjectTableDef
from local_engine.ddl import dropped_table, options
from local_engine.engine import LocalEngine
from local_engine.errors import EngineError
from local_engine.names import TableName
from local_engine.records import ModelRecord
from local_engine.statements import split_script

CONNECTION = "us.lake-connection"


def tiny_onnx(output: str) -> bytes:
    """y = x (Identity) with the output tensor named `output`: two names, two models."""
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], [output])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 2])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, [None, 2])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return bytes(model.SerializeToString())


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "lake"
    for name, data in {
        "models/first/model.onnx": tiny_onnx("first_out"),
        "models/second/model.onnx": tiny_onnx("second_out"),
        "bkt/pics/a.jpg": b"\xff\xd8\xff",
        "bkt/more/c.bin": b"\x00",
    }.items():
        path = home / "gcs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return home


@pytest.fixture
def engine(home: Path) -> Iterator[LocalEngine]:
    with LocalEngine(home, progress=False) as engine:
        engine.create_connection(CONNECTION)
        engine.execute("CREATE SCHEMA ds")
        yield engine


def model_sql(path: str = "gs://models/first/*", verb: str = "CREATE MODEL") -> str:
    return f"{verb} ds.m OPTIONS(model_type = 'ONNX', model_path = '{path}')"


def record(engine: LocalEngine, name: str = "m") -> ModelRecord | None:
    text = engine.catalog.model_json(TableName("ds", name))
    return None if text is None else ModelRecord.from_json(text)


def refused(engine: LocalEngine, sql: str, message: str) -> None:
    """The statement fails with exactly `message` after the engine's `statement 1 (...)` label."""
    with pytest.raises(EngineError) as caught:
        engine.execute(sql)
    label, _, said = str(caught.value).partition("): ")
    assert label.startswith("statement 1 (")
    assert said == message


def table_names(engine: LocalEngine, dataset: str) -> list[str]:
    rows = engine.con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        " AND schema_name = ? UNION ALL SELECT view_name FROM duckdb_views()"
        " WHERE database_name = current_database() AND schema_name = ? ORDER BY 1",
        [dataset, dataset],
    ).fetchall()
    return [str(row[0]) for row in rows]


# OPTIONS(...) as Python values


def parsed(sql: str) -> exp.Create:
    tree = split_script(sql)[0].tree
    assert isinstance(tree, exp.Create)
    return tree


def test_options_become_python_values_of_their_own_type() -> None:
    found = options(
        parsed(
            "CREATE MODEL ds.m OPTIONS(n = 12, f = 2.5, yes = TRUE, off = FALSE, nothing = NULL,"
            " list = ['x', 'y'], none_yet = [], Mixed_Case = 's')"
        )
    )
    assert found == {
        "n": 12,
        "f": 2.5,
        "yes": True,
        "off": False,
        "nothing": None,
        "list": ["x", "y"],
        "none_yet": [],
        "mixed_case": "s",
    }
    assert [type(value) for value in found.values()] == [
        int,
        float,
        bool,
        bool,
        type(None),
        list,
        list,
        str,
    ]


def test_options_read_exponents_as_floats() -> None:
    found = options(parsed("CREATE MODEL ds.m OPTIONS(a = 1e3, b = 25E-1, c = 1.5e2)"))
    assert found == {"a": 1000.0, "b": 2.5, "c": 150.0}
    assert all(type(value) is float for value in found.values())


def test_options_skip_the_clauses_that_are_not_options() -> None:
    create = parsed(
        f"CREATE EXTERNAL TABLE ds.t WITH CONNECTION `{CONNECTION}`"
        " OPTIONS(object_metadata = 'SIMPLE')"
    )
    assert options(create) == {"object_metadata": "SIMPLE"}
    assert options(parsed("CREATE SCHEMA ds")) == {}


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("uris = ['a', 1]", "option uris must be an array of strings"),
        ("uris = [1]", "option uris must be an array of strings"),
        ("n = -1", "option n must be a literal, got -1"),
        ("uris = ['a', UPPER('b')]", "option uris must be a literal, got UPPER('b')"),
        ("n = SAFE_CAST(1 AS INT64)", "option n must be a literal, got SAFE_CAST(1 AS INT64)"),
        (
            "model_path = CONCAT('a', 'b')",
            "option model_path must be a literal, got CONCAT('a', 'b')",
        ),
    ],
)
def test_options_that_are_not_literals_are_refused(option: str, message: str) -> None:
    with pytest.raises(EngineError) as caught:
        options(parsed(f"CREATE MODEL ds.m OPTIONS({option})"))
    assert str(caught.value) == message


def test_drop_takes_exactly_one_name() -> None:
    table = exp.to_table("ds.t")
    assert dropped_table(exp.Drop(this=table, kind="TABLE", tables=[table])) is table
    for tables in ([], [table, exp.to_table("ds.u")], [exp.Literal.string("ds.t")]):
        with pytest.raises(EngineError) as caught:
            dropped_table(exp.Drop(kind="TABLE", tables=tables))
        assert str(caught.value) == "DROP takes exactly one name"


# schemas


def test_create_schema_if_not_exists_and_twice(engine: LocalEngine) -> None:
    engine.execute("CREATE TABLE ds.keep AS SELECT 1 AS a")
    engine.execute("CREATE SCHEMA IF NOT EXISTS ds")
    assert table_names(engine, "ds") == ["keep"]
    refused(engine, "CREATE SCHEMA ds", "dataset ds already exists")
    engine.execute("CREATE SCHEMA IF NOT EXISTS fresh")
    assert engine.catalog.dataset_exists("fresh")


def test_the_catalogs_own_schema_is_reserved(engine: LocalEngine) -> None:
    reserved = f"dataset name {CATALOG_SCHEMA} is reserved by the local engine"
    for sql in (
        f"CREATE SCHEMA {CATALOG_SCHEMA}",
        f"CREATE SCHEMA IF NOT EXISTS {CATALOG_SCHEMA}",
        f"DROP SCHEMA {CATALOG_SCHEMA}",
        f"DROP SCHEMA IF EXISTS {CATALOG_SCHEMA} CASCADE",
    ):
        refused(engine, sql, reserved)
    assert engine.catalog.dataset_exists(CATALOG_SCHEMA)
    assert engine.connections() == [CONNECTION]


def test_drop_schema_that_is_not_there(engine: LocalEngine) -> None:
    refused(engine, "DROP SCHEMA nowhere", "dataset nowhere not found")
    engine.execute("DROP SCHEMA IF EXISTS nowhere")
    assert not engine.catalog.dataset_exists("nowhere")


def test_drop_schema_of_an_empty_dataset(engine: LocalEngine) -> None:
    engine.execute("DROP SCHEMA ds")
    assert not engine.catalog.dataset_exists("ds")


def test_drop_schema_with_a_model_needs_cascade(engine: LocalEngine) -> None:
    engine.execute(model_sql())
    engine.execute("CREATE SCHEMA other")
    engine.execute(model_sql().replace("ds.m", "other.m"))
    refused(engine, "DROP SCHEMA ds", "dataset ds still holds object tables or models; use CASCADE")
    assert record(engine) is not None and engine.catalog.dataset_exists("ds")
    engine.execute("DROP SCHEMA ds CASCADE")
    assert not engine.catalog.dataset_exists("ds")
    assert engine.catalog.models() == [TableName("other", "m")]


def test_drop_schema_cascade_drops_its_tables_and_object_tables(engine: LocalEngine) -> None:
    engine.execute(
        "CREATE TABLE ds.t AS SELECT 1 AS a;"
        f" CREATE EXTERNAL TABLE ds.o WITH CONNECTION `{CONNECTION}`"
        " OPTIONS(object_metadata = 'SIMPLE', uris = ['gs://bkt/more/*'])"
    )
    engine.execute("DROP SCHEMA ds CASCADE")
    assert not engine.catalog.dataset_exists("ds")
    assert engine.catalog.object_table(TableName("ds", "o")) is None
    engine.execute("CREATE SCHEMA ds")
    assert table_names(engine, "ds") == []


def test_drop_schema_holding_only_a_plain_table_is_refused_by_duckdb(engine: LocalEngine) -> None:
    engine.execute("CREATE TABLE ds.t AS SELECT 1 AS a")
    with pytest.raises(EngineError, match=r"Use DROP\.\.\.CASCADE"):
        engine.execute("DROP SCHEMA ds")
    assert table_names(engine, "ds") == ["t"]


# object tables


def object_table_sql(
    options_text: str = "object_metadata = 'SIMPLE', uris = ['gs://bkt/more/*']",
    verb: str = "CREATE EXTERNAL TABLE",
    connection: str = CONNECTION,
) -> str:
    return f"{verb} ds.o WITH CONNECTION `{connection}` OPTIONS({options_text})"


def test_object_table_definition_in_the_catalog(engine: LocalEngine) -> None:
    engine.execute(
        object_table_sql(
            "object_metadata = 'simple', uris = ['gs://bkt/pics/*', 'gs://bkt/more/*'],"
            " description = 'photos'",
            connection="local-lake.US.lake-connection",
        )
    )
    assert engine.catalog.object_table(TableName("ds", "o")) == ObjectTableDef(
        TableName("ds", "o"), CONNECTION, ("gs://bkt/pics/*", "gs://bkt/more/*"), "SIMPLE"
    )


def test_object_table_takes_a_single_uri_string(engine: LocalEngine) -> None:
    engine.execute(object_table_sql("object_metadata = 'SIMPLE', uris = 'gs://bkt/more/*'"))
    definition = engine.catalog.object_table(TableName("ds", "o"))
    assert definition is not None and definition.uris == ("gs://bkt/more/*",)
    table = engine.execute("SELECT uri FROM ds.o").table
    assert table is not None and table.to_pylist() == [{"uri": "gs://bkt/more/c.bin"}]


@pytest.mark.parametrize(
    ("options_text", "message"),
    [
        (
            "uris = ['gs://bkt/*']",
            "external table ds.o: only object tables (object_metadata = 'SIMPLE')"
            " are supported by the local engine",
        ),
        (
            "object_metadata = 'DIRECTORY', uris = ['gs://bkt/*']",
            "external table ds.o: only object tables (object_metadata = 'SIMPLE')"
            " are supported by the local engine",
        ),
        (
            "object_metadata = 'SIMPLE', uris = ['gs://bkt/*'], format = 'CSV'",
            "object table clause FORMAT='CSV' is not supported by the local engine",
        ),
        (
            "object_metadata = 'SIMPLE', uris = ['gs://bkt/*'], metadata_cache_mode = 'MANUAL'",
            "object table option metadata_cache_mode is not supported by the local engine"
            " (supported: description, object_metadata, uris)",
        ),
        (
            "object_metadata = 'SIMPLE', uris = ['gs://bkt/*'], zz = 1, aa = 2",
            "object table option aa is not supported by the local engine"
            " (supported: description, object_metadata, uris)",
        ),
        ("object_metadata = 'SIMPLE'", "object table ds.o needs uris = ['gs://bucket/path*', ...]"),
        (
            "object_metadata = 'SIMPLE', uris = []",
            "object table ds.o needs uris = ['gs://bucket/path*', ...]",
        ),
        (
            "object_metadata = 'SIMPLE', uris = 5",
            "object table ds.o needs uris = ['gs://bucket/path*', ...]",
        ),
    ],
)
def test_object_table_options_are_checked(
    engine: LocalEngine, options_text: str, message: str
) -> None:
    refused(engine, object_table_sql(options_text), message)
    assert engine.catalog.object_table(TableName("ds", "o")) is None


def test_object_table_uris_are_checked_one_by_one(engine: LocalEngine) -> None:
    with pytest.raises(EngineError, match="only one"):
        engine.execute(
            object_table_sql("object_metadata = 'SIMPLE', uris = ['gs://bkt/*', 'gs://b/*/*']")
        )
    assert engine.catalog.object_table(TableName("ds", "o")) is None


def test_clauses_the_engine_does_not_know_are_refused(engine: LocalEngine) -> None:
    refused(
        engine,
        object_table_sql() + " CLUSTER BY uri",
        "object table clause CLUSTER BY uri is not supported by the local engine",
    )
    assert engine.catalog.object_table(TableName("ds", "o")) is None
    refused(
        engine,
        "CREATE MODEL ds.m INPUT(x INT64) OUTPUT(y FLOAT64)"
        " OPTIONS(model_type = 'ONNX', model_path = 'gs://models/first/*')",
        "model clause INPUT(x INT64) is not supported by the local engine",
    )
    assert engine.catalog.models() == []


def test_object_table_needs_a_known_connection(engine: LocalEngine) -> None:
    refused(
        engine,
        object_table_sql(connection="us.nope"),
        "connection us.nope not found; create it with"
        " `python -m sqlrunner connection create us.nope`",
    )
    refused(
        engine,
        "CREATE EXTERNAL TABLE ds.o OPTIONS(object_metadata = 'SIMPLE', uris = ['gs://bkt/*'])",
        "object table ds.o needs WITH CONNECTION `location.connection_id`",
    )
    assert engine.catalog.object_table(TableName("ds", "o")) is None


def test_object_table_needs_its_dataset(engine: LocalEngine) -> None:
    refused(
        engine,
        object_table_sql().replace("ds.o", "nods.o"),
        "dataset nods not found (create it with CREATE SCHEMA)",
    )


def test_object_table_over_an_existing_name(engine: LocalEngine) -> None:
    engine.execute("CREATE TABLE ds.o AS SELECT 1 AS a")
    refused(engine, object_table_sql(), "table ds.o already exists")
    engine.execute(object_table_sql(verb="CREATE EXTERNAL TABLE IF NOT EXISTS"))
    assert engine.catalog.relation_kind(TableName("ds", "o")) == "table"
    refused(
        engine,
        object_table_sql(verb="CREATE OR REPLACE EXTERNAL TABLE IF NOT EXISTS"),
        "OR REPLACE and IF NOT EXISTS cannot be used together",
    )
    assert engine.catalog.relation_kind(TableName("ds", "o")) == "table"
    engine.execute(object_table_sql(verb="CREATE OR REPLACE EXTERNAL TABLE"))
    assert engine.catalog.relation_kind(TableName("ds", "o")) == "object table"
    assert table_names(engine, "ds") == []


def test_object_table_replaces_a_view(engine: LocalEngine) -> None:
    engine.execute("CREATE VIEW ds.o AS SELECT 1 AS a")
    refused(engine, object_table_sql(), "view ds.o already exists")
    engine.execute(object_table_sql(verb="CREATE OR REPLACE EXTERNAL TABLE"))
    assert engine.catalog.relation_kind(TableName("ds", "o")) == "object table"
    assert table_names(engine, "ds") == []


def test_object_table_replaces_an_object_table(engine: LocalEngine) -> None:
    engine.execute(object_table_sql())
    refused(engine, object_table_sql(), "object table ds.o already exists")
    engine.execute(
        object_table_sql(
            "object_metadata = 'SIMPLE', uris = ['gs://bkt/pics/*']",
            verb="CREATE EXTERNAL TABLE IF NOT EXISTS",
        )
    )
    kept = engine.catalog.object_table(TableName("ds", "o"))
    assert kept is not None and kept.uris == ("gs://bkt/more/*",)
    engine.execute(
        object_table_sql(
            "object_metadata = 'SIMPLE', uris = ['gs://bkt/pics/*']",
            verb="CREATE OR REPLACE EXTERNAL TABLE",
        )
    )
    replaced = engine.catalog.object_table(TableName("ds", "o"))
    assert replaced is not None and replaced.uris == ("gs://bkt/pics/*",)
    engine.execute("DROP TABLE ds.o")
    assert engine.catalog.object_table(TableName("ds", "o")) is None


# models


def test_create_model_records_the_model_and_keeps_its_files(
    engine: LocalEngine, home: Path
) -> None:
    engine.execute(
        "CREATE MODEL ds.m OPTIONS(MODEL_TYPE = 'onnx', model_path = 'gs://models/first/*',"
        " description = 'tiny')"
    )
    made = record(engine)
    assert made is not None
    assert (made.model_type, made.model_path, made.runtime) == (
        "ONNX",
        "gs://models/first/*",
        "onnx",
    )
    assert [label.name for label in made.labels] == ["first_out"]
    assert made.artifact == f"{made.content_hash}/source/model.onnx"
    assert (home / "models" / made.artifact).read_bytes() == tiny_onnx("first_out")
    assert engine.catalog.models() == [TableName("ds", "m")]


@pytest.mark.parametrize(
    ("options_text", "message"),
    [
        (
            "model_path = 'gs://models/first/*'",
            "model ds.m needs OPTIONS(model_type = '...', model_path = 'gs://.../*')",
        ),
        (
            "model_type = 'ONNX'",
            "model ds.m needs OPTIONS(model_type = '...', model_path = 'gs://.../*')",
        ),
        (
            "model_type = 1, model_path = 'gs://models/first/*'",
            "model ds.m needs OPTIONS(model_type = '...', model_path = 'gs://.../*')",
        ),
        (
            "model_type = 'ONNX', model_path = ['gs://models/first/*']",
            "model ds.m needs OPTIONS(model_type = '...', model_path = 'gs://.../*')",
        ),
        (
            "model_type = 'ONNX', model_path = 'gs://models/first/*', input_labels = ['x']",
            "model option input_labels is not supported by the local engine"
            " (supported: description, model_path, model_type)",
        ),
    ],
)
def test_create_model_options_are_checked(
    engine: LocalEngine, options_text: str, message: str
) -> None:
    refused(engine, f"CREATE MODEL ds.m OPTIONS({options_text})", message)
    assert engine.catalog.models() == []


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        (
            model_sql().replace("ds.m", "m"),
            "model 'm' must be qualified with its dataset (dataset.m)",
        ),
        ("DROP MODEL m", "model 'm' must be qualified with its dataset (dataset.m)"),
        (
            object_table_sql().replace("ds.o", "o"),
            "external table 'o' must be qualified with its dataset (dataset.o)",
        ),
    ],
)
def test_names_without_a_dataset_are_refused_naming_what_they_name(
    engine: LocalEngine, sql: str, message: str
) -> None:
    refused(engine, sql, message)


def test_create_model_without_options(engine: LocalEngine) -> None:
    refused(
        engine,
        "CREATE MODEL ds.m",
        "model ds.m needs OPTIONS(model_type = '...', model_path = 'gs://.../*')",
    )
    assert engine.catalog.models() == []


def test_create_model_needs_its_dataset(engine: LocalEngine, home: Path) -> None:
    refused(
        engine,
        model_sql().replace("ds.m", "nods.m"),
        "dataset nods not found (create it with CREATE SCHEMA)",
    )
    assert engine.catalog.models() == []
    assert not (home / "models").exists() or not any((home / "models").iterdir())


def test_create_model_twice_if_not_exists_and_or_replace(engine: LocalEngine) -> None:
    engine.execute(model_sql())
    first = record(engine)
    refused(engine, model_sql("gs://models/second/*"), "model ds.m already exists")
    engine.execute(model_sql("gs://models/second/*", "CREATE MODEL IF NOT EXISTS"))
    assert record(engine) == first
    refused(
        engine,
        model_sql("gs://models/second/*", "CREATE OR REPLACE MODEL IF NOT EXISTS"),
        "OR REPLACE and IF NOT EXISTS cannot be used together",
    )
    assert record(engine) == first
    engine.execute(model_sql("gs://models/second/*", "CREATE OR REPLACE MODEL"))
    replaced = record(engine)
    assert replaced is not None and first is not None
    assert replaced.model_path == "gs://models/second/*"
    assert [label.name for label in replaced.labels] == ["second_out"]
    assert replaced.content_hash != first.content_hash
    assert engine.catalog.models() == [TableName("ds", "m")]


def test_create_model_or_replace_and_if_not_exists_of_a_new_model(engine: LocalEngine) -> None:
    engine.execute(model_sql(verb="CREATE OR REPLACE MODEL"))
    engine.execute(
        model_sql("gs://models/second/*", "CREATE MODEL IF NOT EXISTS").replace("m ", "n ")
    )
    made, other = record(engine), record(engine, "n")
    assert made is not None and made.model_path == "gs://models/first/*"
    assert other is not None and other.model_path == "gs://models/second/*"


def test_or_replace_if_not_exists_is_refused_before_the_model_exists(engine: LocalEngine) -> None:
    refused(
        engine,
        model_sql(verb="CREATE OR REPLACE MODEL IF NOT EXISTS"),
        "OR REPLACE and IF NOT EXISTS cannot be used together",
    )
    assert engine.catalog.models() == []


def test_create_model_errors_of_the_model_itself_leave_no_entry(engine: LocalEngine) -> None:
    refused(
        engine, model_sql("gs://models/none/*"), "model_path gs://models/none/* matches no files"
    )
    engine.execute(model_sql())
    refused(
        engine,
        model_sql("gs://models/none/*", "CREATE OR REPLACE MODEL"),
        "model_path gs://models/none/* matches no files",
    )
    kept = record(engine)
    assert kept is not None and kept.model_path == "gs://models/first/*"


def test_drop_model(engine: LocalEngine) -> None:
    refused(engine, "DROP MODEL ds.m", "model ds.m not found")
    engine.execute("DROP MODEL IF EXISTS ds.m")
    engine.execute(model_sql())
    engine.execute(model_sql().replace("ds.m", "ds.keep"))
    engine.execute("DROP MODEL ds.m")
    assert engine.catalog.models() == [TableName("ds", "keep")]
    refused(engine, "DROP MODEL ds.m", "model ds.m not found")
    engine.execute("DROP MODEL IF EXISTS ds.keep")
    assert engine.catalog.models() == []
