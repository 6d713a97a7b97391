"""Every stack config key changes what the stack declares: a key that is ignored fails here.

Each key gets a valid non-default value; the whole deployment (every resource's inputs
and the stack outputs, under Pulumi's mocks) must differ from the default one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest

from infra.config import DEFAULTS, parse_config
from infra.outputs import stack_outputs
from infra.stack import build_stack
from tests.support.paths import REPO
from tests.support.pulumi_harness import MODEL_FILES, run_program, write_model_dir
from tests.support.savedmodel_pb import signature_pb

PROJECT = "demo-project-123"
STACK = "keys"

# A valid value other than the default for every key (the model's keys: see below).
OTHER_VALUES: dict[str, object] = {
    "location": "europe-west4",
    "datasetId": "other_dataset",
    "connectionId": "other-connection",
    "bucketName": "another-bucket-name",
    "imageUris": ["gs://my-images/cats/*"],
    "objectTableName": "photos",
    "modelName": "classifier",
    "modelPrefix": "models/r50",
    "predictionsTable": "labels_out",
    "topK": 7,
    "labels": {"team": "vision"},
    "createReservation": False,
    "reservationName": "shared-slots",
    "edition": "ENTERPRISE_PLUS",
    "baselineSlots": 50,
    "maxSlots": 100,
}


def _plain(value: object) -> object:
    """Assets by their path: their repr holds an address that differs on every run."""
    if isinstance(value, pulumi.FileAsset):
        return f"file:{value.path}"
    return repr(value)


def declared(raw: dict[str, object]) -> str:
    """Every resource's type, name and inputs, and the outputs, as one comparable text."""
    config = parse_config(raw, project=PROJECT, stack=STACK)

    def program() -> pulumi.Output[Any]:
        return pulumi.Output.all(**stack_outputs(config, build_stack(config)))

    monitor, outputs = run_program(program, stack=STACK)
    resources = sorted(
        json.dumps([r.typ, r.name, r.inputs], sort_keys=True, default=_plain)
        for r in monitor.registrations
    )
    return json.dumps([resources, outputs], sort_keys=True, default=_plain)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_model_dir(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def default_deployment(model_dir: Path) -> str:
    return declared({"modelDir": str(model_dir)})


def test_the_same_config_declares_the_same_deployment(
    model_dir: Path, default_deployment: str
) -> None:
    assert declared({"modelDir": str(model_dir)}) == default_deployment


# Keys that must describe the model directory's own signature, so they change with it.
MODEL_SIGNATURE_KEYS = {
    "modelInput": "image",
    "modelOutput": "probabilities",
    "imageSize": 192,
    "classCount": 1000,
    "backgroundClass": False,
}


def test_every_key_has_a_value_here() -> None:
    keys = set(OTHER_VALUES) | set(MODEL_SIGNATURE_KEYS) | {"modelDir", "modelType"}
    assert keys == set(DEFAULTS)


def test_the_docs_list_every_key() -> None:
    table = (REPO / "docs" / "stack.md").read_text()
    documented = set(re.findall(r"^\| `(\w+)` \|", table, flags=re.MULTILINE))
    assert documented == set(DEFAULTS)


@pytest.mark.parametrize("key", sorted(OTHER_VALUES))
def test_each_key_changes_the_deployment(
    key: str, model_dir: Path, default_deployment: str
) -> None:
    changed = declared({"modelDir": str(model_dir), key: OTHER_VALUES[key]})
    assert changed != default_deployment


def test_model_dir_changes_the_uploaded_files(tmp_path: Path, default_deployment: str) -> None:
    other = write_model_dir(tmp_path, {**MODEL_FILES, "assets/vocabulary.txt": b"another file"})
    assert declared({"modelDir": str(other)}) != default_deployment


def test_model_type_changes_the_deployment(tmp_path: Path, default_deployment: str) -> None:
    onnx = write_model_dir(tmp_path, {"model.onnx": b"onnx bytes"})
    assert declared({"modelDir": str(onnx), "modelType": "ONNX"}) != default_deployment


def test_the_model_signature_keys_change_the_deployment(
    tmp_path: Path, default_deployment: str
) -> None:
    lite_pb = signature_pb({"image": (-1, 192, 192, 3)}, {"probabilities": (-1, 1000)})
    lite = write_model_dir(tmp_path, {**MODEL_FILES, "saved_model.pb": lite_pb})
    changed = declared({"modelDir": str(lite), **MODEL_SIGNATURE_KEYS})
    assert changed != default_deployment
    for key, value in MODEL_SIGNATURE_KEYS.items():
        assert json.dumps(value) in changed or str(value) in changed, key
