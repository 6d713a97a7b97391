"""google-cloud-bigquery against the served lake: the walkthrough end to end, and the errors.

One server per module: the walkthrough's dataset, object table and model are made once
(CREATE MODEL converts the model); tests that change the lake use datasets of their own.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import bigquery

from local_engine.names import TableName
from local_engine.rest.server import LakeServer
from tests.support.lake_server import (
    CONNECTION,
    IMAGES_URI,
    MODEL_URI,
    lake_client,
    seed_lake,
)

DATASET = "resnet_inference_test"
WALKTHROUGH_PREDICT = f"""
SELECT *
FROM ML.PREDICT(
  MODEL `{DATASET}.resnet`,
  (SELECT uri, ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 224, 224, FALSE) AS input_1
   FROM {DATASET}.vision_images))
"""
# A query DuckDB needs minutes for (10^10 pairs): a long job, without a big model.
SLOW_QUERY = (
    "SELECT COUNT(*) AS n FROM UNNEST(GENERATE_ARRAY(1, 100000)) AS a,"
    " UNNEST(GENERATE_ARRAY(1, 100000)) AS b WHERE MOD(a, 7) = MOD(b, 5)"
)


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory, sample_images: Path) -> Iterator[Path]:
    yield tmp_path_factory.mktemp("served") / "lake"


@pytest.fixture(scope="module")
def served(
    lake: Path, sample_images: Path, tiny_savedmodel: Path
) -> Iterator[tuple[LakeServer, list[str]]]:
    uris = seed_lake(lake, sample_images, tiny_savedmodel, photos=3)
    with LakeServer(lake) as server:
        client = lake_client(server.endpoint)
        client.create_dataset(DATASET)
        client.query(
            f"CREATE EXTERNAL TABLE {DATASET}.vision_images WITH CONNECTION `{CONNECTION}`"
            f" OPTIONS (object_metadata = 'SIMPLE', uris = ['{IMAGES_URI}'])"
        ).result()
        client.query(
            f"CREATE MODEL `{DATASET}.resnet`"
            f" OPTIONS (model_type = 'TENSORFLOW', model_path = '{MODEL_URI}')"
        ).result()
        yield server, uris


@pytest.fixture
def client(served: tuple[LakeServer, list[str]]) -> bigquery.Client:
    return lake_client(served[0].endpoint)


@pytest.fixture
def dataset(client: bigquery.Client, request: pytest.FixtureRequest) -> Iterator[str]:
    """A dataset of this test's own, dropped with its contents afterwards."""
    name = "t_" + request.node.name.removeprefix("test_")[:40]
    client.create_dataset(name)
    yield name
    client.delete_dataset(name, delete_contents=True, not_found_ok=True)


def test_the_walkthrough_predicts_1001_scores_per_image(
    served: tuple[LakeServer, list[str]], client: bigquery.Client
) -> None:
    record = served[0].api.lake.model(TableName(DATASET, "resnet"))
    assert record is not None
    (output,) = record.labels
    assert output.shape == (None, 1001)  # the tiny model keeps ResNet-50's signature

    rows = list(client.query(WALKTHROUGH_PREDICT).result())

    assert sorted(row["uri"] for row in rows) == served[1]
    for row in rows:
        scores = row["activation_49"]
        assert len(scores) == output.shape[1]
        assert all(isinstance(score, float) for score in scores)
        assert sum(scores) == pytest.approx(1.0, abs=1e-3)  # softmax
        assert row["input_1"]["shape"] == [224, 224, 3]
        assert len(row["input_1"]["image"]) == 224 * 224 * 3


def test_datasets_and_tables_are_listed(client: bigquery.Client) -> None:
    assert DATASET in [d.dataset_id for d in client.list_datasets()]
    assert [t.table_id for t in client.list_tables(DATASET)] == ["vision_images"]
    assert [m.model_id for m in client.list_models(DATASET)] == ["resnet"]
    assert client.get_dataset(DATASET).dataset_id == DATASET


def test_object_table_schema(client: bigquery.Client) -> None:
    table = client.get_table(f"{DATASET}.vision_images")

    assert table.table_type == "EXTERNAL"
    assert table.external_data_configuration.source_uris == [IMAGES_URI]
    by_name = {field.name: field for field in table.schema}
    assert list(by_name) == [
        "uri", "generation", "content_type", "size", "md5_hash", "updated", "metadata",
    ]  # fmt: skip
    assert (by_name["generation"].field_type, by_name["updated"].field_type) == (
        "INTEGER",
        "TIMESTAMP",
    )
    metadata = by_name["metadata"]
    assert (metadata.field_type, metadata.mode) == ("RECORD", "REPEATED")
    assert [(f.name, f.field_type) for f in metadata.fields] == [
        ("name", "STRING"),
        ("value", "STRING"),
    ]


def test_model_schema_comes_from_the_signature(client: bigquery.Client) -> None:
    model = client.get_model(f"{DATASET}.resnet")

    assert model.model_type == "TENSORFLOW"
    assert [c.name for c in model.feature_columns] == ["input_1"]
    assert [c.name for c in model.label_columns] == ["activation_49"]
    for column in (*model.feature_columns, *model.label_columns):
        kind = column.type
        assert kind is not None and kind.type_kind == bigquery.StandardSqlTypeNames.ARRAY
        element = kind.array_element_type
        assert element is not None and element.type_kind == bigquery.StandardSqlTypeNames.FLOAT64


@pytest.mark.parametrize(
    ("sql", "error"),
    [
        ("SELEC 1", exceptions.BadRequest),
        ("SELECT nope FROM UNNEST([1]) AS x", exceptions.BadRequest),
        (f"SELECT * FROM {DATASET}.no_such_table", exceptions.NotFound),
        (f"SELECT * FROM ML.PREDICT(MODEL {DATASET}.nomodel, TABLE {DATASET}.vision_images)",
         exceptions.NotFound),
        # A project the lake does not hold yet: its dataset is not found, as in BigQuery.
        ("SELECT * FROM `other-project.d.t`", exceptions.NotFound),
    ],
)  # fmt: skip
def test_bad_queries_raise_what_bigquery_raises(
    client: bigquery.Client, sql: str, error: type[Exception]
) -> None:
    job = client.query(sql)
    with pytest.raises(error) as caught:
        job.result()
    job.reload()
    assert job.error_result is not None
    assert job.error_result["message"] in str(caught.value)
    with pytest.raises(error, match=re.escape(job.error_result["message"])):
        client.query_and_wait(sql)  # jobs.query answers the same error


def test_dry_run_gives_the_statement_type_and_bytes(
    served: tuple[LakeServer, list[str]], client: bigquery.Client, lake: Path
) -> None:
    config = bigquery.QueryJobConfig(dry_run=True, use_query_cache=False)
    image_bytes = sum(p.stat().st_size for p in (lake / "gcs" / "bucket" / "images").iterdir())

    job = client.query(WALKTHROUGH_PREDICT, job_config=config)
    ddl = client.query(f"CREATE TABLE {DATASET}.x (a INT64)", job_config=config)

    assert (job.state, job.statement_type, job.total_bytes_processed) == (
        "DONE",
        "SELECT",
        image_bytes,
    )
    assert ddl.statement_type == "CREATE_TABLE"
    with pytest.raises(exceptions.NotFound):  # a dry run starts no job
        client.get_job(job.job_id)
    with pytest.raises(exceptions.NotFound):  # and ran nothing
        client.get_table(f"{DATASET}.x")
    with pytest.raises(exceptions.BadRequest, match="syntax error"):
        client.query("SELECT (", job_config=config)


def test_byte_cap_fails_the_job_before_it_runs(client: bigquery.Client) -> None:
    config = bigquery.QueryJobConfig(maximum_bytes_billed=10)
    job = client.query(WALKTHROUGH_PREDICT, job_config=config)
    with pytest.raises(exceptions.GoogleAPICallError, match="limit for bytes billed: 10"):
        job.result()
    job.reload()
    assert job.error_result is not None
    assert job.error_result["reason"] == "bytesBilledLimitExceeded"


def test_legacy_sql_and_query_parameters_are_refused_by_name(client: bigquery.Client) -> None:
    legacy = bigquery.QueryJobConfig(use_legacy_sql=True)
    with pytest.raises(exceptions.BadRequest, match="Legacy SQL is not supported"):
        client.query("SELECT 1", job_config=legacy)
    parameters = bigquery.QueryJobConfig(
        query_parameters=[bigquery.ScalarQueryParameter("n", "INT64", 1)]
    )
    with pytest.raises(exceptions.BadRequest, match="Query parameters are not supported"):
        client.query("SELECT @n AS n", job_config=parameters)


def test_a_job_id_used_twice_is_a_conflict(client: bigquery.Client) -> None:
    client.query("SELECT 1 AS x", job_id="my_job_1", job_retry=None).result()
    with pytest.raises(exceptions.Conflict, match=r"Already Exists: Job local-lake:US\.my_job_1"):
        client.query("SELECT 2 AS x", job_id="my_job_1", job_retry=None)
    first = client.get_job("my_job_1")
    assert isinstance(first, bigquery.QueryJob)
    assert [row["x"] for row in first.result()] == [1]


def test_nested_rows_page_and_reach_a_dataframe(client: bigquery.Client, dataset: str) -> None:
    client.query(
        f"CREATE TABLE {dataset}.scores AS"
        " SELECT n, [STRUCT(n AS `rank`, CAST(n AS STRING) AS label, n / 4 AS score),"
        "            STRUCT(-n AS `rank`, NULL AS label, 0.5 AS score)] AS top,"
        "        TIMESTAMP_SECONDS(n) AS at"
        " FROM UNNEST(GENERATE_ARRAY(1, 2500)) AS n"
    ).result()

    job = client.query(f"SELECT * FROM {dataset}.scores ORDER BY n")
    rows = job.result(page_size=1000)
    pages = [list(page) for page in rows.pages]
    table = client.get_table(f"{dataset}.scores")
    listed = list(client.list_rows(table, start_index=2498))
    frame = client.query(f"SELECT * FROM {dataset}.scores WHERE n <= 3 ORDER BY n").to_dataframe()

    assert [len(page) for page in pages] == [1000, 1000, 500]
    last = pages[2][-1]
    assert last["n"] == 2500
    assert last["top"] == [
        {"rank": 2500, "label": "2500", "score": 625.0},
        {"rank": -2500, "label": None, "score": 0.5},
    ]
    assert last["at"].timestamp() == 2500
    top = next(f for f in table.schema if f.name == "top")
    assert (top.field_type, top.mode) == ("RECORD", "REPEATED")
    assert [row["n"] for row in listed] == [2499, 2500]
    assert table.num_rows == 2500
    assert list(frame["n"]) == [1, 2, 3]
    assert frame["top"][0][1] == {"rank": -1, "label": None, "score": 0.5}


def test_dml_reports_affected_rows_and_query_and_wait_works(
    client: bigquery.Client, dataset: str
) -> None:
    client.query(f"CREATE TABLE {dataset}.t (a INT64 NOT NULL, b STRING)").result()
    insert = client.query(f"INSERT INTO {dataset}.t VALUES (1, 'x'), (2, 'y'), (3, NULL)")
    insert.result()
    rows = client.query_and_wait(f"SELECT a, b FROM {dataset}.t WHERE a > 1 ORDER BY a")

    assert (insert.statement_type, insert.num_dml_affected_rows) == ("INSERT", 3)
    assert [tuple(row.values()) for row in rows] == [(2, "y"), (3, None)]
    modes = {f.name: f.mode for f in client.get_table(f"{dataset}.t").schema}
    assert modes == {"a": "REQUIRED", "b": "NULLABLE"}


def test_a_script_is_one_job_answering_its_last_query(
    client: bigquery.Client, dataset: str
) -> None:
    job = client.query(
        f"CREATE TABLE {dataset}.s AS SELECT 1 AS a;"
        f" INSERT INTO {dataset}.s VALUES (2), (3);"
        f" SELECT SUM(a) AS total, COUNT(*) AS n FROM {dataset}.s"
    )
    rows = list(job.result())

    assert job.statement_type == "SCRIPT"
    assert [(row["total"], row["n"]) for row in rows] == [(6, 3)]
    failing = client.query(f"INSERT INTO {dataset}.s VALUES (4); SELECT nope FROM {dataset}.s")
    with pytest.raises(exceptions.BadRequest, match="statement 2"):
        failing.result()
    (after,) = client.query_and_wait(f"SELECT COUNT(*) AS n FROM {dataset}.s")
    assert after["n"] == 4  # each statement commits on its own, as in a BigQuery script


def test_dataset_calls_answer_like_bigquery(client: bigquery.Client, dataset: str) -> None:
    client.query(f"CREATE TABLE {dataset}.t AS SELECT 1 AS a").result()

    with pytest.raises(exceptions.Conflict):
        client.create_dataset(dataset)
    with pytest.raises(exceptions.BadRequest, match="still in use"):
        client.delete_dataset(dataset)
    with pytest.raises(exceptions.NotFound):
        client.get_dataset("missing_dataset")
    with pytest.raises(exceptions.NotFound):
        client.get_table(f"{dataset}.missing")
    with pytest.raises(exceptions.BadRequest, match="Invalid dataset ID"):
        client.create_dataset("bad-name")
    client.delete_table(f"{dataset}.t")
    assert list(client.list_tables(dataset)) == []
    client.delete_dataset(dataset)
    with pytest.raises(exceptions.NotFound):
        client.get_dataset(dataset)


def test_another_project_is_not_found(served: tuple[LakeServer, list[str]]) -> None:
    other = lake_client(served[0].endpoint)
    other.project = "other-project"
    with pytest.raises(exceptions.NotFound, match="holds local-lake and the one project"):
        list(other.list_datasets())


def test_the_project_a_statement_claims_is_served_under_its_own_id(tmp_path: Path) -> None:
    """The walkthrough run with a real project id is read back under that id."""
    with LakeServer(tmp_path / "lake") as server:
        client = lake_client(server.endpoint)
        client.query_and_wait("CREATE SCHEMA `my-proj-123.claimed`")
        client.query_and_wait("CREATE TABLE `my-proj-123.claimed.t` AS SELECT 1 AS x")
        real = lake_client(server.endpoint)
        real.project = "my-proj-123"
        assert [d.dataset_id for d in real.list_datasets()] == ["claimed"]
        assert [r["x"] for r in real.query_and_wait("SELECT x FROM claimed.t")] == [1]
        real.project = "other-project"
        with pytest.raises(exceptions.NotFound):
            list(real.list_datasets())


def test_a_long_job_blocks_neither_polling_nor_other_queries(
    client: bigquery.Client, dataset: str
) -> None:
    long_write = client.query(f"CREATE TABLE {dataset}.big AS {SLOW_QUERY}")
    long_read = client.query(SLOW_QUERY)
    polls: list[float] = []
    states: set[str] = set()
    for _ in range(5):
        started = time.monotonic()
        states.add(str(client.get_job(long_read.job_id).state))
        polls.append(time.monotonic() - started)
    assert [row["x"] for row in client.query_and_wait("SELECT 7 AS x")] == [7]
    still_running = client.get_job(long_write.job_id).state
    for job in (long_write, long_read):
        client.cancel_job(job.job_id)
        wait_done(client, job)

    assert "RUNNING" in states
    assert still_running == "RUNNING"  # the quick query did not wait for the long ones
    assert max(polls) < 2.0


def test_concurrent_writes_run_one_at_a_time(client: bigquery.Client, dataset: str) -> None:
    # Side by side, DuckDB would fail all but one of these updates of one row with a
    # write-write conflict; the server's write lock runs them in turn.
    client.query(f"CREATE TABLE {dataset}.counter AS SELECT 0 AS n").result()
    jobs = [client.query(f"UPDATE {dataset}.counter SET n = n + 1 WHERE TRUE") for _ in range(6)]
    for job in jobs:
        job.result()

    assert [job.num_dml_affected_rows for job in jobs] == [1] * len(jobs)
    (row,) = client.query_and_wait(f"SELECT n FROM {dataset}.counter")
    assert row["n"] == len(jobs)


def wait_done(client: bigquery.Client, job: bigquery.QueryJob) -> None:
    for _ in range(100):
        job.reload()
        if job.state == "DONE":
            return
        time.sleep(0.1)
    raise AssertionError(f"job {job.job_id} still {job.state}")


def test_cancel_stops_a_running_job(client: bigquery.Client) -> None:
    job = client.query(SLOW_QUERY)
    client.cancel_job(job.job_id)
    wait_done(client, job)
    assert job.error_result == {
        "reason": "stopped",
        "message": "Job execution was cancelled: User requested cancellation",
    }


def raw(endpoint: str, method: str, path: str, body: bytes | None = None) -> tuple[int, Any]:
    """One request by hand, for what no client library would send."""
    request = urllib.request.Request(endpoint + path, data=body, method=method)
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "reason", "words"),
    [
        ("POST", "/bigquery/v2/projects/local-lake/jobs", b"{not json", 400, "invalid",
         "not JSON"),
        ("POST", "/bigquery/v2/projects/local-lake/jobs", b"[1, 2]", 400, "invalid",
         "JSON object"),
        ("POST", "/bigquery/v2/projects/local-lake/jobs",
         b'{"configuration": {"load": {"sourceUris": ["gs://b/x.csv"]}}}', 400, "invalid",
         "Only query jobs"),
        ("GET", "/bigquery/v2/projects/local-lake/queries/x?pageToken=abc", None, 404,
         "notFound", "Job local-lake:x"),
        ("GET", "/bigquery/v2/projects/local-lake/routines", None, 501, "notImplemented",
         "does not serve GET /bigquery/v2/projects/local-lake/routines"),
        ("GET", "/upload/bigquery/v2/x", None, 501, "notImplemented", "serves only"),
        ("DELETE", "/bigquery/v2/projects/local-lake/datasets/no_such", None, 404, "notFound",
         "Dataset local-lake:no_such"),
    ],
)  # fmt: skip
def test_hostile_or_unserved_requests_get_bigquery_errors(
    served: tuple[LakeServer, list[str]],
    method: str,
    path: str,
    body: bytes | None,
    status: int,
    reason: str,
    words: str,
) -> None:
    code, answer = raw(served[0].endpoint, method, path, body)

    assert code == status
    error = answer["error"]
    assert error["code"] == status
    assert error["errors"][0]["reason"] == reason
    assert words in error["message"]
    assert error["status"]


def test_a_bad_page_token_is_invalid(
    served: tuple[LakeServer, list[str]], client: bigquery.Client
) -> None:
    job = client.query("SELECT 1 AS x")
    job.result()
    code, answer = raw(
        served[0].endpoint,
        "GET",
        f"/bigquery/v2/projects/local-lake/queries/{job.job_id}?pageToken=abc",
    )
    assert (code, answer["error"]["errors"][0]["reason"]) == (400, "invalid")
