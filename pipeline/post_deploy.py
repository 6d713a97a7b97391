"""The post-deploy step: what `pulumi up` runs after every resource exists, and undoes on destroy.

Its inputs are the rendered templates and the model files' content hashes (plus an
`epoch` that changes when the dataset is re-created), so it runs again exactly when a
model file or a rendered template changes. The logic lives here, free of Pulumi, so it
can be called directly in tests; `infra/post_deploy.py` wraps it in a dynamic resource.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pipeline.errors import SqlRunnerError
from pipeline.templates import (
    CLEANUP,
    SQL_DIR,
    RenderedTemplate,
    RenderOptions,
    labels_table_id,
    render_file,
    render_pipeline,
)

if TYPE_CHECKING:
    from pipeline.bigquery import BigQueryRunner
    from pipeline.retry import RetryPolicy


class Executor(Protocol):
    """Runs one rendered template; returns the rows its INSERT/MERGE statements wrote."""

    def run(self, template: RenderedTemplate, run_key: str) -> int: ...


@dataclass(frozen=True)
class StepInputs:
    stack: str
    project: str
    location: str
    predictions_table_id: str
    labels_table_id: str
    templates: tuple[RenderedTemplate, ...]
    cleanup: RenderedTemplate
    # Relative path of each model file -> its content hash.
    model_files: Mapping[str, str] = field(default_factory=dict)
    # Changes when the dataset is re-created (its creation time), so job ids of an earlier
    # deployment with the same inputs are never reused.
    epoch: str = ""

    @classmethod
    def render(
        cls,
        stack: str,
        outputs: Mapping[str, object],
        model_files: Mapping[str, str],
        *,
        epoch: str = "",
        options: RenderOptions | None = None,
    ) -> StepInputs:
        """Render the pipeline and the cleanup from stack outputs (docs/outputs.md).

        The step runs only when a model file or a template changed, and then every stored
        prediction is stale, so by default it renders predict.sql as a full refresh.
        """
        for key in ("project", "location", "predictions_table_id"):
            if not isinstance(outputs.get(key), str):
                raise SqlRunnerError(f"post-deploy step: stack output {key!r} is missing")
        return cls(
            stack=stack,
            project=str(outputs["project"]),
            location=str(outputs["location"]),
            predictions_table_id=str(outputs["predictions_table_id"]),
            labels_table_id=labels_table_id(outputs),
            templates=tuple(render_pipeline(outputs, options or RenderOptions(full_refresh=True))),
            cleanup=render_file(SQL_DIR / CLEANUP, outputs),
            model_files=dict(model_files),
            epoch=epoch,
        )

    def fingerprint(self) -> str:
        """What decides whether the step runs again: stack, templates, model files, epoch."""
        payload = {
            "stack": self.stack,
            "templates": [[t.name, t.sql] for t in self.templates],
            "model_files": sorted(self.model_files.items()),
            "epoch": self.epoch,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode("utf-8")).hexdigest()

    def to_props(self) -> dict[str, Any]:
        """JSON-able properties, what the Pulumi resource stores."""
        return {
            "stack": self.stack,
            "project": self.project,
            "location": self.location,
            "predictions_table_id": self.predictions_table_id,
            "labels_table_id": self.labels_table_id,
            "templates": [{"name": t.name, "sql": t.sql} for t in self.templates],
            "cleanup": {"name": self.cleanup.name, "sql": self.cleanup.sql},
            "model_files": dict(self.model_files),
            "epoch": self.epoch,
        }

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> StepInputs:
        try:
            return cls(
                stack=str(props["stack"]),
                project=str(props["project"]),
                location=str(props["location"]),
                predictions_table_id=str(props["predictions_table_id"]),
                labels_table_id=str(props["labels_table_id"]),
                templates=tuple(
                    RenderedTemplate(str(t["name"]), str(t["sql"])) for t in props["templates"]
                ),
                cleanup=RenderedTemplate(
                    str(props["cleanup"]["name"]), str(props["cleanup"]["sql"])
                ),
                model_files={str(k): str(v) for k, v in dict(props.get("model_files", {})).items()},
                epoch=str(props.get("epoch", "")),
            )
        except (KeyError, TypeError) as exc:
            raise SqlRunnerError(f"post-deploy step: malformed properties ({exc})") from exc


@dataclass(frozen=True)
class StepResult:
    fingerprint: str
    predictions_table_id: str
    labels_table_id: str
    predictions_rows: int

    def to_props(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "predictions_table_id": self.predictions_table_id,
            "labels_table_id": self.labels_table_id,
            "predictions_rows": self.predictions_rows,
        }


def create(inputs: StepInputs, executor: Executor) -> StepResult:
    """Run labels, create-model and predict; the run key makes a retried step reuse job ids."""
    fingerprint = inputs.fingerprint()
    rows = 0
    for template in inputs.templates:
        rows += executor.run(template, run_key=fingerprint)
    return StepResult(fingerprint, inputs.predictions_table_id, inputs.labels_table_id, rows)


def has_changes(old_fingerprint: str | None, new: StepInputs) -> bool:
    return old_fingerprint != new.fingerprint()


def delete(inputs: StepInputs, executor: Executor) -> None:
    """Drop the model, the predictions and the labels table (each IF EXISTS).

    A dataset that is already gone has nothing left to drop: that must not block a destroy.
    """
    try:
        executor.run(inputs.cleanup, run_key=f"delete:{inputs.fingerprint()}")
    except SqlRunnerError as exc:
        if getattr(exc, "reason", None) != "notFound":
            raise


class BigQueryExecutor:
    """Runs templates as BigQuery jobs (`pipeline.bigquery`)."""

    def __init__(
        self,
        runner_for_run_key: Callable[[str], BigQueryRunner],
        policy: RetryPolicy | None = None,
    ) -> None:
        self._runner_for_run_key = runner_for_run_key
        # One policy for the whole step: its permission grace counts from the step's start.
        self.policy = policy

    def run(self, template: RenderedTemplate, run_key: str) -> int:
        from pipeline.bigquery import results_rows_written

        return results_rows_written(self._runner_for_run_key(run_key).run_template(template))


def bigquery_executor(
    inputs: StepInputs, *, permission_grace_s: float = 300.0, timeout_s: float = 3600.0
) -> BigQueryExecutor:
    """The executor `pulumi up` uses: the user's credentials, the dataset's location.

    Permission errors and on-demand refusals are retried for `permission_grace_s` from
    now: right after `up`, IAM grants and the new QUERY assignment take minutes to apply.
    """
    from pipeline.bigquery import BigQueryRunner, RunSettings
    from pipeline.bigquery_client import make_client
    from pipeline.retry import RetryPolicy

    client = make_client(inputs.project, inputs.location)
    policy = RetryPolicy(permission_grace_s=permission_grace_s)

    def runner(run_key: str) -> BigQueryRunner:
        settings = RunSettings(
            stack=inputs.stack, location=inputs.location, run_key=run_key, timeout_s=timeout_s
        )
        return BigQueryRunner(client, settings, policy)

    return BigQueryExecutor(runner, policy)
