"""BigQuery's text forms inside SQL: numbers as text, TO_JSON_STRING, JSON extraction, FORMAT_*.

The expected texts are GoogleSQL's reference evaluator's answers (the differential
harness checks the same forms over seeded values); these pin the rules and the refusals.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from local_engine.engine import LocalEngine
from local_engine.errors import EngineError
from local_engine.json_text import float_text, json_extract, json_string, to_json_string
from local_engine.time_format import format_date, format_datetime, format_time, format_timestamp


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    with LocalEngine(Path(tmp_path_factory.mktemp("lake")), progress=False) as engine:
        yield engine


def _value(engine: LocalEngine, expression: str) -> object:
    table = engine.execute(f"SELECT {expression} AS r").table
    assert table is not None
    return table.column(0)[0].as_py()


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.5, "1.5"),
        (1e20, "1e+20"),
        (1e15, "1e+15"),
        (123456.0, "123456"),
        (9007199254740992.0, "9007199254740992"),
        (1 / 3, "0.33333333333333331"),
        (0.1 + 0.2, "0.30000000000000004"),
        (5e-324, "4.94065645841247e-324"),
        (1e-5, "1e-05"),
        (float("nan"), "nan"),
        (float("-inf"), "-inf"),
    ],
)
def test_a_float_is_written_in_15_digits_or_else_17(value: float, text: str) -> None:
    assert float_text(value) == text


@pytest.mark.parametrize(
    ("expression", "text"),
    [
        ("CAST(1.0 AS STRING)", "1"),
        ("CAST(-1 * 0.0 AS STRING)", "0"),
        ("SAFE_CAST(1e15 AS STRING)", "1e+15"),
        ("CAST(NUMERIC '100' AS STRING)", "100"),
        ("CAST(CAST(1.5 AS NUMERIC) AS STRING)", "1.5"),
        ("CONCAT('a', 1.0, NUMERIC '2.50')", "a12.5"),
        ("'a' || (1 / 3)", "a0.33333333333333331"),
        ("CAST(7 AS STRING)", "7"),
        ("CAST(TIMESTAMP '2024-01-01 10:00:00.5+00' AS STRING)", "2024-01-01 10:00:00.500+00"),
        ("STRING(TIMESTAMP '2024-01-01 10:00:00.1234+00')", "2024-01-01 10:00:00.123400+00"),
        (
            "CONCAT('t', TIME '10:00:00.25', DATETIME '2024-01-01 10:00:00')",
            "t10:00:00.2502024-01-01 10:00:00",
        ),
        ("CONCAT(b'a', b'b')", b"ab"),
        (
            "(SELECT STRING_AGG(CAST(x / 4 AS STRING), ',' ORDER BY x) FROM UNNEST([1, 4]) AS x)",
            "0.25,1",
        ),
    ],
)
def test_numbers_become_bigquery_text_in_sql(
    engine: LocalEngine, expression: str, text: object
) -> None:
    assert _value(engine, expression) == text


@pytest.mark.parametrize(
    "expression",
    [
        "CONCAT(1.0, 2.5)",
        "CAST(INTERVAL 14 MONTH AS STRING)",
        "STRING(TIMESTAMP '2024-01-01 10:00:00+00', 'America/Los_Angeles')",
    ],
)
def test_text_forms_it_cannot_write_are_refused(engine: LocalEngine, expression: str) -> None:
    with pytest.raises(EngineError, match="not supported by the local engine"):
        _value(engine, expression)


@pytest.mark.parametrize(
    ("expression", "text"),
    [
        (
            "TO_JSON_STRING(STRUCT(9223372036854775807 AS a, '' AS b))",
            '{"a":"9223372036854775807","b":""}',
        ),
        (
            "TO_JSON_STRING([9007199254740992, -9007199254740993])",
            '[9007199254740992,"-9007199254740993"]',
        ),
        ("TO_JSON_STRING([1.0, 1e20, -0.0, CAST('nan' AS FLOAT64)])", '[1,1e+20,0,"NaN"]'),
        ("TO_JSON_STRING(STRUCT(NUMERIC '1.5' AS n, NUMERIC '100' AS m))", '{"n":"1.5","m":100}'),
        ("TO_JSON_STRING(TIMESTAMP '2024-01-16 10:30:00.5+00')", '"2024-01-16T10:30:00.500Z"'),
        ("TO_JSON_STRING(DATETIME '0001-01-01 10:30:00')", '"0001-01-01T10:30:00"'),
        ("TO_JSON_STRING(b'\\x00ab')", '"AGFi"'),
        ("TO_JSON_STRING(STRUCT(1, 2))", '{"":1,"":2}'),
        ("TO_JSON_STRING(CAST(NULL AS ARRAY<INT64>))", "null"),
        ("TO_JSON_STRING(STRUCT(1 AS a), true)", '{\n  "a": 1\n}'),
    ],
)
def test_to_json_string(engine: LocalEngine, expression: str, text: str) -> None:
    assert _value(engine, expression) == text


def test_json_strings_escape_controls_and_line_separators_only() -> None:
    assert json_string('a<b>&"\\\n\x01\u2028é') == '"a<b>&\\"\\\\\\n\\u0001\\u2028é"'


def test_to_json_string_refuses_types_it_cannot_write() -> None:
    with pytest.raises(ValueError, match="not supported by the local engine"):
        to_json_string('"3 months"', "INTERVAL")


@pytest.mark.parametrize(
    ("text", "path", "function", "found"),
    [
        ('{"a": 1e3}', "$.a", "JSON_VALUE", "1e3"),
        ('{"a": 1.10}', "$.a", "JSON_EXTRACT_SCALAR", "1.10"),
        ('{"a": -0}', "$.a", "JSON_VALUE", "-0"),
        ('{"a": [1E+3, "x\\u00e9", {"b" : null}]}', "$.a", "JSON_QUERY", '[1E+3,"xé",{"b":null}]'),
        ('{"a": {"b": [1, {"c": "d"}]}}', "$.a.b[1].c", "JSON_VALUE", "d"),
        ('{"a.b": 1}', '$."a.b"', "JSON_VALUE", "1"),
        ('{"a.b": 1}', "$['a.b']", "JSON_EXTRACT", "1"),
        ('{"a": 1, "a": 2}', "$.a", "JSON_VALUE", "1"),
        ('{"a": [1]}', "$.a", "JSON_VALUE", None),
        ('{"a": null}', "$.a", "JSON_VALUE", None),
        ("[1, 2]", "$[-1]", "JSON_VALUE", None),
        ("[5]", "$.0", "JSON_EXTRACT_SCALAR", "5"),
        ('{"0": 5}', "$[0]", "JSON_VALUE", "5"),
        ('{"a b": 5}', "$.a b", "JSON_VALUE", "5"),
        ('{"a": null}', "$.a", "JSON_QUERY", None),
        ('{"a": [null]}', "$.a", "JSON_QUERY", "[null]"),
        ('{"a": "\\u2028"}', "$.a", "JSON_QUERY", '"\\u2028"'),
    ],
)
def test_json_extraction_keeps_number_text(
    text: str, path: str, function: str, found: str | None
) -> None:
    assert json_extract(text, path, function) == found


@pytest.mark.parametrize(
    ("text", "path", "function"),
    [
        ("not json", "$.a", "JSON_VALUE"),
        ('{"a": NaN}', "$.a", "JSON_VALUE"),
        ('{"a": 1}', "$.*", "JSON_QUERY"),
        ('{"a": 1}', "$['a']", "JSON_VALUE"),
        ('{"a": "\\ud83d\\ude00"}', "$.a", "JSON_VALUE"),
    ],
)
def test_json_extraction_refuses_what_it_cannot_answer(text: str, path: str, function: str) -> None:
    with pytest.raises(ValueError, match="not supported by the local engine"):
        json_extract(text, path, function)


def test_json_functions_in_sql(engine: LocalEngine) -> None:
    assert _value(engine, """JSON_VALUE('{"a": 1e3}', '$.a')""") == "1e3"
    assert _value(engine, """JSON_QUERY('{"a": 1}', '$.b')""") is None
    assert _value(engine, """JSON_EXTRACT_SCALAR('"s"')""") == "s"
    with pytest.raises(EngineError, match="JSONPath must start with"):
        _value(engine, """JSON_VALUE('{"a": 1}', 'a')""")
    with pytest.raises(EngineError, match="not supported by the local engine"):
        _value(engine, """JSON_VALUE_ARRAY('[1e3]')""")


def test_format_is_refused(engine: LocalEngine) -> None:
    with pytest.raises(EngineError, match="FORMAT is not supported by the local engine"):
        _value(engine, "FORMAT('%t', 1.5)")


@pytest.mark.parametrize(
    ("fmt", "text"),
    [
        ("%Y-%m-%d %A", "1-01-01 Monday"),
        ("%F|%E4Y|%C|%y|%G|%g|%V|%j", "1-01-01|0001|0|01|1|01|01|001"),
        ("%e|%u|%w|%U|%W|%Q|%D|%x", " 1|1|1|00|01|1|01/01/01|01/01/01"),
        ("%H|%T|%c|%Z|%s|%N|%E5Y|%", "%H|%T|%c|%Z|%s|%N|%E5Y|%"),
    ],
)
def test_format_date(fmt: str, text: str) -> None:
    assert format_date(fmt, date(1, 1, 1)) == text


def test_format_datetime_time_and_timestamp() -> None:
    moment = datetime(999, 6, 15, 13, 5, 9, 123456)
    assert format_datetime("%c|%k|%l|%P|%E3S|%E*S|%s|%Z", moment) == (
        "Sat Jun 15 13:05:09 999|13| 1|pm|09.123|09.123456|-30627456891|%Z"
    )
    assert format_time("%H:%M:%E2S %p %Y", time(13, 5, 9, 250000)) == "13:05:09.25 PM %Y"
    utc = datetime(2024, 12, 30, 23, 59, 59, 1)
    assert format_timestamp("%H %Z %z %Ez", utc, "America/Los_Angeles") == "15 UTC-8 -0800 -08:00"
    assert format_timestamp("%Z %z", utc, "+05:30") == "UTC+0530 +0530"
    with pytest.raises(ValueError, match="Invalid time zone"):
        format_timestamp("%Y", utc, "Nowhere/Bad")


def test_format_elements_it_cannot_write_are_refused(engine: LocalEngine) -> None:
    with pytest.raises(EngineError, match="%J in FORMAT_DATE is not supported by the local engine"):
        _value(engine, "FORMAT_DATE('%J', DATE '2024-01-01')")
    assert _value(engine, "FORMAT_DATE('%Y-%m-%d %A', DATE '0001-01-01')") == "1-01-01 Monday"
    assert (
        _value(engine, "FORMAT_TIMESTAMP('%e %k', TIMESTAMP '2024-01-03 04:00:00+00', 'UTC')")
        == " 3  4"
    )


def test_parse_timestamp_reads_in_its_time_zone_and_is_a_timestamp(engine: LocalEngine) -> None:
    parsed = _value(
        engine,
        "PARSE_TIMESTAMP('%Y-%m-%d %H:%M:%S', '2024-01-16 10:30:00', 'America/Los_Angeles')",
    )
    assert parsed == datetime(2024, 1, 16, 18, 30, tzinfo=UTC)
    assert _value(
        engine, "PARSE_TIMESTAMP('%F %T %z', '2024-01-16 10:30:00 +0530', 'Asia/Tokyo')"
    ) == (datetime(2024, 1, 16, 5, 0, tzinfo=UTC))
    assert _value(engine, "PARSE_DATE('%j %Y', '060 2024')") == date(2024, 2, 29)


@pytest.mark.parametrize(
    "expression",
    [
        "PARSE_DATE('%e %b %Y', ' 6 Jan 2024')",
        "PARSE_TIMESTAMP('%s', '1700000000')",
        "PARSE_TIMESTAMP('%Y-%m-%d [%p]', '2024-01-16 [PM]')",
        "PARSE_TIMESTAMP('%Y-%m-%d %H', '2024-01-16 10', '+05:30')",
        "PARSE_DATE(CONCAT('%Y', '-%m-%d'), '2024-01-16')",
    ],
)
def test_parse_forms_strptime_reads_differently_are_refused(
    engine: LocalEngine, expression: str
) -> None:
    with pytest.raises(EngineError, match="not supported by the local engine"):
        _value(engine, expression)
