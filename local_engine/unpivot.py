"""UNPIVOT as BigQuery defines it, on DuckDB's UNPIVOT.

DuckDB's UNPIVOT differs from BigQuery's in three ways, each rewritten here:

- column order: BigQuery puts the value columns before the name column, DuckDB after;
- EXCLUDE NULLS (the default) with several value columns: BigQuery drops a row only when
  every value in it is NULL, DuckDB when any is;
- labels: BigQuery's `IN (v AS 1, w AS 2)` makes an INT64 name column, DuckDB takes only
  text labels.

A column repeated in the IN list is an error in BigQuery, and so it is here.
"""

from __future__ import annotations

from sqlglot import exp

from local_engine.errors import EngineError

REPEATED = "Column names in UNPIVOT IN clause cannot be repeated"


def rewrite_unpivots(tree: exp.Expr) -> None:
    for pivot in list(tree.find_all(exp.Pivot)):
        if pivot.args.get("unpivot"):
            _rewrite(pivot)


def _rewrite(pivot: exp.Pivot) -> None:
    source = pivot.parent
    fields = pivot.args.get("fields") or []
    if not isinstance(source, (exp.Table, exp.Subquery)) or len(fields) != 1:
        return
    names_in = fields[0]
    name_column = names_in.this
    values = _value_columns(pivot)
    _refuse_repeated_columns(names_in)
    integer_labels = _text_labels(names_in)

    wrapper = exp.select(exp.Star(except_=[exp.column(name_column.copy())]))
    name: exp.Expr = exp.column(name_column.copy())
    if integer_labels:
        name = exp.alias_(exp.cast(name, "BIGINT"), name_column.copy())
    wrapper = wrapper.select(name, copy=False)
    if len(values) > 1 and not pivot.args.get("include_nulls"):
        pivot.set("include_nulls", True)
        all_null = exp.and_(
            *[exp.Is(this=exp.column(v.copy()), expression=exp.Null()) for v in values]
        )
        wrapper = wrapper.where(exp.Not(this=exp.Paren(this=all_null)), copy=False)
    alias = pivot.args.get("alias")
    pivot.set("alias", None)
    replacement = exp.Subquery(this=wrapper, alias=alias)
    source.replace(replacement)
    wrapper.set("from_", exp.From(this=source))


def _value_columns(pivot: exp.Pivot) -> list[exp.Identifier]:
    columns: list[exp.Identifier] = []
    for value in pivot.expressions:
        parts = value.expressions if isinstance(value, exp.Tuple) else [value]
        columns.extend(p if isinstance(p, exp.Identifier) else p.this for p in parts)
    return columns


def _refuse_repeated_columns(names_in: exp.Expr) -> None:
    seen: set[str] = set()
    for item in names_in.expressions:
        unpivoted = item.this if isinstance(item, exp.PivotAlias) else item
        parts = unpivoted.expressions if isinstance(unpivoted, exp.Tuple) else [unpivoted]
        for column in parts:
            key = column.name.lower()
            if key in seen:
                raise EngineError(REPEATED)
            seen.add(key)


def _text_labels(names_in: exp.Expr) -> bool:
    """DuckDB's labels are text: an INT64 label is written as text and cast back after."""
    integer = False
    for item in names_in.expressions:
        label = item.args.get("alias") if isinstance(item, exp.PivotAlias) else None
        if isinstance(label, exp.Literal) and not label.is_string:
            item.set("alias", exp.to_identifier(label.name, quoted=True))
            integer = True
    return integer
