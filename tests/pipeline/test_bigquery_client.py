"""The one client factory, and the post-deploy step's BigQuery executor against `serve`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials

from pipeline import post_deploy
from pipeline.bigquery_client import make_client
from pipeline.errors import SqlRunnerError
from tests.support.lake_server import ServedStack, lake_client, served_stack


def test_emulator_host_gives_an_anonymous_client_of_that_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", "http://127.0.0.1:9050")
    client = make_client("local-lake", "EU")

    assert isinstance(client._credentials, AnonymousCredentials)
    assert client._connection.API_BASE_URL == "http://127.0.0.1:9050"
    assert (client.project, client.location) == ("local-lake", "EU")


def test_without_credentials_the_error_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("BIGQUERY_EMULATOR_HOST", raising=False)
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    with pytest.raises(SqlRunnerError) as caught:
        make_client("my-project", "US")
    message = str(caught.value)
    assert message.startswith("no Google Cloud credentials for BigQuery: run")
    assert "gcloud auth application-default login" in message
    assert "BIGQUERY_EMULATOR_HOST" in message


@pytest.fixture
def stack(
    tmp_path: Path,
    sample_images: Path,
    tiny_savedmodel: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[ServedStack]:
    with served_stack(tmp_path, sample_images, tiny_savedmodel, photos=2) as made:
        monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", made.server.endpoint)
        yield made


def test_post_deploy_executor_creates_updates_and_deletes_on_the_served_lake(
    stack: ServedStack,
) -> None:
    outputs = stack.outputs.to_dict()
    inputs = post_deploy.StepInputs.render("dev", outputs, {"saved_model.pb": "h1"}, epoch="e1")
    executor = post_deploy.bigquery_executor(inputs, permission_grace_s=0, timeout_s=300)

    created = post_deploy.create(inputs, executor)
    client = lake_client(stack.server.endpoint)
    rows = list(client.query(f"SELECT uri, top1_label FROM `{created.predictions_table_id}`"))

    assert created.predictions_rows == len(stack.image_uris)
    assert not post_deploy.has_changes(created.fingerprint, inputs)
    assert sorted(row["uri"] for row in rows) == stack.image_uris
    assert all(row["top1_label"] for row in rows)
    assert client.get_model(stack.outputs.model_id).model_type == "TENSORFLOW"

    post_deploy.delete(inputs, executor)
    with pytest.raises(exceptions.NotFound):
        client.get_model(stack.outputs.model_id)
    with pytest.raises(exceptions.NotFound):
        client.get_table(created.predictions_table_id)
    post_deploy.delete(inputs, executor)  # again: nothing left to drop is no error
