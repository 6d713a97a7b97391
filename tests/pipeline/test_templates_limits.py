"""The rendered SQL at the documented edges of each output: top_k 1..1001, ids, URIs."""

from __future__ import annotations

import pytest
import sqlglot

from pipeline.errors import SqlRunnerError
from pipeline.templates import render_file

OUTPUTS: dict[str, object] = {
    "project": "my-project",
    "location": "US",
    "model_files_uri": "gs://my-project-models/resnet_50/*",
    "model_type": "TENSORFLOW",
    "object_table_id": "my-project.resnet_inference_test.vision_images",
    "model_id": "my-project.resnet_inference_test.resnet",
    "predictions_table_id": "my-project.resnet_inference_test.predictions",
    "top_k": 5,
}


def predict_sql(**changes: object) -> str:
    return render_file("predict.sql", {**OUTPUTS, **changes}).sql


@pytest.mark.parametrize("top_k", [1, 2, 1000, 1001])
def test_top_k_from_1_to_1001_is_the_limit_of_labels_kept(top_k: int) -> None:
    sql = predict_sql(top_k=top_k)
    assert f"LIMIT {top_k}\n" in sql
    sqlglot.parse(sql, read="bigquery")


@pytest.mark.parametrize("top_k", [0, -1, 1002, 10**6, 5.0, "5", None, True, False])
def test_top_k_outside_1_to_1001_is_refused_naming_the_range(top_k: object) -> None:
    with pytest.raises(SqlRunnerError, match=r"^top_k: .* is not an integer from 1 to 1001$"):
        predict_sql(top_k=top_k)


def test_top_k_defaults_to_5() -> None:
    outputs = {key: value for key, value in OUTPUTS.items() if key != "top_k"}
    assert "LIMIT 5\n" in render_file("predict.sql", outputs).sql


@pytest.mark.parametrize(
    ("key", "good", "bad"),
    [
        # A table name may be 1,024 characters; one more is refused.
        ("predictions_table_id", "my-project.ds." + "p" * 1024, "my-project.ds." + "p" * 1025),
        ("object_table_id", "my-project." + "d" * 1024 + ".t", "my-project." + "d" * 1025 + ".t"),
        # A project id is 6 to 30 characters.
        ("model_id", "abcdef.ds.m", "abcde.ds.m"),
        ("model_id", "a" * 30 + ".ds.m", "a" * 31 + ".ds.m"),
        ("model_id", "my-project.ds.m_1", "my-project.ds.m-1"),
    ],
)
def test_table_ids_at_and_past_their_length_and_character_rules(
    key: str, good: str, bad: str
) -> None:
    assert (
        f"`{good}`"
        in predict_sql(**{key: good}) + render_file("create_model.sql", {**OUTPUTS, key: good}).sql
    )
    with pytest.raises(SqlRunnerError, match=rf"^{key}: "):
        predict_sql(**{key: bad})
        render_file("create_model.sql", {**OUTPUTS, key: bad})
