"""Output formats keep BigQuery's meaning, checked against GoogleSQL's reference evaluator.

`--format json` must equal what TO_JSON_STRING gives for the same values, and csv/table
cells what CAST(value AS STRING) gives, at the edges: years before 1000, the last
microsecond of 9999, every width of fractional seconds, integers either side of 2^53,
NUMERIC's and BIGNUMERIC's full digits, NaN and the infinities, NULL arrays.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from local_engine.formats import format_csv, format_json, format_table
from pipeline.googlesql.evaluate import evaluate_query
from pipeline.googlesql.server import GoogleSqlServer

UTC = dt.UTC
# (GoogleSQL literal, Arrow type, the value the engine's Arrow result holds)
SCALARS: list[tuple[str, pa.DataType, Any]] = [
    ("DATE '0001-01-01'", pa.date32(), dt.date(1, 1, 1)),
    ("DATE '0999-12-31'", pa.date32(), dt.date(999, 12, 31)),
    ("DATE '9999-12-31'", pa.date32(), dt.date(9999, 12, 31)),
    ("DATETIME '2024-01-16 12:34:56'", pa.timestamp("us"), dt.datetime(2024, 1, 16, 12, 34, 56)),
    ("DATETIME '0099-01-01 00:00:00.1'", pa.timestamp("us"), dt.datetime(99, 1, 1, 0, 0, 0, 100000)),
    ("DATETIME '2024-01-16 12:34:56.12'", pa.timestamp("us"), dt.datetime(2024, 1, 16, 12, 34, 56, 120000)),
    ("DATETIME '2024-01-16 12:34:56.1234'", pa.timestamp("us"), dt.datetime(2024, 1, 16, 12, 34, 56, 123400)),
    ("DATETIME '9999-12-31 23:59:59.999999'", pa.timestamp("us"), dt.datetime(9999, 12, 31, 23, 59, 59, 999999)),
    ("TIME '00:00:00'", pa.time64("us"), dt.time(0, 0, 0)),
    ("TIME '12:34:56.5'", pa.time64("us"), dt.time(12, 34, 56, 500000)),
    ("TIME '23:59:59.000001'", pa.time64("us"), dt.time(23, 59, 59, 1)),
    ("TIMESTAMP '0001-01-01 00:00:00+00'", pa.timestamp("us", tz="UTC"), dt.datetime(1, 1, 1, tzinfo=UTC)),
    ("TIMESTAMP '0500-06-30 01:02:03.004+00'", pa.timestamp("us", tz="UTC"), dt.datetime(500, 6, 30, 1, 2, 3, 4000, tzinfo=UTC)),
    ("TIMESTAMP '2024-01-16 12:34:56.25+00'", pa.timestamp("us", tz="UTC"), dt.datetime(2024, 1, 16, 12, 34, 56, 250000, tzinfo=UTC)),
    ("TIMESTAMP '9999-12-31 23:59:59.999999+00'", pa.timestamp("us", tz="UTC"), dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
    ("TRUE", pa.bool_(), True),
    ("9007199254740992", pa.int64(), 2**53),
    ("9007199254740993", pa.int64(), 2**53 + 1),
    ("-9007199254740993", pa.int64(), -(2**53) - 1),
    ("-9223372036854775808", pa.int64(), -(2**63)),
    ("NUMERIC '99999999999999999999999999999.999999999'", pa.decimal128(38, 9), Decimal("99999999999999999999999999999.999999999")),
    ("NUMERIC '-0.000000001'", pa.decimal128(38, 9), Decimal("-0.000000001")),
    ("NUMERIC '100'", pa.decimal128(38, 9), Decimal("100.000000000")),
    ("NUMERIC '9007199254740993'", pa.decimal128(38, 9), Decimal("9007199254740993")),
    ("NUMERIC '0'", pa.decimal128(38, 9), Decimal("0E-9")),
    (
        "BIGNUMERIC '-99999999999999999999999999999999999999.99999999999999999999999999999999999999'",
        pa.decimal256(76, 38),
        Decimal("-99999999999999999999999999999999999999.99999999999999999999999999999999999999"),
    ),
    ("BIGNUMERIC '1e-38'", pa.decimal256(76, 38), Decimal("1e-38")),
    ("CAST('NaN' AS FLOAT64)", pa.float64(), float("nan")),
    ("CAST('-inf' AS FLOAT64)", pa.float64(), float("-inf")),
    ("0.1", pa.float64(), 0.1),
    ("b'\\x00\\xff'", pa.binary(), b"\x00\xff"),
    ("'é \"q\"\\n'", pa.string(), 'é "q"\n'),
]  # fmt: skip
STAMPS = pa.list_(
    pa.struct([("moment", pa.timestamp("us", tz="UTC")), ("n", pa.decimal128(38, 9))])
)
NESTED: list[tuple[str, pa.DataType, Any]] = [
    (
        "[STRUCT(TIMESTAMP '0999-01-01 00:00:00.5+00' AS moment, NUMERIC '1.50' AS n)]",
        STAMPS,
        [{"moment": dt.datetime(999, 1, 1, 0, 0, 0, 500000, tzinfo=UTC), "n": Decimal("1.5")}],
    ),
    (
        "STRUCT([DATE '2024-01-16'] AS d, TIME '01:02:03.010' AS t)",
        pa.struct([("d", pa.list_(pa.date32())), ("t", pa.time64("us"))]),
        {"d": [dt.date(2024, 1, 16)], "t": dt.time(1, 2, 3, 10000)},
    ),
    ("[9007199254740993, NULL]", pa.list_(pa.int64()), [2**53 + 1, None]),
]


def _table(cases: list[tuple[str, pa.DataType, Any]]) -> pa.Table:
    return pa.table(
        {f"c{i}": pa.array([value], type_) for i, (_, type_, value) in enumerate(cases)}
    )


@pytest.fixture(scope="module")
def googlesql() -> Iterator[GoogleSqlServer]:
    with GoogleSqlServer() as server:
        yield server


def _reference(server: GoogleSqlServer, sql: str) -> Any:
    return evaluate_query(server, sql).rows[0][0]


def _same(left: Any, right: Any) -> bool:
    """Equal JSON values; NaN equals NaN only in its string form, which both sides use."""
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


def test_json_is_what_to_json_string_writes(googlesql: GoogleSqlServer) -> None:
    cases = SCALARS + NESTED
    row = json.loads(format_json(_table(cases)))[0]
    fields = ", ".join(f"{literal} AS c{i}" for i, (literal, _, _) in enumerate(cases))
    expected = json.loads(_reference(googlesql, f"SELECT TO_JSON_STRING(STRUCT({fields}))"))
    for i, (literal, _, _) in enumerate(cases):
        assert _same(row[f"c{i}"], expected[f"c{i}"]), literal


def test_json_keeps_every_digit_and_the_type_of_each_value() -> None:
    row = json.loads(format_json(_table(SCALARS)))[0]
    values = {literal: row[f"c{i}"] for i, (literal, _, _) in enumerate(SCALARS)}
    assert values["DATETIME '9999-12-31 23:59:59.999999'"] == "9999-12-31T23:59:59.999999"
    assert values["TIMESTAMP '0500-06-30 01:02:03.004+00'"] == "0500-06-30T01:02:03.004Z"
    assert values["TIME '12:34:56.5'"] == "12:34:56.500"
    assert values["9007199254740992"] == 2**53
    assert values["9007199254740993"] == "9007199254740993"
    assert values["NUMERIC '100'"] == 100
    assert values["NUMERIC '-0.000000001'"] == "-0.000000001"
    big = "-99999999999999999999999999999999999999.99999999999999999999999999999999999999"
    assert values[f"BIGNUMERIC '{big}'"] == big
    assert values["CAST('NaN' AS FLOAT64)"] == "NaN"


def _csv_cells(table: pa.Table) -> list[str]:
    return list(csv.reader(io.StringIO(format_csv(table))))[1]


def test_csv_date_and_time_cells_are_what_cast_as_string_writes(
    googlesql: GoogleSqlServer,
) -> None:
    temporal = [c for c in SCALARS if c[0].split()[0] in ("DATE", "DATETIME", "TIME", "TIMESTAMP")]
    temporal.append(("TRUE", pa.bool_(), True))
    cells = _csv_cells(_table(temporal))
    fields = ", ".join(f"CAST({literal} AS STRING)" for literal, _, _ in temporal)
    expected = evaluate_query(googlesql, f"SELECT {fields}").rows[0]
    assert cells == list(expected)
    assert cells[-2] == "9999-12-31 23:59:59.999999+00"


def test_csv_numbers_bytes_and_nested_values() -> None:
    cells = _csv_cells(_table(SCALARS + NESTED))
    by_literal = {literal: cells[i] for i, (literal, _, _) in enumerate(SCALARS + NESTED)}
    assert by_literal["NUMERIC '99999999999999999999999999999.999999999'"] == (
        "99999999999999999999999999999.999999999"
    )
    assert by_literal["NUMERIC '0'"] == "0"
    assert by_literal["BIGNUMERIC '1e-38'"] == "0." + "0" * 37 + "1"
    assert by_literal["CAST('NaN' AS FLOAT64)"] == "NaN"
    assert by_literal["CAST('-inf' AS FLOAT64)"] == "-Infinity"
    assert by_literal["b'\\x00\\xff'"] == "AP8="
    assert by_literal["'é \"q\"\\n'"] == 'é "q"\n'
    assert by_literal[NESTED[0][0]] == '[{"moment":"0999-01-01T00:00:00.500Z","n":"1.5"}]'
    assert by_literal[NESTED[2][0]] == '["9007199254740993",null]'


NULLS = pa.table(
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


def test_null_arrays_print_empty_in_every_format() -> None:
    assert json.loads(format_json(NULLS)) == [
        {"f": "NaN", "a": [], "s": {"x": []}, "n": "12345678901234567890.123456789"},
        {"f": "Infinity", "a": [1], "s": {"x": ["q"]}, "n": "1.5"},
        {"f": "-Infinity", "a": [], "s": None, "n": 100},
        {"f": 1.5, "a": [], "s": {"x": []}, "n": None},
    ]
    assert format_csv(NULLS).splitlines() == [
        "f,a,s,n",
        'NaN,[],"{""x"":[]}",12345678901234567890.123456789',
        'Infinity,[1],"{""x"":[""q""]}",1.5',
        "-Infinity,[],,100",
        '1.5,[],"{""x"":[]}",',
    ]
    assert [line.split() for line in format_table(NULLS).splitlines()[2:6]] == [
        ["NaN", "[]", '{"x":[]}', "12345678901234567890.123456789"],
        ["Infinity", "[1]", '{"x":["q"]}', "1.5"],
        ["-Infinity", "[]", "NULL", "100"],
        ["1.5", "[]", '{"x":[]}', "NULL"],
    ]


def test_table_cells_use_cast_forms_and_shorten_long_arrays() -> None:
    table = pa.table(
        {
            "ts": pa.array([dt.datetime(2024, 1, 16, 12, 34, 56, 120000, tzinfo=UTC)]),
            "ok": pa.array([False]),
            "pixels": pa.array([[0.5] * 150_528], pa.list_(pa.float64())),
        }
    )
    lines = format_table(table).splitlines()
    assert lines[0].split() == ["ts", "ok", "pixels"]
    assert lines[2].split("  ")[0] == "2024-01-16 12:34:56.120+00"
    assert lines[2].split()[2:] == ["false", '[0.5,0.5,0.5,0.5,"...', "150528", 'values"]']
    assert lines[-1] == "(1 row)"


def test_intervals_print_in_their_canonical_form_everywhere() -> None:
    """BigQuery's canonical INTERVAL text, `[sign]Y-M [sign]D [sign]H:M:S[.F]`: each part
    keeps its own sign (the evaluator here has no INTERVAL, so the documented form is used)."""
    values = [
        pa.MonthDayNano([14, 3, 14_706_000_000_000]),
        pa.MonthDayNano([-13, -2, -1_500_000_000]),
        pa.MonthDayNano([0, 5, -1_000]),
        pa.MonthDayNano([0, 0, 0]),
    ]
    table = pa.table({"i": pa.array(values, pa.month_day_nano_interval())})
    expected = ["1-2 3 4:5:6", "-1-1 -2 -0:0:1.5", "0-0 5 -0:0:0.000001", "0-0 0 0:0:0"]
    assert [row["i"] for row in json.loads(format_json(table))] == expected
    assert format_csv(table).splitlines()[1:] == expected
