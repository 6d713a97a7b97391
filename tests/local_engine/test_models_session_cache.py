"""The session's conversion cache: a model converted once serves every later lake alike."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from local_engine import convert
from local_engine.models import create_model
from local_engine.records import ModelRecord
from tests.support.conversions import ConversionCache
from tests.support.ml_lake import DirStore, put_tree


def test_a_second_lake_reuses_the_conversion_and_gets_the_same_files(
    tiny_savedmodel: Path,
    tmp_path: Path,
    conversions: ConversionCache,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    homes = []
    records = []
    for name in ("one", "two"):
        store = DirStore(tmp_path / name / "gcs")
        store.root.mkdir(parents=True)
        path = put_tree(store, tiny_savedmodel, f"gs://{name}/m")
        records.append(create_model("TENSORFLOW", path, store, tmp_path / name / "home"))
        homes.append(tmp_path / name / "home")
        # Converting again would fail: the second lake must take the session's conversion.
        monkeypatch.setattr(convert, "savedmodel_to_onnx", None)
    first, second = records
    assert second.content_hash == first.content_hash and second.model_path == "gs://two/m/*"
    onnx = [home / "models" / record.artifact for home, record in zip(homes, records, strict=True)]
    assert onnx[0].read_bytes() == onnx[1].read_bytes()


def test_seed_gives_a_fresh_lake_every_conversion_so_far(
    tiny_savedmodel: Path, tmp_path: Path, conversions: ConversionCache
) -> None:
    store = DirStore(tmp_path / "gcs")
    store.root.mkdir()
    path = put_tree(store, tiny_savedmodel, "gs://b/m")
    record = create_model("TENSORFLOW", path, store, tmp_path / "home")
    conversions.seed(tmp_path / "fresh")
    assert (tmp_path / "fresh" / "models" / record.artifact).is_file()
    assert (tmp_path / "fresh" / "models" / record.content_hash / "record.json").is_file()


def test_workers_sharing_the_cache_convert_a_model_once(tmp_path: Path) -> None:
    # pytest-xdist's workers share one root; two asking at once must not both convert.
    calls: list[str] = []
    started = threading.Event()

    def slow_prepare(
        model_type: str, model_path: str, content_hash: str, staging: Path, main: str | None
    ) -> ModelRecord:
        calls.append(model_path)
        started.set()
        time.sleep(0.3)  # the other worker asks meanwhile
        (staging / "model.onnx").write_bytes(b"converted")
        return ModelRecord(model_type, model_path, content_hash, f"{content_hash}/model.onnx",
                           "onnx", (), ())  # fmt: skip

    root = tmp_path / "shared"
    root.mkdir()
    records: dict[str, ModelRecord] = {}

    def worker(name: str) -> None:
        staging = tmp_path / name
        staging.mkdir()
        prepare = ConversionCache(root).wrap(slow_prepare)
        records[name] = prepare("TENSORFLOW", f"gs://{name}/m/*", "h1", staging, None)

    first = threading.Thread(target=worker, args=("one",))
    first.start()
    started.wait(5)
    second = threading.Thread(target=worker, args=("two",))
    second.start()
    first.join(10)
    second.join(10)
    assert calls == ["gs://one/m/*"]
    assert records["two"].model_path == "gs://two/m/*"
    assert (tmp_path / "two" / "model.onnx").read_bytes() == b"converted"
    assert sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) == ["h1"]
