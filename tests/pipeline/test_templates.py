"""The sql/ templates: they render from stack outputs, parse as BigQuery SQL, refuse injection."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from sqlglot import exp

from pipeline.errors import SqlRunnerError
from pipeline.labels import LABELS_CSV, labels_csv_text, labels_from_package, load_labels
from pipeline.templates import (
    CLEANUP,
    PIPELINE,
    SQL_DIR,
    RenderOptions,
    labels_table_id,
    render_file,
    render_pipeline,
    render_text,
    split_statements,
)
from tests.support.paths import REPO

OUTPUTS: dict[str, Any] = {
    "project": "my-project",
    "location": "US",
    "dataset_id": "resnet_inference_test",
    "model_files_uri": "gs://my-project-resnet-inference-dev/resnet_50/*",
    "model_type": "TENSORFLOW",
    "object_table_id": "my-project.resnet_inference_test.vision_images",
    "model_id": "my-project.resnet_inference_test.resnet",
    "predictions_table_id": "my-project.resnet_inference_test.predictions",
    "top_k": 5,
}


def parsed(sql: str) -> list[exp.Expr]:
    return [sqlglot.parse_one(s, read="bigquery") for s in split_statements(sql)]


# --- labels ---


def test_labels_file_is_background_then_the_packages_1000_classes() -> None:
    labels = load_labels()
    assert len(labels) == 1001
    assert labels[0] == "background"
    assert labels[1:] == labels_from_package()[1:]
    assert labels[1] == "tench" and labels[1000] == "toilet paper"


def test_shipped_labels_csv_is_exactly_what_the_generator_writes() -> None:
    assert LABELS_CSV.read_text(encoding="utf-8") == labels_csv_text(labels_from_package())


def test_labels_statement_holds_every_label_in_order() -> None:
    (statement,) = parsed(render_file("labels.sql", OUTPUTS).sql)
    assert isinstance(statement, exp.Create)
    assert statement.this.sql("bigquery") == "`my-project.resnet_inference_test.imagenet_labels`"
    unnest = statement.find(exp.Unnest)
    assert unnest is not None
    array = unnest.expressions[0]
    assert [literal.this for literal in array.expressions] == load_labels()
    # The labels with quotes and commas survive as single literals.
    assert "Geoffroy's spider monkey" in [literal.this for literal in array.expressions]


# --- every template renders and parses ---


@pytest.mark.parametrize("name", [*PIPELINE, CLEANUP])
def test_template_renders_and_parses_as_bigquery(name: str) -> None:
    rendered = render_file(name, OUTPUTS)
    assert "${" not in rendered.sql
    statements = parsed(rendered.sql)
    assert statements
    assert not any(isinstance(s, exp.Command) for s in statements), "parsed as raw commands"


def test_create_model_reads_the_model_files_with_the_model_type() -> None:
    (statement,) = parsed(render_file("create_model.sql", OUTPUTS).sql)
    assert isinstance(statement, exp.Create)
    assert statement.args["kind"] == "MODEL" and statement.args.get("replace")
    assert statement.sql("bigquery", comments=False) == (
        "CREATE OR REPLACE MODEL `my-project.resnet_inference_test.resnet` "
        "OPTIONS (model_type='TENSORFLOW', "
        "model_path='gs://my-project-resnet-inference-dev/resnet_50/*')"
    )


def test_predict_creates_the_contract_schema_then_deletes_then_inserts() -> None:
    create, delete, insert = parsed(render_file("predict.sql", OUTPUTS).sql)
    assert isinstance(create, exp.Create) and create.args.get("exists")
    columns = {c.name: c.args["kind"].sql("bigquery") for c in create.this.expressions}
    assert columns == {
        "uri": "STRING",
        "generation": "INT64",
        "content_type": "STRING",
        "size": "INT64",
        "skip_reason": "STRING",
        "top_labels": "ARRAY<STRUCT<`rank` INT64, class_index INT64, label STRING, score FLOAT64>>",
        "top1_label": "STRING",
        "top1_score": "FLOAT64",
        "model_id": "STRING",
        "predicted_at": "TIMESTAMP",
    }
    assert isinstance(delete, exp.Delete)
    assert isinstance(insert, exp.Insert)
    sql = insert.sql("bigquery")
    assert "ML.PREDICT(MODEL `my-project.resnet_inference_test.resnet`" in sql
    assert "ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 224, 224, FALSE) AS `input_1`" in sql
    assert "content_type IN ('image/jpeg', 'image/png', 'image/bmp')" in sql
    assert "size <= 10000000" in sql
    assert (
        "ARRAY_AGG(STRUCT(class_index AS class_index, score AS score)"
        " ORDER BY score DESC, -class_index DESC LIMIT 5) AS best"
    ) in sql
    assert "GROUP BY s.uri, s.generation, s.content_type, s.size" in sql
    assert "LEFT JOIN `my-project.resnet_inference_test.imagenet_labels`" in sql


def test_full_refresh_is_one_flag_in_the_delete() -> None:
    incremental = parsed(render_file("predict.sql", OUTPUTS).sql)[1]
    full = parsed(render_file("predict.sql", OUTPUTS, RenderOptions(full_refresh=True)).sql)[1]
    assert incremental.args["where"].this.left == exp.false()
    assert full.args["where"].this.left == exp.true()


def test_predict_reads_the_ml_predict_result_once() -> None:
    """Referenced once, the scores CTE streams; twice, DuckDB would materialise it."""
    insert = parsed(render_file("predict.sql", OUTPUTS).sql)[2]
    readers = [t for t in insert.find_all(exp.Table) if t.name == "scores"]
    assert len(readers) == 1
    assert not list(insert.find_all(exp.Window))


def test_top_k_comes_from_the_outputs() -> None:
    insert = parsed(render_file("predict.sql", {**OUTPUTS, "top_k": 3}).sql)[2]
    assert "ORDER BY score DESC, -class_index DESC LIMIT 3)" in insert.sql("bigquery")


def test_pipeline_is_labels_then_model_then_predict() -> None:
    assert [t.name for t in render_pipeline(OUTPUTS)] == [
        "labels.sql",
        "create_model.sql",
        "predict.sql",
    ]


def test_labels_table_defaults_beside_the_predictions_and_follows_the_output() -> None:
    assert labels_table_id(OUTPUTS) == "my-project.resnet_inference_test.imagenet_labels"
    custom = {**OUTPUTS, "labels_table_id": "my-project.other.names"}
    assert "`my-project.other.names`" in render_file("labels.sql", custom).sql


def test_local_two_part_ids_are_accepted() -> None:
    local = {**OUTPUTS, "model_id": "ds.resnet", "predictions_table_id": "ds.predictions"}
    assert "`ds.resnet`" in render_file("create_model.sql", local).sql


# --- refusals, each naming the key ---


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("model_id", "my-project.resnet_inference_test.resnet`; DROP TABLE x; --"),
        ("model_id", "my-project.resnet_inference_test"),
        ("model_id", "my-project.a.b.c"),
        ("model_id", "My_Project.ds.m"),
        ("object_table_id", "my-project.ds.t WHERE 1=1"),
        ("predictions_table_id", "my-project.ds.p\n; DELETE FROM x"),
        ("predictions_table_id", "my-project.ds-x.p"),
        ("model_files_uri", "gs://bucket/path/*', model_type='ONNX"),
        ("model_files_uri", "gs://bucket/a*/b*"),
        ("model_files_uri", "https://example.com/model/*"),
        ("model_files_uri", "gs://bucket/path\\*"),
        ("model_type", "TENSORFLOW' --"),
        ("model_type", "XGBOOST"),
        ("top_k", "5; DROP TABLE x"),
        ("top_k", 0),
        ("top_k", True),
        ("model_id", 42),
    ],
)
def test_values_that_could_change_the_statement_are_refused(key: str, value: object) -> None:
    outputs = {**OUTPUTS, key: value}
    with pytest.raises(SqlRunnerError, match=rf"^{key}: "):
        for name in PIPELINE:
            render_file(name, outputs)


def test_injection_in_labels_table_id_is_refused() -> None:
    with pytest.raises(SqlRunnerError, match=r"^labels_table_id: "):
        render_file("labels.sql", {**OUTPUTS, "labels_table_id": "p-roject.d.t`;--"})


def test_missing_output_is_named() -> None:
    outputs = {k: v for k, v in OUTPUTS.items() if k != "object_table_id"}
    with pytest.raises(SqlRunnerError, match="stack output 'object_table_id' is missing"):
        render_file("predict.sql", outputs)


def test_unknown_placeholder_and_stray_dollar_are_refused() -> None:
    with pytest.raises(SqlRunnerError, match=r"^t\.sql: unknown placeholder \$\{dataset\}$"):
        render_text("SELECT 1 FROM ${dataset}", OUTPUTS, RenderOptions(), "t.sql")
    with pytest.raises(SqlRunnerError, match=r"^t\.sql: a '\$' that is not"):
        render_text("SELECT '$ 5'", OUTPUTS, RenderOptions(), "t.sql")


def test_templates_only_use_known_placeholders() -> None:
    for path in sorted(SQL_DIR.glob("*.sql")):
        render_file(path, {**OUTPUTS})  # raises on an unknown placeholder


# --- statements ---


def test_split_statements_names_the_template_when_the_script_cannot_be_split() -> None:
    with pytest.raises(SqlRunnerError, match=r"^t\.sql: cannot split into statements: "):
        split_statements("SELECT 'unterminated", "t.sql")


# --- the render command ---


def run_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sqlrunner", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def test_render_command_prints_the_filled_sql(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(OUTPUTS))
    done = run_cli("render", "sql/create_model.sql", "--outputs", str(outputs))
    assert done.returncode == 0, done.stderr
    assert done.stdout == render_file("create_model.sql", OUTPUTS).sql


def test_render_command_reads_home_outputs_by_default(tmp_path: Path) -> None:
    (tmp_path / "outputs.json").write_text(json.dumps(OUTPUTS))
    done = run_cli("render", "predict.sql", "--home", str(tmp_path), "--full-refresh")
    assert done.returncode == 0, done.stderr
    assert "WHERE TRUE" in done.stdout


def test_render_command_refuses_injection_with_one_error_line(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({**OUTPUTS, "model_type": "ONNX'); DROP TABLE t; --"}))
    done = run_cli("render", "create_model.sql", "--outputs", str(outputs))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith("error: model_type: ")
    assert len(done.stderr.strip().splitlines()) == 1


def test_render_command_names_a_missing_outputs_file(tmp_path: Path) -> None:
    done = run_cli("render", "create_model.sql", "--outputs", str(tmp_path / "nope.json"))
    assert done.returncode == 1
    missing = tmp_path / "nope.json"
    assert done.stderr.strip() == (
        f"error: no outputs file at {missing}; write one with "
        f"`pulumi stack output --json --show-secrets > {missing}`"
    )


# --- the model the templates follow ---


def _efficientnet_outputs() -> dict[str, object]:
    return {
        **OUTPUTS,
        "model_input": "image",
        "model_output": "probabilities",
        "image_size": 240,
        "class_count": 1000,
        "background_class": False,
    }


def test_predict_uses_the_configured_feature_output_and_size() -> None:
    sql = render_file("predict.sql", _efficientnet_outputs()).sql
    assert "ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 240, 240, FALSE) AS `image`" in sql
    assert "`probabilities` AS scores" in sql
    assert "input_1" not in sql and "activation_49" not in sql and "224" not in sql


def test_labels_follow_the_background_class() -> None:
    with_background = render_file("labels.sql", OUTPUTS).sql
    without = render_file("labels.sql", _efficientnet_outputs()).sql
    assert "UNNEST(['background', 'tench'," in with_background
    assert "UNNEST(['tench'," in without and "'background'" not in without


def test_top_k_is_bounded_by_the_class_count() -> None:
    assert (
        "LIMIT 1000" in render_file("predict.sql", {**_efficientnet_outputs(), "top_k": 1000}).sql
    )
    with pytest.raises(SqlRunnerError, match="top_k: 1001 is not an integer from 1 to 1000"):
        render_file("predict.sql", {**_efficientnet_outputs(), "top_k": 1001})


@pytest.mark.parametrize(
    ("key", "value"),
    [("model_input", "image` AS x, (SELECT 1) AS `y"), ("model_output", "a-b"), ("image_size", -1)],
)
def test_hostile_model_values_are_refused(key: str, value: object) -> None:
    with pytest.raises(SqlRunnerError, match=key):
        render_file("predict.sql", {**OUTPUTS, key: value})


def test_rendering_refuses_a_local_model_whose_signature_differs(tmp_path: Path) -> None:
    from tests.support.savedmodel_pb import signature_pb, write_saved_model_pb

    write_saved_model_pb(tmp_path)
    options = RenderOptions(local_model_dir=tmp_path)
    assert "`input_1`" in render_file("predict.sql", OUTPUTS, options).sql
    with pytest.raises(SqlRunnerError) as refused:
        render_file("predict.sql", _efficientnet_outputs(), options)
    message = str(refused.value)
    assert "image float32 [-1, 240, 240, 3] -> probabilities float32 [-1, 1000]" in message
    assert "input_1 float32 [-1, 224, 224, 3] -> activation_49 float32 [-1, 1001]" in message
    write_saved_model_pb(
        tmp_path, signature_pb({"input_1": (-1, 224, 224, 3)}, {"activation_49": (-1, 1000)})
    )
    with pytest.raises(SqlRunnerError, match=r"activation_49 float32 \[-1, 1000\]"):
        render_file("labels.sql", OUTPUTS, options)
