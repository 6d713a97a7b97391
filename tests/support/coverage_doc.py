"""docs/coverage.md rewritten from the harnesses' own runs: the function table and the
statement table, each under the prose the document keeps above it.

`make coverage-table` runs `python -m tests.support.coverage_doc`; the tests require each
table to be in the document exactly as their run produces it.
"""

from __future__ import annotations

from pathlib import Path

from tests.support import function_harness, statement_harness
from tests.support.paths import REPO

DOC = REPO / "docs" / "coverage.md"
FUNCTION_TABLE = "| family | function or form |"
STATEMENT_SECTION = "## Statement kinds"
STATEMENT_TABLE = "| family | statement kind |"


def compose(text: str, functions: str, statements: str) -> str:
    """`text` with both tables replaced; the prose before each is kept as it is."""
    head = text.split(FUNCTION_TABLE)[0]
    middle = text.split(STATEMENT_SECTION)[1].split(STATEMENT_TABLE)[0]
    return f"{head}{functions}\n{STATEMENT_SECTION}{middle}{statements}"


def write(doc: Path = DOC) -> None:
    functions = function_harness.coverage_table(function_harness.run())
    statements = statement_harness.coverage_table(statement_harness.run())
    doc.write_text(compose(doc.read_text(), functions, statements))


if __name__ == "__main__":
    write()
