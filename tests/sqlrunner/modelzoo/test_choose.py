"""The demo's model choice: a verified real model, else a download, else the stand-in."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlrunner.modelzoo.choose import choose_model
from sqlrunner.modelzoo.fetch import PROVENANCE_FILE, Provenance
from sqlrunner.modelzoo.marker import MARKER_FILE


def _as_real(tiny_savedmodel: Path, dest: Path) -> Path:
    # The tiny model has the real signature; without its marker it passes for a download.
    shutil.copytree(tiny_savedmodel, dest, ignore=shutil.ignore_patterns(MARKER_FILE))
    provenance = Provenance("h", "https://x/model", "https://y/model", "ab" * 32, 10, "2026-01-01")
    (dest / PROVENANCE_FILE).write_text(provenance.to_json())
    return dest


def test_a_verified_model_in_models_dir_is_used(tiny_savedmodel: Path, tmp_path: Path) -> None:
    models_dir = _as_real(tiny_savedmodel, tmp_path / "resnet_50")
    lines: list[str] = []
    choice = choose_model(models_dir, tmp_path / "cache", allow_network=False, say=lines.append)
    assert choice.path == models_dir
    assert choice.trained is True
    assert choice.description == (
        "real ResNet-50 SavedModel (found) from https://y/model (sha256 abababababab)"
    )
    assert lines == []
    assert not (tmp_path / "cache").exists()


def test_missing_model_falls_back_to_the_standin_when_offline(
    standin_savedmodel: Path, tmp_path: Path
) -> None:
    lines: list[str] = []
    choice = choose_model(
        tmp_path / "resnet_50", standin_savedmodel.parent, allow_network=False, say=lines.append
    )
    assert choice.path == standin_savedmodel
    assert choice.trained is False
    assert "UNTRAINED" in choice.description
    assert choice.fallback_reason == "not downloaded; `make model` fetches it"
    assert lines == [
        "real model not available: not downloaded; `make model` fetches it",
        "building (or reusing) the untrained ResNet-50 stand-in",
    ]


def test_a_failed_download_falls_back_and_says_why(
    standin_savedmodel: Path, tmp_path: Path
) -> None:
    choice = choose_model(
        tmp_path / "resnet_50",
        standin_savedmodel.parent,
        url="http://127.0.0.1:9/model.tar.gz",
        timeout=2,
    )
    assert choice.trained is False
    assert choice.fallback_reason is not None
    assert choice.fallback_reason.startswith("cannot reach http://127.0.0.1:9/model.tar.gz")
    assert not (tmp_path / "resnet_50").exists()


def test_a_generated_model_in_models_dir_is_not_taken_for_the_real_one(
    tiny_savedmodel: Path, standin_savedmodel: Path, tmp_path: Path
) -> None:
    models_dir = tmp_path / "resnet_50"
    shutil.copytree(tiny_savedmodel, models_dir)
    choice = choose_model(models_dir, standin_savedmodel.parent, allow_network=False)
    assert choice.trained is False
    assert choice.fallback_reason == "it is a generated tiny, not the real model"
