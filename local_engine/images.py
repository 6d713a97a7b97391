"""ML.DECODE_IMAGE and friends as vectorised DuckDB Arrow UDFs over BigQuery's image struct.

BigQuery documents an image as `STRUCT<ARRAY<INT64>, ARRAY<FLOAT64>>`: first the shape
[H, W, C], then the row-major, pixel-interleaved values. Its fields are unnamed there;
here they are `shape` and `image`, in that order. ML.CONVERT_IMAGE_TYPE returns the
same struct with INT64 values in [0, 255].
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from local_engine.decode import decode_rgb
from local_engine.errors import EngineError
from local_engine.errortrap import ErrorTrap
from local_engine.imageops import (
    convert_color_space,
    float_to_uint8,
    resize_bilinear,
    resized_shape,
    uint8_to_float,
)
from local_engine.transpile import IMAGE_FUNCTIONS

if TYPE_CHECKING:
    import duckdb

FLOAT_IMAGE_TYPE = pa.struct([("shape", pa.list_(pa.int64())), ("image", pa.list_(pa.float64()))])
INT_IMAGE_TYPE = pa.struct([("shape", pa.list_(pa.int64())), ("image", pa.list_(pa.int64()))])
FLOAT_IMAGE_SQL = "STRUCT(shape BIGINT[], image DOUBLE[])"
INT_IMAGE_SQL = "STRUCT(shape BIGINT[], image BIGINT[])"


def _as_array(values: Any) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks()
    if isinstance(values, pa.Array):
        return values
    return pa.array(values)


def image_struct_array(
    images: Sequence[np.ndarray | None], *, integer: bool = False
) -> pa.StructArray:
    """BigQuery image structs from (H, W, C) arrays; None gives a NULL row."""
    value_type = pa.int64() if integer else pa.float64()
    numpy_type = np.int64 if integer else np.float64
    present = [img for img in images if img is not None]
    mask = pa.array([img is None for img in images], pa.bool_())
    sizes = np.array([0 if img is None else img.size for img in images], dtype=np.int64)
    offsets = pa.array(np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32), pa.int32())
    flat = (
        np.concatenate([img.reshape(-1).astype(numpy_type, copy=False) for img in present])
        if present
        else np.zeros(0, dtype=numpy_type)
    )
    values = pa.ListArray.from_arrays(offsets, pa.array(flat, value_type))
    shapes = pa.array(
        [None if img is None else list(_shape3(img)) for img in images], pa.list_(pa.int64())
    )
    struct_type = INT_IMAGE_TYPE if integer else FLOAT_IMAGE_TYPE
    return pa.StructArray.from_arrays(
        [shapes, values.cast(struct_type.field("image").type)],
        fields=list(struct_type),
        mask=mask,
    )


def _shape3(img: np.ndarray) -> tuple[int, int, int]:
    if img.ndim == 2:
        return img.shape[0], img.shape[1], 1
    return img.shape[0], img.shape[1], img.shape[2]


def iter_image_structs(column: Any, function: str) -> Iterator[tuple[np.ndarray, bool] | None]:
    """Each row of an image-struct column as ((H, W, C) array, is_integer), or None if NULL."""
    structs = _as_array(column)
    if not pa.types.is_struct(structs.type) or structs.type.num_fields != 2:
        raise EngineError(
            f"{function} takes an image STRUCT<ARRAY<INT64>, ARRAY<FLOAT64>>, got {structs.type}"
        )
    flat = structs.flatten()
    shape_col, image_col = flat[0], flat[1]
    integer = pa.types.is_integer(image_col.type.value_type)
    for i in range(len(structs)):
        if not structs[i].is_valid or not shape_col[i].is_valid or not image_col[i].is_valid:
            yield None
            continue
        shape = [int(v) for v in shape_col[i].values.to_pylist()]
        values = image_col[i].values.to_numpy(zero_copy_only=False)
        if len(shape) != 3 or int(np.prod(shape)) != values.size or min(shape) <= 0:
            raise EngineError(
                f"{function}: image shape {shape} does not match its {values.size} values"
                " (expected [height, width, channels])"
            )
        yield values.reshape(shape), integer


def _decode_udf(data: Any, uri: Any) -> pa.StructArray:
    blobs = _as_array(data).to_pylist()
    uris = _as_array(uri).to_pylist() if uri is not None else [None] * len(blobs)
    images: list[np.ndarray | None] = []
    for blob, where in zip(blobs, uris, strict=True):
        images.append(None if blob is None else uint8_to_float(decode_rgb(blob, where)))
    return image_struct_array(images)


def _resize_udf(image: Any, height: Any, width: Any, preserve: Any) -> pa.StructArray:
    heights = _as_array(height).to_pylist()
    widths = _as_array(width).to_pylist()
    keeps = _as_array(preserve).to_pylist()
    out: list[np.ndarray | None] = []
    rows = iter_image_structs(image, "ML.RESIZE_IMAGE")
    for row, th, tw, keep in zip(rows, heights, widths, keeps, strict=True):
        if row is None or th is None or tw is None or keep is None:
            out.append(None)
            continue
        pixels, _ = row
        out_h, out_w = resized_shape(pixels.shape[0], pixels.shape[1], int(th), int(tw), bool(keep))
        out.append(resize_bilinear(pixels.astype(np.float32), out_h, out_w))
    return image_struct_array(out)


def _color_space_udf(image: Any, target: Any) -> pa.StructArray:
    targets = _as_array(target).to_pylist()
    out: list[np.ndarray | None] = []
    for row, space in zip(
        iter_image_structs(image, "ML.CONVERT_COLOR_SPACE"), targets, strict=True
    ):
        if row is None or space is None:
            out.append(None)
            continue
        pixels, integer = row
        rgb = uint8_to_float(pixels.astype(np.uint8)) if integer else pixels
        out.append(convert_color_space(rgb, str(space)))
    return image_struct_array(out)


def _image_type_udf(image: Any) -> pa.StructArray:
    out: list[np.ndarray | None] = []
    for row in iter_image_structs(image, "ML.CONVERT_IMAGE_TYPE"):
        if row is None:
            out.append(None)
            continue
        pixels, integer = row
        out.append(pixels if integer else float_to_uint8(pixels))
    return image_struct_array(out, integer=True)


def register_image_functions(
    con: duckdb.DuckDBPyConnection, trap: ErrorTrap, suffix: str = ""
) -> None:
    """Register ml_decode_image, ml_resize_image, ml_convert_color_space, ml_convert_image_type.

    An error a function raises is kept by `trap`: DuckDB passes on only its text. Each name
    ends in `suffix`, unique per connection (see `transpile.rewrite_image_functions`).
    """
    import duckdb
    from duckdb.func import FunctionNullHandling, PythonUDFType

    float_image = duckdb.sqltype(FLOAT_IMAGE_SQL)
    int_image = duckdb.sqltype(INT_IMAGE_SQL)
    # Parameters of the image-taking functions stay untyped, so FLOAT64 and INT64 image
    # structs both arrive as they are.
    functions: list[tuple[str, Callable[..., pa.StructArray], list[Any] | None, Any]] = [
        (
            "DECODE_IMAGE",
            _decode_udf,
            [duckdb.sqltype("BLOB"), duckdb.sqltype("VARCHAR")],
            float_image,
        ),
        ("RESIZE_IMAGE", _resize_udf, None, float_image),
        ("CONVERT_COLOR_SPACE", _color_space_udf, None, float_image),
        ("CONVERT_IMAGE_TYPE", _image_type_udf, None, int_image),
    ]
    for name, function, parameters, returns in functions:
        con.create_function(
            IMAGE_FUNCTIONS[name] + suffix,
            trap.guard(function),
            parameters,
            returns,
            type=PythonUDFType.ARROW,
            null_handling=FunctionNullHandling.SPECIAL,
            side_effects=False,
        )
