"""NaN in comparisons (IEEE) and in orders (after NULL, before -inf), on columns of any type.

The differential harness checks literals against GoogleSQL; these run the forms it cannot
reach (table columns, joins, DML, aliases, positions, frames) and check what DuckDB plans
for non-float operands, which must stay free of the rewrite.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlglot

from local_engine.dialect import DIALECT
from local_engine.engine import LocalEngine
from local_engine.errors import EngineError
from local_engine.nan_order import register_nan_macros
from local_engine.transpile import to_duckdb

NAN = "CAST('NaN' AS FLOAT64)"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    with LocalEngine(Path(tmp_path_factory.mktemp("lake")), progress=False) as engine:
        engine.execute("CREATE SCHEMA d")
        engine.execute(
            "CREATE TABLE d.f AS SELECT 1 AS id, 1.5 AS x, 'b' AS s"
            f" UNION ALL SELECT 2, {NAN}, 'a' UNION ALL SELECT 3, NULL, 'c'"
            " UNION ALL SELECT 4, CAST('-inf' AS FLOAT64), 'd'"
            " UNION ALL SELECT 5, CAST('inf' AS FLOAT64), NULL"
        )
        yield engine


def rows(engine: LocalEngine, sql: str) -> list[tuple[object, ...]]:
    table = engine.execute(sql).table
    assert table is not None
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    return list(zip(*columns, strict=True))


def values(engine: LocalEngine, sql: str) -> list[object]:
    return [row[0] for row in rows(engine, sql)]


def same(found: list[object], expected: list[object]) -> bool:
    return len(found) == len(expected) and all(
        (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))
        or a == b
        for a, b in zip(found, expected, strict=True)
    )


@pytest.mark.parametrize(
    ("condition", "ids"),
    [
        ("x = x", [1, 4, 5]),
        ("x != x", [2]),
        ("x <> 1.5", [2, 4, 5]),
        ("x < CAST('inf' AS FLOAT64)", [1, 4]),
        ("x >= CAST('-inf' AS FLOAT64)", [1, 4, 5]),
        ("x BETWEEN CAST('-inf' AS FLOAT64) AND CAST('inf' AS FLOAT64)", [1, 4, 5]),
        (f"1.0 BETWEEN x AND {NAN}", []),
        (f"x IN (1.5, {NAN})", [1]),
        (f"x NOT IN (1.5, {NAN})", [2, 4, 5]),
        (f"x IN UNNEST([{NAN}, CAST('inf' AS FLOAT64)])", [5]),
        ("x IN (SELECT x FROM d.f)", [1, 4, 5]),
        ("NOT (x = x)", [2]),
        ("CASE x WHEN x THEN TRUE ELSE FALSE END", [1, 4, 5]),
        ("NULLIF(x, x) IS NOT NULL", [2]),
    ],
)
def test_comparisons_over_a_column_follow_ieee(
    engine: LocalEngine, condition: str, ids: list[int]
) -> None:
    assert values(engine, f"SELECT id FROM d.f WHERE {condition} ORDER BY id") == ids


def test_a_comparison_with_a_null_side_stays_null_next_to_a_nan(engine: LocalEngine) -> None:
    found = rows(
        engine,
        f"SELECT {NAN} < x, {NAN} != x, x = {NAN}, {NAN} IN (x, 2.0) FROM d.f WHERE id = 3",
    )
    assert found == [(None, None, None, None)]
    assert rows(engine, f"SELECT {NAN} IN (SELECT x FROM d.f WHERE id IN (2, 3))") == [(None,)]


def test_a_self_join_on_a_float_key_never_matches_nan(engine: LocalEngine) -> None:
    joined = "SELECT a.id FROM d.f AS a JOIN d.f AS b ON a.x = b.x AND a.id = b.id ORDER BY 1"
    assert values(engine, joined) == [1, 4, 5]


def test_an_inner_join_using_a_float_column_never_matches_nan(engine: LocalEngine) -> None:
    joined = "SELECT a.id FROM d.f AS a JOIN (SELECT x FROM d.f) AS b USING (x) ORDER BY 1"
    assert values(engine, joined) == [1, 4, 5]
    by_id = "SELECT COUNT(*) FROM d.f AS a LEFT JOIN d.f AS b USING (id)"
    assert values(engine, by_id) == [5]


def test_orders_put_nan_after_null_and_before_minus_infinity(engine: LocalEngine) -> None:
    assert values(engine, "SELECT id FROM d.f ORDER BY x") == [3, 2, 4, 1, 5]
    assert values(engine, "SELECT id FROM d.f ORDER BY x DESC") == [5, 1, 4, 2, 3]
    assert values(engine, "SELECT id FROM d.f ORDER BY x NULLS LAST") == [2, 4, 1, 5, 3]
    assert values(engine, "SELECT id FROM d.f ORDER BY x DESC NULLS FIRST") == [3, 5, 1, 4, 2]
    assert values(engine, "SELECT id, x FROM d.f ORDER BY 2 LIMIT 2") == [3, 2]
    found = rows(
        engine, "SELECT ARRAY_AGG(id ORDER BY x), ARRAY_AGG(id ORDER BY x DESC LIMIT 3) FROM d.f"
    )
    assert found == [([3, 2, 4, 1, 5], [5, 1, 4])]
    ranks = "SELECT id, RANK() OVER (ORDER BY x) AS r FROM d.f ORDER BY id"
    assert rows(engine, ranks) == [(1, 4), (2, 2), (3, 1), (4, 3), (5, 5)]


def test_an_order_by_alias_orders_by_the_select_expression_not_a_same_named_column(
    engine: LocalEngine,
) -> None:
    assert values(engine, "SELECT -id AS id FROM d.f ORDER BY id LIMIT 2") == [-5, -4]
    union = "SELECT x AS v FROM d.f UNION ALL SELECT 0.5 ORDER BY v LIMIT 3"
    assert same(values(engine, union), [None, math.nan, -math.inf])
    numbered = "SELECT id, ROW_NUMBER() OVER (ORDER BY x DESC) AS n FROM d.f ORDER BY n"
    assert values(engine, numbered) == [5, 1, 4, 2, 3]
    unnamed = "SELECT x + 1 FROM d.f UNION ALL SELECT 0.5 ORDER BY 1 DESC LIMIT 4"
    assert same(values(engine, unnamed), [math.inf, 2.5, 0.5, -math.inf])


def test_min_max_least_greatest_return_nan_when_any_input_is_nan(engine: LocalEngine) -> None:
    found = rows(engine, "SELECT MIN(x), MAX(x), MIN(s), MIN(id) FROM d.f")[0]
    assert math.isnan(found[0]) and math.isnan(found[1]) and found[2:] == ("a", 1)
    window = "SELECT MIN(x) OVER (ORDER BY id) FROM d.f ORDER BY id"
    assert same(values(engine, window), [1.5, math.nan, math.nan, math.nan, math.nan])
    least = "SELECT LEAST(x, 0.0), GREATEST(x, 0.0) FROM d.f ORDER BY id"
    found_rows = rows(engine, least)
    assert same([r[0] for r in found_rows], [0.0, math.nan, None, -math.inf, 0.0])
    assert same([r[1] for r in found_rows], [1.5, math.nan, None, 0.0, math.inf])


def test_grouping_and_distinct_keep_nan_as_one_value(engine: LocalEngine) -> None:
    doubled = f"SELECT * FROM UNNEST([{NAN}, {NAN}, 1.0]) AS v"
    assert values(engine, f"SELECT COUNT(DISTINCT v) FROM ({doubled})") == [2]
    assert values(engine, f"SELECT COUNT(*) FROM ({doubled}) GROUP BY v ORDER BY 1") == [1, 2]


def test_dml_and_pivot_keep_their_own_equals_and_in(engine: LocalEngine) -> None:
    engine.execute("CREATE TABLE d.u AS SELECT id, x FROM d.f")
    engine.execute("UPDATE d.u SET x = 0.0 WHERE x != x")
    assert values(engine, "SELECT x FROM d.u WHERE id = 2") == [0.0]
    pivoted = "SELECT * FROM (SELECT s, id FROM d.f) PIVOT (SUM(id) FOR s IN ('a', 'b'))"
    assert rows(engine, pivoted) == [(2, 1)]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT STRUCT(x AS a) = STRUCT(x AS a) FROM d.f",
        "SELECT SUM(id) OVER (ORDER BY x RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM d.f",
        "SELECT * FROM d.f ORDER BY 2",
        "SELECT COUNT(*) FROM d.f AS a LEFT JOIN (SELECT x FROM d.f) AS b USING (x)",
        "SELECT PERCENTILE_CONT(x, 0.5) OVER () FROM d.f",
    ],
)
def test_what_cannot_be_made_faithful_is_refused(engine: LocalEngine, sql: str) -> None:
    with pytest.raises(EngineError, match="not supported by the local engine"):
        engine.execute(sql)


def test_struct_equality_without_floats_and_range_frames_over_integers_still_run(
    engine: LocalEngine,
) -> None:
    assert values(engine, "SELECT STRUCT(id AS a) = STRUCT(1 AS a) FROM d.f WHERE id < 3") == [
        True,
        False,
    ]
    median = "SELECT PERCENTILE_CONT(x, 0.5) OVER () FROM d.f WHERE id != 2 LIMIT 1"
    assert values(engine, median) == [1.5]
    frame = "SELECT SUM(id) OVER (ORDER BY id RANGE BETWEEN 1 PRECEDING AND CURRENT ROW) FROM d.f"
    assert sorted(values(engine, frame)) == [1, 3, 5, 7, 9]


@pytest.mark.parametrize(
    "where",
    ["i < 5 AND s = 'x'", "i BETWEEN 1 AND 9 AND s != 'x'", "i IN (1, 2) OR s >= 'x'"],
)
def test_on_non_float_operands_duckdb_plans_no_nan_test(where: str) -> None:
    import duckdb

    con = duckdb.connect()
    register_nan_macros(con)
    con.execute("CREATE TABLE t AS SELECT range AS i, CAST(range AS VARCHAR) AS s FROM range(9)")
    sql = to_duckdb(sqlglot.parse_one(f"SELECT i FROM t WHERE {where}", read=DIALECT))
    assert "BQ_IS_NAN" in sql.upper()
    plan = "\n".join(str(row[1]) for row in con.execute(f"EXPLAIN {sql}").fetchall())
    assert "isnan" not in plan.lower() and "typeof" not in plan.lower()
