"""The `run` flags no other test covers (--stack, --timeout, --permission-grace, --home)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.sqlrunner.commands.conftest import Done
from tests.support.fake_bigquery import FakeBigQueryServer, real_jobs
from tests.support.stack_outputs import STACK_OUTPUTS, write_outputs_file

OUTPUTS = STACK_OUTPUTS


@pytest.fixture
def outputs_file(tmp_path: Path) -> Path:
    return write_outputs_file(tmp_path)


def test_stack_names_the_jobs(
    sqlrunner: Callable[..., Done], server: FakeBigQueryServer, outputs_file: Path
) -> None:
    done = sqlrunner("run", "create_model.sql", "--outputs", str(outputs_file), "--stack", "qa-1")
    assert done.returncode == 0, done.stderr
    (job,) = real_jobs(server)
    assert job["configuration"]["labels"]["stack"] == "qa-1"
    assert job["jobReference"]["jobId"].startswith("sqlrunner_qa-1_create_model_")


def test_timeout_cancels_a_job_that_runs_too_long(
    sqlrunner: Callable[..., Done], server: FakeBigQueryServer, outputs_file: Path
) -> None:
    server.fake.outcome(polls=10_000)
    args = ("run", "create_model.sql", "--outputs", str(outputs_file), "--timeout", "0.3")
    done = sqlrunner(*args)
    assert done.returncode == 1
    (job,) = server.fake.jobs.values()
    assert job.cancelled
    assert done.stderr.strip().endswith(
        f"job {job.job_id} did not finish within 0.3s and was cancelled"
    )


def test_permission_errors_fail_at_once_unless_a_grace_is_given(
    sqlrunner: Callable[..., Done], server: FakeBigQueryServer, outputs_file: Path
) -> None:
    args = ("run", "create_model.sql", "--outputs", str(outputs_file))
    server.fake.fail("dry_run", 403, "accessDenied", "Access Denied: not yet granted")
    refused = sqlrunner(*args)
    assert refused.returncode == 1 and "Access Denied" in refused.stderr
    assert real_jobs(server) == []
    server.fake.fail("dry_run", 403, "accessDenied", "Access Denied: not yet granted")
    waited = sqlrunner(*args, "--permission-grace", "60")
    assert waited.returncode == 0, waited.stderr
    assert len(real_jobs(server)) == 1


def test_home_is_where_local_runs_read_their_outputs(
    sqlrunner: Callable[..., Done], tmp_path: Path
) -> None:
    home = tmp_path / "elsewhere"
    done = sqlrunner("run", "labels.sql", "--local", "--home", str(home))
    assert done.returncode == 1
    assert str(home / "outputs.json") in done.stderr
