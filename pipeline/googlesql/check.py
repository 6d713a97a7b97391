"""Analyze rendered templates with GoogleSQL, statement by statement, against the stack's catalog.

Each statement is analyzed in order; what it creates or drops changes the catalog the
next one sees. ML.PREDICT is analyzed in two passes, as BigQuery types it: its input
query first (its columns must include the model's features, with their types), then the
statement with ML.PREDICT returning those columns plus the model's labels. A problem is
reported with the template's file name, the statement's number and a line and column in
the rendered template (the template's own lines: a placeholder never spans lines).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlglot import TokenType
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import TokenError

from pipeline.errors import SqlRunnerError
from pipeline.googlesql.catalog import Column, StackCatalog, columns_of, name_path, walk
from pipeline.googlesql.model import ModelSignature, signature_from_outputs
from pipeline.googlesql.server import (
    AnalyzerCrashed,
    AnalyzerRejected,
    GoogleSqlServer,
    Json,
    SqlError,
)
from pipeline.googlesql.types import type_name
from pipeline.templates import PIPELINE, RenderedTemplate


@dataclass(frozen=True)
class Problem:
    template: str
    statement: int
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return (
            f"error: {self.template} statement {self.statement}, line {self.line}, "
            f"column {self.column}: {self.message}"
        )


@dataclass(frozen=True)
class Statement:
    template: str
    number: int
    sql: str
    # 0-based offset of the statement in the rendered template.
    offset: int
    text: str

    def position(self, line: int | None, column: int | None) -> tuple[int, int]:
        """A 1-based position in the statement, as a line and column of the template."""
        before = self.text[: self.offset]
        first_line = before.count("\n") + 1
        first_column = self.offset - (before.rfind("\n") + 1) + 1
        if line is None or column is None:
            return first_line, first_column
        if line == 1:
            return first_line, first_column + column - 1
        return first_line + line - 1, column

    def problem(self, error: SqlError) -> Problem:
        line, column = self.position(error.line, error.column)
        return Problem(self.template, self.number, line, column, error.message)


def statements_of(template: RenderedTemplate) -> list[Statement]:
    found: list[Statement] = []
    cursor = 0
    for number, sql in enumerate(template.statements, start=1):
        offset = template.sql.find(sql, cursor)
        cursor = offset + len(sql)
        found.append(Statement(template.name, number, sql, offset, template.sql))
    return found


@dataclass(frozen=True)
class PredictCall:
    """One `ML.PREDICT(MODEL m, (query))` in a statement: offsets of its name and its query."""

    start: int
    model: str
    query: str | None


def predict_calls(sql: str) -> list[PredictCall]:
    try:
        tokens = Dialect.get_or_raise("bigquery").tokenize(sql)
    except TokenError:
        return []
    calls = []
    for i in range(len(tokens) - 4):
        ml, dot, predict, paren = tokens[i : i + 4]
        if not (
            ml.text.upper() == "ML"
            and dot.token_type == TokenType.DOT
            and predict.text.upper() == "PREDICT"
            and paren.token_type == TokenType.L_PAREN
        ):
            continue
        j = i + 4
        if tokens[j].token_type == TokenType.MODEL:
            j += 1
        model_parts = []
        while j < len(tokens) and tokens[j].token_type not in (TokenType.COMMA, TokenType.R_PAREN):
            if tokens[j].token_type != TokenType.DOT:
                model_parts.append(tokens[j].text)
            j += 1
        query = None
        if j + 1 < len(tokens) and tokens[j + 1].token_type == TokenType.L_PAREN:
            depth, k = 0, j + 1
            while k < len(tokens):
                if tokens[k].token_type == TokenType.L_PAREN:
                    depth += 1
                elif tokens[k].token_type == TokenType.R_PAREN:
                    depth -= 1
                    if depth == 0:
                        query = sql[tokens[j + 1].end + 1 : tokens[k].start]
                        break
                k += 1
        calls.append(PredictCall(ml.start, ".".join(model_parts), query))
    return calls


def _located(sql: str, offset: int, message: str) -> SqlError:
    before = sql[:offset]
    return SqlError(message, before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1)


class TemplateChecker:
    """Analyzes templates in order against one catalog that follows their statements."""

    def __init__(self, server: GoogleSqlServer, outputs: Mapping[str, object]) -> None:
        object_table_id = outputs.get("object_table_id")
        if not isinstance(object_table_id, str):
            raise SqlRunnerError("stack output 'object_table_id' is missing")
        self.server = server
        self.signature: ModelSignature = signature_from_outputs(outputs)
        self.catalog = StackCatalog.of_stack(object_table_id)
        self.checked: set[str] = set()

    def check(self, templates: Iterable[RenderedTemplate]) -> list[Problem]:
        problems: list[Problem] = []
        for template in templates:
            problems += self.check_template(template)
        return problems

    def check_template(self, template: RenderedTemplate) -> list[Problem]:
        self.checked.add(template.name)
        problems = []
        for statement in statements_of(template):
            error = self.check_statement(statement.sql)
            if error is not None:
                problems.append(statement.problem(error))
        return problems

    def check_statement(self, sql: str) -> SqlError | None:
        """None when GoogleSQL accepts the statement (and the catalog then follows it)."""
        predict_output: list[Column] | None = None
        for call in predict_calls(sql):
            found = self._predict_output(sql, call)
            if isinstance(found, SqlError):
                return found
            if found is not None:
                predict_output = found
        try:
            resolved = self.server.analyze(sql, self._catalog(predict_output))
        except AnalyzerRejected as exc:
            return exc.error
        except AnalyzerCrashed as exc:
            return SqlError(f"the analyzer failed on this statement: {exc}")
        self._follow(resolved.get("resolvedStatement", {}))
        return None

    def _catalog(self, predict_output: list[Column] | None) -> Json:
        return self.catalog.proto(self.server.language_options, predict_output)

    def _predict_output(self, sql: str, call: PredictCall) -> list[Column] | SqlError | None:
        """The input query's columns plus the model's labels; a SqlError if the features
        are missing or mistyped; None when the second pass will report the problem."""
        signature = self.catalog.model(call.model)
        if call.query is None or signature is None:
            return None
        try:
            resolved = self.server.analyze(call.query, self._catalog(None))
        except (AnalyzerRejected, AnalyzerCrashed):
            return None
        node = resolved.get("resolvedStatement", {}).get("resolvedQueryStmtNode", {})
        columns = [Column(c["name"], c["column"]["type"]) for c in node.get("outputColumnList", [])]
        by_name = {c.name.lower(): c for c in columns}
        for feature in signature.features:
            expected = feature.bigquery_type()
            column = by_name.get(feature.name.lower())
            if column is None:
                return _located(
                    sql,
                    call.start,
                    f"ML.PREDICT: the input query has no column {feature.name}, "
                    f"the model's feature ({type_name(expected)})",
                )
            if column.type != expected:
                return _located(
                    sql,
                    call.start,
                    f"ML.PREDICT: column {feature.name} is {type_name(column.type)}; "
                    f"the model's feature {feature.name} takes {type_name(expected)}",
                )
        labels = [Column(t.name, t.bigquery_type()) for t in signature.labels]
        label_names = {c.name.lower() for c in labels}
        return [c for c in columns if c.name.lower() not in label_names] + labels

    def _follow(self, resolved: Json) -> None:
        if "resolvedDropStmtNode" in resolved:
            name = name_path(resolved)
            if name is not None:
                self.catalog.drop(name)
            return
        create = resolved.get("resolvedCreateStatementNode")
        if not isinstance(create, dict):
            return
        name = name_path(create)
        if name is None:
            return
        if "resolvedCreateModelStmtNode" in create:
            self.catalog.add_model(name, self.signature)
        elif "resolvedCreateTableStmtBaseNode" in create:
            if (
                _create_mode(create) == "CREATE_IF_NOT_EXISTS"
                and name.lower() in self.catalog.tables
            ):
                return
            self.catalog.add_table(name, columns_of(create))


def _create_mode(create: Json) -> str | None:
    for node in walk(create):
        mode = node.get("createMode")
        if isinstance(mode, str):
            return mode
    return None


def pipeline_order(templates: Sequence[RenderedTemplate]) -> list[RenderedTemplate]:
    """The post-deploy step's templates in the order it runs them, then the others as given."""
    rank = {name: i for i, name in enumerate(PIPELINE)}
    return sorted(templates, key=lambda t: rank.get(t.name, len(PIPELINE)))


def check_templates(
    server: GoogleSqlServer,
    outputs: Mapping[str, object],
    templates: Sequence[RenderedTemplate],
    context: Sequence[RenderedTemplate] = (),
) -> list[Problem]:
    """Problems in `templates`, analyzed in pipeline order. A pipeline template is analyzed
    after the `context` templates the post-deploy step runs before it (their problems are
    not reported), so it sees the tables and model they create."""
    checker = TemplateChecker(server, outputs)
    rank = {name: i for i, name in enumerate(PIPELINE)}
    requested = {t.name for t in templates}
    earlier_first = pipeline_order([t for t in context if t.name not in requested])
    problems: list[Problem] = []
    for template in pipeline_order(templates):
        for earlier in earlier_first:
            before = rank.get(earlier.name, len(PIPELINE)) < rank.get(template.name, -1)
            if before and earlier.name not in checker.checked:
                checker.check_template(earlier)
        problems += checker.check_template(template)
    return problems
