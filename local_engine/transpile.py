"""BigQuery parse trees to DuckDB SQL: the lake's name rules, the ML.* image UDFs, and refusals.

Everything here is a small rewrite over the sqlglot tree; sqlglot itself then writes
DuckDB SQL, raising on anything it knows it cannot express.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp
from sqlglot.errors import ErrorLevel, UnsupportedError

from local_engine.errors import EngineError
from local_engine.names import check_project
from local_engine.nan_order import apply_nan_semantics
from local_engine.objects import DATA_COLUMN, URI_COLUMN
from local_engine.semantics import apply_bigquery_semantics

# BigQuery's image functions and the DuckDB UDFs (local_engine.images) that implement them.
IMAGE_FUNCTIONS = {
    "DECODE_IMAGE": "ml_decode_image",
    "RESIZE_IMAGE": "ml_resize_image",
    "CONVERT_COLOR_SPACE": "ml_convert_color_space",
    "CONVERT_IMAGE_TYPE": "ml_convert_image_type",
}


def ml_function_name(node: exp.Expr) -> str | None:
    """`DECODE_IMAGE` for the parse of `ML.DECODE_IMAGE(...)`, else None."""
    if (
        isinstance(node, exp.Dot)
        and isinstance(node.this, exp.Identifier | exp.Column)
        and node.this.name.upper() == "ML"
        and isinstance(node.expression, exp.Func)
    ):
        inner = node.expression
        return (inner.name if isinstance(inner, exp.Anonymous) else inner.sql_name()).upper()
    return None


def ml_call_args(node: exp.Expr) -> list[exp.Expr]:
    assert isinstance(node, exp.Dot)
    return list(node.expression.expressions)


def strip_project(tree: exp.Expr) -> None:
    """Drops the `local-lake` project from table and column names; any other project is refused."""
    for table in tree.find_all(exp.Table):
        if table.catalog:
            check_project(table.catalog, f"table {table.sql('bigquery')}")
            table.set("catalog", None)
    for column in tree.find_all(exp.Column):
        if column.args.get("catalog"):
            check_project(column.text("catalog"), f"column {column.sql('bigquery')}")
            column.set("catalog", None)


def rewrite_image_functions(tree: exp.Expr, suffix: Callable[[], str]) -> bool:
    """ML.DECODE_IMAGE and friends -> the ml_* UDFs; True when any was found.

    The UDFs' names end in `suffix()`, asked for once, when the first one is found: each
    connection registers its own set (DuckDB keeps UDFs in a catalog that every connection
    to the same database shares, and each set reports errors to its own engine).

    ML.DECODE_IMAGE(data) gets the sibling `uri` column as a second argument so decode
    errors can name the object; NULL when the argument is not an object table's `data`.
    """
    found = False
    ending = ""
    for node in list(tree.find_all(exp.Dot)):
        name = ml_function_name(node)
        if name is None or name not in IMAGE_FUNCTIONS:
            continue
        if not found:
            ending = suffix()
        args = ml_call_args(node)
        if name == "DECODE_IMAGE":
            if len(args) != 1:
                raise EngineError(f"ML.DECODE_IMAGE takes one argument, got {len(args)}")
            args.append(sibling_uri(args[0]) or exp.null())
        node.replace(exp.Anonymous(this=IMAGE_FUNCTIONS[name] + ending, expressions=args))
        found = True
    return found


def sibling_uri(argument: exp.Expr) -> exp.Column | None:
    """`t.uri` for an argument `t.data` (or `uri` for `data`)."""
    if isinstance(argument, exp.Column) and argument.name.lower() == DATA_COLUMN:
        return exp.column(URI_COLUMN, table=argument.table or None)
    return None


def rewrite_unnest_offsets(tree: exp.Expr) -> None:
    """`UNNEST(a) AS x WITH OFFSET AS o` -> a lateral subquery with a 0-based `o`.

    sqlglot writes BigQuery's OFFSET as DuckDB's WITH ORDINALITY, which counts from 1.
    """
    for index, unnest in enumerate(list(tree.find_all(exp.Unnest))):
        offset = unnest.args.get("offset")
        if not offset:
            continue
        arrays = unnest.expressions
        if len(arrays) != 1:
            raise EngineError("UNNEST of several arrays WITH OFFSET is not supported locally")
        alias = unnest.args.get("alias")
        columns = alias.columns if alias is not None else []
        value = columns[0].name if columns else (alias.name if alias is not None else "")
        offset_name = offset.name if isinstance(offset, exp.Identifier) else "offset"
        array = arrays[0]
        values = exp.Anonymous(this="unnest", expressions=[array.copy()])
        positions = exp.Sub(
            this=exp.Anonymous(
                this="generate_subscripts", expressions=[array.copy(), exp.Literal.number(1)]
            ),
            expression=exp.Literal.number(1),
        )
        lateral = exp.select(
            exp.alias_(values, value or "f0_", quoted=True),
            exp.alias_(positions, offset_name, quoted=True),
        )
        join = unnest.parent
        unnest.replace(
            exp.Subquery(
                this=lateral,
                alias=exp.TableAlias(this=exp.to_identifier(f"_sqlrunner_unnest_{index}")),
            )
        )
        # BigQuery allows `LEFT JOIN UNNEST(...)` without ON; DuckDB needs one.
        if isinstance(join, exp.Join) and join.side and not join.args.get("on"):
            join.set("on", exp.true())


def rewrite_top_n_aggregates(tree: exp.Expr) -> None:
    """`ARRAY_AGG(x ORDER BY k DESC LIMIT n)` -> DuckDB's streaming `max_by(x, k, n)`.

    `max_by`/`min_by` keep the n best rows per group, so memory is per group, not per
    row. BigQuery's order is kept exactly: NULL keys are the smallest (or where NULLS
    FIRST/LAST puts them) through a flag before each key, several keys become one row
    key compared field by field, and NULL values are kept unless IGNORE NULLS (max_by
    drops them, so they travel wrapped in a struct). What that cannot express (keys in
    mixed directions, DISTINCT, LIMIT without ORDER BY) is refused.
    BigQuery's NaN order (below every number) comes from local_engine.nan_order, which
    adds its keys first. Not emulated, as for plain ARRAY_AGG: BigQuery's error for a NULL
    element in a final result. Rows whose keys tie come in any order, in both engines.
    """
    for limit in list(tree.find_all(exp.Limit)):
        aggregate = limit.parent
        if not isinstance(aggregate, exp.ArrayAgg) or aggregate.this is not limit:
            continue
        wrapper = aggregate.parent
        nulls = wrapper if isinstance(wrapper, exp.IgnoreNulls | exp.RespectNulls) else None
        if isinstance(nulls.parent if nulls else wrapper, exp.Window):
            raise EngineError("ARRAY_AGG with ORDER BY or LIMIT cannot take an OVER clause")
        order = limit.this
        if not isinstance(order, exp.Order):
            raise EngineError(
                "ARRAY_AGG with LIMIT but no ORDER BY is not supported by the local engine"
            )
        value = order.this
        if isinstance(value, exp.Distinct):
            raise EngineError(
                "ARRAY_AGG(DISTINCT ... LIMIT n) is not supported by the local engine"
            )
        keys: list[exp.Ordered] = list(order.expressions)
        if len({bool(key.args.get("desc")) for key in keys}) != 1:
            raise EngineError(
                "ARRAY_AGG(... ORDER BY ... LIMIT n) with keys in different directions is not"
                " supported by the local engine; write every key in one direction"
                " (e.g. -x DESC for x ASC)"
            )
        top_n: exp.Expr = exp.Anonymous(
            this="max_by" if keys[0].args.get("desc") else "min_by",
            expressions=[
                _kept_value(value, ignore_nulls=isinstance(nulls, exp.IgnoreNulls)),
                exp.Anonymous(this="row", expressions=_sort_fields(keys)),
                exp.Literal.number(_limit_count(limit.expression)),
            ],
        )
        if not isinstance(value, exp.Struct) and not isinstance(nulls, exp.IgnoreNulls):
            top_n = _unwrapped(top_n)
        (nulls or aggregate).replace(top_n)


_WRAPPED_VALUE = "_sqlrunner_value"


def _kept_value(value: exp.Expr, ignore_nulls: bool) -> exp.Expr:
    """The value max_by collects; wrapped in a struct where a NULL must be kept.

    A STRUCT(...) constructor is never NULL, so it needs no wrapping.
    """
    if ignore_nulls or isinstance(value, exp.Struct):
        return value.copy()
    return exp.Struct(
        expressions=[
            exp.PropertyEQ(this=exp.to_identifier(_WRAPPED_VALUE), expression=value.copy())
        ]
    )


def _unwrapped(top_n: exp.Expr) -> exp.Expr:
    element = exp.to_identifier("_sqlrunner_entry")
    field = exp.Anonymous(
        this="struct_extract",
        expressions=[exp.column(element), exp.Literal.string(_WRAPPED_VALUE)],
    )
    return exp.Anonymous(
        this="list_transform",
        expressions=[top_n, exp.Lambda(this=field, expressions=[element.copy()])],
    )


def _sort_fields(keys: list[exp.Ordered]) -> list[exp.Expr]:
    """Each key as (flag, key): the flag orders NULLs the way BigQuery does, before any value.

    A row key puts NULL fields above every value; the flag decides first, so two keys
    compare on their values only when both are non-NULL (or both NULL: a tie, as in
    BigQuery). NULLs come first in ASC and last in DESC unless NULLS FIRST/LAST says.
    """
    fields: list[exp.Expr] = []
    for key in keys:
        desc = bool(key.args.get("desc"))
        nulls_first = bool(key.args.get("nulls_first"))
        is_null = exp.Is(this=key.this.copy(), expression=exp.null())
        # For max_by the best row is the largest: NULLs first means a NULL flag that wins.
        flag: exp.Expr = is_null if desc == nulls_first else exp.Not(this=is_null)
        fields += [flag, key.this.copy()]
    return fields


def _limit_count(count: exp.Expr | None) -> int:
    if (
        isinstance(count, exp.Literal)
        and not count.is_string
        and count.this.isdigit()
        and int(count.this) > 0
    ):
        return int(count.this)
    written = count.sql("bigquery") if count is not None else ""
    raise EngineError(
        f"ARRAY_AGG ... LIMIT {written}: the limit must be a positive integer constant locally"
    )


def name_unnamed_columns(query: exp.Expr) -> None:
    """Unaliased expressions in a query's result get BigQuery's names `f0_`, `f1_`, ..."""
    while isinstance(query, exp.SetOperation):
        query = query.this
    if not isinstance(query, exp.Select):
        return
    unnamed = 0
    for projection in list(query.expressions):
        if isinstance(projection, exp.Alias | exp.Column | exp.Star | exp.Dot):
            continue
        projection.replace(exp.alias_(projection.copy(), f"f{unnamed}_", quoted=True))
        unnamed += 1


def raise_where_bigquery_raises(tree: exp.Expr) -> None:
    """Array indexes out of bounds and division by zero fail in BigQuery; DuckDB gives NULL and inf.

    Every `a[OFFSET(i)]`, `a[ORDINAL(i)]` and SAFE_ form becomes an explicit 1-based
    `list_extract` (DuckDB reads a negative index from the end, BigQuery never does),
    guarded by a CASE: out of bounds, the SAFE_ forms give NULL and the others call
    DuckDB's error() with BigQuery's message. Divisions get the same guard unless written
    SAFE_DIVIDE.
    """
    for bracket in list(tree.find_all(exp.Bracket)):
        if bracket.args.get("offset") is None or len(bracket.expressions) != 1:
            continue
        index = bracket.expressions[0]
        base = int(bracket.args["offset"])
        length = exp.Anonymous(this="len", expressions=[bracket.this.copy()])
        out_of_bounds = exp.or_(
            exp.LT(this=index.copy(), expression=exp.Literal.number(base)),
            exp.GTE(
                this=index.copy(),
                expression=exp.Add(this=length, expression=exp.Literal.number(base)),
            ),
        )
        position = exp.Add(
            this=exp.Paren(this=index.copy()), expression=exp.Literal.number(1 - base)
        )
        element = exp.Anonymous(this="list_extract", expressions=[bracket.this.copy(), position])
        if bracket.args.get("safe"):
            bracket.replace(
                exp.Paren(
                    this=exp.Case(
                        ifs=[exp.If(this=out_of_bounds, true=exp.Null())], default=element
                    )
                )
            )
            continue
        message = exp.DPipe(
            this=exp.DPipe(
                this=exp.Literal.string("Array index "),
                expression=exp.cast(index.copy(), "VARCHAR"),
            ),
            expression=exp.Literal.string(" is out of bounds"),
        )
        bracket.replace(_fail_when(out_of_bounds, message, element))
    _check_divisions(tree)


def _check_divisions(tree: exp.Expr) -> None:
    for division in list(tree.find_all(exp.Div)):
        divisor = division.expression
        if division.args.get("safe") or (
            isinstance(divisor, exp.Literal) and not divisor.is_string and float(divisor.this) != 0
        ):
            continue
        unchecked = division.copy()
        unchecked.set("safe", True)
        # NULL / 0 is NULL in BigQuery: only a non-NULL dividend fails.
        zero = exp.and_(
            exp.EQ(this=divisor.copy(), expression=exp.Literal.number(0)),
            exp.Not(this=exp.Is(this=division.this.copy(), expression=exp.Null())),
        )
        text = exp.Literal.string(f"division by zero: {division.sql('bigquery')}")
        division.replace(_fail_when(zero, text, unchecked))


def _fail_when(condition: exp.Expr, message: exp.Expr, otherwise: exp.Expr) -> exp.Expr:
    error = exp.Anonymous(this="error", expressions=[message])
    return exp.Paren(this=exp.Case(ifs=[exp.If(this=condition, true=error)], default=otherwise))


def refuse_unsupported(tree: exp.Expr) -> None:
    """ML.* / AI.* calls the engine has not rewritten are refused by name, never passed on."""
    for node in tree.walk():
        if isinstance(node, exp.Predict):
            raise EngineError("ML.PREDICT is only supported in a FROM clause")
        name = ml_function_name(node)
        if name is not None:
            raise EngineError(f"ML.{name} is not supported by the local engine")
        if isinstance(node, exp.Func) and not isinstance(node, exp.Anonymous):
            written = node.sql("bigquery").upper()
            if written.startswith(("ML.", "AI.")):
                raise EngineError(f"{written.split('(')[0]} is not supported by the local engine")


def to_duckdb(tree: exp.Expr, *, nan_semantics: bool = True) -> str:
    """DuckDB SQL for a BigQuery tree. The engine applies the NaN rewrites itself, before
    relations are bound (`nan_semantics=False`): they repeat operands, and an object
    table's stream can be read only once."""
    refuse_unsupported(tree)
    if nan_semantics:
        apply_nan_semantics(tree)  # before the top-n rewrite turns ORDER BY keys into rows
    rewrite_top_n_aggregates(tree)
    rewrite_unnest_offsets(tree)
    raise_where_bigquery_raises(tree)
    apply_bigquery_semantics(tree)
    try:
        return tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as exc:
        reason = " ".join(str(exc).split())
        raise EngineError(f"not supported by the local engine: {reason}") from exc
