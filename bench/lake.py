"""The benchmark's local lake: photos in a bucket, object tables over them, the model.

One bucket holds `n<count>/photo_*.jpg` prefixes (hard links to one cache of photos)
and the SavedModel under `resnet_50/`; each prefix gets its own object table and
predictions table, so B at N and at 10xN run the same `sql/predict.sql`.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from bigquery_facts import LOCAL_PROJECT as PROJECT
from pipeline.templates import RenderOptions, render_file

DATASET = "bench"
BUCKET = "bench-lake"
CONNECTION = f"{PROJECT}.us.lake-connection"
MODEL_PREFIX = "resnet_50"


@dataclass(frozen=True)
class BenchLake:
    home: Path

    @property
    def bucket_dir(self) -> Path:
        return self.home / "gcs" / BUCKET

    def outputs(self, count: int) -> dict[str, object]:
        """Stack outputs (docs/outputs.md) for the object table of `count` photos."""
        return {
            "project": PROJECT,
            "location": "US",
            "dataset_id": DATASET,
            "connection_id": CONNECTION,
            "bucket_name": BUCKET,
            "bucket_url": f"gs://{BUCKET}",
            "model_files_uri": f"gs://{BUCKET}/{MODEL_PREFIX}/*",
            "model_type": "TENSORFLOW",
            "object_table_id": f"{PROJECT}.{DATASET}.photos_n{count}",
            "model_id": f"{PROJECT}.{DATASET}.resnet",
            "predictions_table_id": f"{PROJECT}.{DATASET}.predictions_n{count}",
            "labels_table_id": f"{PROJECT}.{DATASET}.imagenet_labels",
            "top_k": 5,
        }

    def add_photos(self, photos: list[Path], count: int) -> None:
        """Link the first `count` cached photos under gs://bench-lake/n<count>/."""
        folder = self.bucket_dir / f"n{count}"
        folder.mkdir(parents=True, exist_ok=True)
        for photo in photos[:count]:
            target = folder / photo.name
            if not target.exists():
                _link_or_copy(photo, target)

    def add_model(self, model_dir: Path) -> None:
        """Upload (link) the SavedModel's files under gs://bench-lake/resnet_50/."""
        target_root = self.bucket_dir / MODEL_PREFIX
        if target_root.exists():
            shutil.rmtree(target_root)
        for source in sorted(model_dir.rglob("*")):
            if source.is_file():
                target = target_root / source.relative_to(model_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(source, target)

    def object_table_sql(self, count: int) -> str:
        table = f"`{PROJECT}.{DATASET}.photos_n{count}`"
        return (
            f"CREATE OR REPLACE EXTERNAL TABLE {table}\n"
            f"WITH CONNECTION `{CONNECTION}`\n"
            f"OPTIONS (object_metadata = 'SIMPLE', uris = ['gs://{BUCKET}/n{count}/*.jpg'])"
        )

    def setup_sql(self, counts: list[int]) -> str:
        """The dataset, one object table per count and the labels table."""
        statements = [f"CREATE SCHEMA IF NOT EXISTS `{PROJECT}.{DATASET}`"]
        statements += [self.object_table_sql(count) for count in counts]
        statements.append(render_file("labels.sql", self.outputs(counts[0])).sql)
        return ";\n".join(s.rstrip().rstrip(";") for s in statements) + ";\n"

    def create_model_sql(self) -> str:
        return render_file("create_model.sql", self.outputs(0)).sql

    def predict_sql(self, count: int) -> str:
        """sql/predict.sql for `count` photos; a full refresh, so every run predicts all."""
        options = RenderOptions(full_refresh=True)
        return render_file("predict.sql", self.outputs(count), options).sql

    def predict_only_sql(self, count: int) -> str:
        """ML.PREDICT alone, with predict.sql's image input, every output read and dropped.

        Set against predict.sql, it tells the engine's streaming inference apart from
        the SQL that ranks and stores the scores.
        """
        outputs = self.outputs(count)
        return (
            "SELECT COUNT(*) AS n, MAX(ARRAY_LENGTH(activation_49)) AS classes\n"
            f"FROM ML.PREDICT(MODEL `{outputs['model_id']}`, (\n"
            "  SELECT uri, ML.RESIZE_IMAGE(ML.DECODE_IMAGE(data), 224, 224, FALSE) AS input_1\n"
            f"  FROM `{outputs['object_table_id']}`))"
        )


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
