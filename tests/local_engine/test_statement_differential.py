"""Every BigQuery statement kind on the local engine against GoogleSQL's reference evaluator.

Queries and set operations compare rows and column types; INSERT, UPDATE and DELETE
compare the table afterwards and the affected-row count with what the evaluator's own
DML run changed; MERGE, TRUNCATE and DDL compare what they leave behind with BigQuery's
documented result. Every case agrees or is refused by name; an error that does not say
what is unsupported fails the suite, as does a disagreement not listed below (and a
listed one that no longer happens). docs/coverage.md holds this run's table.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from local_engine.engine import LocalEngine
from pipeline.googlesql.server import GoogleSqlServer
from tests.support.paths import REPO
from tests.support.statement_cases import StatementCase
from tests.support.statement_harness import (
    FAMILIES,
    StatementOutcome,
    coverage_table,
    run,
    run_case,
)

# Open disagreements, by statement: BigQuery's answer differs and the engine neither
# matches it nor refuses (yet).
OPEN: dict[str, str] = {}


@pytest.fixture(scope="module")
def outcomes() -> list[StatementOutcome]:
    return run()


def test_every_family_and_the_statements_that_matter_are_checked(
    outcomes: list[StatementOutcome],
) -> None:
    assert {o.case.family for o in outcomes} == set(FAMILIES)
    checked = {o.case.kind for o in outcomes if o.status == "agree"}
    assert {
        "SELECT", "UNION ALL", "INTERSECT DISTINCT", "EXCEPT DISTINCT", "INSERT VALUES",
        "INSERT ... SELECT", "UPDATE", "DELETE", "MERGE", "TRUNCATE TABLE",
        "CREATE TABLE ... AS SELECT", "CREATE OR REPLACE TABLE", "CREATE TABLE IF NOT EXISTS",
        "CREATE VIEW", "DROP TABLE",
    } <= checked  # fmt: skip


def test_no_statement_fails_without_saying_it_is_unsupported(
    outcomes: list[StatementOutcome],
) -> None:
    failed = [f"{o.case.sql}: {o.detail}" for o in outcomes if o.status == "failed"]
    assert not failed, "\n".join(failed)


def test_every_disagreement_is_listed_and_every_listed_one_still_happens(
    outcomes: list[StatementOutcome],
) -> None:
    seen: dict[str, str] = defaultdict(str)
    for outcome in outcomes:
        if outcome.status == "disagree":
            seen[outcome.case.sql] = outcome.detail
    unlisted = {sql: detail for sql, detail in seen.items() if sql not in OPEN}
    assert not unlisted, "\n".join(f"{sql}\n    {d}" for sql, d in unlisted.items())
    assert set(OPEN) <= set(seen), f"fixed, so remove from OPEN: {set(OPEN) - set(seen)}"


def test_the_statement_table_in_docs_is_this_runs(outcomes: list[StatementOutcome]) -> None:
    written = (REPO / "docs" / "coverage.md").read_text()
    assert coverage_table(outcomes) in written, "docs/coverage.md is stale: make coverage-table"


def test_the_harness_catches_a_wrong_table_and_records_a_refusal(tmp_path: Path) -> None:
    wrong = StatementCase(
        "DML", "DELETE", "DELETE FROM `ds.t` WHERE id = 1", "ddl",
        check="SELECT * FROM `ds.t`", reference="SELECT * FROM `ds.t`",
    )  # fmt: skip
    declare = StatementCase("scripting", "DECLARE", "DECLARE n INT64", "observe")
    lost = StatementCase("DML", "UPDATE", "UPDATE `ds.t` SET v = 'q' WHERE x > 0", "modify",
                         check="SELECT * FROM `ds.t` WHERE x <= 0")  # fmt: skip
    with LocalEngine(tmp_path, progress=False) as engine, GoogleSqlServer() as server:
        assert run_case(engine, server, wrong).status == "disagree"
        assert run_case(engine, server, declare).status == "refused"
        assert run_case(engine, server, lost).status == "disagree"
