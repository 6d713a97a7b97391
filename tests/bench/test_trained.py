"""bench.trained: BF16 against FP32 on the trained model, its section in docs/benchmarks.md."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import local_engine.convert
from bench.timing import Throughput
from bench.trained import (
    SECTION_END,
    SECTION_START,
    TrainedFigures,
    _onnx_for,
    render_section,
    replace_section,
    top5_overlap,
)


def test_top5_overlap_counts_shared_classes() -> None:
    a = np.array([[0.0, 1, 2, 3, 4, 5, 6], [6.0, 5, 4, 3, 2, 1, 0]])
    assert top5_overlap(a, a) == 1.0
    b = a.copy()
    b[0] = [6.0, 5, 4, 3, 2, 1, 0]  # row 0's top 5 becomes {0..4}: shares 2..4 with {2..6}
    assert top5_overlap(a, b) == (3 / 5 + 1) / 2


def test_section_is_replaced_in_place_or_appended() -> None:
    figures = TrainedFigures("m", 64, 32, 2, Throughput(64, 2.0))
    section = render_section(figures, "python -m bench.trained")
    assert section[0] == SECTION_START and section[-1] == SECTION_END
    assert "| EfficientNet-Lite0 FP32 | 32.0 images/s |" in section
    doc = "# Benchmarks\n\nbefore\n"
    once = replace_section(doc, section)
    assert once.startswith(doc.rstrip("\n")) and once.count(SECTION_START) == 1
    faster = render_section(TrainedFigures("m", 64, 32, 2, Throughput(64, 1.0)), "cmd")
    again = replace_section(once + "\nafter\n", faster)
    assert again.count(SECTION_START) == again.count(SECTION_END) == 1
    assert "64.0 images/s" in again and "32.0 images/s" not in again
    assert again.startswith(doc.rstrip("\n")) and again.rstrip().endswith("after")


def test_the_conversion_is_made_once_and_kept_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []

    def convert(src: Path, dst: Path) -> str | None:
        calls.append(src)
        dst.write_bytes(b"onnx")
        return None

    monkeypatch.setattr(local_engine.convert, "savedmodel_to_onnx", convert)
    dest = tmp_path / "onnx" / "m.onnx"
    assert _onnx_for(tmp_path / "m", dest) == dest and dest.read_bytes() == b"onnx"
    assert _onnx_for(tmp_path / "m", dest) == dest
    assert calls == [tmp_path / "m"]
    assert sorted(p.name for p in dest.parent.iterdir()) == ["m.onnx"]


def test_a_failed_conversion_is_an_error_and_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def convert(src: Path, dst: Path) -> str | None:
        dst.write_bytes(b"half")
        return "tf2onnx failed: boom"

    monkeypatch.setattr(local_engine.convert, "savedmodel_to_onnx", convert)
    dest = tmp_path / "onnx" / "m.onnx"
    with pytest.raises(RuntimeError, match="tf2onnx failed: boom"):
        _onnx_for(tmp_path / "m", dest)
    assert list(dest.parent.iterdir()) == []
