"""Integer positions and lengths as BigQuery takes them, up to the INT64 limits.

BigQuery's SUBSTR, LEFT, RIGHT, LPAD, RPAD, INSTR, REGEXP_EXTRACT and REGEXP_INSTR take
any INT64 as a position or a length; DuckDB's fail beyond 2^32 (and read a position
before the start in their own way). Here:

- SUBSTR(value, position[, length]) on STRING and BYTES is BigQuery's: position 0 is 1, a
  negative one counts from the end and stops at the start, a negative length fails; LEFT
  and RIGHT are SUBSTRs (a negative length fails too). Every position and length is first
  clamped to +-(2^31 - 1), which no value's length reaches, so the answer is unchanged.
  BYTES are cut through hex(), as DuckDB has no SUBSTRING on BLOB.
- LPAD and RPAD take any INT64 length (DuckDB's only an INTEGER) and BYTES; a negative
  length fails, and so does one beyond 1 MiB, BigQuery's largest result.
- The work is done by typed macros (`bq_substr`, `bq_lpad`, `bq_rpad`) that
  `register_position_macros` creates on each connection.
- INSTR's, REGEXP_EXTRACT's and REGEXP_INSTR's position and occurrence must be positive
  (BigQuery fails on 0) and are clamped likewise; INSTR with a negative position, which
  searches backwards, is refused.
- the literal -9223372036854775808 is an INT64 (DuckDB reads 9223372036854775808 first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from local_engine.errors import REFUSAL, EngineError

if TYPE_CHECKING:
    import duckdb

LIMIT = 2**31 - 1  # beyond any value's length; DuckDB's SUBSTRING takes up to 2^32 - 1
_INT64_MIN_MAGNITUDE = str(2**63)

_FIRST = (
    "CASE WHEN p > 0 THEN least(p, {limit}) WHEN p = 0 THEN 1"
    " WHEN p < 0 THEN greatest({length} + greatest(p, -{limit}) + 1, 1) END"
)
_COUNT = (
    "CASE WHEN n < 0 AND s IS NOT NULL AND p IS NOT NULL"
    " THEN error('Length argument to SUBSTR, LEFT or RIGHT cannot be negative')"
    " WHEN n > {limit} THEN {limit} ELSE n END"
)
SUBSTR_MACRO = (
    "CREATE OR REPLACE TEMP MACRO bq_substr"
    f"(s VARCHAR, p BIGINT, n BIGINT) AS substring(s,"
    f" {_FIRST.format(limit=LIMIT, length='length(s)')}, {_COUNT.format(limit=LIMIT)}),"
    f" (s BLOB, p BIGINT, n BIGINT) AS unhex(substring(hex(s),"
    f" 2 * ({_FIRST.format(limit=LIMIT, length='octet_length(s)')}) - 1,"
    f" 2 * ({_COUNT.format(limit=LIMIT)})))"
)


PAD_LIMIT = 1_048_576  # BigQuery's largest LPAD/RPAD result, in characters or bytes
_PAD_COUNT = (
    "CAST(CASE WHEN s IS NULL OR {pattern} IS NULL THEN NULL WHEN n < 0"
    " THEN error('{name}: the return length cannot be negative')"
    " WHEN n > {limit} THEN error('{name}: the return length exceeds {limit}')"
    " ELSE n END AS INTEGER)"
)


def _pad_macro(name: str) -> str:
    """bq_lpad/bq_rpad(value, length[, pattern]) on STRING and BYTES (through hex())."""

    def text(pattern: str) -> str:
        count = _PAD_COUNT.format(name=name.upper(), limit=PAD_LIMIT, pattern=pattern)
        return f"{name}(s, {count}, {pattern})"

    def data(pattern: str) -> str:
        count = _PAD_COUNT.format(name=name.upper(), limit=PAD_LIMIT, pattern=pattern)
        return f"unhex({name}(hex(s), 2 * {count}, hex({pattern})))"

    return (
        f"CREATE OR REPLACE TEMP MACRO bq_{name}"
        f"(s VARCHAR, n BIGINT, p VARCHAR) AS {text('p')},"
        f" (s BLOB, n BIGINT, p BLOB) AS {data('p')},"
        f" (s VARCHAR, n BIGINT) AS {text(chr(39) + ' ' + chr(39))},"
        f" (s BLOB, n BIGINT) AS {data(chr(39) + ' ' + chr(39) + '::BLOB')}"
    )


MACROS = (SUBSTR_MACRO, _pad_macro("lpad"), _pad_macro("rpad"))


def register_position_macros(con: duckdb.DuckDBPyConnection) -> None:
    for macro in MACROS:
        con.execute(macro)


def apply_position_limits(tree: exp.Expr) -> None:
    _int64_min(tree)
    for node in list(tree.find_all(exp.Substring, exp.Left, exp.Right)):
        value = node.this
        if isinstance(node, exp.Substring):
            start = node.args["start"]
            length = node.args.get("length") or exp.Literal.number(LIMIT)
            node.replace(_substr(value, start, length))
        elif isinstance(node, exp.Left):
            node.replace(_substr(value, exp.Literal.number(1), node.expression))
        else:
            count = node.expression
            # RIGHT(s, n) is SUBSTR(s, -n, n); a negative n fails on the length.
            start = exp.Case(
                ifs=[
                    exp.If(
                        this=exp.GT(this=count.copy(), expression=exp.Literal.number(LIMIT)),
                        true=exp.Literal.number(-LIMIT),
                    ),
                    exp.If(
                        this=exp.LT(this=count.copy(), expression=exp.Literal.number(0)),
                        true=exp.Literal.number(1),
                    ),
                ],
                default=exp.Neg(this=exp.Paren(this=count.copy())),
            )
            node.replace(_substr(value, start, count))
    for pad in list(tree.find_all(exp.Pad)):
        name = "bq_lpad" if pad.args.get("is_left") else "bq_rpad"
        pattern = pad.args.get("fill_pattern")
        length = exp.cast(pad.expression.copy(), exp.DataType.build("BIGINT"))
        arguments = [pad.this.copy(), length, *([pattern.copy()] if pattern else [])]
        pad.replace(exp.Anonymous(this=name, expressions=arguments))
    for search in list(tree.find_all(exp.StrPosition)):
        position = search.args.get("position")
        if position is not None:
            search.set("position", _positive(position, "INSTR", backwards=True))
    for regexp in list(tree.find_all(exp.RegexpExtract, exp.RegexpInstr)):
        function = "REGEXP_INSTR" if isinstance(regexp, exp.RegexpInstr) else "REGEXP_EXTRACT"
        for name in ("position", "occurrence"):
            argument = regexp.args.get(name)
            if argument is not None:
                regexp.set(name, _positive(argument, function, backwards=False))
        option = regexp.args.get("option") if isinstance(regexp, exp.RegexpInstr) else None
        if isinstance(option, exp.Literal) and option.this in ("0", "1"):
            continue
        if option is not None and not isinstance(option, exp.Literal):
            raise EngineError(
                f"REGEXP_INSTR with a computed occurrence_position is {REFUSAL}: the"
                " translation needs it written; write 0 or 1"
            )
        if option is not None:
            # REGEXP_INSTR's occurrence_position: 0 (where the match starts) or 1 (after it).
            bad = exp.Not(
                this=exp.In(
                    this=option.copy(),
                    expressions=[exp.Literal.number(0), exp.Literal.number(1)],
                )
            )
            error = exp.Anonymous(
                this="error",
                expressions=[
                    exp.Literal.string("REGEXP_INSTR: occurrence_position must be 0 or 1")
                ],
            )
            regexp.set(
                "option",
                exp.Paren(this=exp.Case(ifs=[exp.If(this=bad, true=error)], default=option.copy())),
            )


def _substr(value: exp.Expr, start: exp.Expr, length: exp.Expr) -> exp.Expr:
    int64 = exp.DataType.build("BIGINT")
    return exp.Anonymous(
        this="bq_substr",
        expressions=[value.copy(), exp.cast(start.copy(), int64), exp.cast(length.copy(), int64)],
    )


def _positive(argument: exp.Expr, function: str, backwards: bool) -> exp.Expr:
    """The argument clamped to LIMIT; 0 fails, as in BigQuery, and so does a negative one
    (refused where BigQuery would search backwards)."""
    error = exp.Anonymous(
        this="error",
        expressions=[
            exp.Literal.string(f"{function}: the position or occurrence must be positive")
        ],
    )
    ifs = [exp.If(this=exp.EQ(this=argument.copy(), expression=exp.Literal.number(0)), true=error)]
    if backwards:
        refusal = (
            f"{function} with a negative position is {REFUSAL}: BigQuery searches backwards"
            " from the end; search REVERSE(value) instead"
        )
        error = exp.Anonymous(this="error", expressions=[exp.Literal.string(refusal)])
    ifs += [
        exp.If(this=exp.LT(this=argument.copy(), expression=exp.Literal.number(0)), true=error),
        exp.If(
            this=exp.GT(this=argument.copy(), expression=exp.Literal.number(LIMIT)),
            true=exp.Literal.number(LIMIT),
        ),
    ]
    return exp.Paren(this=exp.Case(ifs=ifs, default=argument.copy()))


def _int64_min(tree: exp.Expr) -> None:
    for negation in list(tree.find_all(exp.Neg)):
        literal = negation.this
        if (
            isinstance(literal, exp.Literal)
            and not literal.is_string
            and literal.this == _INT64_MIN_MAGNITUDE
        ):
            negation.replace(exp.cast(exp.Literal.string(f"-{_INT64_MIN_MAGNITUDE}"), "BIGINT"))
