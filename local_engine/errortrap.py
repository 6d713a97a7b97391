"""The one route for errors raised by Python code that DuckDB runs inside a statement.

DuckDB turns an exception from a Python UDF or from an Arrow stream it scans into its own
error text, losing the message that names the object, feature or model. Every such place
records the exception in the statement's trap; the engine reports what the trap kept.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pyarrow as pa

Result = TypeVar("Result")


class ErrorTrap:
    """Keeps the first exception raised by Python code inside one statement's DuckDB query."""

    def __init__(self) -> None:
        self.error: BaseException | None = None

    def record(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc

    def wrap(self, reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
        """`reader` as DuckDB will scan it, recording whatever its batches raise."""

        def batches() -> Iterator[pa.RecordBatch]:
            try:
                yield from reader
            except BaseException as exc:
                self.record(exc)
                raise

        return pa.RecordBatchReader.from_batches(reader.schema, batches())

    def guard(self, function: Callable[..., Result]) -> Callable[..., Result]:
        """`function` as a UDF: whatever it raises is recorded, then raised on to DuckDB."""

        @functools.wraps(function)
        def run(*args: Any) -> Result:
            try:
                return function(*args)
            except BaseException as exc:
                self.record(exc)
                raise

        return run
