"""HTTP routing of BigQuery's v2 REST API onto the lake, on the standard library's server.

Every request runs on its own thread (ThreadingHTTPServer); query jobs run on the job
store's workers. Paths are those google-cloud-bigquery sends under `/bigquery/v2`.
There is no authentication: the server binds loopback unless told otherwise.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse

from local_engine.rest.api import Body, Handler, LakeApi
from local_engine.rest.errors import ApiError

API_ROOT = "/bigquery/v2"

_PART = r"([^/]+)"
_PROJECT = rf"/projects/{_PART}"
_DATASET = rf"{_PROJECT}/datasets/{_PART}"
ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("GET", re.compile("/projects"), LakeApi.list_projects),
    ("POST", re.compile(rf"{_PROJECT}/jobs"), LakeApi.insert_job),
    ("GET", re.compile(rf"{_PROJECT}/jobs"), LakeApi.list_jobs),
    ("GET", re.compile(rf"{_PROJECT}/jobs/{_PART}"), LakeApi.get_job),
    ("POST", re.compile(rf"{_PROJECT}/jobs/{_PART}/cancel"), LakeApi.cancel_job),
    ("GET", re.compile(rf"{_PROJECT}/queries/{_PART}"), LakeApi.get_query_results),
    ("POST", re.compile(rf"{_PROJECT}/queries"), LakeApi.query),
    ("GET", re.compile(rf"{_PROJECT}/datasets"), LakeApi.list_datasets),
    ("POST", re.compile(rf"{_PROJECT}/datasets"), LakeApi.insert_dataset),
    ("GET", re.compile(_DATASET), LakeApi.get_dataset),
    ("DELETE", re.compile(_DATASET), LakeApi.delete_dataset),
    ("GET", re.compile(rf"{_DATASET}/tables"), LakeApi.list_tables),
    ("GET", re.compile(rf"{_DATASET}/tables/{_PART}"), LakeApi.get_table),
    ("DELETE", re.compile(rf"{_DATASET}/tables/{_PART}"), LakeApi.delete_table),
    ("GET", re.compile(rf"{_DATASET}/tables/{_PART}/data"), LakeApi.list_rows),
    ("GET", re.compile(rf"{_DATASET}/models"), LakeApi.list_models),
    ("GET", re.compile(rf"{_DATASET}/models/{_PART}"), LakeApi.get_model),
    ("DELETE", re.compile(rf"{_DATASET}/models/{_PART}"), LakeApi.delete_model),
]


def route(method: str, path: str) -> tuple[Handler, list[str]]:
    """The call for METHOD PATH (PATH under /bigquery/v2) and the path's parts it names."""
    for verb, pattern, handler in ROUTES:
        match = pattern.fullmatch(path)
        if verb == method and match:
            return handler, [unquote(part) for part in match.groups()]
    raise ApiError("notImplemented", f"The local lake does not serve {method} {API_ROOT}{path}")


class _RequestHandler(BaseHTTPRequestHandler):
    server: LakeHttpServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes; with Nagle's algorithm on, the body
    # waits for the client's delayed ACK (about 40 ms a response on Linux).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _answer(self, method: str) -> None:
        url = urlparse(self.path)
        try:
            body = self._body()
            if not url.path.startswith(API_ROOT):
                raise ApiError("notImplemented", f"The local lake serves only {API_ROOT}")
            handler, args = route(method, url.path[len(API_ROOT) :].rstrip("/"))
            if args:  # the path's first part is its project
                self.server.api.check_project(args[0])
            params = dict(parse_qsl(url.query))
            status, answer = handler(self.server.api, params, body, args)
        except ApiError as exc:
            status, answer = exc.status, exc.body()
        except Exception as exc:  # one bad request must not stop the server
            error = ApiError("internalError", f"{type(exc).__name__}: {exc}")
            status, answer = error.status, error.body()
        self._send(status, answer)

    def _body(self) -> Body:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return {}
        try:
            parsed = json.loads(self.rfile.read(length))
        except ValueError as exc:
            raise ApiError("invalid", f"The request body is not JSON: {exc}") from exc
        if not isinstance(parsed, dict):
            raise ApiError("invalid", "The request body must be a JSON object")
        return parsed

    def _send(self, status: int, answer: Body | None) -> None:
        data = b"" if answer is None else json.dumps(answer).encode("utf-8")
        self.send_response(status)
        if answer is not None:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def do_DELETE(self) -> None:
        self._answer("DELETE")

    def do_PATCH(self) -> None:
        self._answer("PATCH")

    def do_PUT(self) -> None:
        self._answer("PUT")


class LakeHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, api: LakeApi, host: str, port: int, *, verbose: bool = False) -> None:
        super().__init__((host, port), _RequestHandler)
        self.api = api
        self.verbose = verbose


class LakeServer:
    """The lake's REST server: `start()` serves on a thread, `serve_forever()` on this one.

    `with LakeServer(home) as server: server.endpoint` serves on a free loopback port and
    stops (jobs cancelled, the lake closed) on exit.
    """

    def __init__(
        self,
        home: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        workers: int | None = None,
        use_gcs: bool = False,
        verbose: bool = False,
    ) -> None:
        self.api = LakeApi(home, workers=workers, use_gcs=use_gcs)
        try:
            self._http = LakeHttpServer(self.api, host, port, verbose=verbose)
        except OSError:
            self.api.close()
            raise
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def serve_forever(self) -> None:
        self._http.serve_forever(poll_interval=0.2)

    def start(self) -> LakeServer:
        self._thread = threading.Thread(target=self.serve_forever, name="lake-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._http.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._http.server_close()
        self.api.close()

    def __enter__(self) -> LakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
