"""The stack outputs, keyed as docs/outputs.md lists them: all assembled here."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pulumi

from infra.config import StackConfig
from infra.stack import StackResources
from pipeline.looker import dashboard_urls
from pipeline.templates import LABELS_TABLE_NAME

CONSOLE = "https://console.cloud.google.com/bigquery"


def dataset_console_url(project: str, dataset_id: str) -> str:
    """The BigQuery console opened on the dataset in the explorer."""
    return f"{CONSOLE}?project={quote(project)}&ws=!1m4!1m3!3m2!1s{project}!2s{dataset_id}"


def stack_outputs(config: StackConfig, resources: StackResources) -> dict[str, pulumi.Input[Any]]:
    """Every output, as resource outputs where a resource holds the value."""
    lake = resources.lake
    bucket_url = lake.bucket.name.apply(lambda name: f"gs://{name}")
    outputs: dict[str, pulumi.Input[Any]] = {
        "project": config.project,
        "location": config.location,
        "dataset_id": lake.dataset.dataset_id,
        "connection_id": lake.connection_ref,
        "connection_service_account": lake.service_account,
        "bucket_name": lake.bucket.name,
        "bucket_url": bucket_url,
        "model_files_uri": bucket_url.apply(lambda url: f"{url}/{config.model_prefix}/*"),
        "model_type": config.model_type.value,
        "object_table_id": pulumi.Output.concat(
            config.project, ".", lake.object_table.dataset_id, ".", lake.object_table.table_id
        ),
        "model_id": config.model_id,
        "predictions_table_id": config.predictions_table_id,
        "labels_table_id": f"{config.project}.{config.dataset_id}.{LABELS_TABLE_NAME}",
        "top_k": config.top_k,
        # model_input, model_output, image_size, class_count, background_class
        **config.model_spec.as_outputs(),
        "dataset_console_url": lake.dataset.dataset_id.apply(
            lambda dataset_id: dataset_console_url(config.project, dataset_id)
        ),
        # looker_studio_url, predictions_console_url, model_console_url
        **dashboard_urls(config.predictions_table_id, config.model_id),
    }
    if resources.reservation is not None:
        outputs["reservation_name"] = resources.reservation.reservation.name
    return outputs
