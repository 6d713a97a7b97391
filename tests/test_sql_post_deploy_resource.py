"""The post-deploy step's Pulumi side: its inputs under mocks, and the provider's methods.

Pulumi's mocks never run a dynamic provider, so its create/diff/update/delete are called
directly here, with an executor that records what it was asked to run.
"""

from __future__ import annotations

import hashlib
import runpy
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime.mocks import MockMonitor

from infra.post_deploy import PROP_KEYS, PostDeployProvider
from sqlrunner import post_deploy
from sqlrunner.templates import RenderedTemplate, RenderOptions, render_file

REPO = Path(__file__).resolve().parent.parent
PROJECT = "sql-test-project"
STACK = "dev"
DYNAMIC = "pulumi-python:dynamic:Resource"
MODEL_FILES = {"saved_model.pb": b"graph", "variables/variables.index": b"index"}
OUTPUTS: dict[str, Any] = {
    "project": PROJECT,
    "location": "US",
    "model_files_uri": f"gs://{PROJECT}-bucket/resnet_50/*",
    "model_type": "TENSORFLOW",
    "object_table_id": f"{PROJECT}.resnet_inference_test.vision_images",
    "model_id": f"{PROJECT}.resnet_inference_test.resnet",
    "predictions_table_id": f"{PROJECT}.resnet_inference_test.predictions",
    "top_k": 5,
}


@dataclass
class Registration:
    typ: str
    name: str
    urn: str
    inputs: dict[str, Any]
    dependencies: list[str]


class EchoMocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        if args.typ == "gcp:bigquery/connection:Connection":
            outputs["cloudResource"] = {"serviceAccountId": "bqcx@example.iam.gserviceaccount.com"}
        if args.typ == "gcp:bigquery/dataset:Dataset":
            outputs["creationTime"] = 1700000000000
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.custom:
            self.registrations.append(
                Registration(
                    typ=request.type,
                    name=request.name,
                    urn=response.urn,
                    inputs=pulumi.runtime.rpc.deserialize_properties(request.object),
                    dependencies=list(request.dependencies),
                )
            )
        return response


@dataclass
class Program:
    registrations: list[Registration]
    exported: dict[str, Any]

    def one(self, typ: str) -> Registration:
        (found,) = [r for r in self.registrations if r.typ == typ]
        return found

    def urns(self, typ: str) -> set[str]:
        return {r.urn for r in self.registrations if r.typ == typ}


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Program]:
    model_dir = tmp_path_factory.mktemp("model") / "resnet_50"
    for relative, content in MODEL_FILES.items():
        (model_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        (model_dir / relative).write_bytes(content)
    pulumi.runtime.set_all_config(
        {
            "gcp:project": PROJECT,
            "resnet-inference:modelDir": str(model_dir),
            "resnet-inference:bucketName": f"{PROJECT}-bucket",
        }
    )
    exported: dict[str, Any] = {}

    def run_main() -> pulumi.Output[None]:
        runpy.run_path(str(REPO / "__main__.py"), run_name="__main__")
        stack = pulumi.runtime.get_root_resource()
        assert stack is not None
        return pulumi.Output.all(**dict(stack.outputs)).apply(exported.update)  # type: ignore[attr-defined]

    mocks = EchoMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="resnet-inference", stack=STACK, monitor=monitor)
    try:
        pulumi.runtime.test(run_main)()
        yield Program(monitor.registrations, exported)
    finally:
        pulumi.runtime.set_all_config({})


def test_step_is_one_dynamic_resource_with_the_rendered_pipeline(program: Program) -> None:
    step = program.one(DYNAMIC)
    assert step.name == "post-deploy"
    inputs = step.inputs
    assert set(PROP_KEYS) <= set(inputs)
    expected = post_deploy.StepInputs.render(
        STACK,
        OUTPUTS,
        {
            relative: hashlib.sha256(content).hexdigest()
            for relative, content in MODEL_FILES.items()
        },
        epoch="1700000000000",
    )
    assert post_deploy.StepInputs.from_props(inputs) == expected
    assert [t["name"] for t in inputs["templates"]] == [
        "labels.sql",
        "create_model.sql",
        "predict.sql",
    ]
    full_refresh = render_file("predict.sql", OUTPUTS, RenderOptions(full_refresh=True)).sql
    assert inputs["templates"][2]["sql"] == full_refresh


def test_step_waits_for_the_object_table_its_grant_and_every_model_file(program: Program) -> None:
    dependencies = set(program.one(DYNAMIC).dependencies)
    for typ, count in [
        ("gcp:bigquery/table:Table", 1),
        ("gcp:storage/bucketIAMMember:BucketIAMMember", 1),
        ("gcp:storage/bucketObject:BucketObject", len(MODEL_FILES)),
        # Destroy deletes dependents first: the step drops its tables before the dataset goes.
        ("gcp:bigquery/dataset:Dataset", 1),
        ("gcp:bigquery/reservationAssignment:ReservationAssignment", 1),
    ]:
        urns = program.urns(typ)
        assert len(urns) == count, typ
        assert urns <= dependencies, typ


def test_stack_exports_the_steps_outputs(program: Program) -> None:
    assert "predictions_rows" in program.exported
    assert program.exported["labels_table_id"] == f"{PROJECT}.resnet_inference_test.imagenet_labels"


# --- the provider, called directly ---


@dataclass
class RecordingExecutor:
    runs: list[tuple[str, str]] = field(default_factory=list)
    rows_per_template: int = 3

    def run(self, template: RenderedTemplate, run_key: str) -> int:
        self.runs.append((template.name, run_key))
        return self.rows_per_template if template.name == "predict.sql" else 0


def props(**changes: Any) -> dict[str, Any]:
    outputs = {**OUTPUTS, **changes.pop("outputs", {})}
    model = changes.pop("model_files", {"saved_model.pb": "a" * 64})
    values = post_deploy.StepInputs.render(STACK, outputs, model, epoch="1").to_props()
    return {**values, "__provider": "serialized", **changes}


def test_provider_create_runs_the_pipeline_once_with_its_fingerprint() -> None:
    executor = RecordingExecutor()
    provider = PostDeployProvider(lambda _inputs: executor)
    created = provider.create(props())
    fingerprint = post_deploy.StepInputs.from_props(props()).fingerprint()
    assert executor.runs == [
        ("labels.sql", fingerprint),
        ("create_model.sql", fingerprint),
        ("predict.sql", fingerprint),
    ]
    assert created.id == "dev-post-deploy"
    assert created.outs is not None
    assert created.outs["predictions_rows"] == 3
    assert created.outs["fingerprint"] == fingerprint
    assert created.outs["labels_table_id"] == f"{PROJECT}.resnet_inference_test.imagenet_labels"


def test_provider_diff_sees_only_model_and_template_changes() -> None:
    provider = PostDeployProvider(lambda _inputs: RecordingExecutor())
    created = provider.create(props())
    assert created.outs is not None
    olds = created.outs
    assert provider.diff("dev-post-deploy", olds, props()).changes is False
    assert provider.diff("id", olds, props(__provider="other")).changes is False
    assert provider.diff("id", olds, props(outputs={"top_k": 3})).changes is True
    assert provider.diff("id", olds, props(model_files={"saved_model.pb": "b" * 64})).changes
    assert provider.diff("id", olds, props()).replaces == []
    unknown = {**props(), "templates": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}
    assert provider.diff("id", olds, unknown).changes is True


def test_provider_update_reruns_and_delete_cleans_up() -> None:
    executor = RecordingExecutor(rows_per_template=7)
    provider = PostDeployProvider(lambda _inputs: executor)
    news = props(outputs={"top_k": 3})
    updated = provider.update("id", props(), news)
    assert updated.outs is not None and updated.outs["predictions_rows"] == 7
    assert [name for name, _ in executor.runs] == ["labels.sql", "create_model.sql", "predict.sql"]
    executor.runs.clear()
    provider.delete("id", updated.outs)
    assert [name for name, _ in executor.runs] == ["cleanup.sql"]
    assert executor.runs[0][1].startswith("delete:")
