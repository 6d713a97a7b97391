"""A deployed stack's outputs as the templates need them, for tests that render or run them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

STACK_OUTPUTS: dict[str, Any] = {
    "project": "my-project",
    "location": "EU",
    "model_files_uri": "gs://my-project-models/resnet_50/*",
    "model_type": "TENSORFLOW",
    "object_table_id": "my-project.resnet_inference_test.vision_images",
    "model_id": "my-project.resnet_inference_test.resnet",
    "predictions_table_id": "my-project.resnet_inference_test.predictions",
    "top_k": 5,
}


def write_outputs_file(folder: Path, outputs: dict[str, Any] = STACK_OUTPUTS) -> Path:
    """`outputs` as `pulumi stack output --json` would write them, in FOLDER/outputs.json."""
    path = folder / "outputs.json"
    path.write_text(json.dumps(outputs))
    return path
