"""Errors in BigQuery's JSON shape, and which reason an engine error is.

`{"error": {"code", "message", "errors": [{"reason", "message"}], "status"}}` is what
google-api-core turns into BadRequest, NotFound, Conflict, ... by HTTP status.
"""

from __future__ import annotations

from typing import Any

from bigquery_facts import ERROR_REASON_STATUS, HTTP_STATUS_TEXT


class ApiError(Exception):
    """An answer other than success: BigQuery's reason (`notFound`, ...) and its message."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    @property
    def status(self) -> int:
        return ERROR_REASON_STATUS.get(self.reason, 500)

    def error_result(self) -> dict[str, str]:
        """The job's `status.errorResult` (and each entry of `status.errors`)."""
        return {"reason": self.reason, "message": self.message}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.status,
                "message": self.message,
                "errors": [{**self.error_result(), "domain": "global"}],
                "status": HTTP_STATUS_TEXT.get(self.status, "UNKNOWN"),
            }
        }


def reason_of(message: str) -> str:
    """The reason BigQuery gives for a failed statement with this engine message."""
    text = message.lower()
    if "already exists" in text:
        return "duplicate"
    if "not found" in text or "does not exist" in text:
        return "notFound"
    return "invalidQuery"


def not_found(what: str) -> ApiError:
    return ApiError("notFound", f"Not found: {what}")
