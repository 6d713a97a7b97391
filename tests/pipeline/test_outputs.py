"""The stack-outputs contract (pipeline.outputs): the local lake's outputs.json and the
Pulumi program's exports carry the same keys, and reading an outputs file validates it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import SqlRunnerError
from pipeline.looker import dashboard_urls
from pipeline.outputs import (
    MODEL_OUTPUT_KEYS,
    StackOutputs,
    local_stack_outputs,
    output_keys,
    read_local_outputs,
    read_outputs,
    required_output_keys,
    write_local_outputs,
)
from tests.support.pulumi_harness import REPO, deploy_main, write_model_dir

PROJECT = "demo-project-123"


def demo_outputs() -> StackOutputs:
    return local_stack_outputs(
        dataset_id="resnet_inference_test",
        bucket_name="demo-images",
        model_name="resnet",
        model_files_uri="gs://demo-models/resnet_50/*",
        model_type="TENSORFLOW",
        object_table="vision_images",
        predictions_table="predictions",
        labels_table="imagenet_labels",
        top_k=5,
        predictions_rows=7,
    )


def test_local_outputs_round_trip_through_home_outputs_json(tmp_path: Path) -> None:
    outputs = demo_outputs()
    path = write_local_outputs(tmp_path, outputs)
    assert path == tmp_path / "outputs.json"
    on_disk = json.loads(path.read_text())
    assert list(on_disk) == [*required_output_keys(), *MODEL_OUTPUT_KEYS]
    assert on_disk["predictions_table_id"] == "local-lake.resnet_inference_test.predictions"
    assert on_disk["connection_id"] == "local-lake.us.lake-connection"
    assert on_disk["bucket_url"] == "gs://demo-images"
    assert on_disk["top_k"] == 5 and on_disk["predictions_rows"] == 7
    urls = dashboard_urls(
        "local-lake.resnet_inference_test.predictions", "local-lake.resnet_inference_test.resnet"
    )
    assert {key: on_disk[key] for key in urls} == urls
    assert read_local_outputs(tmp_path) == outputs
    assert read_outputs(path) == outputs
    assert not list(tmp_path.glob(".*partial"))


def test_a_lake_without_outputs_json_has_none(tmp_path: Path) -> None:
    assert read_local_outputs(tmp_path) is None


def test_reading_names_every_missing_key(tmp_path: Path) -> None:
    values = demo_outputs().to_dict()
    del values["model_id"], values["top_k"]
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(values))
    with pytest.raises(SqlRunnerError, match="lacks the stack outputs model_id, top_k"):
        read_outputs(path)


def test_reading_checks_types_and_ignores_unknown_keys(tmp_path: Path) -> None:
    values: dict[str, Any] = {**demo_outputs().to_dict(), "extra_output": [1, 2]}
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(values))
    assert read_outputs(path) == demo_outputs()
    path.write_text(json.dumps({**values, "top_k": "5"}))
    with pytest.raises(SqlRunnerError, match="top_k should be an integer"):
        read_outputs(path)


def test_reading_a_missing_or_broken_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(SqlRunnerError, match="pulumi stack output --json"):
        read_outputs(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(SqlRunnerError, match="is not JSON"):
        read_outputs(broken)


def test_reservation_name_is_optional_and_kept_when_present() -> None:
    values = {
        **demo_outputs().to_dict(),
        "reservation_name": "resnet-inference-dev",
        "model_description": "real ResNet-50",
    }
    outputs = StackOutputs.from_mapping(values, source="test")
    assert outputs.reservation_name == "resnet-inference-dev"
    assert list(outputs.to_dict()) == list(output_keys())


# --- the Pulumi program's exports, under mocks ---


def exported_keys(tmp_path: Path) -> dict[str, Any]:
    model_dir = write_model_dir(tmp_path)
    config = {"gcp:project": PROJECT, "resnet-inference:modelDir": str(model_dir)}
    return deploy_main(config, stack="dev").outputs


def test_program_exports_the_keys_of_the_local_outputs_json(tmp_path: Path) -> None:
    exported = exported_keys(tmp_path)
    local = demo_outputs().to_dict()
    # A stack that creates its reservation (the default) also exports reservation_name.
    assert set(exported) <= set(output_keys()), "exports missing from the contract"
    assert exported["reservation_name"] == "resnet-inference-dev"
    urls = dashboard_urls(exported["predictions_table_id"], exported["model_id"])
    assert {key: exported[key] for key in urls} == urls
    assert set(exported) == set(local) | {"reservation_name"}


def test_docs_list_exactly_the_contract_keys_and_the_program_exports_each_of_them(
    tmp_path: Path,
) -> None:
    """docs/outputs.md is the one place the outputs are described: it may not drift."""
    rows = [
        line.split("|")[1].strip().strip("`")
        for line in (REPO / "docs" / "outputs.md").read_text().splitlines()
        if line.startswith("| `")
    ]
    assert sorted(rows) == sorted(output_keys())
    # model_description is the local lake's own: the demo names the model it picked.
    assert set(exported_keys(tmp_path)) == set(rows) - {"model_description"}


def test_model_keys_default_to_the_walkthrough_resnet_for_an_older_stack() -> None:
    values = {k: v for k, v in demo_outputs().to_dict().items() if k not in MODEL_OUTPUT_KEYS}
    spec = StackOutputs.from_mapping(values, source="test").model_spec()
    assert (spec.input_name, spec.output_name, spec.image_size) == ("input_1", "activation_49", 224)
    assert (spec.class_count, spec.background_class) == (1001, True)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("background_class", "true", "should be true or false"),
        ("image_size", "224", "should be an integer"),
        ("model_input", "input_1; DROP TABLE x", "is not a column name"),
        ("model_output", "1st", "is not a column name"),
        ("image_size", 0, "not an integer from 1 to 4096"),
        ("image_size", 4097, "not an integer from 1 to 4096"),
        ("class_count", 1000, "1001 classes with a background class"),
    ],
)
def test_bad_model_keys_are_refused(key: str, value: object, message: str) -> None:
    values = {**demo_outputs().to_dict(), key: value}
    with pytest.raises(SqlRunnerError, match=message):
        StackOutputs.from_mapping(values, source="test")


def test_a_1000_class_model_without_background_is_accepted() -> None:
    values = {**demo_outputs().to_dict(), "class_count": 1000, "background_class": False}
    assert StackOutputs.from_mapping(values, source="test").model_spec().class_count == 1000
