"""A lake with photos and the tiny model's files in its bucket, and clients for `serve`.

`seed_lake(home, images, model)` copies the photos to gs://bucket/images/ and the model
to gs://bucket/resnet_50/ and registers `us.lake-connection`; `lake_client(endpoint)` is
google-cloud-bigquery as a user points it at the served lake.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from bigquery_facts import LOCAL_PROJECT
from local_engine.engine import LocalEngine

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
