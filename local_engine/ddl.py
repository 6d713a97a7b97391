"""The statements the engine runs itself rather than handing to DuckDB.

CREATE/DROP SCHEMA (the catalog's entries go with the dataset), CREATE EXTERNAL TABLE
(object tables), CREATE/DROP MODEL, and DROP TABLE of an object table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlglot import exp

from local_engine.catalog import CATALOG_SCHEMA, Catalog, ObjectTableDef
from local_engine.errors import EngineError
from local_engine.names import TableName, connection_from_table, dataset_name, table_name
from local_engine.storage import ObjectStore, UriPattern

if TYPE_CHECKING:
    import duckdb

OptionValue = str | int | float | bool | list[str] | None

OBJECT_TABLE_OPTIONS = {"object_metadata", "uris", "description"}
MODEL_OPTIONS = {"model_type", "model_path", "description"}
# Parsed clauses that are not OPTIONS entries but that the handlers read themselves.
_CLAUSES = (exp.ExternalProperty, exp.RemoteWithConnectionModelProperty)


@dataclass
class DdlContext:
    con: duckdb.DuckDBPyConnection
    catalog: Catalog
    store: ObjectStore
    home: Path


def options(create: exp.Create) -> dict[str, OptionValue]:
    """OPTIONS(key = value, ...) as Python values; the WITH CONNECTION clause is skipped."""
    found: dict[str, OptionValue] = {}
    properties = create.args.get("properties")
    for prop in properties.expressions if properties else []:
        if type(prop) is not exp.Property:
            continue
        found[prop.name.lower()] = _value(prop.name, prop.args["value"])
    return found


def _value(key: str, node: exp.Expr) -> OptionValue:
    if isinstance(node, exp.Literal):
        if node.is_string:
            return str(node.this)
        is_float = any(mark in node.this for mark in ".eE")
        return float(node.this) if is_float else int(node.this)
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Array):
        items = [_value(key, item) for item in node.expressions]
        if not all(isinstance(item, str) for item in items):
            raise EngineError(f"option {key} must be an array of strings")
        return [str(item) for item in items]
    raise EngineError(f"option {key} must be a literal, got {node.sql('bigquery')}")


def _check_options(
    create: exp.Create, found: dict[str, OptionValue], allowed: set[str], what: str
) -> None:
    properties = create.args.get("properties")
    for prop in properties.expressions if properties else []:
        if type(prop) is not exp.Property and not isinstance(prop, _CLAUSES):
            raise EngineError(
                f"{what} clause {prop.sql('bigquery')} is not supported by the local engine"
            )
    unknown = sorted(set(found) - allowed)
    if unknown:
        raise EngineError(
            f"{what} option {unknown[0]} is not supported by the local engine"
            f" (supported: {', '.join(sorted(allowed))})"
        )


def _require_dataset(catalog: Catalog, name: TableName) -> None:
    if not catalog.dataset_exists(name.dataset):
        raise EngineError(f"dataset {name.dataset} not found (create it with CREATE SCHEMA)")


def dropped_table(drop: exp.Drop) -> exp.Table:
    tables = drop.args.get("tables") or []
    if len(tables) != 1 or not isinstance(tables[0], exp.Table):
        raise EngineError("DROP takes exactly one name")
    table: exp.Table = tables[0]
    return table


def create_schema(ctx: DdlContext, create: exp.Create) -> None:
    name = dataset_name(create.this)
    if name == CATALOG_SCHEMA:
        raise EngineError(f"dataset name {name} is reserved by the local engine")
    if ctx.catalog.dataset_exists(name):
        if create.args.get("exists"):
            return
        raise EngineError(f"dataset {name} already exists")
    ctx.con.execute(f'CREATE SCHEMA "{name}"').fetchall()


def drop_schema(ctx: DdlContext, drop: exp.Drop) -> None:
    name = dataset_name(dropped_table(drop))
    if name == CATALOG_SCHEMA:
        raise EngineError(f"dataset name {name} is reserved by the local engine")
    if not ctx.catalog.dataset_exists(name):
        if drop.args.get("exists"):
            return
        raise EngineError(f"dataset {name} not found")
    cascade = bool(drop.args.get("cascade"))
    if ctx.catalog.objects_in(name) and not cascade:
        raise EngineError(f"dataset {name} still holds object tables or models; use CASCADE")
    ctx.catalog.drop_dataset_entries(name)
    ctx.con.execute(f'DROP SCHEMA "{name}"{" CASCADE" if cascade else ""}').fetchall()


def create_external_table(ctx: DdlContext, create: exp.Create) -> None:
    name = table_name(create.this, "external table")
    found = options(create)
    if str(found.get("object_metadata") or "").upper() != "SIMPLE":
        raise EngineError(
            f"external table {name}: only object tables (object_metadata = 'SIMPLE')"
            " are supported by the local engine"
        )
    _check_options(create, found, OBJECT_TABLE_OPTIONS, "object table")
    uris = found.get("uris")
    if isinstance(uris, str):
        uris = [uris]
    if not isinstance(uris, list) or not uris:
        raise EngineError(f"object table {name} needs uris = ['gs://bucket/path*', ...]")
    for uri in uris:
        UriPattern.parse(uri)
    connection = _connection(create, name, ctx.catalog)
    _require_dataset(ctx.catalog, name)
    if not _make_room(ctx, create, name):
        return
    ctx.catalog.put_object_table(ObjectTableDef(name, connection, tuple(uris), "SIMPLE"))


def _connection(create: exp.Create, name: TableName, catalog: Catalog) -> str:
    properties = create.args.get("properties")
    for prop in properties.expressions if properties else []:
        if isinstance(prop, exp.RemoteWithConnectionModelProperty):
            connection = connection_from_table(prop.this)
            if not catalog.has_connection(connection):
                raise EngineError(
                    f"connection {connection} not found; create it with"
                    f" `python -m sqlrunner connection create {connection}`"
                )
            return connection
    raise EngineError(f"object table {name} needs WITH CONNECTION `location.connection_id`")


def _make_room(ctx: DdlContext, create: exp.Create, name: TableName) -> bool:
    """Clears the way for a new relation; False when IF NOT EXISTS found one already."""
    replace, if_not_exists = bool(create.args.get("replace")), bool(create.args.get("exists"))
    if replace and if_not_exists:
        raise EngineError("OR REPLACE and IF NOT EXISTS cannot be used together")
    kind = ctx.catalog.relation_kind(name)
    if kind is None:
        return True
    if if_not_exists:
        return False
    if not replace:
        raise EngineError(f"{kind} {name} already exists")
    if kind == "object table":
        ctx.catalog.drop_object_table(name)
    else:
        ctx.con.execute(f'DROP {kind.upper()} "{name.dataset}"."{name.name}"').fetchall()
    return True


def create_model(ctx: DdlContext, create: exp.Create) -> None:
    from local_engine.models import create_model as build_model

    name = table_name(create.this, "model")
    found = options(create)
    _check_options(create, found, MODEL_OPTIONS, "model")
    model_type, model_path = found.get("model_type"), found.get("model_path")
    if not isinstance(model_type, str) or not isinstance(model_path, str):
        raise EngineError(
            f"model {name} needs OPTIONS(model_type = '...', model_path = 'gs://.../*')"
        )
    _require_dataset(ctx.catalog, name)
    replace, if_not_exists = bool(create.args.get("replace")), bool(create.args.get("exists"))
    if replace and if_not_exists:
        raise EngineError("OR REPLACE and IF NOT EXISTS cannot be used together")
    if ctx.catalog.model_json(name) is not None:
        if if_not_exists:
            return
        if not replace:
            raise EngineError(f"model {name} already exists")
    record = build_model(model_type.upper(), model_path, ctx.store, ctx.home)
    ctx.catalog.put_model(name, record.to_json())


def drop_model(ctx: DdlContext, drop: exp.Drop) -> None:
    name = table_name(dropped_table(drop), "model")
    if not ctx.catalog.drop_model(name) and not drop.args.get("exists"):
        raise EngineError(f"model {name} not found")


def drop_object_table(ctx: DdlContext, name: TableName) -> None:
    ctx.catalog.drop_object_table(name)
