"""`python -m sqlrunner serve` as a user runs it: ready line, a real client, Ctrl-C, the host guard."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import SqlRunnerError
from sqlrunner.commands.serve import is_loopback, remote_warning
from tests.support.lake_server import lake_client
from tests.support.paths import REPO

# As a shell's `serve &` or nohup starts it: SIGINT ignored, which exec keeps. Set in a small
# launcher, not with preexec_fn, which would fork() this gRPC-loaded process (see
# pipeline/googlesql/server.py).
_SIGINT_IGNORED = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
)


def start_serve(*args: str, sigint_ignored: bool = False) -> subprocess.Popen[str]:
    launcher = [sys.executable, "-c", _SIGINT_IGNORED] if sigint_ignored else [sys.executable]
    return subprocess.Popen(
        [*launcher, "-m", "sqlrunner", "serve", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_serve_answers_a_client_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    server = start_serve("--home", str(tmp_path / "lake"), "--port", "0")
    try:
        assert server.stdout is not None
        ready = server.stdout.readline()
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:(\d+))\n", ready)
        assert match, ready
        assert int(match.group(2)) > 0  # port 0 picked a free one
        client = lake_client(match.group(1))
        client.create_dataset("served")
        client.query_and_wait("CREATE TABLE served.t AS SELECT 40 + 2 AS answer")
        rows = client.query_and_wait("SELECT answer FROM served.t")
        assert [row["answer"] for row in rows] == [42]
        assert [d.dataset_id for d in client.list_datasets()] == ["served"]
        server.send_signal(signal.SIGINT)
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert server.returncode == 0, err
    assert out == "stopped\n"
    # The lake was closed: another process can open it and sees what the client made.
    done = subprocess.run(
        [sys.executable, "-m", "sqlrunner", "query", "--home", str(tmp_path / "lake"),
         "--format", "csv", "SELECT answer * 2 AS twice FROM served.t"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["twice", "84"]


def _ready_then_stopped_by(signum: int, home: Path, *, sigint_ignored: bool = False) -> None:
    server = start_serve("--home", str(home), "--port", "0", sigint_ignored=sigint_ignored)
    try:
        assert server.stdout is not None
        assert server.stdout.readline().startswith("listening on http://127.0.0.1:")
        server.send_signal(signum)
        out, err = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.communicate()
    assert (server.returncode, out) == (0, "stopped\n"), err


def test_sigterm_stops_it_like_ctrl_c(tmp_path: Path) -> None:
    _ready_then_stopped_by(signal.SIGTERM, tmp_path / "lake")


def test_ctrl_c_stops_it_even_when_its_parent_ignores_sigint(tmp_path: Path) -> None:
    """`serve &` in a script starts it with SIGINT ignored; Ctrl-C must still stop it."""
    _ready_then_stopped_by(signal.SIGINT, tmp_path / "lake", sigint_ignored=True)


def test_a_non_loopback_host_needs_allow_remote(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sqlrunner", "serve", "--home", str(tmp_path), "--host",
         "0.0.0.0", "--port", "0"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: --host 0.0.0.0 is not loopback and the server has no authentication;"
        " pass --allow-remote to serve it anyway"
    )
    assert not (tmp_path / "warehouse.duckdb").exists()  # refused before opening the lake


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1"])
def test_loopback_hosts_need_no_flag_and_get_no_warning(host: str) -> None:
    assert is_loopback(host)
    assert remote_warning(host, allow_remote=False) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "lake.example.com", "::"])
def test_other_hosts_warn_that_there_is_no_authentication(host: str) -> None:
    with pytest.raises(SqlRunnerError, match="pass --allow-remote"):
        remote_warning(host, allow_remote=False)
    warning = remote_warning(host, allow_remote=True)
    assert warning is not None and "no authentication" in warning and host in warning


def test_a_port_out_of_range_is_one_error_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sqlrunner", "serve", "--home", str(tmp_path), "--port", "70000"],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr == "error: --port 70000 is not a port number (0-65535)\n"
