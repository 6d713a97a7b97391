"""BigQuery type names to GoogleSQL's TypeProto (as the JSON dicts the client sends), and back."""

from __future__ import annotations

from typing import Any

from sqlglot import exp
from sqlglot.errors import ParseError

from pipeline.errors import SqlRunnerError

TypeDict = dict[str, Any]

_SCALARS = {
    exp.DataType.Type.BIGINT: "TYPE_INT64",
    exp.DataType.Type.INT: "TYPE_INT64",
    exp.DataType.Type.DOUBLE: "TYPE_DOUBLE",
    exp.DataType.Type.FLOAT: "TYPE_DOUBLE",
    exp.DataType.Type.BOOLEAN: "TYPE_BOOL",
    exp.DataType.Type.TEXT: "TYPE_STRING",
    exp.DataType.Type.VARCHAR: "TYPE_STRING",
    exp.DataType.Type.BINARY: "TYPE_BYTES",
    exp.DataType.Type.VARBINARY: "TYPE_BYTES",
    exp.DataType.Type.DATE: "TYPE_DATE",
    exp.DataType.Type.DATETIME: "TYPE_DATETIME",
    exp.DataType.Type.TIME: "TYPE_TIME",
    exp.DataType.Type.TIMESTAMPTZ: "TYPE_TIMESTAMP",
    exp.DataType.Type.TIMESTAMP: "TYPE_TIMESTAMP",
    exp.DataType.Type.DECIMAL: "TYPE_NUMERIC",
    exp.DataType.Type.BIGDECIMAL: "TYPE_BIGNUMERIC",
    exp.DataType.Type.JSON: "TYPE_JSON",
    exp.DataType.Type.INTERVAL: "TYPE_INTERVAL",
    exp.DataType.Type.GEOGRAPHY: "TYPE_GEOGRAPHY",
}
_NAMES = {
    "TYPE_INT64": "INT64",
    "TYPE_DOUBLE": "FLOAT64",
    "TYPE_BOOL": "BOOL",
    "TYPE_STRING": "STRING",
    "TYPE_BYTES": "BYTES",
    "TYPE_DATE": "DATE",
    "TYPE_DATETIME": "DATETIME",
    "TYPE_TIME": "TIME",
    "TYPE_TIMESTAMP": "TIMESTAMP",
    "TYPE_NUMERIC": "NUMERIC",
    "TYPE_BIGNUMERIC": "BIGNUMERIC",
    "TYPE_JSON": "JSON",
    "TYPE_INTERVAL": "INTERVAL",
    "TYPE_GEOGRAPHY": "GEOGRAPHY",
}


def scalar(kind: str) -> TypeDict:
    return {"typeKind": kind}


def array_of(element: TypeDict) -> TypeDict:
    return {"typeKind": "TYPE_ARRAY", "arrayType": {"elementType": element}}


def struct_of(fields: list[tuple[str, TypeDict]]) -> TypeDict:
    return {
        "typeKind": "TYPE_STRUCT",
        "structType": {"field": [{"fieldName": n, "fieldType": t} for n, t in fields]},
    }


def type_proto(bigquery_type: str) -> TypeDict:
    """`ARRAY<STRUCT<name STRING, value STRING>>` and the like, as a TypeProto dict."""
    try:
        data_type = exp.DataType.build(bigquery_type, dialect="bigquery")
    except ParseError as exc:
        raise SqlRunnerError(f"not a BigQuery type: {bigquery_type!r}") from exc
    return _from_data_type(data_type, bigquery_type)


def _from_data_type(data_type: exp.DataType, source: str) -> TypeDict:
    kind = data_type.this
    if kind == exp.DataType.Type.ARRAY:
        return array_of(_from_data_type(data_type.expressions[0], source))
    if kind == exp.DataType.Type.STRUCT:
        fields: list[tuple[str, TypeDict]] = []
        for field in data_type.expressions:
            if isinstance(field, exp.ColumnDef):
                fields.append((field.name, _from_data_type(field.args["kind"], source)))
            else:
                fields.append(("", _from_data_type(field, source)))
        return struct_of(fields)
    if kind in _SCALARS:
        return scalar(_SCALARS[kind])
    raise SqlRunnerError(f"type {data_type.sql('bigquery')} (in {source!r}) has no GoogleSQL form")


def type_name(proto: TypeDict) -> str:
    """The BigQuery spelling of a TypeProto dict."""
    kind = proto.get("typeKind", "")
    if kind == "TYPE_ARRAY":
        return f"ARRAY<{type_name(proto['arrayType']['elementType'])}>"
    if kind == "TYPE_STRUCT":
        parts = []
        for field in proto.get("structType", {}).get("field", []):
            name = field.get("fieldName", "")
            inner = type_name(field["fieldType"])
            parts.append(f"{name} {inner}" if name else inner)
        return f"STRUCT<{', '.join(parts)}>"
    return _NAMES.get(kind, str(kind).removeprefix("TYPE_"))
