"""A host-name lookup bounded in time, so offline machines fail fast and clearly."""

from __future__ import annotations

import socket
import threading
import urllib.parse

from pipeline.errors import SqlRunnerError


def resolve_host(url: str, timeout: float) -> None:
    """Fail within `timeout` when DNS hangs: socket timeouts do not cover name lookup."""
    host = urllib.parse.urlsplit(url).hostname
    if not host:
        raise SqlRunnerError(f"{url} is not an http(s) URL with a host")
    outcome: list[BaseException | None] = []

    def lookup() -> None:
        try:
            socket.getaddrinfo(host, None)
            outcome.append(None)
        except OSError as exc:
            outcome.append(exc)

    # A daemon thread: a lookup still hanging after the timeout never holds up exit.
    thread = threading.Thread(target=lookup, name="resolve-host", daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome:
        raise SqlRunnerError(f"cannot reach {url}: looking up {host} took over {timeout:g} s")
    if outcome[0] is not None:
        raise SqlRunnerError(f"cannot reach {url}: cannot resolve {host} ({outcome[0]}); offline?")
