"""How a BigQuery script splits into statements: the one splitter the SQL templates, the
BigQuery runner and the local engine share.

A statement runs from its first token to its last, so comments between statements belong
to none of them and comments inside one are kept. Semicolons inside strings, quoted
identifiers and comments do not split (sqlglot's BigQuery tokenizer decides what is what).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot.dialects.bigquery import BigQuery
from sqlglot.errors import TokenError
from sqlglot.tokenizer_core import TokenType

_TOKENIZER_DIALECT = BigQuery()


class ScriptSplitError(ValueError):
    """The script cannot be tokenized (an unterminated string or comment, say)."""


@dataclass(frozen=True)
class ScriptStatement:
    index: int  # 1-based position in the script
    start: int  # offset of its first character in the script
    text: str


def split_script(script: str) -> list[ScriptStatement]:
    """Every `;`-separated statement of `script` that holds a token, in order."""
    try:
        tokens = _TOKENIZER_DIALECT.tokenize(script)
    except TokenError as exc:
        raise ScriptSplitError(str(exc).splitlines()[0] if str(exc) else "bad token") from exc
    spans: list[tuple[int, int]] = []
    start: int | None = None
    end = 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if start is not None:
                spans.append((start, end))
            start = None
            continue
        if start is None:
            start = token.start
        end = token.end + 1
    if start is not None:
        spans.append((start, end))
    return [
        ScriptStatement(index, begin, script[begin:finish])
        for index, (begin, finish) in enumerate(spans, start=1)
    ]
