"""The stack config value by value: every key read from Pulumi, every refusal's exact message."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pulumi
import pytest
import yaml

from bigquery_facts import MAX_MODEL_BYTES
from infra.config import (
    DEFAULTS,
    ModelType,
    ReservationConfig,
    StackConfig,
    StackConfigError,
    load_config,
    parse_config,
    stack_settings_keys,
)
from pipeline.errors import SqlRunnerError
from pipeline.model_spec import ModelSpec, check_model_dir
from tests.support.pulumi_harness import write_model_dir

PROJECT = "demo-project-123"

# A valid value other than the default for every key of the namespace, written the way
# Pulumi hands config to the program: strings, with lists and maps as JSON.
EVERY_KEY: dict[str, str] = {
    "location": "europe-west4",
    "datasetId": "other_dataset",
    "connectionId": "other-connection",
    "bucketName": "another-bucket-name",
    "imageUris": '["gs://my-images/cats/*", "gs://my-images/dog.png"]',
    "objectTableName": "photos",
    "modelName": "classifier",
    "modelDir": "",  # the test's own directory, set below
    "modelType": "onnx",
    "modelPrefix": "models/r50",
    "predictionsTable": "labels_out",
    "topK": "7",
    "modelInput": "pixels",
    "modelOutput": "scores",
    "imageSize": "192",
    "classCount": "1000",
    "backgroundClass": "false",
    "labels": '{"team": "vision", "cost-centre": "42"}',
    "createReservation": "false",
    "reservationName": "shared-slots",
    "edition": "enterprise_plus",
    "baselineSlots": "100",
    "maxSlots": "150",
}


def test_every_key_has_a_value_here() -> None:
    assert set(EVERY_KEY) == set(DEFAULTS)


@pytest.fixture
def onnx_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "onnx_model"
    directory.mkdir()
    (directory / "model.onnx").write_bytes(b"onnx")
    return directory


@pytest.fixture
def stack_settings(
    onnx_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, str]]:
    """Every key set, both in Pulumi's config and in the stack's settings file beside it."""
    settings = {f"resnet-inference:{key}": value for key, value in EVERY_KEY.items()}
    settings["resnet-inference:modelDir"] = str(onnx_dir)
    # Keys of other namespaces are Pulumi's or the providers' business, not refused here.
    settings.update({"gcp:project": PROJECT, "gcp:region": "europe-west4"})
    work = tmp_path / "project"
    work.mkdir()
    stack = pulumi.get_stack()
    (work / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": settings}))
    monkeypatch.chdir(work)
    pulumi.runtime.set_all_config(settings)
    yield settings
    pulumi.runtime.set_all_config({})


def test_load_config_reads_every_key_into_its_field(
    stack_settings: dict[str, str], onnx_dir: Path
) -> None:
    assert load_config() == StackConfig(
        project=PROJECT,
        stack=pulumi.get_stack(),
        location="europe-west4",
        dataset_id="other_dataset",
        connection_id="other-connection",
        bucket_name="another-bucket-name",
        image_uris=("gs://my-images/cats/*", "gs://my-images/dog.png"),
        object_table_name="photos",
        model_name="classifier",
        model_dir=onnx_dir,
        model_files=("model.onnx",),
        model_type=ModelType.ONNX,
        model_prefix="models/r50",
        predictions_table="labels_out",
        top_k=7,
        labels={"team": "vision", "cost-centre": "42"},
        reservation=ReservationConfig(
            create=False,
            name="shared-slots",
            edition="ENTERPRISE_PLUS",
            baseline_slots=100,
            max_slots=150,
        ),
        model_spec=ModelSpec(
            input_name="pixels",
            output_name="scores",
            image_size=192,
            class_count=1000,
            background_class=False,
        ),
    )


def test_parse_config_keeps_the_stack_and_the_model_dir_as_given(tmp_path: Path) -> None:
    model_dir = write_model_dir(tmp_path)
    config = parse_config({"modelDir": str(model_dir)}, project=PROJECT, stack="Prod-EU")
    assert config.stack == "Prod-EU"
    assert config.model_dir == model_dir
    assert config.labels == {"app": "resnet-inference", "stack": "prod-eu"}


@pytest.fixture
def legacy_stack_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[str], None]]:
    """Writes `Pulumi.<stack>.yaml` with `resnet-inference:config:KEY`, Pulumi's old spelling.

    The program is handed the key as Pulumi reads it, `resnet-inference:KEY`.
    """
    model_dir = write_model_dir(tmp_path)
    monkeypatch.chdir(tmp_path)

    def write(key: str) -> None:
        settings = {"gcp:project": PROJECT, f"resnet-inference:config:{key}": "3"}
        path = tmp_path / f"Pulumi.{pulumi.get_stack()}.yaml"
        path.write_text(yaml.safe_dump({"config": settings}))
        given = {"gcp:project": PROJECT, f"resnet-inference:{key}": "3"}
        pulumi.runtime.set_all_config({**given, "resnet-inference:modelDir": str(model_dir)})

    yield write
    pulumi.runtime.set_all_config({})


def test_a_key_in_pulumis_old_spelling_is_read(legacy_stack_file: Callable[[str], None]) -> None:
    legacy_stack_file("topK")
    assert load_config().top_k == 3


def test_a_misspelt_key_in_pulumis_old_spelling_is_refused(
    legacy_stack_file: Callable[[str], None],
) -> None:
    legacy_stack_file("topk")
    with pytest.raises(StackConfigError) as caught:
        load_config()
    assert str(caught.value) == (
        "unknown config key resnet-inference:topk (did you mean resnet-inference:topK?)"
    )


# --- the stack settings file ---


@pytest.mark.parametrize(
    "text",
    [
        "",  # an empty file
        "- gcp:project\n",  # a list, not a map
        "config:\n",  # a config section left empty
        "config: [gcp:project]\n",  # a config section that is not a map
        "encryptionsalt: v1:abc\n",  # no config section
    ],
)
def test_a_stack_file_without_a_config_map_sets_no_keys(tmp_path: Path, text: str) -> None:
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(text, encoding="utf-8")
    assert stack_settings_keys(path) == set()


def test_the_stack_file_is_read_as_utf8_whatever_the_locale(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_bytes("config:\n  resnet-inference:étiquettes: a\n".encode())
    # A Latin-1 locale: the encoding an unspecified `encoding` would fall back to there.
    monkeypatch.setattr(io, "text_encoding", lambda encoding, *_: encoding or "latin-1")
    assert stack_settings_keys(path) == {"resnet-inference:étiquettes"}


# --- refusals, message by message ---


def _refusal(model_dir: Path, **raw: object) -> str:
    with pytest.raises(StackConfigError) as caught:
        parse_config({"modelDir": str(model_dir), **raw}, project=PROJECT, stack="dev")
    return str(caught.value)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"datasetId": ""}, "datasetId: '' must be a non-empty string"),
        ({"datasetId": 5}, "datasetId: 5 must be a non-empty string"),
        (
            {"modelType": "pytorch"},
            "modelType: 'pytorch' is not a known model type "
            "(one of TENSORFLOW, ONNX, TENSORFLOW_LITE)",
        ),
        ({"createReservation": "yes"}, "createReservation: 'yes' must be true or false"),
        ({"createReservation": 1}, "createReservation: 1 must be true or false"),
        ({"topK": "five"}, "topK: 'five' must be an integer"),
        ({"topK": 2.5}, "topK: 2.5 must be an integer"),
        ({"topK": "0"}, "topK: 0 must be at least 1"),
        ({"topK": "1002"}, "topK: 1002 is more than the model's 1001 classes"),
        (
            {"baselineSlots": "75"},
            "baselineSlots: 75 must be a non-negative multiple of 50 slots",
        ),
        ({"maxSlots": -50}, "maxSlots: -50 must be a non-negative multiple of 50 slots"),
        (
            {"imageUris": "gs://bucket/x.jpg"},
            "imageUris: 'gs://bucket/x.jpg' must be structured config (a YAML list or map)",
        ),
        (
            {"imageUris": ["gs://bucket/a.jpg", 3]},
            "imageUris: ['gs://bucket/a.jpg', 3] must be a list of strings",
        ),
        ({"imageUris": "[]"}, "imageUris: [] must list at least one gs:// URI"),
        (
            {"imageUris": ["/local/images/*.jpg"]},
            "imageUris: '/local/images/*.jpg' must be a gs://BUCKET/PATH Cloud Storage URI",
        ),
        (
            {"imageUris": ["gs://bucket/*/x/*.jpg"]},
            "imageUris: 'gs://bucket/*/x/*.jpg' may contain at most one '*' wildcard",
        ),
        ({"labels": ["team"]}, "labels: ['team'] must be a map of strings to strings"),
        (
            {"edition": "standard"},
            "edition: 'standard' cannot run imported models "
            "(CREATE MODEL needs ENTERPRISE or ENTERPRISE_PLUS)",
        ),
        ({"edition": "premium"}, "edition: 'premium' must be one of ENTERPRISE, ENTERPRISE_PLUS"),
    ],
)
def test_each_refusal_is_one_exact_line(
    tmp_path: Path, raw: dict[str, object], message: str
) -> None:
    assert _refusal(write_model_dir(tmp_path), **raw) == f"config resnet-inference:{message}"


@pytest.mark.parametrize(
    "labels",
    [
        {"team": 3},
        {"team": None},
        {"team": ["vision"]},
        {3: "vision"},
        {"team": "vision", "tier": True},
        '{"team": 3}',
    ],
)
def test_a_label_map_of_anything_but_strings_is_refused(tmp_path: Path, labels: object) -> None:
    shown = json.loads(labels) if isinstance(labels, str) else labels
    assert _refusal(write_model_dir(tmp_path), labels=labels) == (
        f"config resnet-inference:labels: {shown!r} must be a map of strings to strings"
    )


def test_a_missing_model_dir_is_named_in_its_refusal(tmp_path: Path) -> None:
    absent = tmp_path / "absent"
    assert _refusal(absent) == (
        f"config resnet-inference:modelDir: {str(absent)!r} is not a directory "
        "(run `make model` to fetch the model)"
    )


@pytest.mark.parametrize(
    ("model_type", "needs"),
    [
        ("TENSORFLOW", "saved_model.pb, which a TENSORFLOW model needs"),
        ("ONNX", "*.onnx, which a ONNX model needs"),
        ("TENSORFLOW_LITE", "*.tflite, which a TENSORFLOW_LITE model needs"),
    ],
)
def test_a_model_dir_without_the_types_file_is_named_in_its_refusal(
    tmp_path: Path, model_type: str, needs: str
) -> None:
    (tmp_path / "notes.txt").write_text("no model here")
    assert _refusal(tmp_path, modelType=model_type) == (
        f"config resnet-inference:modelDir: {str(tmp_path)!r} has no {needs}"
    )


def test_a_model_of_450_mb_is_named_in_its_refusal(tmp_path: Path) -> None:
    model_dir = write_model_dir(tmp_path)
    others = sum(p.stat().st_size for p in model_dir.rglob("*") if p.is_file())
    with (model_dir / "variables" / "padding.data").open("wb") as sparse:
        sparse.truncate(MAX_MODEL_BYTES - others)
    assert _refusal(model_dir) == (
        f"config resnet-inference:modelDir: {str(model_dir)!r} holds 450,000,000 bytes; "
        "BigQuery imports models of less than 450 MB (450,000,000 bytes)"
    )


def test_a_savedmodel_unlike_the_configured_model_names_every_model_key(tmp_path: Path) -> None:
    model_dir = write_model_dir(tmp_path)
    spec = ModelSpec(input_name="pixels")
    with pytest.raises(SqlRunnerError) as mismatch:
        check_model_dir(spec, model_dir)
    keys = (
        "resnet-inference:modelInput, resnet-inference:modelOutput, "
        "resnet-inference:imageSize, resnet-inference:classCount, "
        "resnet-inference:backgroundClass"
    )
    assert _refusal(model_dir, modelInput="pixels") == f"config {keys}: {mismatch.value}"
