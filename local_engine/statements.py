"""A script split into statements: each one's own text (for error messages) and its parse tree."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

import bigquery_scripts
from bigquery_facts import SCRIPT_STATEMENT_KEYWORDS
from bigquery_scripts import ScriptSplitError
from local_engine.dialect import DIALECT
from local_engine.errors import EngineError

_SUMMARY_CHARS = 80


@dataclass(frozen=True)
class Statement:
    index: int  # 1-based position in the script
    text: str
    tree: exp.Expr

    @property
    def label(self) -> str:
        """`statement 2 (SELECT * FROM ...)`, how errors name the statement."""
        flat = " ".join(self.text.split())
        if len(flat) > _SUMMARY_CHARS:
            flat = flat[: _SUMMARY_CHARS - 3] + "..."
        return f"statement {self.index} ({flat})"


def split_script(script: str) -> list[Statement]:
    """Every `;`-separated statement, parsed with the lake's BigQuery dialect; comments dropped."""
    try:
        pieces = bigquery_scripts.split_script(script)
    except ScriptSplitError as exc:
        raise EngineError(f"cannot tokenize the SQL: {exc}") from exc
    statements = [
        Statement(piece.index, piece.text, _parse(piece.index, piece.text)) for piece in pieces
    ]
    if not statements:
        raise EngineError("no SQL statement given")
    return statements


def _parse(index: int, text: str) -> exp.Expr:
    try:
        parsed = [tree for tree in DIALECT.parse(text) if tree is not None]
    except (ParseError, TokenError) as exc:
        keyword = text.split(maxsplit=1)[0].upper() if text.split() else ""
        if keyword in SCRIPT_STATEMENT_KEYWORDS:
            # BigQuery's own statement, which the parser does not know: refused by name.
            raise EngineError(
                f"statement {index}: {keyword} statements are not supported by the local engine"
            ) from exc
        raise EngineError(f"statement {index}: syntax error: {_first_line(exc)}") from exc
    if len(parsed) != 1:
        raise EngineError(f"statement {index}: expected one statement, got {len(parsed)}")
    return parsed[0]


def _first_line(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if errors:
        first = errors[0]
        where = (
            f" (line {first.get('line')}, column {first.get('col')})" if first.get("line") else ""
        )
        return f"{first.get('description')}{where}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
