"""Dashboard links for the predictions table: Looker Studio and the BigQuery console.

Pure functions over ids, so the Pulumi program (inside `Output.apply`), the local lake's
outputs.json and the report all build the same URLs.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from pipeline.errors import SqlRunnerError

LOOKER_STUDIO_CREATE_URL = "https://lookerstudio.google.com/reporting/create"
BIGQUERY_CONSOLE_URL = "https://console.cloud.google.com/bigquery"


def split_table_id(table_id: str) -> tuple[str, str, str]:
    """`project.dataset.table` (back-quotes allowed) as its three parts."""
    parts = table_id.replace("`", "").split(".")
    if len(parts) != 3 or not all(parts):
        raise SqlRunnerError(
            f"expected a fully qualified id project.dataset.name, got {table_id!r}"
        )
    return parts[0], parts[1], parts[2]


def looker_studio_url(
    project: str,
    dataset_id: str,
    table: str,
    *,
    report_name: str = "ResNet-50 predictions",
    billing_project: str | None = None,
) -> str:
    """A Linking API URL that opens a new report over one BigQuery table.

    No `c.reportId`: Looker Studio starts from its blank template and adds the table as
    data source `ds0` with the BigQuery connector, so the user sets nothing up by hand.
    """
    params = {
        "c.mode": "edit",
        "r.reportName": report_name,
        "ds.ds0.connector": "bigQuery",
        "ds.ds0.type": "TABLE",
        "ds.ds0.projectId": project,
        "ds.ds0.datasetId": dataset_id,
        "ds.ds0.tableId": table,
        "ds.ds0.billingProjectId": billing_project or project,
        "ds.ds0.datasourceName": f"{dataset_id}.{table}",
    }
    return f"{LOOKER_STUDIO_CREATE_URL}?{urlencode(params, quote_via=quote)}"


def _console_url(project: str, workspace: str) -> str:
    # `ws` is the console's own resource path; "!" and "=" must stay literal in it.
    return f"{BIGQUERY_CONSOLE_URL}?project={quote(project)}&ws={workspace}"


def dataset_console_url(project: str, dataset_id: str) -> str:
    return _console_url(project, f"!1m4!1m3!3m2!1s{quote(project)}!2s{quote(dataset_id)}")


def table_console_url(project: str, dataset_id: str, table: str) -> str:
    return _console_url(
        project, f"!1m5!1m4!4m3!1s{quote(project)}!2s{quote(dataset_id)}!3s{quote(table)}"
    )


def model_console_url(project: str, dataset_id: str, model: str) -> str:
    return _console_url(
        project, f"!1m5!1m4!5m3!1s{quote(project)}!2s{quote(dataset_id)}!3s{quote(model)}"
    )


def dashboard_urls(predictions_table_id: str, model_id: str) -> dict[str, str]:
    """The three dashboard URLs of the stack outputs, keyed by output name."""
    project, dataset_id, table = split_table_id(predictions_table_id)
    model_project, model_dataset, model = split_table_id(model_id)
    return {
        "looker_studio_url": looker_studio_url(project, dataset_id, table),
        "predictions_console_url": table_console_url(project, dataset_id, table),
        "model_console_url": model_console_url(model_project, model_dataset, model),
    }
