"""GoogleSQL analysis of the templates: clean on sql/, and faults a parser cannot see reported
with file, statement, line and column."""

from __future__ import annotations

import json
import os
import signal

import pytest

from pipeline.googlesql.check import Problem, TemplateChecker, check_templates, predict_calls
from pipeline.googlesql.server import GoogleSqlServer
from pipeline.templates import PIPELINE, SQL_DIR, RenderedTemplate, render_file, render_text
from tests.support.paths import REPO

OUTPUTS = json.loads((REPO / "tests" / "support" / "check_outputs.json").read_text())
PREDICT = (SQL_DIR / "predict.sql").read_text()


def rendered(name: str, text: str, outputs: dict[str, object] = OUTPUTS) -> RenderedTemplate:
    from pipeline.templates import RenderOptions

    return RenderedTemplate(name, render_text(text, outputs, RenderOptions(), name))


def context(outputs: dict[str, object] = OUTPUTS) -> list[RenderedTemplate]:
    return [render_file(SQL_DIR / name, outputs) for name in PIPELINE]


def check_predict(googlesql: GoogleSqlServer, old: str, new: str) -> list[Problem]:
    assert old in PREDICT
    faulty = rendered("predict.sql", PREDICT.replace(old, new, 1))
    return check_templates(googlesql, OUTPUTS, [faulty], context())


def line_of(text: str, needle: str) -> tuple[int, int]:
    offset = PREDICT.index(needle)
    return PREDICT.count("\n", 0, offset) + 1, offset - PREDICT.rfind("\n", 0, offset)


@pytest.mark.parametrize("project", ["my-proj-123", "local-lake"])
def test_every_template_in_sql_is_clean(googlesql: GoogleSqlServer, project: str) -> None:
    outputs = {
        k: v.replace("my-proj-123", project) if isinstance(v, str) else v
        for k, v in OUTPUTS.items()
    }
    templates = [render_file(path, outputs) for path in sorted(SQL_DIR.glob("*.sql"))]
    assert len(templates) == 4
    assert check_templates(googlesql, outputs, templates, context(outputs)) == []


def test_an_unknown_column_is_named_with_its_position(googlesql: GoogleSqlServer) -> None:
    problems = check_predict(googlesql, "AND size <= ", "AND sise <= ")
    line, column = line_of(PREDICT, "size <= ")
    assert problems == [
        Problem("predict.sql", 3, line, column, "Unrecognized name: sise; Did you mean size?")
    ]


def test_decode_image_given_a_string(googlesql: GoogleSqlServer) -> None:
    (problem,) = check_predict(googlesql, "ML.DECODE_IMAGE(data)", "ML.DECODE_IMAGE(uri)")
    assert (problem.statement, (problem.line, problem.column)) == (
        3,
        line_of(PREDICT, "ML.DECODE_IMAGE(data)"),
    )
    assert problem.message.startswith(
        "No matching signature for function ML.DECODE_IMAGE for argument types: STRING."
    )


def test_a_misspelled_struct_field(googlesql: GoogleSqlServer) -> None:
    (problem,) = check_predict(
        googlesql, "top_labels[OFFSET(0)].label", "top_labels[OFFSET(0)].lable"
    )
    assert problem.line == line_of(PREDICT, "top_labels[OFFSET(0)].label")[0]
    assert "Field name lable does not exist" in problem.message


def test_a_wrong_resize_argument_type(googlesql: GoogleSqlServer) -> None:
    (problem,) = check_predict(
        googlesql, "${image_size}, ${image_size}, FALSE", "${image_size}, '224', FALSE"
    )
    assert (
        "ML.RESIZE_IMAGE for argument types: STRUCT<ARRAY<INT64>, ARRAY<FLOAT64>>, INT64, STRING, BOOL"
        in problem.message
    )


def test_the_model_feature_missing_from_the_predict_input(googlesql: GoogleSqlServer) -> None:
    (problem,) = check_predict(googlesql, "AS ${model_input}", "AS input_2")
    assert (problem.line, problem.column) == line_of(PREDICT, "ML.PREDICT(")
    assert problem.message == (
        "ML.PREDICT: the input query has no column input_1, the model's feature "
        "(STRUCT<ARRAY<INT64>, ARRAY<FLOAT64>>)"
    )


def test_the_model_feature_with_the_wrong_type(googlesql: GoogleSqlServer) -> None:
    (problem,) = check_predict(
        googlesql,
        "ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), ${image_size}, ${image_size}, FALSE)"
        " AS ${model_input}",
        "ML.CONVERT_IMAGE_TYPE(ML.DECODE_IMAGE(data)) AS ${model_input}",
    )
    assert problem.message == (
        "ML.PREDICT: column input_1 is STRUCT<ARRAY<INT64>, ARRAY<INT64>>; the model's "
        "feature input_1 takes STRUCT<ARRAY<INT64>, ARRAY<FLOAT64>>"
    )


def test_the_model_outputs_come_from_the_stack_outputs(googlesql: GoogleSqlServer) -> None:
    """The catalog's model is the one the outputs name, so SQL written for another fails."""
    outputs = {**OUTPUTS, "model_output": "probabilities"}
    faulty = rendered("predict.sql", PREDICT.replace("${model_output}", "activation_49"), outputs)
    (problem,) = check_templates(googlesql, outputs, [faulty], context(outputs))
    assert problem.message == "Unrecognized name: activation_49"


def test_mismatched_union_arms_and_swapped_insert_columns(googlesql: GoogleSqlServer) -> None:
    (union,) = check_predict(
        googlesql, "CAST(NULL AS STRING) AS top1_label", "CAST(NULL AS INT64) AS top1_label"
    )
    assert "UNION ALL has incompatible types: STRING, INT64" in union.message
    (swapped,) = check_predict(
        googlesql, "(uri, generation, content_type", "(generation, uri, content_type"
    )
    assert swapped.message == (
        "Query column 1 has type STRING which cannot be inserted into column generation, "
        "which has type INT64"
    )


def test_a_template_alone_sees_what_earlier_pipeline_templates_create(
    googlesql: GoogleSqlServer,
) -> None:
    predict = rendered("predict.sql", PREDICT)
    assert check_templates(googlesql, OUTPUTS, [predict], context()) == []
    alone = check_templates(googlesql, OUTPUTS, [predict])
    # Without labels.sql and create_model.sql before it, the model does not exist yet.
    assert [(p.statement, p.message) for p in alone] == [
        (3, "Model not found: `my-proj-123.resnet_inference_test.resnet50`")
    ]


def test_an_unknown_table(googlesql: GoogleSqlServer) -> None:
    problems = check_predict(
        googlesql, "LEFT JOIN ${labels_table_id} AS l", "LEFT JOIN `my-proj-123.x.labels` AS l"
    )
    assert [p.message for p in problems] == ["Table not found: `my-proj-123.x.labels`"]


def test_a_dropped_table_is_gone(googlesql: GoogleSqlServer) -> None:
    checker = TemplateChecker(googlesql, OUTPUTS)
    script = (
        "CREATE TABLE `p-1.d.t` (x INT64);\nSELECT x FROM `p-1.d.t`;\n"
        "DROP TABLE `p-1.d.t`;\nSELECT x FROM `p-1.d.t`"
    )
    problems = checker.check_template(rendered("drop.sql", script))
    assert [(p.statement, p.line, p.column, p.message) for p in problems] == [
        (4, 4, 15, "Table not found: `p-1.d.t`")
    ]


def test_a_statement_the_server_dies_on_is_reported_and_the_next_analyzed() -> None:
    with GoogleSqlServer() as server:
        checker = TemplateChecker(server, OUTPUTS)
        pid = server.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        problems = checker.check_template(rendered("two.sql", "SELECT 1;\nSELECT nope"))
    assert [(p.statement, p.line) for p in problems] == [(1, 1), (2, 2)]
    assert problems[0].message.startswith("the analyzer failed on this statement")
    assert problems[1].message == "Unrecognized name: nope"


def test_predict_calls_find_the_model_and_the_input_query() -> None:
    (call,) = predict_calls("SELECT * FROM ml.Predict(MODEL `p-1.d.m`, (SELECT (1) AS x)) AS t")
    assert (call.start, call.model, call.query) == (14, "p-1.d.m", "SELECT (1) AS x")
    (table,) = predict_calls("SELECT * FROM ML.PREDICT(MODEL d.m, TABLE d.t)")
    assert (table.model, table.query) == ("d.m", None)
