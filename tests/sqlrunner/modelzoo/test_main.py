"""`python -m sqlrunner.modelzoo tiny|verify`: exit codes and one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sqlrunner.modelzoo.marker import read_marker
from sqlrunner.modelzoo.signature import verify_signature

# Each test starts processes that load TensorFlow.
pytestmark = pytest.mark.slow


def _modelzoo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sqlrunner.modelzoo", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_tiny_builds_a_model_that_verify_accepts_as_generated(tmp_path: Path) -> None:
    dest = tmp_path / "tiny"
    built = _modelzoo("tiny", "--dest", str(dest))
    assert built.returncode == 0, built.stderr[-2000:]
    verify_signature(dest)
    marker = read_marker(dest)
    assert marker is not None and marker.model == "tiny" and marker.trained is False

    checked = _modelzoo("verify", str(dest))
    assert checked.returncode == 0, checked.stderr[-2000:]
    assert checked.stdout.strip().endswith("generated, UNTRAINED (tiny)")

    again = _modelzoo("tiny", "--dest", str(dest))
    assert again.returncode == 1
    assert again.stderr.strip().splitlines()[-1] == f"error: {dest} already exists; remove it first"


def test_verify_refuses_a_directory_without_a_savedmodel(tmp_path: Path) -> None:
    checked = _modelzoo("verify", str(tmp_path))
    assert checked.returncode == 1
    assert checked.stderr.strip().splitlines()[-1] == (
        f"error: {tmp_path} is not a SavedModel: saved_model.pb is missing"
    )


def test_a_missing_savedmodel_is_refused_without_loading_tensorflow(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from sqlrunner.modelzoo.__main__ import main\n"
        "print(main(['verify', sys.argv[1]]), 'tensorflow' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.split() == ["1", "False"], done.stderr[-2000:]
