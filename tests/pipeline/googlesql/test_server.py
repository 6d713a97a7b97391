"""The analyzer's server: positions split from messages, restart after a death, missing install."""

from __future__ import annotations

import os
import signal
import stat
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


def test_each_server_listens_on_its_own_private_socket_removed_when_it_stops() -> None:
    # On a probed loopback port two servers started at once could both listen (gRPC binds
    # with SO_REUSEPORT) and answer each other's calls.
    with GoogleSqlServer() as one, GoogleSqlServer() as two:
        assert one._socket_dir is not None and two._socket_dir is not None
        dirs = [Path(one._socket_dir), Path(two._socket_dir)]
        assert dirs[0] != dirs[1]
        for directory in dirs:
            assert stat.S_IMODE(directory.stat().st_mode) == 0o700
            assert [p.is_socket() for p in directory.iterdir()] == [True]
        os.kill(one.pid or 0, signal.SIGKILL)
        with pytest.raises(AnalyzerCrashed):
            one.analyze("SELECT 1", {"name": "empty"})
        assert (
            "resolvedQueryStmtNode"
            in two.analyze("SELECT 1 AS x", {"name": "empty"})["resolvedStatement"]
        )
    assert not any(directory.exists() for directory in dirs)


FORKS: list[int] = []
RECORDING: list[bool] = []
os.register_at_fork(before=lambda: FORKS.append(1) if RECORDING else None)


def test_starting_the_server_runs_no_fork_handlers_in_this_process() -> None:
    # fork() would run every library's fork handlers, gRPC's among them, whose child side at
    # times failed the start before exec; vfork() (subprocess without preexec_fn) runs none.
    RECORDING.append(True)
    try:
        with GoogleSqlServer() as server:
            server.analyze("SELECT 1", {"name": "empty"})
            server.restart()
    finally:
        RECORDING.clear()
    assert FORKS == []


def _flaky_installation(tmp_path: Path, failures: int) -> Installation:
    """The real server behind a script whose first `failures` starts exit at once."""
    real = Installation.find()
    script = tmp_path / "remote_server.so"
    script.write_text(
        "#!/bin/sh\n"
        f'n=$(cat "{tmp_path}/starts" 2>/dev/null || echo 0); echo $((n + 1)) > "{tmp_path}/starts"\n'
        f'if [ "$n" -lt {failures} ]; then echo "epoll_wait error: start $n"; exit 1; fi\n'
        f'exec "{real.binary}" "$@"\n'
    )
    script.chmod(0o755)
    return Installation(binary=script, descriptors=real.descriptors)


def test_a_server_that_fails_to_start_is_started_once_more(tmp_path: Path) -> None:
    with GoogleSqlServer(_flaky_installation(tmp_path, failures=1)) as server:
        assert (
            "resolvedQueryStmtNode"
            in server.analyze("SELECT 1 AS x", {"name": "empty"})["resolvedStatement"]
        )
    assert (tmp_path / "starts").read_text().strip() == "2"


def test_a_server_that_fails_twice_is_reported_with_both_outputs(tmp_path: Path) -> None:
    server = GoogleSqlServer(_flaky_installation(tmp_path, failures=2))
    with pytest.raises(
        AnalyzerCrashed, match=r"did not start: epoll_wait error: start 1 .*start 0"
    ):
        server.start()
    assert server.pid is None and (tmp_path / "starts").read_text().strip() == "2"


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
