"""Arrow schemas and values in BigQuery's REST JSON, read back by google-cloud-bigquery itself."""

from __future__ import annotations

import datetime as dt
import decimal
import math
from pathlib import Path

import pyarrow as pa
import pytest
from dateutil.relativedelta import relativedelta
from google.api_core.exceptions import BadRequest
from google.cloud.bigquery import SchemaField
from google.cloud.bigquery._helpers import _row_tuple_from_json

from local_engine.records import TensorSpec
from local_engine.rest.encoding import rows_json, schema_json, tensor_type
from local_engine.rest.errors import ApiError
from local_engine.rest.results import page_bounds
from local_engine.rest.server import LakeServer
from tests.support.lake_server import lake_client

LABEL = pa.struct([("rank", pa.int64()), ("label", pa.string()), ("score", pa.float64())])


def read_back(table: pa.Table, int64_timestamps: bool = True) -> list[tuple[object, ...]]:
    """What the client makes of our JSON: its own parser, with our schema."""
    schema = [SchemaField.from_api_repr(f) for f in schema_json(table.schema)["fields"]]
    rows = rows_json(table, 0, table.num_rows, int64_timestamps=int64_timestamps)
    return [_row_tuple_from_json(row, schema) for row in rows]


def test_every_scalar_type_round_trips_through_the_client() -> None:
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)
    table = pa.table(
        {
            "i": pa.array([-(2**63), None], pa.int64()),
            "f": pa.array([math.inf, math.nan], pa.float64()),
            "b": pa.array([True, False]),
            "s": pa.array(['héllo "x"', ""], pa.string()),
            "y": pa.array([b"\x00\xff", None], pa.binary()),
            "ts": pa.array([moment, None], pa.timestamp("us", tz="UTC")),
            "dtm": pa.array([moment.replace(tzinfo=None), None], pa.timestamp("us")),
            "d": pa.array([dt.date(1, 1, 1), None], pa.date32()),
            "n": pa.array([decimal.Decimal("1.5"), None], pa.decimal128(10, 2)),
            "big": pa.array([decimal.Decimal(2**70), None], pa.decimal128(38, 0)),
        }
    )
    first, second = read_back(table)

    assert first[0] == -(2**63) and second[0] is None
    assert first[1] == math.inf and math.isnan(second[1])
    assert (first[2], second[2]) == (True, False)
    assert (first[3], second[3]) == ('héllo "x"', "")
    assert first[4] == b"\x00\xff"
    assert first[5] == moment
    assert first[6] == moment.replace(tzinfo=None)
    assert first[7] == dt.date(1, 1, 1)
    assert first[8] == decimal.Decimal("1.50")
    assert first[9] == 2**70
    fields = {f["name"]: f["type"] for f in schema_json(table.schema)["fields"]}
    assert fields == {
        "i": "INTEGER", "f": "FLOAT", "b": "BOOLEAN", "s": "STRING", "y": "BYTES",
        "ts": "TIMESTAMP", "dtm": "DATETIME", "d": "DATE", "n": "NUMERIC", "big": "INTEGER",
    }  # fmt: skip


def test_seconds_timestamps_when_the_client_does_not_ask_for_microseconds() -> None:
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, 500000, tzinfo=dt.UTC)
    table = pa.table({"ts": pa.array([moment], pa.timestamp("us", tz="UTC"))})
    assert rows_json(table, 0, 1, int64_timestamps=False) == [{"f": [{"v": "1767323045.5"}]}]
    assert rows_json(table, 0, 1, int64_timestamps=True) == [{"f": [{"v": "1767323045500000"}]}]


def test_arrays_of_structs_are_repeated_records_with_nulls_kept() -> None:
    table = pa.table(
        {
            "top": pa.array(
                [[{"rank": 1, "label": "cat", "score": 0.9}, {"rank": 2, "label": None,
                  "score": None}], None, []],
                pa.list_(LABEL),
            ),
            "one": pa.array([{"rank": 3, "label": "x", "score": 1.0}, None, None], LABEL),
        }
    )  # fmt: skip
    (top, one) = schema_json(table.schema)["fields"]
    rows = read_back(table)

    assert (top["type"], top["mode"]) == ("RECORD", "REPEATED")
    assert [f["name"] for f in top["fields"]] == ["rank", "label", "score"]
    assert (one["type"], one["mode"]) == ("RECORD", "NULLABLE")
    assert rows[0][0] == [
        {"rank": 1, "label": "cat", "score": 0.9},
        {"rank": 2, "label": None, "score": None},
    ]
    assert rows[1][0] == [] and rows[2][0] == []  # BigQuery has no NULL array
    assert rows[0][1] == {"rank": 3, "label": "x", "score": 1.0}
    assert rows[1][1] is None


def test_an_array_of_arrays_becomes_json_not_a_broken_schema() -> None:
    table = pa.table({"m": pa.array([[[1, 2], [3]]], pa.list_(pa.list_(pa.int64())))})
    (field,) = schema_json(table.schema)["fields"]
    assert (field["type"], field["mode"]) == ("JSON", "NULLABLE")
    assert rows_json(table, 0, 1, int64_timestamps=True) == [{"f": [{"v": "[[1, 2], [3]]"}]}]


def test_rows_are_sliced_for_pages() -> None:
    table = pa.table({"n": list(range(10))})
    assert [r["f"][0]["v"] for r in rows_json(table, 8, 5, int64_timestamps=True)] == ["8", "9"]


@pytest.mark.parametrize(
    ("args", "bounds"),
    [
        ((10, None, None, None), (0, 1000)),
        ((10, "3", "4", None), (4, 3)),
        ((10, "3", None, "2"), (2, 3)),
        ((10, "0", None, None), (0, 0)),
        ((10, None, "99", None), (10, 1000)),
    ],
)
def test_page_bounds(
    args: tuple[int, str | None, str | None, str | None], bounds: tuple[int, int]
) -> None:
    assert page_bounds(*args) == bounds


@pytest.mark.parametrize(
    "args", [(10, "x", None, None), (10, None, "-1", None), (10, "-5", None, None)]
)
def test_bad_page_arguments_are_invalid(
    args: tuple[int, str | None, str | None, str | None],
) -> None:
    with pytest.raises(ApiError) as caught:
        page_bounds(*args)
    assert (caught.value.reason, caught.value.status) == ("invalid", 400)


def test_tensor_types_follow_the_signature() -> None:
    image = TensorSpec("input_1", "float32", (None, 224, 224, 3))
    scalar = TensorSpec("score", "int64", (None,))
    text = TensorSpec("name", "string", (None,))
    assert tensor_type(image) == {"typeKind": "ARRAY", "arrayElementType": {"typeKind": "FLOAT64"}}
    assert tensor_type(scalar) == {"typeKind": "INT64"}
    assert tensor_type(text) == {"typeKind": "STRING"}


WIRE_QUERY = """
SELECT
  DATE '0099-01-01' AS d,
  DATETIME '9999-12-31 23:59:59.999999' AS dtm,
  DATETIME '2024-01-16 12:34:56' AS dtm_whole,
  TIME '12:34:56.5' AS t,
  TIME '00:00:00' AS t_whole,
  TIMESTAMP '9999-12-31 23:59:59.999999+00' AS ts_last,
  TIMESTAMP '0001-01-01 00:00:00+00' AS ts_first,
  NUMERIC '-99999999999999999999999999999.999999999' AS n_min,
  NUMERIC '0.000000001' AS n_tiny,
  NUMERIC '0' AS n_zero,
  CAST('NaN' AS FLOAT64) AS nan,
  CAST('inf' AS FLOAT64) AS inf,
  CAST('-inf' AS FLOAT64) AS ninf,
  0.1 AS tenth
"""


def test_the_real_client_reads_every_value_back_exactly(tmp_path: Path) -> None:
    with LakeServer(tmp_path / "lake") as server:
        row = next(iter(lake_client(server.endpoint).query(WIRE_QUERY).result()))
    assert row["d"] == dt.date(99, 1, 1)
    assert row["dtm"] == dt.datetime(9999, 12, 31, 23, 59, 59, 999999)
    assert row["dtm_whole"] == dt.datetime(2024, 1, 16, 12, 34, 56)
    assert row["t"] == dt.time(12, 34, 56, 500000)
    assert row["t_whole"] == dt.time(0, 0, 0)
    assert row["ts_last"] == dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
    assert row["ts_first"] == dt.datetime(1, 1, 1, tzinfo=dt.UTC)
    assert row["n_min"] == decimal.Decimal("-99999999999999999999999999999.999999999")
    assert row["n_tiny"] == decimal.Decimal("0.000000001")
    assert row["n_zero"] == 0
    assert math.isnan(row["nan"])
    assert (row["inf"], row["ninf"], row["tenth"]) == (math.inf, -math.inf, 0.1)

    with (
        LakeServer(tmp_path / "other") as server,
        pytest.raises(BadRequest, match="BIGNUMERIC is not supported by the local engine"),
    ):
        lake_client(server.endpoint).query("SELECT BIGNUMERIC '1.5' AS b").result()


def test_wire_text_is_exact_and_never_in_exponent_form() -> None:
    last = dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
    table = pa.table(
        {
            "ts": pa.array([last, dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)]),
            "n": pa.array([decimal.Decimal("0E-9"), decimal.Decimal("1E-9")], pa.decimal128(38, 9)),
            "big": pa.array(
                [decimal.Decimal("9" * 38 + "." + "9" * 38), decimal.Decimal("-1e-38")],
                pa.decimal256(76, 38),
            ),
            "t": pa.array([dt.time(1, 2, 3, 40), dt.time(1, 2, 3)], pa.time64("us")),
        }
    )
    first, second = rows_json(table, 0, 2, int64_timestamps=False)
    assert [cell["v"] for cell in first["f"]] == [
        "253402300799.999999",
        "0",
        "9" * 38 + "." + "9" * 38,
        "01:02:03.000040",
    ]
    assert [cell["v"] for cell in second["f"]] == [
        "-0.000001",
        "0.000000001",
        "-0." + "0" * 37 + "1",
        "01:02:03",
    ]
    assert schema_json(table.schema)["fields"][2]["type"] == "BIGNUMERIC"
    parsed = read_back(table)
    assert parsed[0][2] == decimal.Decimal("9" * 38 + "." + "9" * 38)
    assert parsed[1][2] == decimal.Decimal("-1e-38")


def test_intervals_reach_the_client_as_relativedeltas() -> None:
    table = pa.table(
        {
            "i": pa.array(
                [pa.MonthDayNano([-13, 2, -3_723_500_000_000])], pa.month_day_nano_interval()
            )
        }
    )
    assert schema_json(table.schema)["fields"][0]["type"] == "INTERVAL"
    assert read_back(table) == [
        (
            relativedelta(
                years=-1, months=-1, days=2, hours=-1, minutes=-2, seconds=-3, microseconds=-500000
            ),
        )
    ]
