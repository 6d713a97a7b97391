"""Each test model converted once per session, however many lakes it is created in.

The engine keeps a conversion under HOME/models/<sha256>/ (the hash of the model's
files), so a lake that already holds that directory converts nothing. `ConversionCache`
keeps every conversion of the session in one directory: in this process it stands in for
`local_engine.models._prepare` when the hash is known, and `seed` / `harvest` carry the
directories into and out of a lake a subprocess (the demo, `run --local`) works on.
Several processes (pytest-xdist's workers) may share one root: a conversion runs under a
lock on its hash, so a model is converted once however many workers ask for it.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from local_engine.records import ModelRecord
from tests.support.locks import held

RECORD = "record.json"

Prepare = Callable[[str, str, str, Path, "str | None"], ModelRecord]


class ConversionCache:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.converted = 0  # conversions actually run in this process

    def seed(self, home: Path) -> None:
        """Copy every cached conversion into HOME/models/ (before the lake is used)."""
        for entry in self._entries():
            target = home / "models" / entry.name
            if not target.exists():
                shutil.copytree(entry, target)

    def harvest(self, home: Path) -> None:
        """Keep the conversions a lake made (after a subprocess used it)."""
        models = home / "models"
        for entry in sorted(models.iterdir()) if models.is_dir() else ():
            if (entry / RECORD).is_file():
                self._keep(entry)

    def wrap(self, prepare: Prepare) -> Prepare:
        def cached(
            model_type: str, model_path: str, content_hash: str, staging: Path, main: str | None
        ) -> ModelRecord:
            with held(self.root / f".{content_hash}.lock"):
                saved = self.root / content_hash
                if (saved / RECORD).is_file():
                    for item in saved.iterdir():
                        if item.name not in (RECORD, "source"):
                            copy = shutil.copytree if item.is_dir() else shutil.copy2
                            copy(item, staging / item.name)
                    record = ModelRecord.from_json((saved / RECORD).read_text())
                    return dataclasses.replace(record, model_path=model_path)
                record = prepare(model_type, model_path, content_hash, staging, main)
                self.converted += 1
                (staging / RECORD).write_text(record.to_json())
                self._keep(staging, content_hash)
                (staging / RECORD).unlink()
                return record

        return cached

    def _entries(self) -> list[Path]:
        return sorted(p for p in self.root.iterdir() if (p / RECORD).is_file())

    def _keep(self, directory: Path, name: str | None = None) -> None:
        target = self.root / (name or directory.name)
        if target.exists():
            return
        partial = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=self.root))
        try:
            shutil.copytree(directory, partial / "entry")
            try:
                (partial / "entry").rename(target)
            except OSError:
                if not (target / RECORD).is_file():  # not another process that kept it first
                    raise
        finally:
            shutil.rmtree(partial, ignore_errors=True)
