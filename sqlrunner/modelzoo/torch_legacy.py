"""Read a PyTorch checkpoint in the legacy (pre-1.6, not zip) format with pickle and numpy.

The file holds five pickles in a row (magic number, protocol version, system info, the
object whose tensors are persistent ids naming storages, the list of storage keys) and
then, for each key in that order, the storage's element count as 8 bytes little-endian
and its raw bytes. A tensor is a view of a storage (offset, sizes, strides in elements),
and the strides are not always contiguous, so each array is built with those strides
and then copied. No PyTorch is needed and no code from the file runs: the unpickler
only resolves the handful of names a state dict uses.
"""

from __future__ import annotations

import collections
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from pipeline.errors import SqlRunnerError

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


@dataclass(frozen=True)
class _StorageType:
    dtype: type[np.generic]


@dataclass(frozen=True)
class _StorageRef:
    key: str
    dtype: type[np.generic]
    size: int


@dataclass(frozen=True)
class _TensorView:
    storage: _StorageRef
    offset: int
    sizes: tuple[int, ...]
    strides: tuple[int, ...]


def _rebuild_tensor(
    storage: _StorageRef, offset: int, sizes: Any, strides: Any, *_rest: Any
) -> _TensorView:
    return _TensorView(storage, int(offset), tuple(sizes), tuple(strides))


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module == "collections" and name == "OrderedDict":
            return collections.OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(_STORAGE_DTYPES[name])
        raise SqlRunnerError(f"legacy checkpoint refers to {module}.{name}, which is not allowed")

    def persistent_load(self, pid: Any) -> Any:
        if not (isinstance(pid, tuple) and pid and pid[0] == "storage"):
            raise SqlRunnerError(f"legacy checkpoint has an unknown persistent id {pid!r}")
        _, storage_type, key, _location, size, *view = pid
        if view and view[0] is not None:
            raise SqlRunnerError("legacy checkpoint uses storage views, which are not supported")
        if not isinstance(storage_type, _StorageType):
            raise SqlRunnerError(f"legacy checkpoint storage {key} has no known type")
        return _StorageRef(str(key), storage_type.dtype, int(size))


def _load(handle: IO[bytes]) -> Any:
    return _Unpickler(handle).load()


def read_legacy_state_dict(path: Path) -> dict[str, np.ndarray]:
    """The checkpoint's tensors as float/int numpy arrays, by name, in file order."""
    try:
        with path.open("rb") as handle:
            if _load(handle) != LEGACY_MAGIC:
                raise SqlRunnerError(f"{path} is not a legacy PyTorch checkpoint (bad magic)")
            _load(handle)  # protocol version
            _load(handle)  # system info
            tree = _load(handle)
            keys = [str(key) for key in _load(handle)]
            if not isinstance(tree, dict):
                raise SqlRunnerError(f"{path} does not hold a state dict")
            storages = {
                v.storage.key: v.storage for v in tree.values() if isinstance(v, _TensorView)
            }
            buffers = {key: _read_storage(handle, storages.get(key), path) for key in keys}
    except OSError as exc:
        raise SqlRunnerError(f"cannot read {path}: {exc.strerror}") from exc
    except (pickle.UnpicklingError, EOFError) as exc:
        raise SqlRunnerError(f"{path} is not a legacy PyTorch checkpoint: {exc}") from exc
    return {str(name): _materialise(view, buffers, path) for name, view in tree.items()}


def _read_storage(handle: IO[bytes], storage: _StorageRef | None, path: Path) -> bytes:
    if storage is None:
        raise SqlRunnerError(f"{path}: a storage no tensor uses")
    count = int.from_bytes(handle.read(8), "little")
    if count != storage.size:
        raise SqlRunnerError(f"{path}: storage {storage.key} holds {count}, not {storage.size}")
    length = count * np.dtype(storage.dtype).itemsize
    raw = handle.read(length)
    if len(raw) != length:
        raise SqlRunnerError(f"{path} ends inside storage {storage.key}")
    return raw


def _materialise(view: Any, buffers: dict[str, bytes], path: Path) -> np.ndarray:
    if not isinstance(view, _TensorView):
        raise SqlRunnerError(f"{path}: an entry of the state dict is not a tensor")
    if view.offset < 0 or any(n < 0 for n in view.sizes) or any(s < 0 for s in view.strides):
        # as_strided trusts its arguments: a negative one would read outside the buffer.
        raise SqlRunnerError(f"{path}: a tensor has a negative offset, size or stride")
    if len(view.sizes) != len(view.strides):
        raise SqlRunnerError(f"{path}: a tensor's sizes and strides differ in length")
    raw = buffers.get(view.storage.key)
    itemsize = np.dtype(view.storage.dtype).itemsize
    if raw is None or len(raw) != view.storage.size * itemsize:
        raise SqlRunnerError(f"{path}: storage {view.storage.key} is missing or of another size")
    flat = np.frombuffer(raw, dtype=view.storage.dtype, count=view.storage.size)
    if any(n == 0 for n in view.sizes):
        return np.zeros(view.sizes, dtype=view.storage.dtype)
    extent = view.offset + sum((n - 1) * s for n, s in zip(view.sizes, view.strides, strict=True))
    if extent >= view.storage.size:
        raise SqlRunnerError(f"{path}: a tensor reaches past the end of its storage")
    strided = np.lib.stride_tricks.as_strided(
        flat[view.offset :],
        shape=view.sizes,
        strides=tuple(s * itemsize for s in view.strides),
        writeable=False,
    )
    return np.array(strided, copy=True, order="C")
