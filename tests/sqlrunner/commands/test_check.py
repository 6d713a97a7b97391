"""`python -m sqlrunner check [TEMPLATE ...] [--outputs FILE]`: its lines and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipeline.templates import SQL_DIR
from tests.support.paths import REPO

OUTPUTS = REPO / "tests" / "support" / "check_outputs.json"


def sqlrunner(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sqlrunner", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_every_template_clean_one_line_each_exit_0() -> None:
    done = sqlrunner("check", "--outputs", str(OUTPUTS))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "cleanup.sql: 3 statements analyzed by GoogleSQL, no problems",
        "create_model.sql: 1 statement analyzed by GoogleSQL, no problems",
        "labels.sql: 1 statement analyzed by GoogleSQL, no problems",
        "predict.sql: 3 statements analyzed by GoogleSQL, no problems",
    ]


def test_a_faulty_copy_exits_1_with_one_error_line_per_problem(tmp_path: Path) -> None:
    text = (SQL_DIR / "predict.sql").read_text()
    faulty = tmp_path / "predict.sql"
    faulty.write_text(
        text.replace("ML.DECODE_IMAGE(data)", "ML.DECODE_IMAGE(uri)").replace(
            "].label AS top1_label", "].lable AS top1_label"
        )
    )
    done = sqlrunner("check", str(faulty), "labels.sql", "--outputs", str(OUTPUTS))
    assert done.returncode == 1
    assert done.stdout == "labels.sql: 1 statement analyzed by GoogleSQL, no problems\n"
    lines = done.stderr.splitlines()
    assert len(lines) == 1, lines  # the analyzer stops at a statement's first problem
    assert lines[0].startswith(
        "error: predict.sql statement 3, line 42, column 27: No matching signature for "
        "function ML.DECODE_IMAGE for argument types: STRING."
    )


def test_full_refresh_and_the_lake_home_default(tmp_path: Path) -> None:
    (tmp_path / "outputs.json").write_text(OUTPUTS.read_text())
    done = sqlrunner("check", "predict.sql", "--full-refresh", "--home", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "predict.sql: 3 statements analyzed by GoogleSQL, no problems\n"


def test_no_outputs_file_is_a_one_line_error(tmp_path: Path) -> None:
    done = sqlrunner("check", "--home", str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.startswith(f"error: no outputs file at {tmp_path / 'outputs.json'}")


def test_an_unknown_template_is_a_one_line_error() -> None:
    done = sqlrunner("check", "nope.sql", "--outputs", str(OUTPUTS))
    assert done.returncode == 1
    assert done.stderr.startswith("error: cannot read template nope.sql")
