"""The one way this project makes a google-cloud-bigquery client.

With the user's application-default credentials against BigQuery; with
`BIGQUERY_EMULATOR_HOST` set (the client library's own switch for its endpoint, which
`python -m sqlrunner serve` answers), anonymously against that endpoint instead.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pipeline.errors import SqlRunnerError

if TYPE_CHECKING:
    from google.cloud import bigquery

EMULATOR_HOST_VARIABLE = "BIGQUERY_EMULATOR_HOST"


def emulator_host() -> str | None:
    """The endpoint BIGQUERY_EMULATOR_HOST names, None when unset or empty."""
    return os.environ.get(EMULATOR_HOST_VARIABLE) or None


def make_client(project: str, location: str) -> bigquery.Client:
    """A client for `project`, running jobs in `location` by default."""
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.auth.exceptions import DefaultCredentialsError
    from google.cloud import bigquery

    endpoint = emulator_host()
    if endpoint:
        return bigquery.Client(
            project=project,
            location=location,
            credentials=AnonymousCredentials(),  # type: ignore[no-untyped-call]
            client_options=ClientOptions(api_endpoint=endpoint),
        )
    try:
        return bigquery.Client(project=project, location=location)
    except DefaultCredentialsError as exc:
        raise SqlRunnerError(
            f"no Google Cloud credentials for BigQuery: run"
            f" `gcloud auth application-default login`, or set {EMULATOR_HOST_VARIABLE}"
            f" to a local endpoint such as `python -m sqlrunner serve` ({exc})"
        ) from exc
