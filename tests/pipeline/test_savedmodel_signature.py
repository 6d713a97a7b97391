"""saved_model.pb read without TensorFlow: the same signature TensorFlow reports, no heavy imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import SqlRunnerError
from pipeline.savedmodel_signature import TensorSpec, read_serving_signature
from sqlrunner.modelzoo.signature import read_signature
from tests.support.paths import REPO
from tests.support.savedmodel_pb import UINT8, signature_pb, write_saved_model_pb


@pytest.mark.parametrize("fixture", ["tiny_savedmodel", "efficientnet_savedmodel"])
def test_same_signature_as_tensorflow_reads(fixture: str, request: pytest.FixtureRequest) -> None:
    model_dir: Path = request.getfixturevalue(fixture)
    inputs, outputs = read_signature(model_dir)
    signature = read_serving_signature(model_dir)
    assert list(signature.inputs) == [TensorSpec(s.name, s.dtype, s.shape) for s in inputs]
    assert list(signature.outputs) == [TensorSpec(s.name, s.dtype, s.shape) for s in outputs]


def test_dtype_and_shapes_as_written(tmp_path: Path) -> None:
    write_saved_model_pb(tmp_path, signature_pb({"img": (1, 8, 8, 3)}, {"out": (-1, 2)}, UINT8))
    signature = read_serving_signature(tmp_path)
    assert signature.inputs == (TensorSpec("img", "uint8", (1, 8, 8, 3)),)
    assert signature.outputs[0].describe() == "out uint8 [-1, 2]"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "saved_model.pb is missing"),
        (b"\xff\xff", "not a SavedModel protobuf"),
        (b"", "no 'serving_default' signature"),
    ],
)
def test_broken_files_are_refused(tmp_path: Path, content: bytes | None, message: str) -> None:
    if content is not None:
        (tmp_path / "saved_model.pb").write_bytes(content)
    with pytest.raises(SqlRunnerError, match=message):
        read_serving_signature(tmp_path)


def test_the_deploy_path_does_not_import_tensorflow() -> None:
    code = (
        "import sys, infra.config, infra.outputs, pipeline.templates, pipeline.outputs;"
        "heavy = {'tensorflow', 'local_engine', 'onnxruntime', 'openvino'} & set(sys.modules);"
        "sys.exit(f'imported {heavy}' if heavy else 0)"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
