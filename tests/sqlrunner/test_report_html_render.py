"""What the report page says for given data: sizes, times, counts, the chart and the cards."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from sqlrunner.report_data import (
    ImagePrediction,
    ModelRun,
    PredictionsSummary,
    ReportData,
    ReportLink,
    ScoredLabel,
)
from sqlrunner.report_html import render_report
from sqlrunner.report_thumbnails import Thumbnail

EARLY = datetime(2026, 11, 30, 9, 15, 0, tzinfo=UTC)
LATE = datetime(2026, 12, 1, 18, 0, 5, tzinfo=UTC)


def card(uri: str, size: int | None = 10, skip: str | None = None) -> ImagePrediction:
    labels = (
        ()
        if skip
        else (ScoredLabel(1, 286, "Egyptian cat", 0.625), ScoredLabel(2, 282, "tiger cat", 1.5))
    )
    return ImagePrediction(uri, "image/png", size, skip, labels, "m", EARLY)


def data(
    cards: tuple[ImagePrediction, ...] = (),
    *,
    images: int | None = None,
    models: tuple[ModelRun, ...] = (ModelRun("ds.m", 3, EARLY, EARLY),),
    top1: tuple[tuple[str, int], ...] = (("Egyptian cat", 4), ("tiger cat", 1)),
    skips: tuple[tuple[str, int], ...] = (),
    links: tuple[ReportLink, ...] = (),
    notices: tuple[str, ...] = (),
    thumbnails: dict[str, Thumbnail] | None = None,
) -> ReportData:
    summary = PredictionsSummary(
        images=len(cards) if images is None else images,
        labelled=1234,
        skip_reasons=skips,
        models=models,
        top1_counts=top1,
        distinct_top1_labels=len(top1),
    )
    return ReportData(
        "p.ds.t", "local lake /x", summary, cards, thumbnails or {}, LATE, links, notices
    )


def stat(page: str, key: str) -> str:
    match = re.search(
        rf'data-stat="{key}"><span class="value">([^<]*)</span><span class="name">([^<]*)<', page
    )
    assert match, key
    return f"{match.group(1)} | {match.group(2)}"


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (None, "size unknown"),
        (0, "0 bytes"),
        (1023, "1,023 bytes"),
        (1024, "1.0 KB"),
        (1024**2 - 1, "1,024.0 KB"),
        (1024**2, "1.0 MB"),
        (15 * 1024**2 + 1024**2 // 2, "15.5 MB"),
        (1000 * 1024**2, "1,000.0 MB"),
    ],
)
def test_sizes(size: int | None, shown: str) -> None:
    page = render_report(data((card("gs://b/a.png", size),)))
    assert f'<p class="meta">image/png &middot; {shown}</p>' in page


def test_header_stats_and_times() -> None:
    page = render_report(data((card("gs://b/a.png"),), images=12345))
    assert "<title>ResNet-50 predictions report: p.ds.t</title>" in page
    assert "<h1>ResNet-50 predictions</h1>" in page
    assert "p.ds.t &middot; local lake /x &middot; generated 2026-12-01 18:00:05 UTC" in page
    assert stat(page, "images") == "12,345 | images"
    assert stat(page, "labelled") == "1,234 | labelled"
    assert stat(page, "skipped") == "0 | skipped"
    assert stat(page, "distinct") == "2 | distinct top-1 labels"
    assert stat(page, "model") == "ds.m | model"
    assert stat(page, "predicted_at") == "2026-11-30 09:15:00 UTC | predicted"
    assert '<div class="stat wide" data-stat="model">' in page
    assert '<div class="stat" data-stat="images">' in page


def test_several_models_and_a_time_range() -> None:
    runs = (
        ModelRun("ds.a", 1, EARLY, EARLY),
        ModelRun(None, 1, None, None),
        ModelRun("ds.b", 1, LATE, LATE),
    )
    page = render_report(data(models=runs))
    assert stat(page, "model") == "ds.a, (none), ds.b | models"
    assert (
        stat(page, "predicted_at")
        == "2026-11-30 09:15:00 UTC to 2026-12-01 18:00:05 UTC | predicted"
    )
    assert stat(render_report(data(models=())), "model") == "none | model"
    never = render_report(data(models=(ModelRun("ds.a", 0, None, None),)))
    assert stat(never, "predicted_at") == "never | predicted"


def test_skip_reasons_are_counted() -> None:
    page = render_report(data(skips=(("too big", 1500), ("gif", 2))))
    assert stat(page, "skipped") == "1,502 | skipped"
    assert (
        '<section class="skips"><h2>Skipped images</h2><ul><li><span class="n">1,500</span> too big</li>'
        '<li><span class="n">2</span> gif</li></ul></section>'
    ) in page
    assert '<section class="skips">' not in render_report(data())


def test_the_chart_scales_bars_to_the_largest_count() -> None:
    page = render_report(data(top1=(("a", 1000), ("b", 500), ("c", 1))))
    rows = re.findall(
        r'<g class="row" data-label="(\w)" data-count="(\d+)">.*?<rect class="bar" x="230" y="(\d+)" width="(\d+)"',
        page,
    )
    assert rows == [("a", "1000", "7", "440"), ("b", "500", "33", "220"), ("c", "1", "59", "2")]
    assert 'viewBox="0 0 760 86"' in page
    assert '<text x="676" y="20">1,000</text>' in page
    assert '<text x="222" y="20" text-anchor="end">a</text>' in page
    assert '<p class="count">No image was labelled.</p>' in render_report(data(top1=()))


def test_cards_hold_ranked_labels_scores_and_bars() -> None:
    page = render_report(data((card("gs://b/dir/a.png"),)))
    assert (
        '<article class="card" data-uri="gs://b/dir/a.png" data-search="gs://b/dir/a.png egyptian cat tiger cat">'
        in page
    )
    assert '<h3 title="gs://b/dir/a.png">a.png</h3>' in page
    assert (
        '<li class="label" data-rank="1" data-class-index="286"><span class="label-name" title="Egyptian cat">Egyptian cat</span><span class="label-score">62.5%</span><span class="track"><span style="width:62.5%"></span></span></li>'
        in page
    )
    assert (
        '<span class="label-score">150.0%</span><span class="track"><span style="width:100.0%">'
        in page
    )


def test_a_skipped_card() -> None:
    page = render_report(data((card("gs://b/x.gif", skip="unsupported"),)))
    assert '<article class="card skipped"' in page
    assert '<p class="skip-reason">Skipped: unsupported</p>' in page
    assert '<ol class="labels">' not in page


def test_thumbnails_and_their_absence() -> None:
    uris = ("gs://b/a.png", "gs://b/b.png", "gs://b/c.png")
    thumbs = {
        uris[0]: Thumbnail("data:image/jpeg;base64,AAAA"),
        uris[1]: Thumbnail(None, "too big"),
    }
    page = render_report(data(tuple(card(u) for u in uris), thumbnails=thumbs))
    assert '<img class="thumb" src="data:image/jpeg;base64,AAAA" alt="a.png">' in page
    assert '<div class="thumb none">no preview: too big</div>' in page
    assert '<div class="thumb none">no preview: thumbnails not requested</div>' in page
    odd = render_report(
        data((card(uris[0]),), thumbnails={uris[0]: Thumbnail("data:image/png;base64,AA")})
    )
    assert '<div class="thumb none">no preview: not a JPEG preview</div>' in odd


def test_count_text_says_when_cards_are_capped() -> None:
    shown = render_report(data((card("gs://b/a.png"), card("gs://b/b.png"))))
    assert '<p class="count" id="card-count">Showing all 2 images, ordered by URI.</p>' in shown
    capped = render_report(data((card("gs://b/a.png"),), images=2500))
    assert (
        '<p class="count capped" id="card-count">Showing the first 1 of 2,500 images, ordered by URI;'
        in capped
    )
    assert "raise --max-cards to see more cards" in capped


def test_links_and_notices() -> None:
    page = render_report(
        data(
            links=(ReportLink("Looker", "https://lookerstudio.google.com/x"),),
            notices=("untrained", "second"),
        )
    )
    assert (
        '<nav><a href="https://lookerstudio.google.com/x" rel="noopener noreferrer">Looker</a></nav>'
        in page
    )
    assert (
        '<p class="notice" role="alert">untrained</p><p class="notice" role="alert">second</p>'
        in page
    )
    assert "<nav>" not in render_report(data())
    assert 'class="notice"' not in render_report(data())


def test_the_page_is_put_together_without_stray_text() -> None:
    bare = render_report(data())
    assert "UTC</p>\n\n\n</header>" in bare  # no links, no notices
    assert '</section>\n\n<section class="chart">' in bare  # no skips
    assert '<div class="panel"><p class="count">No image was labelled.</p></div>' in render_report(
        data(top1=())
    )
    full = render_report(
        data(
            (card("gs://b/a.png"), card("gs://b/b.png")),
            top1=(("a", 2), ("b", 1)),
            links=(ReportLink("one", "https://x/1"), ReportLink("two", "https://x/2")),
        )
    )
    assert "</article>\n<article" in full
    assert '</g><g class="row"' in full
    assert '</a><a href="https://x/2"' in full
    assert '</div>\n<div class="stat" data-stat="labelled">' in full
    assert '</span></span></li><li class="label" data-rank="2"' in full
    assert '<div class="stat wide" data-stat="predicted_at">' in full


def test_two_models_are_models_and_a_missing_type_is_unknown() -> None:
    runs = (ModelRun("ds.a", 1, EARLY, EARLY), ModelRun("ds.b", 1, EARLY, EARLY))
    assert stat(render_report(data(models=runs)), "model") == "ds.a, ds.b | models"
    untyped = ImagePrediction("gs://b/a", None, 3, None, (), None, None)
    assert '<p class="meta">unknown type &middot; 3 bytes</p>' in render_report(data((untyped,)))


def test_a_link_that_is_not_http_shows_its_text_and_url() -> None:
    page = render_report(data(links=(ReportLink("Looker", "javascript:alert(1)"),)))
    assert "<nav><span>Looker: javascript:alert(1)</span></nav>" in page


def test_the_capped_sentence_in_full() -> None:
    capped = render_report(data((card("gs://b/a.png"),), images=3))
    assert (
        "Showing the first 1 of 3 images, ordered by URI; the counts and the chart above cover "
        "all of them (raise --max-cards to see more cards).</p>"
    ) in capped
