"""What the predictions report shows: the rows, the summary and the links, as plain data.

`sqlrunner.report` fills these from the predictions table; `sqlrunner.report_html` draws them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlrunner.report_thumbnails import Thumbnail


@dataclass(frozen=True)
class ScoredLabel:
    rank: int
    class_index: int
    label: str
    score: float


@dataclass(frozen=True)
class ImagePrediction:
    """One row of the predictions table (docs/pipeline.md)."""

    uri: str
    content_type: str | None
    size: int | None
    skip_reason: str | None
    top_labels: tuple[ScoredLabel, ...]
    model_id: str | None
    predicted_at: datetime | None


@dataclass(frozen=True)
class ModelRun:
    model_id: str | None
    images: int
    first_predicted_at: datetime | None
    last_predicted_at: datetime | None


@dataclass(frozen=True)
class PredictionsSummary:
    images: int
    labelled: int
    skip_reasons: tuple[tuple[str, int], ...]
    models: tuple[ModelRun, ...]
    top1_counts: tuple[tuple[str, int], ...]
    distinct_top1_labels: int

    @property
    def skipped(self) -> int:
        return sum(count for _, count in self.skip_reasons)


@dataclass(frozen=True)
class ReportLink:
    text: str
    url: str


@dataclass(frozen=True)
class ReportData:
    table_id: str
    source: str
    summary: PredictionsSummary
    cards: tuple[ImagePrediction, ...]
    thumbnails: Mapping[str, Thumbnail]
    generated_at: datetime
    links: tuple[ReportLink, ...] = field(default=())
    # Warnings shown at the top of the page, e.g. that the model is an untrained stand-in.
    notices: tuple[str, ...] = field(default=())
    # The model named in the page's title and header.
    model_title: str = "ResNet-50"

    @property
    def capped(self) -> bool:
        return len(self.cards) < self.summary.images
