"""The Looker Studio Linking API URL and the BigQuery console URLs (pipeline.looker)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from pipeline.errors import SqlRunnerError
from pipeline.looker import (
    dashboard_urls,
    dataset_console_url,
    looker_studio_url,
    model_console_url,
    split_table_id,
    table_console_url,
)

PROJECT = "my-project"
DATASET = "resnet_inference_test"


def test_linking_url_parses_into_exactly_the_bigquery_data_source_parameters() -> None:
    url = looker_studio_url(PROJECT, DATASET, "predictions")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "lookerstudio.google.com",
        "/reporting/create",
    )
    assert parts.fragment == ""
    assert parse_qs(parts.query, keep_blank_values=True, strict_parsing=True) == {
        "c.mode": ["edit"],
        "r.reportName": ["ResNet-50 predictions"],
        "ds.ds0.connector": ["bigQuery"],
        "ds.ds0.type": ["TABLE"],
        "ds.ds0.projectId": [PROJECT],
        "ds.ds0.datasetId": [DATASET],
        "ds.ds0.tableId": ["predictions"],
        "ds.ds0.billingProjectId": [PROJECT],
        "ds.ds0.datasourceName": [f"{DATASET}.predictions"],
    }


def test_linking_url_encodes_names_and_takes_a_billing_project() -> None:
    url = looker_studio_url(
        PROJECT, DATASET, "predictions", report_name="Cats & dogs?", billing_project="payer-1"
    )
    query = parse_qs(urlsplit(url).query, strict_parsing=True)
    assert query["r.reportName"] == ["Cats & dogs?"]
    assert query["ds.ds0.billingProjectId"] == ["payer-1"]
    assert query["ds.ds0.projectId"] == [PROJECT]
    assert " " not in url and "&dogs" not in url


def test_console_urls_open_the_dataset_table_and_model() -> None:
    base = f"https://console.cloud.google.com/bigquery?project={PROJECT}&ws="
    assert dataset_console_url(PROJECT, DATASET) == f"{base}!1m4!1m3!3m2!1s{PROJECT}!2s{DATASET}"
    assert (
        table_console_url(PROJECT, DATASET, "predictions")
        == f"{base}!1m5!1m4!4m3!1s{PROJECT}!2s{DATASET}!3spredictions"
    )
    assert (
        model_console_url(PROJECT, DATASET, "resnet")
        == f"{base}!1m5!1m4!5m3!1s{PROJECT}!2s{DATASET}!3sresnet"
    )


def test_dashboard_urls_are_the_three_output_keys_built_from_fully_qualified_ids() -> None:
    urls = dashboard_urls(f"{PROJECT}.{DATASET}.predictions", f"`{PROJECT}.{DATASET}.resnet`")
    assert urls == {
        "looker_studio_url": looker_studio_url(PROJECT, DATASET, "predictions"),
        "predictions_console_url": table_console_url(PROJECT, DATASET, "predictions"),
        "model_console_url": model_console_url(PROJECT, DATASET, "resnet"),
    }


@pytest.mark.parametrize("bad", ["predictions", f"{DATASET}.predictions", "a..b", "a.b.c.d"])
def test_ids_must_be_fully_qualified(bad: str) -> None:
    with pytest.raises(SqlRunnerError, match=r"project\.dataset\.name"):
        split_table_id(bad)


def test_split_table_id_drops_back_quotes() -> None:
    assert split_table_id(f"`{PROJECT}.{DATASET}.predictions`") == (PROJECT, DATASET, "predictions")
