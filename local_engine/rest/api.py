"""The API's calls over one lake: jobs, query results, datasets, tables and models.

Each call takes the query parameters, the JSON body and the parts its path names, and
answers (HTTP status, JSON body); failures are `ApiError`s in BigQuery's reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from bigquery_facts import DATASET_ID, LOCAL_PROJECT, TABLE_NAME, NamingRule
from local_engine.names import TableName
from local_engine.rest import resources
from local_engine.rest.encoding import rows_json, schema_json
from local_engine.rest.errors import ApiError, not_found
from local_engine.rest.jobs import JobRequest, JobStore, job_resource
from local_engine.rest.lake import Lake
from local_engine.rest.results import page_bounds, query_results

# How long jobs.getQueryResults and jobs.query wait for a job by default, as BigQuery.
DEFAULT_WAIT_MS = 10_000

Body = dict[str, Any]
Params = dict[str, str]
Handler = Callable[["LakeApi", Params, Body, list[str]], tuple[int, Body | None]]


class LakeApi:
    """The API's calls over one lake; `route` maps a method and path to one of them."""

    def __init__(self, home: Path, *, workers: int | None = None, use_gcs: bool = False) -> None:
        self.lake = Lake(home, use_gcs=use_gcs)
        self.jobs = JobStore(self.lake) if workers is None else JobStore(self.lake, workers)

    def close(self) -> None:
        self.jobs.close()
        self.lake.close()

    def check_project(self, project: str) -> None:
        if not self.lake.holds_project(project):
            raise not_found(
                f"Project {project} (this lake holds {LOCAL_PROJECT} and the one project its "
                "statements name)"
            )

    # jobs

    def insert_job(self, params: Params, body: Body, args: list[str]) -> tuple[int, Body]:
        config = body.get("configuration") or {}
        query = config.get("query")
        if not isinstance(query, dict) or not isinstance(query.get("query"), str):
            raise ApiError("invalid", "Only query jobs are supported by the local lake")
        reference = body.get("jobReference") or {}
        request = self._job_request(args[0], query, reference, config)
        return 200, job_resource(self.jobs.insert(request))

    def _job_request(self, project: str, query: Body, reference: Body, config: Body) -> JobRequest:
        if query.get("useLegacySql"):
            raise ApiError("invalid", "Legacy SQL is not supported by the local lake")
        if query.get("queryParameters"):
            raise ApiError("invalid", "Query parameters are not supported by the local lake")
        cap = _bytes_cap(query.get("maximumBytesBilled"))
        return JobRequest(
            project=project,
            location=str(reference.get("location") or resources.LAKE_LOCATION),
            query=str(query["query"]),
            job_id=reference.get("jobId") or None,
            labels=dict(config.get("labels") or {}),
            dry_run=bool(config.get("dryRun")),
            maximum_bytes_billed=cap,
        )

    def get_job(self, params: Params, body: Body, args: list[str]) -> tuple[int, Body]:
        return 200, job_resource(self.jobs.get(args[0], args[1]))

    def list_jobs(self, params: Params, body: Body, args: list[str]) -> tuple[int, Body]:
        listed = [job_resource(job) for job in self.jobs.list(args[0])]
        return 200, {"kind": "bigquery#jobList", "jobs": listed}

    def cancel_job(self, params: Params, body: Body, args: list[str]) -> tuple[int, Body]:
        job = self.jobs.get(args[0], args[1])
        self.jobs.cancel(job)
        job.done.wait(timeout=1.0)
        return 200, {"kind": "bigquery#jobCancelResponse", "job": job_resource(job)}

    def get_query_results(self, params: Params, body: Body, args: list[str]) -> tuple[int, Body]:
        job = self.jobs.get(args[0], args[1])
        job.done.wait(_wait_s(params.get("timeoutMs")))
        return 200, query_results(job, params, kind="bigquery#getQueryResultsResponse")

    def query(self, params: Params, body: Body, args: list[str]) -> tuple[int, Body]:
        if not isinstance(body.get("query"), str):
            raise ApiError("invalid", "jobs.query needs a query")
        reference = {"location": body.get("location"), "jobId": None}
        config = {"labels": body.get("labels"), "dryRun": body.get("dryRun")}
        request = self._job_request(args[0], body, reference, config)
        job = self.jobs.insert(request)
        if request.dry_run:
            resource = job_resource(job)
            stats = resource["statistics"]
            return 200, {
                "kind": "bigquery#queryResponse",
                "jobReference": resource["jobReference"],
                "jobComplete": True,
                "totalBytesProcessed": stats.get("totalBytesProcessed", "0"),
                "schema": {"fields": []},
            }
        job.done.wait(_wait_s(body.get("timeoutMs")))
        page = {"maxResults": str(body["maxResults"])} if body.get("maxResults") else {}
        if body.get("formatOptions", {}).get("useInt64Timestamp"):
            page["formatOptions.useInt64Timestamp"] = "true"
        return 200, query_results(job, page, kind="bigquery#queryResponse")

    # datasets

    def list_datasets(self, params: Params, body: Body, args: list[str]) -> tuple[int, Body]:
        project = args[0]
        listed = [
            {
                "kind": "bigquery#dataset",
                "id": f"{project}:{name}",
                "datasetReference": resources.dataset_reference(project, name),
                "location": resources.LAKE_LOCATION,
            }
            for name in self.lake.datasets()
        ]
        return 200, {"kind": "bigquery#datasetList", "datasets": listed}

    def get_dataset(self, params: Params, body: Body, args: list[str]) -> tuple[int, Body]:
        project, dataset = args
        self._require_dataset(project, dataset)
        return 200, resources.dataset_resource(project, dataset)

    def insert_dataset(self, params: Params, body: Body, args: list[str]) -> tuple[int, Body]:
        project = args[0]
        dataset = str((body.get("datasetReference") or {}).get("datasetId") or "")
        _check_name(dataset, DATASET_ID, "dataset")
        if self.lake.dataset_exists(dataset):
            raise ApiError("duplicate", f"Already Exists: Dataset {project}:{dataset}")
        self.jobs.run_now(f"CREATE SCHEMA `{dataset}`")
        return 200, resources.dataset_resource(project, dataset)

    def delete_dataset(self, params: Params, body: Body, args: list[str]) -> tuple[int, None]:
        project, dataset = args
        self._require_dataset(project, dataset)
        cascade = params.get("deleteContents", "").lower() == "true"
        if not cascade and (self.lake.tables(dataset) or self.lake.models(dataset)):
            raise ApiError("resourceInUse", f"Dataset {project}:{dataset} is still in use")
        self.jobs.run_now(f"DROP SCHEMA `{dataset}`{' CASCADE' if cascade else ''}")
        return 204, None

    def _require_dataset(self, project: str, dataset: str) -> None:
        if not self.lake.dataset_exists(dataset):
            raise not_found(f"Dataset {project}:{dataset}")

    # tables and their rows

    def list_tables(self, params: Params, body: Body, args: list[str]) -> tuple[int, Body]:
        project, dataset = args
        self._require_dataset(project, dataset)
        listed = [
            resources.table_list_entry(project, TableName(dataset, name), kind)
            for name, kind in self.lake.tables(dataset)
        ]
        return 200, {"kind": "bigquery#tableList", "tables": listed, "totalItems": len(listed)}

    def get_table(self, params: Params, body: Body, args: list[str]) -> tuple[int, Body]:
        project, name = args[0], self._table_name(args)
        table = self.lake.table(name)
        if table is None:
            raise not_found(f"Table {project}:{name}")
        return 200, resources.table_resource(project, table)

    def delete_table(self, params: Params, body: Body, args: list[str]) -> tuple[int, None]:
        project, name = args[0], self._table_name(args)
        table = self.lake.table(name)
        if table is None:
            raise not_found(f"Table {project}:{name}")
        kind = "VIEW" if table.kind == "VIEW" else "TABLE"
        self.jobs.run_now(f"DROP {kind} `{name.dataset}`.`{name.name}`")
        return 204, None

    def list_rows(self, params: Params, body: Body, args: list[str]) -> tuple[int, Body]:
        project, name = args[0], self._table_name(args)
        table = self.lake.table(name)
        if table is None:
            raise not_found(f"Table {project}:{name}")
        if table.kind != "TABLE" or table.num_rows is None:
            raise ApiError("invalid", f"Cannot list a table of type {table.kind}: {name}")
        start, size = page_bounds(
            table.num_rows,
            params.get("maxResults"),
            params.get("pageToken"),
            params.get("startIndex"),
        )
        rows = self.lake.table_rows(name, start, size)
        int64 = params.get("formatOptions.useInt64Timestamp", "").lower() == "true"
        answer: Body = {
            "kind": "bigquery#tableDataList",
            "totalRows": str(table.num_rows),
            "rows": rows_json(rows, 0, size, int64_timestamps=int64),
            "schema": schema_json(table.schema),
        }
        if start + size < table.num_rows:
            answer["pageToken"] = str(start + size)
        return 200, answer

    @staticmethod
    def _table_name(args: list[str]) -> TableName:
        _, dataset, name = args
        _check_name(dataset, DATASET_ID, "dataset")
        _check_name(name, TABLE_NAME, "table")
        return TableName(dataset, name)

    # models

    def list_models(self, params: Params, body: Body, args: list[str]) -> tuple[int, Body]:
        project, dataset = args
        self._require_dataset(project, dataset)
        listed = []
        for model in self.lake.models(dataset):
            name = TableName(dataset, model)
            listed.append(resources.model_resource(project, name, self.lake.model(name)))
        return 200, {"models": listed}

    def get_model(self, params: Params, body: Body, args: list[str]) -> tuple[int, Body]:
        project, name = args[0], self._table_name(args)
        record = self.lake.model(name)
        if record is None:
            raise not_found(f"Model {project}:{name}")
        return 200, resources.model_resource(project, name, record)

    def delete_model(self, params: Params, body: Body, args: list[str]) -> tuple[int, None]:
        project, name = args[0], self._table_name(args)
        if self.lake.model(name) is None:
            raise not_found(f"Model {project}:{name}")
        self.jobs.run_now(f"DROP MODEL `{name.dataset}`.`{name.name}`")
        return 204, None

    # projects

    def list_projects(self, params: Params, body: Body, args: list[str]) -> tuple[int, Body]:
        project = {
            "kind": "bigquery#project",
            "id": LOCAL_PROJECT,
            "projectReference": {"projectId": LOCAL_PROJECT},
            "friendlyName": LOCAL_PROJECT,
        }
        return 200, {"kind": "bigquery#projectList", "projects": [project], "totalItems": 1}


def _bytes_cap(value: object) -> int | None:
    # google-cloud-bigquery sends an unset cap as the string "None".
    if value in (None, "", "None"):
        return None
    try:
        return int(str(value))
    except ValueError:
        raise ApiError("invalid", f"Invalid maximumBytesBilled: {value!r}") from None


def _wait_s(timeout_ms: object) -> float:
    try:
        return max(0.0, min(float(str(timeout_ms)), DEFAULT_WAIT_MS) / 1000)
    except ValueError:
        return DEFAULT_WAIT_MS / 1000


def _check_name(value: str, rule: NamingRule, what: str) -> None:
    if not rule.matches(value):
        raise ApiError("invalid", f"Invalid {what} ID {value!r}: {rule.wording}")
