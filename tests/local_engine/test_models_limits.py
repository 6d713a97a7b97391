"""CREATE MODEL's documented rules at their edges: the 450 MB limit and each type's files."""

from __future__ import annotations

from pathlib import Path

import pytest

from bigquery_facts import MAX_MODEL_BYTES
from local_engine.errors import EngineError
from local_engine.models import create_model
from tests.support.ml_lake import DirStore


@pytest.fixture
def store(tmp_path: Path) -> DirStore:
    (tmp_path / "gcs").mkdir()
    return DirStore(tmp_path / "gcs")


def model_files(store: DirStore, files: dict[str, int | bytes]) -> str:
    """Files under gs://b/m/: bytes as given, or sparse files of the given size."""
    folder = store.root / "b" / "m"
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            with path.open("wb") as sparse:
                sparse.truncate(content)
    return "gs://b/m/*"


def test_the_documented_limit() -> None:
    assert MAX_MODEL_BYTES == 450_000_000


def test_one_byte_under_450_mb_passes_the_size_check(store: DirStore, tmp_path: Path) -> None:
    # No saved_model.pb: the next check refuses it, so nothing is read or converted.
    path = model_files(store, {"variables/variables.data": MAX_MODEL_BYTES - 1})
    with pytest.raises(EngineError, match="needs a SavedModel") as refused:
        create_model("TENSORFLOW", path, store, tmp_path / "home")
    assert "450" not in str(refused.value)


@pytest.mark.parametrize("total", [MAX_MODEL_BYTES, MAX_MODEL_BYTES + 1])
def test_450_mb_or_more_is_refused_before_anything_is_read(
    store: DirStore, tmp_path: Path, total: int
) -> None:
    path = model_files(store, {"saved_model.pb": b"x", "variables/variables.data": total - 1})
    with pytest.raises(
        EngineError,
        match=rf"^the model at gs://b/m/\* is {total:,} bytes; BigQuery imports models of "
        r"less than 450 MB \(450,000,000 bytes\)$",
    ):
        create_model("TENSORFLOW", path, store, tmp_path / "home")
    assert not (tmp_path / "home" / "models").exists()


@pytest.mark.parametrize(
    ("model_type", "files", "found"),
    [
        ("TENSORFLOW_LITE", {"saved_model.pb": b"graph"}, "found 0 among saved_model.pb"),
        ("TENSORFLOW_LITE", {"model.onnx": b"onnx"}, "found 0"),
        ("TENSORFLOW_LITE", {"model.tflite.bak": b"old"}, "found 0"),
        ("TENSORFLOW_LITE", {"a.tflite": b"1", "b.tflite": b"2"}, "found 2"),
        ("ONNX", {"model.tflite": b"tflite"}, "found 0"),
        ("ONNX", {"a.onnx": b"1", "b.onnx": b"2"}, "found 2"),
    ],
)
def test_each_type_needs_exactly_one_file_of_its_own(
    store: DirStore, tmp_path: Path, model_type: str, files: dict[str, int | bytes], found: str
) -> None:
    suffix = ".tflite" if model_type == "TENSORFLOW_LITE" else ".onnx"
    with pytest.raises(
        EngineError,
        match=rf"^model_type {model_type} needs exactly one \{suffix} file at gs://b/m/\*; {found}",
    ):
        create_model(model_type, model_files(store, files), store, tmp_path / "home")
    assert not (tmp_path / "home" / "models").exists() or not any(
        (tmp_path / "home" / "models").iterdir()
    )


@pytest.mark.parametrize("model_type", ["TENSORFLOW_LITE", "ONNX"])
def test_a_savedmodel_is_not_taken_for_another_type(
    store: DirStore, tmp_path: Path, tiny_savedmodel: Path, model_type: str
) -> None:
    files = {
        path.relative_to(tiny_savedmodel).as_posix(): path.read_bytes()
        for path in tiny_savedmodel.rglob("*")
        if path.is_file()
    }
    with pytest.raises(EngineError, match=rf"^model_type {model_type} needs exactly one"):
        create_model(model_type, model_files(store, files), store, tmp_path / "home")


def test_tensorflow_needs_saved_model_pb(store: DirStore, tmp_path: Path) -> None:
    path = model_files(store, {"model.tflite": b"tflite", "model.onnx": b"onnx"})
    with pytest.raises(EngineError, match=r"^model_type TENSORFLOW needs a SavedModel"):
        create_model("TENSORFLOW", path, store, tmp_path / "home")
