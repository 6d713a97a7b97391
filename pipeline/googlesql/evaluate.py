"""GoogleSQL's reference evaluator: run a query, or an INSERT, UPDATE or DELETE, over tables
given as Python rows.

The reference implementation evaluates exactly what the GoogleSQL specification says;
the local engine's differential tests compare their answers with it. For DML it answers
with the rows it touched, not the table after: `table_after` applies them. UPDATE and
DELETE name the rows they touched by primary key, so `evaluate_modify` gives every table
a hidden key column (a pseudo-column, which `SELECT *` leaves out); INSERT runs without
it, since the evaluator refuses two inserted rows with the same (NULL) key.
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


@dataclass(frozen=True)
class RowChange:
    """One row a DML statement touched: INSERT, UPDATE or DELETE, the new cells, the old key."""

    operation: str
    cells: tuple[Any, ...]
    row: int | None  # the touched row's position in the table before; None for INSERT


_ROW_KEY = Column("_row_key", {"typeKind": "TYPE_INT64"}, pseudo=True)


def _request(server: GoogleSqlServer, sql: str, tables: Mapping[str, Table], keyed: bool) -> Json:
    """The request body both evaluations share: the SQL, options, catalog and contents."""

    def columns(table: Table) -> list[Column]:
        return [*table.columns, _ROW_KEY] if keyed else table.columns

    catalog: Json = {
        "name": "tables",
        "builtinFunctionOptions": {"languageOptions": server.language_options},
        "table": [
            {
                "name": name,
                "column": [c.proto() for c in columns(table)],
                **({"primaryKeyColumnIndex": [len(table.columns)]} if keyed else {}),
            }
            for name, table in tables.items()
        ],
    }
    content = {
        name: {
            "tableData": {
                "row": [
                    {
                        "cell": [
                            to_value(v, c.type)
                            for v, c in zip(
                                [*row, i] if keyed else row, columns(table), strict=True
                            )
                        ]
                    }
                    for i, row in enumerate(table.rows)
                ]
            }
        }
        for name, table in tables.items()
    }
    return {
        "sql": sql,
        "options": {
            "languageOptions": server.language_options,
            "errorMessageMode": "ERROR_MESSAGE_ONE_LINE",
            "defaultTimezone": "UTC",
        },
        "simpleCatalog": catalog,
        "tableContent": content,
    }


def evaluate_modify(
    server: GoogleSqlServer, sql: str, tables: Mapping[str, Table]
) -> tuple[str, list[RowChange]]:
    """The table an INSERT, UPDATE or DELETE changes and the rows it touched."""
    keyed = not sql.lstrip().upper().startswith("INSERT")
    response = server.call("EvaluateModify", _request(server, sql, tables, keyed))
    name = str(response.get("tableName", ""))
    columns = tables[name].columns
    changes = []
    for row in response.get("content", []):
        cells = tuple(
            from_value(cell, column.type)
            for cell, column in zip(row.get("cell", []), columns, strict=False)
        )
        key = row.get("oldPrimaryKey")
        changes.append(
            RowChange(row["operation"], cells, int(key[0]["int64Value"]) if key else None)
        )
    return name, changes


def table_after(table: Table, changes: Sequence[RowChange]) -> list[tuple[Any, ...]]:
    """`table`'s rows once `changes` are applied: kept rows in order, then inserted ones."""
    rows: dict[int, tuple[Any, ...] | None] = {i: tuple(r) for i, r in enumerate(table.rows)}
    inserted = []
    for change in changes:
        if change.operation == "INSERT":
            inserted.append(change.cells)
        elif change.row is not None:
            rows[change.row] = change.cells if change.operation == "UPDATE" else None
    return [row for row in rows.values() if row is not None] + inserted


def evaluate_query(
    server: GoogleSqlServer, sql: str, tables: Mapping[str, Table] | None = None
) -> Result:
    """Rows and column types of `sql`; AnalyzerRejected for an analysis or runtime error."""
    response = server.call("EvaluateQuery", _request(server, sql, tables or {}, keyed=False))
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
