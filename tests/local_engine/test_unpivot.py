"""UNPIVOT's BigQuery meaning on DuckDB: column order, NULL rows, INT64 labels, repeats."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local_engine.engine import LocalEngine
from local_engine.errors import EngineError
from local_engine.unpivot import REPEATED

SOURCE = (
    "(SELECT 1 AS id, 'a' AS v, CAST(NULL AS STRING) AS w, "
    "CAST(NULL AS STRING) AS x, CAST(NULL AS STRING) AS y)"
)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    with LocalEngine(tmp_path_factory.mktemp("unpivot"), progress=False) as local:
        yield local


def rows(engine: LocalEngine, sql: str) -> tuple[list[str], list[dict[str, object]]]:
    table = engine.execute(sql).table
    assert table is not None
    return table.schema.names, table.to_pylist()


def test_value_columns_come_before_the_name_column(engine: LocalEngine) -> None:
    names, found = rows(
        engine, f"SELECT * FROM {SOURCE} UNPIVOT ((s, t) FOR c IN ((v, w), (x, y)))"
    )
    assert names == ["id", "s", "t", "c"]
    assert found == [{"id": 1, "s": "a", "t": None, "c": "v_w"}]


def test_exclude_nulls_drops_a_row_only_when_every_value_is_null(engine: LocalEngine) -> None:
    sql = f"SELECT c FROM {SOURCE} UNPIVOT EXCLUDE NULLS ((s, t) FOR c IN ((v, w) AS 'p', (x, y) AS 'q'))"
    assert rows(engine, sql)[1] == [{"c": "p"}]
    single = f"SELECT c FROM {SOURCE} UNPIVOT (s FOR c IN (v, w))"
    assert rows(engine, single)[1] == [{"c": "v"}]


def test_include_nulls_keeps_every_row(engine: LocalEngine) -> None:
    sql = f"SELECT c FROM {SOURCE} UNPIVOT INCLUDE NULLS ((s, t) FOR c IN ((v, w) AS 'p', (x, y) AS 'q'))"
    assert rows(engine, sql)[1] == [{"c": "p"}, {"c": "q"}]


def test_integer_labels_make_an_int64_name_column(engine: LocalEngine) -> None:
    sql = f"SELECT u.c, u.s FROM {SOURCE} UNPIVOT INCLUDE NULLS (s FOR c IN (v AS 1, w AS 20)) AS u"
    table = engine.execute(sql).table
    assert table is not None
    assert str(table.schema.field("c").type) == "int64"
    assert table.to_pylist() == [{"c": 1, "s": "a"}, {"c": 20, "s": None}]


@pytest.mark.parametrize("columns", ["v, w, v", "(v, w), (x, V)"])
def test_a_repeated_column_is_an_error_as_in_bigquery(engine: LocalEngine, columns: str) -> None:
    values = "(s, t)" if "(" in columns else "s"
    with pytest.raises(EngineError, match=REPEATED):
        engine.execute(f"SELECT * FROM {SOURCE} UNPIVOT ({values} FOR c IN ({columns}))")
