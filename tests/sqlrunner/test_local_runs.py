"""The sql/ templates end to end on the local engine, and the post-deploy step against it.

Real DuckDB, the tiny TF SavedModel (converted by the engine), real photos.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bigquery_facts import MAX_DECODE_IMAGE_BYTES
from local_engine.errors import EngineError
from pipeline import post_deploy
from pipeline.errors import SqlRunnerError
from pipeline.labels import load_labels
from pipeline.templates import RenderOptions, render_file, render_pipeline
from sqlrunner.local_runs import LocalExecutor
from tests.support.paths import REPO

BUCKET = "photos"
OUTPUTS: dict[str, Any] = {
    "project": "local-lake",
    "location": "US",
    "model_files_uri": f"gs://{BUCKET}/resnet_50/*",
    "model_type": "TENSORFLOW",
    "object_table_id": "local-lake.vision.images",
    "model_id": "local-lake.vision.resnet",
    "predictions_table_id": "local-lake.vision.predictions",
    "top_k": 5,
}
# Valid JPEGs padded after their end marker to these sizes: ML.DECODE_IMAGE takes at most
# MAX_DECODE_IMAGE_BYTES, so the first is predicted and the others get a skip row.
PADDED_JPEGS = {
    "edge.jpg": MAX_DECODE_IMAGE_BYTES,
    "huge.jpg": 10_200_000,
    "huger.jpg": 10_600_000,
}
OVERSIZED = ("huge.jpg", "huger.jpg")


class Lake:
    """A local lake with photos, a text file and an oversized file under gs://photos/vision/."""

    def __init__(
        self, home: Path, model: Path, photos: Path, converted: Path | None = None
    ) -> None:
        from local_engine.engine import LocalEngine

        self.home = home
        if converted is not None:
            # HOME/models/<sha256>/ is the engine's conversion cache (docs/engine.md).
            shutil.copytree(converted, home / "models")
        self.images = home / "gcs" / BUCKET / "vision"
        self.images.mkdir(parents=True)
        for photo in sorted(photos.iterdir())[:4]:
            shutil.copy(photo, self.images / photo.name)
        (self.images / "notes.txt").write_text("not an image\n")
        jpeg = next(p for p in sorted(photos.iterdir()) if p.suffix == ".jpg").read_bytes()
        for name, size in PADDED_JPEGS.items():
            (self.images / name).write_bytes(jpeg + b"\0" * (size - len(jpeg)))
        self.put_model(model)
        self.engine = LocalEngine(home, progress=False)
        self.engine.create_connection("us.lake-connection")
        self.engine.execute(
            "CREATE SCHEMA IF NOT EXISTS vision;\n"
            "CREATE EXTERNAL TABLE `local-lake.vision.images` "
            "WITH CONNECTION `us.lake-connection` "
            f"OPTIONS (object_metadata = 'SIMPLE', uris = ['gs://{BUCKET}/vision/*'])"
        )
        self.executor = LocalExecutor(self.engine)

    def put_model(self, model: Path) -> None:
        dest = self.home / "gcs" / BUCKET / "resnet_50"
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(model, dest)

    def run(self, name: str, outputs: dict[str, Any] = OUTPUTS, **options: Any) -> int:
        return self.executor.run(render_file(name, outputs, RenderOptions(**options)), "test")

    def rows(self) -> dict[str, dict[str, Any]]:
        table = self.engine.execute("SELECT * FROM vision.predictions").table
        assert table is not None
        return {row["uri"]: row for row in table.to_pylist()}

    def photo_uris(self) -> list[str]:
        return sorted(
            f"gs://{BUCKET}/vision/{p.name}"
            for p in self.images.iterdir()
            if p.suffix in (".png", ".jpg") and p.name not in OVERSIZED
        )


@pytest.fixture(scope="module")
def converted_models(
    tmp_path_factory: pytest.TempPathFactory, tiny_savedmodel: Path, sample_images: Path
) -> Path:
    """The tiny model converted once, so each lake below skips the conversion."""
    primed = Lake(tmp_path_factory.mktemp("primed") / "lake", tiny_savedmodel, sample_images)
    try:
        primed.run("create_model.sql")
    finally:
        primed.engine.close()
    return primed.home / "models"


@pytest.fixture
def lake(
    tmp_path: Path, tiny_savedmodel: Path, sample_images: Path, converted_models: Path
) -> Iterator[Lake]:
    made = Lake(tmp_path / "lake", tiny_savedmodel, sample_images, converted_models)
    try:
        yield made
    finally:
        made.engine.close()


def run_pipeline(lake: Lake, outputs: dict[str, Any] = OUTPUTS) -> int:
    return sum(lake.executor.run(t, "test") for t in render_pipeline(outputs))


# --- the templates end to end ---


def test_pipeline_writes_one_row_per_object_with_decoded_top_labels(lake: Lake) -> None:
    written = run_pipeline(lake)
    rows = lake.rows()
    photos = lake.photo_uris()
    assert written == len(rows) == len(photos) + 3
    labels = load_labels()
    for uri in photos:
        row = rows[uri]
        assert row["skip_reason"] is None
        assert row["model_id"] == "local-lake.vision.resnet"
        assert row["content_type"] in ("image/png", "image/jpeg")
        top = row["top_labels"]
        assert [item["rank"] for item in top] == [1, 2, 3, 4, 5]
        scores = [item["score"] for item in top]
        assert scores == sorted(scores, reverse=True) and 0 < scores[0] <= 1
        assert [item["label"] for item in top] == [labels[item["class_index"]] for item in top]
        assert (row["top1_label"], row["top1_score"]) == (top[0]["label"], top[0]["score"])
        assert row["predicted_at"] is not None
    text = rows[f"gs://{BUCKET}/vision/notes.txt"]
    assert text["skip_reason"] == "unsupported content type text/plain"
    edge = rows[f"gs://{BUCKET}/vision/edge.jpg"]
    assert edge["skip_reason"] is None and edge["size"] == MAX_DECODE_IMAGE_BYTES
    assert len(edge["top_labels"]) == 5
    oversized = [rows[f"gs://{BUCKET}/vision/{name}"] for name in OVERSIZED]
    for row, size in zip(oversized, (10_200_000, 10_600_000), strict=True):
        assert row["size"] == size
        assert row["skip_reason"] == "larger than the ML.DECODE_IMAGE limit of 10000000 bytes"
    for skipped in (text, *oversized):
        assert skipped["top_labels"] == []
        assert skipped["top1_label"] is None and skipped["top1_score"] is None


def test_labels_table_holds_the_1001_classes(lake: Lake) -> None:
    lake.run("labels.sql")
    table = lake.engine.execute(
        "SELECT class_index, label FROM vision.imagenet_labels ORDER BY class_index"
    ).table
    assert table is not None
    assert table.column("label").to_pylist() == load_labels()
    assert table.column("class_index").to_pylist() == list(range(1001))


def test_top_labels_are_the_models_highest_scores_by_class_index(lake: Lake) -> None:
    """class_index is the offset in the 1001-float output (UNNEST ... WITH OFFSET, from 0)."""
    run_pipeline(lake)
    raw = lake.engine.execute(
        "SELECT uri, activation_49 FROM ML.PREDICT(MODEL `local-lake.vision.resnet`, "
        "(SELECT uri, ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 224, 224, FALSE) AS input_1 "
        "FROM `local-lake.vision.images` WHERE content_type LIKE 'image/%' AND size < 1000000))"
    ).table
    assert raw is not None
    rows = lake.rows()
    for record in raw.to_pylist():
        scores = np.asarray(record["activation_49"])
        top = rows[record["uri"]]["top_labels"]
        assert top[0]["class_index"] == int(np.argmax(scores))
        assert top[0]["score"] == pytest.approx(float(scores.max()))
        assert [t["class_index"] for t in top] == list(np.argsort(-scores, kind="stable")[:5])


def test_rerun_predicts_nothing_new_and_a_new_image_once(lake: Lake, sample_images: Path) -> None:
    run_pipeline(lake)
    before = lake.rows()

    assert lake.run("predict.sql") == 0
    assert lake.rows() == before

    extra = sorted(sample_images.iterdir())[-1]
    shutil.copy(extra, lake.images / "new.png")
    assert lake.run("predict.sql") == 1
    after = lake.rows()
    new_uri = f"gs://{BUCKET}/vision/new.png"
    assert set(after) == {*before, new_uri}
    assert after[new_uri]["skip_reason"] is None and len(after[new_uri]["top_labels"]) == 5
    assert {uri: after[uri] for uri in before} == before

    assert lake.run("predict.sql") == 0
    assert len(lake.rows()) == len(after)


def test_rerun_repredicts_an_overwritten_object_and_forgets_a_deleted_one(lake: Lake) -> None:
    run_pipeline(lake)
    before = lake.rows()
    first, second = lake.photo_uris()[:2]
    overwritten = lake.images / first.rsplit("/", 1)[1]
    overwritten.write_bytes(overwritten.read_bytes())  # same bytes, new generation
    (lake.images / second.rsplit("/", 1)[1]).unlink()

    assert lake.run("predict.sql") == 1
    after = lake.rows()
    assert second not in after
    assert after[first]["generation"] != before[first]["generation"]
    assert after[first]["predicted_at"] > before[first]["predicted_at"]
    assert len(after) == len(before) - 1


def test_full_refresh_predicts_everything_again(lake: Lake) -> None:
    run_pipeline(lake)
    before = lake.rows()
    assert lake.run("predict.sql", full_refresh=True) == len(before)
    after = lake.rows()
    assert set(after) == set(before)
    assert all(after[uri]["predicted_at"] > before[uri]["predicted_at"] for uri in before)


# --- the post-deploy step, called directly ---


def step_inputs(outputs: dict[str, Any], model_hash: str = "a" * 64) -> post_deploy.StepInputs:
    return post_deploy.StepInputs.render(
        "dev", outputs, {"saved_model.pb": model_hash}, epoch="1700000000000"
    )


def table_exists(lake: Lake, name: str) -> bool:
    try:
        lake.engine.execute(f"SELECT COUNT(*) AS n FROM vision.{name}")
    except EngineError:
        return False
    return True


def test_step_runs_on_create_skips_unchanged_reruns_on_changes_and_cleans_up(
    lake: Lake, tmp_path: Path
) -> None:
    from sqlrunner.modelzoo.tiny import build_tiny_savedmodel

    inputs = step_inputs(OUTPUTS)
    result = post_deploy.create(inputs, lake.executor)
    rows = lake.rows()
    assert result.predictions_rows == len(rows) == len(lake.photo_uris()) + 3
    assert result.predictions_table_id == "local-lake.vision.predictions"
    assert result.labels_table_id == "local-lake.vision.imagenet_labels"

    # Nothing changed: no run, nothing rewritten.
    same = step_inputs(OUTPUTS)
    assert not post_deploy.has_changes(result.fingerprint, same)
    assert lake.rows() == rows

    # A template change (top_k) reruns and rebuilds every prediction.
    fewer = step_inputs({**OUTPUTS, "top_k": 2})
    assert post_deploy.has_changes(result.fingerprint, fewer)
    rerun = post_deploy.create(fewer, lake.executor)
    assert rerun.predictions_rows == len(rows)
    assert all(
        len(row["top_labels"]) == 2 for row in lake.rows().values() if row["skip_reason"] is None
    )

    # A model change (new weights, new hash) reruns CREATE MODEL and predicts again.
    lake.put_model(build_tiny_savedmodel(tmp_path / "other-model", seed=7))
    new_model = step_inputs({**OUTPUTS, "top_k": 2}, model_hash="b" * 64)
    assert post_deploy.has_changes(rerun.fingerprint, new_model)
    again = post_deploy.create(new_model, lake.executor)
    assert again.predictions_rows == len(rows)
    photo = lake.photo_uris()[0]
    assert lake.rows()[photo]["top_labels"] != rows[photo]["top_labels"][:2]

    post_deploy.delete(new_model, lake.executor)
    assert not table_exists(lake, "predictions")
    assert not table_exists(lake, "imagenet_labels")
    with pytest.raises(SqlRunnerError):
        lake.run("predict.sql")  # the model is gone too
    # A later `up` starts clean.
    assert post_deploy.create(inputs, lake.executor).predictions_rows == len(rows)


def test_step_fingerprint_follows_model_files_templates_and_epoch() -> None:
    base = step_inputs(OUTPUTS)
    assert base.fingerprint() == step_inputs(OUTPUTS).fingerprint()
    assert base.fingerprint() != step_inputs(OUTPUTS, model_hash="c" * 64).fingerprint()
    assert base.fingerprint() != step_inputs({**OUTPUTS, "top_k": 3}).fingerprint()
    redeployed = post_deploy.StepInputs.render(
        "dev", OUTPUTS, {"saved_model.pb": "a" * 64}, epoch="1800000000000"
    )
    assert base.fingerprint() != redeployed.fingerprint()
    assert post_deploy.StepInputs.from_props(base.to_props()) == base


# --- the run command ---


def run_local_cli(lake: Lake, *files: str) -> subprocess.CompletedProcess[str]:
    (lake.home / "outputs.json").write_text(json.dumps(OUTPUTS))
    lake.engine.close()  # the command opens the lake itself
    return subprocess.run(
        [sys.executable, "-m", "sqlrunner", "run", "--local", "--home", str(lake.home), *files],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def test_run_local_command_runs_the_templates(lake: Lake) -> None:
    done = run_local_cli(lake, "sql/labels.sql", "sql/create_model.sql", "sql/predict.sql")
    assert done.returncode == 0, done.stderr
    count = len(lake.photo_uris()) + 3
    assert "labels.sql statement 1: CREATE TABLE, 1001 rows" in done.stdout
    assert "create_model.sql statement 1: CREATE MODEL" in done.stdout
    assert f"predict.sql statement 3: INSERT, {count} rows" in done.stdout


def test_run_local_command_reports_a_failing_statement(lake: Lake) -> None:
    done = run_local_cli(lake, "sql/predict.sql")
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()[-1:]
    assert line.startswith("error: predict.sql: statement 3 (INSERT INTO")
    assert line.endswith("model vision.resnet not found")
