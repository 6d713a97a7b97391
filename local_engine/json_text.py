"""BigQuery's text forms of numbers and JSON, as the DuckDB UDFs of local_engine.text_forms use them.

Every rule here was read off GoogleSQL's reference evaluator:

- a FLOAT64 as text (CAST, CONCAT, TO_JSON_STRING) is C's `%.15g` when that reads back
  as the same double, else `%.17g` (`1e+20`, `0.33333333333333331`, `4.94065645841247e-324`);
  negative zero is `0`; NaN and the infinities are `nan`, `inf`, `-inf` (in JSON the
  strings `"NaN"`, `"Infinity"`, `"-Infinity"`);
- a NUMERIC as text drops trailing zeros (`1.5`, `100`, `0`); a TIMESTAMP, DATETIME or
  TIME writes its fraction of a second in 3 or 6 digits (`10:00:00.500`);
- TO_JSON_STRING writes INT64 and NUMERIC as JSON numbers only when integral within
  ±2^53 (else their exact text, quoted), the local_engine.formats rule; TIMESTAMP as
  `"2024-01-16T10:30:00.500Z"`, DATETIME with `T`, BYTES as base64; strings escape `"`,
  `\\`, control characters and U+2028/U+2029, nothing else;
- JSON_VALUE / JSON_QUERY and the legacy JSON_EXTRACT_SCALAR / JSON_EXTRACT keep a JSON
  number's own text (`1e3`, `1.10`, `-0`), take the first of repeated keys, and write
  JSON compactly.
"""

from __future__ import annotations

import base64
import json
import math
import re
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any

from local_engine import formats
from local_engine.errors import REFUSAL
from local_engine.formats import (
    JSON_EXACT_INTEGER,
    date_text,
    datetime_text,
    decimal_text,
    time_text,
)


class Refused(ValueError):
    """A value or form the local engine refuses (the message says why and what to do)."""


def float_text(value: float) -> str:
    """CAST(FLOAT64 AS STRING): `%.15g` if it round-trips, else `%.17g`; -0 is `0`."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    short = f"{value:.15g}"
    return short if float(short) == value else f"{value:.17g}"


def float_text_of(duckdb_text: str) -> str:
    """float_text of a DOUBLE given as DuckDB's text (which always reads back exactly)."""
    return float_text(float(duckdb_text))


def decimal_text_of(duckdb_text: str) -> str:
    """CAST(NUMERIC AS STRING) of a DECIMAL given as DuckDB's text: no trailing zeros."""
    return decimal_text(Decimal(duckdb_text))


_SECOND_FRACTION = re.compile(r"(:\d\d)\.(\d{1,6})")


def fraction_text_of(duckdb_text: str) -> str:
    """A TIMESTAMP, DATETIME or TIME as DuckDB's text, its fraction of a second in 3 or 6
    digits as BigQuery writes it (`10:00:00.5` is `10:00:00.500`)."""

    def pad(match: re.Match[str]) -> str:
        digits = match.group(2)
        return f"{match.group(1)}.{digits.ljust(3 if len(digits) <= 3 else 6, '0')}"

    return _SECOND_FRACTION.sub(pad, duckdb_text, count=1)


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r"}
_ESCAPES["\t"] = "\\t"
_TO_ESCAPE = re.compile('["\\\\\x00-\x1f\u2028\u2029]')


def json_string(text: str) -> str:
    """A JSON string literal as BigQuery writes it."""

    def escape(match: re.Match[str]) -> str:
        char = match.group(0)
        return _ESCAPES.get(char) or f"\\u{ord(char):04x}"

    return '"' + _TO_ESCAPE.sub(escape, text) + '"'


# TO_JSON_STRING: DuckDB's to_json text of a value, re-encoded by the value's DuckDB type.

_BLOB_ESCAPE = re.compile(r"\\x([0-9A-Fa-f]{2})")
_TIMESTAMP = re.compile(
    r"^(\d{4,})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?([+-]\d\d(?::?\d\d)?)?$"
)


@lru_cache(maxsize=256)
def _type(kind: str) -> Any:
    import duckdb

    return duckdb.sqltype(kind)


def to_json_string(json_text: str, kind: str, pretty: bool = False) -> str:
    """TO_JSON_STRING of a value given as DuckDB's to_json text and typeof()."""
    value = json.loads(json_text, parse_float=Decimal, parse_int=int, parse_constant=_constant)
    encoded = _encode(value, _type(kind))
    return _dump(encoded, pretty)


def _constant(name: str) -> float:
    return float(name)


class _Raw(str):
    """JSON text written as it is (a number)."""


class _Object(list[tuple[str, Any]]):
    """A JSON object as its (name, value) pairs: a STRUCT's names may repeat, or be ""."""


def _encode(value: Any, type_: Any) -> Any:
    if value is None:
        return None
    kind = type_.id
    if kind == "list":
        return [_encode(v, type_.children[0][1]) for v in value]
    if kind == "struct":
        # An anonymous field is `_<position>` locally; BigQuery writes it as "".
        fields = dict(type_.children)
        return _Object(
            ("" if name == f"_{i}" else name, _encode(v, fields[name]))
            for i, (name, v) in enumerate(value.items())
        )
    if kind == "boolean":
        return bool(value)
    if kind == "bigint":
        return _Raw(str(value)) if abs(value) <= JSON_EXACT_INTEGER else str(value)
    if kind == "double":
        number = float(value)
        if not math.isfinite(number):
            return formats.float_text(number)  # "NaN", "Infinity", "-Infinity"
        return _Raw(float_text(number))
    if kind == "decimal":
        exact = Decimal(value)
        if exact == exact.to_integral_value() and abs(exact) <= JSON_EXACT_INTEGER:
            return _Raw(str(int(exact)))
        return decimal_text(exact)
    if kind == "varchar" and str(type_) != "JSON":
        return str(value)
    if kind == "date":
        return date_text(date.fromisoformat(value))
    if kind == "time":
        return time_text(time.fromisoformat(value))
    if kind in ("timestamp", "timestamp with time zone"):
        return _timestamp_text(value, zone=kind != "timestamp")
    if kind == "blob":
        raw = _BLOB_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), value)
        return base64.b64encode(raw.encode("latin-1")).decode("ascii")
    raise Refused(
        f"TO_JSON_STRING of a {type_} value is {REFUSAL}: its BigQuery JSON form is not"
        " implemented; convert it to STRING first"
    )


def _timestamp_text(value: str, zone: bool) -> str:
    match = _TIMESTAMP.match(value)
    if match is None or (zone and match.group(8) not in ("+00", "+00:00", "+0000")):
        raise Refused(f"TO_JSON_STRING of the timestamp {value!r} is {REFUSAL}")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    micros = int((match.group(7) or "0").ljust(6, "0"))
    text = datetime_text(datetime(year, month, day, hour, minute, second, micros), "T")
    return text + ("Z" if zone else "")


def _dump(value: Any, pretty: bool, indent: str = "") -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, str):
        return json_string(value)
    inner = indent + "  "
    if isinstance(value, dict):
        value = _Object(value.items())
    if not isinstance(value, _Object):
        items = [_dump(v, pretty, inner) for v in value]
        if not items:
            return "[]"
        if pretty:
            return "[\n" + ",\n".join(inner + i for i in items) + "\n" + indent + "]"
        return "[" + ",".join(items) + "]"
    pairs = [(json_string(k), _dump(v, pretty, inner)) for k, v in value]
    if not pairs:
        return "{}"
    if pretty:
        return "{\n" + ",\n".join(f"{inner}{k}: {v}" for k, v in pairs) + "\n" + indent + "}"
    return "{" + ",".join(f"{k}:{v}" for k, v in pairs) + "}"


# JSON_VALUE, JSON_QUERY, JSON_EXTRACT_SCALAR, JSON_EXTRACT over JSON-formatted STRINGs.

_NAME = r"\.([^.\[\]'\"\\*$@?()]+)"
_STANDARD_STEP = re.compile(_NAME + r'|\."((?:[^"\\]|\\.)*)"|\[(-?\d+)\]')
_LEGACY_STEP = re.compile(_NAME + r"|\['((?:[^'\\]|\\.)*)'\]|\[(-?\d+)\]")
_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


@lru_cache(maxsize=256)
def _path(path: str, legacy: bool, function: str) -> tuple[str | int, ...]:
    if not path.startswith("$"):
        raise ValueError("JSONPath must start with '$'")
    step = _LEGACY_STEP if legacy else _STANDARD_STEP
    steps: list[str | int] = []
    position = 1
    while position < len(path):
        match = step.match(path, position)
        if match is None:
            raise Refused(
                f"the JSONPath {path!r} of {function} is {REFUSAL}: only .name,"
                f" {'[' + repr('name') + ']' if legacy else '.' + chr(34) + 'name' + chr(34)}"
                " and [index] steps are implemented; write the path with those"
            )
        name, quoted, index = match.groups()
        if index is not None:
            steps.append(int(index))
        else:
            steps.append(name if name is not None else _unescape(quoted))
        position = match.end()
    return tuple(steps)


def _unescape(quoted: str) -> str:
    if "\\" in quoted:
        raise Refused(f"an escaped character in a JSONPath name is {REFUSAL}")
    return quoted


def _first_key(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        found.setdefault(key, value)
    return found


def _reject_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def _parse(text: str, function: str) -> Any:
    if _SURROGATE.search(text):
        raise Refused(
            f"{function} of JSON text with a \\uD800-\\uDFFF escape is {REFUSAL}: BigQuery"
            " does not read it as a surrogate pair; write the character itself"
        )
    try:
        return json.loads(
            text,
            parse_float=_Raw,
            parse_int=_Raw,
            parse_constant=_reject_constant,
            object_pairs_hook=_first_key,
        )
    except json.JSONDecodeError as exc:
        raise Refused(
            f"{function} of a STRING that is not valid JSON is {REFUSAL}: BigQuery's lenient"
            f" parser answers some invalid texts ({exc.msg}); validate the text first"
        ) from exc


_MISSING = object()


def _find(document: Any, steps: tuple[str | int, ...]) -> Any:
    """`[0]` also names an object's key "0", and `.0` an array's first element."""
    for step in steps:
        if isinstance(step, str) and step.isdigit() and isinstance(document, list):
            step = int(step)
        elif isinstance(step, int) and isinstance(document, dict):
            step = str(step)
        if isinstance(step, int):
            if not isinstance(document, list) or not 0 <= step < len(document):
                return _MISSING
            document = document[step]
        else:
            if not isinstance(document, dict) or step not in document:
                return _MISSING
            document = document[step]
    return document


def json_extract(text: str, path: str, function: str) -> str | None:
    """JSON_VALUE / JSON_EXTRACT_SCALAR (a scalar's text) or JSON_QUERY / JSON_EXTRACT (JSON)."""
    legacy = function.startswith("JSON_EXTRACT")
    steps = _path(path, legacy, function)
    found = _find(_parse(text, function), steps)
    if found is _MISSING or found is None:
        return None
    if function in ("JSON_VALUE", "JSON_EXTRACT_SCALAR"):
        if found is None or isinstance(found, dict | list):
            return None
        if isinstance(found, bool):
            return "true" if found else "false"
        return str(found)
    return _dump(found, pretty=False)
