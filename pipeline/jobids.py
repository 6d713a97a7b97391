"""BigQuery job ids and labels derived from the stack and the statement.

The same stack, template, statement and run key always give the same job id, so a step
that is retried attaches to the job it already started (jobs.insert answers 409) instead of
running the statement a second time.
"""

from __future__ import annotations

import hashlib
import re

_NOT_ID_CHAR = re.compile(r"[^A-Za-z0-9_-]")
_NOT_LABEL_CHAR = re.compile(r"[^a-z0-9_-]")


def job_id(stack: str, template: str, index: int, sql: str, run_key: str, attempt: int) -> str:
    """`sqlrunner_<stack>_<template>_<n>_<digest>_<attempt>`; at most ~120 characters."""
    digest = hashlib.sha256(
        "\0".join((stack, template, str(index), sql, run_key)).encode("utf-8")
    ).hexdigest()[:20]
    stem = template.removesuffix(".sql")
    readable = _NOT_ID_CHAR.sub("_", f"{stack}_{stem}")[:80]
    return f"sqlrunner_{readable}_{index}_{digest}_{attempt}"


def label_value(value: str) -> str:
    """A BigQuery label value: lowercase letters, digits, `_` and `-`, at most 63 characters."""
    return _NOT_LABEL_CHAR.sub("_", value.lower())[:63]


def job_labels(stack: str, template: str) -> dict[str, str]:
    return {
        "stack": label_value(stack),
        "template": label_value(template.removesuffix(".sql")),
        "tool": "sqlrunner",
    }
