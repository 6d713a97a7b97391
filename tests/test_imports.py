"""Every module imports, and no test hides a missing or broken import behind a skip."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from tests.support.paths import REPO

PACKAGES = ("bigquery_facts", "bigquery_scripts", "local_engine", "pipeline", "infra", "sqlrunner")


def modules() -> list[str]:
    found = []
    for package in PACKAGES:
        single = REPO / f"{package}.py"
        paths = [single] if single.exists() else sorted((REPO / package).rglob("*.py"))
        for path in paths:
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            if parts[-1] != "__main__":  # runs the command line when imported
                found.append(".".join(parts))
    return found


@pytest.mark.parametrize("module", modules())
def test_module_imports(module: str) -> None:
    importlib.import_module(module)


def test_the_engines_hard_requirements_import() -> None:
    for name in ("tensorflow", "tf2onnx", "onnxruntime", "openvino", "duckdb", "simplejpeg"):
        importlib.import_module(name)


def test_no_test_skips_on_an_import() -> None:
    hiding = re.compile(r"importorskip|except (ImportError|ModuleNotFoundError)")
    offenders = [
        str(path.relative_to(REPO))
        for path in sorted((REPO / "tests").rglob("*.py"))
        if path != Path(__file__) and hiding.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
