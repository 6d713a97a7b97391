"""`run` (without --local), `hook` and `report --outputs` end to end against `serve`.

The cloud code paths, unchanged: google-cloud-bigquery with BIGQUERY_EMULATOR_HOST
pointing at the served lake, which runs the real engine (the tiny model really runs).
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

from tests.support.lake_server import BUCKET, ServedStack, lake_client, served_stack
from tests.support.paths import REPO

TEMPLATES = ("sql/labels.sql", "sql/create_model.sql", "sql/predict.sql")


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, sample_images: Path, tiny_savedmodel: Path
) -> Iterator[ServedStack]:
    with served_stack(tmp_path_factory.mktemp("stack"), sample_images, tiny_savedmodel) as made:
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


def predictions(stack: ServedStack) -> list[dict[str, Any]]:
    client = lake_client(stack.server.endpoint)
    table = stack.outputs.predictions_table_id
    return [dict(row.items()) for row in client.query(f"SELECT * FROM `{table}` ORDER BY uri")]


def check_predictions(stack: ServedStack) -> None:
    rows = predictions(stack)
    labels = lake_client(stack.server.endpoint).query(
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


def test_run_dry_runs_then_runs_each_statement_on_the_served_lake(stack: ServedStack) -> None:
    done = sqlrunner(stack, "run", *TEMPLATES, "--outputs", str(stack.outputs_file))

    assert done.returncode == 0, done.stderr
    assert "create_model.sql statement 1: CREATE_MODEL" in done.stderr
    assert "predict.sql statement 3: INSERT" in done.stderr
    inserted = re.search(r"predict\.sql statement 3: done in job \S+, (\d+) rows", done.stderr)
    assert inserted and int(inserted.group(1)) == len(stack.image_uris), done.stderr
    check_predictions(stack)

    again = sqlrunner(stack, "run", "sql/predict.sql", "--outputs", str(stack.outputs_file))
    assert again.returncode == 0, again.stderr
    assert re.search(r"predict\.sql statement 3: done in job \S+, 0 rows", again.stderr)

    dry = sqlrunner(stack, "run", *TEMPLATES, "--outputs", str(stack.outputs_file), "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "done in job" not in dry.stderr
    assert "predict.sql statement 3: INSERT" in dry.stderr


def test_run_failure_on_the_served_lake_is_one_error_line(
    stack: ServedStack, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.sql"
    broken.write_text("SELECT no_such_column FROM ${object_table_id};\n")
    done = sqlrunner(stack, "run", str(broken), "--outputs", str(stack.outputs_file))

    assert done.returncode == 1
    error = done.stderr.strip().splitlines()[-1]
    assert error.startswith("error: broken.sql statement 1 failed in job ")
    assert "invalidQuery" in error and "no_such_column" in error


def test_hook_runs_and_deletes_the_post_deploy_step(stack: ServedStack) -> None:
    done = sqlrunner(stack, "hook", "--outputs", str(stack.outputs_file), "--full-refresh")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == (
        f"{stack.outputs.predictions_table_id}: {len(stack.image_uris)} rows written"
    )
    check_predictions(stack)

    gone = sqlrunner(stack, "hook", "--outputs", str(stack.outputs_file), "--delete")
    assert gone.returncode == 0, gone.stderr
    client = lake_client(stack.server.endpoint)
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
