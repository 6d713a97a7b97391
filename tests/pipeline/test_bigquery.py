"""The BigQuery runner with the real google-cloud-bigquery client against a local fake server."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from rich.console import Console

from pipeline import post_deploy
from pipeline.bigquery import BigQueryRunner, RunSettings, results_rows_written
from pipeline.errors import SqlRunnerError
from pipeline.jobids import job_id, job_labels
from pipeline.retry import RetryPolicy
from pipeline.templates import RenderedTemplate
from tests.support.fake_bigquery import FakeBigQueryServer

SCRIPT = RenderedTemplate(
    "predict.sql",
    "CREATE TABLE IF NOT EXISTS ds.p (uri STRING);\nINSERT INTO ds.p (uri) SELECT 'gs://b/x.jpg';",
)


@pytest.fixture
def server() -> Iterator[FakeBigQueryServer]:
    with FakeBigQueryServer() as running:
        yield running


class Harness:
    def __init__(self, server: FakeBigQueryServer) -> None:
        self.server = server
        self.fake = server.fake
        self.log = io.StringIO()
        self.client = server.client()

    def runner(self, policy: RetryPolicy | None = None, **settings: Any) -> BigQueryRunner:
        values: dict[str, Any] = {"stack": "dev", "location": "US", "run_key": "key-1"}
        values.update(poll_s=0.001)
        values.update(settings)
        return BigQueryRunner(
            self.client,
            RunSettings(**values),
            policy or RetryPolicy(initial_s=0.001, maximum_s=0.01),
            Console(file=self.log, width=400),
        )

    def real_inserts(self) -> list[dict[str, Any]]:
        return [b for b in self.fake.inserts() if not b["configuration"].get("dryRun")]

    def dry_inserts(self) -> list[dict[str, Any]]:
        return [b for b in self.fake.inserts() if b["configuration"].get("dryRun")]


@pytest.fixture
def bq(server: FakeBigQueryServer) -> Harness:
    return Harness(server)


def expected_id(sql: str, index: int, attempt: int = 0, run_key: str = "key-1") -> str:
    return job_id("dev", "predict.sql", index, sql, run_key, attempt)


def test_each_statement_is_dry_run_then_run_with_labels_location_and_job_id(bq: Harness) -> None:
    bq.fake.outcome()
    bq.fake.outcome(rows=1)
    results = bq.runner(maximum_bytes_billed=10**9).run_template(SCRIPT)

    kinds = [bool(b["configuration"].get("dryRun")) for b in bq.fake.inserts()]
    assert kinds == [True, False, True, False]
    first, second = SCRIPT.statements
    assert [b["jobReference"]["jobId"] for b in bq.real_inserts()] == [
        expected_id(first, 1),
        expected_id(second, 2),
    ]
    for body in bq.fake.inserts():
        assert body["jobReference"]["location"] == "US"
        assert body["configuration"]["labels"] == {
            "stack": "dev",
            "template": "predict",
            "tool": "sqlrunner",
        }
    for body in bq.real_inserts():
        assert body["configuration"]["query"]["maximumBytesBilled"] == "1000000000"
        assert body["configuration"]["query"]["useLegacySql"] is False
    assert [(r.statement_type, r.rows_affected) for r in results] == [
        ("CREATE_TABLE", None),
        ("INSERT", 1),
    ]
    assert results_rows_written(results) == 1
    log = bq.log.getvalue()
    assert "predict.sql statement 1: CREATE_TABLE, 2.0 kB to process (dry run)" in log
    assert f"predict.sql statement 2: done in job {expected_id(second, 2)}, 1 rows" in log


def test_dry_run_only_starts_no_job(bq: Harness) -> None:
    results = bq.runner(dry_run_only=True).run_template(SCRIPT)
    assert len(bq.dry_inserts()) == 2
    assert bq.real_inserts() == [] and bq.fake.jobs == {}
    assert [(r.job_id, r.bytes_processed) for r in results] == [(None, 2048), (None, 2048)]


def test_job_ids_follow_stack_template_statement_and_run_key() -> None:
    base = job_id("dev", "predict.sql", 1, "SELECT 1", "k", 0)
    assert base == job_id("dev", "predict.sql", 1, "SELECT 1", "k", 0)
    assert base.startswith("sqlrunner_dev_predict_1_") and base.endswith("_0")
    others = {
        job_id("prod", "predict.sql", 1, "SELECT 1", "k", 0),
        job_id("dev", "labels.sql", 1, "SELECT 1", "k", 0),
        job_id("dev", "predict.sql", 2, "SELECT 1", "k", 0),
        job_id("dev", "predict.sql", 1, "SELECT 2", "k", 0),
        job_id("dev", "predict.sql", 1, "SELECT 1", "other", 0),
        job_id("dev", "predict.sql", 1, "SELECT 1", "k", 1),
    }
    assert base not in others and len(others) == 6
    assert job_id("my stack/x", "t.sql", 1, "", "", 0).startswith("sqlrunner_my_stack_x_t_1_")
    assert job_labels("Dev.Stack", "create_model.sql") == {
        "stack": "dev_stack",
        "template": "create_model",
        "tool": "sqlrunner",
    }


def test_waits_until_the_job_is_done(bq: Harness) -> None:
    bq.fake.outcome(polls=4, rows=0)
    bq.runner().run_statement("predict.sql", 1, "DELETE FROM ds.p WHERE TRUE")
    (job,) = bq.fake.jobs.values()
    gets = [p for m, p, _ in bq.fake.requests if m == "GET" and p.endswith(job.job_id)]
    assert len(gets) == 4
    assert job.done


def test_looks_at_a_running_job_soon_then_less_and_less_often(bq: Harness) -> None:
    bq.fake.outcome(polls=7, rows=0)
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    policy = RetryPolicy(clock=lambda: now[0], sleep=sleep)
    runner = bq.runner(policy, poll_s=2.0, first_poll_s=0.1)
    runner.run_statement("predict.sql", 1, "DELETE FROM ds.p WHERE TRUE")
    assert slept == pytest.approx([0.1, 0.2, 0.4, 0.8, 1.6, 2.0])


def test_the_defaults_look_after_a_tenth_of_a_second_and_at_most_every_two() -> None:
    settings = RunSettings(stack="dev", location="US", run_key="k")
    assert (settings.first_poll_s, settings.poll_s) == (0.1, 2.0)


def test_timeout_cancels_the_job_and_names_it(bq: Harness) -> None:
    bq.fake.outcome(polls=10**6)
    jid = expected_id("SELECT 1", 1)
    with pytest.raises(SqlRunnerError) as raised:
        bq.runner(timeout_s=0.2, poll_s=0.02).run_statement("predict.sql", 1, "SELECT 1")
    assert str(raised.value) == (
        f"predict.sql statement 1: job {jid} did not finish within 0.2s and was cancelled"
    )
    assert bq.fake.jobs[jid].cancelled
    assert ("POST", f"/bigquery/v2/projects/test-project/jobs/{jid}/cancel") in [
        (m, p) for m, p, _ in bq.fake.requests
    ]


def test_retries_a_500_on_insert_with_the_same_job_id(bq: Harness) -> None:
    bq.fake.fail("insert", 500, "backendError", "Backend error. Please try again.")
    result = bq.runner().run_statement("predict.sql", 1, "SELECT 1")
    ids = [b["jobReference"]["jobId"] for b in bq.real_inserts()]
    assert ids == [expected_id("SELECT 1", 1)] * 2
    assert result.job_id == ids[0]
    assert "backendError: Backend error. Please try again.; retrying in" in bq.log.getvalue()


def test_a_500_after_the_job_was_made_attaches_instead_of_running_twice(bq: Harness) -> None:
    bq.fake.fail("insert", 503, "backendError", "Service unavailable", after_create=True)
    bq.fake.outcome(rows=3)
    result = bq.runner().run_statement("predict.sql", 2, "INSERT INTO ds.p (uri) SELECT 'x'")
    assert len(bq.fake.jobs) == 1
    assert result.rows_affected == 3
    assert "already exists; attaching to it" in bq.log.getvalue()


def test_a_retried_step_reuses_its_job_ids_and_runs_nothing_twice(bq: Harness) -> None:
    bq.fake.outcome()
    bq.fake.outcome(rows=1)
    first = bq.runner().run_template(SCRIPT)
    second = bq.runner().run_template(SCRIPT)
    assert len(bq.fake.jobs) == 2
    assert [r.job_id for r in first] == [r.job_id for r in second]
    assert second[1].rows_affected == 1
    third = bq.runner(run_key="key-2").run_template(SCRIPT)
    assert len(bq.fake.jobs) == 4
    assert {r.job_id for r in third}.isdisjoint({r.job_id for r in first})


def test_retries_a_403_while_iam_propagates_then_succeeds(bq: Harness) -> None:
    for _ in range(2):
        bq.fake.fail("dry_run", 403, "accessDenied", "Access Denied: BigQuery: Permission denied")
    policy = RetryPolicy(initial_s=0.001, maximum_s=0.01, permission_grace_s=300)
    result = bq.runner(policy).run_statement("create_model.sql", 1, "SELECT 1")
    assert result.job_id is not None
    assert len(bq.dry_inserts()) == 3
    assert bq.log.getvalue().count("accessDenied: Access Denied") == 2


def test_a_job_failing_with_access_denied_is_retried_as_a_new_job_during_grace(
    bq: Harness,
) -> None:
    bq.fake.outcome(error=("accessDenied", "Access Denied: File gs://b/m/saved_model.pb"))
    bq.fake.outcome()
    policy = RetryPolicy(initial_s=0.001, maximum_s=0.01, permission_grace_s=300)
    result = bq.runner(policy).run_statement("create_model.sql", 1, "SELECT 1")
    assert result.job_id == job_id("dev", "create_model.sql", 1, "SELECT 1", "key-1", 1)
    assert len(bq.fake.jobs) == 2


def test_a_403_after_the_grace_period_is_not_retried(bq: Harness) -> None:
    now = [1000.0]
    policy = RetryPolicy(
        initial_s=0.001, permission_grace_s=60, clock=lambda: now[0], sleep=lambda _s: None
    )
    now[0] += 61
    bq.fake.fail("dry_run", 403, "accessDenied", "Access Denied: Dataset ds")
    with pytest.raises(SqlRunnerError) as raised:
        bq.runner(policy).run_statement("predict.sql", 1, "SELECT 1")
    assert str(raised.value) == (
        "predict.sql statement 1: dry run failed: accessDenied: Access Denied: Dataset ds"
    )
    assert len(bq.dry_inserts()) == 1


def test_a_rate_limit_403_is_transient(bq: Harness) -> None:
    bq.fake.fail("insert", 403, "rateLimitExceeded", "Exceeded rate limits")
    bq.runner().run_statement("predict.sql", 1, "SELECT 1")
    assert len(bq.real_inserts()) == 2


def test_a_real_error_is_not_retried_and_names_template_job_and_bigquery_error(
    bq: Harness,
) -> None:
    bq.fake.outcome(error=("invalidQuery", "Syntax error: Unexpected keyword FROM at [1:8]"))
    sql = "SELECT FROM x"
    with pytest.raises(SqlRunnerError) as raised:
        bq.runner().run_statement("predict.sql", 3, sql)
    assert str(raised.value) == (
        f"predict.sql statement 3 failed in job {expected_id(sql, 3)}: "
        "invalidQuery: Syntax error: Unexpected keyword FROM at [1:8]"
    )
    assert len(bq.fake.jobs) == 1


def test_a_transient_job_failure_runs_again_under_the_next_job_id(bq: Harness) -> None:
    bq.fake.outcome(error=("backendError", "Backend error"))
    bq.fake.outcome(rows=2)
    result = bq.runner().run_statement("predict.sql", 1, "SELECT 1")
    assert result.job_id == expected_id("SELECT 1", 1, attempt=1)
    assert result.rows_affected == 2


def test_a_failed_job_left_by_an_earlier_run_is_not_attached_to(bq: Harness) -> None:
    bq.fake.outcome(error=("invalidQuery", "Not found: Table ds.p"))
    with pytest.raises(SqlRunnerError):
        bq.runner().run_statement("predict.sql", 1, "SELECT 1")
    bq.fake.outcome(rows=5)
    result = bq.runner().run_statement("predict.sql", 1, "SELECT 1")
    assert result.job_id == expected_id("SELECT 1", 1, attempt=1)
    assert result.rows_affected == 5


def test_dry_run_errors_stop_before_any_job(bq: Harness) -> None:
    bq.fake.fail("dry_run", 400, "invalidQuery", "Unrecognized name: data at [3:5]")
    with pytest.raises(SqlRunnerError) as raised:
        bq.runner().run_template(SCRIPT)
    assert str(raised.value) == (
        "predict.sql statement 1: dry run failed: invalidQuery: Unrecognized name: data at [3:5]"
    )
    assert bq.fake.jobs == {}


def test_transient_retries_stop_at_their_time_budget(bq: Harness) -> None:
    for _ in range(10):
        bq.fake.fail("insert", 500, "backendError", "Backend error")
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    policy = RetryPolicy(
        initial_s=1, maximum_s=1, transient_budget_s=2.5, clock=lambda: now[0], sleep=sleep
    )
    jid = expected_id("SELECT 1", 1)
    with pytest.raises(SqlRunnerError) as raised:
        bq.runner(policy).run_statement("predict.sql", 1, "SELECT 1")
    assert str(raised.value) == (
        f"predict.sql statement 1: starting job {jid} failed: backendError: Backend error"
    )
    # Tries at 0, 1, 2 and 2.5 s (the last wait shortened to the budget), then none.
    assert len(bq.real_inserts()) == 4
    assert now[0] == 2.5


def test_a_network_failure_is_retried_then_named(bq: Harness) -> None:
    bq.server.__exit__()  # nothing listens on the port any more
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    policy = RetryPolicy(initial_s=0.5, transient_budget_s=1.5, clock=lambda: now[0], sleep=sleep)
    with pytest.raises(SqlRunnerError) as raised:
        bq.runner(policy).run_statement("predict.sql", 1, "SELECT 1")
    assert str(raised.value).startswith("predict.sql statement 1: dry run failed: ")
    assert "Connection refused" in str(raised.value)
    assert slept == [0.5, 1.0]


def bigquery_step(bq: Harness) -> tuple[post_deploy.StepInputs, post_deploy.BigQueryExecutor]:
    outputs = {
        "project": "test-project",
        "location": "US",
        "model_files_uri": "gs://test-bucket/resnet_50/*",
        "model_type": "TENSORFLOW",
        "object_table_id": "test-project.ds.images",
        "model_id": "test-project.ds.resnet",
        "predictions_table_id": "test-project.ds.predictions",
    }
    inputs = post_deploy.StepInputs.render("dev", outputs, {"saved_model.pb": "a" * 64})
    return inputs, post_deploy.BigQueryExecutor(lambda key: bq.runner(run_key=key))


def test_step_on_bigquery_reports_rows_written_by_the_insert(bq: Harness) -> None:
    inputs, executor = bigquery_step(bq)
    # labels.sql (a CTAS), create_model.sql, then predict.sql: CREATE TABLE, DELETE, INSERT.
    for rows in (1001, None, None, 2, 9):
        bq.fake.outcome(rows=rows)
    result = post_deploy.create(inputs, executor)
    assert result.predictions_rows == 9  # only what the INSERT wrote
    assert {j.job_id.split("_")[-1] for j in bq.fake.jobs.values()} == {"0"}
    assert len(bq.fake.jobs) == 5


def test_step_delete_of_an_already_deleted_dataset_does_not_block_destroy(bq: Harness) -> None:
    inputs, executor = bigquery_step(bq)
    bq.fake.fail("dry_run", 404, "notFound", "Not found: Dataset test-project:ds")
    post_deploy.delete(inputs, executor)
    assert bq.fake.jobs == {}
    bq.fake.fail("dry_run", 403, "accessDenied", "Access Denied: Dataset test-project:ds")
    with pytest.raises(SqlRunnerError, match="accessDenied: Access Denied"):
        post_deploy.delete(inputs, executor)
