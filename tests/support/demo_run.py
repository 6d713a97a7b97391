"""What one demo run leaves for the tests that read it: its lake, model, result and output."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DemoRun:
    home: Path
    models_dir: Path
    result: object  # sqlrunner.demo.DemoResult
    printed: str
