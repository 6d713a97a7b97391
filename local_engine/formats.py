"""Query results as text: an aligned table for people, JSON and CSV for tools.

JSON is one array of objects: arrays as lists, structs as objects, BYTES as base64,
TIMESTAMP/DATE as ISO 8601. BigQuery's meaning is kept: NaN and infinities print as
BigQuery's REST API writes them (`"NaN"`, `"Infinity"`, `"-Infinity"`), a NULL array as
an empty array (BigQuery results never hold a NULL array), NUMERIC as its exact decimal
text. CSV writes nested values as that same JSON.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
from datetime import date, datetime, time, timedelta
from decimal import Context, Decimal
from typing import Any

import pyarrow as pa

FORMATS = ("table", "json", "csv")
_CELL_CHARS = 60
_LIST_PREVIEW = 4


def to_jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return value if math.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, Decimal):
        # Exact, never through a float: NUMERIC holds 38 digits.
        return format(value.normalize(Context(prec=100)), "f") if value else "0"
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        # Arrow maps come back as lists of (key, value) pairs.
        return [to_jsonable(v) for v in value]
    return str(value)


def _no_null_arrays(value: Any, type_: pa.DataType) -> Any:
    """BigQuery turns a NULL array into an empty one in every result, nested ones too."""
    if pa.types.is_list(type_) or pa.types.is_large_list(type_):
        return [_no_null_arrays(v, type_.value_type) for v in value or []]
    if pa.types.is_struct(type_) and isinstance(value, dict):
        return {f.name: _no_null_arrays(value.get(f.name), f.type) for f in type_}
    return value


def rows(table: pa.Table) -> list[dict[str, Any]]:
    types = {field.name: field.type for field in table.schema}
    return [
        {k: to_jsonable(_no_null_arrays(v, types[k])) for k, v in row.items()}
        for row in table.to_pylist()
    ]


def format_json(table: pa.Table | None) -> str:
    return json.dumps(rows(table) if table is not None else [], allow_nan=False, indent=None)


def format_csv(table: pa.Table | None) -> str:
    if table is None:
        return ""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.column_names)
    for row in rows(table):
        writer.writerow(_csv_cell(v) for v in row.values())
    return buffer.getvalue().rstrip("\n")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def format_table(table: pa.Table | None) -> str:
    if table is None:
        return ""
    header = table.column_names
    body = [[_table_cell(v) for v in row.values()] for row in rows(table)]
    widths = [max([len(h), *(len(r[i]) for r in body)]) for i, h in enumerate(header)]
    lines = [
        "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines.extend(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in body
    )
    lines.append(f"({table.num_rows} row{'s' if table.num_rows != 1 else ''})")
    return "\n".join(lines)


def _table_cell(value: Any) -> str:
    if value is None:
        return "NULL"
    text = json.dumps(_preview(value)) if isinstance(value, dict | list) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= _CELL_CHARS else text[: _CELL_CHARS - 3] + "..."


def _preview(value: Any) -> Any:
    """Long arrays (a decoded image holds 150,528 floats) shortened before they are printed."""
    if isinstance(value, dict):
        return {k: _preview(v) for k, v in value.items()}
    if isinstance(value, list):
        shown = [_preview(v) for v in value[:_LIST_PREVIEW]]
        if len(value) > _LIST_PREVIEW:
            shown.append(f"... {len(value)} values")
        return shown
    return value


def render(table: pa.Table | None, fmt: str) -> str:
    if fmt == "json":
        return format_json(table)
    if fmt == "csv":
        return format_csv(table)
    return format_table(table)
