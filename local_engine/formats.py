"""Query results as text: an aligned table for people, JSON and CSV for tools.

Every value prints in one of BigQuery's own documented text forms, chosen per format:

- `json`: one array of objects, each value encoded as BigQuery's TO_JSON_STRING encodes
  it (https://cloud.google.com/bigquery/docs/reference/standard-sql/json_functions#json_encodings):
  DATE `"2024-01-16"`, DATETIME `"2024-01-16T12:34:56.500"`, TIME `"12:34:56"`,
  TIMESTAMP `"2024-01-16T12:34:56.500Z"`; INT64, NUMERIC and BIGNUMERIC as JSON numbers
  only when exact in a double (integral, within ±2^53), else as their exact decimal text in
  a string; FLOAT64's NaN and infinities as `"NaN"`, `"Infinity"`, `"-Infinity"`; BYTES
  as base64; arrays as lists and structs as objects.
- `csv` and `table`: each scalar as BigQuery's CAST(value AS STRING) writes it
  (https://cloud.google.com/bigquery/docs/reference/standard-sql/conversion_functions#cast_as_string):
  DATE `2024-01-16`, DATETIME `2024-01-16 12:34:56.500`, TIME `12:34:56`, TIMESTAMP
  `2024-01-16 12:34:56.500+00` (UTC), BOOL `true`; FLOAT64's specials, BYTES and
  NUMERIC as the REST API writes them (`NaN`, `Infinity`, base64, exact decimal text),
  which is also what `bq query --format=csv|pretty` prints; an array or struct as the
  JSON above, compact as TO_JSON_STRING writes it.

INTERVAL prints in its canonical form `[sign]Y-M [sign]D [sign]H:M:S[.F]` in every format
(https://cloud.google.com/bigquery/docs/reference/standard-sql/data-types#interval_type),
a string in JSON: `INTERVAL 14 MONTH` is `1-2 0 0:0:0`.

Fractional seconds, in both, take zero, three or six digits, whichever holds the value
exactly (`.5` prints `.500`), as CAST and TO_JSON_STRING both do; years before 1000 keep
four digits (`0099-01-01`). Both rules were checked on GoogleSQL's reference evaluator.
`bq` itself prints TIMESTAMP as `2024-01-16 12:34:56`, dropping the fraction (its
TablePrinter), which these formats do not copy since it loses the value.

A NULL array prints as an empty one in every format: BigQuery results never hold a NULL
array, nested ones included.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import math
from datetime import UTC, date, datetime, time
from decimal import Context, Decimal
from typing import Any

import pyarrow as pa

FORMATS = ("table", "json", "csv")
_CELL_CHARS = 60
_LIST_PREVIEW = 4
JSON_EXACT_INTEGER = 2**53  # the largest magnitude every JSON reader holds exactly


def _fraction(micros: int) -> str:
    if micros == 0:
        return ""
    if micros % 1000 == 0:
        return f".{micros // 1000:03d}"
    return f".{micros:06d}"


def date_text(value: date) -> str:
    return f"{value.year:04d}-{value.month:02d}-{value.day:02d}"


def time_text(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}{_fraction(value.microsecond)}"


def datetime_text(value: datetime, separator: str = " ") -> str:
    """DATETIME, or TIMESTAMP (an aware value) in UTC, without a zone suffix."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return f"{date_text(value)}{separator}{time_text(value.time())}"


def decimal_text(value: Decimal) -> str:
    """NUMERIC and BIGNUMERIC exactly, never through a float, without trailing zeros."""
    if not value:
        return "0"
    return format(value.normalize(Context(prec=100)), "f")


def interval_text(months: int, days: int, nanoseconds: int) -> str:
    """INTERVAL's canonical text: each of its three parts keeps its own sign."""
    calendar_sign = "-" if months < 0 else ""
    years, months = divmod(abs(months), 12)
    seconds, fraction = divmod(abs(nanoseconds), 10**9)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    time_sign = "-" if nanoseconds < 0 else ""
    digits = f".{fraction:09d}".rstrip("0") if fraction else ""
    return f"{calendar_sign}{years}-{months} {days} {time_sign}{hours}:{minutes}:{seconds}{digits}"


def float_text(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _is_list(type_: pa.DataType) -> bool:
    t = pa.types
    return bool(t.is_list(type_) or t.is_large_list(type_) or t.is_fixed_size_list(type_))


def json_value(value: Any, type_: pa.DataType) -> Any:
    """`value` of Arrow type `type_` as TO_JSON_STRING encodes it (a NULL array as [])."""
    if _is_list(type_):
        return [json_value(v, type_.value_type) for v in value or []]
    if value is None:
        return None
    if pa.types.is_struct(type_):
        return {f.name: json_value(value.get(f.name), f.type) for f in type_}
    if pa.types.is_interval(type_):
        return interval_text(value.months, value.days, value.nanoseconds)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if abs(value) <= JSON_EXACT_INTEGER else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else float_text(value)
    if isinstance(value, Decimal):
        exact = value == value.to_integral_value() and abs(value) <= JSON_EXACT_INTEGER
        return int(value) if exact else decimal_text(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return datetime_text(value, "T") + ("Z" if value.tzinfo is not None else "")
    if isinstance(value, date):
        return date_text(value)
    if isinstance(value, time):
        return time_text(value)
    if isinstance(value, list | tuple):  # Arrow maps come back as (key, value) pairs
        return [[str(k), str(v)] for k, v in value]
    return value if isinstance(value, str) else str(value)


def text_value(value: Any, type_: pa.DataType) -> str | None:
    """`value` as CAST(value AS STRING) writes a scalar; arrays and structs as JSON."""
    if _is_list(type_) or pa.types.is_struct(type_):
        if value is None and not _is_list(type_):
            return None
        return _compact(json_value(value, type_))
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return float_text(value)
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, datetime):
        return datetime_text(value) + ("+00" if value.tzinfo is not None else "")
    if isinstance(value, date | time | bytes) or not isinstance(value, str | int):
        encoded = json_value(value, type_)
        return encoded if isinstance(encoded, str) else _compact(encoded)
    return str(value)


def _compact(value: Any) -> str:
    return json.dumps(value, allow_nan=False, ensure_ascii=False, separators=(",", ":"))


def rows(table: pa.Table) -> list[dict[str, Any]]:
    """Every row as a dict of its JSON-encoded values."""
    types = [field.type for field in table.schema]
    return [
        {name: json_value(v, t) for (name, v), t in zip(row.items(), types, strict=True)}
        for row in table.to_pylist()
    ]


def _text_rows(table: pa.Table) -> list[list[str | None]]:
    types = [field.type for field in table.schema]
    return [
        [text_value(v, t) for v, t in zip(row.values(), types, strict=True)]
        for row in table.to_pylist()
    ]


def format_json(table: pa.Table | None) -> str:
    return json.dumps(rows(table) if table is not None else [], allow_nan=False)


def format_csv(table: pa.Table | None) -> str:
    if table is None:
        return ""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.column_names)
    for row in _text_rows(table):
        writer.writerow("" if v is None else v for v in row)
    return buffer.getvalue().rstrip("\n")


def format_table(table: pa.Table | None) -> str:
    if table is None:
        return ""
    header = table.column_names
    types = [field.type for field in table.schema]
    body = [
        [_table_cell(v, t) for v, t in zip(row.values(), types, strict=True)]
        for row in table.to_pylist()
    ]
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


def _table_cell(value: Any, type_: pa.DataType) -> str:
    nested = _is_list(type_) or pa.types.is_struct(type_)
    if nested and (value is not None or _is_list(type_)):
        text: str | None = _compact(_preview(json_value(value, type_)))
    else:
        text = text_value(value, type_)
    if text is None:
        return "NULL"
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
