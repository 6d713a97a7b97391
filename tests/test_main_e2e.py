"""End to end on a real project: `pulumi preview`, `up`, a no-change preview, `destroy`.

After `up` it also checks what the post-deploy step wrote: one predictions row per object
of the object table, `predictions_rows` saying as much, and the report rendering from the
stack's outputs.

Runs the program in this checkout through the Automation API on a throwaway stack with
its own names, so it never touches a `dev` stack. Needs GOOGLE_CLOUD_PROJECT, Google
credentials (`gcloud auth application-default login`) and the `pulumi` CLI on PATH.
State goes to PULUMI_BACKEND_URL when set, else to a local file backend in the test's
temp dir. It creates a reservation (baseline 0, autoscale 50) unless
RESNET_E2E_CREATE_RESERVATION=false, for projects that already have one assigned.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.support.paths import REPO

PROJECT = os.environ.get("GOOGLE_CLOUD_PROJECT", "")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not PROJECT, reason="GOOGLE_CLOUD_PROJECT is not set"),
    pytest.mark.skipif(shutil.which("pulumi") is None, reason="the pulumi CLI is not on PATH"),
]


@pytest.mark.timeout(3600)
def test_preview_up_and_destroy_a_throwaway_stack(tmp_path: Path, tiny_savedmodel: Path) -> None:
    from pulumi import automation as auto

    suffix = uuid.uuid4().hex[:8]
    stack_name = f"e2e-{suffix}"
    dataset_id = f"resnet_e2e_{suffix}"
    backend = os.environ.get("PULUMI_BACKEND_URL") or (tmp_path / "state").as_uri()
    (tmp_path / "state").mkdir()
    env = {
        "PULUMI_BACKEND_URL": backend,
        "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", "e2e"),
    }
    stack = auto.create_stack(
        stack_name=stack_name,
        work_dir=str(REPO),
        opts=auto.LocalWorkspaceOptions(work_dir=str(REPO), env_vars=env),
    )
    create_reservation = os.environ.get("RESNET_E2E_CREATE_RESERVATION", "true")
    stack.set_all_config(
        {
            "gcp:project": auto.ConfigValue(PROJECT),
            "resnet-inference:datasetId": auto.ConfigValue(dataset_id),
            "resnet-inference:connectionId": auto.ConfigValue(f"lake-e2e-{suffix}"),
            "resnet-inference:reservationName": auto.ConfigValue(f"resnet-e2e-{suffix}"),
            "resnet-inference:createReservation": auto.ConfigValue(create_reservation),
            "resnet-inference:modelDir": auto.ConfigValue(str(tiny_savedmodel)),
            "resnet-inference:imageUris": auto.ConfigValue(
                json.dumps(["gs://cloud-samples-data/vision/*.jpg"])
            ),
            "resnet-inference:labels": auto.ConfigValue(
                json.dumps({"app": "resnet-inference", "purpose": "e2e"})
            ),
        }
    )
    try:
        preview = stack.preview(on_output=print)
        assert preview.change_summary.get(auto.OpType.CREATE, 0) >= 10

        up = stack.up(on_output=print)
        outputs = {key: value.value for key, value in up.outputs.items()}
        assert outputs["project"] == PROJECT
        assert outputs["dataset_id"] == dataset_id
        assert outputs["object_table_id"] == f"{PROJECT}.{dataset_id}.vision_images"
        assert outputs["connection_id"] == f"{PROJECT}.us.lake-e2e-{suffix}"
        assert outputs["connection_service_account"].endswith(".iam.gserviceaccount.com")
        assert outputs["bucket_url"] == f"gs://{outputs['bucket_name']}"
        assert outputs["model_files_uri"] == f"gs://{outputs['bucket_name']}/resnet_50/*"
        assert ("reservation_name" in outputs) == (create_reservation == "true")
        check_predictions(outputs)
        check_report(outputs, tmp_path)

        # A second preview must find nothing to change (no permanent diffs).
        stack.preview(on_output=print, expect_no_changes=True)
    finally:
        stack.destroy(on_output=print, remove=True)
        (REPO / f"Pulumi.{stack_name}.yaml").unlink(missing_ok=True)


def check_predictions(outputs: dict[str, object]) -> None:
    """One predictions row per object of the object table, as `predictions_rows` reports."""
    from google.cloud import bigquery

    client = bigquery.Client(project=PROJECT, location=str(outputs["location"]))

    def scalar(sql: str) -> int:
        return int(next(iter(client.query(sql).result()))[0])

    objects = scalar(f"SELECT COUNT(*) FROM `{outputs['object_table_id']}`")
    table = f"`{outputs['predictions_table_id']}`"
    assert objects > 0
    assert scalar(f"SELECT COUNT(*) FROM {table}") == objects
    assert scalar(f"SELECT COUNT(DISTINCT uri) FROM {table}") == objects
    assert outputs["predictions_rows"] == objects


def check_report(outputs: dict[str, object], tmp_path: Path) -> None:
    """The report renders from the deployed stack's outputs."""
    outputs_file = tmp_path / "outputs.json"
    outputs_file.write_text(json.dumps(outputs), encoding="utf-8")
    page = tmp_path / "report.html"
    command = [sys.executable, "-m", "sqlrunner", "report", "--outputs", str(outputs_file)]
    subprocess.run(
        [*command, "--out", str(page), "--max-cards", "10"],
        cwd=REPO,
        check=True,
        timeout=600,
    )
    html = page.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert str(outputs["predictions_table_id"]) in html
