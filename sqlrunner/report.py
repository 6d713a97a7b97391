"""The predictions report: what it asks the predictions table, and the page it writes.

The same BigQuery SQL runs on the local engine (`--local`) or on BigQuery (`--outputs`).
Counts and the label chart come from aggregates over the whole table; only the image
cards are capped, and the page says how many it shows out of how many.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bigquery_facts import LOCAL_PROJECT, TABLE_ID_WORDING, is_table_id
from local_engine.engine import WAREHOUSE_FILE
from local_engine.errors import EngineError
from pipeline.errors import SqlRunnerError
from pipeline.outputs import StackOutputs, read_local_outputs
from sqlrunner.report_data import (
    ImagePrediction,
    ModelRun,
    PredictionsSummary,
    ReportData,
    ReportLink,
    ScoredLabel,
)
from sqlrunner.report_html import render_report
from sqlrunner.report_thumbnails import (
    ObjectFetcher,
    gcs_fetcher,
    local_bucket_fetcher,
    thumbnails_for,
)

if TYPE_CHECKING:
    from local_engine.engine import LocalEngine

QueryRunner = Callable[[str], list[dict[str, Any]]]
"""Runs one BigQuery Standard SQL query and returns its rows as dicts."""

DEFAULT_MAX_CARDS = 500
CHART_LABELS = 10
DEFAULT_LOCAL_TABLE = f"{LOCAL_PROJECT}.resnet_inference_test.predictions"
REPORT_FILE_NAME = "report.html"


@dataclass(frozen=True)
class ReportQueries:
    """The BigQuery Standard SQL the report runs, for one predictions table."""

    summary: str
    skip_reasons: str
    models: str
    top1_counts: str
    cards: str


def quoted_table(table_id: str) -> str:
    """`project.dataset.table` (or `dataset.table`) validated and back-quoted per part."""
    unquoted = table_id.replace("`", "")
    if not is_table_id(unquoted):
        raise SqlRunnerError(f"predictions table {table_id!r}: {TABLE_ID_WORDING}")
    parts = unquoted.split(".")
    if len(parts) == 2:
        parts = [LOCAL_PROJECT, *parts]
    return ".".join(f"`{part}`" for part in parts)


def report_queries(table_id: str, max_cards: int = DEFAULT_MAX_CARDS) -> ReportQueries:
    if max_cards < 0:
        raise SqlRunnerError("--max-cards must be 0 or more")
    table = quoted_table(table_id)
    return ReportQueries(
        summary=(
            "SELECT COUNT(*) AS images, COUNTIF(skip_reason IS NULL) AS labelled, "
            f"COUNT(DISTINCT top1_label) AS distinct_top1_labels FROM {table}"
        ),
        skip_reasons=(
            f"SELECT skip_reason, COUNT(*) AS images FROM {table} "
            "WHERE skip_reason IS NOT NULL GROUP BY skip_reason ORDER BY images DESC, skip_reason"
        ),
        models=(
            "SELECT model_id, COUNT(*) AS images, MIN(predicted_at) AS first_predicted_at, "
            f"MAX(predicted_at) AS last_predicted_at FROM {table} "
            "GROUP BY model_id ORDER BY model_id"
        ),
        top1_counts=(
            f"SELECT top1_label AS label, COUNT(*) AS images FROM {table} "
            "WHERE top1_label IS NOT NULL GROUP BY top1_label "
            f"ORDER BY images DESC, label LIMIT {CHART_LABELS}"
        ),
        cards=(
            "SELECT uri, content_type, size, skip_reason, top_labels, model_id, predicted_at "
            f"FROM {table} ORDER BY uri LIMIT {max_cards}"
        ),
    )


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        raise SqlRunnerError(f"predicted_at should be a TIMESTAMP, got {value!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _labels(value: Any) -> tuple[ScoredLabel, ...]:
    labels = [
        ScoredLabel(
            rank=int(item["rank"]),
            class_index=int(item["class_index"]),
            label=str(item["label"]),
            score=float(item["score"]),
        )
        for item in value or ()
    ]
    return tuple(sorted(labels, key=lambda label: label.rank))


def image_prediction(row: Mapping[str, Any]) -> ImagePrediction:
    return ImagePrediction(
        uri=str(row["uri"]),
        content_type=row.get("content_type"),
        size=None if row.get("size") is None else int(row["size"]),
        skip_reason=row.get("skip_reason"),
        top_labels=_labels(row.get("top_labels")),
        model_id=row.get("model_id"),
        predicted_at=_timestamp(row.get("predicted_at")),
    )


def read_summary(run: QueryRunner, queries: ReportQueries) -> PredictionsSummary:
    totals = run(queries.summary)[0]
    return PredictionsSummary(
        images=int(totals["images"] or 0),
        labelled=int(totals["labelled"] or 0),
        distinct_top1_labels=int(totals["distinct_top1_labels"] or 0),
        skip_reasons=tuple(
            (str(row["skip_reason"]), int(row["images"])) for row in run(queries.skip_reasons)
        ),
        models=tuple(
            ModelRun(
                model_id=row["model_id"],
                images=int(row["images"]),
                first_predicted_at=_timestamp(row["first_predicted_at"]),
                last_predicted_at=_timestamp(row["last_predicted_at"]),
            )
            for row in run(queries.models)
        ),
        top1_counts=tuple(
            (str(row["label"]), int(row["images"])) for row in run(queries.top1_counts)
        ),
    )


def build_report(
    run: QueryRunner,
    table_id: str,
    *,
    source: str,
    fetch: ObjectFetcher | None,
    max_cards: int = DEFAULT_MAX_CARDS,
    links: Sequence[ReportLink] = (),
    notices: Sequence[str] = (),
    model_title: str = "ResNet-50",
) -> ReportData:
    """Query the predictions table and fetch thumbnails (none when `fetch` is None)."""
    queries = report_queries(table_id, max_cards)
    try:
        summary = read_summary(run, queries)
    except SqlRunnerError as exc:
        raise SqlRunnerError(f"cannot read the predictions table {table_id}: {exc}") from exc
    cards = tuple(image_prediction(row) for row in run(queries.cards))
    thumbnails = thumbnails_for((card.uri for card in cards), fetch) if fetch else {}
    return ReportData(
        table_id=table_id,
        source=source,
        summary=summary,
        cards=cards,
        thumbnails=thumbnails,
        generated_at=datetime.now(UTC),
        links=tuple(links),
        notices=tuple(notices),
        model_title=model_title,
    )


def write_report_html(data: ReportData, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(render_report(data), encoding="utf-8")
    os.replace(partial, out)
    return out


def local_query_runner(engine: LocalEngine) -> QueryRunner:
    """Queries through the local engine, which runs the BigQuery SQL on DuckDB."""

    def run(sql: str) -> list[dict[str, Any]]:
        try:
            table = engine.execute(sql).table
        except EngineError as exc:
            raise SqlRunnerError(str(exc)) from exc
        if table is None:
            raise SqlRunnerError(f"the local engine returned no rows for: {sql}")
        rows: list[dict[str, Any]] = table.to_pylist()
        return rows

    return run


def write_local_report(
    home: Path,
    out: Path | None = None,
    *,
    table_id: str | None = None,
    max_cards: int = DEFAULT_MAX_CARDS,
    thumbnails: bool = True,
    use_gcs: bool = False,
) -> tuple[Path, ReportData]:
    """The report over the local lake in HOME; `make demo` calls this. Returns (path, data).

    The table is `table_id`, else HOME/outputs.json's `predictions_table_id`, else the
    default dataset's `predictions`. Thumbnails come from wherever the engine reads
    objects: HOME/gcs, or Cloud Storage with `use_gcs` or STORAGE_EMULATOR_HOST.
    """
    from local_engine.engine import LocalEngine

    if not (home / WAREHOUSE_FILE).exists():
        raise SqlRunnerError(
            f"no local lake at {home} (no {WAREHOUSE_FILE}); `make demo` makes one"
        )
    outputs = read_local_outputs(home)
    table_id = table_id or (outputs.predictions_table_id if outputs else DEFAULT_LOCAL_TABLE)
    with LocalEngine(home, use_gcs=use_gcs) as engine:
        fetch: ObjectFetcher | None = None
        if thumbnails:
            fetch = gcs_fetcher(None) if engine.use_gcs else local_bucket_fetcher(home)
        data = build_report(
            local_query_runner(engine),
            table_id,
            source=f"local lake {home}",
            fetch=fetch,
            max_cards=max_cards,
            notices=standin_notices(home, outputs),
            model_title=outputs.model_description
            if outputs and outputs.model_description
            else "ResNet-50",
        )
    return write_report_html(data, out or home / REPORT_FILE_NAME), data


def standin_notices(home: Path, outputs: StackOutputs | None) -> tuple[str, ...]:
    """A warning when the lake's model files are a generated stand-in (they carry STANDIN.json),
    and a note when a trained generated model is not the walkthrough's ResNet-50."""
    from sqlrunner.modelzoo.marker import read_marker

    if outputs is None or not outputs.model_files_uri.startswith("gs://"):
        return ()
    folder = outputs.model_files_uri.removeprefix("gs://").rstrip("*").rstrip("/")
    marker = read_marker(home / "gcs" / folder)
    if marker is None:
        return ()
    if marker.trained:
        return (f"Model {outputs.model_id}: {marker.note}.",)
    return (
        f"Model {outputs.model_id} is an untrained stand-in: its labels mean nothing. {marker.note}",
    )


def bigquery_query_runner(project: str, location: str) -> QueryRunner:
    """Queries as BigQuery jobs in `project` (`pipeline.bigquery_client` makes the client)."""
    from google.api_core import exceptions as api_exceptions

    from pipeline.bigquery_client import make_client

    client = make_client(project, location)

    def run(sql: str) -> list[dict[str, Any]]:
        try:
            return [dict(row.items()) for row in client.query(sql).result()]
        except api_exceptions.GoogleAPICallError as exc:
            raise SqlRunnerError(f"BigQuery: {exc.message}") from None

    return run


def stack_links(outputs: StackOutputs) -> tuple[ReportLink, ...]:
    return (
        ReportLink("Open in Looker Studio", outputs.looker_studio_url),
        ReportLink("Predictions table in the BigQuery console", outputs.predictions_console_url),
        ReportLink("Model in the BigQuery console", outputs.model_console_url),
    )


def write_bigquery_report(
    outputs: StackOutputs,
    out: Path,
    *,
    max_cards: int = DEFAULT_MAX_CARDS,
    thumbnails: bool = True,
) -> tuple[Path, ReportData]:
    """The report over a deployed stack's predictions table; thumbnails from Cloud Storage."""
    data = build_report(
        bigquery_query_runner(outputs.project, outputs.location),
        outputs.predictions_table_id,
        source=f"BigQuery project {outputs.project}",
        fetch=gcs_fetcher(outputs.project) if thumbnails else None,
        max_cards=max_cards,
        links=stack_links(outputs),
    )
    return write_report_html(data, out), data
