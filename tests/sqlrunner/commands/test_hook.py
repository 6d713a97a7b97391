"""Each `hook` flag changes what reaches BigQuery: a flag that is ignored fails a test here."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline.templates import RenderOptions, render_file, render_pipeline
from tests.sqlrunner.commands.conftest import Done
from tests.support.fake_bigquery import FakeBigQueryServer, real_jobs

OUTPUTS: dict[str, Any] = {
    "project": "my-project",
    "location": "EU",
    "dataset_id": "resnet_inference_test",
    "connection_id": "my-project.eu.vision",
    "connection_service_account": "sa@example.iam.gserviceaccount.com",
    "bucket_name": "my-project-images",
    "bucket_url": "gs://my-project-images",
    "model_files_uri": "gs://my-project-models/resnet_50/*",
    "model_type": "TENSORFLOW",
    "object_table_id": "my-project.resnet_inference_test.vision_images",
    "model_id": "my-project.resnet_inference_test.resnet",
    "predictions_table_id": "my-project.resnet_inference_test.predictions",
    "labels_table_id": "my-project.resnet_inference_test.imagenet_labels",
    "top_k": 5,
    "predictions_rows": 0,
    "dataset_console_url": "https://console.cloud.google.com/bigquery?d=1",
    "predictions_console_url": "https://console.cloud.google.com/bigquery?t=1",
    "model_console_url": "https://console.cloud.google.com/bigquery?m=1",
    "looker_studio_url": "https://lookerstudio.google.com/reporting/create",
}


@pytest.fixture
def outputs_file(tmp_path: Path) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(OUTPUTS))
    return path


@pytest.fixture
def hook(sqlrunner: Callable[..., Done]) -> Callable[..., Done]:
    """`python -m sqlrunner hook ARGS` in this process, against the fake BigQuery."""
    return lambda *args: sqlrunner("hook", *args)


def queries(server: FakeBigQueryServer) -> list[str]:
    return [j["configuration"]["query"]["query"] for j in real_jobs(server)]


def job_ids(server: FakeBigQueryServer) -> list[str]:
    return [j["jobReference"]["jobId"] for j in real_jobs(server)]


def test_full_refresh_renders_predict_as_a_full_refresh(
    hook: Callable[..., Done], server: FakeBigQueryServer, outputs_file: Path
) -> None:
    done = hook("--outputs", str(outputs_file), "--full-refresh")
    assert done.returncode == 0, done.stderr
    full = [
        s for t in render_pipeline(OUTPUTS, RenderOptions(full_refresh=True)) for s in t.statements
    ]
    incremental = [s for t in render_pipeline(OUTPUTS) for s in t.statements]
    assert full != incremental
    assert queries(server) == full


def test_without_full_refresh_predict_is_incremental(
    hook: Callable[..., Done], server: FakeBigQueryServer, outputs_file: Path
) -> None:
    done = hook("--outputs", str(outputs_file))
    assert done.returncode == 0, done.stderr
    assert queries(server) == [s for t in render_pipeline(OUTPUTS) for s in t.statements]


def test_the_same_run_key_reuses_every_job_id(
    hook: Callable[..., Done], server: FakeBigQueryServer, outputs_file: Path
) -> None:
    first = hook("--outputs", str(outputs_file), "--run-key", "resume-me")
    assert first.returncode == 0, first.stderr
    ids = job_ids(server)
    again = hook("--outputs", str(outputs_file), "--run-key", "resume-me")
    assert again.returncode == 0, again.stderr
    # A resumed run attaches to the jobs it finds instead of starting them again.
    assert len(server.fake.jobs) == len(ids) == 5
    assert "already exists; attaching to it" in again.stderr
    assert job_ids(server)[len(ids) :] == ids


def test_another_run_key_or_none_starts_new_jobs(
    hook: Callable[..., Done], server: FakeBigQueryServer, outputs_file: Path
) -> None:
    for args in (("--run-key", "one"), ("--run-key", "two"), (), ()):
        done = hook("--outputs", str(outputs_file), *args)
        assert done.returncode == 0, done.stderr
    assert len(set(job_ids(server))) == len(server.fake.jobs) == 20


def test_stack_names_the_jobs_and_their_labels(
    hook: Callable[..., Done], server: FakeBigQueryServer, outputs_file: Path
) -> None:
    done = hook("--outputs", str(outputs_file), "--stack", "prod-eu")
    assert done.returncode == 0, done.stderr
    jobs = real_jobs(server)
    assert {j["configuration"]["labels"]["stack"] for j in jobs} == {"prod-eu"}
    assert all(j["jobReference"]["jobId"].startswith("sqlrunner_prod-eu_") for j in jobs)


def test_delete_runs_only_the_cleanup(
    hook: Callable[..., Done], server: FakeBigQueryServer, outputs_file: Path
) -> None:
    done = hook("--outputs", str(outputs_file), "--delete")
    assert done.returncode == 0, done.stderr
    assert queries(server) == render_file("cleanup.sql", OUTPUTS).statements


def test_permission_errors_are_retried_within_the_grace_only(
    hook: Callable[..., Done], server: FakeBigQueryServer, outputs_file: Path
) -> None:
    server.fake.fail("dry_run", 403, "accessDenied", "Access Denied: the grant is not there yet")
    refused = hook("--outputs", str(outputs_file), "--permission-grace", "0")
    assert refused.returncode == 1
    assert "Access Denied" in refused.stderr
    assert real_jobs(server) == []

    server.fake.fail("dry_run", 403, "accessDenied", "Access Denied: the grant is not there yet")
    waited = hook("--outputs", str(outputs_file))
    assert waited.returncode == 0, waited.stderr
    assert len(real_jobs(server)) == 5


def fake_pulumi(tmp_path: Path) -> tuple[str, Path]:
    """A `pulumi` on PATH that records its arguments and directory and prints OUTPUTS."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    record = tmp_path / "pulumi-call.json"
    script = bin_dir / "pulumi"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        f"open({str(record)!r}, 'w').write(json.dumps([os.getcwd(), sys.argv[1:]]))\n"
        f"print(json.dumps({OUTPUTS!r}))\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return f"{bin_dir}{os.pathsep}{os.environ['PATH']}", record


def test_stack_and_cwd_reach_the_pulumi_cli(
    hook: Callable[..., Done],
    server: FakeBigQueryServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path, record = fake_pulumi(tmp_path)
    monkeypatch.setenv("PATH", path)
    project = tmp_path / "project"
    project.mkdir()
    done = hook("--stack", "staging", "--cwd", str(project))
    assert done.returncode == 0, done.stderr
    cwd, argv = json.loads(record.read_text())
    assert Path(cwd) == project
    assert argv == ["stack", "output", "--json", "--show-secrets", "--stack", "staging"]
    assert queries(server) == [s for t in render_pipeline(OUTPUTS) for s in t.statements]
