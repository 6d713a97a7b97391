"""Run one query on the local engine and on GoogleSQL's reference evaluator; compare answers.

Tables are given once, as GoogleSQL columns and Python rows, and loaded into both: into
the lake's DuckDB file (schema from the name's dataset) and into the evaluator's catalog
under the back-quoted name (`ds.t`), so the very same SQL text runs on both. An answer
is the rows, or the fact that the query failed (BigQuery fails the whole query when one
row raises); rows compare exactly, except floats, which compare to 1e-12 relative, NaN
equal to NaN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from local_engine.engine import LocalEngine
from local_engine.errors import EngineError
from pipeline.googlesql.evaluate import Table, evaluate_query
from pipeline.googlesql.server import AnalyzerRejected, GoogleSqlServer
from pipeline.googlesql.types import TypeDict


@dataclass(frozen=True)
class Answer:
    rows: list[tuple[Any, ...]] | None  # None: the query failed
    error: str = ""

    def __str__(self) -> str:
        return f"error: {self.error}" if self.rows is None else repr(self.rows)


def arrow_type(type_: TypeDict) -> pa.DataType:
    kind = type_["typeKind"]
    if kind == "TYPE_ARRAY":
        return pa.list_(arrow_type(type_["arrayType"]["elementType"]))
    if kind == "TYPE_STRUCT":
        return pa.struct(
            [
                pa.field(f.get("fieldName") or f"_{i}", arrow_type(f["fieldType"]))
                for i, f in enumerate(type_["structType"]["field"])
            ]
        )
    return {
        "TYPE_INT64": pa.int64(),
        "TYPE_DOUBLE": pa.float64(),
        "TYPE_STRING": pa.string(),
        "TYPE_BOOL": pa.bool_(),
        "TYPE_BYTES": pa.binary(),
        "TYPE_DATE": pa.date32(),
        "TYPE_TIMESTAMP": pa.timestamp("us", tz="UTC"),
    }[kind]


def load_tables(engine: LocalEngine, tables: Mapping[str, Table]) -> None:
    for name, table in tables.items():
        dataset, table_name = name.split(".")[-2:]
        name = f"{dataset}.{table_name}"
        engine.con.execute(f"CREATE SCHEMA IF NOT EXISTS {dataset}")
        schema = pa.schema([pa.field(c.name, arrow_type(c.type)) for c in table.columns])
        data = pa.Table.from_pylist(
            [{c.name: v for c, v in zip(table.columns, row, strict=True)} for row in table.rows],
            schema=schema,
        )
        engine.con.register("_differential_rows", data)
        try:
            engine.con.execute(
                f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _differential_rows"
            )
        finally:
            engine.con.unregister("_differential_rows")


def local_answer(engine: LocalEngine, sql: str, tables: Mapping[str, Table]) -> Answer:
    load_tables(engine, tables)
    try:
        result = engine.execute(sql).table
    except EngineError as exc:
        return Answer(None, str(exc))
    assert result is not None
    return Answer([tuple(row.values()) for row in result.to_pylist()])


def reference_answer(server: GoogleSqlServer, sql: str, tables: Mapping[str, Table]) -> Answer:
    try:
        result = evaluate_query(server, sql, tables)
    except AnalyzerRejected as exc:
        if exc.error.line is not None:
            raise AssertionError(f"GoogleSQL cannot analyze the case: {exc} in {sql}") from exc
        return Answer(None, str(exc))
    return Answer(result.rows)


def same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return a == b or math.isclose(a, b, rel_tol=1e-12)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same_value(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def same_answer(local: Answer, reference: Answer) -> bool:
    if local.rows is None or reference.rows is None:
        return local.rows is None and reference.rows is None
    return same_value(local.rows, reference.rows)


def disagreement(sql: str, local: Answer, reference: Answer) -> str:
    return f"{sql}\n  local engine: {local}\n  GoogleSQL:    {reference}"


def compare(
    engine: LocalEngine, server: GoogleSqlServer, sql: str, tables: Mapping[str, Table]
) -> str | None:
    """None when both give the same answer; else a description of the disagreement."""
    local = local_answer(engine, sql, tables)
    reference = reference_answer(server, sql, tables)
    return None if same_answer(local, reference) else disagreement(sql, local, reference)


def sorted_rows(rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return sorted(rows, key=repr)
