"""The ONNX file that cases A and BF16 run: the engine's own conversion when it has one.

The engine caches converted models under HOME/models/<sha256>/ (docs/engine.md); using
that file makes A "the same converted model" as B. If the engine left no .onnx there,
the SavedModel is converted here with tf2onnx instead, and the report says so.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def engine_onnx(home: Path) -> Path | None:
    """The newest .onnx file under HOME/models/, if the engine wrote one."""
    found = sorted((home / "models").glob("*/**/*.onnx"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None


def convert_with_tf2onnx(savedmodel_dir: Path, dest: Path, opset: int = 17) -> Path:
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.with_suffix(".tmp.onnx")
    command = [sys.executable, "-m", "tf2onnx.convert", "--saved-model", str(savedmodel_dir)]
    command += ["--output", str(staging), "--opset", str(opset)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"tf2onnx failed:\n{completed.stderr[-4000:]}")
    staging.replace(dest)
    return dest
