"""mypy reads only the pulumi_gcp services pyproject.toml names (the rest would be Any):
every service the program declares resources from must be among them."""

from __future__ import annotations

import ast
import tomllib

from tests.support.paths import REPO


def _services_used() -> set[str]:
    used: set[str] = set()
    for path in [*sorted((REPO / "infra").glob("*.py")), REPO / "__main__.py"]:
        tree = ast.parse(path.read_text())
        aliases = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import)
            for alias in node.names
            if alias.name == "pulumi_gcp"
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pulumi_gcp"):
                used.update(
                    f"pulumi_gcp.{a.name}" for a in node.names if node.module == "pulumi_gcp"
                )
                if node.module != "pulumi_gcp":
                    used.add(".".join(node.module.split(".")[:2]))
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in aliases
            ):
                used.add(f"pulumi_gcp.{node.attr}")
    return used


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
