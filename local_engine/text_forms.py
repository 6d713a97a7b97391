"""BigQuery's text forms of numbers, JSON and dates inside SQL, as DuckDB UDFs and tree rewrites.

- CAST(x AS STRING), SAFE_CAST and the operands of CONCAT and `||`: a FLOAT64, NUMERIC,
  TIMESTAMP, DATETIME or TIME operand is written as BigQuery writes it
  (local_engine.json_text), whatever DuckDB's text; the operand's type is only known to
  DuckDB, so a CASE asks typeof(); STRING(timestamp, zone) is refused;
- TO_JSON_STRING re-encodes DuckDB's to_json text by the value's DuckDB type;
- JSON_VALUE, JSON_QUERY, JSON_EXTRACT_SCALAR and JSON_EXTRACT over a STRING run in
  Python, keeping a JSON number's text; their ARRAY forms are refused;
- FORMAT_DATE, FORMAT_DATETIME, FORMAT_TIMESTAMP and FORMAT_TIME run in Python
  (local_engine.time_format), on the format string as written (sqlglot rewrites it);
- PARSE_DATE, PARSE_DATETIME, PARSE_TIMESTAMP and PARSE_TIME keep DuckDB's strptime for
  the elements it reads as BigQuery does (others are refused); PARSE_TIMESTAMP reads in
  its time zone argument, UTC by default, and gives a TIMESTAMP;
- FORMAT is refused: its `%t`, `%g` and friends are not implemented.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlglot import exp
from sqlglot.parsers.bigquery import BigQueryParser

from local_engine import json_text, time_format
from local_engine.errors import REFUSAL, EngineError

if TYPE_CHECKING:
    import duckdb

_JSON_FUNCTIONS = ("JSON_VALUE", "JSON_QUERY", "JSON_EXTRACT_SCALAR", "JSON_EXTRACT")
_FORMAT_FUNCTIONS = {
    "FORMAT_DATE": ("bq_format_date", "DATE"),
    "FORMAT_DATETIME": ("bq_format_datetime", "TIMESTAMP"),
    "FORMAT_TIMESTAMP": ("bq_format_timestamp", "TIMESTAMPTZ"),
    "FORMAT_TIME": ("bq_format_time", "TIME"),
}
_PARSE_FUNCTIONS = ("PARSE_DATE", "PARSE_DATETIME", "PARSE_TIMESTAMP", "PARSE_TIME")
_WRITTEN_FORMAT = "bq_written_format"
# PARSE_* elements DuckDB's strptime reads as BigQuery does (checked on the evaluator,
# round trips through FORMAT_*); %p only beside %I.
_PARSED_ELEMENTS = {"Y", "m", "d", "y", "b", "B", "h", "a", "A", "j", "F", "D", "x"}
_PARSED_ELEMENTS |= {"H", "M", "S", "I", "p", "T", "X", "c", "z", "%", "E6S"}
_PARSE_ELEMENT = re.compile(r"%(E\d+[SY]|E\*S|E.|O.|.)", re.DOTALL)
_ZONE_NAME = re.compile(r"^[A-Za-z_]+(?:/[A-Za-z_+\-0-9]+)*$")


def _keep_written_format(name: str) -> Callable[[list[Any], Any], exp.Expr]:
    stock = BigQueryParser.FUNCTIONS[name]

    def build(args: list[Any], dialect: Any) -> exp.Expr:
        node: exp.Expr = stock(args, dialect)
        node.meta[_WRITTEN_FORMAT] = (name, args[0].copy() if args else None)
        return node

    return build


def _as_written(name: str) -> Callable[[list[Any]], exp.Expr]:
    return lambda args: exp.Anonymous(this=name, expressions=args)


# The parser's builders for the functions whose written arguments the rewrites need.
PARSED_AS_WRITTEN: dict[str, Callable[..., exp.Expr]] = {
    **{name: _keep_written_format(name) for name in (*_FORMAT_FUNCTIONS, *_PARSE_FUNCTIONS)},
    **{name: _as_written(name) for name in _JSON_FUNCTIONS},
}


def _call(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(args))


def _kind_is(value: exp.Expr, pattern: str) -> exp.Expr:
    kind = _call("typeof", value.copy())
    if pattern.endswith("%"):
        return exp.Like(this=kind, expression=exp.Literal.string(pattern))
    return exp.EQ(this=kind, expression=exp.Literal.string(pattern))


def _bigquery_text(value: exp.Expr, otherwise: exp.Expr) -> exp.Expr:
    """`value` as BigQuery's text when it is a FLOAT64, NUMERIC, TIMESTAMP, DATETIME or
    TIME (whose fraction of a second takes 3 or 6 digits), else `otherwise`."""
    text = exp.cast(value.copy(), "VARCHAR")
    temporal = exp.or_(
        _kind_is(value, "TIMESTAMP WITH TIME ZONE"),
        _kind_is(value, "TIMESTAMP"),
        _kind_is(value, "TIME"),
    )
    return exp.Paren(
        this=exp.Case(
            ifs=[
                exp.If(this=_kind_is(value, "DOUBLE"), true=_call("bq_float_text", text)),
                exp.If(
                    this=_kind_is(value, "DECIMAL%"), true=_call("bq_decimal_text", text.copy())
                ),
                exp.If(this=temporal, true=_call("bq_fraction_text", text.copy())),
                exp.If(
                    this=_kind_is(value, "INTERVAL"),
                    true=_call("error", exp.Literal.string(_INTERVAL_TEXT)),
                ),
            ],
            default=otherwise,
        )
    )


_INTERVAL_TEXT = (
    f"INTERVAL as text is {REFUSAL}: DuckDB's text is not BigQuery's Y-M D H:M:S form;"
    " use EXTRACT on its parts"
)


def _is_text_literal(node: exp.Expr) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def rewrite_text_forms(tree: exp.Expr) -> None:
    for format_call in list(tree.find_all(exp.Format)):
        raise EngineError(
            f"FORMAT is {REFUSAL}: its %t, %T, %g and width forms are not implemented"
            f" ({format_call.sql('bigquery')}); use CAST(... AS STRING) and CONCAT"
        )
    for array_form in list(tree.find_all(exp.JSONValueArray, exp.JSONExtractArray)):
        raise EngineError(
            f"{array_form.sql('bigquery').split('(')[0]} is {REFUSAL}: BigQuery keeps each"
            " JSON number's text; use JSON_QUERY or JSON_VALUE on each element"
        )
    for string in list(tree.find_all(exp.String)):
        if string.args.get("zone") is not None:
            raise EngineError(
                f"STRING(timestamp, time zone) is {REFUSAL}: its offset suffix is not"
                " implemented; use FORMAT_TIMESTAMP with %Ez"
            )
        plain = exp.cast(string.this.copy(), "VARCHAR")
        plain.set("text_checked", True)
        string.replace(_bigquery_text(string.this, plain))
    _casts_to_string(tree)
    _concatenations(tree)
    _to_json_strings(tree)
    _json_extractions(tree)
    _format_functions(tree)
    _parse_functions(tree)


def _casts_to_string(tree: exp.Expr) -> None:
    for cast in list(tree.find_all(exp.Cast)):
        if not cast.to.is_type(*exp.DataType.TEXT_TYPES) or cast.args.get("format"):
            continue
        if cast.args.get("text_checked") or _is_text_literal(cast.this):
            continue
        plain = cast.copy()
        plain.set("text_checked", True)
        cast.replace(_bigquery_text(cast.this, plain))


def _surely_text(node: exp.Expr) -> bool:
    if _is_text_literal(node):
        return True
    if isinstance(node, exp.Cast) and node.to.is_type(*exp.DataType.TEXT_TYPES):
        return True
    if isinstance(node, exp.Concat):
        return any(_surely_text(o) for o in node.expressions)
    if isinstance(node, exp.DPipe):
        return _surely_text(node.this) or _surely_text(node.expression)
    return isinstance(node, exp.Paren) and _surely_text(node.this)


def _concatenations(tree: exp.Expr) -> None:
    """A STRING concatenation writes its operands as CAST does. When no operand is surely a
    STRING the concatenation may be of BYTES, which a CASE cannot mix with text: an
    operand whose text differs from DuckDB's is then refused at run time instead."""
    for concat in list(tree.find_all(exp.Concat, exp.DPipe)):
        operands = (
            list(concat.expressions)
            if isinstance(concat, exp.Concat)
            else [concat.this, concat.expression]
        )
        if any(_surely_text(o) for o in operands):
            for operand in operands:
                if not _surely_text(operand):
                    plain = exp.cast(operand.copy(), "VARCHAR")
                    plain.set("text_checked", True)
                    operand.replace(_bigquery_text(operand, plain))
            continue
        numbers = [
            condition
            for operand in operands
            for condition in (
                _kind_is(operand, "DOUBLE"),
                _kind_is(operand, "DECIMAL%"),
                _kind_is(operand, "TIMESTAMP%"),
                _kind_is(operand, "TIME"),
                _kind_is(operand, "INTERVAL"),
            )
        ]
        message = (
            f"CONCAT of a FLOAT64, NUMERIC or time value with no STRING operand is {REFUSAL}:"
            " whether it is a STRING or a BYTES concatenation is not known before it runs;"
            " write CAST(x AS STRING) for that operand"
        )
        unchecked = concat.copy()
        concat.replace(
            exp.Paren(
                this=exp.Case(
                    ifs=[
                        exp.If(
                            this=exp.or_(*numbers),
                            true=_call("error", exp.Literal.string(message)),
                        )
                    ],
                    default=unchecked,
                )
            )
        )


def _to_json_strings(tree: exp.Expr) -> None:
    for node in list(tree.find_all(exp.JSONFormat)):
        if node.args.get("to_json"):
            continue
        value = node.this
        options = node.args.get("options")
        pretty = options.copy() if options is not None else exp.false()
        encoded = _call(
            "bq_to_json_string",
            exp.cast(_call("to_json", value.copy()), "VARCHAR"),
            _call("typeof", value.copy()),
            exp.cast(pretty, "BOOLEAN"),
        )
        node.replace(exp.Coalesce(this=encoded, expressions=[exp.Literal.string("null")]))


def _json_extractions(tree: exp.Expr) -> None:
    for call in list(tree.find_all(exp.Anonymous)):
        name = call.name.upper()
        if name not in _JSON_FUNCTIONS:
            continue
        args = list(call.expressions)
        if not args or len(args) > 2:
            raise EngineError(f"{name} takes a JSON text and a JSONPath")
        path = args[1].copy() if len(args) == 2 else exp.Literal.string("$")
        document = args[0]
        call.replace(
            _call(
                "bq_json_extract",
                exp.cast(document.copy(), "VARCHAR"),
                _call("typeof", document.copy()),
                path,
                exp.Literal.string(name),
            )
        )


def _format_functions(tree: exp.Expr) -> None:
    for node in list(tree.find_all(exp.TimeToStr)):
        written = node.meta_get(_WRITTEN_FORMAT)
        if not written:
            continue
        name, fmt = written
        udf, type_ = _FORMAT_FUNCTIONS[name]
        value = node.this.this if isinstance(node.this, exp.Func) else node.this
        args = [fmt, exp.cast(value.copy(), type_)]
        if name == "FORMAT_TIMESTAMP":
            zone = node.args.get("zone")
            args.append(zone.copy() if zone is not None else exp.Literal.string("UTC"))
        node.replace(_call(udf, *args))


def _parse_functions(tree: exp.Expr) -> None:
    """PARSE_*: the format's elements must be ones DuckDB reads as BigQuery does; PARSE_TIMESTAMP
    reads a time without an offset in its time zone argument (UTC by default) and is a
    TIMESTAMP (DuckDB's strptime gives a zone-less timestamp)."""
    for node in list(tree.find_all(exp.StrToDate, exp.ParseDatetime, exp.StrToTime, exp.ParseTime)):
        written = node.meta_get(_WRITTEN_FORMAT)
        if not written or written[0] not in _PARSE_FUNCTIONS:
            continue
        name, fmt = written
        if not _is_text_literal(fmt):
            raise EngineError(
                f"{name} with a format that is not a string literal is {REFUSAL}: its"
                " elements must be checked before it runs; write the format as a literal"
            )
        elements = _PARSE_ELEMENT.findall(fmt.name)
        for element in elements:
            if element not in _PARSED_ELEMENTS or (element == "p" and "I" not in elements):
                raise EngineError(
                    f"the format element %{element} in {name} is {REFUSAL}: DuckDB's strptime"
                    " does not read it as BigQuery does; use %Y %m %d %H %M %S and friends"
                )
        if name != "PARSE_TIMESTAMP":
            continue
        if "z" in elements:
            node.replace(exp.cast(node.copy(), "TIMESTAMPTZ"))
            continue
        zone = node.args.get("zone")
        if zone is not None and not (_is_text_literal(zone) and _ZONE_NAME.match(zone.name)):
            raise EngineError(
                f"PARSE_TIMESTAMP with the time zone {zone.sql('bigquery')} is {REFUSAL}: only"
                " time zone names are implemented; write one such as 'America/Los_Angeles'"
            )
        plain = node.copy()
        plain.set("zone", None)
        node.replace(_call("timezone", zone.copy() if zone else exp.Literal.string("UTC"), plain))


def _json_extract(
    text: str | None, kind: str | None, path: str | None, function: str
) -> str | None:
    if text is None or kind is None or path is None:
        return None
    if kind != "VARCHAR":
        raise json_text.Refused(
            f"{function} of a {kind} value is {REFUSAL}: only JSON-formatted STRINGs are"
            " implemented; pass the JSON's text"
        )
    return json_text.json_extract(text, path, function)


def _to_json_string(text: str, kind: str, pretty: bool) -> str:
    return json_text.to_json_string(text, kind, pretty)


def _format_date(fmt: str, value: date) -> str:
    return time_format.format_date(fmt, value)


def _format_datetime(fmt: str, value: datetime) -> str:
    return time_format.format_datetime(fmt, value)


def _format_timestamp(fmt: str, value: datetime, zone: str) -> str:
    return time_format.format_timestamp(fmt, value, zone)


def _format_time(fmt: str, value: time) -> str:
    return time_format.format_time(fmt, value)


def register_text_functions(con: duckdb.DuckDBPyConnection) -> None:
    """The bq_* UDFs the rewrites call; NULL in gives NULL out."""
    import duckdb
    from duckdb.func import DEFAULT, SPECIAL

    text = duckdb.sqltype("VARCHAR")
    # bq_json_extract returns NULL for a path that finds nothing: it sees NULLs itself.
    functions: list[tuple[str, Callable[..., Any], list[str]]] = [
        ("bq_float_text", json_text.float_text_of, ["VARCHAR"]),
        ("bq_decimal_text", json_text.decimal_text_of, ["VARCHAR"]),
        ("bq_fraction_text", json_text.fraction_text_of, ["VARCHAR"]),
        ("bq_to_json_string", _to_json_string, ["VARCHAR", "VARCHAR", "BOOLEAN"]),
        ("bq_json_extract", _json_extract, ["VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR"]),
        ("bq_format_date", _format_date, ["VARCHAR", "DATE"]),
        ("bq_format_datetime", _format_datetime, ["VARCHAR", "TIMESTAMP"]),
        ("bq_format_timestamp", _format_timestamp, ["VARCHAR", "TIMESTAMPTZ", "VARCHAR"]),
        ("bq_format_time", _format_time, ["VARCHAR", "TIME"]),
    ]
    for name, function, parameters in functions:
        # Connections to one lake file in one process share its catalog: register once.
        with contextlib.suppress(duckdb.CatalogException):
            con.create_function(
                name,
                function,
                [duckdb.sqltype(p) for p in parameters],
                text,
                side_effects=False,
                null_handling=SPECIAL if name == "bq_json_extract" else DEFAULT,
            )
