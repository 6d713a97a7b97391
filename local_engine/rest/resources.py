"""Datasets, tables and models as the REST API describes them (datasets.get, tables.get, ...)."""

from __future__ import annotations

from typing import Any

from local_engine.names import TableName
from local_engine.records import ModelRecord
from local_engine.rest.encoding import schema_json, tensor_type
from local_engine.rest.lake import TableInfo

# The lake keeps no location of its own; resources say the one BigQuery defaults to.
LAKE_LOCATION = "US"


def dataset_reference(project: str, dataset: str) -> dict[str, str]:
    return {"projectId": project, "datasetId": dataset}


def dataset_resource(project: str, dataset: str) -> dict[str, Any]:
    return {
        "kind": "bigquery#dataset",
        "id": f"{project}:{dataset}",
        "datasetReference": dataset_reference(project, dataset),
        "location": LAKE_LOCATION,
    }


def table_reference(project: str, name: TableName) -> dict[str, str]:
    return {"projectId": project, "datasetId": name.dataset, "tableId": name.name}


def table_list_entry(project: str, name: TableName, kind: str) -> dict[str, Any]:
    return {
        "kind": "bigquery#table",
        "id": f"{project}:{name}",
        "tableReference": table_reference(project, name),
        "type": kind,
    }


def table_resource(project: str, table: TableInfo) -> dict[str, Any]:
    resource = {
        **table_list_entry(project, table.name, table.kind),
        "schema": schema_json(table.schema),
        "location": LAKE_LOCATION,
    }
    if table.num_rows is not None:
        resource["numRows"] = str(table.num_rows)
    if table.kind == "EXTERNAL":
        resource["externalDataConfiguration"] = {
            "sourceUris": list(table.uris),
            "objectMetadata": "SIMPLE",
            "connectionId": f"{project}.{table.connection}",
            "autodetect": False,
        }
    return resource


def model_reference(project: str, name: TableName) -> dict[str, str]:
    return {"projectId": project, "datasetId": name.dataset, "modelId": name.name}


def model_resource(project: str, name: TableName, record: ModelRecord | None) -> dict[str, Any]:
    """models.list leaves out the columns; models.get gives them from the signature."""
    resource: dict[str, Any] = {
        "kind": "bigquery#model",
        "modelReference": model_reference(project, name),
        "location": LAKE_LOCATION,
    }
    if record is not None:
        resource["modelType"] = record.model_type
        resource["featureColumns"] = [
            {"name": spec.name, "type": tensor_type(spec)} for spec in record.features
        ]
        resource["labelColumns"] = [
            {"name": spec.name, "type": tensor_type(spec)} for spec in record.labels
        ]
    return resource
