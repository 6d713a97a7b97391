"""FORMAT_DATE, FORMAT_DATETIME, FORMAT_TIMESTAMP and FORMAT_TIME, element by element.

Each element's text was read off GoogleSQL's reference evaluator: years are not zero
padded (`%Y` of 0001-01-01 is `1`, `%F` is `1-01-01`, `%C` is `0`), except `%E4Y`;
`%e`, `%k`, `%l` pad with a space; an element of a part the value lacks (`%H` in
FORMAT_DATE, `%Y` in FORMAT_TIME, `%Z` in FORMAT_DATETIME) is written as it stands, as
are the unknown elements `%N`, `%q`, `%i`, `%E#S`, `%E:z` and a `%E` or `%O` the
evaluator leaves alone. Any other element is refused, by name, rather than guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from local_engine.errors import REFUSAL
from local_engine.json_text import Refused

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

_DATE, _TIME, _BOTH, _ZONE, _ANY = "date", "time", "date and time", "zone", "any"
# Element -> the part of the value it needs.
_ELEMENTS = {
    **dict.fromkeys(
        [
            "A",
            "a",
            "B",
            "b",
            "h",
            "C",
            "D",
            "x",
            "Ex",
            "d",
            "Od",
            "e",
            "Oe",
            "F",
            "G",
            "g",
            "j",
            "m",
            "Om",
            "Q",
            "U",
            "OU",
            "u",
            "Ou",
            "V",
            "OV",
        ],
        _DATE,
    ),
    **dict.fromkeys(["W", "OW", "w", "Ow", "Y", "EY", "E4Y", "y", "Ey", "Oy"], _DATE),
    **dict.fromkeys(
        [
            "H",
            "OH",
            "I",
            "OI",
            "k",
            "l",
            "M",
            "OM",
            "P",
            "p",
            "Ep",
            "R",
            "S",
            "OS",
            "T",
            "X",
            "EX",
            "E*S",
        ],
        _TIME,
    ),
    **dict.fromkeys(["c", "Ec", "s"], _BOTH),
    **dict.fromkeys(["Z", "z", "Ez"], _ZONE),
    **dict.fromkeys(["n", "t", "%"], _ANY),
}
# Elements the evaluator writes unchanged, whatever the value.
_LITERAL = {"N", "q", "i", "E#S", "E:z", "E", "O"}
_ELEMENT = re.compile(r"%(E\d+S|E\*S|E#S|E:z|E4Y|E[a-zA-Z]|O[a-zA-Z]|.)?", re.DOTALL)
_PARTS = {
    "date": {_DATE, _ANY},
    "datetime": {_DATE, _TIME, _BOTH, _ANY},
    "timestamp": {_DATE, _TIME, _BOTH, _ZONE, _ANY},
    "time": {_TIME, _ANY},
}


@lru_cache(maxsize=256)
def _elements(fmt: str, function: str) -> tuple[tuple[str, str | None], ...]:
    """The format as (literal text, element or None) pieces; unknown elements refused."""
    pieces: list[tuple[str, str | None]] = []
    position = 0
    for match in _ELEMENT.finditer(fmt):
        element = match.group(1)
        if element is None or element in _LITERAL:
            continue  # written as it stands
        fractional = re.fullmatch(r"E(\d+)S", element)
        if element not in _ELEMENTS and not (fractional and int(fractional.group(1)) <= 12):
            raise _refused(element, function)
        pieces.append((fmt[position : match.start()], element))
        position = match.end()
    pieces.append((fmt[position:], None))
    return tuple(pieces)


def _refused(element: str, function: str) -> Refused:
    return Refused(
        f"the format element %{element} in {function} is {REFUSAL}: its BigQuery text is not"
        " implemented here; use the documented elements (%Y %m %d %H %M %S %E<n>S ...)"
    )


def _week(day: date, first: int) -> int:
    """Week of the year, weeks starting on `first` (0 = Monday); days before the first are 0."""
    offset = (day.weekday() - first) % 7
    return (day.timetuple().tm_yday - 1 - offset + 7) // 7


def _fraction(micros: int, digits: int) -> str:
    return "." + f"{micros:06d}".ljust(digits, "0")[:digits] if digits else ""


def _zone_name(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0:
        return "UTC"
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" if rest == 0 else f"UTC{sign}{hours:02d}{rest:02d}"


def _offset(offset: timedelta, colon: bool) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{':' if colon else ''}{rest:02d}"


def _twelve(value: datetime) -> int:
    return value.hour % 12 or 12


def _c(value: datetime, offset: timedelta) -> str:
    return (
        f"{_DAYS[value.weekday()][:3]} {_MONTHS[value.month - 1][:3]} {value.day:2d}"
        f" {value.hour:02d}:{value.minute:02d}:{value.second:02d} {value.year}"
    )


def _s(value: datetime, offset: timedelta) -> str:
    epoch = (value - offset) - datetime(1970, 1, 1)
    return str((epoch // timedelta(microseconds=1)) // 1_000_000)


def _any_fraction(value: datetime, offset: timedelta) -> str:
    digits = f".{value.microsecond:06d}".rstrip("0") if value.microsecond else ""
    return f"{value.second:02d}{digits}"


_Writer = Callable[[datetime, timedelta], str]
_WRITERS: dict[str, _Writer] = {
    "A": lambda v, o: _DAYS[v.weekday()],
    "a": lambda v, o: _DAYS[v.weekday()][:3],
    "B": lambda v, o: _MONTHS[v.month - 1],
    "b": lambda v, o: _MONTHS[v.month - 1][:3],
    "h": lambda v, o: _MONTHS[v.month - 1][:3],
    "C": lambda v, o: str(v.year // 100),
    "D": lambda v, o: f"{v.month:02d}/{v.day:02d}/{v.year % 100:02d}",
    "x": lambda v, o: f"{v.month:02d}/{v.day:02d}/{v.year % 100:02d}",
    "d": lambda v, o: f"{v.day:02d}",
    "e": lambda v, o: f"{v.day:2d}",
    "F": lambda v, o: f"{v.year}-{v.month:02d}-{v.day:02d}",
    "G": lambda v, o: str(v.isocalendar()[0]),
    "g": lambda v, o: f"{v.isocalendar()[0] % 100:02d}",
    "j": lambda v, o: f"{v.timetuple().tm_yday:03d}",
    "m": lambda v, o: f"{v.month:02d}",
    "Q": lambda v, o: str((v.month - 1) // 3 + 1),
    "U": lambda v, o: f"{_week(v.date(), 6):02d}",
    "W": lambda v, o: f"{_week(v.date(), 0):02d}",
    "u": lambda v, o: str(v.isoweekday()),
    "w": lambda v, o: str(v.isoweekday() % 7),
    "V": lambda v, o: f"{v.isocalendar()[1]:02d}",
    "Y": lambda v, o: str(v.year),
    "E4Y": lambda v, o: f"{v.year:04d}",
    "y": lambda v, o: f"{v.year % 100:02d}",
    "H": lambda v, o: f"{v.hour:02d}",
    "I": lambda v, o: f"{_twelve(v):02d}",
    "k": lambda v, o: f"{v.hour:2d}",
    "l": lambda v, o: f"{_twelve(v):2d}",
    "M": lambda v, o: f"{v.minute:02d}",
    "P": lambda v, o: "am" if v.hour < 12 else "pm",
    "p": lambda v, o: "AM" if v.hour < 12 else "PM",
    "R": lambda v, o: f"{v.hour:02d}:{v.minute:02d}",
    "S": lambda v, o: f"{v.second:02d}",
    "T": lambda v, o: f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}",
    "X": lambda v, o: f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}",
    "n": lambda v, o: "\n",
    "t": lambda v, o: "\t",
    "%": lambda v, o: "%",
    "Z": lambda v, o: _zone_name(o),
    "z": lambda v, o: _offset(o, colon=False),
    "Ez": lambda v, o: _offset(o, colon=True),
    "c": _c,
    "s": _s,
    "E*S": _any_fraction,
}
# The E and O forms that write what their plain element writes.
_WRITERS.update({e: _WRITERS[e[-1]] for e in _ELEMENTS if e[0] == "O"})
_WRITERS.update({e: _WRITERS[e[-1]] for e in ("Ex", "EX", "Ec", "Ep", "EY", "Ey")})


def _text(element: str, value: datetime, offset: timedelta) -> str:
    writer = _WRITERS.get(element)
    if writer is not None:
        return writer(value, offset)
    places = int(element[1:-1])  # E<n>S
    return f"{value.second:02d}{_fraction(value.microsecond, places)}"


def _format(fmt: str, value: datetime, kind: str, function: str, offset: timedelta) -> str:
    parts = _PARTS[kind]
    out: list[str] = []
    for literal, element in _elements(fmt, function):
        out.append(literal)
        if element is None:
            continue
        needs = _ELEMENTS.get(element, _TIME if element.startswith("E") else _ANY)
        out.append(_text(element, value, offset) if needs in parts else "%" + element)
    return "".join(out)


def format_date(fmt: str, value: date) -> str:
    return _format(
        fmt, datetime(value.year, value.month, value.day), "date", "FORMAT_DATE", timedelta()
    )


def format_datetime(fmt: str, value: datetime) -> str:
    return _format(fmt, value.replace(tzinfo=None), "datetime", "FORMAT_DATETIME", timedelta())


def format_time(fmt: str, value: time) -> str:
    moment = datetime.combine(date(1970, 1, 1), value)
    return _format(fmt, moment, "time", "FORMAT_TIME", timedelta())


_FIXED_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{1,2})(?::?(\d\d))?$")


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    fixed = _FIXED_OFFSET.match(name)
    if fixed:
        sign = -1 if fixed.group(1) == "-" else 1
        minutes = int(fixed.group(2)) * 60 + int(fixed.group(3) or 0)
        return timezone(sign * timedelta(minutes=minutes))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"Invalid time zone: {name}") from exc


def format_timestamp(fmt: str, value: datetime, zone: str | None) -> str:
    moment = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    local = moment.astimezone(_zone(zone or "UTC"))
    offset = local.utcoffset() or timedelta()
    return _format(fmt, local.replace(tzinfo=None), "timestamp", "FORMAT_TIMESTAMP", offset)
