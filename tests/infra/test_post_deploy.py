"""The post-deploy step's Pulumi side: its inputs under mocks, and the provider's methods.

Pulumi's mocks never run a dynamic provider, so its create/diff/update/delete are called
directly here, with an executor that records what it was asked to run.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest

from infra.post_deploy import PROP_KEYS, PostDeployProvider
from pipeline import post_deploy, templates
from pipeline.templates import SQL_DIR, RenderedTemplate, RenderOptions, render_file
from tests.support.pulumi_harness import DYNAMIC, Deployment, deploy_main, write_model_dir
from tests.support.savedmodel_pb import resnet_signature_pb

PROJECT = "sql-test-project"
STACK = "dev"
MODEL_FILES = {"saved_model.pb": resnet_signature_pb(), "variables/variables.index": b"index"}
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


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    model_dir = write_model_dir(tmp_path_factory.mktemp("model"), MODEL_FILES)
    return deploy_main(
        {
            "gcp:project": PROJECT,
            "resnet-inference:modelDir": str(model_dir),
            "resnet-inference:bucketName": f"{PROJECT}-bucket",
        },
        stack=STACK,
    )


def test_step_is_one_dynamic_resource_with_the_rendered_pipeline(program: Deployment) -> None:
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


def test_step_waits_for_the_object_table_its_grant_and_every_model_file(
    program: Deployment,
) -> None:
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


def deploy_preview(tmp_path: Path) -> Deployment:
    model_dir = write_model_dir(tmp_path / "model", MODEL_FILES)
    return deploy_main(
        {
            "gcp:project": PROJECT,
            "resnet-inference:modelDir": str(model_dir),
            "resnet-inference:bucketName": f"{PROJECT}-bucket",
        },
        stack=STACK,
        preview=True,
    )


def test_preview_analyzes_the_sql_and_declares_the_step(tmp_path: Path) -> None:
    preview = deploy_preview(tmp_path)
    assert len(preview.of_type(DYNAMIC)) == 1


def test_preview_fails_on_a_template_googlesql_rejects(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql_copy = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql_copy)
    predict = sql_copy / "predict.sql"
    predict.write_text(
        predict.read_text().replace("ML.DECODE_IMAGE(data)", "ML.DECODE_IMAGE(content_type)")
    )
    monkeypatch.setattr(templates, "SQL_DIR", sql_copy)
    with pytest.raises(Exception, match="GoogleSQL rejects the post-deploy SQL") as caught:
        deploy_preview(tmp_path)
    assert (
        "error: predict.sql statement 3, line 42, column 27: No matching signature for "
        "function ML.DECODE_IMAGE for argument types: STRING."
    ) in str(caught.value)


def test_preview_without_the_analyzer_warns_and_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    warnings: list[str] = []
    monkeypatch.setenv("GOOGLESQL_HOME", str(tmp_path / "absent"))
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *_a, **_k: warnings.append(message))
    preview = deploy_preview(tmp_path)
    assert len(preview.of_type(DYNAMIC)) == 1
    assert [w.split(" (")[0] for w in warnings] == [
        "GoogleSQL check skipped: the GoogleSQL analyzer is not installed"
    ]


def test_an_update_does_not_run_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLESQL_HOME", str(tmp_path / "absent"))
    warnings: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *_a, **_k: warnings.append(message))
    model_dir = write_model_dir(tmp_path / "model", MODEL_FILES)
    deploy_main(
        {
            "gcp:project": PROJECT,
            "resnet-inference:modelDir": str(model_dir),
            "resnet-inference:bucketName": f"{PROJECT}-bucket",
        },
        stack=STACK,
    )
    assert warnings == []


def test_stack_exports_the_steps_outputs(program: Deployment) -> None:
    assert "predictions_rows" in program.outputs
    assert program.outputs["labels_table_id"] == f"{PROJECT}.resnet_inference_test.imagenet_labels"


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


def test_the_serialized_provider_names_its_class_by_its_stable_import_path() -> None:
    """Every stack's state holds the provider as the SDK serializes it: by module path.

    Moving or renaming `infra.post_deploy.PostDeployProvider` would break `preview` and
    `destroy` for stacks that exist, so the pickle must reference exactly that path.
    """
    import base64
    import pickletools

    import dill
    from pulumi.dynamic.dynamic import serialize_provider

    from infra.post_deploy import PostDeployProvider

    pickled = base64.b64decode(serialize_provider(PostDeployProvider()))
    strings = [arg for _, arg, _ in pickletools.genops(pickled) if isinstance(arg, str)]
    assert "infra.post_deploy" in strings
    assert "PostDeployProvider" in strings
    # By reference, not by value: no code object of the class travels in the state.
    assert b"co_code" not in pickled and b"CodeType" not in pickled
    loaded = dill.loads(pickled)
    assert type(loaded) is PostDeployProvider
    assert (type(loaded).__module__, type(loaded).__qualname__) == (
        "infra.post_deploy",
        "PostDeployProvider",
    )


def test_a_configured_model_reaches_the_outputs_and_the_post_deploy_sql(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    from tests.support.savedmodel_pb import signature_pb

    lite_pb = signature_pb({"image": (-1, 224, 224, 3)}, {"probabilities": (-1, 1000)})
    model_dir = write_model_dir(
        tmp_path_factory.mktemp("lite"), {**MODEL_FILES, "saved_model.pb": lite_pb}
    )
    lite = deploy_main(
        {
            "gcp:project": PROJECT,
            "resnet-inference:modelDir": str(model_dir),
            "resnet-inference:bucketName": f"{PROJECT}-bucket",
            "resnet-inference:modelInput": "image",
            "resnet-inference:modelOutput": "probabilities",
            "resnet-inference:classCount": "1000",
            "resnet-inference:backgroundClass": "false",
        },
        stack=STACK,
    )
    model_keys = ("model_input", "model_output", "image_size", "class_count", "background_class")
    assert [lite.outputs[key] for key in model_keys] == ["image", "probabilities", 224, 1000, False]
    templates = {t["name"]: t["sql"] for t in lite.one(DYNAMIC).inputs["templates"]}
    assert "224, 224, FALSE) AS `image`" in templates["predict.sql"]
    assert "`probabilities` AS scores" in templates["predict.sql"]
    assert "'background'" not in templates["labels.sql"]
