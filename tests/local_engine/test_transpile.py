"""`ARRAY_AGG(... ORDER BY ... LIMIT n)` on the local engine: DuckDB's streaming max_by/min_by.

Each result is checked against DuckDB's own (non-streaming) `array_agg(... ORDER BY ...)`
cut to n, with BigQuery's NULL ordering spelled out, or against values worked by hand.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlglot

from local_engine.dialect import DIALECT
from local_engine.engine import LocalEngine
from local_engine.errors import EngineError
from local_engine.transpile import to_duckdb


def _values_table() -> str:
    """Groups of rows with NULL values, NULL keys, repeated k1 and a k2 unique in its group.

    At most one NULL k per group, and k unique in its group, so every order below is total.
    """
    rng = random.Random(7)
    rows = []
    for group in range(12):
        size = rng.randint(1, 9)
        ks = rng.sample(range(100), size)
        k2s = rng.sample(range(100), size)
        null_k = rng.randrange(size) if group % 3 else None
        for i in range(size):
            x = "NULL" if rng.random() < 0.2 else str(rng.randint(0, 999))
            k = "NULL" if i == null_k else f"{ks[i] / 10}"
            k1 = "NULL" if rng.random() < 0.2 else str(rng.randint(0, 2))
            rows.append(f"({group}, {x}, {k}, {k1}, {k2s[i]})")
    return ",\n".join(rows)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    home: Path = tmp_path_factory.mktemp("lake")
    with LocalEngine(home, progress=False) as engine:
        engine.execute("CREATE SCHEMA ds")
        engine.con.execute(
            "CREATE TABLE ds.t (g BIGINT, x BIGINT, k DOUBLE, k1 BIGINT, k2 BIGINT);"
            f"INSERT INTO ds.t VALUES {_values_table()}"
        )
        yield engine


def _by_group(engine: LocalEngine, bigquery_sql: str) -> dict[int, object]:
    table = engine.execute(bigquery_sql).table
    assert table is not None
    return {row["g"]: row["a"] for row in table.to_pylist()}


def _duckdb_by_group(engine: LocalEngine, duckdb_sql: str) -> dict[int, object]:
    return dict(engine.con.sql(duckdb_sql).fetchall())


@pytest.mark.parametrize(
    ("bigquery", "duckdb"),
    [
        # BigQuery: NULLs are the smallest key, first in ASC and last in DESC.
        ("x ORDER BY k DESC LIMIT 3", "x ORDER BY k DESC NULLS LAST"),
        ("x ORDER BY k LIMIT 3", "x ORDER BY k ASC NULLS FIRST"),
        ("x ORDER BY k DESC NULLS FIRST LIMIT 2", "x ORDER BY k DESC NULLS FIRST"),
        ("x ORDER BY k ASC NULLS LAST LIMIT 2", "x ORDER BY k ASC NULLS LAST"),
        ("x ORDER BY k1 DESC, k2 DESC LIMIT 4", "x ORDER BY k1 DESC NULLS LAST, k2 DESC"),
        ("x ORDER BY k1, k2 LIMIT 4", "x ORDER BY k1 ASC NULLS FIRST, k2 ASC"),
        ("x ORDER BY k1 DESC, -k2 DESC LIMIT 4", "x ORDER BY k1 DESC NULLS LAST, k2 ASC"),
        (
            "STRUCT(x AS x, k AS k) ORDER BY k DESC LIMIT 3",
            "{'x': x, 'k': k} ORDER BY k DESC NULLS LAST",
        ),
        ("x ORDER BY k DESC LIMIT 50", "x ORDER BY k DESC NULLS LAST"),
    ],
)
def test_top_n_matches_a_full_sort_cut_to_n(
    engine: LocalEngine, bigquery: str, duckdb: str
) -> None:
    limit = int(bigquery.rsplit("LIMIT", 1)[1])
    got = _by_group(engine, f"SELECT g, ARRAY_AGG({bigquery}) AS a FROM ds.t GROUP BY g")
    expected = _duckdb_by_group(
        engine, f"SELECT g, array_agg({duckdb})[1:{limit}] AS a FROM ds.t GROUP BY g"
    )
    assert got == expected
    kept = [v for values in got.values() if isinstance(values, list) for v in values]
    assert any(v is None or (isinstance(v, dict) and v["x"] is None) for v in kept)


def test_ignore_nulls_drops_null_values_before_the_limit(engine: LocalEngine) -> None:
    got = _by_group(
        engine,
        "SELECT g, ARRAY_AGG(x IGNORE NULLS ORDER BY k DESC LIMIT 3) AS a FROM ds.t GROUP BY g",
    )
    expected = _duckdb_by_group(
        engine,
        "SELECT g, array_agg(x ORDER BY k DESC NULLS LAST) FILTER (WHERE x IS NOT NULL)[1:3]"
        " FROM ds.t GROUP BY g",
    )
    assert got == expected
    assert all(None not in value for value in got.values() if isinstance(value, list))


def test_hand_worked_values(engine: LocalEngine) -> None:
    rows = (
        "SELECT 'a' AS g, 1 AS x, 3.0 AS k UNION ALL SELECT 'a', 2, NULL"
        " UNION ALL SELECT 'a', 3, 5.0 UNION ALL SELECT 'a', NULL, 4.0"
        " UNION ALL SELECT 'b', 7, NULL"
    )
    table = engine.execute(
        f"SELECT g, ARRAY_AGG(x ORDER BY k DESC LIMIT 3) AS top,"
        f" ARRAY_AGG(x ORDER BY k LIMIT 2) AS bottom,"
        f" ARRAY_AGG(x IGNORE NULLS ORDER BY k DESC LIMIT 3) AS kept"
        f" FROM ({rows}) GROUP BY g ORDER BY g"
    ).table
    assert table is not None
    assert table.to_pylist() == [
        {"g": "a", "top": [3, None, 1], "bottom": [2, 1], "kept": [3, 1, 2]},
        {"g": "b", "top": [7], "bottom": [7], "kept": [7]},
    ]


def test_no_input_rows_gives_null_as_in_bigquery(engine: LocalEngine) -> None:
    table = engine.execute(
        "SELECT ARRAY_AGG(x ORDER BY k DESC LIMIT 3) AS a FROM ds.t WHERE FALSE"
    ).table
    assert table is not None
    assert table.to_pylist() == [{"a": None}]


def test_rewrite_uses_duckdbs_top_n_aggregates() -> None:
    def duckdb_sql(bigquery: str) -> str:
        return to_duckdb(sqlglot.parse_one(bigquery, read=DIALECT))

    assert "MAX_BY(" in duckdb_sql("SELECT ARRAY_AGG(x ORDER BY k DESC LIMIT 5) FROM t")
    assert "MIN_BY(" in duckdb_sql("SELECT ARRAY_AGG(x ORDER BY k LIMIT 5) FROM t")
    assert "ARRAY_AGG" not in duckdb_sql("SELECT ARRAY_AGG(x ORDER BY k LIMIT 5) FROM t")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("ARRAY_AGG(x ORDER BY k DESC, k2 LIMIT 3)", "keys in different directions"),
        ("ARRAY_AGG(DISTINCT x ORDER BY x LIMIT 3)", r"ARRAY_AGG\(DISTINCT \.\.\. LIMIT n\)"),
        ("ARRAY_AGG(x LIMIT 3)", "LIMIT but no ORDER BY"),
        ("ARRAY_AGG(x ORDER BY k LIMIT 0)", "LIMIT 0: the limit must be a positive integer"),
        ("ARRAY_AGG(x ORDER BY k LIMIT 2) OVER (PARTITION BY g)", "cannot take an OVER clause"),
    ],
)
def test_what_max_by_cannot_express_is_refused(
    engine: LocalEngine, expression: str, message: str
) -> None:
    with pytest.raises(EngineError, match=message):
        engine.execute(f"SELECT g, {expression} AS a FROM ds.t GROUP BY g")


def test_predict_sqls_top_k_breaks_ties_to_the_lower_class_index(engine: LocalEngine) -> None:
    """The form sql/predict.sql uses: `-class_index DESC` keeps both keys in one direction."""
    table = engine.execute(
        "SELECT ARRAY_AGG(STRUCT(class_index AS class_index, score AS score)"
        " ORDER BY score DESC, -class_index DESC LIMIT 3) AS best"
        " FROM UNNEST(ARRAY<FLOAT64>[0.1, 0.5, 0.2, 0.5, 0.5, 0.7]) AS score WITH OFFSET AS class_index"
    ).table
    assert table is not None
    assert table.to_pylist() == [
        {
            "best": [
                {"class_index": 5, "score": 0.7},
                {"class_index": 1, "score": 0.5},
                {"class_index": 3, "score": 0.5},
            ]
        }
    ]


def test_safe_offset_never_reads_from_the_end(tmp_path: Path) -> None:
    with LocalEngine(tmp_path, progress=False) as engine:
        table = engine.execute(
            "SELECT [10, 20][SAFE_OFFSET(-1)] AS a, [10, 20][SAFE_OFFSET(1)] AS b,"
            " [10, 20][SAFE_ORDINAL(0)] AS c, [10, 20][ORDINAL(2)] AS d"
        ).table
    assert table is not None and table.to_pylist() == [{"a": None, "b": 20, "c": None, "d": 20}]


def test_null_divided_by_zero_is_null_and_sums_stay_int64(tmp_path: Path) -> None:
    with LocalEngine(tmp_path, progress=False) as engine:
        table = engine.execute(
            "SELECT CAST(NULL AS INT64) / 0 AS q, SUM(x) AS s FROM UNNEST([1, 2]) AS x"
        ).table
        with pytest.raises(EngineError, match="division by zero"):
            engine.execute("SELECT x / 0 FROM UNNEST([1]) AS x")
    assert table is not None and table.to_pylist() == [{"q": None, "s": 3}]
    assert str(table.schema.field("s").type) == "int64"
