"""What DuckDB cannot scan itself, bound as Arrow readers for one statement.

Object-table references become readers listed from the store; `ML.PREDICT(...)` calls
become the predictor's output stream, fed by the input query run on its own cursor.
The statement's tree is rewritten to read those registered names instead.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from local_engine.catalog import Catalog, ObjectTableDef
from local_engine.errors import EngineError
from local_engine.errortrap import ErrorTrap
from local_engine.names import TableName
from local_engine.nan_order import register_nan_macros
from local_engine.objects import (
    DATA_COLUMN,
    MD5_COLUMN,
    list_objects,
    object_table_reader,
    with_object_bytes,
)
from local_engine.positions import register_position_macros
from local_engine.predict_sql import outer_needs_column, plan_input
from local_engine.storage import ObjectInfo, ObjectStore
from local_engine.transpile import rewrite_image_functions, to_duckdb

if TYPE_CHECKING:
    import duckdb

_names = itertools.count(1)
_image_function_sets = itertools.count(1)


def image_function_suffix() -> str:
    """A new ending for one connection's image-function names, unique in this process."""
    return f"_{next(_image_function_sets)}"


PREDICT_BATCH_ROWS = 256
DML_TARGETS = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.TruncateTable)


@dataclass
class QueryContext:
    catalog: Catalog
    store: ObjectStore
    home: Path
    progress: bool
    trap: ErrorTrap = field(default_factory=ErrorTrap)
    # A connection that has the image functions already, guarded by `trap`, and the
    # suffix of their names there.
    image_functions_on: tuple[duckdb.DuckDBPyConnection, str] | None = None
    _image_functions: dict[int, str] = field(default_factory=dict)
    _listings: dict[TableName, list[ObjectInfo]] = field(default_factory=dict)
    _object_tables: dict[TableName, ObjectTableDef | None] = field(default_factory=dict)

    def object_table(self, name: TableName) -> ObjectTableDef | None:
        """The object table's definition, read from the catalog once per statement."""
        if name not in self._object_tables:
            self._object_tables[name] = self.catalog.object_table(name)
        return self._object_tables[name]

    def objects(self, name: TableName, uris: Sequence[str]) -> list[ObjectInfo]:
        """The object table's objects, listed on the statement's first reference to it."""
        if name not in self._listings:
            self._listings[name] = list_objects(self.store, uris)
        return self._listings[name]

    def ensure_image_functions(self, con: duckdb.DuckDBPyConnection) -> str:
        """The suffix of the image functions' names on `con`, registering them if needed."""
        if self.image_functions_on is not None and con is self.image_functions_on[0]:
            return self.image_functions_on[1]
        if id(con) not in self._image_functions:
            from local_engine.images import register_image_functions

            suffix = image_function_suffix()
            register_image_functions(con, self.trap, suffix)
            self._image_functions[id(con)] = suffix
        return self._image_functions[id(con)]

    def model(self, name: TableName) -> Any:
        from local_engine.models import ModelRecord

        text = self.catalog.model_json(name)
        if text is None:
            raise EngineError(f"model {name} not found")
        return ModelRecord.from_json(text)


class Bindings:
    """Names registered on one connection for one statement; `close` undoes all of it."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self._names: list[str] = []
        self._readers: list[pa.RecordBatchReader] = []
        self._children: list[Bindings] = []

    def register(self, prefix: str, reader: pa.RecordBatchReader) -> str:
        name = f"__sqlrunner_{prefix}_{next(_names)}"
        self.con.register(name, reader)
        self._names.append(name)
        self._readers.append(reader)
        return name

    @property
    def bound(self) -> bool:
        return bool(self._names)

    def child(self) -> Bindings:
        cursor = self.con.cursor()
        # A cursor is a connection of its own: the engine's TEMP macros are not in it.
        register_position_macros(cursor)
        register_nan_macros(cursor)
        bindings = Bindings(cursor)
        self._children.append(bindings)
        return bindings

    def close(self) -> None:
        for reader in self._readers:
            reader.close()
        for child in self._children:
            child.close()
            child.con.close()
        for name in self._names:
            # duckdb may refuse while a failed result is still pending; the name dies with it.
            with contextlib.suppress(Exception):
                self.con.unregister(name)


def bind_relations(tree: exp.Expr, ctx: QueryContext, bindings: Bindings) -> None:
    """Rewrites `tree` in place so DuckDB can run it on `bindings.con`."""
    for predict in _outermost(tree, exp.Predict):
        _bind_predict(tree, predict, ctx, bindings)
    _bind_object_tables(tree, ctx, bindings)
    rewrite_image_functions(tree, lambda: ctx.ensure_image_functions(bindings.con))


def _outermost(tree: exp.Expr, kind: type[exp.Expr]) -> list[Any]:
    found = [node for node in tree.find_all(kind)]
    return [node for node in found if not any(node is not o and _inside(node, o) for o in found)]


def _inside(node: exp.Expr, ancestor: exp.Expr) -> bool:
    parent = node.parent
    while parent is not None:
        if parent is ancestor:
            return True
        parent = parent.parent
    return False


def _bind_predict(
    tree: exp.Expr, predict: exp.Predict, ctx: QueryContext, bindings: Bindings
) -> None:
    from local_engine.models import load_model
    from local_engine.predict import FusedImageFeature, predict_stream

    if predict.args.get("params_struct") is not None:
        raise EngineError("ML.PREDICT's STRUCT of settings is not supported by the local engine")
    model_ref = predict.this
    if not isinstance(model_ref, exp.Table) or not model_ref.db:
        raise EngineError("ML.PREDICT needs MODEL dataset.model as its first argument")
    record = ctx.model(TableName(model_ref.db, model_ref.name))
    features = [spec.name for spec in record.features]
    plan = plan_input(
        predict,
        features,
        outer_needs_column(tree, predict),
        lambda table: _object_table_name(table, ctx) is not None,
    )

    child = bindings.child()
    bind_relations(plan.query, ctx, child)
    sql = to_duckdb(plan.query, nan_semantics=False)  # the statement's pass covered it
    try:
        source = child.con.sql(sql).to_arrow_reader(PREDICT_BATCH_ROWS)
    except Exception as exc:
        raise EngineError(f"ML.PREDICT input query failed: {_duckdb_message(exc)}") from exc
    by_uri = [p.source_column for p in plan.fused.values() if p.bytes_from_uri]
    if by_uri:
        source = with_object_bytes(ctx.trap.wrap(source), ctx.store, by_uri)
    fused = {
        feature: FusedImageFeature(
            source_column=p.source_column,
            uri_column=p.uri_column,
            resize=p.resize,
            emit=p.emit,
        )
        for feature, p in plan.fused.items()
    }
    output = predict_stream(
        load_model(record, ctx.home), ctx.trap.wrap(source), fused, progress=ctx.progress
    )
    name = bindings.register("predict", ctx.trap.wrap(output))

    wrapper = predict.parent
    alias = wrapper.args.get("alias") if isinstance(wrapper, exp.Table) else None
    replacement: exp.Expr
    if plan.hidden:
        star = exp.Star(except_=[exp.column(column, quoted=True) for column in plan.hidden])
        replacement = exp.Subquery(
            this=exp.select(star).from_(name),
            alias=alias.copy() if alias else exp.TableAlias(this=exp.to_identifier("predictions")),
        )
    else:
        replacement = exp.Table(this=exp.to_identifier(name), alias=alias.copy() if alias else None)
    (wrapper if isinstance(wrapper, exp.Table) else predict).replace(replacement)


def _object_table_name(table: exp.Table, ctx: QueryContext) -> TableName | None:
    if not table.db or not isinstance(table.this, exp.Identifier):
        return None
    name = TableName(table.db, table.name)
    return name if ctx.object_table(name) is not None else None


def _bind_object_tables(tree: exp.Expr, ctx: QueryContext, bindings: Bindings) -> None:
    for table in list(tree.find_all(exp.Table)):
        name = _object_table_name(table, ctx)
        if name is None:
            continue
        definition = ctx.object_table(name)
        assert definition is not None
        if _is_write_target(table):
            raise EngineError(f"object table {name} is read-only")
        if not ctx.catalog.has_connection(definition.connection):
            raise EngineError(
                f"connection {definition.connection} of object table {name} not found"
            )
        alias = table.alias or table.name
        with_data = _reads_data(tree, table, alias)
        reader = object_table_reader(
            ctx.store,
            ctx.objects(name, definition.uris),
            with_data=with_data,
            with_md5=_may_read_md5(tree, table, alias),
        )
        bound = bindings.register("objects", ctx.trap.wrap(reader))
        _unqualify_columns(tree, name)
        replacement = exp.Table(
            this=exp.to_identifier(bound),
            alias=table.args.get("alias") or exp.TableAlias(this=exp.to_identifier(alias)),
        )
        table.replace(replacement)
        if with_data:
            _hide_data_from_stars(replacement, alias)


def _reads_data(tree: exp.Expr, table: exp.Table, alias: str) -> bool:
    """Whether the query around this object-table reference may read its `data` pseudocolumn.

    A `data` column counts when it is written bare or qualified by this table's alias,
    anywhere in the innermost SELECT that reads the table (its subqueries included, for
    correlated references); `data` elsewhere, or another table's, does not. A reference
    outside any SELECT falls back to the whole statement.
    """
    scope = table.find_ancestor(exp.Select) or tree
    return any(
        column.name.lower() == DATA_COLUMN and column.table.lower() in ("", alias.lower())
        for column in scope.find_all(exp.Column)
    )


def _may_read_md5(tree: exp.Expr, table: exp.Table, alias: str) -> bool:
    """Whether the query around this reference may read `md5_hash`, in the scope `_reads_data` uses.

    A projected star (`*`, `t.*`; not COUNT(*)), the column by name, or the table's
    alias as a whole-row value counts. A reference this misses fails loudly (the column
    is absent), it never reads NULL.
    """
    scope = table.find_ancestor(exp.Select) or tree
    if any(isinstance(star.parent, exp.Select | exp.Column) for star in scope.find_all(exp.Star)):
        return True
    return any(
        (column.name.lower() == MD5_COLUMN and column.table.lower() in ("", alias.lower()))
        or (not column.table and column.name.lower() == alias.lower())
        for column in scope.find_all(exp.Column)
    )


def _is_write_target(table: exp.Table) -> bool:
    parent = table.parent
    if isinstance(parent, exp.Schema):
        parent = parent.parent
    return isinstance(parent, DML_TARGETS) and table.arg_key in ("this", "expressions")


def _unqualify_columns(tree: exp.Expr, name: TableName) -> None:
    """`dataset.table.column` -> `table.column`, which the table's alias resolves."""
    for column in tree.find_all(exp.Column):
        if column.text("db") == name.dataset and column.table == name.name:
            column.set("db", None)


def _hide_data_from_stars(table: exp.Table, alias: str) -> None:
    """`SELECT *` over an object table leaves out the `data` pseudocolumn, as BigQuery does."""
    select = table.parent.parent if table.parent is not None else None
    if not isinstance(select, exp.Select):
        return
    for projection in select.expressions:
        if isinstance(projection, exp.Star):
            _add_except(projection, exp.column(DATA_COLUMN, table=alias))
        elif (
            isinstance(projection, exp.Column)
            and isinstance(projection.this, exp.Star)
            and projection.table == alias
        ):
            _add_except(projection.this, exp.column(DATA_COLUMN))


def _add_except(star: exp.Star, column: exp.Column) -> None:
    excepted = list(star.args.get("except_") or [])
    if any(existing.name.lower() == DATA_COLUMN for existing in excepted):
        return
    star.set("except_", [*excepted, column])


def _duckdb_message(exc: BaseException) -> str:
    return " ".join(str(exc).split())
