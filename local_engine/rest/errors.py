"""Errors in BigQuery's JSON shape, and which reason an engine error is.

`{"error": {"code", "message", "errors": [{"reason", "message"}], "status"}}` is what
google-api-core turns into BadRequest, NotFound, Conflict, ... by HTTP status.
"""

from __future__ import annotations

import re
from typing import Any

from bigquery_facts import ERROR_REASON_STATUS, HTTP_STATUS_TEXT

# A missing table, dataset or model (not a missing column, which is `invalidQuery`): the
# engine's "model ds.m not found" and DuckDB's "Catalog Error: Table with name t does not exist".
_MISSING = re.compile(
    r"\b(model|dataset|table|schema|connection|view) \S+ not found"
    r"|catalog error: (table|schema|view) with name \S+ does not exist"
)


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
    if _MISSING.search(text):
        return "notFound"
    return "invalidQuery"


def not_found(what: str) -> ApiError:
    return ApiError("notFound", f"Not found: {what}")
