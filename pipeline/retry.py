"""Which BigQuery failures are worth retrying, and for how long: retries are bounded by time.

Transient failures (HTTP 5xx, rate limits, the job-level reasons BigQuery documents as
retryable, the network failing) are retried until `transient_budget_s` has passed since
that call first failed. Two failures mean the deployment is still settling rather than
wrong, and are retried until `permission_grace_s` has passed since the runner started:
permission errors (IAM grants take minutes to propagate) and "not available for
on-demand usage" (a new QUERY assignment takes a while to take effect, and until then
the project's jobs run on-demand, where imported models over object tables do not run).
Anything else fails at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

import requests
from google.api_core import exceptions
from google.auth.exceptions import TransportError

# What an HTTP call to BigQuery can raise: its answers, and the network failing under it.
NETWORK_ERRORS = (
    exceptions.GoogleAPICallError,
    requests.RequestException,
    TransportError,
    ConnectionError,
    TimeoutError,
)

TRANSIENT_REASONS = frozenset(
    {
        "backendError",
        "internalError",
        "rateLimitExceeded",
        "jobBackendError",
        "jobRateLimitExceeded",
    }
)
PERMISSION_REASONS = frozenset({"accessDenied", "forbidden"})
# BigQuery refuses work that needs a reservation with "... is not available for on-demand
# usage ..."; while a new assignment is not yet in effect, the project's jobs are still
# on-demand. Matched on the text alone: the reason code that comes with it is not documented.
ON_DEMAND_MARKER = "on-demand"


class Failure(Enum):
    """How a failure is treated: retried for a while, retried within the grace, or final."""

    TRANSIENT = "transient"
    SETTLING = "settling"
    FINAL = "final"


def error_reason(exc: exceptions.GoogleAPICallError) -> str:
    errors = exc.errors or []
    first = errors[0] if errors else {}
    return str(first.get("reason", "")) if isinstance(first, dict) else ""


def error_message(exc: exceptions.GoogleAPICallError) -> str:
    """BigQuery's own message (the client decorates `exc.message` with the URL)."""
    errors = exc.errors or []
    first = errors[0] if errors else {}
    message = first.get("message") if isinstance(first, dict) else None
    return str(message or exc.message)


def is_transient_api_error(exc: Exception) -> bool:
    if isinstance(exc, (exceptions.ServerError, exceptions.TooManyRequests)):
        return True
    if isinstance(exc, exceptions.GoogleAPICallError):
        return error_reason(exc) in TRANSIENT_REASONS
    return isinstance(
        exc, (requests.RequestException, TransportError, ConnectionError, TimeoutError)
    )


def is_on_demand_refusal(message: str) -> bool:
    """True for BigQuery refusing a job because the project runs on-demand."""
    return ON_DEMAND_MARKER in message.lower()


def classify_job_error(reason: str, message: str) -> Failure:
    """For a job that finished with BigQuery's errorResult `reason` and `message`."""
    if reason in TRANSIENT_REASONS:
        return Failure.TRANSIENT
    if reason in PERMISSION_REASONS or is_on_demand_refusal(message):
        return Failure.SETTLING
    return Failure.FINAL


def classify_exception(exc: Exception) -> Failure:
    """For an HTTP call to BigQuery that raised."""
    if is_transient_api_error(exc):
        return Failure.TRANSIENT
    if isinstance(exc, exceptions.Forbidden):
        return Failure.SETTLING
    if isinstance(exc, exceptions.GoogleAPICallError):
        return classify_job_error(error_reason(exc), error_message(exc))
    return Failure.FINAL


@dataclass
class RetryPolicy:
    """Exponential backoff from `initial_s` to `maximum_s`, bounded by time, not by attempts.

    A transient failure is retried until `transient_budget_s` after the call first failed;
    a settling failure (permission, on-demand) until `permission_grace_s` after
    `started_at`. The last wait is shortened so that the last attempt falls on the bound.
    """

    initial_s: float = 1.0
    maximum_s: float = 30.0
    multiplier: float = 2.0
    transient_budget_s: float = 120.0
    permission_grace_s: float = 0.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    started_at: float = field(default=-1.0)

    def __post_init__(self) -> None:
        if self.started_at < 0:
            self.started_at = self.clock()

    def backoff(self) -> Backoff:
        """The waits of one call (or one statement's jobs), from its first failure on."""
        return Backoff(self)


class Backoff:
    """The next wait after each failure of one call, or None once its bound has passed."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy
        self._next_s = policy.initial_s
        self._first_failure_at: float | None = None

    def delay_after(self, failure: Failure) -> float | None:
        policy = self._policy
        now = policy.clock()
        if self._first_failure_at is None:
            self._first_failure_at = now
        if failure is Failure.TRANSIENT:
            deadline = self._first_failure_at + policy.transient_budget_s
        elif failure is Failure.SETTLING:
            deadline = policy.started_at + policy.permission_grace_s
        else:
            return None
        remaining = deadline - now
        if remaining <= 0:
            return None
        delay = min(self._next_s, remaining)
        self._next_s = min(self._next_s * policy.multiplier, policy.maximum_s)
        return delay
