"""Imports flow one way along the project's seams, and no module imports itself in a circle.

`__main__` -> infra -> pipeline -> facts; the application (sqlrunner) -> pipeline and the
engine; the engine -> facts. Every import counts, including those inside functions.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.paths import REPO

SHARED = {"bigquery_facts", "bigquery_scripts"}
# Each part of the project and the parts it may import (besides itself).
ALLOWED: dict[str, set[str]] = {
    "bigquery_facts": set(),
    "bigquery_scripts": set(),
    "local_engine": SHARED,
    "pipeline": SHARED,
    "infra": SHARED | {"pipeline"},
    "sqlrunner": SHARED | {"pipeline", "local_engine"},
    "bench": SHARED | {"pipeline", "local_engine", "sqlrunner"},
    "__main__": {"infra"},
    "policy": {"bigquery_facts"},
}
PARTS = set(ALLOWED)


def module_name(path: Path) -> str:
    relative = path.relative_to(REPO).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> Iterator[Path]:
    for part in sorted(PARTS):
        single = REPO / f"{part}.py"
        if single.exists():
            yield single
        folder = REPO / part
        if folder.is_dir():
            yield from sorted(folder.rglob("*.py"))


def imported_modules(path: Path) -> set[str]:
    """Every project module `path` imports, by full dotted name, wherever the import is."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module_name(path).split(".")
                anchor = anchor[: len(anchor) - node.level + (path.name == "__init__.py")]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in PARTS}


def known_modules() -> set[str]:
    return {module_name(path) for path in source_files()}


def test_every_import_crosses_a_seam_the_right_way() -> None:
    wrong = []
    for path in source_files():
        part = module_name(path).split(".")[0]
        for target in sorted(imported_modules(path)):
            other = target.split(".")[0]
            if other != part and other not in ALLOWED[part]:
                wrong.append(f"{path.relative_to(REPO)} imports {target}")
    assert wrong == []


def test_the_engine_and_the_deploy_path_never_import_the_application() -> None:
    """A narrower statement of the rule above, for the two that matter most."""
    for part in ("local_engine", "pipeline", "infra"):
        assert "sqlrunner" not in ALLOWED[part]
    assert "local_engine" not in ALLOWED["pipeline"] | ALLOWED["infra"]


def test_no_import_cycles() -> None:
    modules = known_modules()
    graph: dict[str, set[str]] = {}
    for path in source_files():
        name = module_name(path)
        targets = {t for t in imported_modules(path) if t in modules and t != name}
        graph[name] = targets
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                cycles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target, stack)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [])
    assert cycles == []


@pytest.mark.parametrize(
    "path",
    [*source_files(), *sorted((REPO / "tests").rglob("*.py"))],
    ids=lambda p: str(p.relative_to(REPO)),
)
def test_every_module_opens_with_a_docstring(path: Path) -> None:
    tree = ast.parse(path.read_text())
    if not tree.body and path.name == "__init__.py":
        pytest.fail(f"{path.relative_to(REPO)} is empty: say what the package holds")
    assert ast.get_docstring(tree), f"{path.relative_to(REPO)} has no module docstring"
