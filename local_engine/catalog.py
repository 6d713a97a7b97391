"""The lake's catalog of what DuckDB cannot hold itself: connections, object tables, models.

It lives in the DuckDB file, in schema `_sqlrunner`, so the statement's transaction
covers it: a failed statement rolls the catalog back with everything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from local_engine.names import TableName

if TYPE_CHECKING:
    import duckdb

CATALOG_SCHEMA = "_sqlrunner"

_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {CATALOG_SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {CATALOG_SCHEMA}.connections (
        name VARCHAR PRIMARY KEY,
        created TIMESTAMPTZ DEFAULT current_timestamp)""",
    f"""CREATE TABLE IF NOT EXISTS {CATALOG_SCHEMA}.object_tables (
        dataset VARCHAR, name VARCHAR, connection VARCHAR, uris VARCHAR[],
        object_metadata VARCHAR, created TIMESTAMPTZ DEFAULT current_timestamp,
        PRIMARY KEY (dataset, name))""",
    f"""CREATE TABLE IF NOT EXISTS {CATALOG_SCHEMA}.settings (
        key VARCHAR PRIMARY KEY, value VARCHAR)""",
    f"""CREATE TABLE IF NOT EXISTS {CATALOG_SCHEMA}.models (
        dataset VARCHAR, name VARCHAR, record VARCHAR,
        created TIMESTAMPTZ DEFAULT current_timestamp,
        PRIMARY KEY (dataset, name))""",
)


@dataclass(frozen=True)
class ObjectTableDef:
    name: TableName
    connection: str
    uris: tuple[str, ...]
    object_metadata: str = "SIMPLE"


class Catalog:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def ensure(self) -> None:
        for statement in _DDL:
            self._rows(statement)

    def _rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        cursor = self._con.execute(sql, params)
        return cursor.fetchall() if cursor.description else []

    # datasets and DuckDB relations

    def dataset_exists(self, dataset: str) -> bool:
        return bool(
            self._rows(
                "SELECT 1 FROM duckdb_schemas() WHERE database_name = current_database()"
                " AND schema_name = ?",
                [dataset],
            )
        )

    def relation_kind(self, name: TableName) -> str | None:
        """'table', 'view', 'object table', 'model' or None."""
        rows = self._rows(
            "SELECT 'table' FROM duckdb_tables() WHERE database_name = current_database()"
            " AND schema_name = ? AND table_name = ?"
            " UNION ALL SELECT 'view' FROM duckdb_views() WHERE database_name = current_database()"
            " AND schema_name = ? AND view_name = ?",
            [name.dataset, name.name, name.dataset, name.name],
        )
        if rows:
            return str(rows[0][0])
        if self.object_table(name) is not None:
            return "object table"
        return None

    def objects_in(self, dataset: str) -> int:
        return len(
            self._rows(
                f"SELECT 1 FROM {CATALOG_SCHEMA}.object_tables WHERE dataset = ?"
                f" UNION ALL SELECT 1 FROM {CATALOG_SCHEMA}.models WHERE dataset = ?",
                [dataset, dataset],
            )
        )

    def drop_dataset_entries(self, dataset: str) -> None:
        for table in ("object_tables", "models"):
            self._rows(f"DELETE FROM {CATALOG_SCHEMA}.{table} WHERE dataset = ?", [dataset])

    # connections

    # settings of the lake as a whole

    def setting(self, key: str) -> str | None:
        rows = self._rows(f"SELECT value FROM {CATALOG_SCHEMA}.settings WHERE key = ?", [key])
        return None if not rows else str(rows[0][0])

    def put_setting(self, key: str, value: str) -> None:
        self._rows(
            f"INSERT OR REPLACE INTO {CATALOG_SCHEMA}.settings (key, value) VALUES (?, ?)",
            [key, value],
        )

    def add_connection(self, name: str) -> bool:
        """Registers a connection; False when it already existed."""
        if self.has_connection(name):
            return False
        self._rows(f"INSERT INTO {CATALOG_SCHEMA}.connections (name) VALUES (?)", [name])
        return True

    def has_connection(self, name: str) -> bool:
        return bool(
            self._rows(f"SELECT 1 FROM {CATALOG_SCHEMA}.connections WHERE name = ?", [name])
        )

    def connections(self) -> list[str]:
        return [
            str(row[0])
            for row in self._rows(f"SELECT name FROM {CATALOG_SCHEMA}.connections ORDER BY name")
        ]

    def drop_connection(self, name: str) -> bool:
        if not self.has_connection(name):
            return False
        self._rows(f"DELETE FROM {CATALOG_SCHEMA}.connections WHERE name = ?", [name])
        return True

    # object tables

    def put_object_table(self, table: ObjectTableDef) -> None:
        self.drop_object_table(table.name)
        self._rows(
            f"INSERT INTO {CATALOG_SCHEMA}.object_tables"
            " (dataset, name, connection, uris, object_metadata) VALUES (?, ?, ?, ?, ?)",
            [
                table.name.dataset,
                table.name.name,
                table.connection,
                list(table.uris),
                table.object_metadata,
            ],
        )

    def object_table(self, name: TableName) -> ObjectTableDef | None:
        rows = self._rows(
            f"SELECT connection, uris, object_metadata FROM {CATALOG_SCHEMA}.object_tables"
            " WHERE dataset = ? AND name = ?",
            [name.dataset, name.name],
        )
        if not rows:
            return None
        connection, uris, object_metadata = rows[0]
        return ObjectTableDef(name, str(connection), tuple(uris), str(object_metadata))

    def drop_object_table(self, name: TableName) -> bool:
        if self.object_table(name) is None:
            return False
        self._rows(
            f"DELETE FROM {CATALOG_SCHEMA}.object_tables WHERE dataset = ? AND name = ?",
            [name.dataset, name.name],
        )
        return True

    # models (the record is a ModelRecord as JSON)

    def put_model(self, name: TableName, record_json: str) -> None:
        self.drop_model(name)
        self._rows(
            f"INSERT INTO {CATALOG_SCHEMA}.models (dataset, name, record) VALUES (?, ?, ?)",
            [name.dataset, name.name, record_json],
        )

    def model_json(self, name: TableName) -> str | None:
        rows = self._rows(
            f"SELECT record FROM {CATALOG_SCHEMA}.models WHERE dataset = ? AND name = ?",
            [name.dataset, name.name],
        )
        return str(rows[0][0]) if rows else None

    def models(self) -> list[TableName]:
        rows = self._rows(f"SELECT dataset, name FROM {CATALOG_SCHEMA}.models ORDER BY 1, 2")
        return [TableName(str(d), str(n)) for d, n in rows]

    def drop_model(self, name: TableName) -> bool:
        if self.model_json(name) is None:
            return False
        self._rows(
            f"DELETE FROM {CATALOG_SCHEMA}.models WHERE dataset = ? AND name = ?",
            [name.dataset, name.name],
        )
        return True
