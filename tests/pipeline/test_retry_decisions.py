"""Which raised failures the runner retries: the reason read from BigQuery's error, its class."""

from __future__ import annotations

import pytest
import requests
from google.api_core import exceptions
from google.auth.exceptions import TransportError

from pipeline.retry import Failure, classify_exception, error_reason, is_transient_api_error


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
    assert classify_exception(error) is Failure.TRANSIENT


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
    assert classify_exception(error) is Failure.FINAL
