"""`python -m sqlrunner serve [--home DIR] [--host 127.0.0.1] [--port N]`: the lake over REST.

Serves BigQuery's v2 REST API over the local lake, so google-cloud-bigquery, the bq
tool or any other client can use it (BIGQUERY_EMULATOR_HOST, or the client's endpoint
option). There is no authentication, so it binds loopback unless --allow-remote is given.

Example: python -m sqlrunner serve --home .lake --port 9050
"""

from __future__ import annotations

import argparse
import ipaddress
import signal
import sys
from types import FrameType
from typing import Any

from pipeline.errors import SqlRunnerError
from sqlrunner.outputs_file import lake_home

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 9050


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="serve the local lake over BigQuery's REST API (for any BigQuery client)",
        description=__doc__.split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--home", default=None, help="local lake directory (default $SQLRUNNER_HOME or .lake)"
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to bind (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other than loopback (the server has no authentication)",
    )
    parser.add_argument(
        "--gcs",
        action="store_true",
        help="read gs:// objects through Cloud Storage (also when STORAGE_EMULATOR_HOST is "
        "set) instead of HOME/gcs",
    )
    parser.add_argument("--log-requests", action="store_true", help="log each request to stderr")
    parser.set_defaults(func=run)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def remote_warning(host: str, allow_remote: bool) -> str | None:
    """None for loopback; a warning for another host when allowed; else a SqlRunnerError."""
    if is_loopback(host):
        return None
    if not allow_remote:
        raise SqlRunnerError(
            f"--host {host} is not loopback and the server has no authentication;"
            " pass --allow-remote to serve it anyway"
        )
    return (
        f"warning: serving on {host} with no authentication: anyone who can reach it can"
        " read, change and delete everything in the lake"
    )


def _stop(signum: int, frame: FrameType | None) -> None:
    """SIGTERM (docker stop, systemd) stops the server the way Ctrl-C does."""
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    from local_engine.rest.server import LakeServer

    if not 0 <= args.port <= 65535:
        raise SqlRunnerError(f"--port {args.port} is not a port number (0-65535)")
    warning = remote_warning(args.host, args.allow_remote)
    try:
        server = LakeServer(
            lake_home(args.home),
            args.host,
            args.port,
            use_gcs=args.gcs,
            verbose=args.log_requests,
        )
    except OSError as exc:
        raise SqlRunnerError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from exc
    try:
        signal.signal(signal.SIGTERM, _stop)  # before the ready line, which invites signals
        # A parent that ignores SIGINT (`serve &` in a script, nohup) passes that on: Ctrl-C
        # and `kill -INT` must still stop the server.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if warning:
            print(warning, file=sys.stderr, flush=True)
        print(f"listening on {server.endpoint}", flush=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    print("stopped", flush=True)
    return 0
