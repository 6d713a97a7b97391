"""The report over a real local run: `make demo`'s pipeline (sql/ on the local engine, the
tiny model) followed by `report --local`, opened in headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlrunner.modelzoo.marker import MARKER_FILE
from tests.sqlrunner.test_report_html import CHROMIUM, CardParser, chromium
from tests.support.demo_run import DemoRun


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
