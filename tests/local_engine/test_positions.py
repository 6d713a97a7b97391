"""Positions and lengths up to the INT64 limits in SUBSTR, LEFT, RIGHT, LPAD, RPAD, INSTR
and REGEXP_EXTRACT, on STRING and BYTES columns (the harness checks the literals)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from local_engine.engine import LocalEngine
from local_engine.errors import EngineError

MAX = "9223372036854775807"
MIN = "-9223372036854775808"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    with LocalEngine(Path(tmp_path_factory.mktemp("lake")), progress=False) as engine:
        engine.execute("CREATE SCHEMA d")
        engine.execute(
            "CREATE TABLE d.t AS SELECT 'Straße' AS s, b'a\\xffbc' AS b,"
            f" {MAX} AS big, {MIN} AS small, 2 AS two"
        )
        yield engine


def value(engine: LocalEngine, expression: str) -> object:
    table = engine.execute(f"SELECT {expression} FROM d.t").table
    assert table is not None
    return table.column(0)[0].as_py()


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("SUBSTR(s, big)", ""),
        ("SUBSTR(s, small)", "Straße"),
        ("SUBSTR(s, small, two)", "St"),
        ("SUBSTR(s, -3, big)", "aße"),
        ("SUBSTR(s, 0, two)", "St"),
        ("SUBSTR(s, two, big)", "traße"),
        ("SUBSTR(b, -2)", b"bc"),
        ("SUBSTR(b, two, two)", b"\xffb"),
        ("SUBSTR(b, big, big)", b""),
        ("LEFT(s, big)", "Straße"),
        ("RIGHT(s, big)", "Straße"),
        ("RIGHT(s, two)", "ße"),
        ("LEFT(b, two)", b"a\xff"),
        ("RIGHT(b, two)", b"bc"),
        ("LPAD(s, two + 6, '*')", "**Straße"),
        ("RPAD(b, two + 3, b'-')", b"a\xffbc-"),
        ("LPAD(b, two)", b"a\xff"),
        ("INSTR(s, 'a', big)", 0),
        ("INSTR(s, 'a', two)", 4),
        ("REGEXP_EXTRACT(s, 'a', big)", None),
        ("REGEXP_INSTR(s, 'a', big)", 0),
        ("REGEXP_INSTR(s, 'a', two, 1, 1)", 5),
        ("SUBSTR(s, CAST(NULL AS INT64), -1)", None),
        ("LPAD(CAST(NULL AS STRING), big)", None),
        ("RPAD(b, big, CAST(NULL AS BYTES))", None),
        (MIN, int(MIN)),
        (f"[1, 2][SAFE_ORDINAL({MIN})]", None),
    ],
)
def test_positions_anywhere_in_int64(
    engine: LocalEngine, expression: str, expected: object
) -> None:
    assert value(engine, expression) == expected


@pytest.mark.parametrize(
    "expression",
    [
        "SUBSTR(s, 1, -two)",
        "LEFT(s, -two)",
        "RIGHT(b, -two)",
        "LPAD(s, big)",
        "RPAD(s, -two, 'x')",
        "INSTR(s, 'a', 0)",
        "REGEXP_EXTRACT(s, 'a', 0)",
        "REGEXP_EXTRACT(s, 'a', 1, 0)",
        "REGEXP_INSTR(s, 'a', -two)",
        "REGEXP_INSTR(s, 'a', 1, 1, 2)",
    ],
)
def test_bad_lengths_and_positions_fail_as_in_bigquery(
    engine: LocalEngine, expression: str
) -> None:
    with pytest.raises(EngineError) as failure:
        value(engine, expression)
    assert "not supported by the local engine" not in str(failure.value)


def test_instr_searching_backwards_and_a_computed_occurrence_position_are_refused(
    engine: LocalEngine,
) -> None:
    with pytest.raises(EngineError, match="INSTR with a negative position is not supported"):
        value(engine, "INSTR(s, 'a', -two)")
    with pytest.raises(EngineError, match="occurrence_position is not supported"):
        value(engine, "REGEXP_INSTR(s, 'a', 1, 1, two - 1)")
