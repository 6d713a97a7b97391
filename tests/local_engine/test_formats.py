"""Output formats keep BigQuery's meaning: NaN and infinities, NULL arrays, exact NUMERIC."""

from __future__ import annotations

import json
from decimal import Decimal

import pyarrow as pa

from local_engine.formats import format_csv, format_json, format_table

TABLE = pa.table(
    {
        "f": pa.array([float("nan"), float("inf"), float("-inf"), 1.5]),
        "a": pa.array([None, [1], [], None], pa.list_(pa.int64())),
        "s": pa.array(
            [{"x": None}, {"x": ["q"]}, None, {"x": []}],
            pa.struct([pa.field("x", pa.list_(pa.string()))]),
        ),
        "n": pa.array(
            [Decimal("12345678901234567890.123456789"), Decimal("1.5"), Decimal("100"), None],
            pa.decimal128(38, 9),
        ),
    }
)


def test_json() -> None:
    assert json.loads(format_json(TABLE)) == [
        {"f": "NaN", "a": [], "s": {"x": []}, "n": "12345678901234567890.123456789"},
        {"f": "Infinity", "a": [1], "s": {"x": ["q"]}, "n": "1.5"},
        {"f": "-Infinity", "a": [], "s": None, "n": "100"},
        {"f": 1.5, "a": [], "s": {"x": []}, "n": None},
    ]


def test_csv_and_table() -> None:
    assert format_csv(TABLE).splitlines()[1:3] == [
        'NaN,[],"{""x"": []}",12345678901234567890.123456789',
        'Infinity,[1],"{""x"": [""q""]}",1.5',
    ]
    assert format_table(TABLE).splitlines()[2].split() == [
        "NaN",
        "[]",
        '{"x":',
        "[]}",
        "12345678901234567890.123456789",
    ]
