"""The predictions report as one self-contained HTML page: inline CSS, SVG and script.

A Content-Security-Policy allows only inline styles, the page's own script (by its hash)
and data: images, so the page can neither fetch anything nor run an injected script even
if a value slipped through unescaped.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import datetime
from html import escape
from string import Template

from sqlrunner.report_data import ImagePrediction, PredictionsSummary, ReportData
from sqlrunner.report_thumbnails import Thumbnail

_PAGE = Template("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="$csp">
<title>$model_title predictions report: $table_id</title>
<style>
:root { --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --accent: #2f6fde; --skip: #b44d12; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f5f7fa; }
header, main { max-width: 1180px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; }
.sub { color: var(--muted); margin: 0; word-break: break-all; }
nav a { display: inline-block; margin: 10px 14px 0 0; color: var(--accent); }
.notice { margin: 12px 0 0; padding: 10px 14px; border-radius: 8px; background: #fff4e5; border: 1px solid #f0b46b; color: var(--skip); font-weight: 600; }
.summary { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin-top: 20px; }
@media (max-width: 640px) { .summary { grid-template-columns: repeat(2, 1fr); } }
.stat { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.stat .value { display: block; font-size: 24px; font-weight: 600; }
.stat .name { color: var(--muted); }
.stat.wide { grid-column: span 2; }
.stat.wide .value { font-size: 14px; font-weight: 600; word-break: break-all; }
.skips li { margin: 2px 0; }
.skips .n { color: var(--skip); font-weight: 600; }
.panel { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px; }
.chart svg { display: block; width: 100%; max-width: 760px; height: auto; }
.chart .bar { fill: var(--accent); }
.chart text { font-size: 13px; fill: var(--ink); }
.count { color: var(--muted); }
.count.capped { color: var(--skip); font-weight: 600; }
#filter { width: 100%; max-width: 360px; padding: 7px 10px; border: 1px solid #cbd2d9; border-radius: 6px; font: inherit; }
#filter-count { color: var(--muted); margin: 6px 0 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr)); gap: 14px; padding-bottom: 40px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 10px; display: flex; flex-direction: column; }
.card[hidden] { display: none; }
.card.skipped { border-color: #f0c8a8; }
.thumb { width: 100%; height: 160px; object-fit: contain; background: #eef1f4; border-radius: 4px; }
.thumb.none { display: flex; align-items: center; justify-content: center; text-align: center; color: var(--muted); padding: 10px; font-size: 12px; }
.card h3 { font-size: 13px; margin: 8px 0 0; word-break: break-all; }
.meta { color: var(--muted); margin: 0 0 6px; font-size: 12px; }
.labels { list-style: none; margin: 0; padding: 0; }
.label { display: grid; grid-template-columns: 1fr auto; column-gap: 6px; margin: 4px 0; font-size: 12px; }
.label-name { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.label[data-rank="1"] .label-name { font-weight: 600; }
.label-score { color: var(--muted); font-variant-numeric: tabular-nums; }
.track { grid-column: 1 / -1; height: 6px; background: #eef1f4; border-radius: 3px; overflow: hidden; }
.track span { display: block; height: 100%; background: var(--accent); }
.skip-reason { color: var(--skip); margin: 4px 0; font-weight: 600; }
</style>
</head>
<body>
<header>
<h1>$model_title predictions</h1>
<p class="sub">$table_id &middot; $source &middot; generated $generated_at</p>
$links
$notices
</header>
<main>
<section class="summary" aria-label="Summary">
$stats
</section>
$skips
<section class="chart">
<h2>Most frequent top-1 labels</h2>
<div class="panel">$chart</div>
</section>
<section>
<h2>Images</h2>
<p class="count$count_class" id="card-count">$count_text</p>
<input type="search" id="filter" placeholder="Filter by label or file name" aria-label="Filter cards">
<p id="filter-count" aria-live="polite"></p>
<div class="cards">
$cards
</div>
</section>
</main>
<script>$script</script>
</body>
</html>
""")

# The page's one script, allowed by its hash: an injected script would not run even if
# a value slipped through unescaped.
_SCRIPT = """
(function () {
  var input = document.getElementById("filter");
  var status = document.getElementById("filter-count");
  var cards = Array.prototype.slice.call(document.querySelectorAll(".card"));
  function update() {
    var query = input.value.trim().toLowerCase();
    var shown = 0;
    cards.forEach(function (card) {
      var match = query === "" || card.dataset.search.indexOf(query) !== -1;
      card.hidden = !match;
      if (match) { shown += 1; }
    });
    status.textContent = shown + " of " + cards.length + " cards match";
  }
  input.addEventListener("input", update);
  update();
}());
"""
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode("ascii")
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    f"script-src 'sha256-{_SCRIPT_HASH}'; base-uri 'none'; form-action 'none'"
)
# Only these become clickable: a link from an outputs file could say `javascript:...`.
_LINK_SCHEMES = ("https://", "http://")
_THUMBNAIL_URI = re.compile(r"data:image/jpeg;base64,[A-Za-z0-9+/]*={0,2}")

_CHART_ROW = 26
_CHART_LABEL_WIDTH = 230
_CHART_BAR_WIDTH = 440
_CHART_WIDTH = 760


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "never"


def _size(size: int | None) -> str:
    if size is None:
        return "size unknown"
    if size < 1024:
        return f"{size:,} bytes"
    if size < 1024**2:
        return f"{size / 1024:,.1f} KB"
    return f"{size / 1024**2:,.1f} MB"


def _stat(name: str, value: str, key: str, wide: bool = False) -> str:
    css = "stat wide" if wide else "stat"
    return (
        f'<div class="{css}" data-stat="{key}"><span class="value">{_e(value)}</span>'
        f'<span class="name">{_e(name)}</span></div>'
    )


def _stats(summary: PredictionsSummary) -> str:
    models = ", ".join(run.model_id or "(none)" for run in summary.models) or "none"
    first = min(
        (r.first_predicted_at for r in summary.models if r.first_predicted_at), default=None
    )
    last = max((r.last_predicted_at for r in summary.models if r.last_predicted_at), default=None)
    when = _when(last) if first == last else f"{_when(first)} to {_when(last)}"
    return "\n".join(
        (
            _stat("images", f"{summary.images:,}", "images"),
            _stat("labelled", f"{summary.labelled:,}", "labelled"),
            _stat("skipped", f"{summary.skipped:,}", "skipped"),
            _stat("distinct top-1 labels", f"{summary.distinct_top1_labels:,}", "distinct"),
            _stat("model" if len(summary.models) < 2 else "models", models, "model", wide=True),
            _stat("predicted", when, "predicted_at", wide=True),
        )
    )


def _skips(summary: PredictionsSummary) -> str:
    if not summary.skip_reasons:
        return ""
    items = "".join(
        f'<li><span class="n">{count:,}</span> {_e(reason)}</li>'
        for reason, count in summary.skip_reasons
    )
    return f'<section class="skips"><h2>Skipped images</h2><ul>{items}</ul></section>'


def _chart(summary: PredictionsSummary) -> str:
    counts = summary.top1_counts
    if not counts:
        return '<p class="count">No image was labelled.</p>'
    largest = max(count for _, count in counts)
    height = _CHART_ROW * len(counts) + 8
    rows = []
    for index, (label, count) in enumerate(counts):
        y = 4 + index * _CHART_ROW
        width = max(2, round(_CHART_BAR_WIDTH * count / largest))
        rows.append(
            f'<g class="row" data-label="{_e(label)}" data-count="{count}">'
            f'<text x="{_CHART_LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end">{_e(label)}</text>'
            f'<rect class="bar" x="{_CHART_LABEL_WIDTH}" y="{y + 3}" width="{width}" height="18" rx="3"/>'
            f'<text x="{_CHART_LABEL_WIDTH + width + 6}" y="{y + 16}">{count:,}</text></g>'
        )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_CHART_WIDTH} {height}" '
        f'role="img" aria-label="Images per top-1 label">{"".join(rows)}</svg>'
    )


def _thumbnail(card: ImagePrediction, thumbnail: Thumbnail | None, name: str) -> str:
    if thumbnail and thumbnail.data_uri and _THUMBNAIL_URI.fullmatch(thumbnail.data_uri):
        return f'<img class="thumb" src="{thumbnail.data_uri}" alt="{_e(name)}">'
    if thumbnail is None:
        reason = "thumbnails not requested"
    else:
        reason = thumbnail.problem or "not a JPEG preview"
    return f'<div class="thumb none">no preview: {_e(reason)}</div>'


def _card(card: ImagePrediction, thumbnail: Thumbnail | None) -> str:
    name = card.uri.rsplit("/", 1)[-1]
    search = " ".join([card.uri, *(label.label for label in card.top_labels)]).lower()
    meta = f"{_e(card.content_type or 'unknown type')} &middot; {_e(_size(card.size))}"
    if card.skip_reason is not None:
        body = f'<p class="skip-reason">Skipped: {_e(card.skip_reason)}</p>'
    else:
        items = "".join(
            f'<li class="label" data-rank="{_e(label.rank)}" '
            f'data-class-index="{_e(label.class_index)}">'
            f'<span class="label-name" title="{_e(label.label)}">{_e(label.label)}</span>'
            f'<span class="label-score">{label.score:.1%}</span>'
            f'<span class="track"><span style="width:{max(0.0, min(label.score, 1.0)) * 100:.1f}%">'
            "</span></span></li>"
            for label in card.top_labels
        )
        body = f'<ol class="labels">{items}</ol>'
    css = "card skipped" if card.skip_reason is not None else "card"
    return (
        f'<article class="{css}" data-uri="{_e(card.uri)}" data-search="{_e(search)}">'
        f"{_thumbnail(card, thumbnail, name)}"
        f'<h3 title="{_e(card.uri)}">{_e(name)}</h3><p class="meta">{meta}</p>{body}</article>'
    )


def _count_text(data: ReportData) -> str:
    total = data.summary.images
    if not data.capped:
        return f"Showing all {total:,} images, ordered by URI."
    return (
        f"Showing the first {len(data.cards):,} of {total:,} images, ordered by URI; "
        "the counts and the chart above cover all of them (raise --max-cards to see more cards)."
    )


def _links(data: ReportData) -> str:
    if not data.links:
        return ""
    anchors = "".join(
        f'<a href="{_e(link.url)}" rel="noopener noreferrer">{_e(link.text)}</a>'
        if link.url.startswith(_LINK_SCHEMES)
        else f"<span>{_e(link.text)}: {_e(link.url)}</span>"
        for link in data.links
    )
    return f"<nav>{anchors}</nav>"


def _notices(data: ReportData) -> str:
    return "".join(f'<p class="notice" role="alert">{_e(notice)}</p>' for notice in data.notices)


def render_report(data: ReportData) -> str:
    return _PAGE.substitute(
        csp=CONTENT_SECURITY_POLICY,
        script=_SCRIPT,
        notices=_notices(data),
        model_title=_e(data.model_title),
        table_id=_e(data.table_id),
        source=_e(data.source),
        generated_at=_e(_when(data.generated_at)),
        links=_links(data),
        stats=_stats(data.summary),
        skips=_skips(data.summary),
        chart=_chart(data.summary),
        count_class=" capped" if data.capped else "",
        count_text=_e(_count_text(data)),
        cards="\n".join(_card(card, data.thumbnails.get(card.uri)) for card in data.cards),
    )
