"""Seeded queries over BigQuery's function library, one family at a time.

Each family is a list of expression templates whose `{int}`, `{float}`, `{string}`,
`{date}`, `{timestamp}`, `{array}` slots are filled with literals drawn from pools that
hold the awkward values on purpose (NULL, NaN, infinities, zero, the INT64 limits, empty
strings and arrays, Unicode with special case mappings, leap days, week and year
boundaries). The same seed always gives the same queries.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

POOLS: dict[str, list[str]] = {
    "int": [
        "0",
        "1",
        "-1",
        "7",
        "-12",
        "100",
        "2147483648",
        "9223372036854775807",
        "CAST(NULL AS INT64)",
    ],
    "float": [
        "0.0",
        "1.5",
        "-2.5",
        "0.1",
        "1e20",
        "CAST('NaN' AS FLOAT64)",
        "CAST('inf' AS FLOAT64)",
        "CAST('-inf' AS FLOAT64)",
        "CAST(NULL AS FLOAT64)",
    ],
    "string": [
        "'abc'",
        "''",
        "'Straße'",
        "'ǅemal'",
        "' padded '",
        "'a,b,,c'",
        "'123'",
        "'-12.5'",
        "'true'",
        "'NaN'",
        "'x%y_z'",
        "CAST(NULL AS STRING)",
    ],
    "date": [
        "DATE '2024-01-16'",
        "DATE '2024-02-29'",
        "DATE '2023-12-31'",
        "DATE '2024-12-30'",
        "DATE '2021-01-03'",
        "DATE '1970-01-01'",
        "DATE '0001-01-01'",
        "DATE '9999-12-31'",
        "CAST(NULL AS DATE)",
    ],
    "timestamp": [
        "TIMESTAMP '2024-01-16 10:30:00.123456+00'",
        "TIMESTAMP '1969-12-31 23:59:59+00'",
        "TIMESTAMP '2024-03-10 02:30:00+00'",
        "TIMESTAMP '2023-12-31 23:59:59.999999+00'",
        "CAST(NULL AS TIMESTAMP)",
    ],
    "array": [
        "[1, 2, 3]",
        "CAST([] AS ARRAY<INT64>)",
        "[3, 1, 2, 1]",
        "[0]",
        "CAST(NULL AS ARRAY<INT64>)",
    ],
    # Counts that size a result (GENERATE_ARRAY, REPEAT): small, so no case can exhaust memory.
    "small": ["0", "1", "3", "-2", "CAST(NULL AS INT64)"],
    "json": ["0", "-1", "1e3", "null", '"x"', "true", "1.10", "-0", "1E+3", "12345678901234567890"],
    # Doubles whose text is awkward: shortest forms of 15 and 17 digits, tiny, huge, integral.
    "double": [
        "0.0",
        "-0.0",
        "1.0",
        "1e15",
        "1e21",
        "1e-7",
        "5e-324",
        "(1 / 3)",
        "(0.1 + 0.2)",
        "9007199254740993.0",
        "123456.0",
        "-1.5e300",
        "CAST('NaN' AS FLOAT64)",
        "CAST('-inf' AS FLOAT64)",
        "CAST(NULL AS FLOAT64)",
    ],
    "numeric": [
        "NUMERIC '1.5'",
        "NUMERIC '100'",
        "NUMERIC '0'",
        "NUMERIC '-0.000000001'",
        "NUMERIC '9007199254740993'",
        "NUMERIC '-9007199254740992'",
        "CAST(NULL AS NUMERIC)",
    ],
    "bigint": ["9007199254740992", "9007199254740993", "-9007199254740993", "-9223372036854775807"],
    "datetime": [
        "DATETIME '0001-01-01 00:00:00'",
        "DATETIME '0999-06-15 13:05:09.123456'",
        "DATETIME '2021-01-03 09:00:00.5'",
        "CAST(NULL AS DATETIME)",
    ],
    "time": ["TIME '00:00:00'", "TIME '13:05:09.25'", "TIME '23:59:59.999999'"],
    "zone": ["'UTC'", "'America/Los_Angeles'", "'+05:30'", "'Asia/Kolkata'", "'Etc/GMT+3'"],
    "element": [
        "%A",
        "%a",
        "%B",
        "%b",
        "%C",
        "%c",
        "%D",
        "%d",
        "%e",
        "%F",
        "%G",
        "%g",
        "%H",
        "%h",
        "%I",
        "%j",
        "%k",
        "%l",
        "%M",
        "%m",
        "%n",
        "%P",
        "%p",
        "%Q",
        "%R",
        "%S",
        "%s",
        "%T",
        "%t",
        "%U",
        "%u",
        "%V",
        "%W",
        "%w",
        "%X",
        "%x",
        "%Y",
        "%y",
        "%Z",
        "%z",
        "%%",
        "%E4Y",
        "%Ey",
        "%EY",
        "%Ec",
        "%Ex",
        "%EX",
        "%E3S",
        "%E6S",
        "%E*S",
        "%Od",
        "%Oe",
        "%OH",
        "%OI",
        "%Om",
        "%OM",
        "%OS",
        "%Ou",
        "%OU",
        "%OV",
        "%Ow",
        "%OW",
        "%Oy",
        "%Ez",
        "%E2S",
        "%E9S",
        "%N",
        "%q",
        "%E:z",
        "%E5Y",
    ],
    # PARSE_DATE and PARSE_TIMESTAMP arguments: formats DuckDB reads as BigQuery does, and not.
    "parse_date": [
        "'%Y-%m-%d', '0999-6-5'",
        "'%F', ' 2024-02-29 '",
        "'%d/%m/%Y', '29/02/2023'",
        "'%A %b %d %Y', 'Monday Jan 16 2024'",
        "'%B %d, %y', 'March 1, 69'",
        "'%j %Y', '060 2024'",
        "'%x', '12/31/99'",
        "'%e %b %Y', ' 6 Jan 2024'",
        "'%Y%m%d', '20240116x'",
    ],
    "parse_timestamp": [
        "'%Y-%m-%d %H:%M:%S', '2024-01-16 10:30:00'",
        "'%Y-%m-%d %H:%M:%S', '2024-03-10 02:30:00', 'America/Los_Angeles'",
        "'%F %T %z', '2024-01-16 10:30:00 +0530', 'Asia/Tokyo'",
        "'%c', 'Tue Jan 16 10:30:00 2024', 'Etc/GMT+3'",
        "'%Y-%m-%d %I:%M %p', '2024-01-16 10:30 PM', 'UTC'",
        "'%Y-%m-%d %H:%M:%E6S', '2024-01-16 10:30:00.25'",
        "'%Y-%m-%d %H', '2024-01-16 10', '+05:30'",
        "'%s', '1700000000'",
    ],
    # NaN next to the values it must not equal or follow: BigQuery's comparisons are IEEE's,
    # its orders put NaN after NULL and before -inf.
    "nan": ["CAST('NaN' AS FLOAT64)", "CAST('-inf' AS FLOAT64)", "1.5", "CAST(NULL AS FLOAT64)"],
    "floats": [
        "[1.5, CAST('NaN' AS FLOAT64), CAST('-inf' AS FLOAT64)]",
        "[CAST(NULL AS FLOAT64), CAST('NaN' AS FLOAT64), 2.0]",
        "[2.0, CAST('NaN' AS FLOAT64), CAST('NaN' AS FLOAT64), -1.0]",
        "[CAST('inf' AS FLOAT64), -1.0, CAST(NULL AS FLOAT64)]",
        "CAST([] AS ARRAY<FLOAT64>)",
    ],
    # Positions and lengths: before the start, past the end, and the INT64 limits.
    # (Few negatives: each failing case costs the reference evaluator half a second.)
    "position": [
        "0",
        "2",
        "-5",
        "9223372036854775807",
        "-9223372036854775808",
        "CAST(NULL AS INT64)",
    ],
    "text": ["'Straße'", "b'a\\xffc'"],
    "trunc": ["YEAR", "QUARTER", "MONTH", "WEEK", "ISOWEEK", "DAY"],
    "part": ["YEAR", "QUARTER", "MONTH", "WEEK", "ISOWEEK", "DAY", "DAYOFWEEK", "DAYOFYEAR"],
}

FAMILIES: dict[str, list[str]] = {
    "date and time": [
        "EXTRACT({part} FROM {date})",
        "EXTRACT({part} FROM {timestamp})",
        "EXTRACT(HOUR FROM {timestamp})",
        "DATE_TRUNC({date}, {trunc})",
        "DATE_ADD({date}, INTERVAL {int} DAY)",
        "DATE_SUB({date}, INTERVAL 1 MONTH)",
        "DATE_DIFF({date}, {date}, DAY)",
        "DATE_DIFF({date}, {date}, WEEK)",
        "FORMAT_DATE('%Y-%m-%d %A', {date})",
        "LAST_DAY({date})",
        "UNIX_DATE({date})",
        "DATE({timestamp})",
        "TIMESTAMP_TRUNC({timestamp}, HOUR)",
        "TIMESTAMP_DIFF({timestamp}, {timestamp}, SECOND)",
        "UNIX_SECONDS({timestamp})",
        "TIMESTAMP_SECONDS({int})",
        "FORMAT_TIMESTAMP('%Y-%m-%dT%H:%M:%S', {timestamp})",
        "FORMAT_DATE('[{element}|{element}]', {date})",
        "FORMAT_DATETIME('[{element}|{element}]', {datetime})",
        "FORMAT_TIMESTAMP('[{element}|{element}]', {timestamp}, {zone})",
        "FORMAT_TIME('[{element}]', {time})",
        "CAST({date} AS STRING)",
        "PARSE_DATE({parse_date})",
        "PARSE_TIMESTAMP({parse_timestamp})",
        "CAST({timestamp} AS STRING)",
        "CONCAT({time}, '|', DATETIME '2021-01-03 09:00:00.5', '|',"
        " TIMESTAMP '2024-01-16 10:30:00.5+00')",
    ],
    "string": [
        "UPPER({string})",
        "LOWER({string})",
        "INITCAP({string})",
        "LENGTH({string})",
        "BYTE_LENGTH({string})",
        "SUBSTR({string}, {int})",
        "SUBSTR({string}, 2, 3)",
        "STRPOS({string}, 'b')",
        "REPLACE({string}, 'a', 'X')",
        "REVERSE({string})",
        "TRIM({string})",
        "LPAD({string}, 6, '*')",
        "SPLIT({string}, ',')",
        "STARTS_WITH({string}, 'a')",
        "CONCAT({string}, {string})",
        "REPEAT({string}, {small})",
        "LEFT({string}, 2)",
        "REGEXP_CONTAINS({string}, r'^[a-z]+$')",
        "REGEXP_REPLACE({string}, r'[aeiou]', '_')",
        "ARRAY_TO_STRING(SPLIT({string}, ','), '|')",
        "SUBSTR({text}, {position})",
        "SUBSTR('abc', {position}, 9223372036854775807)",
        "SUBSTR('abc', 2, {position})",
        "LEFT('Straße', {position})",
        "RIGHT(b'a\\xffc', {position})",
        "INSTR('abcb', 'b', {position})",
        "REGEXP_EXTRACT('abcb', 'b', {position})",
        "REGEXP_INSTR('abcb', 'b', {position})",
        "LPAD('abc', {position}, '*')",
    ],
    "math": [
        "ABS({int})",
        "SIGN({float})",
        "ROUND({float})",
        "ROUND(2.5)",
        "TRUNC({float})",
        "CEIL({float})",
        "SQRT({float})",
        "POW({float}, 2)",
        "LN({float})",
        "MOD({int}, {int})",
        "DIV({int}, {int})",
        "{int} + {int}",
        "{int} * {int}",
        "{int} / {int}",
        "{float} / {float}",
        "IEEE_DIVIDE({float}, {float})",
        "SAFE_DIVIDE({int}, {int})",
        "SAFE_ADD({int}, {int})",
        "SAFE_MULTIPLY({int}, {int})",
        "GREATEST({int}, {int})",
        "LEAST({float}, {float})",
        "{float} = {float}",
        "{float} < {float}",
        "IS_NAN({float})",
        "{nan} != {nan}",
        "{nan} <= {nan}",
        "{nan} >= {nan}",
        "{nan} BETWEEN {nan} AND {nan}",
        "{nan} IN ({nan}, -2.0)",
        "{nan} IN (SELECT x FROM UNNEST({floats}) AS x)",
        "GREATEST({nan}, {nan})",
        "NULLIF({nan}, {nan})",
        "CASE {nan} WHEN {nan} THEN 'equal' ELSE 'unequal' END",
    ],
    "aggregate": [
        "(SELECT COUNT(x) FROM UNNEST({array}) AS x)",
        "(SELECT COUNTIF(x > 1) FROM UNNEST({array}) AS x)",
        "(SELECT SUM(x) FROM UNNEST({array}) AS x)",
        "(SELECT AVG(x) FROM UNNEST({array}) AS x)",
        "(SELECT MAX(x) FROM UNNEST({array}) AS x)",
        "(SELECT ARRAY_AGG(x ORDER BY x) FROM UNNEST({array}) AS x)",
        "(SELECT STRING_AGG(CAST(x AS STRING), '-' ORDER BY x) FROM UNNEST({array}) AS x)",
        "(SELECT LOGICAL_AND(x > 0) FROM UNNEST({array}) AS x)",
        "(SELECT COUNT(DISTINCT x) FROM UNNEST({array}) AS x)",
        "(SELECT SUM(x) FROM UNNEST([CAST(NULL AS INT64), NULL]) AS x)",
        "(SELECT MIN(x) FROM UNNEST({floats}) AS x)",
        "(SELECT MAX(x) FROM UNNEST({floats}) AS x)",
        "(SELECT x FROM UNNEST({floats}) AS x ORDER BY x LIMIT 1)",
        "(SELECT x FROM UNNEST({floats}) AS x ORDER BY x DESC LIMIT 1)",
        "(SELECT x FROM UNNEST({floats}) AS x ORDER BY x ASC NULLS LAST LIMIT 1)",
        "(SELECT ARRAY_AGG(STRUCT(x) ORDER BY x) FROM UNNEST({floats}) AS x)",
        "(SELECT ARRAY_AGG(STRUCT(x) ORDER BY x DESC LIMIT 2) FROM UNNEST({floats}) AS x)",
        "(SELECT COUNT(DISTINCT x) FROM UNNEST({floats}) AS x)",
        "(SELECT COUNT(*) FROM (SELECT x FROM UNNEST({floats}) AS x GROUP BY x))",
        "(SELECT COUNT(*) FROM (SELECT x FROM UNNEST({floats}) AS x)"
        " JOIN (SELECT x FROM UNNEST({floats}) AS x) USING (x))",
    ],
    "array and struct": [
        "ARRAY_LENGTH({array})",
        "ARRAY_CONCAT({array}, [9])",
        "ARRAY_REVERSE({array})",
        "ARRAY_TO_STRING(ARRAY(SELECT CAST(x AS STRING) FROM UNNEST({array}) AS x), ',')",
        "{int} IN UNNEST({array})",
        "{nan} IN UNNEST({floats})",
        "[1, 2, 3][SAFE_OFFSET({position})]",
        "[1, 2, 3][SAFE_ORDINAL({position})]",
        "{array}[SAFE_OFFSET(1)]",
        "GENERATE_ARRAY(1, {small})",
        "STRUCT({int} AS a, {string} AS b).b",
        "(SELECT AS STRUCT 1 AS x, 'y' AS y)",
        "ARRAY(SELECT x * 2 FROM UNNEST({array}) AS x ORDER BY x)",
        "(SELECT s.id FROM (SELECT STRUCT(1 AS id, 'a' AS label) AS s UNION ALL"
        " SELECT STRUCT(2, 'b')) WHERE s.id > 1)",
    ],
    "conversion": [
        "CAST({string} AS INT64)",
        "SAFE_CAST({string} AS INT64)",
        "CAST({string} AS FLOAT64)",
        "SAFE_CAST({string} AS FLOAT64)",
        "SAFE_CAST({string} AS BOOL)",
        "SAFE_CAST({string} AS DATE)",
        "CAST({int} AS STRING)",
        "CAST({float} AS STRING)",
        "CAST({double} AS STRING)",
        "SAFE_CAST({numeric} AS STRING)",
        "CONCAT({numeric}, 'x')",
        "'x' || {double}",
        "CAST({float} AS INT64)",
        "SAFE_CAST({float} AS INT64)",
        "CAST({int} AS FLOAT64)",
        "CAST({int} AS BOOL)",
        "CAST({date} AS TIMESTAMP)",
    ],
    "json": [
        "JSON_VALUE('{{\"a\": {json}}}', '$.a')",
        "JSON_QUERY('{{\"a\": [1, 2]}}', '$.a')",
        "TO_JSON_STRING(STRUCT({int} AS a, {string} AS b))",
        "TO_JSON_STRING({array})",
        "TO_JSON_STRING([{double}])",
        "TO_JSON_STRING(STRUCT({numeric} AS n, [STRUCT({bigint} AS i)] AS s))",
        "TO_JSON_STRING(STRUCT({datetime} AS d, {timestamp} AS t, TIME '10:00:00.5' AS c,"
        " b'\\x00a' AS b))",
        "JSON_QUERY('{{\"a\": [{{\"b\": {json}}}]}}', '$.a')",
        "JSON_EXTRACT_SCALAR('{{\"a\": {{\"b\": [{json}]}}}}', '$.a.b[0]')",
        'JSON_EXTRACT(\'{{"a": "x\\\\u00e9\\\\n\\\\u2028", "b": {json}}}\', \'$\')',
    ],
    "window": [
        "(SELECT ARRAY_AGG(r ORDER BY x, r) FROM (SELECT x, ROW_NUMBER() OVER (ORDER BY x) AS r"
        " FROM UNNEST({array}) AS x))",
        "(SELECT ARRAY_AGG(r ORDER BY x, r) FROM (SELECT x, RANK() OVER (ORDER BY x) AS r"
        " FROM UNNEST({array}) AS x))",
        "(SELECT ARRAY_AGG(IFNULL(r, -99) ORDER BY o) FROM (SELECT o, LAG(x) OVER (ORDER BY o) AS r"
        " FROM UNNEST({array}) AS x WITH OFFSET AS o))",
        "(SELECT ARRAY_AGG(r ORDER BY o) FROM (SELECT o, SUM(x) OVER (ORDER BY o) AS r"
        " FROM UNNEST({array}) AS x WITH OFFSET AS o))",
        "(SELECT ARRAY_AGG(r ORDER BY o) FROM (SELECT o, RANK() OVER (ORDER BY x) AS r"
        " FROM UNNEST({floats}) AS x WITH OFFSET AS o))",
        "(SELECT ARRAY_AGG(STRUCT(r) ORDER BY o) FROM (SELECT o, MIN(x) OVER (ORDER BY o) AS r"
        " FROM UNNEST({floats}) AS x WITH OFFSET AS o))",
        "(SELECT PERCENTILE_CONT(x, 0.5) OVER () FROM UNNEST({floats}) AS x LIMIT 1)",
    ],
}

_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Case:
    family: str
    function: str  # the template, which names the function or form under test
    sql: str


_FORMS = (
    ("UNION ALL", "STRUCT across UNION ALL"),
    ("[SAFE_OFFSET", "[SAFE_OFFSET(i)]"),
    ("SELECT AS STRUCT", "SELECT AS STRUCT"),
    ("ROW_NUMBER()", "ROW_NUMBER"),
    ("RANK()", "RANK"),
    ("LAG(", "LAG"),
    ("MIN(x) OVER", "MIN OVER"),
    ("PERCENTILE_CONT(", "PERCENTILE_CONT"),
    (") OVER (", "SUM OVER"),
    ("COUNT(DISTINCT", "COUNT(DISTINCT)"),
    (" IN UNNEST(", "IN UNNEST"),
    ("ARRAY(SELECT x * 2", "ARRAY(subquery)"),
    ("ARRAY_AGG(x ORDER BY x)", "ARRAY_AGG"),
    ("ARRAY_AGG(STRUCT(x) ORDER BY", "ARRAY_AGG"),
    ("[SAFE_ORDINAL", "[SAFE_ORDINAL(i)]"),
    ("LIMIT 1)", "ORDER BY ... LIMIT"),
    ("GROUP BY x", "GROUP BY"),
    ("USING (x)", "JOIN USING"),
    ("CASE {nan} WHEN", "CASE x WHEN"),
)


def function_name(template: str) -> str:
    """The function, operator or form a template tests: `EXTRACT`, `SAFE_CAST`, `/`, ..."""
    for marker, name in _FORMS:
        if marker in template:
            return name
    match = re.match(r"\(SELECT (\w+)\(", template) or re.match(r"(\w+)\(", template)
    if match:
        return match.group(1)
    operator = re.search(r"\} (\S+) ", template)
    return operator.group(1) if operator else template


def cases(per_template: int, seed: int = 0) -> list[Case]:
    """`per_template` seeded queries for every template of every family, deduplicated."""
    rng = random.Random(seed)
    found: list[Case] = []
    for family, templates in FAMILIES.items():
        for template in templates:
            seen: set[str] = set()
            for _ in range(per_template):
                expression = _SLOT.sub(lambda m: rng.choice(POOLS[m.group(1)]), template)
                expression = expression.replace("{{", "{").replace("}}", "}")
                if expression in seen:
                    continue
                seen.add(expression)
                found.append(Case(family, template, f"SELECT {expression} AS r"))
    return found
