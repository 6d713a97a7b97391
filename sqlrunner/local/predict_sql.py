"""The SQL side of ML.PREDICT: which input columns become fused image features.

A select item `ML.RESIZE_IMAGE(ML.DECODE_IMAGE(col), h, w, preserve) AS feature` (or
`ML.DECODE_IMAGE(col) AS feature`) is not run in SQL: the input query is rewritten to
select the raw bytes of `col` instead, and the predictor decodes and resizes them
batch by batch. Nothing here runs anything; it only reads and rewrites parse trees.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from sqlrunner.errors import SqlRunnerError
from sqlrunner.local.objects import URI_COLUMN
from sqlrunner.local.transpile import ml_call_args, ml_function_name, sibling_uri

SOURCE_PREFIX = "__sqlrunner_src_"
URI_PREFIX = "__sqlrunner_uri_"


@dataclass(frozen=True)
class FusedPlan:
    """What becomes predict.FusedImageFeature; kept here so planning needs no numpy/decoders."""

    source_column: str
    uri_column: str | None
    resize: tuple[int, int, bool] | None
    emit: bool


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
    raise SqlRunnerError("ML.PREDICT's second argument must be (query) or TABLE table")


def plan_input(
    node: exp.Predict, features: Sequence[str], needs_column: Callable[[str], bool]
) -> PredictInput:
    plan = PredictInput(input_query(node))
    select = plan.query
    if not isinstance(select, exp.Select):
        return plan
    names = {projection.alias_or_name.lower() for projection in select.expressions}
    wanted = {feature.lower(): feature for feature in features}
    for projection in list(select.expressions):
        feature = wanted.get(projection.alias_or_name.lower())
        if feature is None:
            continue
        fused = _fused_shape(projection.this if isinstance(projection, exp.Alias) else projection)
        if fused is None:
            continue
        column, resize = fused
        source = f"{SOURCE_PREFIX}{feature}"
        projection.replace(exp.alias_(column.copy(), source, quoted=True))
        uri_column: str | None = None
        if URI_COLUMN in names:
            uri_column = URI_COLUMN
        elif (uri := sibling_uri(column)) is not None:
            uri_column = f"{URI_PREFIX}{feature}"
            select.select(exp.alias_(uri, uri_column, quoted=True), copy=False)
            plan.hidden.append(uri_column)
        plan.fused[feature] = FusedPlan(source, uri_column, resize, needs_column(feature))
    return plan


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
        raise SqlRunnerError(f"ML.RESIZE_IMAGE takes 3 or 4 arguments, got {len(args)}")
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
