"""ML.PREDICT's streaming predictor: decode + resize fused into each batch, overlapped with inference.

The input arrives as Arrow batches. Image features the SQL planner recognised as
`ML.RESIZE_IMAGE(ML.DECODE_IMAGE(bytes), h, w, keep)` (or a bare ML.DECODE_IMAGE) come
as their raw bytes column and are decoded in a thread pool, so no 150,528-float SQL
list is built per image and memory stays flat: at most three batches are in flight.
The model runs on its own thread, beside DuckDB taking the previous batch's outputs.

`SQLRUNNER_DECODE` = `auto` (default) | `before` | `beside`: `before` decodes each
batch (on every core) just before it runs through the model; `beside` decodes the next
batch while the model runs this one. `auto` is `before` when inference uses every core:
decoding beside it then only takes turns with it on the same cores, and measured level
with `before` or a few percent behind it (docs/benchmarks.md, "Decoding before or
beside inference"), with one more batch of decoded images in memory. It is `beside`
when SQLRUNNER_THREADS leaves cores free for decoding.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from local_engine.decode import decode_rgb
from local_engine.errors import EngineError
from local_engine.imageops import float_to_uint8, resize_bilinear, resized_shape, uint8_to_float
from local_engine.images import (
    FLOAT_IMAGE_TYPE,
    image_struct_array,
    iter_image_structs,
)
from local_engine.models import LocalModel
from local_engine.records import TensorSpec
from local_engine.runtimes import inference_threads


@dataclass(frozen=True)
class FusedImageFeature:
    """A feature computed as ML.RESIZE_IMAGE(ML.DECODE_IMAGE(<bytes>), h, w, keep) or ML.DECODE_IMAGE(<bytes>)."""

    source_column: str  # the BLOB column in the input batches holding the image bytes
    uri_column: str | None  # a column carrying the object's uri, for error messages
    resize: tuple[int, int, bool] | None
    emit: bool  # also return the feature column itself as a BigQuery image struct


def decode_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


DECODE_ENV = "SQLRUNNER_DECODE"
DECODE_MODES = ("auto", "before", "beside")


def decode_beside_inference() -> bool:
    """Whether the next batch is decoded while the model runs this one (SQLRUNNER_DECODE)."""
    mode = os.environ.get(DECODE_ENV, "").strip().lower() or "auto"
    if mode not in DECODE_MODES:
        raise EngineError(f"{DECODE_ENV} must be one of {', '.join(DECODE_MODES)}, got {mode!r}")
    if mode == "auto":
        return inference_threads() < (os.cpu_count() or 1)
    return mode == "beside"


def predict_stream(
    model: LocalModel,
    batches: pa.RecordBatchReader,
    fused: dict[str, FusedImageFeature],
    *,
    batch_size: int = 32,
    progress: bool = True,
) -> pa.RecordBatchReader:
    """Every input column (fused source columns dropped), emitted features, then the outputs."""
    record = model.record
    names = set(batches.schema.names)
    for spec in record.features:
        if spec.name not in fused and spec.name not in names:
            raise EngineError(
                f"ML.PREDICT input has no column {spec.name}, the feature model"
                f" {record.model_path} needs (columns: {', '.join(batches.schema.names)})"
            )
    for name, feature in fused.items():
        if feature.source_column not in names:
            raise EngineError(f"ML.PREDICT input lacks the image bytes column for feature {name}")
    dropped = {f.source_column for f in fused.values()}
    kept = [field for field in batches.schema if field.name not in dropped]
    emitted = [pa.field(name, FLOAT_IMAGE_TYPE) for name, f in fused.items() if f.emit]
    labels = [pa.field(spec.name, _arrow_type(spec)) for spec in record.labels]
    taken = {f.name for f in kept + emitted}
    for field in labels:
        if field.name in taken:
            raise EngineError(
                f"ML.PREDICT input already has a column named {field.name}, a model output"
            )
    schema = pa.schema(kept + emitted + labels)
    specs = {spec.name: spec for spec in record.features}
    plan = _Plan(model, fused, specs, [f.name for f in kept], labels, max(1, batch_size))
    return pa.RecordBatchReader.from_batches(schema, _stream(plan, batches, schema, progress))


@dataclass(frozen=True)
class _Plan:
    model: LocalModel
    fused: dict[str, FusedImageFeature]
    specs: dict[str, TensorSpec]
    kept: list[str]
    labels: list[pa.Field]
    batch_size: int


@dataclass(frozen=True)
class _PendingImages:
    """One fused feature's images for one batch, being decoded in the pool."""

    futures: list[Future[np.ndarray]]
    # Where fixed-size resizes land, one slot per row, so no stacking copy is needed.
    batch: np.ndarray | None


_Pending = dict[str, _PendingImages]


def _stream(
    plan: _Plan, batches: pa.RecordBatchReader, schema: pa.Schema, progress: bool
) -> Iterator[pa.RecordBatch]:
    meter = _Meter(plan.model, bool(plan.fused), progress)
    pool = ThreadPoolExecutor(max_workers=decode_threads(), thread_name_prefix="sqlrunner-decode")
    # One inference thread, so the model runs batch k+1 while batch k is handed to DuckDB
    # and the next input is read; a single worker also keeps the batches in order.
    inference = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlrunner-infer")
    inflight: deque[tuple[_Pending, Future[pa.RecordBatch]]] = deque()
    beside = decode_beside_inference()

    def start(chunk: pa.RecordBatch) -> tuple[_Pending, Future[pa.RecordBatch]]:
        if beside:
            pending = _submit(pool, plan, chunk)
            return pending, inference.submit(_finish, plan, schema, chunk, pending)
        # Decoded on the inference thread's turn: the pool's images are cancelled on exit.
        return {}, inference.submit(_decode_and_finish, pool, plan, schema, chunk)

    def take() -> pa.RecordBatch:
        out = inflight.popleft()[1].result()
        meter.add(out.num_rows)
        return out

    try:
        for chunk in _rechunk(batches, plan.batch_size):
            inflight.append(start(chunk))
            if len(inflight) > 2:
                yield take()
        while inflight:
            yield take()
        meter.done()
    finally:
        for pending, finished in inflight:
            finished.cancel()
            for images in pending.values():
                for future in images.futures:
                    future.cancel()
        inference.shutdown(wait=True, cancel_futures=True)
        pool.shutdown(wait=True, cancel_futures=True)
        meter.close()


def _rechunk(batches: pa.RecordBatchReader, size: int) -> Iterator[pa.RecordBatch]:
    """Batches of exactly `size` rows (the last one shorter), whatever the input's sizes."""
    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        start = 0
        while start < batch.num_rows:
            take = min(size - rows, batch.num_rows - start)
            pending.append(batch.slice(start, take))
            rows += take
            start += take
            if rows == size:
                yield _concat(pending)
                pending, rows = [], 0
    if rows:
        yield _concat(pending)


def _concat(parts: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(parts) == 1:
        return parts[0]
    return pa.Table.from_batches(parts).combine_chunks().to_batches()[0]


def _submit(pool: ThreadPoolExecutor, plan: _Plan, chunk: pa.RecordBatch) -> _Pending:
    pending: _Pending = {}
    for name, feature in plan.fused.items():
        blobs = chunk.column(feature.source_column).to_pylist()
        uris = (
            chunk.column(feature.uri_column).to_pylist()
            if feature.uri_column and feature.uri_column in chunk.schema.names
            else [None] * len(blobs)
        )
        batch = None
        if feature.resize is not None and not feature.resize[2]:
            height, width, _ = feature.resize
            batch = np.empty((len(blobs), height, width, 3), dtype=np.float32)
        futures = [
            pool.submit(
                preprocess_image,
                blob,
                uri,
                feature.resize,
                name,
                None if batch is None else batch[i],
            )
            for i, (blob, uri) in enumerate(zip(blobs, uris, strict=True))
        ]
        pending[name] = _PendingImages(futures, batch)
    return pending


def preprocess_image(
    blob: bytes | None,
    uri: str | None,
    resize: tuple[int, int, bool] | None,
    feature: str,
    slot: np.ndarray | None,
) -> np.ndarray:
    """One fused feature value: decode `blob` and resize it (into `slot` when given)."""
    if blob is None:
        where = f" for {uri}" if uri else ""
        raise EngineError(f"feature {feature} is NULL{where}: ML.DECODE_IMAGE got no bytes")
    # Transient: the pixels are read once (converted or resized) before this thread's next image.
    rgb = decode_rgb(blob, uri, transient=True)
    if resize is None:
        return uint8_to_float(rgb)
    height, width, keep = resize
    out_h, out_w = resized_shape(rgb.shape[0], rgb.shape[1], height, width, keep)
    return resize_bilinear(rgb, out_h, out_w, out=slot)


def _decode_and_finish(
    pool: ThreadPoolExecutor, plan: _Plan, schema: pa.Schema, chunk: pa.RecordBatch
) -> pa.RecordBatch:
    return _finish(plan, schema, chunk, _submit(pool, plan, chunk))


def _finish(
    plan: _Plan,
    schema: pa.Schema,
    chunk: pa.RecordBatch,
    pending: _Pending,
) -> pa.RecordBatch:
    images = {name: [f.result() for f in p.futures] for name, p in pending.items()}
    feeds: dict[str, np.ndarray] = {}
    for name, spec in plan.specs.items():
        if name in images:
            feeds[name] = _stack_images(
                images[name], pending[name].batch, spec, _uris(chunk, plan.fused[name])
            )
        else:
            feeds[name] = _column_tensor(chunk.column(name), spec)
    outputs = plan.model.predict(feeds)
    columns: list[pa.Array] = [chunk.column(name) for name in plan.kept]
    columns += [image_struct_array(images[name]) for name, f in plan.fused.items() if f.emit]
    for field in plan.labels:
        if field.name not in outputs:
            raise EngineError(f"the model returned no output {field.name}")
        columns.append(_tensor_to_arrow(outputs[field.name]).cast(field.type))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _uris(chunk: pa.RecordBatch, feature: FusedImageFeature) -> list[str | None]:
    if feature.uri_column and feature.uri_column in chunk.schema.names:
        return [None if u is None else str(u) for u in chunk.column(feature.uri_column).to_pylist()]
    return [None] * chunk.num_rows


def _stack_images(
    images: list[np.ndarray], batch: np.ndarray | None, spec: TensorSpec, uris: list[str | None]
) -> np.ndarray:
    """The images as one (rows, ...) array; `batch`, if given, already holds them."""
    want = spec.shape[1:]
    for image, uri in zip(images, uris, strict=True):
        if len(want) != image.ndim or any(
            w is not None and w != g for w, g in zip(want, image.shape, strict=True)
        ):
            where = uri or "an input image"
            got = "[" + ", ".join(str(d) for d in image.shape) + "]"
            raise EngineError(
                f"input shape mismatch: feature {spec.name} takes {spec.shape_text()} images,"
                f" {where} is {got}; resize it with ML.RESIZE_IMAGE"
            )
    if len({image.shape for image in images}) > 1:
        raise EngineError(
            f"input shape mismatch: the images for feature {spec.name} differ in size in one"
            " batch; resize them to one size with ML.RESIZE_IMAGE"
        )
    if batch is None:
        batch = np.stack(images)
    if np.dtype(spec.dtype) == np.uint8:
        return float_to_uint8(batch)
    return batch


def _column_tensor(column: Any, spec: TensorSpec) -> np.ndarray:
    """A feature column that arrived as values, (nested) arrays or image structs, as one array."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if column.null_count:
        raise EngineError(f"feature {spec.name} is NULL in {column.null_count} input rows")
    dtype = np.dtype(spec.dtype)
    if pa.types.is_struct(column.type):
        rows = []
        for row in iter_image_structs(column, "ML.PREDICT"):
            assert row is not None  # nulls refused above
            rows.append(row[0])
        if len({r.shape for r in rows}) > 1:
            raise EngineError(
                f"input shape mismatch: the images for feature {spec.name} differ in size"
            )
        batch = np.stack(rows) if rows else np.zeros((0, *[d or 0 for d in spec.shape[1:]]))
        if dtype == np.uint8 and batch.dtype.kind == "f":
            return float_to_uint8(batch)
        return batch.astype(dtype)
    shape = [len(column)]
    values = column
    while (
        pa.types.is_list(values.type)
        or pa.types.is_large_list(values.type)
        or pa.types.is_fixed_size_list(values.type)
    ):
        lengths = pc.list_value_length(values).to_numpy(zero_copy_only=False)
        if lengths.size and (lengths != lengths[0]).any():
            raise EngineError(
                f"input shape mismatch: feature {spec.name} has arrays of different lengths"
            )
        shape.append(int(lengths[0]) if lengths.size else 0)
        values = values.flatten()
    array = np.asarray(values.to_numpy(zero_copy_only=False)).reshape(shape)
    return array.astype(dtype)


def _arrow_type(spec: TensorSpec) -> pa.DataType:
    kind = np.dtype(spec.dtype).kind if spec.dtype != "string" else "U"
    value: pa.DataType = {"f": pa.float64(), "i": pa.int64(), "u": pa.int64(), "b": pa.bool_()}.get(
        kind, pa.string()
    )
    for _ in spec.shape[1:]:
        value = pa.list_(value)
    return value


def _tensor_to_arrow(tensor: np.ndarray) -> pa.Array:
    """A (rows, d1, d2, ...) array as nested Arrow lists, one list per row."""
    values: pa.Array = pa.array(np.ascontiguousarray(tensor).reshape(-1))
    for dim in reversed(tensor.shape[1:]):
        count = len(values) // dim if dim else tensor.shape[0]
        offsets = pa.array(np.arange(count + 1, dtype=np.int32) * dim, pa.int32())
        values = pa.ListArray.from_arrays(offsets, values)
    return values


class _Meter:
    """Progress on a terminal (rich), or one summary line on stderr when it is not one."""

    def __init__(self, model: LocalModel, images: bool, enabled: bool) -> None:
        self.unit = "images" if images else "rows"
        self.runtime = f"{getattr(model, 'runtime', model.record.runtime)}, {getattr(model, 'precision', 'fp32')}"
        self.enabled = enabled
        self.count = 0
        self.start = time.perf_counter()
        self._progress: Any = None
        self._task: Any = None
        if enabled and sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("ML.PREDICT {task.completed:.0f} " + self.unit),
                TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                auto_refresh=False,  # no refresh thread left behind
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("predict", total=None, rate="")

    def rate(self) -> float:
        elapsed = time.perf_counter() - self.start
        return self.count / elapsed if elapsed > 0 else 0.0

    def add(self, rows: int) -> None:
        self.count += rows
        if self._progress is not None:
            self._progress.update(
                self._task, completed=self.count, rate=f"{self.rate():.1f} {self.unit}/s"
            )
            self._progress.refresh()

    def done(self) -> None:
        if self.enabled:
            self.close()
            elapsed = time.perf_counter() - self.start
            print(
                f"ML.PREDICT: {self.count} {self.unit} in {elapsed:.1f} s,"
                f" {self.rate():.1f} {self.unit}/s ({self.runtime})",
                file=sys.stderr,
            )

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
