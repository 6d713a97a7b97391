"""Run rendered templates on BigQuery, one job per statement.

Each statement gets a dry run first (statement type, bytes processed), then runs as a job
with labels, the dataset's location, an optional byte cap and a job id derived from the
stack, the template, the statement and a run key (`pipeline.jobids`). The runner waits
with a progress display and a timeout, and retries what `pipeline.retry` calls
retryable; any other failure is one `SqlRunnerError` naming the template, the job id and
BigQuery's own error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from google.api_core import exceptions
from google.api_core.retry import Retry
from rich import filesize
from rich.console import Console

from pipeline.errors import SqlRunnerError
from pipeline.jobids import job_id, job_labels
from pipeline.retry import (
    NETWORK_ERRORS,
    RetryPolicy,
    classify_exception,
    classify_job_error,
    error_message,
    error_reason,
)
from pipeline.rows import rows_written
from pipeline.templates import RenderedTemplate

if TYPE_CHECKING:
    from google.cloud import bigquery

T = TypeVar("T")

# The runner does its own retrying, so the client's calls must not retry on their own.
NO_RETRY = Retry(predicate=lambda _exc: False)
# A retried step may find earlier attempts' job ids taken; never probe more than this many.
MAX_JOB_IDS = 100


class BigQueryError(SqlRunnerError):
    """A statement BigQuery refused or failed; `reason` is BigQuery's (e.g. "notFound")."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class RunSettings:
    stack: str
    location: str
    run_key: str
    timeout_s: float = 3600.0
    poll_s: float = 2.0  # the longest wait between two looks at a running job
    first_poll_s: float = 0.1  # the first wait; each next one doubles, up to poll_s
    maximum_bytes_billed: int | None = None
    dry_run_only: bool = False


@dataclass(frozen=True)
class StatementResult:
    template: str
    index: int
    job_id: str | None
    statement_type: str
    bytes_processed: int
    rows_affected: int | None


def _api_message(exc: Exception) -> str:
    """BigQuery's own reason and message (the client decorates `exc.message` with the URL)."""
    if isinstance(exc, exceptions.GoogleAPICallError):
        reason = error_reason(exc)
        text = error_message(exc)
        return f"{reason}: {text}" if reason else text
    return str(exc)


class BigQueryRunner:
    def __init__(
        self,
        client: bigquery.Client,
        settings: RunSettings,
        policy: RetryPolicy | None = None,
        console: Console | None = None,
    ) -> None:
        self.client = client
        self.settings = settings
        self.policy = policy or RetryPolicy()
        self.console = console or Console(stderr=True)

    def _say(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def run_templates(self, templates: list[RenderedTemplate]) -> list[StatementResult]:
        return [result for template in templates for result in self.run_template(template)]

    def run_template(self, template: RenderedTemplate) -> list[StatementResult]:
        return [
            self.run_statement(template.name, index, sql)
            for index, sql in enumerate(template.statements, start=1)
        ]

    def run_statement(self, template: str, index: int, sql: str) -> StatementResult:
        where = f"{template} statement {index}"
        dry = self._dry_run(where, template, sql)
        statement_type = str(dry.statement_type or "UNKNOWN")
        processed = int(dry.total_bytes_processed or 0)
        self._say(f"{where}: {statement_type}, {filesize.decimal(processed)} to process (dry run)")
        if self.settings.dry_run_only:
            return StatementResult(template, index, None, statement_type, processed, None)
        job = self._run_job(where, template, index, sql)
        rows = None if job.num_dml_affected_rows is None else int(job.num_dml_affected_rows)
        self._say(f"{where}: done in job {job.job_id}" + ("" if rows is None else f", {rows} rows"))
        processed = int(job.total_bytes_processed or processed)
        return StatementResult(template, index, job.job_id, statement_type, processed, rows)

    def _job_config(self, template: str, *, dry_run: bool) -> bigquery.QueryJobConfig:
        from google.cloud import bigquery

        return bigquery.QueryJobConfig(
            dry_run=dry_run,
            use_query_cache=False,
            labels=job_labels(self.settings.stack, template),
            maximum_bytes_billed=self.settings.maximum_bytes_billed,
        )

    def _call(self, what: str, call: Callable[[], T]) -> T:
        """`call()`, retried with backoff while the policy calls its failure retryable."""
        backoff = self.policy.backoff()
        while True:
            try:
                return call()
            except NETWORK_ERRORS as exc:
                delay = backoff.delay_after(classify_exception(exc))
                if delay is None:
                    reason = (
                        error_reason(exc) if isinstance(exc, exceptions.GoogleAPICallError) else ""
                    )
                    raise BigQueryError(f"{what}: {_api_message(exc)}", reason) from exc
                self._say(f"{what}: {_api_message(exc)}; retrying in {delay:g}s")
                self.policy.sleep(delay)

    def _dry_run(self, where: str, template: str, sql: str) -> bigquery.QueryJob:
        config = self._job_config(template, dry_run=True)
        return self._call(
            f"{where}: dry run failed",
            lambda: self.client.query(
                sql,
                job_config=config,
                location=self.settings.location,
                retry=NO_RETRY,
                job_retry=None,
            ),
        )

    def _insert_or_attach(
        self, sql: str, template: str, jid: str
    ) -> tuple[bigquery.QueryJob, bool]:
        """The new job, or the existing one with this id (True) if an earlier try made it."""
        from google.cloud import bigquery

        try:
            job = self.client.query(
                sql,
                job_config=self._job_config(template, dry_run=False),
                job_id=jid,
                location=self.settings.location,
                retry=NO_RETRY,
                job_retry=None,
            )
            return job, False
        except exceptions.Conflict:
            existing = self.client.get_job(jid, location=self.settings.location, retry=NO_RETRY)
            if not isinstance(existing, bigquery.QueryJob):
                raise SqlRunnerError(f"job {jid} exists and is not a query job") from None
            return existing, True

    def _job_ids(self, template: str, index: int, sql: str) -> Iterator[str]:
        s = self.settings
        for attempt in range(MAX_JOB_IDS):
            yield job_id(s.stack, template, index, sql, s.run_key, attempt)

    def _run_job(self, where: str, template: str, index: int, sql: str) -> bigquery.QueryJob:
        backoff = self.policy.backoff()
        for jid in self._job_ids(template, index, sql):
            job, attached = self._call(
                f"{where}: starting job {jid} failed",
                partial(self._insert_or_attach, sql, template, jid),
            )
            if attached:
                self._say(f"{where}: job {jid} already exists; attaching to it")
            self._wait(where, job)
            error = job.error_result
            if not error:
                return job
            reason = str(error.get("reason", ""))
            text = str(error.get("message", ""))
            message = f"{where} failed in job {jid}: {reason}: {text}"
            if attached:
                # A failure left by an earlier run: running anew cannot run it twice.
                continue
            delay = backoff.delay_after(classify_job_error(reason, text))
            if delay is None:
                raise BigQueryError(message, reason)
            self._say(f"{message}; retrying in {delay:g}s")
            self.policy.sleep(delay)
        raise SqlRunnerError(f"{where}: {MAX_JOB_IDS} earlier jobs for this statement all failed")

    def _wait(self, where: str, job: bigquery.QueryJob) -> None:
        started = self.policy.clock()
        deadline = started + self.settings.timeout_s
        # Most statements finish within a second: look soon, then less and less often.
        pause = min(self.settings.first_poll_s, self.settings.poll_s)
        with self.console.status(f"{where}: job {job.job_id} running") as status:
            while True:
                self._call(
                    f"{where}: checking job {job.job_id} failed",
                    partial(job.reload, retry=NO_RETRY, timeout=60),
                )
                if job.state == "DONE":
                    return
                remaining = deadline - self.policy.clock()
                if remaining <= 0:
                    self._cancel(job)
                    raise SqlRunnerError(
                        f"{where}: job {job.job_id} did not finish within "
                        f"{self.settings.timeout_s:g}s and was cancelled"
                    )
                elapsed = self.policy.clock() - started
                status.update(f"{where}: job {job.job_id} {str(job.state).lower()}, {elapsed:.0f}s")
                self.policy.sleep(min(pause, remaining))
                pause = min(pause * 2, self.settings.poll_s)

    def _cancel(self, job: bigquery.QueryJob) -> None:
        try:
            job.cancel(retry=NO_RETRY, timeout=30)
        except exceptions.GoogleAPICallError as exc:
            self._say(f"could not cancel job {job.job_id}: {_api_message(exc)}")


def results_rows_written(results: list[StatementResult]) -> int:
    """Rows written by INSERT/MERGE statements, what `predictions_rows` reports."""
    return rows_written((r.statement_type, r.rows_affected) for r in results)
