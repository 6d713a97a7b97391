"""Generated models cached by their recipe: built once in a staging folder, then moved in."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def recipe_key(recipe: dict[str, Any]) -> str:
    """A short hash of everything that decides a generated model's weights."""
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def build_into(target: Path, build: Callable[[Path], object]) -> Path:
    """`build(folder)` in a staging folder beside `target`, then moved to `target` whole.

    A build that fails or is interrupted leaves nothing at `target`; when two processes
    build at once, the first to finish wins and the other's copy is dropped.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        build(staging / "model")
        try:
            (staging / "model").rename(target)
        except OSError:
            if not (target / "saved_model.pb").is_file():  # not a concurrent build that won
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
