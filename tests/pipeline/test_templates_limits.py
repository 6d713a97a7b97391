"""The rendered SQL at the documented edges of each output and option, and its errors."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlglot

from pipeline.errors import SqlRunnerError
from pipeline.templates import (
    SQL_DIR,
    RenderOptions,
    render_file,
    render_pipeline,
    split_statements,
    template_path,
)

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


def test_the_size_guard_is_ml_decode_images_limit_unless_told() -> None:
    assert "size <= 10000000\n" in predict_sql()
    told = render_file("predict.sql", OUTPUTS, RenderOptions(max_image_bytes=1)).sql
    assert "size <= 1\n" in told and "size > 1)" in told and "10000000" not in told


@pytest.mark.parametrize("size", [0, -5, True, 2.5])
def test_the_size_guard_must_be_a_positive_integer(size: object) -> None:
    with pytest.raises(SqlRunnerError, match=r"^max_image_bytes: .* is not a positive integer$"):
        render_file("predict.sql", OUTPUTS, RenderOptions(max_image_bytes=size))  # type: ignore[arg-type]


def test_the_pipeline_passes_its_options_to_every_template() -> None:
    full = RenderOptions(full_refresh=True)
    assert render_pipeline(OUTPUTS, full)[2] == render_file("predict.sql", OUTPUTS, full)
    assert render_pipeline(OUTPUTS)[2] == render_file("predict.sql", OUTPUTS)
    assert render_pipeline(OUTPUTS, full)[2] != render_pipeline(OUTPUTS)[2]


def test_a_template_is_found_by_name_or_by_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert template_path("predict.sql") == SQL_DIR / "predict.sql"
    own = tmp_path / "predict.sql"
    own.write_text("SELECT ${top_k} AS k")
    assert template_path(own) == own
    monkeypatch.chdir(tmp_path)
    assert template_path("predict.sql") == Path("predict.sql")  # a file here wins
    assert render_file("predict.sql", OUTPUTS).sql == "SELECT 5 AS k"
    assert template_path(tmp_path / "gone" / "predict.sql") == tmp_path / "gone" / "predict.sql"


def test_errors_name_the_template_file(tmp_path: Path) -> None:
    bad = tmp_path / "mine.sql"
    bad.write_text("SELECT ${nope}")
    with pytest.raises(SqlRunnerError, match=r"^mine\.sql: unknown placeholder \$\{nope\}$"):
        render_file(bad, OUTPUTS)
    with pytest.raises(
        SqlRunnerError, match=rf"^cannot read template {tmp_path}/absent\.sql: No such file"
    ):
        render_file(tmp_path / "absent.sql", OUTPUTS)


def test_templates_are_read_as_utf8(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = tmp_path / "utf8.sql"
    text.write_bytes("SELECT 'café ☕' AS s".encode())
    # A Latin-1 locale: the encoding an unspecified `encoding` would fall back to there.
    monkeypatch.setattr(io, "text_encoding", lambda encoding, *_: encoding or "latin-1")
    assert render_file(text, OUTPUTS).sql == "SELECT 'café ☕' AS s"


def test_split_errors_name_their_source() -> None:
    with pytest.raises(SqlRunnerError, match=r"^SQL: cannot split into statements"):
        split_statements("SELECT 'unterminated")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "model_type",
            "XGBOOST",
            "model_type: 'XGBOOST' is not one of TENSORFLOW, ONNX, TENSORFLOW_LITE",
        ),
        (
            "model_files_uri",
            "gs://bucket/a*/b*",
            "model_files_uri: 'gs://bucket/a*/b*' is not a gs://bucket/path/* URI of letters, "
            "digits, '.', '_', '-' and '/', with at most one trailing '*'",
        ),
    ],
)
def test_a_refused_model_output_is_one_exact_line(key: str, value: str, message: str) -> None:
    with pytest.raises(SqlRunnerError) as caught:
        render_file("create_model.sql", {**OUTPUTS, key: value})
    assert str(caught.value) == message
