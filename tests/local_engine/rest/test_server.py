"""google-cloud-bigquery against the served lake: the walkthrough end to end, and the errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from google.api_core import exceptions
from google.cloud import bigquery

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


@pytest.fixture
def served(
    tmp_path: Path, sample_images: Path, tiny_savedmodel: Path
) -> Iterator[tuple[LakeServer, list[str]]]:
    uris = seed_lake(tmp_path / "lake", sample_images, tiny_savedmodel, photos=3)
    with LakeServer(tmp_path / "lake") as server:
        yield server, uris


@pytest.fixture
def client(served: tuple[LakeServer, list[str]]) -> bigquery.Client:
    return lake_client(served[0].endpoint)


def make_walkthrough(client: bigquery.Client) -> None:
    client.create_dataset(DATASET)
    client.query(
        f"CREATE EXTERNAL TABLE {DATASET}.vision_images WITH CONNECTION `{CONNECTION}`"
        f" OPTIONS (object_metadata = 'SIMPLE', uris = ['{IMAGES_URI}'])"
    ).result()
    client.query(
        f"CREATE MODEL `{DATASET}.resnet`"
        f" OPTIONS (model_type = 'TENSORFLOW', model_path = '{MODEL_URI}')"
    ).result()


def test_the_walkthrough_through_google_cloud_bigquery(
    served: tuple[LakeServer, list[str]], client: bigquery.Client
) -> None:
    uris = served[1]
    make_walkthrough(client)

    rows = list(client.query(WALKTHROUGH_PREDICT).result())

    assert sorted(row["uri"] for row in rows) == uris
    for row in rows:
        scores = row["activation_49"]
        assert len(scores) == 1001
        assert sum(scores) == pytest.approx(1.0, abs=1e-3)  # softmax
        assert row["input_1"]["shape"] == [224, 224, 3]
    assert [d.dataset_id for d in client.list_datasets()] == [DATASET]
    assert [t.table_id for t in client.list_tables(DATASET)] == ["vision_images"]


def test_table_and_model_schemas(client: bigquery.Client) -> None:
    make_walkthrough(client)

    table = client.get_table(f"{DATASET}.vision_images")
    model = client.get_model(f"{DATASET}.resnet")

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
    assert model.model_type == "TENSORFLOW"
    assert [c.name for c in model.feature_columns] == ["input_1"]
    assert [c.name for c in model.label_columns] == ["activation_49"]
    label_type = model.label_columns[0].type
    assert label_type.type_kind == bigquery.StandardSqlTypeNames.ARRAY
    assert label_type.array_element_type.type_kind == bigquery.StandardSqlTypeNames.FLOAT64
