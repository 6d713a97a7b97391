"""How BigQuery names map onto the local lake.

`project.dataset.table`, `dataset.table` and their back-quoted forms all name DuckDB
schema `dataset`, table `table`; connections are `location.id` (`us.lake-connection`).
Which projects a lake accepts is `local_engine.projects`' rule; here a project only has
to be a well-formed project id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlglot import exp

from bigquery_facts import CONNECTION_ID, DATASET_ID, LOCAL_PROJECT, PROJECT_ID
from local_engine.errors import EngineError

_LOCATION_RE = re.compile(r"^[A-Za-z0-9-]+$")
_RESOURCE_NAME_RE = re.compile(r"^projects/([^/]+)/locations/([^/]+)/connections/([^/]+)$")


@dataclass(frozen=True, order=True)
class TableName:
    dataset: str
    name: str

    def __str__(self) -> str:
        return f"{self.dataset}.{self.name}"


def check_project(project: str, what: str) -> None:
    if project and project != LOCAL_PROJECT and not PROJECT_ID.matches(project):
        raise EngineError(f"{what} names project {project!r}, which {PROJECT_ID.wording}")


def table_name(table: exp.Table, what: str = "table") -> TableName:
    """The dataset-qualified name of a parsed table reference."""
    check_project(table.catalog, f"{what} {table.sql('bigquery')}")
    if not table.db:
        raise EngineError(
            f"{what} {table.name!r} must be qualified with its dataset (dataset.{table.name})"
        )
    return TableName(table.db, table.name)


def dataset_name(node: exp.Table) -> str:
    """The dataset of CREATE/DROP SCHEMA, written `dataset`, `project.dataset` or back-quoted."""
    parts: list[str] = []
    for part in (node.catalog, node.db, node.name):
        parts.extend(piece for piece in part.split(".") if piece)
    written = ".".join(parts)
    if len(parts) == 2:
        check_project(parts[0], f"schema {written}")
        parts = parts[1:]
    if len(parts) != 1:
        raise EngineError(f"schema name {written!r} must be dataset or project.dataset")
    name = parts[0]
    if not DATASET_ID.matches(name):
        raise EngineError(f"dataset name {name!r} may hold only letters, digits and underscores")
    return name


def connection_name(text: str) -> str:
    """`us.lake-connection`, `local-lake.us.lake-connection` or the resource name -> `us.lake-connection`."""
    text = text.strip()
    resource = _RESOURCE_NAME_RE.match(text)
    if resource:
        project, location, connection_id = resource.groups()
        parts = [project, location, connection_id]
    else:
        parts = text.split(".")
    if len(parts) == 3:
        check_project(parts[0], f"connection {text!r}")
        parts = parts[1:]
    if len(parts) != 2:
        raise EngineError(
            f"connection {text!r} must be written LOCATION.CONNECTION_ID, e.g. us.lake-connection"
        )
    location, connection_id = parts
    if not _LOCATION_RE.match(location) or not CONNECTION_ID.matches(connection_id):
        raise EngineError(
            f"connection {text!r}: location and id may hold only letters, digits, '-' and '_'"
        )
    return f"{location.lower()}.{connection_id}"


def connection_project(text: str) -> str | None:
    """The project a connection name carries (`proj.us.conn`, `projects/proj/...`), if any."""
    text = text.strip()
    resource = _RESOURCE_NAME_RE.match(text)
    if resource:
        return resource.group(1)
    parts = text.split(".")
    return parts[0] if len(parts) == 3 else None


def connection_from_table(node: exp.Table) -> str:
    parts = [part.name for part in node.parts]
    return connection_name(".".join(parts))
