"""`run --dry-run` checks every template with GoogleSQL before BigQuery sees a dry run.

The canned BigQuery fake records what was sent, so a test can show nothing was.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.sqlrunner.commands.conftest import Done
from tests.support.fake_bigquery import FakeBigQueryServer
from tests.support.paths import REPO
from tests.support.stack_outputs import STACK_OUTPUTS, write_outputs_file

OUTPUTS = STACK_OUTPUTS


@pytest.fixture
def outputs_file(tmp_path: Path) -> Path:
    return write_outputs_file(tmp_path)


def test_run_dry_run_checks_with_googlesql_before_any_dry_run(
    sqlrunner: Callable[..., Done], server: FakeBigQueryServer, outputs_file: Path, tmp_path: Path
) -> None:
    faulty = tmp_path / "predict.sql"
    text = (REPO / "sql" / "predict.sql").read_text()
    faulty.write_text(
        text.replace("AND size <= ", "AND sise <= ").replace("WHERE o.uri =", "WHERE o.url =")
    )
    done = sqlrunner("run", str(faulty), "--outputs", str(outputs_file), "--dry-run")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: predict.sql statement 2, line 27, column 13: Name url not found inside o",
        "error: predict.sql statement 3, line 45, column 15: "
        "Unrecognized name: sise; Did you mean size?",
    ]
    assert server.fake.inserts() == []


def test_run_dry_run_without_the_analyzer_warns_and_dry_runs(
    sqlrunner: Callable[..., Done],
    server: FakeBigQueryServer,
    outputs_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GOOGLESQL_HOME", str(tmp_path))
    done = sqlrunner("run", "predict.sql", "--outputs", str(outputs_file), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith(
        "warning: GoogleSQL check skipped: the GoogleSQL analyzer is not installed"
    )
    assert len(server.fake.inserts()) == 3
