"""Object tables as Arrow: the documented columns, listed from the store when queried.

The listing is taken when the statement runs (so new files show up); the `data`
pseudocolumn is read batch by batch as DuckDB pulls, so memory stays flat.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pyarrow as pa

from sqlrunner.local.storage import ObjectInfo, ObjectStore

DATA_COLUMN = "data"
URI_COLUMN = "uri"
METADATA_TYPE = pa.list_(pa.struct([("name", pa.string()), ("value", pa.string())]))

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


def list_objects(store: ObjectStore, uris: Sequence[str]) -> list[ObjectInfo]:
    """Every object matching any of the URIs, once each, in URI order."""
    found: dict[str, ObjectInfo] = {}
    for pattern in uris:
        for info in store.list(pattern):
            found.setdefault(info.uri, info)
    return [found[uri] for uri in sorted(found)]


def object_table_reader(
    store: ObjectStore,
    uris: Sequence[str],
    *,
    with_data: bool,
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> pa.RecordBatchReader:
    objects = list_objects(store, uris)
    schema = OBJECT_TABLE_SCHEMA
    if with_data:
        schema = schema.append(pa.field(DATA_COLUMN, pa.binary()))

    def batches() -> Iterator[pa.RecordBatch]:
        for start in range(0, len(objects), batch_rows):
            chunk = objects[start : start + batch_rows]
            columns: dict[str, list[object]] = {
                "uri": [o.uri for o in chunk],
                "generation": [o.generation for o in chunk],
                "content_type": [o.content_type for o in chunk],
                "size": [o.size for o in chunk],
                "md5_hash": [o.md5_hash for o in chunk],
                "updated": [o.updated for o in chunk],
                "metadata": [[{"name": k, "value": v} for k, v in o.metadata] for o in chunk],
            }
            if with_data:
                columns[DATA_COLUMN] = [store.read(o.uri) for o in chunk]
            yield pa.RecordBatch.from_pydict(columns, schema=schema)

    return pa.RecordBatchReader.from_batches(schema, batches())
