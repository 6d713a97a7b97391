"""The statement's error trap keeps the first error raised inside DuckDB, whatever the route."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pytest

from local_engine.errors import EngineError
from local_engine.errortrap import ErrorTrap


def failing_reader(message: str) -> pa.RecordBatchReader:
    schema = pa.schema([("x", pa.int64())])

    def batches() -> object:
        yield pa.record_batch([pa.array([1])], schema=schema)
        raise EngineError(message)

    return pa.RecordBatchReader.from_batches(schema, batches())  # type: ignore[arg-type]


def test_a_scanned_stream_that_fails_is_recorded_with_its_own_message() -> None:
    trap = ErrorTrap()
    con = duckdb.connect()
    con.register("source", trap.wrap(failing_reader("cannot decode image gs://b/x.jpg: empty")))
    with pytest.raises(duckdb.Error):
        con.execute("SELECT sum(x) FROM source").fetchall()
    assert isinstance(trap.error, EngineError)
    assert str(trap.error) == "cannot decode image gs://b/x.jpg: empty"


def test_the_first_error_wins_and_a_guarded_function_passes_results_through() -> None:
    trap = ErrorTrap()

    def double(value: int) -> int:
        if value < 0:
            raise EngineError(f"negative {value}")
        return value * 2

    guarded = trap.guard(double)
    assert guarded(2) == 4 and trap.error is None
    for value in (-1, -2):
        with pytest.raises(EngineError):
            guarded(value)
    assert str(trap.error) == "negative -1"
