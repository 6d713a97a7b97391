"""What every benchmark process shares: where the photos, tensors and models are."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Workspace:
    """Paths and sizes fixed for one benchmark run; saved as JSON for the case processes."""

    root: Path
    photos_dir: Path
    savedmodel_dir: Path
    onnx_path: Path
    count: int
    batch_size: int
    rounds: int
    threads: int

    @property
    def tensors_path(self) -> Path:
        return self.root / "tensors.npy"

    @property
    def spec_path(self) -> Path:
        return self.root / "workspace.json"

    def photos(self) -> list[Path]:
        return sorted(self.photos_dir.glob("photo_*.jpg"))[: self.count]

    def tensors(self) -> np.ndarray:
        tensors: np.ndarray = np.load(self.tensors_path, mmap_mode="r")
        return tensors

    def probs_path(self, case: str) -> Path:
        return self.root / f"probs_{case}.npy"

    def save(self) -> Path:
        body = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
        self.spec_path.write_text(json.dumps(body, indent=2) + "\n")
        return self.spec_path

    @classmethod
    def load(cls, spec_path: Path) -> Workspace:
        body = json.loads(spec_path.read_text())
        return cls(
            root=Path(body["root"]),
            photos_dir=Path(body["photos_dir"]),
            savedmodel_dir=Path(body["savedmodel_dir"]),
            onnx_path=Path(body["onnx_path"]),
            count=int(body["count"]),
            batch_size=int(body["batch_size"]),
            rounds=int(body["rounds"]),
            threads=int(body["threads"]),
        )
