"""NaN as BigQuery has it: unequal and unordered in comparisons, the smallest value in an order.

DuckDB treats NaN as equal to itself and greater than every number, everywhere. BigQuery's
comparison operators follow IEEE (`NaN = NaN`, `NaN < 1`, `1 < NaN` are FALSE, `NaN != x`
is TRUE; NULL still wins), while its orders (ORDER BY, window and aggregate ORDER BY, MIN,
LEAST) put NaN after NULL and before -inf, and MIN, MAX, LEAST and GREATEST return NaN when
any input is NaN. GROUP BY, DISTINCT and IS DISTINCT FROM treat NaN as one value in both.

The engine has no static types, so every rewrite calls small untyped DuckDB macros
(`bq_is_nan`, `bq_nan_rank`, ..., created on each connection by `register_nan_macros`)
that ask `typeof()`, which DuckDB folds to a constant when it plans the query: on INT64,
STRING and other non-float operands the added tests disappear before execution, and a
filter's comparisons keep their hash joins and scan filters. TRY_CAST(x AS DOUBLE) binds
on every type, so the float branch binds wherever the operand is not a float.

Refused, with the reason: = and IN over a STRUCT with a float field (BigQuery compares its
NaN fields by IEEE), an outer JOIN ... USING on a float column, PERCENTILE_CONT/DISC over
a NaN, a RANGE frame with an offset over a float key, ORDER BY a position after SELECT *
or after a set operation whose column has no name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from local_engine.errors import REFUSAL, EngineError

if TYPE_CHECKING:
    import duckdb

_FLOATS = ("DOUBLE", "FLOAT")
_COMPARISONS = (exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE)
# Filter clauses where a NULL condition and a FALSE one mean the same.
_FILTERS = (exp.Where, exp.Having, exp.Qualify)
_STRUCT_REFUSAL = (
    f"comparing a STRUCT with FLOAT64 fields is {REFUSAL}: BigQuery compares NaN fields as"
    " unequal and DuckDB as equal; compare the fields one by one"
)
_OUTER_USING_REFUSAL = (
    f"an outer JOIN ... USING on a FLOAT64 column is {REFUSAL}: BigQuery never matches NaN"
    " and DuckDB does; join ON a.x = b.x instead"
)
_PERCENTILE_REFUSAL = (
    f"PERCENTILE_CONT and PERCENTILE_DISC over a NaN are {REFUSAL}: BigQuery orders NaN"
    " first and DuckDB last; filter out NaN first"
)
_RANGE_REFUSAL = (
    f"a RANGE window frame with an offset over FLOAT64 is {REFUSAL}: DuckDB orders NaN"
    " above every number; use a ROWS frame or filter out NaN"
)


def apply_nan_semantics(tree: exp.Expr) -> None:
    """Runs before ARRAY_AGG(... ORDER BY ... LIMIT n) becomes max_by/min_by (its keys stay Ordered)."""
    _between(tree)
    _simple_case(tree)
    _nullif(tree)
    # Children first: a rewritten operand is copied into its parent's rewrite.
    for node in reversed(list(tree.find_all(*_COMPARISONS, exp.In, exp.Least, bfs=False))):
        if isinstance(node, exp.In):
            if not isinstance(node.parent, exp.Pivot):  # PIVOT (... FOR c IN (...)) names columns
                _in(node)
        elif isinstance(node, exp.Least):
            _least(node)
        else:
            _comparison(node)
    # After the comparisons: these add `typeof(x) IN (...)` tests of their own.
    _orders(tree)
    _minimum(tree)
    _using(tree)
    _percentiles(tree)


def _call(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(args))


def _error(message: str) -> exp.Expr:
    return _call("error", exp.Literal.string(message))


def _float_test(value: exp.Expr) -> exp.Expr:
    return exp.In(
        this=_call("typeof", value.copy()),
        expressions=[exp.Literal.string(name) for name in _FLOATS],
    )


def _nan_test(value: exp.Expr, structs: bool) -> exp.Expr:
    nan = _call("isnan", exp.TryCast(this=value.copy(), to=exp.DataType.build("DOUBLE")))
    ifs = [exp.If(this=_float_test(value), true=nan)]
    if structs:
        kind = _call("typeof", value.copy())
        struct_of_floats = exp.and_(
            exp.Like(this=kind.copy(), expression=exp.Literal.string("STRUCT(%")),
            _call("regexp_matches", kind.copy(), exp.Literal.string("DOUBLE|FLOAT")),
        )
        ifs.append(exp.If(this=struct_of_floats, true=_error(_STRUCT_REFUSAL)))
    return exp.Case(ifs=ifs, default=exp.false())


def _rank(value: exp.Expr) -> exp.Expr:
    rank = exp.cast(
        exp.Not(
            this=_call("isnan", exp.TryCast(this=value.copy(), to=exp.DataType.build("DOUBLE")))
        ),
        "INT",
    )
    return exp.Case(ifs=[exp.If(this=_float_test(value), true=rank)], default=exp.Literal.number(1))


_PARAMETER = exp.column("x")
# Untyped macros, expanded where they are called: DuckDB binds and folds them per call.
MACROS = {
    "bq_is_float": _float_test(_PARAMETER),
    "bq_is_nan": _nan_test(_PARAMETER, structs=False),
    "bq_is_nan_or_refuse_struct": _nan_test(_PARAMETER, structs=True),
    "bq_nan_rank": _rank(_PARAMETER),
}


def register_nan_macros(con: duckdb.DuckDBPyConnection) -> None:
    for name, body in MACROS.items():
        con.execute(f"CREATE OR REPLACE TEMP MACRO {name}(x) AS {body.sql('duckdb')}")


def _is_float(value: exp.Expr) -> exp.Expr:
    """TRUE when DuckDB types the value DOUBLE or FLOAT: a constant once planned."""
    return _call("bq_is_float", value.copy())


def is_nan(value: exp.Expr, structs: bool = False) -> exp.Expr:
    """TRUE for a float NaN, FALSE for any other non-NULL value, NULL for NULL: on any type.

    With `structs`, a STRUCT type holding a float is refused when the query runs."""
    name = "bq_is_nan_or_refuse_struct" if structs else "bq_is_nan"
    return _call(name, value.copy())


def nan_rank(value: exp.Expr) -> exp.Expr:
    """An order key for `value`'s NaN: NULL for NULL, 0 for NaN, 1 for anything else."""
    return _call("bq_nan_rank", value.copy())


def _null_or(operands: list[exp.Expr], value: exp.Expr) -> exp.Expr:
    """NULL when any operand is NULL, else `value`."""
    any_null = exp.or_(*[exp.Is(this=o.copy(), expression=exp.Null()) for o in operands])
    return exp.Paren(this=exp.Case(ifs=[exp.If(this=any_null, true=exp.Null())], default=value))


def _in_filter(node: exp.Expr) -> bool:
    """True when the node's NULL and FALSE mean the same: a conjunct of WHERE, ON, a WHEN."""
    child, parent = node, node.parent
    while isinstance(parent, exp.And | exp.Paren):
        child, parent = parent, parent.parent
    if isinstance(parent, _FILTERS):
        return True
    if isinstance(parent, exp.Join | exp.Merge):
        return parent.args.get("on") is child
    return isinstance(parent, exp.If) and parent.this is child


def ieee_comparison(node: exp.Expr, in_filter: bool) -> exp.Expr:
    """`a op b` with IEEE NaN: FALSE (TRUE for !=) when an operand is NaN and none is NULL."""
    left, right = node.this, node.expression
    structs = isinstance(node, exp.EQ | exp.NEQ)
    nan = exp.or_(is_nan(left, structs), is_nan(right, structs))
    if in_filter and not isinstance(node, exp.NEQ):
        # NULL where IEEE says FALSE is the same in a filter, and keeps DuckDB's hash joins.
        return exp.Paren(this=exp.and_(node.copy(), exp.Not(this=exp.Paren(this=nan))))
    verdict = exp.true() if isinstance(node, exp.NEQ) else exp.false()
    return exp.Paren(
        this=exp.Case(
            ifs=[exp.If(this=nan, true=_null_or([left, right], verdict))], default=node.copy()
        )
    )


def _comparison(node: exp.Expr) -> None:
    if isinstance(node.parent, exp.Update) and node.arg_key == "expressions":
        return  # UPDATE ... SET column = value
    node.replace(ieee_comparison(node, _in_filter(node)))


def _between(tree: exp.Expr) -> None:
    """`x BETWEEN a AND b` is `x >= a AND x <= b`, each comparison IEEE's."""
    for between in reversed(list(tree.find_all(exp.Between, bfs=False))):
        value = between.this
        both = exp.and_(
            exp.GTE(this=value.copy(), expression=between.args["low"].copy()),
            exp.LTE(this=value.copy(), expression=between.args["high"].copy()),
        )
        between.replace(exp.Paren(this=both))


def _simple_case(tree: exp.Expr) -> None:
    """`CASE x WHEN v THEN ...` compares with =, so NaN matches nothing."""
    for case in reversed(list(tree.find_all(exp.Case, bfs=False))):
        operand = case.args.get("this")
        if operand is None:
            continue
        for branch in case.args.get("ifs") or []:
            branch.set("this", exp.EQ(this=operand.copy(), expression=branch.this.copy()))
        case.set("this", None)


def _nullif(tree: exp.Expr) -> None:
    """NULLIF(a, b) is NULL when a = b by IEEE: NULLIF(NaN, NaN) is NaN."""
    for nullif in reversed(list(tree.find_all(exp.Nullif, bfs=False))):
        value = nullif.this
        equal = exp.EQ(this=value.copy(), expression=nullif.expression.copy())
        nullif.replace(
            exp.Paren(
                this=exp.Case(ifs=[exp.If(this=equal, true=exp.Null())], default=value.copy())
            )
        )


def _in(node: exp.In) -> None:
    value = node.this
    query = node.args.get("query")
    unnest = node.args.get("unnest")
    if query is not None:
        # The query without its NaN rows: a NaN then matches nothing, as by IEEE (a NULL
        # still makes the answer NULL), and any other value matches as before. One copy of
        # the query, so it runs (and an object table is listed) once.
        inner = query.this if isinstance(query, exp.Subquery) else query
        element = exp.column("_nan_element")
        filtered = (
            exp.select(element.copy())
            .from_(
                exp.Subquery(
                    this=inner.copy(),
                    alias=exp.TableAlias(
                        this=exp.to_identifier("_nan_in"),
                        columns=[exp.to_identifier("_nan_element")],
                    ),
                )
            )
            .where(exp.Not(this=_call("coalesce", is_nan(element, structs=True), exp.false())))
        )
        node.set("query", exp.Subquery(this=filtered))
        return
    if unnest is not None:
        array = unnest.expressions[0]
        has_null = exp.NEQ(
            this=_call("len", array.copy()), expression=_call("list_count", array.copy())
        )
        # A NaN is in no array: FALSE, or NULL when the array holds a NULL.
        verdict: exp.Expr = exp.Paren(
            this=exp.Case(ifs=[exp.If(this=has_null, true=exp.Null())], default=exp.false())
        )
    else:
        verdict = _null_or(list(node.expressions), exp.false())
    node.replace(
        exp.Paren(
            this=exp.Case(
                ifs=[exp.If(this=is_nan(value, structs=True), true=verdict)], default=node.copy()
            )
        )
    )


def _least(node: exp.Least) -> None:
    """LEAST is NULL if any argument is, else NaN if any is (DuckDB's would skip the NaN)."""
    arguments = [node.this, *node.expressions]
    ifs = [exp.If(this=is_nan(a), true=a.copy()) for a in arguments]
    picked = exp.Case(ifs=ifs, default=node.copy())
    node.replace(_null_or(arguments, picked))


def _minimum(tree: exp.Expr) -> None:
    """MIN is NaN when any input is, which is when DuckDB's MAX is NaN (it orders NaN last)."""
    for minimum in list(tree.find_all(exp.Min)):
        if minimum.expressions:  # MIN(a, b, ...) is LEAST in other dialects, not an aggregate
            continue
        parent = minimum.parent
        window = parent if isinstance(parent, exp.Window) and parent.this is minimum else None
        largest: exp.Expr = exp.Max(this=minimum.this.copy())
        if window is not None:
            largest = window.copy()
            largest.set("this", exp.Max(this=minimum.this.copy()))
        target = window or minimum
        target.replace(
            exp.Paren(
                this=exp.Case(
                    ifs=[exp.If(this=is_nan(largest), true=largest.copy())],
                    default=target.copy(),
                )
            )
        )


def _orders(tree: exp.Expr) -> None:
    """Each ORDER BY key gets a key before it that puts NaN below every number (after NULL)."""
    # Deepest first: an ORDER BY alias copies its SELECT expression, whose own window or
    # aggregate ORDER BY must already be rewritten, or the copy would order differently.
    for order in sorted(tree.find_all(exp.Order), key=_depth, reverse=True):
        window = order.parent if isinstance(order.parent, exp.Window) else None
        keys: list[exp.Expr] = []
        for key in order.expressions:
            if not isinstance(key, exp.Ordered):
                keys.append(key)
                continue
            value = _resolved(key.this, order)
            if value is None:
                keys.append(key)
                continue
            if window is not None and _range_with_offset(window):
                # An offset frame needs its single key: refuse a float key instead.
                keys.append(key)
                guard = exp.Case(
                    ifs=[exp.If(this=_is_float(value), true=_error(_RANGE_REFUSAL))],
                    default=exp.Null(),
                )
                window.replace(_call("coalesce", guard, window.copy()))
                continue
            rank = key.copy()
            rank.set("this", nan_rank(value))
            if bool(key.args.get("nulls_first")) == bool(key.args.get("desc")):
                # NULLs at the far end from NaN: a key before tells NaN from numbers.
                keys += [rank, key]
                continue
            # NaN sorts next to NULL: NaN as NULL, then a key after tells the two apart.
            # On a non-float key both fold to the key and a constant, and DuckDB keeps
            # its fast top-n (a key before it would cost a sort of every row).
            nan_as_null = key.copy()
            nan_as_null.set(
                "this",
                exp.Paren(
                    this=exp.Case(
                        ifs=[exp.If(this=is_nan(value), true=exp.Null())],
                        default=value.copy(),
                    )
                ),
            )
            keys += [nan_as_null, rank]
        order.set("expressions", keys)


def _depth(node: exp.Expr) -> int:
    depth = 0
    while node.parent is not None:
        node, depth = node.parent, depth + 1
    return depth


def _range_with_offset(window: exp.Window) -> bool:
    spec = window.args.get("spec")
    if spec is None or str(spec.args.get("kind") or "").upper() != "RANGE":
        return False
    bounds = [spec.args.get("start"), spec.args.get("end")]
    return any(b is not None and str(b).upper() not in ("UNBOUNDED", "CURRENT ROW") for b in bounds)


def _resolved(value: exp.Expr, order: exp.Order) -> exp.Expr | None:
    """The value an ORDER BY key orders by: a position (`ORDER BY 2`) or a SELECT alias
    becomes its expression (inside an expression DuckDB would read a same-named column
    first); None where it cannot be named."""
    query = order.parent
    if isinstance(value, exp.Column) and not value.table and isinstance(query, exp.Select):
        for projection in query.expressions:
            if isinstance(projection, exp.Alias) and projection.alias == value.name:
                named: exp.Expr = projection.this.copy()
                return named
        return value
    if not (isinstance(value, exp.Literal) and value.is_int):
        return value
    while isinstance(query, exp.SetOperation):
        query = query.this
    if not isinstance(query, exp.Select):
        return None
    set_operation = query is not order.parent
    position = int(value.this) - 1
    projections = query.expressions
    if any(p.is_star for p in projections) or not 0 <= position < len(projections):
        raise EngineError(
            f"ORDER BY {value.this} is {REFUSAL} after SELECT *: NaN's place in the order"
            " needs the column by name; ORDER BY the column's name"
        )
    chosen = projections[position]
    if isinstance(chosen, exp.Alias):
        aliased: exp.Expr = chosen.this.copy()
        return exp.column(chosen.alias, quoted=True) if set_operation else aliased
    if isinstance(chosen, exp.Column):
        return exp.column(chosen.name, quoted=True) if set_operation else chosen.copy()
    if set_operation:
        raise EngineError(
            f"ORDER BY {value.this} is {REFUSAL} here: NaN's place in the order needs the"
            " column by name; give the column an alias and ORDER BY it"
        )
    expression: exp.Expr = chosen.copy()
    return expression


def _using(tree: exp.Expr) -> None:
    """JOIN ... USING (x) matches with =: an inner join drops the rows joined on NaN; an outer
    one, which would have to keep them unmatched, is refused on float columns."""
    for join in list(tree.find_all(exp.Join)):
        using = join.args.get("using")
        select = join.parent
        if not using or not isinstance(select, exp.Select):
            continue
        side = join.this
        qualifier = side.alias_or_name if isinstance(side, exp.Table | exp.Subquery) else ""
        for name in using:
            column = exp.column(name.name, table=qualifier or None, quoted=True)
            if join.side:
                check: exp.Expr = exp.Paren(
                    this=exp.Case(
                        ifs=[exp.If(this=_is_float(column), true=_error(_OUTER_USING_REFUSAL))],
                        default=exp.true(),
                    )
                )
            else:
                check = exp.Not(this=_call("coalesce", is_nan(column), exp.false()))
            select.where(check, copy=False)


def _percentiles(tree: exp.Expr) -> None:
    for percentile in list(tree.find_all(exp.PercentileCont, exp.PercentileDisc)):
        window = percentile.parent
        if not isinstance(window, exp.Window):
            continue
        any_nan = window.copy()
        any_nan.set("this", _call("bool_or", is_nan(percentile.this)))
        window.replace(
            exp.Paren(
                this=exp.Case(
                    ifs=[exp.If(this=any_nan, true=_error(_PERCENTILE_REFUSAL))],
                    default=window.copy(),
                )
            )
        )
