"""Which BigQuery project a lake holds: one per HOME, set by the first statement naming one.

A lake stores datasets, not projects: `my-proj.ds.t` and `other-proj.ds.t` would be the
same DuckDB table, so a lake that accepted both would silently merge two projects. The
rule: `local-lake` always names the lake's own project; the first statement that names
any other project (a real id such as `my-proj-123`, so BigQuery's statements run
verbatim) makes it the lake's project, kept in the catalog; a statement naming a
different project is refused, naming both and what to do. The claim is part of the
statement's transaction: a statement that fails claims nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp

from bigquery_facts import LOCAL_PROJECT
from local_engine.catalog import Catalog
from local_engine.errors import EngineError
from local_engine.names import check_project

PROJECT_SETTING = "project"


def projects_named(tree: exp.Expr) -> list[tuple[str, str]]:
    """(project, how it was written) for every project a statement names."""
    schema = _schema_node(tree)
    found: list[tuple[str, str]] = []
    for table in tree.find_all(exp.Table):
        parts = [p for part in (table.catalog, table.db, table.name) for p in part.split(".") if p]
        if len(parts) == (2 if table is schema else 3):
            found.append((parts[0], table.sql("bigquery")))
    for column in tree.find_all(exp.Column):
        catalog = column.text("catalog")
        if catalog:
            found.append((catalog, column.sql("bigquery")))
    return found


def _schema_node(tree: exp.Expr) -> exp.Expr | None:
    kind = str(tree.args.get("kind") or "").upper()
    if isinstance(tree, (exp.Create, exp.Drop)) and kind == "SCHEMA":
        return tree.this if isinstance(tree.this, exp.Table) else None
    return None


def claim_projects(catalog: Catalog, named: Iterable[tuple[str, str]]) -> None:
    """Accept the projects a statement names, making the first real one the lake's."""
    for project, written in named:
        check_project(project, written)
        if project == LOCAL_PROJECT:
            continue
        held = catalog.setting(PROJECT_SETTING)
        if held is None:
            catalog.put_setting(PROJECT_SETTING, project)
        elif held != project:
            raise EngineError(
                f"{written} names project {project!r}, but this lake holds project {held!r} "
                f"(named by its first statement that named a project; {LOCAL_PROJECT!r} "
                "also names it): one lake holds one project, so use another home directory "
                f"for {project!r}"
            )


def lake_project(catalog: Catalog) -> str:
    """The project the lake holds: the one its statements named, else `local-lake`."""
    return catalog.setting(PROJECT_SETTING) or LOCAL_PROJECT
