"""Queries a new user tried, through `python -m sqlrunner query --format json`: BigQuery's answers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.paths import REPO

ANSWERS = [
    ("SELECT EXTRACT(DAYOFWEEK FROM DATE '2024-01-16') AS r", [{"r": 3}]),
    ("SELECT COUNTIF(x > 0) AS r FROM UNNEST(CAST([] AS ARRAY<INT64>)) AS x", [{"r": 0}]),
    ("SELECT DATE_TRUNC(DATE '2024-05-17', YEAR) AS r", [{"r": "2024-01-01"}]),
    (
        "SELECT CAST('NaN' AS FLOAT64) AS n, CAST('inf' AS FLOAT64) AS i",
        [{"n": "NaN", "i": "Infinity"}],
    ),
    (
        "WITH t AS (SELECT STRUCT(1 AS id, 'a' AS label) AS s UNION ALL SELECT STRUCT(2, 'b'))"
        " SELECT s.id, s.label FROM t WHERE s.id > 1",
        [{"id": 2, "label": "b"}],
    ),
    ("SELECT UPPER('straße') AS r", [{"r": "STRASSE"}]),
    ("SELECT ARRAY_AGG(x) AS r FROM UNNEST([1]) AS x WHERE x > 5", [{"r": []}]),
    (
        "SELECT CAST('12345678901234567890.123456789' AS NUMERIC) AS r",
        [{"r": "12345678901234567890.123456789"}],
    ),
]


@pytest.mark.parametrize(("sql", "answer"), ANSWERS)
def test_bigquerys_answer(tmp_path: Path, sql: str, answer: list[dict[str, object]]) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sqlrunner",
            "query",
            "--home",
            str(tmp_path),
            "--format",
            "json",
            sql,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == answer


def test_bignumeric_is_refused_by_name(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sqlrunner",
            "query",
            "--home",
            str(tmp_path),
            "SELECT CAST(1 AS BIGNUMERIC)",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert done.returncode == 1
    assert "BIGNUMERIC is not supported by the local engine" in done.stderr
