"""BigQuery's meaning where DuckDB's differs, rewritten into the tree before DuckDB SQL is made.

Each rewrite covers a class of differences the differential harness found, not one query:

- literal types: an integer literal is INT64 (DuckDB would pick INTEGER and overflow at
  2^31), a literal with a point or exponent is FLOAT64 (DuckDB: DECIMAL);
- the DATE functions return DATE (DuckDB's date arithmetic returns TIMESTAMP);
- date parts: DAYOFWEEK counts 1 = Sunday, WEEK counts Sunday-started weeks (week 0
  before the first Sunday), ISOWEEK is the ISO week; every part is an INT64;
- COUNTIF over no rows is 0, never NULL;
- UPPER and LOWER use Unicode's full case mappings (`straße` -> `STRASSE`);
- SQRT of a negative number and LN/LOG of a non-positive one fail, as in BigQuery
  (DuckDB gives NaN and -inf); TIMESTAMP_DIFF truncates the exact difference, as
  BigQuery does, instead of counting unit boundaries;
- CAST to INT64 rounds floats half away from zero and refuses decimal strings;
- NUMERIC is DECIMAL(38, 9); BIGNUMERIC, which DuckDB cannot hold, is refused;
- SIGN keeps its argument's type and NaN, ARRAY_CONCAT and REPEAT follow BigQuery on
  NULL and negative input, BYTE_LENGTH counts UTF-8 bytes, UNIX_SECONDS rounds down,
  TO_JSON_STRING(NULL) is `null`, out-of-range DATE results fail, and the later arms of
  a set operation take the first arm's STRUCT field names;
- UNPIVOT puts its value columns before the name column and drops a row only when all
  its values are NULL (`local_engine/unpivot.py`);
- text forms (local_engine.text_forms): FLOAT64, NUMERIC and fractions of a second as
  BigQuery writes them in CAST, STRING, CONCAT and `||`; TO_JSON_STRING;
  JSON_VALUE/JSON_QUERY/JSON_EXTRACT(_SCALAR) keeping a number's text; and
  FORMAT_DATE/DATETIME/TIMESTAMP/TIME element by element; PARSE_TIMESTAMP in its time
  zone, PARSE_* elements strptime reads differently refused; FORMAT is refused.
- NaN and positions (local_engine.nan_order, local_engine.positions): comparisons, IN and
  BETWEEN follow IEEE on NaN, orders and MIN/LEAST put NaN after NULL and before -inf;
  SUBSTR, LEFT, RIGHT, LPAD, RPAD, INSTR and REGEXP_EXTRACT take positions and lengths up
  to the INT64 limits, on STRING and BYTES.
"""

from __future__ import annotations

from sqlglot import exp

from local_engine.errors import REFUSAL, EngineError
from local_engine.positions import apply_position_limits
from local_engine.text_forms import rewrite_text_forms
from local_engine.unpivot import rewrite_unpivots

# Parents under which an integer literal is a position or a size, not an INT64 value.
_POSITIONAL = (exp.Ordered, exp.Group, exp.Limit, exp.Offset, exp.DataType, exp.Interval)
_DATE_FUNCTIONS = (exp.DateAdd, exp.DateSub, exp.DateTrunc)
_VALUE_PARENTS = (
    exp.Binary,
    exp.Neg,
    exp.Paren,
    exp.Alias,
    exp.Select,
    exp.Array,
    exp.Struct,
    exp.PropertyEQ,
    exp.Tuple,
    exp.In,
    exp.Case,
    exp.If,
    exp.Coalesce,
    exp.Greatest,
    exp.Least,
    exp.Abs,
    exp.Sign,
    exp.Mod,
    exp.Sum,
    exp.Max,
    exp.Min,
)
_SECONDS = {"MICROSECOND": 1, "MILLISECOND": 1_000, "SECOND": 1_000_000}
_SECONDS.update(MINUTE=60_000_000, HOUR=3_600_000_000, DAY=86_400_000_000)


def apply_bigquery_semantics(tree: exp.Expr) -> None:
    rewrite_unpivots(tree)
    apply_position_limits(tree)
    _struct_names_across_set_operations(tree)
    _refuse_bignumeric(tree)
    _numeric_precision(tree)
    _date_parts(tree)
    _date_results(tree)
    _countif(tree)
    _case_mapping(tree)
    _domain_errors(tree)
    _timestamp_diff(tree)
    rewrite_text_forms(tree)
    _functions(tree)
    _casts_to_int64(tree)
    _literal_types(tree)


def _call(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(args))


def _refuse_bignumeric(tree: exp.Expr) -> None:
    for data_type in tree.find_all(exp.DataType):
        if data_type.this == exp.DataType.Type.BIGDECIMAL:
            raise EngineError(
                f"BIGNUMERIC is {REFUSAL}: DuckDB holds at most 38 digits; use NUMERIC or FLOAT64"
            )


def _numeric_precision(tree: exp.Expr) -> None:
    for data_type in list(tree.find_all(exp.DataType)):
        if data_type.this == exp.DataType.Type.DECIMAL and not data_type.expressions:
            data_type.replace(exp.DataType.build("DECIMAL(38, 9)"))


def _date_parts(tree: exp.Expr) -> None:
    for extract in list(tree.find_all(exp.Extract)):
        part = extract.this.name.upper()
        value = extract.expression
        if part == "DAYOFWEEK":
            rewritten: exp.Expr = exp.Add(
                this=_call("dayofweek", value.copy()), expression=exp.Literal.number(1)
            )
        elif part == "WEEK":
            # Sunday-started weeks; the days before the year's first Sunday are week 0.
            rewritten = exp.IntDiv(
                this=exp.Paren(
                    this=exp.Add(
                        this=exp.Sub(
                            this=_call("dayofyear", value.copy()),
                            expression=_call("dayofweek", value.copy()),
                        ),
                        expression=exp.Literal.number(6),
                    )
                ),
                expression=exp.Literal.number(7),
            )
        elif part == "ISOWEEK":
            rewritten = _call("weekofyear", value.copy())
        elif part == "ISOYEAR":
            rewritten = _call("isoyear", value.copy())
        else:
            rewritten = extract.copy()
        extract.replace(exp.cast(exp.Paren(this=rewritten), "BIGINT"))


def _date_results(tree: exp.Expr) -> None:
    """DATE results, inside BigQuery's range 0001-01-01 to 9999-12-31 (outside it fails)."""
    for call in list(tree.find_all(*_DATE_FUNCTIONS)):
        if isinstance(call.parent, exp.Cast):
            continue
        date = exp.cast(call.copy(), "DATE")
        outside = exp.Not(
            this=exp.Between(
                this=date.copy(),
                low=exp.cast(exp.Literal.string("0001-01-01"), "DATE"),
                high=exp.cast(exp.Literal.string("9999-12-31"), "DATE"),
            )
        )
        call.replace(_fail_when(outside, f"DATE value out of range: {call.sql('bigquery')}", date))


def _countif(tree: exp.Expr) -> None:
    for count in list(tree.find_all(exp.CountIf)):
        target = count.parent if isinstance(count.parent, exp.Window) else count
        target.replace(exp.Coalesce(this=target.copy(), expressions=[exp.Literal.number(0)]))


def _case_mapping(tree: exp.Expr) -> None:
    for node in list(tree.find_all(exp.Upper, exp.Lower)):
        name = "bq_upper" if isinstance(node, exp.Upper) else "bq_lower"
        node.replace(_call(name, node.this.copy()))


def _fail_when(condition: exp.Expr, message: str, otherwise: exp.Expr) -> exp.Expr:
    error = _call("error", exp.Literal.string(message))
    return exp.Paren(this=exp.Case(ifs=[exp.If(this=condition, true=error)], default=otherwise))


def _domain_errors(tree: exp.Expr) -> None:
    for node in list(tree.find_all(exp.Sqrt, exp.Ln, exp.Log)):
        if node.args.get("safe_checked"):
            continue
        value = node.expression if isinstance(node, exp.Log) and node.expression else node.this
        checked = node.copy()
        checked.set("safe_checked", True)
        if isinstance(node, exp.Sqrt):
            condition: exp.Expr = exp.LT(this=value.copy(), expression=exp.Literal.number(0))
            message = f"Argument to SQRT cannot be negative: {node.sql('bigquery')}"
        else:
            condition = exp.and_(
                exp.LTE(this=value.copy(), expression=exp.Literal.number(0)),
                exp.Not(this=_call("isinf", value.copy())),
            )
            message = f"Argument to LN or LOG must be positive: {node.sql('bigquery')}"
        node.replace(_fail_when(condition, message, checked))


def _timestamp_diff(tree: exp.Expr) -> None:
    for diff in list(tree.find_all(exp.TimestampDiff)):
        unit = (diff.unit.name if diff.unit else "").upper()
        if unit not in _SECONDS:
            continue
        micros = exp.Sub(
            this=_call("epoch_us", diff.this.copy()),
            expression=_call("epoch_us", diff.expression.copy()),
        )
        # Truncated toward zero, as BigQuery does (DuckDB's // floors).
        whole = _call(
            "trunc",
            exp.Div(this=exp.Paren(this=micros), expression=exp.Literal.number(_SECONDS[unit])),
        )
        diff.replace(exp.cast(whole, "BIGINT"))


def _literal_types(tree: exp.Expr) -> None:
    for literal in list(tree.find_all(exp.Literal)):
        if literal.is_string or isinstance(literal.parent, _POSITIONAL):
            continue
        if literal.find_ancestor(exp.DataType, exp.Interval, exp.Limit, exp.Offset):
            continue
        if any(c in literal.this for c in ".eE"):
            literal.replace(exp.cast(literal.copy(), "DOUBLE"))
            continue
        # Integers as operands and values only: DuckDB's functions may want an INTEGER.
        if not isinstance(literal.parent, _VALUE_PARENTS):
            continue
        literal.replace(exp.cast(literal.copy(), "BIGINT"))


def _functions(tree: exp.Expr) -> None:
    """Functions whose DuckDB namesake means something else at the edges."""
    for sign in list(tree.find_all(exp.Sign)):
        value = sign.this
        # BigQuery's SIGN has its argument's type (FLOAT64 in, FLOAT64 out) and keeps NaN.
        typed = exp.Add(
            this=_call("sign", value.copy()),
            expression=exp.Mul(
                this=exp.Literal.number(0),
                expression=exp.Greatest(
                    this=exp.Least(this=value.copy(), expressions=[exp.Literal.number(0)]),
                    expressions=[exp.Literal.number(0)],
                ),
            ),
        )
        sign.replace(
            exp.Paren(
                this=exp.Case(
                    ifs=[exp.If(this=_call("isnan", value.copy()), true=value.copy())],
                    default=typed,
                )
            )
        )
    for concat in list(tree.find_all(exp.ArrayConcat)):
        # NULL in, NULL out (DuckDB's list_concat skips a NULL list).
        parts = [concat.this, *concat.expressions]
        any_null = exp.or_(*[exp.Is(this=p.copy(), expression=exp.Null()) for p in parts])
        concat.replace(
            exp.Paren(
                this=exp.Case(ifs=[exp.If(this=any_null, true=exp.Null())], default=concat.copy())
            )
        )
    for length in list(tree.find_all(exp.ByteLength)):
        # strlen counts a STRING's UTF-8 bytes; octet_length only takes BYTES.
        value = length.this
        length.replace(
            exp.Paren(
                this=exp.Case(
                    ifs=[
                        exp.If(
                            this=exp.EQ(
                                this=_call("typeof", value.copy()),
                                expression=exp.Literal.string("BLOB"),
                            ),
                            true=_call("octet_length", exp.cast(value.copy(), "BLOB")),
                        )
                    ],
                    default=_call("strlen", exp.cast(value.copy(), "VARCHAR")),
                )
            )
        )
    for json_text in list(tree.find_all(exp.JSONFormat)):
        # TO_JSON_STRING(NULL) is the JSON text `null`, not NULL.
        if not isinstance(json_text.parent, exp.Coalesce):
            json_text.replace(
                exp.Coalesce(this=json_text.copy(), expressions=[exp.Literal.string("null")])
            )
    for seconds in list(tree.find_all(exp.UnixSeconds)):
        # Whole seconds, rounded down, as BigQuery truncates (DuckDB's epoch() rounds).
        micros = _call("epoch_us", seconds.this.copy())
        seconds.replace(exp.IntDiv(this=micros, expression=exp.Literal.number(1_000_000)))
    for repeat in list(tree.find_all(exp.Repeat)):
        times = repeat.args.get("times")
        if times is None:
            continue
        negative = exp.and_(
            exp.LT(this=times.copy(), expression=exp.Literal.number(0)),
            exp.Not(this=exp.Is(this=repeat.this.copy(), expression=exp.Null())),
        )
        checked = repeat.copy()
        repeat.replace(_fail_when(negative, "REPEAT count cannot be negative", checked))


def _struct_names_across_set_operations(tree: exp.Expr) -> None:
    """`SELECT STRUCT(1 AS id) UNION ALL SELECT STRUCT(2)`: the later arms' anonymous
    STRUCT fields take the first arm's names, as BigQuery's column types do (DuckDB
    would union them by name and lose the values)."""
    for operation in list(tree.find_all(exp.SetOperation)):
        arms = _arms(operation)
        if len(arms) < 2:
            continue
        first = arms[0].expressions
        for arm in arms[1:]:
            for position, projection in enumerate(arm.expressions):
                if position >= len(first):
                    break
                _name_struct_fields(_unaliased(first[position]), _unaliased(projection))


def _arms(operation: exp.Expr) -> list[exp.Select]:
    if isinstance(operation, exp.SetOperation):
        return _arms(operation.this) + _arms(operation.expression)
    return [operation] if isinstance(operation, exp.Select) else []


def _unaliased(node: exp.Expr) -> exp.Expr:
    return node.this if isinstance(node, exp.Alias) else node


def _name_struct_fields(named: exp.Expr, anonymous: exp.Expr) -> None:
    if not (isinstance(named, exp.Struct) and isinstance(anonymous, exp.Struct)):
        return
    names = [
        field.alias
        if isinstance(field, exp.Alias)
        else field.this.name
        if isinstance(field, exp.PropertyEQ)
        else None
        for field in named.expressions
    ]
    for position, field in enumerate(list(anonymous.expressions)):
        if (
            position < len(names)
            and names[position]
            and not isinstance(field, (exp.Alias, exp.PropertyEQ))
        ):
            field.replace(
                exp.PropertyEQ(
                    this=exp.to_identifier(names[position], quoted=True), expression=field.copy()
                )
            )


_INT64_TEXT = r"^\s*[+-]?(0[xX][0-9a-fA-F]+|[0-9]+)\s*$"


def _casts_to_int64(tree: exp.Expr) -> None:
    """CAST(x AS INT64): a float or NUMERIC rounds half away from zero (DuckDB: to even); a
    string must be an integer, decimal or hex (DuckDB rounds `-12.5`). SAFE_CAST gives NULL
    where CAST fails. The operand's type is only known to DuckDB, so the CASE asks typeof()."""
    for cast in list(tree.find_all(exp.Cast)):
        if not cast.to.is_type(exp.DataType.Type.BIGINT) or cast.args.get("int64_checked"):
            continue
        value = cast.this
        if isinstance(value, exp.Literal) and not value.is_string and value.is_int:
            continue
        safe = isinstance(cast, exp.TryCast) or bool(cast.args.get("safe"))
        kind = _call("typeof", value.copy())
        numeric = exp.or_(
            exp.EQ(this=kind.copy(), expression=exp.Literal.string("DOUBLE")),
            exp.EQ(this=kind.copy(), expression=exp.Literal.string("FLOAT")),
            exp.Like(this=kind.copy(), expression=exp.Literal.string("DECIMAL%")),
        )
        rounded: exp.Expr = exp.TryCast(
            this=_call("round", exp.TryCast(this=value.copy(), to=exp.DataType.build("DOUBLE"))),
            to=exp.DataType.build("BIGINT"),
        )
        if not safe:
            rounded = exp.Cast(
                this=_call(
                    "round", exp.TryCast(this=value.copy(), to=exp.DataType.build("DOUBLE"))
                ),
                to=exp.DataType.build("BIGINT"),
            )
        rounded.set("int64_checked", True)
        text = exp.cast(value.copy(), "VARCHAR")
        not_integer = exp.and_(
            exp.EQ(this=kind.copy(), expression=exp.Literal.string("VARCHAR")),
            exp.Not(this=_call("regexp_full_match", text, exp.Literal.string(_INT64_TEXT))),
        )
        bad = (
            exp.Null()
            if safe
            else _call(
                "error",
                exp.DPipe(
                    this=exp.Literal.string("Bad int64 value: "),
                    expression=exp.cast(value.copy(), "VARCHAR"),
                ),
            )
        )
        unchanged = cast.copy()
        unchanged.set("int64_checked", True)
        cast.replace(
            exp.Paren(
                this=exp.Case(
                    ifs=[exp.If(this=numeric, true=rounded), exp.If(this=not_integer, true=bad)],
                    default=unchanged,
                )
            )
        )
