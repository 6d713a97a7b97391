"""The lake as the REST server shares it: one engine per worker thread, writes one at a time.

DuckDB lets the connections of one process share a database file, each seeing what the
others committed. Queries (scripts of SELECTs only) run side by side on their threads'
own connections; every other script takes the write lock, so two writers never race
for the same rows. Catalog reads for the metadata calls (datasets.list, tables.get, ...)
use one more connection of their own.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from bigquery_facts import LOCAL_PROJECT
from local_engine.catalog import CATALOG_SCHEMA
from local_engine.engine import ExecuteResult, LocalEngine
from local_engine.errors import EngineError
from local_engine.names import TableName
from local_engine.objects import OBJECT_TABLE_SCHEMA, list_objects
from local_engine.projects import lake_project
from local_engine.records import ModelRecord
from local_engine.statements import Statement, split_script

if TYPE_CHECKING:
    import pyarrow as pa

# DuckDB schemas that are no BigQuery dataset.
_HIDDEN_SCHEMAS = ("main", CATALOG_SCHEMA, "information_schema", "pg_catalog")
# Bytes a row's value is counted at, per column, where a table's exact size is unknown.
_BYTES_PER_VALUE = 8


@dataclass(frozen=True)
class TableInfo:
    name: TableName
    kind: str  # "TABLE", "VIEW" or "EXTERNAL" (object tables)
    schema: pa.Schema
    num_rows: int | None
    uris: tuple[str, ...] = ()
    connection: str = ""


@dataclass(frozen=True)
class Plan:
    """What a dry run reports: BigQuery's statement type and the bytes it would read."""

    statements: list[Statement]
    statement_type: str
    bytes_processed: int

    @property
    def writes(self) -> bool:
        return not all(isinstance(s.tree, exp.Query) for s in self.statements)


class Lake:
    def __init__(self, home: Path, *, use_gcs: bool = False) -> None:
        self.home = Path(home)
        self.use_gcs = use_gcs
        self._local = threading.local()
        self._engines: list[LocalEngine] = []
        self._open_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._meta_lock = threading.Lock()
        self._meta = self._open()

    def _open(self) -> LocalEngine:
        with self._open_lock:
            engine = LocalEngine(self.home, self.use_gcs, progress=False)
            self._engines.append(engine)
            return engine

    def _engine(self) -> LocalEngine:
        engine: LocalEngine | None = getattr(self._local, "engine", None)
        if engine is None:
            engine = self._open()
            self._local.engine = engine
        return engine

    def close(self) -> None:
        with self._open_lock:
            for engine in self._engines:
                with contextlib.suppress(Exception):
                    engine.close()
            self._engines.clear()

    def holds_project(self, project: str) -> bool:
        """Whether REST paths naming `project` reach this lake: `local-lake`, or the real
        project its statements claimed (`local_engine.projects`)."""
        if project == LOCAL_PROJECT:
            return True
        with self._meta_lock:
            return project == lake_project(self._meta.catalog)

    # running SQL

    def execute(
        self, plan: Plan, sql: str, running: Callable[[LocalEngine], None] | None = None
    ) -> ExecuteResult:
        """Runs the script on this thread's engine; `running` gets it first (to interrupt it)."""
        engine = self._engine()
        if running is not None:
            running(engine)
        guard = self._write_lock if plan.writes else contextlib.nullcontext()
        with guard:
            return engine.execute(sql)

    def plan(self, sql: str) -> Plan:
        """Parses the script (a syntax error is an EngineError) and estimates what it reads."""
        statements = split_script(sql)
        kinds = [statement_type(s.tree) for s in statements]
        with self._metadata() as engine:
            read = {
                name: self._bytes_of(engine, name)
                for s in statements
                for name in _tables_read(s.tree)
            }
        return Plan(statements, kinds[0] if len(kinds) == 1 else "SCRIPT", sum(read.values()))

    def _bytes_of(self, engine: LocalEngine, name: TableName) -> int:
        definition = engine.catalog.object_table(name)
        if definition is not None:
            return sum(info.size for info in list_objects(engine.store, definition.uris))
        rows = engine.con.execute(
            "SELECT estimated_size, column_count FROM duckdb_tables()"
            " WHERE database_name = current_database() AND schema_name = ? AND table_name = ?",
            [name.dataset, name.name],
        ).fetchall()
        return int(rows[0][0]) * int(rows[0][1]) * _BYTES_PER_VALUE if rows else 0

    # metadata

    @contextlib.contextmanager
    def _metadata(self) -> Iterator[LocalEngine]:
        with self._meta_lock:
            yield self._meta

    def _rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with self._metadata() as engine:
            return engine.con.execute(sql, params).fetchall()

    def datasets(self) -> list[str]:
        hidden = ", ".join(f"'{name}'" for name in _HIDDEN_SCHEMAS)
        rows = self._rows(
            "SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database()"
            f" AND NOT internal AND schema_name NOT IN ({hidden}) ORDER BY 1"
        )
        return [str(row[0]) for row in rows]

    def dataset_exists(self, dataset: str) -> bool:
        return dataset in self.datasets()

    def tables(self, dataset: str) -> list[tuple[str, str]]:
        """(name, kind) of every table, view and object table in the dataset, by name."""
        rows = self._rows(
            "SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE database_name ="
            " current_database() AND schema_name = ? AND NOT temporary"
            " UNION ALL SELECT view_name, 'VIEW' FROM duckdb_views() WHERE database_name ="
            " current_database() AND schema_name = ? AND NOT internal AND NOT temporary"
            f" UNION ALL SELECT name, 'EXTERNAL' FROM {CATALOG_SCHEMA}.object_tables"
            " WHERE dataset = ? ORDER BY 1",
            [dataset, dataset, dataset],
        )
        return [(str(name), str(kind)) for name, kind in rows]

    def table(self, name: TableName) -> TableInfo | None:
        with self._metadata() as engine:
            definition = engine.catalog.object_table(name)
            if definition is not None:
                return TableInfo(
                    name,
                    "EXTERNAL",
                    OBJECT_TABLE_SCHEMA,
                    None,
                    definition.uris,
                    definition.connection,
                )
            kind = engine.catalog.relation_kind(name)
            if kind not in ("table", "view"):
                return None
            relation = engine.con.sql(f'SELECT * FROM "{name.dataset}"."{name.name}" LIMIT 0')
            schema = _with_required(engine, name, relation.to_arrow_table().schema)
            rows = None
            if kind == "table":
                count = engine.con.sql(f'SELECT count(*) FROM "{name.dataset}"."{name.name}"')
                rows = int(count.fetchall()[0][0])
            return TableInfo(name, kind.upper(), schema, rows)

    def table_rows(self, name: TableName, start: int, count: int) -> pa.Table:
        with self._metadata() as engine:
            return engine.con.sql(
                f'SELECT * FROM "{name.dataset}"."{name.name}" LIMIT {int(count)} OFFSET {int(start)}'
            ).to_arrow_table()

    def models(self, dataset: str) -> list[str]:
        with self._metadata() as engine:
            return [m.name for m in engine.catalog.models() if m.dataset == dataset]

    def model(self, name: TableName) -> ModelRecord | None:
        with self._metadata() as engine:
            text = engine.catalog.model_json(name)
        return None if text is None else ModelRecord.from_json(text)


def _with_required(engine: LocalEngine, name: TableName, schema: pa.Schema) -> pa.Schema:
    """NOT NULL columns become non-nullable fields (BigQuery's mode REQUIRED)."""
    rows = engine.con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database()"
        " AND schema_name = ? AND table_name = ? AND NOT is_nullable",
        [name.dataset, name.name],
    ).fetchall()
    required = {str(row[0]) for row in rows}
    for index, field in enumerate(schema):
        if field.name in required:
            schema = schema.set(index, field.with_nullable(False))
    return schema


def _tables_read(tree: exp.Expr) -> set[TableName]:
    """Dataset-qualified tables the statement names, except CTEs and the statement's target."""
    target = tree.this if isinstance(tree, exp.Create | exp.Insert | exp.Drop) else None
    if isinstance(target, exp.Schema):
        target = target.this
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    found = set()
    for table in tree.find_all(exp.Table):
        if table is target or not table.db or table.name in ctes:
            continue
        found.add(TableName(table.db, table.name))
    return found


_DML = {exp.Insert: "INSERT", exp.Update: "UPDATE", exp.Delete: "DELETE", exp.Merge: "MERGE"}


def statement_type(tree: exp.Expr) -> str:
    """BigQuery's statistics.query.statementType for one statement."""
    if isinstance(tree, exp.Query):
        return "SELECT"
    for dml, name in _DML.items():
        if isinstance(tree, dml):
            return name
    if isinstance(tree, exp.TruncateTable):
        return "TRUNCATE_TABLE"
    kind = str(tree.args.get("kind") or "").upper()
    if isinstance(tree, exp.Alter):
        return f"ALTER_{kind or 'TABLE'}"
    if isinstance(tree, exp.Drop):
        return f"DROP_{kind}"
    if isinstance(tree, exp.Create):
        properties = tree.args.get("properties")
        found = properties.expressions if properties is not None else []
        if any(isinstance(prop, exp.ExternalProperty) for prop in found):
            return "CREATE_EXTERNAL_TABLE"
        if kind == "TABLE" and tree.expression is not None:
            return "CREATE_TABLE_AS_SELECT"
        return f"CREATE_{kind}"
    raise EngineError(f"{tree.key.upper()} statements are not supported by the local engine")
