"""The post-deploy step as a Pulumi dynamic resource: CREATE MODEL and ML.PREDICT after `up`.

Its inputs are the rendered `sql/` templates, the model files' SHA-256 and the dataset's
creation time, so Pulumi runs it (create) once every resource it depends on exists, runs it
again (update) only when a model file or a rendered template changes, never on `preview`,
and on `destroy` drops the model and the tables it wrote. The logic is in
`pipeline.post_deploy`; this module only adapts it to Pulumi.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi.dynamic

from infra.config import StackConfig
from infra.stack import StackResources
from pipeline.errors import SqlRunnerError
from pipeline.outputs import MODEL_OUTPUT_KEYS

if TYPE_CHECKING:
    from pipeline.post_deploy import Executor, StepInputs

PROP_KEYS = (
    "stack",
    "project",
    "location",
    "predictions_table_id",
    "labels_table_id",
    "templates",
    "cleanup",
    "model_files",
    "epoch",
)
RESULT_KEYS = ("fingerprint", "predictions_rows")
# Outputs the SQL is rendered from (docs/outputs.md).
RENDER_KEYS = (
    "project",
    "location",
    "model_files_uri",
    "model_type",
    "object_table_id",
    "model_id",
    "predictions_table_id",
    "top_k",
    *MODEL_OUTPUT_KEYS,
)


def _inputs_only(props: Mapping[str, Any]) -> dict[str, Any]:
    return {key: props[key] for key in PROP_KEYS if key in props}


class PostDeployProvider(pulumi.dynamic.ResourceProvider):
    """Calls `pipeline.post_deploy`, by default against BigQuery with the deployer's credentials.

    `executor_for(inputs)` picks another executor (tests pass the local engine's).
    """

    def __init__(self, executor_for: Callable[[StepInputs], Executor] | None = None) -> None:
        self.executor_for = executor_for

    def _executor(self, inputs: StepInputs) -> Executor:
        from pipeline.post_deploy import bigquery_executor

        return (self.executor_for or bigquery_executor)(inputs)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        from pipeline import post_deploy

        inputs = post_deploy.StepInputs.from_props(_inputs_only(props))
        result = post_deploy.create(inputs, self._executor(inputs))
        return pulumi.dynamic.CreateResult(
            id_=f"{inputs.stack}-post-deploy", outs={**props, **result.to_props()}
        )

    def diff(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        from pipeline import post_deploy

        try:
            news = post_deploy.StepInputs.from_props(_inputs_only(_news))
        except SqlRunnerError:
            # During preview the rendered SQL may be unknown yet: assume it changes.
            return pulumi.dynamic.DiffResult(changes=True, replaces=[])
        changed = post_deploy.has_changes(_olds.get("fingerprint"), news)
        return pulumi.dynamic.DiffResult(changes=changed, replaces=[], delete_before_replace=False)

    def update(
        self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        from pipeline import post_deploy

        news = post_deploy.StepInputs.from_props(_inputs_only(_news))
        result = post_deploy.create(news, self._executor(news))
        return pulumi.dynamic.UpdateResult(outs={**_news, **result.to_props()})

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        from pipeline import post_deploy

        inputs = post_deploy.StepInputs.from_props(_inputs_only(_props))
        post_deploy.delete(inputs, self._executor(inputs))


class PostDeployStep(pulumi.dynamic.Resource):
    """Runs sql/labels.sql, sql/create_model.sql and sql/predict.sql; exports what it wrote."""

    predictions_table_id: pulumi.Output[str]
    labels_table_id: pulumi.Output[str]
    predictions_rows: pulumi.Output[int]
    fingerprint: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        props: Mapping[str, pulumi.Input[Any]],
        *,
        depends_on: Sequence[pulumi.Resource],
    ) -> None:
        super().__init__(
            PostDeployProvider(),
            name,
            {**props, **dict.fromkeys(RESULT_KEYS)},
            pulumi.ResourceOptions(depends_on=list(depends_on)),
        )


def model_file_hashes(model_dir: Path, files: Sequence[str]) -> dict[str, str]:
    """SHA-256 of each model file, keyed by its path relative to the model directory."""
    return {
        relative: hashlib.sha256((model_dir / relative).read_bytes()).hexdigest()
        for relative in files
    }


def _prop(key: str, props: dict[str, Any]) -> Any:
    return props[key]


def _step_props(stack: str, values: dict[str, Any], hashes: dict[str, str]) -> dict[str, Any]:
    from pipeline.post_deploy import StepInputs

    epoch = str(values.pop("epoch", "") or "")
    return StepInputs.render(stack, values, hashes, epoch=epoch).to_props()


def render_values(config: StackConfig) -> dict[str, Any]:
    """What the templates are rendered from, from the config alone (known during a preview)."""
    from pipeline.templates import LABELS_TABLE_NAME

    return {
        "project": config.project,
        "location": config.location,
        "model_files_uri": f"{config.model_files_uri_prefix}*",
        "model_type": config.model_type.value,
        "object_table_id": config.object_table_id,
        "model_id": config.model_id,
        "predictions_table_id": config.predictions_table_id,
        "labels_table_id": f"{config.project}.{config.dataset_id}.{LABELS_TABLE_NAME}",
        "top_k": config.top_k,
    }


def preview_check(config: StackConfig) -> None:
    """During `pulumi preview` (and the preview `pulumi up` starts with), GoogleSQL analyzes
    the SQL the step will run; a statement it rejects fails the preview, before any
    resource exists. Without the analyzer installed, a warning says the check was skipped."""
    if not pulumi.runtime.is_dry_run():
        return
    from pipeline.googlesql.preflight import check_before_billing
    from pipeline.post_deploy import StepInputs

    values = render_values(config)
    inputs = StepInputs.render(config.stack, values, {})
    result = check_before_billing([*inputs.templates, inputs.cleanup], values)
    if result.skipped is not None:
        pulumi.log.warn(result.skipped)
    if result.problems:
        raise pulumi.RunError(f"GoogleSQL rejects the post-deploy SQL:\n{result.report()}")


def post_deploy_step(
    config: StackConfig,
    resources: StackResources,
    outputs: Mapping[str, pulumi.Input[Any]],
) -> PostDeployStep:
    """The step, after every resource of `resources`, rendered from the stack's `outputs`.

    During a preview, the SQL is checked with GoogleSQL first (`preview_check`)."""
    preview_check(config)
    hashes = model_file_hashes(config.model_dir, config.model_files)
    values = pulumi.Output.all(
        epoch=resources.lake.dataset.creation_time,
        **{key: outputs[key] for key in RENDER_KEYS},
    )
    rendered = values.apply(lambda v: _step_props(config.stack, dict(v), hashes))
    props = {key: rendered.apply(partial(_prop, key)) for key in PROP_KEYS}
    depends_on: list[pulumi.Resource] = [
        resources.lake,
        resources.model_files,
        *resources.model_files.resources,
        resources.lake.object_table,
        resources.lake.bucket_reader,
    ]
    if resources.reservation is not None:
        depends_on.append(resources.reservation)
    return PostDeployStep("post-deploy", props, depends_on=depends_on)


def post_deploy_outputs(step: PostDeployStep) -> dict[str, pulumi.Input[Any]]:
    """The stack outputs the step adds (docs/outputs.md)."""
    return {"predictions_rows": step.predictions_rows}
