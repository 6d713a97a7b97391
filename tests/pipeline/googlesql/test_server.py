"""The analyzer's server: positions split from messages, restart after a death, missing install."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.googlesql.evaluate import evaluate_query
from pipeline.googlesql.server import (
    AnalyzerCrashed,
    AnalyzerMissing,
    AnalyzerRejected,
    GoogleSqlServer,
    Installation,
    SqlError,
    sql_error,
)
from tests.support.paths import REPO


def test_sql_error_splits_the_position_from_the_message() -> None:
    assert sql_error("Unrecognized name: y [at 3:14]") == SqlError("Unrecognized name: y", 3, 14)
    assert sql_error("Syntax error") == SqlError("Syntax error")


def test_missing_install_names_what_is_absent_and_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(AnalyzerMissing, match=r"remote_server.so.*make googlesql"):
        Installation.find(tmp_path)


def test_missing_install_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLESQL_HOME", str(tmp_path))
    with pytest.raises(AnalyzerMissing, match=str(tmp_path)):
        GoogleSqlServer()


def test_a_rejected_statement_carries_its_position(googlesql: GoogleSqlServer) -> None:
    with pytest.raises(AnalyzerRejected) as caught:
        googlesql.analyze("SELECT 1 AS x,\n  nope", {"name": "empty"})
    assert caught.value.error == SqlError("Unrecognized name: nope", 2, 3)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1 AS x, nope",  # refused by the analyzer
        "SELECT DATE_ADD(DATE '9999-12-31', INTERVAL 1 DAY) AS r",  # refused while evaluating
    ],
)
def test_a_refusal_is_reported_at_once_without_waiting_to_see_if_the_server_died(
    googlesql: GoogleSqlServer, sql: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A live server answered; waiting for it to exit cost half a second per refused query.
    def waits(self: GoogleSqlServer) -> bool:
        raise AssertionError("waited to see whether the server died after it answered")

    monkeypatch.setattr(GoogleSqlServer, "_has_died", waits)
    with pytest.raises(AnalyzerRejected):
        evaluate_query(googlesql, sql)


def test_a_dead_server_is_reported_then_restarted() -> None:
    with GoogleSqlServer() as server:
        pid = server.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(AnalyzerCrashed, match="died; restarted"):
            server.analyze("SELECT 1", {"name": "empty"})
        assert server.restarts == 1 and server.pid != pid
        resolved = server.analyze("SELECT 1 AS x", {"name": "empty"})
        assert "resolvedQueryStmtNode" in resolved["resolvedStatement"]
    assert server.pid is None


def test_a_call_that_outlives_its_timeout_is_reported() -> None:
    with (
        GoogleSqlServer(call_timeout_s=0.000001) as server,
        pytest.raises(AnalyzerCrashed, match="did not answer"),
    ):
        server.analyze("SELECT 1", {"name": "empty"})


def test_the_server_dies_with_the_process_that_started_it(tmp_path: Path) -> None:
    script = (
        "import os, signal\n"
        "from pipeline.googlesql.server import GoogleSqlServer\n"
        "server = GoogleSqlServer()\n"
        "server.start()\n"
        "print(server.pid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO
    )
    pid = int(done.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
