"""sqlglot's BigQuery dialect plus the one clause it lacks: `WITH CONNECTION` on CREATE EXTERNAL TABLE.

Stock sqlglot gives up on `CREATE EXTERNAL TABLE ... WITH CONNECTION c OPTIONS(...)`
and returns a raw Command. Here the `WITH` property parser first tries `CONNECTION
<name>` and yields the same node BigQuery's `CREATE MODEL ... REMOTE WITH CONNECTION`
uses, so the statement parses into an ordinary `exp.Create` with its OPTIONS.
`DROP EXTERNAL TABLE` parses as `DROP TABLE`, and `DELETE t WHERE ...` (BigQuery's FROM
is optional) as `DELETE FROM t WHERE ...`, not as MySQL's multi-table DELETE.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlglot import exp
from sqlglot.dialects.bigquery import BigQuery
from sqlglot.parsers.bigquery import BigQueryParser
from sqlglot.tokenizer_core import TokenType

from local_engine.text_forms import PARSED_AS_WRITTEN


class LakeBigQueryParser(BigQueryParser):
    PROPERTY_PARSERS: ClassVar[dict[str, Any]] = {
        **BigQueryParser.PROPERTY_PARSERS,
        "WITH": lambda self: self._parse_with_connection_or_property(),
    }
    FUNCTIONS: ClassVar[dict[str, Any]] = {**BigQueryParser.FUNCTIONS, **PARSED_AS_WRITTEN}

    def _parse_with_connection_or_property(self) -> Any:
        if self._match_text_seq("CONNECTION"):
            return self.expression(
                exp.RemoteWithConnectionModelProperty(this=self._parse_table_parts())
            )
        return self._parse_with_property()

    def _parse_drop(self, exists: bool = False, kind: str | None = None) -> Any:
        if not kind and self._curr and self._curr.text.upper() == "EXTERNAL":
            self._advance()
            if self._match(TokenType.TABLE):
                return super()._parse_drop(exists=exists, kind="TABLE")
            self._retreat(self._index - 1)
        return super()._parse_drop(exists=exists, kind=kind)

    def _parse_delete(self) -> Any:
        delete = super()._parse_delete()
        tables = delete.args.get("tables")
        if tables and len(tables) == 1 and not delete.this:
            delete.set("this", tables[0])
            delete.set("tables", None)
        return delete


class LakeBigQuery(BigQuery):
    Parser = LakeBigQueryParser


DIALECT = LakeBigQuery()
