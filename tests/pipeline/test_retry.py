"""Retries bounded by time: what BigQuery's own error texts are classed as, and for how long.

The error texts are BigQuery's, copied from public reports:
- on-demand refusal: "Training Matrix Factorization models is not available for on-demand
  usage. ..." (github.com/kristeligt-dagblad/dbt_ml issue 21; the same error right after
  creating a reservation went away after a 120 s wait in
  github.com/GoogleCloudPlatform/bigquery-oreilly-book pull request 6);
- object-table permission: "Access Denied: BigQuery BigQuery: Permission denied while
  globbing file pattern. ... does not have storage.objects.list access to the Google Cloud
  Storage bucket. ..." (the DataTalksClub data-engineering-zoomcamp week 4 notes);
- STANDARD edition: "Using BQML related functionalities is disallowed in STANDARD edition."
  (a public BigQuery ML walkthrough's notes; a setting, never fixed by waiting).
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from google.api_core import exceptions
from rich.console import Console

from pipeline import post_deploy
from pipeline.bigquery import BigQueryRunner, RunSettings
from pipeline.errors import SqlRunnerError
from pipeline.retry import (
    Failure,
    RetryPolicy,
    classify_exception,
    classify_job_error,
)
from tests.support.fake_bigquery import FakeBigQueryServer

ON_DEMAND = (
    "Training Matrix Factorization models is not available for on-demand usage. To train, "
    "please set up a reservation (flex or regular) based on instructions in BigQuery public docs."
)
GLOBBING_DENIED = (
    "Access Denied: BigQuery BigQuery: Permission denied while globbing file pattern. "
    "bqcx-123-abcd@gcp-sa-bigquery-condel.iam.gserviceaccount.com does not have "
    "storage.objects.list access to the Google Cloud Storage bucket. Permission "
    "'storage.objects.list' denied on resource (or it may not exist)."
)
STANDARD_EDITION = "Using BQML related functionalities is disallowed in STANDARD edition."
SYNTAX = "Syntax error: Unexpected keyword FROM at [1:8]"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(
    ("reason", "message", "failure"),
    [
        ("invalidQuery", ON_DEMAND, Failure.SETTLING),
        ("invalid", ON_DEMAND, Failure.SETTLING),
        ("", ON_DEMAND.upper(), Failure.SETTLING),
        ("accessDenied", GLOBBING_DENIED, Failure.SETTLING),
        ("backendError", "Backend error", Failure.TRANSIENT),
        ("jobRateLimitExceeded", "Exceeded rate limits", Failure.TRANSIENT),
        ("invalidQuery", STANDARD_EDITION, Failure.FINAL),
        ("invalidQuery", SYNTAX, Failure.FINAL),
        ("notFound", "Not found: Dataset p:ds was not found in location US", Failure.FINAL),
    ],
)
def test_job_errors_are_classed_by_reason_and_bigquery_text(
    reason: str, message: str, failure: Failure
) -> None:
    assert classify_job_error(reason, message) is failure


def api_error(cls: type[exceptions.GoogleAPICallError], reason: str, message: str) -> Exception:
    return cls(
        f"POST https://bigquery/...: {message}", errors=[{"reason": reason, "message": message}]
    )


@pytest.mark.parametrize(
    ("exc", "failure"),
    [
        (api_error(exceptions.BadRequest, "invalidQuery", ON_DEMAND), Failure.SETTLING),
        (api_error(exceptions.Forbidden, "accessDenied", GLOBBING_DENIED), Failure.SETTLING),
        (api_error(exceptions.Forbidden, "rateLimitExceeded", "Exceeded"), Failure.TRANSIENT),
        (api_error(exceptions.InternalServerError, "backendError", "x"), Failure.TRANSIENT),
        (api_error(exceptions.BadRequest, "invalidQuery", SYNTAX), Failure.FINAL),
        (ConnectionError("refused"), Failure.TRANSIENT),
        (ValueError("a bug"), Failure.FINAL),
    ],
)
def test_raised_errors_are_classed(exc: Exception, failure: Failure) -> None:
    assert classify_exception(exc) is failure


def test_settling_failures_are_retried_for_the_whole_grace_not_six_attempts() -> None:
    clock = FakeClock()
    policy = RetryPolicy(permission_grace_s=300, clock=clock, sleep=clock.sleep)
    backoff = policy.backoff()
    while (delay := backoff.delay_after(Failure.SETTLING)) is not None:
        clock.sleep(delay)
    assert clock.now == 300
    assert clock.slept[:6] == [1, 2, 4, 8, 16, 30]
    assert max(clock.slept) == 30
    assert len(clock.slept) > 6


def test_the_grace_counts_from_the_policy_start_not_from_the_failure() -> None:
    clock = FakeClock()
    policy = RetryPolicy(permission_grace_s=60, clock=clock, sleep=clock.sleep)
    clock.now = 59.5
    backoff = policy.backoff()
    assert backoff.delay_after(Failure.SETTLING) == 0.5
    clock.now = 60
    assert backoff.delay_after(Failure.SETTLING) is None


def test_transient_budget_counts_from_the_first_failure() -> None:
    clock = FakeClock()
    policy = RetryPolicy(transient_budget_s=10, maximum_s=4, clock=clock, sleep=clock.sleep)
    clock.now = 1000
    backoff = policy.backoff()
    while (delay := backoff.delay_after(Failure.TRANSIENT)) is not None:
        clock.sleep(delay)
    assert clock.slept == [1, 2, 4, 3]
    assert clock.now == 1010


def test_final_failures_are_never_retried() -> None:
    policy = RetryPolicy(permission_grace_s=300, transient_budget_s=300)
    assert policy.backoff().delay_after(Failure.FINAL) is None


def test_no_grace_means_settling_failures_fail_at_once() -> None:
    assert RetryPolicy().backoff().delay_after(Failure.SETTLING) is None


@pytest.fixture
def server() -> Iterator[FakeBigQueryServer]:
    with FakeBigQueryServer() as running:
        yield running


def runner(server: FakeBigQueryServer, policy: RetryPolicy) -> BigQueryRunner:
    settings = RunSettings(stack="dev", location="US", run_key="k", poll_s=0.001)
    return BigQueryRunner(server.client(), settings, policy, Console(file=io.StringIO()))


def test_predict_refused_on_demand_runs_again_once_the_assignment_is_in_effect(
    server: FakeBigQueryServer,
) -> None:
    clock = FakeClock()
    for _ in range(3):
        server.fake.outcome(error=("invalidQuery", ON_DEMAND))
    server.fake.outcome(rows=7)
    policy = RetryPolicy(permission_grace_s=300, clock=clock, sleep=clock.sleep)
    result = runner(server, policy).run_statement("predict.sql", 1, "INSERT INTO ds.p SELECT 1")
    assert result.rows_affected == 7
    assert len(server.fake.jobs) == 4


def test_an_on_demand_dry_run_refusal_is_retried_within_the_grace(
    server: FakeBigQueryServer,
) -> None:
    clock = FakeClock()
    server.fake.fail("dry_run", 400, "invalidQuery", ON_DEMAND)
    policy = RetryPolicy(permission_grace_s=300, clock=clock, sleep=clock.sleep)
    result = runner(server, policy).run_statement("predict.sql", 1, "SELECT 1")
    assert result.job_id is not None


def test_on_demand_after_the_grace_fails_with_bigquery_text(server: FakeBigQueryServer) -> None:
    clock = FakeClock()
    for _ in range(200):
        server.fake.outcome(error=("invalidQuery", ON_DEMAND))
    policy = RetryPolicy(permission_grace_s=120, clock=clock, sleep=clock.sleep)
    with pytest.raises(SqlRunnerError, match="not available for on-demand usage"):
        runner(server, policy).run_statement("predict.sql", 1, "SELECT 1")
    assert clock.now >= 120
    assert 6 < len(server.fake.jobs) < 200


def test_the_post_deploy_executor_keeps_retrying_for_its_grace(
    server: FakeBigQueryServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", server.endpoint)
    outputs = {
        "project": "test-project",
        "location": "US",
        "model_files_uri": "gs://test-bucket/resnet_50/*",
        "model_type": "TENSORFLOW",
        "object_table_id": "test-project.ds.images",
        "model_id": "test-project.ds.resnet",
        "predictions_table_id": "test-project.ds.predictions",
        "top_k": 5,
    }
    inputs = post_deploy.StepInputs.render("dev", outputs, {"saved_model.pb": "0" * 64})
    executor = post_deploy.bigquery_executor(inputs, permission_grace_s=300)
    policy = executor.policy
    assert policy is not None
    assert policy.permission_grace_s == 300
    clock = FakeClock()
    policy.clock, policy.sleep, policy.started_at = clock, clock.sleep, 0.0
    # 40 s of GLOBBING_DENIED: more than the old six attempts (31 s) ever waited.
    for _ in range(7):
        server.fake.outcome(error=("accessDenied", GLOBBING_DENIED))
    post_deploy.create(inputs, executor)
    assert clock.now > 31
