"""The statement harness: every BigQuery statement kind on the local engine, checked against
GoogleSQL's reference evaluator where one can run it, and tabulated for docs/coverage.md.

A case agrees when the engine's answer (rows and column types, or the table a statement
leaves behind) equals the evaluator's, or both fail. It is refused when the engine fails
with `not supported by the local engine`. Otherwise it disagrees. An `observe` case has
no reference: it is recorded as run, refused, or failed (an error that does not say the
statement is unsupported, which the engine's promise does not allow).
`python -m tests.support.statement_harness` prints every case that is not faithful.
"""

from __future__ import annotations

import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from local_engine.engine import LocalEngine
from local_engine.errors import EngineError
from pipeline.googlesql.evaluate import evaluate_modify, evaluate_query, table_after
from pipeline.googlesql.server import AnalyzerRejected, GoogleSqlServer
from pipeline.googlesql.types import type_name
from tests.support.differential import load_tables, same_value, sorted_rows
from tests.support.function_harness import REFUSAL, bigquery_type
from tests.support.statement_cases import CASES, TABLES, UNTRIED, StatementCase

FAMILIES = (
    "query", "set operation", "DML", "DDL", "DCL", "scripting", "transaction", "data movement",
)  # fmt: skip
# How the reference evaluator says it does not implement a form (not that the SQL is wrong).
_NO_REFERENCE = ("Unimplemented feature", "Evaluator does not support")


@dataclass(frozen=True)
class Answer:
    """Column names and types, and rows; or None when the statement or query failed."""

    columns: list[tuple[str, str]] | None
    rows: list[tuple[Any, ...]]
    affected: int | None = None
    error: str = ""


@dataclass(frozen=True)
class StatementOutcome:
    case: StatementCase
    status: str  # "agree", "refused", "disagree", "ran" (observe), "failed" (observe)
    detail: str = ""


def _engine_table(table: pa.Table | None) -> Answer:
    assert table is not None
    columns = [(f.name, bigquery_type(f.type)) for f in table.schema]
    return Answer(columns, [tuple(row.values()) for row in table.to_pylist()])


def _fresh(engine: LocalEngine) -> None:
    engine.execute("DROP SCHEMA IF EXISTS ds CASCADE; DROP SCHEMA IF EXISTS other CASCADE")
    load_tables(engine, TABLES)


def _engine_answer(engine: LocalEngine, case: StatementCase) -> Answer:
    _fresh(engine)
    try:
        result = engine.execute(case.sql)
        if case.mode == "query":
            return _engine_table(result.table)
        if case.mode == "observe":
            return Answer([], [])
        affected = result.statements[-1].rows
        after = _engine_table(engine.execute(case.check).table if case.check else result.table)
        return Answer(after.columns, after.rows, affected)
    except EngineError as exc:
        return Answer(None, [], error=str(exc))


def _reference_answer(server: GoogleSqlServer, case: StatementCase) -> Answer:
    try:
        if case.mode == "modify":
            name, changes = evaluate_modify(server, case.sql, TABLES)
            table = TABLES[name]
            columns = [(c.name, type_name(c.type)) for c in table.columns]
            return Answer(columns, table_after(table, changes), len(changes))
        query = case.sql if case.mode == "query" else case.reference
        result = evaluate_query(server, query, TABLES)
    except AnalyzerRejected as exc:
        return Answer(None, [], error=str(exc))
    return Answer([(c.name, type_name(c.type)) for c in result.columns], result.rows)


def _agree(local: Answer, reference: Answer, ordered: bool) -> bool:
    if local.columns is None or reference.columns is None:
        return local.columns is None and reference.columns is None
    if local.columns != reference.columns:
        return False
    if reference.affected is not None and local.affected != reference.affected:
        return False
    if ordered:
        return same_value(local.rows, reference.rows)
    return same_value(sorted_rows(local.rows), sorted_rows(reference.rows))


def _describe(answer: Answer) -> str:
    if answer.columns is None:
        return f"error: {answer.error}"
    affected = "" if answer.affected is None else f", {answer.affected} affected"
    return f"{answer.columns} {answer.rows!r}{affected}"


def run_case(engine: LocalEngine, server: GoogleSqlServer, case: StatementCase) -> StatementOutcome:
    local = _engine_answer(engine, case)
    if local.columns is None and REFUSAL in local.error:
        return StatementOutcome(case, "refused", local.error)
    if case.mode == "observe":
        if local.columns is None:
            return StatementOutcome(case, "failed", local.error)
        return StatementOutcome(case, "ran")
    reference = _reference_answer(server, case)
    if reference.columns is None and reference.error.startswith(_NO_REFERENCE):
        # The evaluator cannot run this form: the case is observed, not checked.
        return StatementOutcome(case, "ran" if local.columns is not None else "failed", local.error)
    if _agree(local, reference, case.ordered):
        return StatementOutcome(case, "agree")
    detail = f"local engine: {_describe(local)}\n    GoogleSQL: {_describe(reference)}"
    return StatementOutcome(case, "disagree", detail)


def run() -> list[StatementOutcome]:
    with (
        tempfile.TemporaryDirectory() as home,
        LocalEngine(Path(home), progress=False) as engine,
        GoogleSqlServer() as server,
    ):
        engine.create_connection("us.lake-connection")
        return [run_case(engine, server, case) for case in CASES]


def _status(counts: Counter[str]) -> str:
    if counts["disagree"] or counts["failed"]:
        wrong = counts["disagree"] + counts["failed"]
        return f"DISAGREES ({wrong})" if counts["disagree"] else f"FAILS UNNAMED ({wrong})"
    if counts["agree"]:
        return "faithful, some forms refused" if counts["refused"] else "faithful"
    if counts["ran"]:
        return "runs, no reference" + (", some forms refused" if counts["refused"] else "")
    return "refused"


def coverage_table(outcomes: Iterable[StatementOutcome]) -> str:
    """Markdown: every statement kind, its status and how many cases ran."""
    by_kind: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for outcome in outcomes:
        by_kind[(outcome.case.family, outcome.case.kind)][outcome.status] += 1
    for family, kind in UNTRIED:
        by_kind.setdefault((family, kind), Counter())
    lines = [
        "| family | statement kind | status | differential cases |",
        "|---|---|---|---|",
    ]
    for family in FAMILIES:
        for (fam, kind), counts in by_kind.items():
            if fam != family:
                continue
            total = sum(counts.values())
            status = _status(counts) if total else "not yet tried"
            lines.append(f"| {family} | {kind} | {status} | {total} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    outcomes = run()
    for outcome in outcomes:
        if outcome.status in ("disagree", "failed"):
            print(f"{outcome.status.upper()} {outcome.case.sql}\n    {outcome.detail}")
    print(f"{len(outcomes)} cases: {dict(Counter(o.status for o in outcomes))}")
    print(coverage_table(outcomes))


if __name__ == "__main__":
    main()
