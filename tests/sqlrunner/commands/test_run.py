"""`run` (without --local), `hook` and `report --outputs` as a user runs them, against `serve`.

The cloud code paths, unchanged: google-cloud-bigquery with BIGQUERY_EMULATOR_HOST
pointing at the served lake, which runs the real engine (the tiny model really runs).
What BigQuery was sent is read back from the lake's jobs.list. Faults the lake cannot
produce (5xx, rate limits, IAM propagation) are tested in tests/pipeline/test_bigquery.py
against the canned fake.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.cloud import bigquery

from pipeline.outputs import write_outputs
from pipeline.templates import RenderOptions, render_file, render_pipeline
from tests.support.lake_server import BUCKET, ServedStack, lake_client, served_stack
from tests.support.paths import REPO

TEMPLATES = ("sql/labels.sql", "sql/create_model.sql", "sql/predict.sql")
LOCATION = "EU"


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, sample_images: Path, tiny_savedmodel: Path
) -> Iterator[ServedStack]:
    work = tmp_path_factory.mktemp("stack")
    with served_stack(work, sample_images, tiny_savedmodel, location=LOCATION) as made:
        yield made


def sqlrunner(stack: ServedStack, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BIGQUERY_EMULATOR_HOST": stack.server.endpoint}
    return subprocess.run(
        [sys.executable, "-m", "sqlrunner", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def client_of(stack: ServedStack) -> bigquery.Client:
    return lake_client(stack.server.endpoint, LOCATION)


def runner_jobs(stack: ServedStack) -> list[bigquery.QueryJob]:
    """Jobs the runner started (it labels them), oldest first."""
    jobs = [
        job
        for job in client_of(stack).list_jobs()
        if isinstance(job, bigquery.QueryJob) and job.labels.get("tool") == "sqlrunner"
    ]
    return sorted(jobs, key=lambda job: job.created)


def predictions(stack: ServedStack) -> list[dict[str, Any]]:
    table = stack.outputs.predictions_table_id
    rows = client_of(stack).query(f"SELECT * FROM `{table}` ORDER BY uri")
    return [dict(row.items()) for row in rows]


def check_predictions(stack: ServedStack) -> None:
    rows = predictions(stack)
    labels = client_of(stack).query(
        f"SELECT class_index, label FROM `{stack.outputs.labels_table_id}`"
    )
    names = {row["class_index"]: row["label"] for row in labels}
    assert len(names) == 1001
    assert [row["uri"] for row in rows] == stack.image_uris
    for row in rows:
        top = row["top_labels"]
        assert [entry["rank"] for entry in top] == list(range(1, stack.outputs.top_k + 1))
        scores = [entry["score"] for entry in top]
        assert scores == sorted(scores, reverse=True)
        assert all(entry["label"] == names[entry["class_index"]] for entry in top)
        assert (row["top1_label"], row["top1_score"]) == (top[0]["label"], top[0]["score"])
        assert row["model_id"] == stack.outputs.model_id
        assert row["skip_reason"] is None


def test_run_dry_runs_then_runs_each_statement(stack: ServedStack) -> None:
    before = len(runner_jobs(stack))
    done = sqlrunner(stack, "run", *TEMPLATES, "--outputs", str(stack.outputs_file))

    assert done.returncode == 0, done.stderr
    assert "create_model.sql statement 1: CREATE_MODEL" in done.stderr
    inserted = re.search(r"predict\.sql statement 3: done in job \S+, (\d+) rows", done.stderr)
    assert inserted and int(inserted.group(1)) == len(stack.image_uris), done.stderr
    check_predictions(stack)
    jobs = runner_jobs(stack)[before:]
    outputs = stack.outputs.to_dict()
    sent = [s for name in TEMPLATES for s in render_file(name.split("/")[1], outputs).statements]
    assert [job.query for job in jobs] == sent
    assert [job.labels["template"] for job in jobs] == [
        "labels", "create_model", "predict", "predict", "predict",
    ]  # fmt: skip
    assert {job.location for job in jobs} == {LOCATION}
    assert all(job.labels["stack"] == "dev" for job in jobs)

    again = sqlrunner(stack, "run", "sql/predict.sql", "--outputs", str(stack.outputs_file))
    assert again.returncode == 0, again.stderr
    assert re.search(r"predict\.sql statement 3: done in job \S+, 0 rows", again.stderr)


def test_run_dry_run_starts_no_job(stack: ServedStack) -> None:
    before = len(runner_jobs(stack))
    done = sqlrunner(stack, "run", *TEMPLATES, "--outputs", str(stack.outputs_file), "--dry-run")

    assert done.returncode == 0, done.stderr
    assert "done in job" not in done.stderr
    assert "labels.sql statement 1: CREATE_TABLE_AS_SELECT" in done.stderr
    assert re.search(r"predict\.sql statement 3: INSERT, [\d.]+ [kM]?B to process", done.stderr)
    assert len(runner_jobs(stack)) == before


def test_run_with_a_run_key_resumes_instead_of_rerunning(stack: ServedStack) -> None:
    args = ("run", "sql/labels.sql", "--outputs", str(stack.outputs_file), "--run-key", "r1")
    before = len(runner_jobs(stack))
    assert sqlrunner(stack, *args).returncode == 0
    again = sqlrunner(stack, *args)

    assert again.returncode == 0, again.stderr
    assert "already exists; attaching to it" in again.stderr
    assert len(runner_jobs(stack)) == before + 1
    fresh = sqlrunner(stack, "run", "sql/labels.sql", "--outputs", str(stack.outputs_file))
    assert fresh.returncode == 0, fresh.stderr
    assert len(runner_jobs(stack)) == before + 2


def test_run_full_refresh_and_byte_cap_reach_the_lake(stack: ServedStack) -> None:
    before = len(runner_jobs(stack))
    args = ("run", "sql/predict.sql", "--outputs", str(stack.outputs_file), "--full-refresh")
    done = sqlrunner(stack, *args, "--maximum-bytes-billed", "500000000")

    assert done.returncode == 0, done.stderr
    jobs = runner_jobs(stack)[before:]
    full = render_file("predict.sql", stack.outputs.to_dict(), RenderOptions(full_refresh=True))
    assert [job.query for job in jobs] == full.statements
    assert {job.maximum_bytes_billed for job in jobs} == {500_000_000}

    capped = sqlrunner(stack, *args, "--maximum-bytes-billed", "10")
    assert capped.returncode == 1
    error = capped.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        r"error: predict\.sql statement 2 failed in job \S+: bytesBilledLimitExceeded: "
        r"Query exceeded limit for bytes billed: 10\. \d+ or higher required\.",
        error,
    ), error


def test_run_failure_is_one_error_line(stack: ServedStack, tmp_path: Path) -> None:
    empty_model = stack.outputs.model_files_uri.replace("resnet_50", "nothing_here")
    outputs = write_outputs(
        tmp_path / "outputs.json",
        type(stack.outputs)(**{**stack.outputs.to_dict(), "model_files_uri": empty_model}),
    )
    done = sqlrunner(stack, "run", "sql/create_model.sql", "--outputs", str(outputs))

    assert done.returncode == 1
    job = runner_jobs(stack)[-1]
    error = done.stderr.strip().splitlines()[-1]
    assert re.fullmatch(
        rf"error: create_model\.sql statement 1 failed in job {job.job_id}: invalidQuery: "
        r"statement 1 \(CREATE OR REPLACE MODEL .*\): "
        rf"model_path {re.escape(empty_model)} matches no files",
        error,
    ), error


def test_hook_runs_and_deletes_the_post_deploy_step(stack: ServedStack) -> None:
    before = len(runner_jobs(stack))
    done = sqlrunner(stack, "hook", "--outputs", str(stack.outputs_file), "--full-refresh")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == (
        f"{stack.outputs.predictions_table_id}: {len(stack.image_uris)} rows written"
    )
    check_predictions(stack)
    options = RenderOptions(full_refresh=True)
    expected = [s for t in render_pipeline(stack.outputs.to_dict(), options) for s in t.statements]
    assert [job.query for job in runner_jobs(stack)[before:]] == expected

    before = len(runner_jobs(stack))
    gone = sqlrunner(stack, "hook", "--outputs", str(stack.outputs_file), "--delete")
    assert gone.returncode == 0, gone.stderr
    cleanup = render_file("cleanup.sql", stack.outputs.to_dict()).statements
    assert [job.query for job in runner_jobs(stack)[before:]] == cleanup
    client = client_of(stack)
    assert list(client.list_models(stack.outputs.dataset_id)) == []
    tables = [t.table_id for t in client.list_tables(stack.outputs.dataset_id)]
    assert tables == ["vision_images"]  # the step's tables are gone, the stack's stay


def test_report_outputs_reads_the_served_lake_and_cloud_storage(
    stack: ServedStack, emulator: str, tmp_path: Path
) -> None:
    from google.cloud import storage

    made = sqlrunner(stack, "hook", "--outputs", str(stack.outputs_file))
    assert made.returncode == 0, made.stderr
    bucket = storage.Client(project="local-lake").create_bucket(BUCKET)
    images = stack.server.api.lake.home / "gcs" / BUCKET
    for uri in stack.image_uris:
        name = uri.removeprefix(f"gs://{BUCKET}/")
        bucket.blob(name).upload_from_filename(str(images / name))

    out = tmp_path / "report.html"
    done = sqlrunner(stack, "report", "--outputs", str(stack.outputs_file), "--out", str(out))

    assert done.returncode == 0, done.stderr
    count = len(stack.image_uris)
    assert done.stdout.strip() == f"wrote {out} ({count} of {count} images as cards)"
    page = out.read_text()
    assert page.count("data:image/jpeg;base64,") == count
    for row in predictions(stack):
        assert row["top1_label"] in page
