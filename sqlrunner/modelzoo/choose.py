"""Which ResNet-50 the demo runs: the real one if it is here or can be fetched, else the stand-in."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import SqlRunnerError
from sqlrunner.modelzoo.fetch import DEFAULT_URL, fetch_model, read_provenance
from sqlrunner.modelzoo.marker import read_marker
from sqlrunner.modelzoo.signature import verify_signature


@dataclass(frozen=True)
class ModelChoice:
    """The SavedModel directory to use and how to describe it to the user."""

    path: Path
    trained: bool
    description: str
    # Why the real model was not used, when it was not.
    fallback_reason: str | None = None


def choose_model(
    models_dir: Path,
    standin_cache: Path,
    *,
    allow_network: bool = True,
    url: str = DEFAULT_URL,
    timeout: float = 5.0,
    say: Callable[[str], None] = lambda _: None,
) -> ModelChoice:
    """The verified real model at `models_dir`, else a fresh download there, else the stand-in."""
    reason = _real_model_problem(models_dir)
    if reason is None:
        return _real(models_dir, "found")
    if allow_network:
        say(f"no usable model in {models_dir} ({reason}); trying to download it")
        try:
            fetch_model(models_dir, url, timeout=timeout)
            return _real(models_dir, "downloaded")
        except SqlRunnerError as exc:
            reason = str(exc)
    from sqlrunner.modelzoo.standin import cached_standin

    say(f"real model not available: {reason}")
    say("building (or reusing) the untrained ResNet-50 stand-in")
    path = cached_standin(standin_cache)
    marker = read_marker(path)
    note = marker.note if marker else "UNTRAINED stand-in"
    return ModelChoice(path, trained=False, description=note, fallback_reason=reason)


def _real_model_problem(models_dir: Path) -> str | None:
    if not (models_dir / "saved_model.pb").is_file():
        return "not downloaded; `make model` fetches it"
    marker = read_marker(models_dir)
    if marker is not None:
        return f"it is a generated {marker.model}, not the real model"
    try:
        verify_signature(models_dir)
    except SqlRunnerError as exc:
        return str(exc)
    return None


def _real(models_dir: Path, how: str) -> ModelChoice:
    provenance = read_provenance(models_dir)
    source = f" from {provenance.final_url} (sha256 {provenance.sha256[:12]})" if provenance else ""
    return ModelChoice(
        models_dir, trained=True, description=f"real ResNet-50 SavedModel ({how}){source}"
    )
