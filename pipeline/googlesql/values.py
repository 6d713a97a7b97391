"""Python values to GoogleSQL's ValueProto (JSON form) and back, guided by a TypeProto.

INT64 -> int, FLOAT64 -> float (NaN and infinities kept), STRING -> str, BYTES -> bytes,
BOOL -> bool, DATE -> datetime.date, TIMESTAMP -> aware datetime in UTC, NUMERIC and
BIGNUMERIC -> Decimal, ARRAY -> list, STRUCT -> dict by field name (position for
anonymous fields, as `_N`), NULL -> None. The reference evaluator's rows arrive this way.
"""

from __future__ import annotations

import base64
import datetime as dt
import math
from decimal import Decimal
from typing import Any

from pipeline.errors import SqlRunnerError
from pipeline.googlesql.types import TypeDict, type_name

_EPOCH = dt.date(1970, 1, 1)


def _field_names(type_: TypeDict) -> list[str]:
    fields = type_.get("structType", {}).get("field", [])
    return [f.get("fieldName") or f"_{i}" for i, f in enumerate(fields)]


def to_value(value: Any, type_: TypeDict) -> dict[str, Any]:
    if value is None:
        return {}
    kind = type_["typeKind"]
    if kind == "TYPE_INT64":
        return {"int64Value": str(int(value))}
    if kind == "TYPE_DOUBLE":
        number = float(value)
        if math.isnan(number):
            return {"doubleValue": "NaN"}
        if math.isinf(number):
            return {"doubleValue": "Infinity" if number > 0 else "-Infinity"}
        return {"doubleValue": number}
    if kind == "TYPE_STRING":
        return {"stringValue": str(value)}
    if kind == "TYPE_BOOL":
        return {"boolValue": bool(value)}
    if kind == "TYPE_BYTES":
        return {"bytesValue": base64.b64encode(value).decode("ascii")}
    if kind == "TYPE_DATE":
        return {"dateValue": (value - _EPOCH).days}
    if kind == "TYPE_TIMESTAMP":
        moment = value.astimezone(dt.UTC)
        return {"timestampValue": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    if kind == "TYPE_ARRAY":
        element = type_["arrayType"]["elementType"]
        return {"arrayValue": {"element": [to_value(v, element) for v in value]}}
    if kind == "TYPE_STRUCT":
        fields = type_["structType"]["field"]
        items = [value[n] for n in _field_names(type_)] if isinstance(value, dict) else list(value)
        return {
            "structValue": {
                "field": [to_value(v, f["fieldType"]) for v, f in zip(items, fields, strict=True)]
            }
        }
    raise SqlRunnerError(f"no value conversion for {type_name(type_)}")


def from_value(value: dict[str, Any], type_: TypeDict) -> Any:
    kind = type_["typeKind"]
    if kind == "TYPE_ARRAY":
        if "arrayValue" not in value:
            return None
        element = type_["arrayType"]["elementType"]
        return [from_value(v, element) for v in value["arrayValue"].get("element", [])]
    if kind == "TYPE_STRUCT":
        if "structValue" not in value:
            return None
        fields = type_["structType"]["field"]
        cells = value["structValue"].get("field", [])
        return {
            name: from_value(cell, field["fieldType"])
            for name, cell, field in zip(_field_names(type_), cells, fields, strict=True)
        }
    if not value:
        return None
    (key, raw), *_ = value.items()
    if key == "int64Value":
        return int(raw)
    if key == "doubleValue":
        return float(raw)
    if key in ("stringValue", "boolValue"):
        return raw
    if key == "bytesValue":
        return base64.b64decode(raw)
    if key == "dateValue":
        return _EPOCH + dt.timedelta(days=int(raw))
    if key == "timestampValue":
        return dt.datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    if key == "numericValue" or key == "bignumericValue":
        return _decimal(base64.b64decode(raw), 9 if key == "numericValue" else 38)
    raise SqlRunnerError(f"no value conversion for {key} ({type_name(type_)})")


def _decimal(encoded: bytes, scale: int) -> Decimal:
    return Decimal(int.from_bytes(encoded, "little", signed=True)).scaleb(-scale)
