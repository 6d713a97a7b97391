"""The session's conversion cache: a model converted once serves every later lake alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from local_engine import convert
from local_engine.models import create_model
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
