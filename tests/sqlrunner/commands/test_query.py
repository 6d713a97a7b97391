"""The `python -m sqlrunner query` contract: formats, exit codes, `error:` lines, --file, HOME."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sqlrunner.cli import main
from tests.support.paths import REPO

TYPED_ROW = (
    "SELECT 1 AS n, 2.5 AS f, 'x' AS s, b'\\x00\\xff' AS raw,"
    " TIMESTAMP '2024-01-02 03:04:05+00' AS ts, DATE '2024-05-06' AS d,"
    " [1, 2, 3] AS arr, STRUCT(7 AS a, 'q' AS b) AS st, CAST(NULL AS STRING) AS nothing"
)


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, "query", "--home", str(tmp_path), "--format", "json", TYPED_ROW)
    assert code == 0
    assert json.loads(out) == [
        {
            "n": 1,
            "f": 2.5,
            "s": "x",
            "raw": base64.b64encode(b"\x00\xff").decode(),
            "ts": "2024-01-02T03:04:05Z",
            "d": "2024-05-06",
            "arr": [1, 2, 3],
            "st": {"a": 7, "b": "q"},
            "nothing": None,
        }
    ]


def test_csv_and_table_print_bigquerys_cast_forms(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _cli(capsys, "query", "--home", str(tmp_path), "--format", "csv", TYPED_ROW)
    assert code == 0
    assert list(csv.reader(io.StringIO(out)))[1] == [
        "1", "2.5", "x", base64.b64encode(b"\x00\xff").decode(), "2024-01-02 03:04:05+00",
        "2024-05-06", "[1,2,3]", '{"a":7,"b":"q"}', "",
    ]  # fmt: skip
    code, out, _ = _cli(capsys, "query", "--home", str(tmp_path), TYPED_ROW)
    assert code == 0
    assert "2024-01-02 03:04:05+00" in out.splitlines()[2]
    assert out.splitlines()[2].endswith("NULL")


def test_csv_and_table_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sql = "SELECT x, x * 2 AS y FROM UNNEST([1, 2]) AS x ORDER BY x"
    code, out, _ = _cli(capsys, "query", "--home", str(tmp_path), "--format", "csv", sql)
    assert code == 0
    assert list(csv.reader(io.StringIO(out))) == [["x", "y"], ["1", "2"], ["2", "4"]]
    code, out, _ = _cli(capsys, "query", "--home", str(tmp_path), sql)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["x", "y"]
    assert [line.split() for line in lines[2:4]] == [["1", "2"], ["2", "4"]]
    assert lines[-1] == "(2 rows)"


def test_prints_the_last_statement_that_returns_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sql = "SELECT 1 AS a; CREATE SCHEMA ds; CREATE TABLE ds.t AS SELECT 3 AS c; SELECT c FROM ds.t;"
    code, out, _ = _cli(capsys, "query", "--home", str(tmp_path), "--format", "json", sql)
    assert code == 0 and json.loads(out) == [{"c": 3}]
    code, out, _ = _cli(
        capsys, "query", "--home", str(tmp_path), "--format", "json", "DROP TABLE ds.t"
    )
    assert code == 0 and json.loads(out) == []


def test_files_run_in_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first, second = tmp_path / "a.sql", tmp_path / "b.sql"
    first.write_text("-- set up\nCREATE SCHEMA ds;\nCREATE TABLE ds.t AS SELECT 1 AS v\n")
    second.write_text("INSERT INTO ds.t VALUES (2);\nSELECT SUM(v) AS total FROM ds.t;\n")
    home = tmp_path / "lake"
    code, out, _ = _cli(
        capsys,
        "query",
        "--home",
        str(home),
        "--format",
        "json",
        "--file",
        str(first),
        "--file",
        str(second),
    )
    assert code == 0 and json.loads(out) == [{"total": 3}]
    assert (home / "warehouse.duckdb").is_file()


def test_home_from_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SQLRUNNER_HOME", str(tmp_path / "envlake"))
    code, _, _ = _cli(capsys, "query", "CREATE SCHEMA from_env")
    assert code == 0
    assert (tmp_path / "envlake" / "warehouse.duckdb").is_file()


def test_errors_are_one_line_naming_the_statement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _cli(
        capsys, "query", "--home", str(tmp_path), "CREATE SCHEMA ds;\nSELECT *\nFROM ds.nothing"
    )
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("error: statement 2 (SELECT * FROM ds.nothing): ")
    code, _, err = _cli(capsys, "query", "--home", str(tmp_path))
    assert code == 1 and err.startswith("error: no SQL given")


def test_connection_command_and_unknown_connection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path)
    table = (
        "CREATE SCHEMA IF NOT EXISTS ds; CREATE EXTERNAL TABLE ds.o WITH CONNECTION"
        " `us.lake-connection` OPTIONS(object_metadata = 'SIMPLE', uris = ['gs://b/*'])"
    )
    code, _, err = _cli(capsys, "query", "--home", home, table)
    assert code == 1 and "connection us.lake-connection not found" in err
    code, out, _ = _cli(capsys, "connection", "create", "us.lake-connection", "--home", home)
    assert code == 0 and "us.lake-connection" in out
    code, _, _ = _cli(capsys, "query", "--home", home, table)
    assert code == 0
    code, out, _ = _cli(capsys, "connection", "list", "--home", home)
    assert out.split() == ["us.lake-connection"]


def test_real_process_exit_codes(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("STORAGE_EMULATOR_HOST", None)
    ok = subprocess.run(
        [
            sys.executable,
            "-m",
            "sqlrunner",
            "query",
            "--home",
            str(tmp_path),
            "--format",
            "json",
            "SELECT 'hi' AS greeting",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == [{"greeting": "hi"}]
    bad = subprocess.run(
        [sys.executable, "-m", "sqlrunner", "query", "--home", str(tmp_path), "SELEC 1"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=False,
    )
    assert bad.returncode == 1
    assert bad.stdout == ""
    assert bad.stderr.startswith("error: ") and bad.stderr.count("\n") == 1


def test_table_format_shortens_long_arrays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _cli(
        capsys, "query", "--home", str(tmp_path), "SELECT GENERATE_ARRAY(1, 1000) AS a"
    )
    assert code == 0
    assert '[1,2,3,4,"... 1000 values"]' in out.splitlines()[2]
