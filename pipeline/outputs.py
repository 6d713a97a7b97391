"""The stack-outputs contract: reading a stack's outputs and writing the local lake's.

A real stack's outputs come from `pulumi stack output --json` (or a file holding it);
the local lake writes the same keys to `HOME/outputs.json`, so a dashboard or script
switches between them by changing one file. docs/outputs.md lists the keys.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bigquery_facts import LOCAL_PROJECT
from pipeline import looker
from pipeline.errors import SqlRunnerError
from pipeline.model_spec import (
    DEFAULT_BACKGROUND,
    DEFAULT_CLASS_COUNT,
    DEFAULT_IMAGE_SIZE,
    DEFAULT_INPUT,
    DEFAULT_OUTPUT,
    ModelSpec,
    spec_from_outputs,
)

OUTPUTS_FILE_NAME = "outputs.json"


@dataclass(frozen=True)
class StackOutputs:
    """Every stack output, by its output name. Field order is the README table's order."""

    project: str
    location: str
    dataset_id: str
    connection_id: str
    connection_service_account: str
    bucket_name: str
    bucket_url: str
    model_files_uri: str
    model_type: str
    object_table_id: str
    model_id: str
    predictions_table_id: str
    labels_table_id: str
    top_k: int
    predictions_rows: int
    dataset_console_url: str
    predictions_console_url: str
    model_console_url: str
    looker_studio_url: str
    # Only a stack that creates its own reservation exports this one.
    reservation_name: str | None = None
    # The model the templates are rendered for; an older stack without them means the
    # walkthrough's ResNet-50 (pipeline.model_spec's defaults).
    model_input: str = DEFAULT_INPUT
    model_output: str = DEFAULT_OUTPUT
    image_size: int = DEFAULT_IMAGE_SIZE
    class_count: int = DEFAULT_CLASS_COUNT
    background_class: bool = DEFAULT_BACKGROUND
    # Which model the outputs were produced with, in words (the local lake says it).
    model_description: str | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any], *, source: str) -> StackOutputs:
        """Validate `values` (e.g. parsed outputs.json); unknown keys are ignored."""
        missing = [key for key in required_output_keys() if key not in values]
        if missing:
            raise SqlRunnerError(
                f"{source} lacks the stack outputs {', '.join(missing)}; "
                "run `pulumi up` (or `make demo` for the local lake) to refresh it"
            )
        fields: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            value = values.get(field.name)
            if value is None and field.name in _OPTIONAL_KEYS:
                continue
            if field.name in _BOOL_KEYS:
                if not isinstance(value, bool):
                    raise SqlRunnerError(
                        f"{source}: output {field.name} should be true or false, got {value!r}"
                    )
            else:
                expected = int if field.name in _INT_KEYS else str
                if not isinstance(value, expected) or isinstance(value, bool):
                    raise SqlRunnerError(
                        f"{source}: output {field.name} should be "
                        f"{'an integer' if expected is int else 'a string'}, got {value!r}"
                    )
            fields[field.name] = value
        outputs = cls(**fields)
        outputs.model_spec()  # refuses model values no template can take
        return outputs

    def model_spec(self) -> ModelSpec:
        """The model the templates are rendered for, validated."""
        return spec_from_outputs(self.to_dict())

    def to_dict(self) -> dict[str, str | int | bool]:
        """The JSON object `pulumi stack output --json` would print for this stack."""
        return {key: value for key, value in dataclasses.asdict(self).items() if value is not None}


_INT_KEYS = frozenset({"top_k", "predictions_rows", "image_size", "class_count"})
_BOOL_KEYS = frozenset({"background_class"})
# Written by every stack now; an older stack's outputs without them mean ResNet-50.
MODEL_OUTPUT_KEYS = tuple(ModelSpec().as_outputs())
_OPTIONAL_KEYS = frozenset({"reservation_name", "model_description", *MODEL_OUTPUT_KEYS})


def output_keys() -> tuple[str, ...]:
    """Every key of the contract, optional ones included."""
    return tuple(field.name for field in dataclasses.fields(StackOutputs))


def required_output_keys() -> tuple[str, ...]:
    """The keys every stack exports, whatever its configuration."""
    return tuple(key for key in output_keys() if key not in _OPTIONAL_KEYS)


def read_outputs_mapping(path: Path) -> dict[str, Any]:
    """The JSON object of `pulumi stack output --json > FILE` or the local lake's outputs.json."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SqlRunnerError(
            f"no outputs file at {path}; write one with "
            f"`pulumi stack output --json --show-secrets > {path}`"
        ) from None
    except OSError as exc:
        raise SqlRunnerError(f"cannot read stack outputs {path}: {exc.strerror}") from exc
    try:
        values = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SqlRunnerError(f"{path} is not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(values, dict):
        raise SqlRunnerError(f"{path} should hold one JSON object of stack outputs")
    return values


def read_outputs(path: Path) -> StackOutputs:
    """Read and validate every key of the contract from an outputs file."""
    return StackOutputs.from_mapping(read_outputs_mapping(path), source=str(path))


def read_pulumi_stack_outputs(stack: str | None = None, cwd: Path | None = None) -> StackOutputs:
    """Ask the pulumi CLI for the selected (or named) stack's outputs."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise SqlRunnerError("the pulumi CLI is not on PATH; pass an outputs.json file instead")
    command = [pulumi, "stack", "output", "--json", "--show-secrets"]
    if stack:
        command += ["--stack", stack]
    completed = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        detail = completed.stderr.strip() or f"exit code {completed.returncode}"
        raise SqlRunnerError(f"`pulumi stack output` failed: {detail}")
    values = json.loads(completed.stdout)
    return StackOutputs.from_mapping(values, source=f"stack {stack or '(selected)'}")


def write_outputs(path: Path, outputs: StackOutputs) -> Path:
    """Write atomically, so a dashboard never reads half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(outputs.to_dict(), indent=2) + "\n", encoding="utf-8")
    os.replace(partial, path)
    return path


def local_outputs_path(home: Path) -> Path:
    return home / OUTPUTS_FILE_NAME


def read_local_outputs(home: Path) -> StackOutputs | None:
    """HOME/outputs.json, or None when the lake has none yet."""
    path = local_outputs_path(home)
    return read_outputs(path) if path.exists() else None


def local_stack_outputs(
    *,
    dataset_id: str,
    bucket_name: str,
    model_name: str,
    model_files_uri: str,
    model_type: str,
    object_table: str,
    predictions_table: str,
    labels_table: str,
    top_k: int,
    predictions_rows: int,
    location: str = "US",
    connection: str = "lake-connection",
    model_spec: ModelSpec | None = None,
    model_description: str | None = None,
) -> StackOutputs:
    """The outputs a stack would export, for a lake the local engine has just filled.

    The local lake has no service account: `connection_service_account` is empty.
    """
    project = LOCAL_PROJECT
    spec = model_spec or ModelSpec()
    predictions_table_id = f"{project}.{dataset_id}.{predictions_table}"
    model_id = f"{project}.{dataset_id}.{model_name}"
    urls = looker.dashboard_urls(predictions_table_id, model_id)
    return StackOutputs(
        project=project,
        location=location,
        dataset_id=dataset_id,
        connection_id=f"{project}.{location.lower()}.{connection}",
        connection_service_account="",
        bucket_name=bucket_name,
        bucket_url=f"gs://{bucket_name}",
        model_files_uri=model_files_uri,
        model_type=model_type,
        object_table_id=f"{project}.{dataset_id}.{object_table}",
        model_id=model_id,
        predictions_table_id=predictions_table_id,
        labels_table_id=f"{project}.{dataset_id}.{labels_table}",
        top_k=top_k,
        predictions_rows=predictions_rows,
        dataset_console_url=looker.dataset_console_url(project, dataset_id),
        predictions_console_url=urls["predictions_console_url"],
        model_console_url=urls["model_console_url"],
        looker_studio_url=urls["looker_studio_url"],
        model_description=model_description,
        model_input=spec.input_name,
        model_output=spec.output_name,
        image_size=spec.image_size,
        class_count=spec.class_count,
        background_class=spec.background_class,
    )


def write_local_outputs(home: Path, outputs: StackOutputs) -> Path:
    """Write HOME/outputs.json; returns its path."""
    return write_outputs(local_outputs_path(home), outputs)
