"""A canned BigQuery REST fake, for the faults the served lake cannot produce.

End-to-end runs go against `python -m sqlrunner serve` (tests/support/lake_server.py);
this fake scripts what only BigQuery does: 5xx answers, rate limits, permission errors
while IAM propagates, answers lost after a job was made, jobs that never finish.

jobs.insert (dry runs too), jobs.get and jobs.cancel, on 127.0.0.1 only. As in moto, the
state (`FakeBigQuery`: jobs, scripted faults and outcomes, the request log) is kept apart
from the wire protocol (`_Handler`). Tests script it:

    fake.fail("insert", 500, "backendError", "Backend error")   # next jobs.insert answers 500
    fake.fail("insert", 500, ..., after_create=True)            # job made, answer lost
    fake.outcome(polls=3, error=("invalidQuery", "Syntax error"), rows=7)  # next real job
"""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

import sqlglot
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery
from sqlglot import exp


@dataclass
class Fault:
    status: int
    reason: str
    message: str
    after_create: bool = False


@dataclass
class Outcome:
    polls: int = 0
    error: tuple[str, str] | None = None
    rows: int | None = None
    bytes_processed: int = 1024


@dataclass
class FakeJob:
    project: str
    job_id: str
    location: str
    query: str
    labels: dict[str, str]
    maximum_bytes_billed: str | None
    outcome: Outcome
    polls_left: int
    cancelled: bool = False

    @property
    def done(self) -> bool:
        return self.cancelled or self.polls_left <= 0


def statement_type(sql: str) -> str:
    """BigQuery's statementType, for the statements the tests send."""
    tree = sqlglot.parse_one(sql, read="bigquery")
    if isinstance(tree, exp.Create):
        kind = str(tree.args.get("kind", "TABLE")).upper()
        return (
            f"CREATE_{kind}_AS_SELECT" if tree.expression and kind == "TABLE" else f"CREATE_{kind}"
        )
    if isinstance(tree, exp.Drop):
        return f"DROP_{str(tree.args.get('kind', 'TABLE')).upper()}"
    names = {exp.Insert: "INSERT", exp.Delete: "DELETE", exp.Merge: "MERGE", exp.Update: "UPDATE"}
    return next((name for cls, name in names.items() if isinstance(tree, cls)), "SELECT")


@dataclass
class FakeBigQuery:
    jobs: dict[str, FakeJob] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    faults: dict[str, deque[Fault]] = field(default_factory=dict)
    outcomes: deque[Outcome] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(
        self, call: str, status: int, reason: str, message: str, *, after_create: bool = False
    ) -> None:
        """The next `call` ("dry_run", "insert", "get", "cancel") answers this HTTP error."""
        self.faults.setdefault(call, deque()).append(Fault(status, reason, message, after_create))

    def outcome(self, **kwargs: Any) -> None:
        """How the next job that really runs behaves (see `Outcome`)."""
        self.outcomes.append(Outcome(**kwargs))

    def real_jobs(self) -> list[FakeJob]:
        return list(self.jobs.values())

    def inserts(self) -> list[dict[str, Any]]:
        return [
            body
            for method, path, body in self.requests
            if method == "POST" and path.endswith("/jobs")
        ]

    def next_fault(self, call: str) -> Fault | None:
        queue = self.faults.get(call)
        return queue.popleft() if queue else None

    def resource(self, job: FakeJob) -> dict[str, Any]:
        status: dict[str, Any] = {"state": "DONE" if job.done else "RUNNING"}
        query_stats: dict[str, Any] = {"statementType": statement_type(job.query)}
        if job.done:
            error = (
                ("stopped", "Job execution was cancelled: user requested")
                if job.cancelled
                else job.outcome.error
            )
            if error:
                status["errorResult"] = {"reason": error[0], "message": error[1]}
                status["errors"] = [status["errorResult"]]
            else:
                query_stats["totalBytesProcessed"] = str(job.outcome.bytes_processed)
                if job.outcome.rows is not None:
                    query_stats["numDmlAffectedRows"] = str(job.outcome.rows)
        return {
            "kind": "bigquery#job",
            "id": f"{job.project}:{job.location}.{job.job_id}",
            "jobReference": {
                "projectId": job.project,
                "jobId": job.job_id,
                "location": job.location,
            },
            "configuration": {"query": {"query": job.query}, "labels": job.labels},
            "status": status,
            "statistics": {"creationTime": "1700000000000", "query": query_stats},
        }


def _error_body(status: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"reason": reason, "message": message}],
        }
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    JOBS = re.compile(r"/bigquery/v2/projects/([^/]+)/jobs$")
    JOB = re.compile(r"/bigquery/v2/projects/([^/]+)/jobs/([^/]+)$")
    CANCEL = re.compile(r"/bigquery/v2/projects/([^/]+)/jobs/([^/]+)/cancel$")

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length)) if length else {}

    def do_POST(self) -> None:
        path = urlparse(self.path).path
        body = self._body()
        fake = self.server.fake
        with fake.lock:
            fake.requests.append(("POST", path, body))
            if match := self.JOBS.fullmatch(path):
                self._send(*self._insert(fake, match.group(1), body))
            elif match := self.CANCEL.fullmatch(path):
                self._send(*self._cancel(fake, match.group(2)))
            else:
                self._send(404, _error_body(404, "notFound", f"Not found: {path}"))

    def do_GET(self) -> None:
        path = urlparse(self.path).path
        fake = self.server.fake
        with fake.lock:
            fake.requests.append(("GET", path, {}))
            match = self.JOB.fullmatch(path)
            if not match:
                self._send(404, _error_body(404, "notFound", f"Not found: {path}"))
                return
            fault = fake.next_fault("get")
            job = fake.jobs.get(match.group(2))
            if fault:
                self._send(fault.status, _error_body(fault.status, fault.reason, fault.message))
            elif job is None:
                self._send(404, _error_body(404, "notFound", f"Not found: Job {match.group(2)}"))
            else:
                job.polls_left -= 1
                self._send(200, fake.resource(job))

    @staticmethod
    def _insert(
        fake: FakeBigQuery, project: str, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        config = body.get("configuration", {})
        ref = body.get("jobReference", {})
        query = config.get("query", {}).get("query", "")
        job = FakeJob(
            project=project,
            job_id=ref.get("jobId", ""),
            location=ref.get("location", "US"),
            query=query,
            labels=config.get("labels", {}),
            maximum_bytes_billed=config.get("query", {}).get("maximumBytesBilled"),
            outcome=Outcome(),
            polls_left=0,
        )
        if config.get("dryRun"):
            fault = fake.next_fault("dry_run")
            if fault:
                return fault.status, _error_body(fault.status, fault.reason, fault.message)
            resource = fake.resource(job)
            resource["statistics"]["query"]["totalBytesProcessed"] = "2048"
            resource["configuration"]["dryRun"] = True
            return 200, resource
        if job.job_id in fake.jobs:
            message = f"Already Exists: Job {project}:{job.location}.{job.job_id}"
            return 409, _error_body(409, "duplicate", message)
        fault = fake.next_fault("insert")
        if fault and not fault.after_create:
            return fault.status, _error_body(fault.status, fault.reason, fault.message)
        job.outcome = fake.outcomes.popleft() if fake.outcomes else Outcome()
        job.polls_left = job.outcome.polls
        fake.jobs[job.job_id] = job
        if fault:
            return fault.status, _error_body(fault.status, fault.reason, fault.message)
        return 200, fake.resource(job)

    @staticmethod
    def _cancel(fake: FakeBigQuery, job_id: str) -> tuple[int, dict[str, Any]]:
        job = fake.jobs.get(job_id)
        if job is None:
            return 404, _error_body(404, "notFound", f"Not found: Job {job_id}")
        job.cancelled = True
        return 200, {"kind": "bigquery#jobCancelResponse", "job": fake.resource(job)}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeBigQuery) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class FakeBigQueryServer:
    """`with FakeBigQueryServer() as server: server.client()`; stops its thread on exit."""

    def __init__(self) -> None:
        self.fake = FakeBigQuery()
        self._server = _Server(self.fake)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def client(self, project: str = "test-project") -> bigquery.Client:
        return bigquery.Client(
            project=project,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=self.endpoint),
        )

    def __enter__(self) -> FakeBigQueryServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def real_jobs(server: FakeBigQueryServer) -> list[dict[str, Any]]:
    """The job bodies the fake was sent, dry runs left out, oldest first."""
    return [b for b in server.fake.inserts() if not b["configuration"].get("dryRun")]
