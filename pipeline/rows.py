"""Rows a run wrote: what the post-deploy step exports as `predictions_rows`."""

from __future__ import annotations

from collections.abc import Iterable

# Statement types whose affected rows count as written; DELETE and DDL do not.
WRITING_STATEMENTS = ("INSERT", "MERGE")


def rows_written(statements: Iterable[tuple[str, int | None]]) -> int:
    """The sum over (statement type, rows affected) of the INSERT and MERGE statements."""
    return sum(rows or 0 for kind, rows in statements if kind in WRITING_STATEMENTS)
