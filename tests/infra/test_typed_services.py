"""mypy reads only the pulumi_gcp services pyproject.toml names (the rest would be Any):
every service the program declares resources from must be among them."""

from __future__ import annotations

import ast
import tomllib

from tests.support.paths import REPO

# What `make typecheck` checks.
CHECKED = ("bigquery_facts.py", "bigquery_scripts.py", "__main__.py", "policy/rules.py",
           "infra", "pipeline", "local_engine", "sqlrunner", "bench")  # fmt: skip


def _service(module: str) -> str | None:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "pulumi_gcp" and len(parts) > 1 else None


def _services_used() -> set[str]:
    used: set[str] = set()
    paths = [p for name in CHECKED for p in sorted((REPO / name).rglob("*.py")) or [REPO / name]]
    for path in paths:
        tree = ast.parse(path.read_text())
        aliases: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "pulumi_gcp":
                        aliases.add(alias.asname or alias.name)
                    used.add(_service(alias.name) or "")
            elif isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "pulumi_gcp":
                    used.update(f"pulumi_gcp.{alias.name}" for alias in node.names)
                used.add(_service(node.module) or "")
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
            ):
                used.add(f"pulumi_gcp.{node.attr}")
    return used - {""}


def _services_read() -> set[str]:
    overrides = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    return {
        module.removesuffix(".*")
        for override in overrides
        if override.get("follow_imports") == "normal"
        for module in override["module"]
    }


def test_every_pulumi_gcp_service_the_program_uses_is_type_checked() -> None:
    used = _services_used()
    assert {"pulumi_gcp.bigquery", "pulumi_gcp.storage"} <= used
    assert used <= _services_read(), (
        f"add to the mypy override in pyproject.toml: {used - _services_read()}"
    )
