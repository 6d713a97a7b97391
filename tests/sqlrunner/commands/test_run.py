"""`run` and `hook` as a user runs them, against the fake BigQuery (BIGQUERY_EMULATOR_HOST)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.templates import RenderOptions, render_file, render_pipeline
from tests.support.fake_bigquery import FakeBigQueryServer
from tests.support.paths import REPO

OUTPUTS: dict[str, Any] = {
    "project": "my-project",
    "location": "EU",
    "model_files_uri": "gs://my-project-models/resnet_50/*",
    "model_type": "TENSORFLOW",
    "object_table_id": "my-project.resnet_inference_test.vision_images",
    "model_id": "my-project.resnet_inference_test.resnet",
    "predictions_table_id": "my-project.resnet_inference_test.predictions",
    "top_k": 5,
}


@pytest.fixture
def server() -> Iterator[FakeBigQueryServer]:
    with FakeBigQueryServer() as running:
        yield running


@pytest.fixture
def outputs_file(tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(OUTPUTS))
    return path


def sqlrunner(
    server: FakeBigQueryServer, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BIGQUERY_EMULATOR_HOST": server.endpoint, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "sqlrunner", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def real_jobs(server: FakeBigQueryServer) -> list[dict[str, Any]]:
    return [b for b in server.fake.inserts() if not b["configuration"].get("dryRun")]


def test_hook_runs_the_post_deploy_pipeline(server: FakeBigQueryServer, outputs_file: Path) -> None:
    for _ in range(4):
        server.fake.outcome()
    server.fake.outcome(rows=12)
    done = sqlrunner(server, "hook", "--stack", "dev", "--outputs", str(outputs_file))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == (
        "my-project.resnet_inference_test.predictions: 12 rows written"
    )
    jobs = real_jobs(server)
    expected = [s for t in render_pipeline(OUTPUTS) for s in t.statements]
    assert [j["configuration"]["query"]["query"] for j in jobs] == expected
    assert [j["configuration"]["labels"]["template"] for j in jobs] == [
        "labels",
        "create_model",
        "predict",
        "predict",
        "predict",
    ]
    assert {j["jobReference"]["location"] for j in jobs} == {"EU"}
    assert len(server.fake.inserts()) == 10  # a dry run before each


def test_hook_delete_drops_what_the_step_made(
    server: FakeBigQueryServer, outputs_file: Path
) -> None:
    done = sqlrunner(server, "hook", "--outputs", str(outputs_file), "--delete")
    assert done.returncode == 0, done.stderr
    queries = [j["configuration"]["query"]["query"] for j in real_jobs(server)]
    assert queries == render_file("cleanup.sql", OUTPUTS).statements
    assert queries[0].endswith("DROP MODEL IF EXISTS `my-project.resnet_inference_test.resnet`")


def test_run_dry_run_starts_no_job(server: FakeBigQueryServer, outputs_file: Path) -> None:
    done = sqlrunner(server, "run", "sql/predict.sql", "--outputs", str(outputs_file), "--dry-run")
    assert done.returncode == 0, done.stderr
    assert real_jobs(server) == []
    assert len(server.fake.inserts()) == 3
    assert "predict.sql statement 3: INSERT, 2.0 kB to process (dry run)" in done.stderr


def test_run_dry_run_checks_with_googlesql_before_any_dry_run(
    server: FakeBigQueryServer, outputs_file: Path, tmp_path: Path
) -> None:
    faulty = tmp_path / "predict.sql"
    text = (REPO / "sql" / "predict.sql").read_text()
    faulty.write_text(
        text.replace("AND size <= ", "AND sise <= ").replace("WHERE o.uri =", "WHERE o.url =")
    )
    done = sqlrunner(server, "run", str(faulty), "--outputs", str(outputs_file), "--dry-run")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "error: predict.sql statement 2, line 27, column 13: Name url not found inside o",
        "error: predict.sql statement 3, line 45, column 15: "
        "Unrecognized name: sise; Did you mean size?",
    ]
    assert server.fake.inserts() == []


def test_run_dry_run_without_the_analyzer_warns_and_dry_runs(
    server: FakeBigQueryServer, outputs_file: Path, tmp_path: Path
) -> None:
    done = sqlrunner(
        server,
        "run",
        "predict.sql",
        "--outputs",
        str(outputs_file),
        "--dry-run",
        env={"GOOGLESQL_HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith(
        "warning: GoogleSQL check skipped: the GoogleSQL analyzer is not installed"
    )
    assert len(server.fake.inserts()) == 3


def test_run_with_a_run_key_resumes_instead_of_rerunning(
    server: FakeBigQueryServer, outputs_file: Path
) -> None:
    args = ("run", "create_model.sql", "--outputs", str(outputs_file), "--run-key", "r1")
    assert sqlrunner(server, *args).returncode == 0
    again = sqlrunner(server, *args)
    assert again.returncode == 0, again.stderr
    assert len(server.fake.jobs) == 1
    assert "already exists; attaching to it" in again.stderr
    assert (
        sqlrunner(server, "run", "create_model.sql", "--outputs", str(outputs_file)).returncode == 0
    )
    assert len(server.fake.jobs) == 2


def test_run_full_refresh_and_byte_cap_reach_bigquery(
    server: FakeBigQueryServer, outputs_file: Path
) -> None:
    done = sqlrunner(
        server,
        "run",
        "predict.sql",
        "--outputs",
        str(outputs_file),
        "--full-refresh",
        "--maximum-bytes-billed",
        "5000000",
    )
    assert done.returncode == 0, done.stderr
    jobs = real_jobs(server)
    full = render_file("predict.sql", OUTPUTS, RenderOptions(full_refresh=True)).statements
    assert [j["configuration"]["query"]["query"] for j in jobs] == full
    assert {j["configuration"]["query"]["maximumBytesBilled"] for j in jobs} == {"5000000"}


def test_run_failure_is_one_error_line(server: FakeBigQueryServer, outputs_file: Path) -> None:
    server.fake.outcome(error=("invalid", "Model path gs://my-project-models/resnet_50/* is empty"))
    done = sqlrunner(server, "run", "create_model.sql", "--outputs", str(outputs_file))
    assert done.returncode == 1
    (job,) = server.fake.jobs.values()
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: create_model.sql statement 1 failed in job {job.job_id}: "
        "invalid: Model path gs://my-project-models/resnet_50/* is empty"
    )
