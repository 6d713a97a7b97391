"""The `report` flags no other test covers: --max-cards, --no-thumbnails and --gcs."""

from __future__ import annotations

from pathlib import Path

import pytest

from sqlrunner.cli import main
from tests.sqlrunner.test_report_html import TABLE_ID, Lake, make_lake


@pytest.fixture
def lake(tmp_path: Path, sample_images: Path) -> Lake:
    return make_lake(tmp_path / "lake", sample_images)


def report(lake: Lake, out: Path, *flags: str) -> str:
    args = ["report", "--local", "--home", str(lake.home), "--table", TABLE_ID, "--out", str(out)]
    assert main([*args, *flags]) == 0
    return out.read_text()


def test_max_cards_caps_the_cards_and_says_so(
    lake: Lake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = report(lake, tmp_path / "r.html", "--max-cards", "3")
    assert f"wrote {tmp_path / 'r.html'} (3 of 8 images as cards)" in capsys.readouterr().out
    assert page.count('<article class="card') == 3
    assert "Showing the first 3 of 8 images" in page


def test_no_thumbnails_leaves_every_image_out(lake: Lake, tmp_path: Path) -> None:
    with_images = report(lake, tmp_path / "a.html")
    without = report(lake, tmp_path / "b.html", "--no-thumbnails")
    assert with_images.count('<img class="thumb"') == 7  # every decodable image
    assert without.count('<img class="thumb"') == 0
    assert without.count("no preview: thumbnails not requested") == 8


def test_gcs_reads_the_objects_from_cloud_storage_not_home(
    lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # No emulator and no credentials: HOME/gcs serves the thumbnails, --gcs goes to
    # Cloud Storage and stops at the missing credentials.
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-credentials.json"))
    assert report(lake, tmp_path / "a.html").count('<img class="thumb"') == 7
    capsys.readouterr()
    code = main(
        ["report", "--local", "--gcs", "--home", str(lake.home), "--table", TABLE_ID,
         "--out", str(tmp_path / "b.html")]
    )  # fmt: skip
    assert code == 1
    assert capsys.readouterr().err.startswith(
        "error: no Google Cloud credentials for the thumbnails"
    )
    assert not (tmp_path / "b.html").exists()
