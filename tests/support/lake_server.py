"""A lake with photos and the tiny model's files in its bucket, and clients for `serve`.

`seed_lake(home, images, model)` copies the photos to gs://bucket/images/ and the model
to gs://bucket/resnet_50/ and registers `us.lake-connection`; `lake_client(endpoint)` is
google-cloud-bigquery as a user points it at the served lake; `served_stack` serves a lake
in the state `pulumi up` leaves a project in before the post-deploy step.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from bigquery_facts import LOCAL_PROJECT
from local_engine.engine import LocalEngine
from local_engine.rest.server import LakeServer
from pipeline.outputs import StackOutputs, local_stack_outputs, write_outputs

BUCKET = "bucket"
CONNECTION = "us.lake-connection"
IMAGES_URI = f"gs://{BUCKET}/images/*"
MODEL_URI = f"gs://{BUCKET}/resnet_50/*"


def seed_lake(home: Path, images: Path, model: Path, *, photos: int | None = None) -> list[str]:
    """The lake's objects and connection; returns the image URIs, sorted."""
    target = home / "gcs" / BUCKET / "images"
    target.mkdir(parents=True)
    chosen = sorted(images.iterdir())[:photos]
    for photo in chosen:
        shutil.copy(photo, target / photo.name)
    shutil.copytree(model, home / "gcs" / BUCKET / "resnet_50")
    with LocalEngine(home, progress=False) as engine:
        engine.create_connection(CONNECTION)
    return [f"gs://{BUCKET}/images/{photo.name}" for photo in chosen]


def lake_client(endpoint: str, location: str = "US") -> bigquery.Client:
    return bigquery.Client(
        project=LOCAL_PROJECT,
        location=location,
        credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
        client_options=ClientOptions(api_endpoint=endpoint),
    )


@dataclass(frozen=True)
class ServedStack:
    """A served lake holding what `pulumi up` provisions before its post-deploy step."""

    server: LakeServer
    outputs: StackOutputs
    outputs_file: Path
    image_uris: list[str]


@contextmanager
def served_stack(
    work: Path, images: Path, model: Path, *, photos: int = 3, location: str = "US"
) -> Iterator[ServedStack]:
    """Dataset and object table made through the REST API, outputs.json written; stops on exit."""
    home = work / "lake"
    uris = seed_lake(home, images, model, photos=photos)
    outputs = local_stack_outputs(
        dataset_id="resnet_inference_test",
        bucket_name=BUCKET,
        model_name="resnet",
        model_files_uri=MODEL_URI,
        model_type="TENSORFLOW",
        object_table="vision_images",
        predictions_table="predictions",
        labels_table="imagenet_labels",
        top_k=5,
        predictions_rows=0,
        location=location,
    )
    with LakeServer(home) as server:
        client = lake_client(server.endpoint, location)
        client.create_dataset(outputs.dataset_id)
        client.query(
            f"CREATE EXTERNAL TABLE `{outputs.object_table_id}` WITH CONNECTION `{CONNECTION}`"
            f" OPTIONS (object_metadata = 'SIMPLE', uris = ['{IMAGES_URI}'])"
        ).result()
        outputs_file = write_outputs(work / "outputs.json", outputs)
        yield ServedStack(server, outputs, outputs_file, uris)
