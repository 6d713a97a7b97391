"""Object tables as Arrow: the documented columns, listed from the store when queried.

The listing is taken once per statement (so new files show up, and every reference
to the table in the statement sees the same objects); the `data` pseudocolumn is
read batch by batch as DuckDB pulls, so memory stays flat. `md5_hash` costs a full
read of each local file, so it is a column only of references that can use it. Where only
ML.PREDICT's fused image features need the bytes, the query carries the `uri` instead
and `with_object_bytes` reads the objects of the rows that survived the query's
filters and joins, one batch at a time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import pyarrow as pa

from local_engine.errors import EngineError
from local_engine.storage import ObjectInfo, ObjectStore

DATA_COLUMN = "data"
URI_COLUMN = "uri"
METADATA_TYPE = pa.list_(pa.struct([("name", pa.string()), ("value", pa.string())]))

MD5_COLUMN = "md5_hash"
OBJECT_TABLE_SCHEMA = pa.schema(
    [
        ("uri", pa.string()),
        ("generation", pa.int64()),
        ("content_type", pa.string()),
        ("size", pa.int64()),
        ("md5_hash", pa.string()),
        ("updated", pa.timestamp("us", tz="UTC")),
        ("metadata", METADATA_TYPE),
    ]
)

DEFAULT_BATCH_ROWS = 64
# Reads are I/O (and slow on Cloud Storage), so more threads than cores pay off.
READ_THREADS = 8
# Rows whose bytes are read together; one such slice is read ahead of the one handed on.
FETCH_ROWS = 32


def list_objects(store: ObjectStore, uris: Sequence[str]) -> list[ObjectInfo]:
    """Every object matching any of the URIs, once each, in URI order."""
    found: dict[str, ObjectInfo] = {}
    for pattern in uris:
        for info in store.list(pattern):
            found.setdefault(info.uri, info)
    return [found[uri] for uri in sorted(found)]


def read_object(store: ObjectStore, uri: str | None) -> bytes | None:
    """The object's bytes (None for a NULL uri); any failure is a EngineError naming it."""
    if uri is None:
        return None
    try:
        return store.read(uri)
    except EngineError:
        raise
    except Exception as exc:
        raise EngineError(f"cannot read {uri}: {' '.join(str(exc).split())}") from exc


def _read_pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="sqlrunner-read")


def object_table_reader(
    store: ObjectStore,
    objects: Sequence[ObjectInfo],
    *,
    with_data: bool,
    with_md5: bool = True,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> pa.RecordBatchReader:
    """The listed `objects` as the object table's rows; without `with_md5`, no md5_hash column."""
    schema = OBJECT_TABLE_SCHEMA
    if not with_md5:
        schema = schema.remove(schema.get_field_index(MD5_COLUMN))
    if with_data:
        schema = schema.append(pa.field(DATA_COLUMN, pa.binary()))

    def batches() -> Iterator[pa.RecordBatch]:
        pool = _read_pool() if with_data else None
        try:
            for start in range(0, len(objects), batch_rows):
                chunk = objects[start : start + batch_rows]
                columns: dict[str, list[object]] = {
                    "uri": [o.uri for o in chunk],
                    "generation": [o.generation for o in chunk],
                    "content_type": [o.content_type for o in chunk],
                    "size": [o.size for o in chunk],
                    "updated": [o.updated for o in chunk],
                    "metadata": [[{"name": k, "value": v} for k, v in o.metadata] for o in chunk],
                }
                if with_md5:
                    columns[MD5_COLUMN] = [store.md5(o) for o in chunk]
                if pool is not None:
                    columns[DATA_COLUMN] = list(
                        pool.map(lambda o: read_object(store, o.uri), chunk)
                    )
                yield pa.RecordBatch.from_pydict(columns, schema=schema)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    return pa.RecordBatchReader.from_batches(schema, batches())


_Reads = list[list[Future[bytes | None]]]  # per replaced column, one read per row


def with_object_bytes(
    reader: pa.RecordBatchReader,
    store: ObjectStore,
    uri_columns: Sequence[str],
    *,
    fetch_rows: int = FETCH_ROWS,
) -> pa.RecordBatchReader:
    """`reader` with each of `uri_columns` (object uris) replaced by the objects' bytes.

    Batches come out `fetch_rows` rows at a time, in order; the next slice's objects
    are read while the current one is consumed, so at most two slices of bytes exist.
    """
    replaced = set(uri_columns)
    schema = pa.schema(
        [pa.field(f.name, pa.binary()) if f.name in replaced else f for f in reader.schema],
        metadata=reader.schema.metadata,
    )
    positions = [schema.get_field_index(name) for name in uri_columns]

    def submit(pool: ThreadPoolExecutor, piece: pa.RecordBatch) -> _Reads:
        return [
            [pool.submit(read_object, store, uri) for uri in piece.column(i).to_pylist()]
            for i in positions
        ]

    def assemble(piece: pa.RecordBatch, reads: _Reads) -> pa.RecordBatch:
        columns = list(piece.columns)
        for i, futures in zip(positions, reads, strict=True):
            columns[i] = pa.array([f.result() for f in futures], pa.binary())
        return pa.RecordBatch.from_arrays(columns, schema=schema)

    def batches() -> Iterator[pa.RecordBatch]:
        pool = _read_pool()
        ahead: deque[tuple[pa.RecordBatch, _Reads]] = deque()
        try:
            for batch in reader:
                for start in range(0, batch.num_rows, fetch_rows):
                    piece = batch.slice(start, fetch_rows)
                    ahead.append((piece, submit(pool, piece)))
                    if len(ahead) > 1:
                        yield assemble(*ahead.popleft())
            while ahead:
                yield assemble(*ahead.popleft())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    return pa.RecordBatchReader.from_batches(schema, batches())
