"""Arrow schemas and rows in BigQuery's REST JSON: table schemas, `{"f": [{"v": ...}]}` rows
and the StandardSqlDataType of a model's tensors.

BigQuery's REST API writes every scalar as a string (INT64 too, since JSON numbers lose
precision), a REPEATED field as a list of `{"v": ...}` cells and a RECORD as `{"f": [...]}`.
https://cloud.google.com/bigquery/docs/reference/rest/v2/tabledata/list
The text of each scalar is what google-cloud-bigquery's parsers read back exactly
(`google/cloud/bigquery/_helpers.py`): TIMESTAMP as int64 microseconds when the client
sends `formatOptions.useInt64Timestamp`, else as epoch seconds in exact decimal text
(not through a float, which would round 9999-12-31 23:59:59.999999 up into year 10000);
DATETIME as `YYYY-MM-DDTHH:MM:SS[.ffffff]`, TIME as `HH:MM:SS[.ffffff]` (the client
accepts exactly 8 or 15 characters), DATE as `YYYY-MM-DD`; NUMERIC and BIGNUMERIC as
their exact decimal text, never in exponent form; FLOAT64 as `NaN`, `Infinity`,
`-Infinity` or the shortest text that reads back as the same double; INTERVAL in its
canonical form `Y-M D H:M:S[.F]`.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pyarrow as pa

from local_engine.formats import decimal_text, float_text, interval_text
from local_engine.records import TensorSpec

JsonObject = dict[str, Any]


def _scalar_type(arrow_type: pa.DataType) -> str:
    """The legacy type name the REST API uses (INTEGER, FLOAT, ...); JSON for the rest."""
    t = pa.types
    if t.is_boolean(arrow_type):
        return "BOOLEAN"
    if t.is_integer(arrow_type):
        return "INTEGER"
    if t.is_floating(arrow_type):
        return "FLOAT"
    if t.is_decimal(arrow_type):
        scale = getattr(arrow_type, "scale", 0)
        if scale == 0:
            return "INTEGER"
        return "NUMERIC" if arrow_type.precision <= 38 and scale <= 9 else "BIGNUMERIC"
    if t.is_string(arrow_type) or t.is_large_string(arrow_type) or t.is_string_view(arrow_type):
        return "STRING"
    if (
        t.is_binary(arrow_type)
        or t.is_large_binary(arrow_type)
        or t.is_fixed_size_binary(arrow_type)
    ):
        return "BYTES"
    if t.is_timestamp(arrow_type):
        return "TIMESTAMP" if arrow_type.tz else "DATETIME"
    if t.is_date(arrow_type):
        return "DATE"
    if t.is_time(arrow_type):
        return "TIME"
    if t.is_interval(arrow_type):
        return "INTERVAL"
    if t.is_null(arrow_type):
        return "STRING"
    return "JSON"


def _is_list(arrow_type: pa.DataType) -> bool:
    t = pa.types
    return bool(
        t.is_list(arrow_type) or t.is_large_list(arrow_type) or t.is_fixed_size_list(arrow_type)
    )


def field_json(field: pa.Field) -> JsonObject:
    """One schema field: name, type, mode (NULLABLE, REQUIRED or REPEATED) and sub-fields."""
    arrow_type = field.type
    mode = "NULLABLE" if field.nullable else "REQUIRED"
    if _is_list(arrow_type) and not _is_list(arrow_type.value_type):
        mode = "REPEATED"
        arrow_type = arrow_type.value_type
    if pa.types.is_struct(arrow_type):
        children = [field_json(arrow_type.field(i)) for i in range(arrow_type.num_fields)]
        return {"name": field.name, "type": "RECORD", "mode": mode, "fields": children}
    return {"name": field.name, "type": _scalar_type(arrow_type), "mode": mode}


def schema_json(schema: pa.Schema) -> JsonObject:
    return {"fields": [field_json(field) for field in schema]}


def rows_json(
    table: pa.Table, start: int, count: int, *, int64_timestamps: bool
) -> list[JsonObject]:
    """Rows start..start+count of `table` as `{"f": [{"v": ...}, ...]}`."""
    piece = table.slice(start, count)
    fields = [field_json(field) for field in table.schema]
    columns = [column.to_pylist() for column in piece.columns]
    return [
        {
            "f": [
                {"v": _value(f, col[i], int64_timestamps)}
                for f, col in zip(fields, columns, strict=True)
            ]
        }
        for i in range(piece.num_rows)
    ]


def _value(field: JsonObject, value: Any, int64_timestamps: bool) -> Any:
    if value is None:
        return [] if field["mode"] == "REPEATED" else None
    if field["mode"] == "REPEATED":
        item = {**field, "mode": "NULLABLE"}
        return [{"v": _value(item, v, int64_timestamps)} for v in value]
    if field["type"] == "RECORD":
        return {
            "f": [
                {"v": _value(sub, value.get(sub["name"]), int64_timestamps)}
                for sub in field["fields"]
            ]
        }
    return _scalar(field["type"], value, int64_timestamps)


def _scalar(kind: str, value: Any, int64_timestamps: bool) -> Any:
    if kind == "BOOLEAN":
        return "true" if value else "false"
    if kind == "FLOAT":
        return float_text(float(value))
    if kind == "BYTES":
        return base64.b64encode(bytes(value)).decode("ascii")
    if kind == "TIMESTAMP":
        micros = _epoch_micros(value)
        return str(micros) if int64_timestamps else decimal_text(Decimal(micros).scaleb(-6))
    if kind in ("DATE", "TIME", "DATETIME"):
        return str(value.isoformat())
    if kind == "INTERVAL":
        return interval_text(value.months, value.days, value.nanoseconds)
    if kind == "JSON":
        return json.dumps(value, default=str)
    if isinstance(value, Decimal):
        return str(int(value)) if kind == "INTEGER" else decimal_text(value)
    return str(value)


def _epoch_micros(value: dt.datetime) -> int:
    moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    delta = moment - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


_TENSOR_KINDS = {"float": "FLOAT64", "int": "INT64", "uint": "INT64", "bool": "BOOL"}


def tensor_type(spec: TensorSpec) -> JsonObject:
    """A model tensor as BigQuery ML lists it: ARRAY<FLOAT64> when it has more than the batch axis."""
    base = next(
        (kind for prefix, kind in _TENSOR_KINDS.items() if spec.dtype.startswith(prefix)),
        "STRING",
    )
    scalar = {"typeKind": base}
    if len(spec.shape) <= 1:
        return scalar
    return {"typeKind": "ARRAY", "arrayElementType": scalar}
