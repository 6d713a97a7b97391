"""The differential harness over the function library: run seeded cases on the local engine
and on GoogleSQL's reference evaluator, compare values and types, tabulate the coverage.

A case agrees when both give the same value of the same BigQuery type, or both fail. It
is refused when the engine fails with `not supported by the local engine` (a clear
refusal is allowed; a different answer is not). Anything else is a disagreement.
`python -m tests.support.function_harness [--per-template N] [--out FILE]` runs it and
writes the coverage table (`make coverage`); the test suite runs the small seeded set
and requires docs/coverage.md to be exactly its table.
"""

from __future__ import annotations

import argparse
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from local_engine.engine import LocalEngine
from local_engine.errors import REFUSAL, EngineError
from pipeline.googlesql.evaluate import evaluate_query
from pipeline.googlesql.server import AnalyzerRejected, GoogleSqlServer
from pipeline.googlesql.types import type_name
from tests.support.differential import same_value
from tests.support.function_cases import FAMILIES, Case, cases, function_name

PER_TEMPLATE = 40  # what `make test` runs: about 2,100 queries, each on both, in about a minute


@dataclass(frozen=True)
class Outcome:
    case: Case
    status: str  # "agree", "refused", "disagree"
    detail: str = ""


def bigquery_type(arrow: pa.DataType) -> str:
    if pa.types.is_list(arrow):
        return f"ARRAY<{bigquery_type(arrow.value_type)}>"
    if pa.types.is_struct(arrow):
        fields = ", ".join(f"{f.name} {bigquery_type(f.type)}" for f in arrow)
        return f"STRUCT<{fields}>"
    if pa.types.is_timestamp(arrow):
        return "TIMESTAMP" if arrow.tz else "DATETIME"
    if pa.types.is_decimal(arrow):
        return "NUMERIC" if arrow.scale == 9 else f"DECIMAL({arrow.precision},{arrow.scale})"
    names = {
        pa.int64(): "INT64",
        pa.float64(): "FLOAT64",
        pa.string(): "STRING",
        pa.bool_(): "BOOL",
        pa.date32(): "DATE",
        pa.binary(): "BYTES",
        pa.time64("us"): "TIME",
    }
    return names.get(arrow, str(arrow))


def _python_value(scalar: pa.Scalar) -> object:
    try:
        return scalar.as_py()
    except (OverflowError, ValueError):  # beyond Python's datetime range
        return f"<{scalar.type} beyond Python's range>"


def run_case(engine: LocalEngine, server: GoogleSqlServer, case: Case) -> Outcome:
    try:
        reference = evaluate_query(server, case.sql)
        expected: tuple[str, object] | None = (
            type_name(reference.columns[0].type),
            reference.rows[0][0],
        )
    except AnalyzerRejected as exc:
        if exc.error.line is not None:
            return Outcome(case, "disagree", f"GoogleSQL cannot analyze the case: {exc}")
        expected = None
    try:
        table = engine.execute(case.sql).table
        assert table is not None
        local: tuple[str, object] | None = (
            bigquery_type(table.schema.field(0).type),
            _python_value(table.column(0)[0]),
        )
    except EngineError as exc:
        if REFUSAL in str(exc):
            return Outcome(case, "refused", str(exc))
        local = None
    if expected is None or local is None:
        agree = expected is None and local is None
    else:
        agree = expected[0] == local[0] and same_value(local[1], expected[1])
    detail = "" if agree else f"local engine: {local!r}; GoogleSQL: {expected or 'error'!r}"
    return Outcome(case, "agree" if agree else "disagree", detail)


def run(per_template: int = PER_TEMPLATE, seed: int = 0) -> list[Outcome]:
    with (
        tempfile.TemporaryDirectory() as home,
        LocalEngine(Path(home), progress=False) as engine,
        GoogleSqlServer() as server,
    ):
        engine.con.execute("SET memory_limit = '1GB'")
        return [run_case(engine, server, case) for case in cases(per_template, seed)]


def coverage_table(outcomes: Iterable[Outcome]) -> str:
    """Markdown: every family and function, faithful (cases), refused, or not faithful."""
    by_function: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for outcome in outcomes:
        by_function[(outcome.case.family, function_name(outcome.case.function))][
            outcome.status
        ] += 1
    lines = [
        "| family | function or form | status | differential cases |",
        "|---|---|---|---|",
    ]
    for family in FAMILIES:
        for (fam, function), counts in sorted(by_function.items()):
            if fam != family:
                continue
            if counts["disagree"]:
                status = f"DISAGREES ({counts['disagree']})"
            elif counts["refused"] and counts["agree"]:
                status = "faithful, some forms refused"
            elif counts["refused"]:
                status = "refused"
            else:
                status = "faithful"
            lines.append(f"| {family} | `{function}` | {status} | {sum(counts.values())} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-template", type=int, default=PER_TEMPLATE)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    outcomes = run(args.per_template, args.seed)
    for outcome in outcomes:
        if outcome.status == "disagree":
            print(f"DISAGREE {outcome.case.sql}\n    {outcome.detail}")
    totals = Counter(o.status for o in outcomes)
    print(f"{len(outcomes)} cases: {dict(totals)}")
    if args.out:
        args.out.write_text(coverage_table(outcomes))


if __name__ == "__main__":
    main()
