"""The deploy path is lean: it imports nothing outside requirements.txt and loads no engine.

`pulumi preview/up/destroy` install requirements.txt alone (Pulumi.yaml's venv toolchain)
and run `__main__.py`, `infra/`, `pipeline/` and `bigquery_facts.py`; the post-deploy
step runs inside that venv too. The local engine's packages are in requirements-local.txt.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.paths import REPO

DEPLOY_PATH = ("__main__.py", "bigquery_facts.py", "bigquery_scripts.py", "infra", "pipeline")
LOCAL_PACKAGES = {"infra", "pipeline", "bigquery_facts", "bigquery_scripts"}
ENGINE_DISTRIBUTIONS = {
    "duckdb",
    "tensorflow",
    "tensorflow-cpu",
    "tf2onnx",
    "onnx",
    "onnxruntime",
    "openvino",
    "ai-edge-litert",
    "pillow",
    "scikit-image",
    "numpy",
    "pyarrow",
}


def requirements(name: str) -> list[Requirement]:
    lines = (REPO / name).read_text(encoding="utf-8").splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]


def closure(roots: list[Requirement]) -> set[str]:
    """The distributions `pip install -r` of `roots` brings, read from the installed metadata."""
    environment = dict(default_environment())
    seen: set[str] = set()
    pending = [r for r in roots if r.marker is None or r.marker.evaluate(environment)]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        for line in metadata.requires(requirement.name) or []:
            dependency = Requirement(line)
            marker_env = {**environment, "extra": ""}
            if dependency.marker is None or dependency.marker.evaluate(marker_env):
                pending.append(dependency)
    return seen


def deploy_path_files() -> list[Path]:
    files: list[Path] = []
    for entry in DEPLOY_PATH:
        path = REPO / entry
        files.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return files


def imported_top_levels(path: Path) -> set[str]:
    """Every module a file imports, at import time or inside functions alike."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_requirements_txt_pins_every_package_and_leaves_out_the_engine() -> None:
    deploy = requirements("requirements.txt")
    assert all(str(r.specifier).startswith("==") for r in deploy)
    assert closure(deploy).isdisjoint(ENGINE_DISTRIBUTIONS)


def test_the_local_engine_file_is_pinned_and_repeats_nothing_of_the_deploy_set() -> None:
    local = requirements("requirements-local.txt")
    assert all(str(r.specifier).startswith("==") for r in local)
    deploy_names = {canonicalize_name(r.name) for r in requirements("requirements.txt")}
    assert deploy_names.isdisjoint(canonicalize_name(r.name) for r in local)


def test_the_deploy_path_imports_only_what_requirements_txt_installs() -> None:
    installed = closure(requirements("requirements.txt"))
    providers = metadata.packages_distributions()
    outside: dict[str, list[str]] = {}
    for path in deploy_path_files():
        for module in imported_top_levels(path):
            if module in sys.stdlib_module_names or module in LOCAL_PACKAGES:
                continue
            distributions = {canonicalize_name(d) for d in providers.get(module, [])}
            if not distributions & installed:
                outside.setdefault(module, []).append(str(path.relative_to(REPO)))
    assert outside == {}


def test_the_import_scan_sees_function_level_imports() -> None:
    # pipeline/post_deploy.py imports the BigQuery client only inside functions.
    assert "google" in imported_top_levels(REPO / "pipeline" / "bigquery.py")
    assert "pipeline" in imported_top_levels(REPO / "infra" / "post_deploy.py")


def test_the_program_and_the_step_run_without_loading_the_engine() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.support.deploy_path"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    last = result.stdout.strip().splitlines()[-1]
    assert last.endswith("no local-engine package loaded")
    assert "post-deploy step dev-post-deploy ran" in last
