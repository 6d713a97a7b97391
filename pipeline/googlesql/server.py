"""The GoogleSQL analyzer's gRPC server: find it, start it on a private socket, call it, restart it.

`make googlesql` installs the server (a native build of ZetaSQL from the npm package
`@fivetrandevelopers/zetasql`) and a descriptor set of its .proto files under
`build/googlesql/` (or `$GOOGLESQL_HOME`). Requests and responses are the protos' JSON
forms as dicts, so no generated code is needed. Every call has a timeout; when the
server dies (a malformed request can abort it) it is restarted and the call reported.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, json_format, message_factory
from google.protobuf.message import Message

from pipeline.errors import SqlRunnerError

DEFAULT_HOME = Path(__file__).resolve().parents[2] / "build" / "googlesql"
SERVICE = "/zetasql.local_service.ZetaSqlLocalService/"
_LOCATION = re.compile(r"\s*\[at (\d+):(\d+)\]\s*$")
# Beyond the maximum set the server reports: CREATE MODEL without AS (imported models).
EXTRA_FEATURES = ("FEATURE_V_1_4_REMOTE_MODEL",)

Json = dict[str, Any]
_PR_SET_PDEATHSIG = 1  # prctl(2)
# Statuses the server sends itself when it refuses a request: it answered, so it is alive
# and there is no need to wait and see whether it died.
_REFUSALS = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.OUT_OF_RANGE,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.UNIMPLEMENTED,
    }
)


class AnalyzerMissing(SqlRunnerError):
    """The analyzer is not installed on this machine."""


class AnalyzerCrashed(SqlRunnerError):
    """The server died or stopped answering during a call; it has been restarted."""


@dataclass(frozen=True)
class SqlError:
    """What GoogleSQL said about a statement, with its 1-based position in that statement."""

    message: str
    line: int | None = None
    column: int | None = None


class AnalyzerRejected(SqlRunnerError):
    def __init__(self, error: SqlError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass(frozen=True)
class Installation:
    binary: Path
    descriptors: Path

    @classmethod
    def find(cls, home: Path | None = None) -> Installation:
        """$GOOGLESQL_HOME, else build/googlesql; AnalyzerMissing names what is absent."""
        root = home or Path(os.environ.get("GOOGLESQL_HOME") or DEFAULT_HOME)
        found = cls(binary=root / "remote_server.so", descriptors=root / "zetasql.desc")
        missing = [str(p) for p in (found.binary, found.descriptors) if not p.is_file()]
        if missing:
            raise AnalyzerMissing(
                f"the GoogleSQL analyzer is not installed ({', '.join(missing)} missing); "
                "run `make googlesql`"
            )
        return found


@cache
def _message_classes(descriptors: Path) -> dict[str, type[Message]]:
    files = descriptor_pb2.FileDescriptorSet.FromString(descriptors.read_bytes())
    classes: dict[str, type[Message]] = message_factory.GetMessages(list(files.file))
    return classes


def sql_error(details: str) -> SqlError:
    """Split GoogleSQL's `message [at L:C]` into the message and its position."""
    match = _LOCATION.search(details)
    if match is None:
        return SqlError(details.strip())
    return SqlError(details[: match.start()].strip(), int(match[1]), int(match[2]))


# Runs the server so that Linux stops it when the Python process that started it dies
# (prctl PR_SET_PDEATHSIG; kept across exec), so a killed check or test run leaves no
# server behind (`close` stops it otherwise). A launcher rather than `preexec_fn`: that
# makes subprocess fork() where it would vfork(), and gRPC, loaded in this process, then
# runs its fork handlers in the child, which at times failed before exec ("epoll_wait
# error: Bad file descriptor").
_LAUNCHER = f"""
import ctypes, os, signal, sys
ctypes.CDLL(None).prctl({_PR_SET_PDEATHSIG}, signal.SIGTERM)
if os.getppid() != int(sys.argv[1]):
    sys.exit("the process that started the GoogleSQL server has gone")
os.execv(sys.argv[2], sys.argv[2:])
"""


def _command(binary: Path, *args: str) -> list[str]:
    if sys.platform != "linux":
        return [str(binary), *args]
    return [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(os.getpid()), str(binary), *args]


class GoogleSqlServer:
    """One server process and its channel. Use as a context manager; `close` stops it."""

    def __init__(
        self,
        installation: Installation | None = None,
        *,
        call_timeout_s: float = 30.0,
        start_timeout_s: float = 30.0,
    ) -> None:
        self.installation = installation or Installation.find()
        self.call_timeout_s = call_timeout_s
        self.start_timeout_s = start_timeout_s
        self._classes = _message_classes(self.installation.descriptors)
        self._process: subprocess.Popen[bytes] | None = None
        self._channel: grpc.Channel | None = None
        self._log: Any = None
        self._socket_dir: str | None = None
        self.restarts = 0
        self.language_options: Json = {}

    def __enter__(self) -> GoogleSqlServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def start(self) -> None:
        try:
            self._launch()
        except AnalyzerCrashed as first:
            # A start that fails is tried once more before it is reported.
            try:
                self._launch()
            except AnalyzerCrashed as second:
                raise AnalyzerCrashed(f"{second} (and on a first try: {first})") from None
        maximum = self.call(
            "GetLanguageOptions", {"maximumFeatures": True}, timeout_s=self.start_timeout_s
        )
        features = list(maximum.get("enabledLanguageFeatures", [])) + list(EXTRA_FEATURES)
        self.language_options = {
            "productMode": "PRODUCT_EXTERNAL",
            "nameResolutionMode": "NAME_RESOLUTION_DEFAULT",
            "enabledLanguageFeatures": features,
        }

    def _launch(self) -> None:
        """Start the process and connect to it; AnalyzerCrashed (stopped) if it does not come up."""
        # The server listens on HOST:PORT. A Unix socket in a directory of its own, rather
        # than a free loopback port: gRPC binds with SO_REUSEPORT, so two servers started at
        # once on one probed port would both listen and share the calls; and no other user
        # of the machine can reach it.
        self._socket_dir = tempfile.mkdtemp(prefix="googlesql-")
        host, port = f"unix:{self._socket_dir}/server", "0"
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the process)
        self._process = subprocess.Popen(
            _command(self.installation.binary, host, port),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_listening()
        self._channel = grpc.insecure_channel(f"{host}:{port}")
        try:
            grpc.channel_ready_future(self._channel).result(timeout=self.start_timeout_s)
        except grpc.FutureTimeoutError:
            self.close()
            raise AnalyzerCrashed("the GoogleSQL server did not accept connections") from None

    def _wait_listening(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            if b"Server listening" in self._output():
                return
            if self._process.poll() is not None:
                break
            time.sleep(0.02)
        output = self._output().decode("utf-8", "replace").strip()
        self.close()
        raise AnalyzerCrashed(f"the GoogleSQL server did not start: {output or 'no output'}")

    def _output(self) -> bytes:
        self._log.seek(0)
        data: bytes = self._log.read()
        return data

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self._process is not None:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None

    def restart(self) -> None:
        self.close()
        self.start()
        self.restarts += 1

    def message(self, name: str, values: Json) -> Message:
        message = self._classes[name]()
        json_format.ParseDict(values, message)
        return message

    def call(self, method: str, request: Json, *, timeout_s: float | None = None) -> Json:
        """Call `method` with a request given as its proto's JSON form; the response likewise.

        AnalyzerRejected when GoogleSQL refuses the SQL; AnalyzerCrashed (after a restart)
        when the server died or did not answer in time.
        """
        if self._channel is None:
            raise AnalyzerCrashed("the GoogleSQL server is not running")
        request_type, response_type = _METHODS[method]
        stub = self._channel.unary_unary(
            SERVICE + method,
            request_serializer=lambda m: m.SerializeToString(),
            response_deserializer=self._classes[response_type].FromString,
        )
        try:
            timeout = self.call_timeout_s if timeout_s is None else timeout_s
            response = stub(self.message(request_type, request), timeout=timeout)
        except grpc.RpcError as exc:
            code = exc.code()
            died = code not in _REFUSALS and self._has_died()
            if died or code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
                reason = "died" if died else f"did not answer ({code.name})"
                self.restart()
                raise AnalyzerCrashed(f"the GoogleSQL server {reason}; restarted") from None
            raise AnalyzerRejected(sql_error(exc.details() or code.name)) from None
        result: Json = json_format.MessageToDict(response)
        return result

    def _has_died(self) -> bool:
        """Whether the server process is gone; a killed one may take a moment to be reaped."""
        if self._process is None:
            return True
        try:
            self._process.wait(timeout=0.5)
        except subprocess.TimeoutExpired:
            return False
        return True

    def analyze(self, sql: str, catalog: Json) -> Json:
        """The resolved statement (its proto's JSON form); AnalyzerRejected if GoogleSQL refuses."""
        return self.call(
            "Analyze",
            {
                "options": {
                    "languageOptions": self.language_options,
                    "errorMessageMode": "ERROR_MESSAGE_ONE_LINE",
                },
                "simpleCatalog": catalog,
                "sqlStatement": sql,
            },
        )


_LS = "zetasql.local_service."
_METHODS = {
    "GetLanguageOptions": (_LS + "LanguageOptionsRequest", "zetasql.LanguageOptionsProto"),
    "Analyze": (_LS + "AnalyzeRequest", _LS + "AnalyzeResponse"),
    "EvaluateQuery": (_LS + "EvaluateQueryRequest", _LS + "EvaluateQueryResponse"),
    "EvaluateModify": (_LS + "EvaluateModifyRequest", _LS + "EvaluateModifyResponse"),
    "Parse": (_LS + "ParseRequest", _LS + "ParseResponse"),
}
