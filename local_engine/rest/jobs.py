"""Query jobs: created by jobs.insert or jobs.query, run on worker threads, polled by id.

A job runs on a worker thread of its own pool, so HTTP threads answering jobs.get stay
free while a long ML.PREDICT runs. Dry runs are answered at once and never stored, as
in BigQuery; a job id a client chose twice is refused with `duplicate` (HTTP 409).
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from local_engine.engine import ExecuteResult, LocalEngine
from local_engine.errors import EngineError
from local_engine.rest.errors import ApiError, not_found, reason_of
from local_engine.rest.lake import Lake, Plan

DEFAULT_WORKERS = 4
INTERRUPT_EVERY_S = 0.1
CANCELLED = "Job execution was cancelled: User requested cancellation"


def _now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class JobRequest:
    project: str
    location: str
    query: str
    job_id: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    dry_run: bool = False
    maximum_bytes_billed: int | None = None


@dataclass
class Job:
    request: JobRequest
    job_id: str
    created_ms: int = field(default_factory=_now_ms)
    started_ms: int | None = None
    ended_ms: int | None = None
    state: str = "PENDING"
    plan: Plan | None = None
    result: ExecuteResult | None = None
    error: ApiError | None = None
    cancelled: bool = False
    engine: LocalEngine | None = None
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def statement_type(self) -> str | None:
        return self.plan.statement_type if self.plan else None

    @property
    def dml_rows(self) -> int | None:
        """Rows a single DML statement affected (what numDmlAffectedRows reports)."""
        if self.result is None or len(self.result.statements) != 1:
            return None
        if self.statement_type not in ("INSERT", "UPDATE", "DELETE", "MERGE"):
            return None
        return self.result.statements[0].rows or 0

    def finish(self, error: ApiError | None = None) -> None:
        self.error = error
        self.state = "DONE"
        self.ended_ms = _now_ms()
        self.engine = None
        self.done.set()


class JobStore:
    def __init__(self, lake: Lake, workers: int = DEFAULT_WORKERS) -> None:
        self.lake = lake
        self._jobs: dict[tuple[str, str], Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="lake-job")

    def insert(self, request: JobRequest) -> Job:
        job = Job(request, request.job_id or f"job_{uuid.uuid4().hex}")
        if request.dry_run:
            job.started_ms = job.created_ms
            try:
                job.plan = self.lake.plan(request.query)
            except EngineError as exc:
                raise ApiError("invalidQuery", str(exc)) from exc
            # A dry run is how a client learns the bytes: no cap applies to it.
            job.finish()
            return job
        key = (request.project, job.job_id)
        with self._lock:
            if key in self._jobs:
                raise ApiError(
                    "duplicate",
                    f"Already Exists: Job {request.project}:{request.location}.{job.job_id}",
                )
            self._jobs[key] = job
        self._pool.submit(self._run, job)
        return job

    def get(self, project: str, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get((project, job_id))
        if job is None:
            raise not_found(f"Job {project}:{job_id}")
        return job

    def list(self, project: str) -> list[Job]:
        with self._lock:
            jobs = [job for (p, _), job in self._jobs.items() if p == project]
        return sorted(jobs, key=lambda job: job.created_ms, reverse=True)

    def cancel(self, job: Job) -> None:
        """Stops the job: a queued one never starts, a running one is interrupted."""
        if job.cancelled or job.done.is_set():
            return
        job.cancelled = True
        threading.Thread(target=self._interrupt, args=(job,), daemon=True).start()

    @staticmethod
    def _interrupt(job: Job) -> None:
        # An interrupt reaches only a statement DuckDB is running, so one sent while the
        # engine prepares the next statement is lost: send it again until the job ends.
        while not job.done.wait(INTERRUPT_EVERY_S):
            engine = job.engine
            if engine is not None:
                engine.con.interrupt()

    def run_now(self, sql: str) -> ExecuteResult:
        """Runs DDL for a metadata call (datasets.insert, tables.delete, ...) on a job worker."""
        try:
            return self._pool.submit(lambda: self.lake.execute(self.lake.plan(sql), sql)).result()
        except EngineError as exc:
            raise ApiError(reason_of(str(exc)), str(exc)) from exc

    def close(self) -> None:
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            self.cancel(job)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _over_budget(self, job: Job) -> ApiError | None:
        cap = job.request.maximum_bytes_billed
        estimate = job.plan.bytes_processed if job.plan else 0
        if cap is not None and estimate > cap:
            return ApiError(
                "bytesBilledLimitExceeded",
                f"Query exceeded limit for bytes billed: {cap}. {estimate} or higher required.",
            )
        return None

    def _run(self, job: Job) -> None:
        if job.cancelled:
            job.finish(ApiError("stopped", CANCELLED))
            return
        job.state = "RUNNING"
        job.started_ms = _now_ms()

        def running(engine: LocalEngine) -> None:
            job.engine = engine

        try:
            job.plan = self.lake.plan(job.request.query)
            over = self._over_budget(job)
            if over is not None:
                job.finish(over)
                return
            job.result = self.lake.execute(job.plan, job.request.query, running)
        except EngineError as exc:
            job.finish(self._failure(job, str(exc)))
            return
        except Exception as exc:  # the job fails; the server goes on serving
            message = f"{type(exc).__name__}: {exc}"
            job.finish(self._failure(job, message, reason="internalError"))
            return
        job.finish(ApiError("stopped", CANCELLED) if job.cancelled else None)

    @staticmethod
    def _failure(job: Job, message: str, reason: str | None = None) -> ApiError:
        if job.cancelled:
            return ApiError("stopped", CANCELLED)
        return ApiError(reason or reason_of(message), message)


def job_resource(job: Job) -> dict[str, Any]:
    """The job as jobs.get answers it."""
    request = job.request
    reference = {"projectId": request.project, "jobId": job.job_id, "location": request.location}
    status: dict[str, Any] = {"state": job.state}
    if job.error is not None:
        status["errorResult"] = job.error.error_result()
        status["errors"] = [job.error.error_result()]
    statistics: dict[str, Any] = {"creationTime": str(job.created_ms)}
    if job.started_ms is not None:
        statistics["startTime"] = str(job.started_ms)
    if job.ended_ms is not None:
        statistics["endTime"] = str(job.ended_ms)
    query_stats: dict[str, Any] = {"cacheHit": False}
    if job.plan is not None:
        query_stats["statementType"] = job.plan.statement_type
        processed = str(job.plan.bytes_processed)
        statistics["totalBytesProcessed"] = processed
        query_stats["totalBytesProcessed"] = processed
        query_stats["totalBytesBilled"] = "0" if request.dry_run else processed
    rows = job.dml_rows
    if rows is not None:
        query_stats["numDmlAffectedRows"] = str(rows)
    statistics["query"] = query_stats
    query_config: dict[str, Any] = {"query": request.query, "useLegacySql": False}
    if request.maximum_bytes_billed is not None:
        query_config["maximumBytesBilled"] = str(request.maximum_bytes_billed)
    return {
        "kind": "bigquery#job",
        "id": f"{request.project}:{request.location}.{job.job_id}",
        "jobReference": reference,
        "configuration": {
            "jobType": "QUERY",
            "query": query_config,
            "labels": request.labels,
            "dryRun": request.dry_run,
        },
        "status": status,
        "statistics": statistics,
        "user_email": "anonymous@local-lake",
    }
