"""The Pulumi program under `pulumi.runtime.set_mocks`: every resource, dependency and output.

No network and no CLI: a mock monitor records each registration (inputs, and the URNs
the resource waits on) and answers with the ids and computed fields GCP would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from infra.config import StackConfig, parse_config
from infra.outputs import stack_outputs
from infra.stack import build_stack
from pipeline.outputs import output_keys
from tests.support.pulumi_harness import (
    ASSIGNMENT,
    BUCKET,
    CONNECTION,
    DATASET,
    IAM_MEMBER,
    MODEL_FILES,
    OBJECT,
    RESERVATION,
    SERVICE,
    SERVICE_ACCOUNT,
    SLEEP,
    TABLE,
    Deployment,
    GcpMocks,
    deploy_main,
    run_program,
    write_model_dir,
)

PROJECT = "demo-project-123"
STACK = "unit"


def deploy(config: StackConfig) -> Deployment:
    def program() -> pulumi.Output[Any]:
        return pulumi.Output.all(**stack_outputs(config, build_stack(config)))

    monitor, outputs = run_program(program, stack=STACK)
    return Deployment(monitor.registrations, outputs)


def make_config(model_dir: Path, **raw: object) -> StackConfig:
    return parse_config({"modelDir": str(model_dir), **raw}, project=PROJECT, stack=STACK)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_model_dir(tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="module")
def config(model_dir: Path) -> StackConfig:
    return make_config(model_dir, labels={"team": "vision", "env": "test"})


@pytest.fixture(scope="module")
def deployment(config: StackConfig) -> Deployment:
    return deploy(config)


# --- resources and their key properties ---


def test_enables_the_four_apis_and_keeps_them_on_destroy(deployment: Deployment) -> None:
    services = deployment.of_type(SERVICE)
    assert sorted(s.inputs["service"] for s in services) == [
        "bigquery.googleapis.com",
        "bigqueryconnection.googleapis.com",
        "bigqueryreservation.googleapis.com",
        "storage.googleapis.com",
    ]
    for service in services:
        assert service.inputs["project"] == PROJECT
        assert service.inputs["disableOnDestroy"] is False


def test_every_other_resource_waits_for_the_apis_to_settle(deployment: Deployment) -> None:
    api_urns = {s.urn for s in deployment.of_type(SERVICE)}
    settle = deployment.named(SLEEP, "apis-settle")
    assert api_urns <= set(settle.dependencies)
    for typ in (RESERVATION, ASSIGNMENT, DATASET, CONNECTION, BUCKET):
        assert settle.urn in deployment.one(typ).dependencies, typ


def test_reservation_is_enterprise_with_zero_baseline_and_autoscale(
    deployment: Deployment,
) -> None:
    reservation = deployment.one(RESERVATION).inputs
    assert reservation["name"] == "resnet-inference-unit"
    assert reservation["project"] == PROJECT
    assert reservation["location"] == "US"
    assert reservation["edition"] == "ENTERPRISE"
    assert reservation["slotCapacity"] == 0
    assert reservation["autoscale"] == {"maxSlots": 50}
    assert reservation["labels"] == {"team": "vision", "env": "test"}


def test_assignment_points_queries_of_the_project_at_the_reservation(
    deployment: Deployment,
) -> None:
    reservation = deployment.one(RESERVATION)
    assignment = deployment.one(ASSIGNMENT)
    assert assignment.inputs["reservation"] == reservation.id
    assert reservation.id == f"projects/{PROJECT}/locations/US/reservations/resnet-inference-unit"
    assert assignment.inputs["assignee"] == f"projects/{PROJECT}"
    assert assignment.inputs["jobType"] == "QUERY"
    assert assignment.inputs["location"] == reservation.inputs["location"]
    assert reservation.urn in assignment.dependencies


def test_dataset_drops_its_contents_on_destroy(deployment: Deployment) -> None:
    dataset = deployment.one(DATASET).inputs
    assert dataset["datasetId"] == "resnet_inference_test"
    assert dataset["project"] == PROJECT
    assert dataset["location"] == "US"
    assert dataset["deleteContentsOnDestroy"] is True
    assert dataset["labels"] == {"team": "vision", "env": "test"}


def test_connection_is_a_cloud_resource_connection(deployment: Deployment) -> None:
    connection = deployment.one(CONNECTION).inputs
    assert connection["connectionId"] == "lake-connection"
    assert connection["location"] == "US"
    assert connection["project"] == PROJECT
    assert connection["cloudResource"] == {}


def test_bucket_is_private_uniform_and_force_destroyed(deployment: Deployment) -> None:
    bucket = deployment.one(BUCKET).inputs
    assert bucket["name"] == f"{PROJECT}-resnet-inference-unit"
    assert bucket["location"] == "US"
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["publicAccessPrevention"] == "enforced"
    assert bucket["forceDestroy"] is True
    assert bucket["labels"] == {"team": "vision", "env": "test"}


def test_connection_account_may_view_objects_of_this_bucket_only(deployment: Deployment) -> None:
    member = deployment.one(IAM_MEMBER)
    assert member.inputs["member"] == "serviceAccount:" + SERVICE_ACCOUNT
    assert member.inputs["role"] == "roles/storage.objectViewer"
    assert member.inputs["bucket"] == f"{PROJECT}-resnet-inference-unit"
    assert deployment.one(BUCKET).urn in member.dependencies


def test_object_table_reads_the_uris_through_the_connection(deployment: Deployment) -> None:
    table = deployment.one(TABLE)
    assert table.inputs["tableId"] == "vision_images"
    assert table.inputs["datasetId"] == "resnet_inference_test"
    assert table.inputs["project"] == PROJECT
    assert table.inputs["deletionProtection"] is False
    assert table.inputs["labels"] == {"team": "vision", "env": "test"}
    external = table.inputs["externalDataConfiguration"]
    assert external == {
        "autodetect": False,
        "connectionId": f"{PROJECT}.us.lake-connection",
        "objectMetadata": "SIMPLE",
        "sourceUris": ["gs://cloud-samples-data/vision/*.jpg"],
    }
    assert "sourceFormat" not in external


def test_object_table_is_created_after_the_bucket_grant(deployment: Deployment) -> None:
    table = deployment.one(TABLE)
    assert deployment.one(IAM_MEMBER).urn in table.dependencies
    assert deployment.one(CONNECTION).urn in table.dependencies
    assert deployment.one(DATASET).urn in table.dependencies


def test_one_bucket_object_per_model_file(deployment: Deployment, model_dir: Path) -> None:
    objects = {o.inputs["name"]: o for o in deployment.of_type(OBJECT)}
    assert sorted(objects) == sorted(f"resnet_50/{relative}" for relative in MODEL_FILES)
    bucket = deployment.one(BUCKET)
    for relative in MODEL_FILES:
        item = objects[f"resnet_50/{relative}"]
        assert item.inputs["bucket"] == bucket.inputs["name"]
        assert bucket.urn in item.dependencies
        source = item.inputs["source"]
        assert isinstance(source, pulumi.FileAsset)
        assert Path(source.path).read_bytes() == MODEL_FILES[relative]
        assert Path(source.path).resolve() == (model_dir / relative).resolve()


def test_custom_image_uris_and_names_reach_the_resources(model_dir: Path) -> None:
    config = make_config(
        model_dir,
        imageUris=["gs://my-images/cats/*", "gs://my-images/dogs/rex.png"],
        datasetId="vision",
        objectTableName="photos",
        connectionId="photos_conn",
        location="europe-west4",
        bucketName="my-model-bucket",
        modelPrefix="models/r50",
    )
    deployment = deploy(config)
    external = deployment.one(TABLE).inputs["externalDataConfiguration"]
    assert external["sourceUris"] == ["gs://my-images/cats/*", "gs://my-images/dogs/rex.png"]
    assert external["connectionId"] == f"{PROJECT}.europe-west4.photos_conn"
    assert deployment.one(TABLE).inputs["tableId"] == "photos"
    assert deployment.one(DATASET).inputs["location"] == "europe-west4"
    assert deployment.one(RESERVATION).inputs["location"] == "europe-west4"
    assert {o.inputs["name"] for o in deployment.of_type(OBJECT)} == {
        f"models/r50/{relative}" for relative in MODEL_FILES
    }
    assert deployment.outputs["model_files_uri"] == "gs://my-model-bucket/models/r50/*"
    assert deployment.outputs["object_table_id"] == f"{PROJECT}.vision.photos"


def test_existing_reservation_skips_reservation_and_assignment(model_dir: Path) -> None:
    deployment = deploy(make_config(model_dir, createReservation="false"))
    assert deployment.of_type(RESERVATION) == []
    assert deployment.of_type(ASSIGNMENT) == []
    assert "reservation_name" not in deployment.outputs
    assert deployment.one(TABLE).inputs["tableId"] == "vision_images"


def test_slots_and_edition_reach_the_reservation(model_dir: Path) -> None:
    config = make_config(model_dir, edition="ENTERPRISE_PLUS", baselineSlots="100", maxSlots="200")
    reservation = deploy(config).one(RESERVATION).inputs
    assert reservation["edition"] == "ENTERPRISE_PLUS"
    assert reservation["slotCapacity"] == 100
    assert reservation["autoscale"] == {"maxSlots": 200}


def test_default_labels_name_the_app_and_stack(model_dir: Path) -> None:
    deployment = deploy(make_config(model_dir))
    for typ in (DATASET, BUCKET, TABLE, RESERVATION):
        assert deployment.one(typ).inputs["labels"] == {
            "app": "resnet-inference",
            "stack": STACK,
        }, typ


# --- outputs ---


def test_outputs_are_the_contract_keys_but_those_of_the_post_deploy_step(
    deployment: Deployment,
) -> None:
    """The components export every key of the contract the post-deploy step does not add."""
    local_only = {"model_description"}  # the demo names the model it picked
    assert set(deployment.outputs) == set(output_keys()) - {"predictions_rows"} - local_only


def test_output_values(deployment: Deployment) -> None:
    bucket = f"{PROJECT}-resnet-inference-unit"
    expected = {
        "project": PROJECT,
        "location": "US",
        "dataset_id": "resnet_inference_test",
        "connection_id": f"{PROJECT}.us.lake-connection",
        "connection_service_account": SERVICE_ACCOUNT,
        "bucket_name": bucket,
        "bucket_url": f"gs://{bucket}",
        "model_files_uri": f"gs://{bucket}/resnet_50/*",
        "model_type": "TENSORFLOW",
        "object_table_id": f"{PROJECT}.resnet_inference_test.vision_images",
        "model_id": f"{PROJECT}.resnet_inference_test.resnet",
        "predictions_table_id": f"{PROJECT}.resnet_inference_test.predictions",
        "top_k": 5,
        "reservation_name": "resnet-inference-unit",
        "dataset_console_url": (
            f"https://console.cloud.google.com/bigquery?project={PROJECT}"
            f"&ws=!1m4!1m3!3m2!1s{PROJECT}!2sresnet_inference_test"
        ),
    }
    assert {key: deployment.outputs[key] for key in expected} == expected


def test_outputs_match_the_config_derived_names(
    deployment: Deployment, config: StackConfig
) -> None:
    outputs = deployment.outputs
    assert outputs["object_table_id"] == config.object_table_id
    assert outputs["model_id"] == config.model_id
    assert outputs["predictions_table_id"] == config.predictions_table_id
    assert outputs["connection_id"] == config.connection_ref
    assert outputs["model_files_uri"] == config.model_files_uri
    assert outputs["bucket_url"] == config.bucket_url


# --- the program file itself ---


def test_main_program_reads_config_declares_resources_and_exports(model_dir: Path) -> None:
    deployment = deploy_main(
        {
            "gcp:project": PROJECT,
            "resnet-inference:modelDir": str(model_dir),
            "resnet-inference:imageUris": '["gs://cloud-samples-data/vision/*.jpg"]',
            "resnet-inference:labels": '{"env": "test"}',
            "resnet-inference:topK": "3",
        },
        stack=STACK,
    )
    exported = deployment.outputs
    types = {r.typ for r in deployment.registrations}
    assert {
        SERVICE,
        RESERVATION,
        ASSIGNMENT,
        DATASET,
        CONNECTION,
        BUCKET,
        IAM_MEMBER,
        TABLE,
    } <= types
    assert len([r for r in deployment.registrations if r.typ == OBJECT]) == len(MODEL_FILES)
    assert exported["top_k"] == 3
    assert exported["connection_service_account"] == SERVICE_ACCOUNT
    assert exported["dataset_console_url"].endswith(f"!1s{PROJECT}!2sresnet_inference_test")
    assert next(r for r in deployment.registrations if r.typ == DATASET).inputs["labels"] == {
        "env": "test"
    }


def test_onnx_model_uploads_its_file_and_exports_its_type(tmp_path: Path) -> None:
    onnx_dir = tmp_path / "onnx"
    onnx_dir.mkdir()
    (onnx_dir / "model.onnx").write_bytes(b"onnx graph")
    deployment = deploy(make_config(onnx_dir, modelType="ONNX", modelPrefix="resnet_onnx"))
    assert [o.inputs["name"] for o in deployment.of_type(OBJECT)] == ["resnet_onnx/model.onnx"]
    assert deployment.outputs["model_type"] == "ONNX"
    assert deployment.outputs["model_files_uri"].endswith("/resnet_onnx/*")


# --- a first deploy: replacements and previews ---

# Each has a name fixed by config (or, for the assignment and the grant, is unique per
# project and location, or per bucket, role and member).
FIXED_NAMES = (RESERVATION, ASSIGNMENT, DATASET, CONNECTION, BUCKET, IAM_MEMBER, TABLE, OBJECT)


def test_resources_with_fixed_names_are_deleted_before_being_replaced(
    deployment: Deployment,
) -> None:
    for typ in FIXED_NAMES:
        registrations = deployment.of_type(typ)
        assert registrations, typ
        for registration in registrations:
            assert registration.delete_before_replace, registration.name


def test_the_apis_and_the_waits_are_never_replaced_first(deployment: Deployment) -> None:
    for typ in (SERVICE, SLEEP):
        for registration in deployment.of_type(typ):
            assert not registration.delete_before_replace, registration.name


class AccountNotYetKnownMocks(GcpMocks):
    """A connection whose `cloud_resource` is known but holds no account yet."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        resource_id, outputs = super().new_resource(args)
        if args.typ == CONNECTION:
            outputs["cloudResource"] = {}
        return resource_id, outputs


def lake_program(config: StackConfig) -> Any:
    def program() -> pulumi.Output[Any]:
        resources = build_stack(config)
        return pulumi.Output.all(member=resources.lake.bucket_reader.member)

    return program


def test_a_preview_waits_for_the_connection_account_instead_of_failing(
    config: StackConfig,
) -> None:
    monitor, outputs = run_program(
        lake_program(config), stack=STACK, preview=True, mocks=AccountNotYetKnownMocks()
    )
    grant = next(r for r in monitor.registrations if r.typ == IAM_MEMBER)
    # Shown as `output<string>` in the preview; the sleep before it is keyed on it too.
    assert isinstance(grant.inputs["member"], type(pulumi.UNKNOWN))
    settle = next(r for r in monitor.registrations if r.name == "connection-account-settle")
    assert isinstance(settle.inputs["triggers"]["service_account"], type(pulumi.UNKNOWN))
    assert "member" not in outputs


def test_an_up_without_the_connection_account_fails_with_one_clear_error(
    config: StackConfig,
) -> None:
    with pytest.raises(Exception, match="returned no cloud_resource service account"):
        run_program(lake_program(config), stack=STACK, mocks=AccountNotYetKnownMocks())
