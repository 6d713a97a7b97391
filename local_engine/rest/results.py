"""Pages of a finished job's rows, as jobs.getQueryResults and jobs.query answer them.

A page is at most `maxResults` rows (DEFAULT_PAGE_ROWS when not given); `pageToken` is
the next row's offset, opaque to clients, and absent on the last page.
"""

from __future__ import annotations

from typing import Any

from local_engine.rest.encoding import rows_json, schema_json
from local_engine.rest.errors import ApiError
from local_engine.rest.jobs import Job

DEFAULT_PAGE_ROWS = 1000


def page_bounds(
    total: int, max_results: str | None, page_token: str | None, start_index: str | None
) -> tuple[int, int]:
    """(first row, row count) of the page asked for; a bad number is `invalid`."""
    try:
        start = int(page_token) if page_token else int(start_index or 0)
        size = DEFAULT_PAGE_ROWS if max_results is None else int(max_results)
    except ValueError as exc:
        raise ApiError("invalid", f"Invalid page token or row count: {exc}") from exc
    if start < 0 or size < 0:
        raise ApiError("invalid", "pageToken, startIndex and maxResults cannot be negative")
    return min(start, total), size


def query_results(job: Job, params: dict[str, str], *, kind: str) -> dict[str, Any]:
    """The getQueryResults/query body for `job`; raises its error if it failed."""
    request = job.request
    body: dict[str, Any] = {
        "kind": kind,
        "jobReference": {
            "projectId": request.project,
            "jobId": job.job_id,
            "location": request.location,
        },
        "jobComplete": job.done.is_set(),
    }
    if not job.done.is_set():
        return body
    if job.error is not None:
        raise job.error
    body["cacheHit"] = False
    if job.plan is not None:
        body["totalBytesProcessed"] = str(job.plan.bytes_processed)
    rows = job.dml_rows
    if rows is not None:
        body["numDmlAffectedRows"] = str(rows)
    table = job.result.table if job.result else None
    if table is None:
        return body
    start, size = page_bounds(
        table.num_rows,
        params.get("maxResults"),
        params.get("pageToken"),
        params.get("startIndex"),
    )
    int64 = params.get("formatOptions.useInt64Timestamp", "").lower() == "true"
    body["rows"] = rows_json(table, start, size, int64_timestamps=int64)
    body["schema"] = schema_json(table.schema)
    body["totalRows"] = str(table.num_rows)
    if start + size < table.num_rows:
        body["pageToken"] = str(start + size)
    return body
