"""Which BigQuery failures are worth retrying, and how long to back off.

Transient: HTTP 5xx and rate limits (429, or 403 with reason rateLimitExceeded), and the
job-level reasons BigQuery documents as retryable. Permission errors (403 accessDenied)
are retried only within a grace period after the runner starts: right after `pulumi up`,
IAM grants take minutes to propagate.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

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


def error_reason(exc: exceptions.GoogleAPICallError) -> str:
    errors = exc.errors or []
    first = errors[0] if errors else {}
    return str(first.get("reason", "")) if isinstance(first, dict) else ""


def is_transient_api_error(exc: Exception) -> bool:
    if isinstance(exc, (exceptions.ServerError, exceptions.TooManyRequests)):
        return True
    if isinstance(exc, exceptions.GoogleAPICallError):
        return error_reason(exc) in TRANSIENT_REASONS
    return isinstance(
        exc, (requests.RequestException, TransportError, ConnectionError, TimeoutError)
    )


def is_permission_api_error(exc: Exception) -> bool:
    return isinstance(exc, exceptions.Forbidden) and not is_transient_api_error(exc)


@dataclass
class RetryPolicy:
    """Bounded exponential backoff: `max_attempts` tries, waits from `initial_s` to `maximum_s`."""

    max_attempts: int = 6
    initial_s: float = 1.0
    maximum_s: float = 30.0
    multiplier: float = 2.0
    permission_grace_s: float = 0.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    started_at: float = field(default=-1.0)

    def __post_init__(self) -> None:
        if self.started_at < 0:
            self.started_at = self.clock()

    def in_permission_grace(self) -> bool:
        return self.clock() - self.started_at < self.permission_grace_s

    def should_retry_reason(self, reason: str) -> bool:
        """For a job that finished with BigQuery's errorResult reason."""
        if reason in TRANSIENT_REASONS:
            return True
        return reason in PERMISSION_REASONS and self.in_permission_grace()

    def should_retry(self, exc: Exception) -> bool:
        """For an HTTP call that raised."""
        if is_transient_api_error(exc):
            return True
        return is_permission_api_error(exc) and self.in_permission_grace()

    def delays(self) -> Iterator[float]:
        """The waits between attempts: `max_attempts - 1` of them."""
        delay = self.initial_s
        for _ in range(self.max_attempts - 1):
            yield delay
            delay = min(delay * self.multiplier, self.maximum_s)
