"""LocalEngine: runs BigQuery SQL scripts on the local lake, one transaction per statement.

The lake is a directory (HOME): objects under HOME/gcs, datasets, tables and the
catalog in HOME/warehouse.duckdb, converted models under HOME/models. Each statement
runs in its own DuckDB transaction, so a failed one leaves the lake as it was.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from sqlglot import exp

from local_engine.catalog import Catalog
from local_engine.ddl import (
    DdlContext,
    create_external_table,
    create_model,
    create_schema,
    drop_model,
    drop_object_table,
    drop_schema,
    dropped_table,
)
from local_engine.errors import EngineError
from local_engine.errortrap import ErrorTrap
from local_engine.names import TableName, connection_name, connection_project
from local_engine.nan_order import apply_nan_semantics, register_nan_macros
from local_engine.positions import register_position_macros
from local_engine.projects import claim_projects, projects_named
from local_engine.relations import Bindings, QueryContext, bind_relations, image_function_suffix
from local_engine.statements import Statement, split_script
from local_engine.storage import ObjectStore, open_store, use_gcs_requested
from local_engine.text_forms import register_text_functions
from local_engine.transpile import (
    name_unnamed_columns,
    strip_project,
    to_duckdb,
)

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

WAREHOUSE_FILE = "warehouse.duckdb"

# Statements handed to DuckDB after transpiling; anything else is refused by name.
_TRANSPILED = (
    exp.Query,
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.TruncateTable,
    exp.Alter,
)


@dataclass(frozen=True)
class StatementSummary:
    index: int
    kind: str  # "CREATE SCHEMA", "CREATE EXTERNAL TABLE", "CREATE MODEL", "SELECT", "INSERT", ...
    rows: int | None  # rows returned (queries) or affected (DML); None for DDL


@dataclass
class ExecuteResult:
    table: pa.Table | None = None
    statements: list[StatementSummary] = field(default_factory=list)


class LocalEngine:
    def __init__(
        self,
        home: Path,
        use_gcs: bool = False,
        *,
        progress: bool = True,
        store: ObjectStore | None = None,
    ) -> None:
        """`store`, when given, serves the gs:// objects instead of HOME/gcs or Cloud Storage."""
        import duckdb

        self.home = Path(home)
        self.use_gcs = use_gcs_requested(use_gcs)
        self.progress = progress
        (self.home / "gcs").mkdir(parents=True, exist_ok=True)
        try:
            self.con: duckdb.DuckDBPyConnection = duckdb.connect(
                str(self.home / WAREHOUSE_FILE),
                config={"autoinstall_known_extensions": False, "TimeZone": "UTC"},
            )
        except duckdb.IOException as exc:
            raise EngineError(
                f"cannot open the lake at {self.home}: {' '.join(str(exc).split())}"
            ) from exc
        self.catalog = Catalog(self.con)
        self.catalog.ensure()
        register_string_functions(self.con)
        register_text_functions(self.con)
        register_position_macros(self.con)
        register_nan_macros(self.con)
        self._store = store
        self._trap: ErrorTrap | None = None
        self._image_suffix = image_function_suffix()

    @property
    def store(self) -> ObjectStore:
        if self._store is None:
            self._store = open_store(self.home, self.use_gcs)
        return self._store

    # connections: BigQuery creates them outside SQL, so the lake keeps a registry

    def create_connection(self, name: str) -> str:
        normalized = connection_name(name)
        project = connection_project(name)
        if project is not None:
            claim_projects(self.catalog, [(project, f"connection {name}")])
        self.catalog.add_connection(normalized)
        return normalized

    def drop_connection(self, name: str) -> None:
        normalized = connection_name(name)
        if not self.catalog.drop_connection(normalized):
            raise EngineError(f"connection {normalized} not found")

    def connections(self) -> list[str]:
        return self.catalog.connections()

    # statements

    def execute(self, sql: str) -> ExecuteResult:
        result = ExecuteResult()
        for statement in split_script(sql):
            table, summary = self._run(statement)
            result.statements.append(summary)
            if table is not None:
                result.table = table
        return result

    def _run(self, statement: Statement) -> tuple[pa.Table | None, StatementSummary]:
        import duckdb

        bindings = Bindings(self.con)
        query_ctx = QueryContext(
            self.catalog,
            self.store,
            self.home,
            self.progress,
            trap=self._statement_trap(),
            image_functions_on=(self.con, self._image_suffix),
        )
        self.con.begin()
        try:
            claim_projects(self.catalog, projects_named(statement.tree))
            table, rows = self._dispatch(statement.tree.copy(), bindings, query_ctx)
            self.con.commit()
        except BaseException as exc:
            self._rollback()
            trapped = query_ctx.trap.error
            if isinstance(exc, EngineError):
                raise EngineError(f"{statement.label}: {exc}") from exc
            if isinstance(trapped, EngineError):
                raise EngineError(f"{statement.label}: {trapped}") from trapped
            if isinstance(exc, duckdb.ParserException):
                # The statement read as BigQuery SQL, but its translation is not DuckDB's:
                # a form of the statement the engine does not translate.
                raise EngineError(
                    f"{statement.label}: this form of {_kind(statement.tree)} is not supported"
                    f" by the local engine ({_clean(exc)})"
                ) from exc
            if isinstance(exc, duckdb.Error):
                raise EngineError(f"{statement.label}: {_clean(exc)}") from exc
            raise
        finally:
            bindings.close()
        return table, StatementSummary(statement.index, _kind(statement.tree), rows)

    def _statement_trap(self) -> ErrorTrap:
        """A cleared trap, guarding the image functions registered on this connection.

        They are registered once, outside any statement's transaction: a rollback would
        drop them from DuckDB's catalog but not from the connection, which then refuses
        to register them again.
        """
        if self._trap is None:
            from local_engine.images import register_image_functions

            self._trap = ErrorTrap()
            register_image_functions(self.con, self._trap, self._image_suffix)
        self._trap.error = None
        return self._trap

    def _rollback(self) -> None:
        import duckdb

        # Nothing to undo when DuckDB already ended the transaction itself.
        with contextlib.suppress(duckdb.Error):
            self.con.rollback()

    def _dispatch(
        self, tree: exp.Expr, bindings: Bindings, query_ctx: QueryContext
    ) -> tuple[pa.Table | None, int | None]:
        if self._run_in_engine(tree):
            return None, None
        if not isinstance(tree, _TRANSPILED):
            raise EngineError(f"{_kind(tree)} statements are not supported by the local engine")
        return self._transpiled(tree, bindings, query_ctx)

    def _run_in_engine(self, tree: exp.Expr) -> bool:
        """Runs the statements DuckDB cannot (schemas, object tables, models); True if it did."""
        ddl = DdlContext(self.con, self.catalog, self.store, self.home)
        kind = str(tree.args.get("kind") or "").upper()
        if isinstance(tree, exp.Create):
            if kind == "SCHEMA":
                create_schema(ddl, tree)
            elif kind == "MODEL":
                create_model(ddl, tree)
            elif _is_external(tree):
                create_external_table(ddl, tree)
            elif kind in ("TABLE", "VIEW"):
                return self._object_table_in_the_way(tree)
            else:
                return False
            return True
        if isinstance(tree, exp.Drop):
            if kind == "SCHEMA":
                drop_schema(ddl, tree)
            elif kind == "MODEL":
                drop_model(ddl, tree)
            elif kind == "TABLE" and self._is_object_table(dropped_table(tree)):
                dropped = dropped_table(tree)
                drop_object_table(ddl, TableName(dropped.db, dropped.name))
            else:
                return False
            return True
        return False

    def _is_object_table(self, table: exp.Table) -> bool:
        return (
            bool(table.db)
            and self.catalog.object_table(TableName(table.db, table.name)) is not None
        )

    def _object_table_in_the_way(self, create: exp.Create) -> bool:
        """CREATE TABLE/VIEW over an object table's name: True when IF NOT EXISTS makes it a no-op."""
        target = create.this.this if isinstance(create.this, exp.Schema) else create.this
        if not isinstance(target, exp.Table) or not self._is_object_table(target):
            return False
        name = TableName(target.db, target.name)
        if create.args.get("replace"):
            self.catalog.drop_object_table(name)
            return False
        if create.args.get("exists"):
            return True
        raise EngineError(f"object table {name} already exists")

    def _transpiled(
        self, tree: exp.Expr, bindings: Bindings, query_ctx: QueryContext
    ) -> tuple[pa.Table | None, int | None]:
        strip_project(tree)
        if isinstance(tree, exp.Query):
            name_unnamed_columns(tree)
        apply_nan_semantics(tree)  # also over ML.PREDICT's input, which is bound below
        bind_relations(tree, query_ctx, bindings)
        is_view = isinstance(tree, exp.Create) and str(tree.args.get("kind")).upper() == "VIEW"
        if is_view and bindings.bound:
            # The Arrow streams a view would read exist only while this statement runs.
            raise EngineError(
                "a view over object tables or ML.PREDICT is not supported by the local engine;"
                " use CREATE TABLE ... AS SELECT"
            )
        sql = to_duckdb(tree, nan_semantics=False)
        if isinstance(tree, exp.Query):
            table = _int64_results(self.con.sql(sql)).to_arrow_table()
            return table, table.num_rows
        cursor = self.con.execute(sql)
        rows = cursor.fetchall() if cursor.description else []
        affected = rows[0][0] if len(rows) == 1 and len(rows[0]) == 1 else None
        return None, affected if isinstance(affected, int) else None

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# DuckDB result types with no BigQuery counterpart, and the BigQuery type they stand for:
# every integer is INT64 (an overflow fails), every binary float FLOAT64.
_RESULT_TYPES = re.compile(
    r"\b(HUGEINT|UHUGEINT|UBIGINT|INTEGER|SMALLINT|TINYINT|UINTEGER|USMALLINT|UTINYINT|FLOAT)\b"
)


def _int64_results(relation: duckdb.DuckDBPyRelation) -> duckdb.DuckDBPyRelation:
    """Result columns in BigQuery's types: DuckDB's narrower and wider integers become INT64."""
    types = [str(t) for t in relation.types]
    if not any(_RESULT_TYPES.search(t) for t in types):
        return relation
    projections = []
    for name, type_ in zip(relation.columns, types, strict=True):
        quoted = '"' + name.replace('"', '""') + '"'
        if _RESULT_TYPES.search(type_):
            target = _RESULT_TYPES.sub(
                lambda m: "DOUBLE" if m.group(1) == "FLOAT" else "BIGINT", type_
            )
            projections.append(f"CAST({quoted} AS {target}) AS {quoted}")
        else:
            projections.append(quoted)
    return relation.project(", ".join(projections))


def register_string_functions(con: duckdb.DuckDBPyConnection) -> None:
    """UPPER and LOWER with Unicode's full case mappings (Python's), as BigQuery has them."""
    import duckdb

    for name, function in (("bq_upper", str.upper), ("bq_lower", str.lower)):
        # Connections to one lake file in one process share its catalog: register once.
        with contextlib.suppress(duckdb.CatalogException):
            con.create_function(
                name,
                function,
                [duckdb.sqltype("VARCHAR")],
                duckdb.sqltype("VARCHAR"),
                side_effects=False,
            )


def _is_external(create: exp.Create) -> bool:
    properties = create.args.get("properties")
    found = properties.expressions if properties is not None else []
    return any(isinstance(prop, exp.ExternalProperty) for prop in found)


def _kind(tree: exp.Expr) -> str:
    if isinstance(tree, exp.Create | exp.Drop):
        kind = str(tree.args.get("kind") or "").upper()
        verb = "CREATE" if isinstance(tree, exp.Create) else "DROP"
        external = " EXTERNAL" if isinstance(tree, exp.Create) and _is_external(tree) else ""
        return f"{verb}{external} {kind}".strip()
    if isinstance(tree, exp.Command):
        return str(tree.this).upper()
    return tree.key.upper()


_UNKNOWN_FUNCTION = re.compile(
    r"Catalog Error: (?:Scalar|Aggregate|Table) Function with name (\w+)"
)


def _clean(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    unknown = _UNKNOWN_FUNCTION.search(text)
    if unknown:
        # A BigQuery function DuckDB lacks: refused by name, not reported as DuckDB's error.
        return f"function {unknown.group(1).upper()} is not supported by the local engine"
    # DuckDB's spelling hints may point at the engine's own hidden names; drop those.
    return re.sub(r' Did you mean "[^"]*sqlrunner[^"]*"\?', "", text)
