"""The post-deploy step's logic without Pulumi: inputs, fingerprint, create and delete."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.bigquery import BigQueryError
from pipeline.errors import SqlRunnerError
from pipeline.jobids import job_id
from pipeline.post_deploy import (
    StepInputs,
    StepResult,
    bigquery_executor,
    create,
    delete,
    has_changes,
)
from pipeline.templates import RenderedTemplate, RenderOptions, render_file, render_pipeline
from tests.support.fake_bigquery import FakeBigQueryServer
from tests.support.stack_outputs import STACK_OUTPUTS

OUTPUTS = STACK_OUTPUTS
FILES = {"saved_model.pb": "h1", "variables/variables.index": "h2"}


class Recorder:
    """An executor that records (template, run key) and returns rows per template."""

    def __init__(self, rows: dict[str, int] | None = None, fail: Exception | None = None):
        self.calls: list[tuple[str, str]] = []
        self.rows = rows or {}
        self.fail = fail

    def run(self, template: RenderedTemplate, run_key: str) -> int:
        self.calls.append((template.name, run_key))
        if self.fail is not None:
            raise self.fail
        return self.rows.get(template.name, 0)


def inputs(**changes: Any) -> StepInputs:
    options = changes.pop("options", None)
    return StepInputs.render(
        changes.pop("stack", "dev"),
        {**OUTPUTS, **changes},
        changes.pop("files", FILES),
        epoch=changes.pop("epoch", "e1"),
        options=options,
    )


def test_render_fills_every_field_from_the_outputs() -> None:
    step = inputs()
    assert step.stack == "dev"
    assert step.project == "my-project"
    assert step.location == "EU"
    assert step.predictions_table_id == OUTPUTS["predictions_table_id"]
    assert step.labels_table_id == "my-project.resnet_inference_test.imagenet_labels"
    assert step.model_files == FILES
    assert step.epoch == "e1"
    assert step.cleanup == render_file("cleanup.sql", OUTPUTS)


def test_the_step_renders_predict_as_a_full_refresh_unless_told() -> None:
    assert inputs().templates == tuple(render_pipeline(OUTPUTS, RenderOptions(full_refresh=True)))
    told = inputs(options=RenderOptions(full_refresh=False)).templates
    assert told == tuple(render_pipeline(OUTPUTS, RenderOptions(full_refresh=False)))
    assert told != inputs().templates


@pytest.mark.parametrize("key", ["project", "location", "predictions_table_id"])
def test_a_missing_output_is_named(key: str) -> None:
    outputs = {k: v for k, v in OUTPUTS.items() if k != key}
    with pytest.raises(
        SqlRunnerError, match=rf"^post-deploy step: stack output '{key}' is missing$"
    ):
        StepInputs.render("dev", outputs, FILES)


def test_a_non_string_output_is_refused() -> None:
    with pytest.raises(SqlRunnerError, match="'location' is missing"):
        StepInputs.render("dev", {**OUTPUTS, "location": 7}, FILES)


def test_properties_round_trip() -> None:
    step = inputs()
    props = step.to_props()
    assert props["templates"][0] == {"name": step.templates[0].name, "sql": step.templates[0].sql}
    assert props["cleanup"] == {"name": "cleanup.sql", "sql": step.cleanup.sql}
    assert StepInputs.from_props(props) == step
    legacy = {k: v for k, v in props.items() if k not in ("model_files", "epoch")}
    old = StepInputs.from_props(legacy)
    assert old.model_files == {} and old.epoch == ""


@pytest.mark.parametrize("drop", ["stack", "project", "templates", "cleanup", "labels_table_id"])
def test_malformed_properties_are_one_error(drop: str) -> None:
    props = {k: v for k, v in inputs().to_props().items() if k != drop}
    with pytest.raises(SqlRunnerError, match=r"^post-deploy step: malformed properties"):
        StepInputs.from_props(props)


def test_the_fingerprint_follows_each_input_and_nothing_else() -> None:
    base = inputs().fingerprint()
    assert inputs().fingerprint() == base and len(base) == 64
    changed = [
        inputs(stack="prod"),
        inputs(epoch="e2"),
        inputs(files={**FILES, "saved_model.pb": "h3"}),
        inputs(top_k=6),
    ]
    assert len({base, *(step.fingerprint() for step in changed)}) == 5
    assert not has_changes(base, inputs()) and has_changes(None, inputs())
    assert has_changes(base, inputs(epoch="e2"))


def test_the_fingerprint_of_the_same_inputs_is_the_same_in_every_version() -> None:
    # Each deployed stack keeps this fingerprint in its Pulumi state: spelling it any other
    # way would run every stack's CREATE MODEL and full ML.PREDICT again on its next `up`.
    step = StepInputs(
        stack="dev",
        project="p",
        location="US",
        predictions_table_id="p.d.t",
        labels_table_id="p.d.l",
        templates=(RenderedTemplate("labels.sql", "SELECT 1"), RenderedTemplate("p.sql", "S 2")),
        cleanup=RenderedTemplate("cleanup.sql", "SELECT 3"),
        model_files={"variables/v.index": "h2", "saved_model.pb": "h1"},
        epoch="e1",
    )
    # sha256 of the sorted-key JSON of stack, [[name, sql], ...], sorted model files, epoch
    assert step.fingerprint() == (
        "f741486f34efe1c8cd2d41d713c24aee5655b7cb009662fa445b1aded59a0449"
    )


def test_create_runs_every_template_in_order_under_the_fingerprint() -> None:
    step = inputs()
    executor = Recorder(rows={"labels.sql": 1001, "predict.sql": 7})
    result = create(step, executor)
    assert executor.calls == [(t.name, step.fingerprint()) for t in step.templates]
    assert [name for name, _ in executor.calls] == ["labels.sql", "create_model.sql", "predict.sql"]
    assert result == StepResult(
        step.fingerprint(), step.predictions_table_id, step.labels_table_id, 1008
    )
    assert result.to_props() == {
        "fingerprint": step.fingerprint(),
        "predictions_table_id": step.predictions_table_id,
        "labels_table_id": step.labels_table_id,
        "predictions_rows": 1008,
    }


def test_delete_runs_the_cleanup_under_its_own_key() -> None:
    step = inputs()
    executor = Recorder()
    delete(step, executor)
    assert executor.calls == [("cleanup.sql", f"delete:{step.fingerprint()}")]


def test_delete_of_a_dataset_already_gone_succeeds() -> None:
    delete(inputs(), Recorder(fail=BigQueryError("Not found: Dataset", "notFound")))


@pytest.mark.parametrize(
    "error", [BigQueryError("Access Denied", "accessDenied"), SqlRunnerError("no credentials")]
)
def test_delete_reports_any_other_failure(error: SqlRunnerError) -> None:
    with pytest.raises(SqlRunnerError, match=str(error)):
        delete(inputs(), Recorder(fail=error))


def test_the_bigquery_executor_runs_each_statement_as_a_job_in_the_stack_location(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    step = inputs(stack="prod")
    predict = step.templates[2]
    with FakeBigQueryServer() as server:
        monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", server.endpoint)
        server.fake.outcome()
        server.fake.outcome(rows=3)
        server.fake.outcome(rows=7)
        executor = bigquery_executor(step, permission_grace_s=0.0, timeout_s=30.0)
        assert executor.run(predict, run_key="key-1") == 7  # the INSERT's rows only
        jobs = [b for b in server.fake.inserts() if not b["configuration"].get("dryRun")]
    assert [j["configuration"]["query"]["query"] for j in jobs] == predict.statements
    assert {j["jobReference"]["location"] for j in jobs} == {"EU"}
    assert {j["jobReference"]["projectId"] for j in jobs} == {"my-project"}
    assert {j["configuration"]["labels"]["stack"] for j in jobs} == {"prod"}
    first = jobs[0]["configuration"]["query"]["query"]
    assert jobs[0]["jobReference"]["jobId"] == job_id("prod", "predict.sql", 1, first, "key-1", 0)


def test_the_bigquery_executor_keeps_its_grace_and_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    step = inputs()
    with FakeBigQueryServer() as server:
        monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", server.endpoint)
        server.fake.fail("dry_run", 403, "accessDenied", "Access Denied: not yet granted")
        patient = bigquery_executor(step, permission_grace_s=60.0, timeout_s=30.0)
        assert patient.run(step.templates[1], run_key="grace") == 0
        server.fake.fail("dry_run", 403, "accessDenied", "Access Denied: not yet granted")
        with pytest.raises(SqlRunnerError, match="Access Denied"):
            bigquery_executor(step, permission_grace_s=0.0).run(step.templates[1], run_key="none")
        server.fake.outcome(polls=10_000)
        hasty = bigquery_executor(step, timeout_s=0.3)
        with pytest.raises(SqlRunnerError, match=r"did not finish within 0\.3s and was cancelled"):
            hasty.run(step.templates[1], run_key="slow")


def test_pulumi_up_retries_permission_errors_for_the_documented_300_s(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The provider takes the defaults; docs/troubleshooting.md promises 300 s from the start.
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", "http://127.0.0.1:9")
    policy = bigquery_executor(inputs()).policy
    assert policy is not None and policy.permission_grace_s == 300.0
