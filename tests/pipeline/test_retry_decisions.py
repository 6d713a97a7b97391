"""Which failures the runner retries, how long it waits, and the permission grace."""

from __future__ import annotations

import pytest
import requests
from google.api_core import exceptions
from google.auth.exceptions import TransportError

from pipeline.retry import (
    RetryPolicy,
    error_reason,
    is_permission_api_error,
    is_transient_api_error,
)


def api_error(cls: type[exceptions.GoogleAPICallError], reason: object) -> Exception:
    return cls("message", errors=[{"reason": reason, "message": "m"}])


def test_error_reason_reads_the_first_error() -> None:
    error = exceptions.BadRequest("m", errors=[{"reason": "invalid"}, {"reason": "other"}])
    assert error_reason(error) == "invalid"


@pytest.mark.parametrize("errors", [[], ["not a dict"], [{"message": "no reason"}]])
def test_error_reason_without_a_reason_is_empty(errors: list[object]) -> None:
    assert error_reason(exceptions.BadRequest("m", errors=errors)) == ""


@pytest.mark.parametrize(
    "error",
    [
        exceptions.InternalServerError("m"),
        exceptions.ServiceUnavailable("m"),
        exceptions.TooManyRequests("m"),
        api_error(exceptions.Forbidden, "rateLimitExceeded"),
        api_error(exceptions.BadRequest, "backendError"),
        api_error(exceptions.BadRequest, "jobRateLimitExceeded"),
        requests.ConnectionError("reset"),
        TransportError("dns"),
        ConnectionError("reset"),
        TimeoutError("slow"),
    ],
)
def test_transient_failures(error: Exception) -> None:
    assert is_transient_api_error(error)
    assert not is_permission_api_error(error)
    assert RetryPolicy().should_retry(error)


@pytest.mark.parametrize(
    "error",
    [
        api_error(exceptions.BadRequest, "invalidQuery"),
        api_error(exceptions.NotFound, "notFound"),
        api_error(exceptions.Conflict, "duplicate"),
        ValueError("a bug"),
    ],
)
def test_failures_that_are_never_retried(error: Exception) -> None:
    assert not is_transient_api_error(error)
    assert not is_permission_api_error(error)
    assert not RetryPolicy(permission_grace_s=1e9).should_retry(error)


def test_access_denied_is_retried_only_within_the_grace() -> None:
    now = [100.0]
    policy = RetryPolicy(permission_grace_s=300.0, clock=lambda: now[0])
    denied = api_error(exceptions.Forbidden, "accessDenied")
    assert is_permission_api_error(denied) and not is_transient_api_error(denied)
    assert policy.should_retry(denied) and policy.should_retry_reason("accessDenied")
    now[0] = 100.0 + 299.9
    assert policy.should_retry(denied)
    now[0] = 100.0 + 300.0
    assert not policy.should_retry(denied)
    assert not policy.should_retry_reason("accessDenied")
    assert not policy.should_retry_reason("forbidden")
    assert policy.should_retry_reason("backendError")  # transient: always


def test_without_a_grace_permission_errors_fail_at_once() -> None:
    policy = RetryPolicy()
    assert not policy.should_retry(api_error(exceptions.Forbidden, "accessDenied"))
    assert not policy.should_retry_reason("accessDenied")
    assert not policy.should_retry_reason("invalidQuery")
    assert policy.should_retry_reason("internalError")


def test_delays_double_up_to_the_maximum() -> None:
    policy = RetryPolicy(max_attempts=7, initial_s=1.0, maximum_s=10.0, multiplier=3.0)
    assert list(policy.delays()) == [1.0, 3.0, 9.0, 10.0, 10.0, 10.0]
    assert list(RetryPolicy().delays()) == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert list(RetryPolicy(max_attempts=1).delays()) == []


def test_the_grace_starts_when_the_policy_is_made() -> None:
    policy = RetryPolicy(permission_grace_s=10.0, clock=lambda: 50.0)
    assert policy.started_at == 50.0
    for given in (0.0, 0.5, 1.0):  # a start the caller gives is kept, zero included
        assert RetryPolicy(clock=lambda: 5.0, started_at=given).started_at == given
