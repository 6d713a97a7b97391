"""A script split into statements: each one's own text (for error messages) and its parse tree."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.errors import ParseError, TokenError
from sqlglot.tokenizer_core import TokenType

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
        tokens = DIALECT.tokenize(script)
    except TokenError as exc:
        raise EngineError(f"cannot tokenize the SQL: {_first_line(exc)}") from exc
    chunks: list[tuple[int, int]] = []
    start: int | None = None
    end = 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if start is not None:
                chunks.append((start, end))
            start = None
            continue
        if start is None:
            start = token.start
        end = token.end + 1
    if start is not None:
        chunks.append((start, end))

    statements = []
    for index, (begin, finish) in enumerate(chunks, start=1):
        text = script[begin:finish]
        statements.append(Statement(index, text, _parse(index, text)))
    if not statements:
        raise EngineError("no SQL statement given")
    return statements


def _parse(index: int, text: str) -> exp.Expr:
    try:
        parsed = [tree for tree in DIALECT.parse(text) if tree is not None]
    except (ParseError, TokenError) as exc:
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
