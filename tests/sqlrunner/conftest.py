"""One run of the demo for every test that reads what it leaves: the walkthrough end to end once."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from sqlrunner.modelzoo.cache import build_into
from sqlrunner.modelzoo.marker import MARKER_FILE
from tests.support.demo_run import DemoRun
from tests.support.locks import held


@pytest.fixture(scope="session")
def demo_models_dir(tiny_savedmodel: Path) -> Path:
    """The tiny model has the real signature; without its marker the demo takes it as real.
    One copy per run, shared by pytest-xdist's workers (so one conversion of it)."""
    models = tiny_savedmodel.parent
    with held(models / ".resnet_50.lock"):
        dest = models / "demo" / "resnet_50"
        if not dest.is_dir():
            build_into(
                dest,
                lambda folder: shutil.copytree(
                    tiny_savedmodel, folder, ignore=shutil.ignore_patterns(MARKER_FILE)
                ),
            )
        return dest


@pytest.fixture(scope="session")
def demo_run(demo_models_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    from sqlrunner.demo import DemoOptions, run_demo

    home = tmp_path_factory.mktemp("demo") / "lake"
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, color_system=None)
    result = run_demo(
        DemoOptions(home=home, models_dir=demo_models_dir, allow_network=False), console
    )
    yield DemoRun(home, demo_models_dir, result, buffer.getvalue())
