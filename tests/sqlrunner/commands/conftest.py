"""What the command tests that talk to the canned BigQuery fake share: the fake, the CLI run
in this process against it, and the jobs it was sent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from sqlrunner.cli import main
from tests.support.fake_bigquery import FakeBigQueryServer
from tests.support.paths import REPO


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def server() -> Iterator[FakeBigQueryServer]:
    with FakeBigQueryServer() as running:
        yield running


@pytest.fixture
def sqlrunner(
    server: FakeBigQueryServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., Done]:
    """`python -m sqlrunner ARGS` in this process, from the project root, against the fake."""
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", server.endpoint)
    monkeypatch.chdir(REPO)

    def run(*args: str) -> Done:
        code = main(list(args))
        out, err = capsys.readouterr()
        return Done(code, out, err)

    return run
