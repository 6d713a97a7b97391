"""The stack's typed config: defaults, derived names, Pulumi.dev.yaml, and every refusal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pulumi
import pytest
import yaml

from infra.config import (
    DEFAULTS,
    MAX_MODEL_BYTES,
    PROJECT_PLACEHOLDER,
    ModelType,
    StackConfig,
    StackConfigError,
    load_config,
    parse_config,
    stack_settings_keys,
)
from tests.support.paths import REPO
from tests.support.savedmodel_pb import write_saved_model_pb

PROJECT = "demo-project-123"


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "resnet_50"
    (directory / "variables").mkdir(parents=True)
    write_saved_model_pb(directory)
    (directory / "variables" / "variables.index").write_bytes(b"index")
    return directory


def parse(model_dir: Path, project: str | None = PROJECT, **raw: object) -> StackConfig:
    return parse_config({"modelDir": str(model_dir), **raw}, project=project, stack="dev")


def refused(model_dir: Path, match: str, project: str | None = PROJECT, **raw: object) -> str:
    with pytest.raises(StackConfigError, match=match) as caught:
        parse(model_dir, project=project, **raw)
    return str(caught.value)


# --- defaults and derived names ---


def test_defaults_follow_the_walkthrough(model_dir: Path) -> None:
    config = parse(model_dir)
    assert config.location == "US"
    assert config.dataset_id == "resnet_inference_test"
    assert config.connection_id == "lake-connection"
    assert config.bucket_name == f"{PROJECT}-resnet-inference-dev"
    assert config.image_uris == ("gs://cloud-samples-data/vision/*.jpg",)
    assert config.model_type is ModelType.TENSORFLOW
    assert config.model_prefix == "resnet_50"
    assert config.top_k == 5
    assert config.labels == {"app": "resnet-inference", "stack": "dev"}
    assert config.reservation.create is True
    assert config.reservation.name == "resnet-inference-dev"
    assert config.reservation.edition == "ENTERPRISE"
    assert config.reservation.baseline_slots == 0
    assert config.reservation.max_slots == 50


def test_derived_ids_are_fully_qualified(model_dir: Path) -> None:
    config = parse(model_dir)
    assert config.object_table_id == f"{PROJECT}.resnet_inference_test.vision_images"
    assert config.model_id == f"{PROJECT}.resnet_inference_test.resnet"
    assert config.predictions_table_id == f"{PROJECT}.resnet_inference_test.predictions"
    assert config.connection_ref == f"{PROJECT}.us.lake-connection"
    assert config.bucket_url == f"gs://{PROJECT}-resnet-inference-dev"
    assert config.model_files_uri_prefix == f"gs://{PROJECT}-resnet-inference-dev/resnet_50/"
    assert config.model_files_uri == f"gs://{PROJECT}-resnet-inference-dev/resnet_50/*"


def test_model_files_are_listed_relative_and_sorted(model_dir: Path) -> None:
    assert parse(model_dir).model_files == ("saved_model.pb", "variables/variables.index")


def test_strings_as_pulumi_delivers_them_are_typed(model_dir: Path) -> None:
    config = parse(
        model_dir,
        topK="3",
        createReservation="false",
        baselineSlots="100",
        maxSlots="0",
        edition="enterprise_plus",
        modelType="tensorflow",
        imageUris='["gs://a-bucket/x/*.png", "gs://a-bucket/y.jpg"]',
        labels='{"team": "vision"}',
    )
    assert config.top_k == 3
    assert config.reservation.create is False
    assert config.reservation.baseline_slots == 100
    assert config.reservation.max_slots == 0
    assert config.reservation.edition == "ENTERPRISE_PLUS"
    assert config.model_type is ModelType.TENSORFLOW
    assert config.image_uris == ("gs://a-bucket/x/*.png", "gs://a-bucket/y.jpg")
    assert config.labels == {"team": "vision"}


def test_onnx_and_tflite_models_need_their_own_files(tmp_path: Path) -> None:
    onnx_dir = tmp_path / "onnx"
    onnx_dir.mkdir()
    (onnx_dir / "model.onnx").write_bytes(b"onnx")
    assert parse(onnx_dir, modelType="ONNX").model_files == ("model.onnx",)
    tflite_dir = tmp_path / "tflite"
    tflite_dir.mkdir()
    (tflite_dir / "resnet.tflite").write_bytes(b"tflite")
    assert parse(tflite_dir, modelType="TENSORFLOW_LITE").model_type is ModelType.TENSORFLOW_LITE


# --- Pulumi.dev.yaml ---


def _dev_stack_values() -> dict[str, object]:
    document = yaml.safe_load((REPO / "Pulumi.dev.yaml").read_text())
    return dict(document["config"])


def test_dev_stack_sets_every_key_except_the_derived_bucket() -> None:
    values = _dev_stack_values()
    keys = {key.removeprefix("resnet-inference:") for key in values if key != "gcp:project"}
    assert keys == set(DEFAULTS) - {"bucketName"}
    assert values["gcp:project"] == PROJECT_PLACEHOLDER


def test_dev_stack_values_work_once_the_project_is_set(model_dir: Path) -> None:
    # Pulumi hands structured values (lists, maps) to the program as JSON strings.
    raw = {
        key.removeprefix("resnet-inference:"): json.dumps(value)
        if isinstance(value, list | dict)
        else value
        for key, value in _dev_stack_values().items()
        if key != "gcp:project"
    }
    assert raw["modelDir"] == "models/resnet_50"
    raw["modelDir"] = str(model_dir)
    config = parse_config(raw, project=PROJECT, stack="dev")
    assert config.reservation.name == "resnet-inference-dev"
    assert config.labels == {"app": "resnet-inference", "env": "dev"}
    assert config.image_uris == ("gs://cloud-samples-data/vision/*.jpg",)


def test_dev_stack_placeholder_project_is_refused(model_dir: Path) -> None:
    message = refused(model_dir, "placeholder", project=PROJECT_PLACEHOLDER)
    assert "gcp:project" in message
    assert "pulumi config set gcp:project" in message


# --- reading from Pulumi ---


@pytest.fixture
def pulumi_config(model_dir: Path) -> Iterator[None]:
    pulumi.runtime.set_all_config(
        {
            "gcp:project": PROJECT,
            "resnet-inference:modelDir": str(model_dir),
            "resnet-inference:datasetId": "vision",
            "resnet-inference:imageUris": '["gs://my-images/*"]',
            "resnet-inference:topK": "7",
            "resnet-inference:createReservation": "false",
        }
    )
    yield
    pulumi.runtime.set_all_config({})


@pytest.mark.usefixtures("pulumi_config")
def test_load_config_reads_the_namespace_and_gcp_project() -> None:
    config = load_config()
    assert config.project == PROJECT
    assert config.dataset_id == "vision"
    assert config.image_uris == ("gs://my-images/*",)
    assert config.top_k == 7
    assert config.reservation.create is False
    assert config.model_files == ("saved_model.pb", "variables/variables.index")


def test_relative_model_dir_is_read_from_the_working_directory(
    model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(model_dir.parent)
    config = parse_config({"modelDir": "resnet_50"}, project=PROJECT, stack="dev")
    assert config.model_files == ("saved_model.pb", "variables/variables.index")


# --- refusals: each names the key and the rule ---


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("datasetId", "resnet-inference", "letters, digits or underscores"),
        ("datasetId", "", "non-empty string"),
        ("objectTableName", "vision images", "letters, digits or underscores"),
        ("modelName", "resnet.v1", "letters, digits or underscores"),
        ("predictionsTable", "predictions;drop", "letters, digits or underscores"),
        ("connectionId", "lake connection", "letters, digits, underscores or dashes"),
        ("location", "US;", "BigQuery location"),
        ("bucketName", "Bad_Bucket", "Cloud Storage bucket naming"),
        ("bucketName", "google-owned", "Cloud Storage bucket naming"),
        ("reservationName", "Reservation_1", "reservation naming"),
        ("modelPrefix", "/resnet_50", "no leading or trailing '/'"),
        ("modelPrefix", "a/../b", "no '.' or '..' parts"),
    ],
)
def test_identifiers_breaking_naming_rules_are_refused(
    model_dir: Path, key: str, value: str, rule: str
) -> None:
    message = refused(model_dir, f"resnet-inference:{key}", **{key: value})
    assert rule in message
    assert repr(value) in message


@pytest.mark.parametrize("project", ["My-Project", "p", "project-", "1project"])
def test_bad_project_ids_are_refused(model_dir: Path, project: str) -> None:
    message = refused(model_dir, "gcp:project", project=project)
    assert "lowercase letters, digits and dashes" in message


def test_missing_project_is_refused(model_dir: Path) -> None:
    assert "is not set" in refused(model_dir, "gcp:project", project=None)


def test_derived_bucket_name_too_long_is_refused(model_dir: Path) -> None:
    project = "a-very-long-project-id-for-it"
    with pytest.raises(StackConfigError, match="resnet-inference:bucketName"):
        parse_config(
            {"modelDir": str(model_dir)}, project=project, stack="a-long-stack-name-too-long"
        )


@pytest.mark.parametrize(
    ("key", "value"),
    [("baselineSlots", "75"), ("maxSlots", "120"), ("maxSlots", "-50"), ("baselineSlots", 1)],
)
def test_slots_not_multiples_of_50_are_refused(model_dir: Path, key: str, value: object) -> None:
    message = refused(model_dir, f"resnet-inference:{key}", **{key: value})
    assert "multiple of 50" in message


def test_reservation_without_any_slots_is_refused(model_dir: Path) -> None:
    message = refused(model_dir, "resnet-inference:maxSlots", baselineSlots="0", maxSlots="0")
    assert "at least 50" in message


def test_no_slots_are_fine_when_the_reservation_is_not_created(model_dir: Path) -> None:
    config = parse(model_dir, createReservation=False, maxSlots=0)
    assert config.reservation.create is False


def test_standard_edition_is_refused(model_dir: Path) -> None:
    message = refused(model_dir, "resnet-inference:edition", edition="STANDARD")
    assert "cannot run imported models" in message


def test_unknown_edition_is_refused(model_dir: Path) -> None:
    message = refused(model_dir, "resnet-inference:edition", edition="PREMIUM")
    assert "ENTERPRISE, ENTERPRISE_PLUS" in message


@pytest.mark.parametrize(
    ("uris", "rule"),
    [
        (["https://storage.googleapis.com/b/x.jpg"], "gs://BUCKET/PATH"),
        (["/local/images/*.jpg"], "gs://BUCKET/PATH"),
        (["gs://bucket/*/x/*.jpg"], "at most one '*'"),
        ([], "at least one"),
        ("gs://bucket/x.jpg", "structured config"),
        (["gs://bucket/a.jpg", 3], "list of strings"),
    ],
)
def test_bad_image_uris_are_refused(model_dir: Path, uris: object, rule: str) -> None:
    message = refused(model_dir, "resnet-inference:imageUris", imageUris=uris)
    assert rule in message


def test_model_dir_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path / "absent", "resnet-inference:modelDir")
    assert "make model" in message


def test_model_dir_without_saved_model_is_refused(tmp_path: Path) -> None:
    (tmp_path / "variables").mkdir()
    (tmp_path / "variables" / "variables.index").write_bytes(b"index")
    message = refused(tmp_path, "resnet-inference:modelDir")
    assert "has no saved_model.pb" in message


def test_onnx_model_dir_without_model_onnx_is_refused(model_dir: Path) -> None:
    message = refused(model_dir, "resnet-inference:modelDir", modelType="ONNX")
    assert "has no *.onnx" in message


def test_model_over_bigquerys_size_limit_is_refused(model_dir: Path) -> None:
    with (model_dir / "variables" / "variables.data-00000-of-00001").open("wb") as sparse:
        sparse.truncate(MAX_MODEL_BYTES + 1)
    message = refused(model_dir, "resnet-inference:modelDir")
    assert "less than 450 MB" in message


def test_unknown_model_type_is_refused(model_dir: Path) -> None:
    message = refused(model_dir, "resnet-inference:modelType", modelType="PYTORCH")
    assert "TENSORFLOW, ONNX, TENSORFLOW_LITE" in message


@pytest.mark.parametrize(("value", "rule"), [("0", "at least 1"), ("five", "an integer")])
def test_bad_top_k_is_refused(model_dir: Path, value: str, rule: str) -> None:
    assert rule in refused(model_dir, "resnet-inference:topK", topK=value)


def test_bad_boolean_is_refused(model_dir: Path) -> None:
    message = refused(model_dir, "resnet-inference:createReservation", createReservation="yes")
    assert "true or false" in message


@pytest.mark.parametrize(
    ("labels", "rule"),
    [
        ({"Team": "vision"}, "label key"),
        ({"team": "Vision Team"}, "label value"),
        ({"team": "x" * 64}, "label value"),
        (["team"], "map of strings"),
    ],
)
def test_bad_labels_are_refused(model_dir: Path, labels: object, rule: str) -> None:
    assert rule in refused(model_dir, "resnet-inference:labels", labels=labels)


def test_unknown_key_is_refused_with_the_closest_known_key(model_dir: Path) -> None:
    message = refused(model_dir, "unknown config key resnet-inference:topk", topk="5")
    assert "did you mean resnet-inference:topK?" in message


def test_load_config_refuses_a_misspelt_key_set_in_the_stack(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = {
        "gcp:project": PROJECT,
        "resnet-inference:modelDir": str(model_dir),
        "resnet-inference:maxSlot": "100",
        "gcp:region": "us-central1",
    }
    stack = pulumi.get_stack()
    (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": settings}))
    monkeypatch.chdir(tmp_path)
    pulumi.runtime.set_all_config(settings)
    try:
        with pytest.raises(StackConfigError, match="did you mean resnet-inference:maxSlots"):
            load_config()
    finally:
        pulumi.runtime.set_all_config({})


def test_stack_settings_keys_reads_the_config_map(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.dev.yaml"
    assert stack_settings_keys(path) == set()
    path.write_text("config:\n  gcp:project: p\n  resnet-inference:labels:\n    a: b\n")
    assert stack_settings_keys(path) == {"gcp:project", "resnet-inference:labels"}
    path.write_text("config: [unclosed\n")
    with pytest.raises(StackConfigError, match="cannot read the stack settings"):
        stack_settings_keys(path)


def test_the_program_reads_config_through_public_pulumi_apis_only() -> None:
    source = (REPO / "infra" / "config.py").read_text(encoding="utf-8")
    assert "pulumi.runtime" not in source


def test_config_errors_stop_pulumi_without_a_traceback() -> None:
    # Pulumi prints a RunError's message alone instead of the program's stack trace.
    assert issubclass(StackConfigError, pulumi.RunError)


# --- the model the templates follow ---


def test_model_keys_default_to_the_walkthrough_resnet(model_dir: Path) -> None:
    spec = parse(model_dir).model_spec
    assert spec.as_outputs() == {
        "model_input": "input_1",
        "model_output": "activation_49",
        "image_size": 224,
        "class_count": 1001,
        "background_class": True,
    }


def test_a_configured_model_must_match_the_savedmodel_signature(model_dir: Path) -> None:
    from tests.support.savedmodel_pb import signature_pb, write_saved_model_pb

    lite = {
        "modelInput": "image",
        "modelOutput": "probabilities",
        "imageSize": "224",
        "classCount": "1000",
        "backgroundClass": "false",
    }
    message = refused(model_dir, "resnet-inference:modelInput", **lite)
    assert "image float32 [-1, 224, 224, 3] -> probabilities float32 [-1, 1000]" in message
    assert "input_1 float32 [-1, 224, 224, 3] -> activation_49 float32 [-1, 1001]" in message
    write_saved_model_pb(
        model_dir, signature_pb({"image": (-1, 224, 224, 3)}, {"probabilities": (-1, 1000)})
    )
    spec = parse(model_dir, **lite).model_spec
    assert (spec.input_name, spec.class_count, spec.background_class) == ("image", 1000, False)
    assert parse(model_dir, topK="1000", **lite).top_k == 1000
    assert "more than the model's 1000 classes" in refused(
        model_dir, "resnet-inference:topK", topK="1001", **lite
    )


@pytest.mark.parametrize(
    ("key", "value", "rule"),
    [
        ("modelInput", "input 1", "is not a column name"),
        ("modelOutput", "", "must be a non-empty string"),
        ("imageSize", "0", "must be at least 1"),
        ("classCount", "1000", "1001 classes with a background class"),
        ("backgroundClass", "maybe", "must be true or false"),
    ],
)
def test_bad_model_keys_are_refused(model_dir: Path, key: str, value: str, rule: str) -> None:
    assert rule in refused(model_dir, f"resnet-inference:{key}", **{key: value})


def test_a_corrupt_saved_model_pb_is_refused(model_dir: Path) -> None:
    (model_dir / "saved_model.pb").write_bytes(b"\xff\xff\xff")
    assert "is not a SavedModel protobuf" in refused(model_dir, "resnet-inference:modelInput")
