"""GoogleSQL's reference evaluator: run a query over tables given as Python rows.

The reference implementation evaluates exactly what the GoogleSQL specification says;
the local engine's differential tests compare their answers with it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.googlesql.catalog import Column
from pipeline.googlesql.server import GoogleSqlServer, Json
from pipeline.googlesql.values import from_value, to_value


@dataclass(frozen=True)
class Table:
    columns: list[Column]
    rows: Sequence[Sequence[Any]]


@dataclass(frozen=True)
class Result:
    columns: list[Column]
    rows: list[tuple[Any, ...]]


def evaluate_query(
    server: GoogleSqlServer, sql: str, tables: Mapping[str, Table] | None = None
) -> Result:
    """Rows and column types of `sql`; AnalyzerRejected for an analysis or runtime error."""
    tables = tables or {}
    catalog: Json = {
        "name": "tables",
        "builtinFunctionOptions": {"languageOptions": server.language_options},
        "table": [
            {"name": name, "column": [c.proto() for c in table.columns]}
            for name, table in tables.items()
        ],
    }
    content = {
        name: {
            "tableData": {
                "row": [
                    {"cell": [to_value(v, c.type) for v, c in zip(row, table.columns, strict=True)]}
                    for row in table.rows
                ]
            }
        }
        for name, table in tables.items()
    }
    response = server.call(
        "EvaluateQuery",
        {
            "sql": sql,
            "options": {
                "languageOptions": server.language_options,
                "errorMessageMode": "ERROR_MESSAGE_ONE_LINE",
                "defaultTimezone": "UTC",
            },
            "simpleCatalog": catalog,
            "tableContent": content,
        },
    )
    columns = [
        Column(c["name"], c["type"]) for c in response.get("prepared", {}).get("columns", [])
    ]
    rows = [
        tuple(
            from_value(cell, column.type)
            for cell, column in zip(row.get("cell", []), columns, strict=True)
        )
        for row in response.get("content", {}).get("tableData", {}).get("row", [])
    ]
    return Result(columns, rows)
