"""Hostile text in every value the report shows comes out as text, and the CSP is exact."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from html.parser import HTMLParser

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

WHEN = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
PAYLOADS = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(2)>',
    "'><svg onload=alert(3)>",
    "</title></style></textarea><script>alert(4)</script>",
    "&amp; &lt;b&gt; & <!-- -->",
    "javascript:alert(5)",
    "${table_id} $cards",
)
HOSTILE = " | ".join(PAYLOADS)
GOOD_JPEG = "data:image/jpeg;base64,/9j/4AAQSkZJRg=="

# Every element the page draws; anything else in the DOM was injected.
PAGE_TAGS = frozenset(
    [
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "header",
        "h1",
        "h2",
        "h3",
        "p",
        "nav",
        "a",
        "span",
        "main",
        "section",
        "div",
        "svg",
        "g",
        "text",
        "rect",
        "input",
        "article",
        "img",
        "ol",
        "li",
        "ul",
        "script",
    ]
)


class Page(HTMLParser):
    """Elements, attributes and text of the page, as a browser's parser would split them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self.csp: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend((tag, name, value or "") for name, value in attrs)
        values = dict(attrs)
        if tag == "meta" and values.get("http-equiv") == "Content-Security-Policy":
            self.csp.append(values.get("content") or "")
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)

    def handle_comment(self, data: str) -> None:
        raise AssertionError(f"a comment reached the page: {data!r}")


def hostile_report(*, links: tuple[ReportLink, ...] = ()) -> ReportData:
    labels = tuple(ScoredLabel(rank, rank, f"{HOSTILE} {rank}", 0.5 / rank) for rank in (1, 2))
    labelled = ImagePrediction(
        uri=f"gs://bucket/{HOSTILE}.jpg",
        content_type=HOSTILE,
        size=2048,
        skip_reason=None,
        top_labels=labels,
        model_id=HOSTILE,
        predicted_at=WHEN,
    )
    skipped = ImagePrediction(
        uri=f"gs://bucket/{HOSTILE}.gif",
        content_type=f"image/gif{HOSTILE}",
        size=None,
        skip_reason=f"unsupported content type image/gif{HOSTILE}",
        top_labels=(),
        model_id=HOSTILE,
        predicted_at=WHEN,
    )
    summary = PredictionsSummary(
        images=2,
        labelled=1,
        skip_reasons=((f"unsupported content type {HOSTILE}", 1),),
        models=(ModelRun(HOSTILE, 2, WHEN, WHEN),),
        top1_counts=((f"{HOSTILE} 1", 1),),
        distinct_top1_labels=1,
    )
    return ReportData(
        table_id=HOSTILE,
        source=HOSTILE,
        summary=summary,
        cards=(labelled, skipped),
        thumbnails={
            labelled.uri: Thumbnail(f'{GOOD_JPEG}" onload="alert(6)'),
            skipped.uri: Thumbnail(None, HOSTILE),
        },
        generated_at=WHEN,
        links=links,
        notices=(HOSTILE,),
    )


def parse(data: ReportData) -> Page:
    page = Page()
    page.feed(render_report(data))
    page.close()
    return page


HOSTILE_LINKS = (
    ReportLink(HOSTILE, "javascript:alert(7)"),
    ReportLink(HOSTILE, " JavaScript:alert(8)"),
    ReportLink(HOSTILE, "data:text/html,<script>alert(9)</script>"),
    ReportLink(HOSTILE, 'https://lookerstudio.google.com/"><script>alert(10)</script>'),
)


def test_hostile_values_add_no_element_attribute_or_script() -> None:
    page = parse(hostile_report(links=HOSTILE_LINKS))
    assert set(page.tags) <= PAGE_TAGS
    assert page.tags.count("script") == 1
    assert page.tags.count("img") == 0  # the tampered data URI is refused, not drawn
    handlers = [(tag, name) for tag, name, _ in page.attrs if name.startswith("on")]
    assert handlers == []
    assert not any("alert(" in value for tag, name, value in page.attrs if tag == "meta")


def test_hostile_values_come_out_as_the_same_text() -> None:
    text = "".join(parse(hostile_report(links=HOSTILE_LINKS)).text)
    # table id, source, notice, stat, model, skip reasons, labels, uris, content types
    assert text.count(HOSTILE) >= 12
    assert f"Skipped: unsupported content type image/gif{HOSTILE}" in text
    assert f"no preview: {HOSTILE}" in text


def test_only_http_links_are_links() -> None:
    page = parse(hostile_report(links=HOSTILE_LINKS))
    hrefs = [value for tag, name, value in page.attrs if name == "href"]
    assert hrefs == ['https://lookerstudio.google.com/"><script>alert(10)</script>']
    text = "".join(page.text)
    assert "javascript:alert(7)" in text and "data:text/html,<script>alert(9)</script>" in text


def test_every_attribute_value_is_what_was_put_in() -> None:
    page = parse(hostile_report())
    uris = [value for tag, name, value in page.attrs if name == "data-uri"]
    assert uris == [f"gs://bucket/{HOSTILE}.jpg", f"gs://bucket/{HOSTILE}.gif"]
    titles = [value for tag, name, value in page.attrs if tag == "span" and name == "title"]
    assert titles == [f"{HOSTILE} 1", f"{HOSTILE} 2"]


def test_the_csp_is_exact_and_allows_only_the_page_script_by_its_hash() -> None:
    page = parse(hostile_report())
    (script,) = page.scripts
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    assert page.csp == [
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'"
    ]
    assert "getElementById" in script


def test_a_jpeg_thumbnail_is_drawn_as_a_data_uri() -> None:
    data = hostile_report()
    uri = data.cards[0].uri
    page = parse(ReportData(**{**data.__dict__, "thumbnails": {uri: Thumbnail(GOOD_JPEG)}}))
    assert [v for tag, name, v in page.attrs if tag == "img" and name == "src"] == [GOOD_JPEG]
