"""`python -m sqlrunner model show dataset.model`: type, features and labels with dtypes and shapes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from local_engine import engine as engine_module


@pytest.fixture(scope="module")
def lake(tiny_savedmodel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("cli") / "lake"
    shutil.copytree(tiny_savedmodel, home / "gcs" / "bucket" / "resnet_50")
    with engine_module.LocalEngine(home, progress=False) as engine:
        engine.execute(
            "CREATE SCHEMA resnet_inference_test;"
            " CREATE MODEL `local-lake.resnet_inference_test.resnet`"
            " OPTIONS (model_type = 'TENSORFLOW', model_path = 'gs://bucket/resnet_50/*')"
        )
    return home


def sqlrunner(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sqlrunner", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_model_show_prints_type_features_and_labels(lake: Path) -> None:
    done = sqlrunner("model", "show", "resnet_inference_test.resnet", "--home", str(lake))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "type        TENSORFLOW" in lines
    assert "path        gs://bucket/resnet_50/*" in lines
    assert any(line.startswith("artifact    onnx (runs on ") for line in lines)
    features = lines.index("features")
    labels = lines.index("labels")
    assert lines[features + 1].split() == ["input_1", "float32", "[-1,", "224,", "224,", "3]"]
    assert lines[labels + 1].split() == ["activation_49", "float32", "[-1,", "1001]"]


def test_model_show_json_and_project_qualified_name(lake: Path) -> None:
    done = sqlrunner(
        "model", "show", "local-lake.resnet_inference_test.resnet", "--home", str(lake), "--json"
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["model_type"] == "TENSORFLOW"
    assert shown["features"] == [
        {"name": "input_1", "dtype": "float32", "shape": [-1, 224, 224, 3]}
    ]
    assert shown["labels"] == [{"name": "activation_49", "dtype": "float32", "shape": [-1, 1001]}]


def test_model_show_unknown_model_is_one_error_line(lake: Path, tmp_path: Path) -> None:
    done = sqlrunner("model", "show", "resnet_inference_test.nope", "--home", str(lake))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: model resnet_inference_test.nope not found in {lake}"
    ]
    done = sqlrunner("model", "show", "justonepart", "--home", str(lake))
    assert done.returncode == 1 and done.stderr.startswith(
        "error: model name 'justonepart' must be dataset.model"
    )
    done = sqlrunner("model", "show", "a.b", "--home", str(tmp_path / "absent"))
    assert done.returncode == 1 and "no local lake at" in done.stderr


def test_model_show_prints_what_the_templates_are_rendered_for(lake: Path, tmp_path: Path) -> None:
    from pipeline.model_spec import ModelSpec
    from pipeline.outputs import local_stack_outputs, write_local_outputs

    done = sqlrunner("model", "show", "resnet_inference_test.resnet", "--home", str(lake))
    assert "templates   no stack outputs in" in done.stdout
    home = tmp_path / "lake"
    shutil.copytree(lake, home)
    spec = ModelSpec("image", "probabilities", 240, 1000, False)
    outputs = local_stack_outputs(
        dataset_id="resnet_inference_test",
        bucket_name="bucket",
        model_name="resnet",
        model_files_uri="gs://bucket/resnet_50/*",
        model_type="TENSORFLOW",
        object_table="vision_images",
        predictions_table="predictions",
        labels_table="imagenet_labels",
        top_k=5,
        predictions_rows=0,
        model_spec=spec,
        model_description="EfficientNet-Lite0 (not the walkthrough's ResNet-50)",
    )
    write_local_outputs(home, outputs)
    done = sqlrunner("model", "show", "resnet_inference_test.resnet", "--home", str(home))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert (
        "templates   rendered for EfficientNet-Lite0 (not the walkthrough's ResNet-50)"
        in (lines[-5])
    )
    assert [line.split() for line in lines[-4:]] == [
        ["model_input", "image"],
        ["model_output", "probabilities"],
        ["image_size", "240"],
        ["class_count", "1000", "(no", "background", "class)"],
    ]
    shown = json.loads(
        sqlrunner(
            "model", "show", "resnet_inference_test.resnet", "--home", str(home), "--json"
        ).stdout
    )
    assert shown["templates"] == spec.as_outputs()
