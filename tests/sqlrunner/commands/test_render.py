"""`python -m sqlrunner render`: templates follow the lake's model, checked against its files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipeline.model_spec import ModelSpec
from pipeline.outputs import local_stack_outputs, write_local_outputs
from tests.support.savedmodel_pb import signature_pb, write_saved_model_pb

LITE = ModelSpec("image", "probabilities", 224, 1000, False)


def _lake(home: Path, spec: ModelSpec) -> Path:
    model_dir = home / "gcs" / "local-bucket" / "efficientnet_lite0"
    model_dir.mkdir(parents=True)
    write_saved_model_pb(
        model_dir, signature_pb({"image": (-1, 224, 224, 3)}, {"probabilities": (-1, 1000)})
    )
    outputs = local_stack_outputs(
        dataset_id="resnet_inference_test",
        bucket_name="local-bucket",
        model_name="efficientnet_lite0",
        model_files_uri="gs://local-bucket/efficientnet_lite0/*",
        model_type="TENSORFLOW",
        object_table="vision_images",
        predictions_table="predictions",
        labels_table="imagenet_labels",
        top_k=5,
        predictions_rows=0,
        model_spec=spec,
    )
    write_local_outputs(home, outputs)
    return home


def _render(home: Path, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sqlrunner", "render", name, "--home", str(home)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_render_follows_the_model_of_the_lake(tmp_path: Path) -> None:
    home = _lake(tmp_path / "lake", LITE)
    done = _render(home, "predict.sql")
    assert done.returncode == 0, done.stderr
    assert "ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 224, 224, FALSE) AS `image`" in done.stdout
    assert "`probabilities` AS scores" in done.stdout
    labels = _render(home, "labels.sql")
    assert "UNNEST(['tench'," in labels.stdout


def test_render_refuses_outputs_that_do_not_match_the_local_model(tmp_path: Path) -> None:
    home = _lake(tmp_path / "lake", ModelSpec())
    done = _render(home, "predict.sql")
    assert done.returncode == 1
    assert "input_1 float32 [-1, 224, 224, 3] -> activation_49 float32 [-1, 1001]" in done.stderr
    assert "image float32 [-1, 224, 224, 3] -> probabilities float32 [-1, 1000]" in done.stderr
    assert done.stdout == ""
