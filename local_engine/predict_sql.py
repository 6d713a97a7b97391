"""The SQL side of ML.PREDICT: which input columns become fused image features.

A select item `ML.RESIZE_IMAGE(ML.DECODE_IMAGE(col), h, w, preserve) AS feature` (or
`ML.DECODE_IMAGE(col) AS feature`) is not run in SQL: the input query is rewritten to
select the raw bytes of `col` instead, and the predictor decodes and resizes them
batch by batch. When `col` is an object table's `data` and nothing else in the input
query reads `data`, the query selects the object's `uri` in its place: the object
table then reads no bytes, filters and joins (an incremental `NOT IN`) carry only
metadata, and the bytes of the surviving rows are read just before the predictor.
Nothing here runs anything; it only reads and rewrites parse trees.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from local_engine.errors import EngineError
from local_engine.objects import DATA_COLUMN, URI_COLUMN
from local_engine.transpile import ml_call_args, ml_function_name, sibling_uri

SOURCE_PREFIX = "__sqlrunner_src_"
URI_PREFIX = "__sqlrunner_uri_"


@dataclass(frozen=True)
class FusedPlan:
    """What becomes predict.FusedImageFeature; kept here so planning needs no numpy/decoders."""

    source_column: str
    uri_column: str | None
    resize: tuple[int, int, bool] | None
    emit: bool
    # The query's source column holds object uris; their bytes are read before predicting.
    bytes_from_uri: bool = False


@dataclass
class PredictInput:
    query: exp.Query  # the input query, rewritten; still BigQuery-dialect tree
    fused: dict[str, FusedPlan] = field(default_factory=dict)
    hidden: list[str] = field(default_factory=list)  # columns to drop from ML.PREDICT's output


def input_query(node: exp.Predict) -> exp.Query:
    """A copy of ML.PREDICT's input: `(query)` or `TABLE t` (as SELECT * FROM t)."""
    source = node.expression
    if isinstance(source, exp.Subquery):
        source = source.this
    if isinstance(source, exp.Table):
        return exp.select("*").from_(source.copy())
    if isinstance(source, exp.Query):
        return source.copy()
    raise EngineError("ML.PREDICT's second argument must be (query) or TABLE table")


def plan_input(
    node: exp.Predict,
    features: Sequence[str],
    needs_column: Callable[[str], bool],
    is_object_table: Callable[[exp.Table], bool],
) -> PredictInput:
    plan = PredictInput(input_query(node))
    select = plan.query
    if not isinstance(select, exp.Select):
        return plan
    names = {projection.alias_or_name.lower() for projection in select.expressions}
    wanted = {feature.lower(): feature for feature in features}
    shapes: list[tuple[exp.Expr, str, exp.Column, tuple[int, int, bool] | None]] = []
    for projection in select.expressions:
        feature = wanted.get(projection.alias_or_name.lower())
        if feature is None:
            continue
        fused = _fused_shape(projection.this if isinstance(projection, exp.Alias) else projection)
        if fused is not None:
            shapes.append((projection, feature, *fused))
    lazy = _reads_bytes_by_uri(select, [column for _, _, column, _ in shapes], is_object_table)
    for projection, feature, column, resize in shapes:
        source = f"{SOURCE_PREFIX}{feature}"
        uri = sibling_uri(column)
        carried = uri.copy() if lazy and uri is not None else column.copy()
        projection.replace(exp.alias_(carried, source, quoted=True))
        uri_column: str | None = None
        if URI_COLUMN in names:
            uri_column = URI_COLUMN
        elif uri is not None:
            uri_column = f"{URI_PREFIX}{feature}"
            select.select(exp.alias_(uri, uri_column, quoted=True), copy=False)
            plan.hidden.append(uri_column)
        plan.fused[feature] = FusedPlan(
            source, uri_column, resize, needs_column(feature), bytes_from_uri=lazy
        )
    return plan


def _reads_bytes_by_uri(
    select: exp.Select, sources: list[exp.Column], is_object_table: Callable[[exp.Table], bool]
) -> bool:
    """Whether every fused source is this SELECT's object table `data` and nothing else reads it.

    Only a plain SELECT qualifies: DISTINCT or GROUP BY would compare the bytes, so
    carrying uris instead would change which rows come out.
    """
    if not sources or select.args.get("distinct") or select.args.get("group"):
        return False
    tables = _from_tables(select)
    for column in sources:
        owner = _owner(tables, column)
        if column.name.lower() != DATA_COLUMN or owner is None or not is_object_table(owner):
            return False
    fused = {id(column) for column in sources}
    return not any(
        column.name.lower() == DATA_COLUMN and id(column) not in fused
        for column in select.find_all(exp.Column)
    )


def _owner(tables: list[exp.Expr], column: exp.Column) -> exp.Table | None:
    """The table a column belongs to: the one its qualifier names, or the only one."""
    if column.table:
        qualifier = column.table.lower()
        named = [t for t in tables if t.alias_or_name.lower() == qualifier]
    else:
        named = tables if len(tables) == 1 else []
    return named[0] if len(named) == 1 and isinstance(named[0], exp.Table) else None


def _from_tables(select: exp.Select) -> list[exp.Expr]:
    """What the SELECT's FROM and JOINs read: tables, subqueries, UNNESTs."""
    from_ = select.args.get("from_")
    found: list[exp.Expr] = [from_.this] if from_ is not None else []
    return found + [join.this for join in select.args.get("joins") or []]


def _fused_shape(
    node: exp.Expr,
) -> tuple[exp.Column, tuple[int, int, bool] | None] | None:
    name = ml_function_name(node)
    if name == "DECODE_IMAGE":
        args = ml_call_args(node)
        if len(args) == 1 and isinstance(args[0], exp.Column):
            return args[0], None
        return None
    if name != "RESIZE_IMAGE":
        return None
    args = ml_call_args(node)
    if len(args) not in (3, 4):
        raise EngineError(f"ML.RESIZE_IMAGE takes 3 or 4 arguments, got {len(args)}")
    inner = _fused_shape(args[0])
    if inner is None or inner[1] is not None:
        return None
    height, width = (_int_literal(arg) for arg in args[1:3])
    preserve = _bool_literal(args[3]) if len(args) == 4 else False
    if height is None or width is None or preserve is None:
        return None
    return inner[0], (height, width, preserve)


def _int_literal(node: exp.Expr) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string:
        try:
            return int(node.this)
        except ValueError:
            return None
    return None


def _bool_literal(node: exp.Expr) -> bool | None:
    return bool(node.this) if isinstance(node, exp.Boolean) else None


def outer_needs_column(tree: exp.Expr, predict: exp.Predict) -> Callable[[str], bool]:
    """Whether the statement around `predict` reads a column by name (or through `*`)."""
    names: set[str] = set()
    star = False
    for node in tree.walk(prune=lambda n: n is predict):
        if node is predict:
            continue
        if isinstance(node, exp.Star) and not isinstance(node.parent, exp.Count):
            star = True
        elif isinstance(node, exp.Column):
            names.add(node.name.lower())
    return lambda column: star or column.lower() in names
