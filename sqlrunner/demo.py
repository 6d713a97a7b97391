"""`make demo`: the whole job on this machine, no cloud account, one command.

Puts sample photos into the local bucket the walkthrough's URI names, gets a model (the
walkthrough's real ResNet-50 if it is here or downloadable, else the trained
EfficientNet-Lite0 from the model zoo, the untrained stand-in only when asked; every
output names the one used),
copies its files into the lake's bucket the way the stack uploads them, creates the
dataset, connection and object table, then runs the project's own `sql/` templates
through the local engine and prints the top labels of every image.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from local_engine.errors import EngineError
from pipeline.errors import SqlRunnerError
from pipeline.outputs import StackOutputs, local_stack_outputs, write_local_outputs
from pipeline.templates import PIPELINE, RenderOptions, render_file
from sqlrunner.local_runs import LocalExecutor
from sqlrunner.modelzoo.choose import ModelChoice, choose_model
from sqlrunner.report import write_local_report
from sqlrunner.samples import (
    WALKTHROUGH_BUCKET,
    WALKTHROUGH_PREFIX,
    WALKTHROUGH_URI,
    SampleSet,
    write_demo_images,
)

if TYPE_CHECKING:
    from local_engine.engine import LocalEngine

DATASET = "resnet_inference_test"
BUCKET = "local-bucket"
MODEL_NAME = "resnet"
OBJECT_TABLE = "vision_images"
PREDICTIONS_TABLE = "predictions"
LABELS_TABLE = "imagenet_labels"
LOCATION = "US"
CONNECTION = "lake-connection"
STEPS = 7


@dataclass(frozen=True)
class DemoOptions:
    home: Path
    models_dir: Path = Path("models/resnet_50")
    allow_network: bool = True
    # Where the stand-in is built and reused; default HOME/cache/standin.
    standin_cache: Path | None = None
    # Run the untrained ResNet-50 stand-in instead of the trained EfficientNet-Lite0
    # when the real ResNet-50 is not available.
    standin: bool = False
    # Where EfficientNet-Lite0 is built and reused; default HOME/cache/efficientnet.
    trained_cache: Path | None = None
    top_k: int = 5
    labels_shown: int = 3


@dataclass(frozen=True)
class Prediction:
    uri: str
    skip_reason: str | None
    top_labels: tuple[tuple[str, float], ...]


@dataclass
class DemoResult:
    samples: SampleSet
    model: ModelChoice
    outputs: StackOutputs
    predictions: list[Prediction] = field(default_factory=list)
    predict_seconds: float = 0.0


def run_demo(options: DemoOptions, console: Console | None = None) -> DemoResult:
    """Every step of the demo, each announced on `console`; SqlRunnerError on a failure."""
    from local_engine.engine import LocalEngine

    console = console or Console(soft_wrap=True)
    step = _Steps(console)
    home = options.home
    home.mkdir(parents=True, exist_ok=True)

    vision_dir = home / "gcs" / WALKTHROUGH_BUCKET / WALKTHROUGH_PREFIX.rstrip("/")
    with step("sample images", f"into {vision_dir}"):
        samples = write_demo_images(vision_dir, allow_network=options.allow_network)
        if samples.fallback_reason:
            console.print(f"      walkthrough images not used: {samples.fallback_reason}")
        console.print(f"      {len(samples.paths)} images from {samples.source}")

    fallback = "the untrained stand-in" if options.standin else "the trained EfficientNet-Lite0"
    with step("model", f"the real ResNet-50 in {options.models_dir} if valid, else {fallback}"):
        model = choose_model(
            options.models_dir,
            options.standin_cache or home / "cache" / "standin",
            allow_network=options.allow_network,
            say=lambda line: console.print(f"      {line}"),
            standin=options.standin,
            trained_cache=options.trained_cache or home / "cache" / "efficientnet",
        )
        _describe_model(console, model)

    model_uri = f"gs://{BUCKET}/{model.folder}/*"
    with step("model files", f"copied to {model_uri}"):
        copied = _copy_model_files(model.path, home / "gcs" / BUCKET / model.folder)
        console.print(f"      {copied} files")

    outputs = _outputs(model, model_uri, options.top_k, predictions_rows=0)
    values: dict[str, object] = dict(outputs.to_dict())
    with LocalEngine(home) as engine:
        lake = f"dataset {DATASET}, connection {_connection()}, object table {OBJECT_TABLE}"
        with step("lake", lake):
            engine.create_connection(_connection())
            engine.execute(_object_table_sql(outputs))

        predict_seconds = 0.0
        rows_written = 0
        executor = LocalExecutor(engine)
        with step("sql/", ", ".join(PIPELINE) + " on the local engine"):
            for name in PIPELINE:
                render_options = RenderOptions(full_refresh=True, local_model_dir=model.path)
                rendered = render_file(name, values, render_options)
                console.print(f"      {name}")
                started = time.perf_counter()
                rows_written += executor.run(rendered, run_key="demo")
                if name == "predict.sql":
                    predict_seconds = time.perf_counter() - started

        with step("results", f"from {outputs.predictions_table_id}"):
            predictions = _read_predictions(engine, outputs, options.labels_shown)

    outputs = _outputs(model, model_uri, options.top_k, predictions_rows=rows_written)
    outputs_path = write_local_outputs(home, outputs)
    result = DemoResult(samples, model, outputs, predictions, predict_seconds)
    _print_results(console, result)
    console.print(f"stack outputs of the local lake: {outputs_path}")
    with step("report", "an HTML page of the predictions"):
        report_path, _ = write_local_report(home)
        console.print(f"      {report_path}")
    return result


class _Steps:
    """Numbers and announces each step; an unexpected failure becomes one error naming it."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._number = 0

    @contextmanager
    def __call__(self, title: str, detail: str) -> Iterator[None]:
        self._number += 1
        self._console.print(f"[bold][{self._number}/{STEPS}] {title}[/bold]: {detail}")
        try:
            yield
        except (SqlRunnerError, EngineError):
            raise
        except Exception as exc:
            raise SqlRunnerError(
                f"demo step {self._number} ({title}) failed: {type(exc).__name__}: {exc}"
            ) from exc


def _describe_model(console: Console, model: ModelChoice) -> None:
    style = "" if model.trained and model.walkthrough_model else "bold yellow"
    console.print(f"      using {model.title}", style=style)
    console.print(f"      {model.description}", style=style)
    console.print(f"      signature: {model.spec.describe()}")


def _copy_model_files(source: Path, dest: Path) -> int:
    """Replace the bucket folder with the SavedModel's files (what the stack uploads)."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(source, dest)
    return sum(1 for path in dest.rglob("*") if path.is_file())


def _connection() -> str:
    return f"{LOCATION.lower()}.{CONNECTION}"


def _outputs(
    model: ModelChoice, model_uri: str, top_k: int, *, predictions_rows: int
) -> StackOutputs:
    return local_stack_outputs(
        dataset_id=DATASET,
        bucket_name=BUCKET,
        model_name=MODEL_NAME if model.walkthrough_model else model.folder,
        model_files_uri=model_uri,
        model_type="TENSORFLOW",
        object_table=OBJECT_TABLE,
        predictions_table=PREDICTIONS_TABLE,
        labels_table=LABELS_TABLE,
        top_k=top_k,
        predictions_rows=predictions_rows,
        location=LOCATION,
        connection=CONNECTION,
        model_spec=model.spec,
        model_description=model.title,
    )


def _object_table_sql(outputs: StackOutputs) -> str:
    # The walkthrough's own statements; on the cloud path the stack creates these.
    return f"""
CREATE SCHEMA IF NOT EXISTS `{outputs.project}.{outputs.dataset_id}`;
CREATE OR REPLACE EXTERNAL TABLE `{outputs.object_table_id}`
WITH CONNECTION `{_connection()}`
OPTIONS(object_metadata = 'SIMPLE', uris = ['{WALKTHROUGH_URI}']);
"""


def _read_predictions(engine: LocalEngine, outputs: StackOutputs, shown: int) -> list[Prediction]:
    table = engine.execute(
        f"SELECT uri, skip_reason, top_labels FROM `{outputs.predictions_table_id}` ORDER BY uri"
    ).table
    if table is None:
        raise SqlRunnerError(f"{outputs.predictions_table_id} returned no rows")
    predictions = []
    for row in table.to_pylist():
        labels = tuple(
            (str(item["label"]), float(item["score"])) for item in (row["top_labels"] or [])[:shown]
        )
        predictions.append(Prediction(str(row["uri"]), row["skip_reason"], labels))
    return predictions


def _print_results(console: Console, result: DemoResult) -> None:
    title = f"Top labels of {result.model.title}"
    if not result.model.trained:
        title += " ([bold yellow]UNTRAINED stand-in: these labels mean nothing[/bold yellow])"
    table = Table(title=title, show_lines=True)
    table.add_column("uri", overflow="fold")
    table.add_column("top labels (score  label)", no_wrap=True)
    for prediction in result.predictions:
        if prediction.skip_reason:
            shown = f"[dim]skipped: {prediction.skip_reason}[/dim]"
        else:
            shown = "\n".join(f"{score:.3f}  {label}" for label, score in prediction.top_labels)
        table.add_row(prediction.uri, shown)
    console.print(table)
    count = sum(1 for p in result.predictions if not p.skip_reason)
    rate = count / result.predict_seconds if result.predict_seconds > 0 else 0.0
    console.print(
        f"{count} images predicted by {result.model.title} in {result.predict_seconds:.1f} s "
        f"({rate:.1f} images/s end to end, predict.sql)"
    )
