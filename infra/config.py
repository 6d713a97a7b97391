"""The stack's typed configuration: read once from Pulumi config, validated before any resource.

`load_config()` reads the `resnet-inference:*` keys (and `gcp:project`) and hands them to
`parse_config()`, a pure function that tests call without Pulumi. Any bad value raises
`StackConfigError` naming the key and the rule it broke; Pulumi prints it without a traceback.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import pulumi
import yaml

import bigquery_facts as naming
from bigquery_facts import (
    MAX_MODEL_BYTES,
    ML_EDITIONS,
    MODEL_TYPE_FILES,
    SLOT_INCREMENT,
    NamingRule,
)
from pipeline.errors import SqlRunnerError
from pipeline.model_spec import (
    DEFAULT_BACKGROUND,
    DEFAULT_CLASS_COUNT,
    DEFAULT_IMAGE_SIZE,
    DEFAULT_INPUT,
    DEFAULT_OUTPUT,
    ModelSpec,
    check_model_dir,
)

NAMESPACE = "resnet-inference"
PROJECT_KEY = "gcp:project"
PROJECT_PLACEHOLDER = "your-gcp-project-id"
DEFAULT_IMAGE_URIS = ("gs://cloud-samples-data/vision/*.jpg",)


# Every key of the namespace, with its default (None: derived or required).
DEFAULTS: Mapping[str, object] = {
    "location": "US",
    "datasetId": "resnet_inference_test",
    "connectionId": "lake-connection",
    "bucketName": None,
    "imageUris": list(DEFAULT_IMAGE_URIS),
    "objectTableName": "vision_images",
    "modelName": "resnet",
    "modelDir": "models/resnet_50",
    "modelType": "TENSORFLOW",
    "modelPrefix": "resnet_50",
    "predictionsTable": "predictions",
    "topK": 5,
    # The model the templates are rendered for; the defaults are the walkthrough's ResNet-50.
    "modelInput": DEFAULT_INPUT,
    "modelOutput": DEFAULT_OUTPUT,
    "imageSize": DEFAULT_IMAGE_SIZE,
    "classCount": DEFAULT_CLASS_COUNT,
    "backgroundClass": DEFAULT_BACKGROUND,
    "labels": None,
    "createReservation": True,
    "reservationName": None,
    "edition": "ENTERPRISE",
    "baselineSlots": 0,
    "maxSlots": 50,
}


class StackConfigError(pulumi.RunError):
    """A config value the stack refuses; the message names the key and the rule."""


class ModelType(StrEnum):
    TENSORFLOW = "TENSORFLOW"
    ONNX = "ONNX"
    TENSORFLOW_LITE = "TENSORFLOW_LITE"

    @property
    def required_file(self) -> str:
        """The file (a glob for ONNX and TFLite) that must be in the model directory."""
        return MODEL_TYPE_FILES[self.value]


@dataclass(frozen=True)
class ReservationConfig:
    create: bool
    name: str
    edition: str
    baseline_slots: int
    # The autoscale ceiling added on top of the baseline (`autoscale.max_slots`).
    max_slots: int


@dataclass(frozen=True)
class StackConfig:
    project: str
    stack: str
    location: str
    dataset_id: str
    connection_id: str
    bucket_name: str
    image_uris: tuple[str, ...]
    object_table_name: str
    model_name: str
    model_dir: Path
    # Paths of the model's files relative to `model_dir`, POSIX style, sorted.
    model_files: tuple[str, ...]
    model_type: ModelType
    model_prefix: str
    predictions_table: str
    top_k: int
    labels: Mapping[str, str]
    reservation: ReservationConfig
    model_spec: ModelSpec = field(default_factory=ModelSpec)

    @property
    def object_table_id(self) -> str:
        return f"{self.project}.{self.dataset_id}.{self.object_table_name}"

    @property
    def model_id(self) -> str:
        return f"{self.project}.{self.dataset_id}.{self.model_name}"

    @property
    def predictions_table_id(self) -> str:
        return f"{self.project}.{self.dataset_id}.{self.predictions_table}"

    @property
    def connection_ref(self) -> str:
        """The connection the way BigQuery writes it: `project.location.connection`."""
        return f"{self.project}.{self.location.lower()}.{self.connection_id}"

    @property
    def bucket_url(self) -> str:
        return f"gs://{self.bucket_name}"

    @property
    def model_files_uri_prefix(self) -> str:
        """`gs://bucket/prefix/`: the folder the model files are uploaded under."""
        return f"{self.bucket_url}/{self.model_prefix}/"

    @property
    def model_files_uri(self) -> str:
        """`gs://bucket/prefix/*`: the `model_path` of `CREATE MODEL`."""
        return f"{self.model_files_uri_prefix}*"


def load_config() -> StackConfig:
    """Read the stack's config from Pulumi and validate it."""
    settings = pulumi.Config(NAMESPACE)
    stack = pulumi.get_stack()
    raw: dict[str, object] = {key: settings.get(key) for key in DEFAULTS}
    # pulumi.Config only answers for keys it is asked about, and Pulumi has no public way to
    # list them: look at the stack's settings file for misspelt keys.
    for qualified in stack_settings_keys(Path(f"Pulumi.{stack}.yaml")):
        namespace, _, key = qualified.partition(":")
        # Pulumi also takes the old `namespace:config:name` spelling of `namespace:name`.
        key = key.removeprefix("config:")
        if namespace == NAMESPACE and key not in DEFAULTS:
            raw[key] = settings.get(key)
    project = pulumi.Config("gcp").get("project")
    return parse_config(raw, project=project, stack=stack)


def stack_settings_keys(path: Path) -> set[str]:
    """The config keys a stack settings file sets; none when there is no such file.

    The CLI runs the program from the project directory, where `Pulumi.<stack>.yaml` lives.
    """
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return set()
    except (OSError, yaml.YAMLError) as exc:
        raise StackConfigError(f"cannot read the stack settings {path}: {exc}") from exc
    config = document.get("config") if isinstance(document, dict) else None
    return {str(key) for key in config} if isinstance(config, dict) else set()


def parse_config(raw: Mapping[str, object], *, project: str | None, stack: str) -> StackConfig:
    """Turn raw values (strings as Pulumi delivers them, or native values) into a StackConfig.

    Keys missing from `raw` or set to None take their defaults. Relative `modelDir`
    paths are read relative to the working directory (the Pulumi project directory).
    """
    unknown = sorted(set(raw) - set(DEFAULTS))
    if unknown:
        close = difflib.get_close_matches(unknown[0], DEFAULTS, n=1)
        hint = f" (did you mean {_qualified(close[0])}?)" if close else ""
        raise StackConfigError(f"unknown config key {_qualified(unknown[0])}{hint}")
    values = _Values(raw)
    project_id = _project(project)

    location = values.named("location", naming.LOCATION)
    bucket_name = values.named(
        "bucketName", naming.BUCKET_NAME, default=f"{project_id}-resnet-inference-{stack}".lower()
    )
    model_type = values.model_type("modelType")
    model_dir = Path(values.text("modelDir"))
    model_files = _model_files(model_dir, model_type)
    reservation = ReservationConfig(
        create=values.boolean("createReservation"),
        name=values.named(
            "reservationName", naming.RESERVATION_NAME, default=f"resnet-inference-{stack}".lower()
        ),
        edition=_edition(values.text("edition")),
        baseline_slots=values.slots("baselineSlots"),
        max_slots=values.slots("maxSlots"),
    )
    if reservation.create and reservation.baseline_slots + reservation.max_slots < SLOT_INCREMENT:
        raise StackConfigError(
            f"config {_qualified('maxSlots')}: baselineSlots + maxSlots must be at least "
            f"{SLOT_INCREMENT}, or the reservation can never run a query"
        )
    model_spec = _model_spec(values, model_dir, model_type)
    top_k = values.positive_int("topK")
    if top_k > model_spec.class_count:
        raise _fail("topK", top_k, f"is more than the model's {model_spec.class_count} classes")
    return StackConfig(
        project=project_id,
        stack=stack,
        location=location,
        dataset_id=values.named("datasetId", naming.DATASET_ID),
        connection_id=values.named("connectionId", naming.CONNECTION_ID),
        bucket_name=bucket_name,
        image_uris=_image_uris(values.string_list("imageUris")),
        object_table_name=values.named("objectTableName", naming.TABLE_NAME),
        model_name=values.named("modelName", naming.TABLE_NAME),
        model_dir=model_dir,
        model_files=model_files,
        model_type=model_type,
        model_prefix=values.named("modelPrefix", naming.OBJECT_PREFIX),
        predictions_table=values.named("predictionsTable", naming.TABLE_NAME),
        top_k=top_k,
        labels=_labels(values.string_map("labels"), stack),
        reservation=reservation,
        model_spec=model_spec,
    )


_SPEC_KEYS = {
    "model_input": "modelInput",
    "model_output": "modelOutput",
    "image_size": "imageSize",
    "class_count": "classCount",
    "background_class": "backgroundClass",
}


def _model_spec(values: _Values, model_dir: Path, model_type: ModelType) -> ModelSpec:
    """The configured model, checked against the SavedModel's own signature in `model_dir`."""
    spec = ModelSpec(
        input_name=values.text("modelInput"),
        output_name=values.text("modelOutput"),
        image_size=values.positive_int("imageSize"),
        class_count=values.positive_int("classCount"),
        background_class=values.boolean("backgroundClass"),
    )
    try:
        spec.validate("config")
    except SqlRunnerError as exc:
        message = str(exc)
        for output_key, config_key in _SPEC_KEYS.items():
            message = message.replace(f"config {output_key}:", f"config {_qualified(config_key)}:")
        raise StackConfigError(message) from None
    if model_type is ModelType.TENSORFLOW:
        try:
            check_model_dir(spec, model_dir)
        except SqlRunnerError as exc:
            keys = ", ".join(_qualified(key) for key in _SPEC_KEYS.values())
            raise StackConfigError(f"config {keys}: {exc}") from None
    return spec


def _qualified(key: str) -> str:
    return f"{NAMESPACE}:{key}"


def _fail(key: str, value: object, rule: str) -> StackConfigError:
    return StackConfigError(f"config {_qualified(key)}: {value!r} {rule}")


class _Values:
    """Typed readers over the raw key/value map; each failure names its key."""

    def __init__(self, raw: Mapping[str, object]) -> None:
        self._raw = raw

    def _get(self, key: str, default: object = None) -> object:
        value = self._raw.get(key)
        if value is not None:
            return value
        return DEFAULTS[key] if default is None else default

    def text(self, key: str, default: str | None = None) -> str:
        value = self._get(key, default)
        if not isinstance(value, str) or not value:
            raise _fail(key, value, "must be a non-empty string")
        return value

    def named(self, key: str, rule: NamingRule, default: str | None = None) -> str:
        value = self.text(key, default)
        if not rule.matches(value):
            raise _fail(key, value, rule.wording)
        return value

    def model_type(self, key: str) -> ModelType:
        value = self.text(key)
        try:
            return ModelType(value.upper())
        except ValueError:
            allowed = ", ".join(member.value for member in ModelType)
            raise _fail(key, value, f"is not a known model type (one of {allowed})") from None

    def boolean(self, key: str) -> bool:
        value = self._get(key)
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _fail(key, value, "must be true or false")

    def integer(self, key: str) -> int:
        value = self._get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
            return int(value)
        raise _fail(key, value, "must be an integer")

    def positive_int(self, key: str) -> int:
        value = self.integer(key)
        if value < 1:
            raise _fail(key, value, "must be at least 1")
        return value

    def slots(self, key: str) -> int:
        value = self.integer(key)
        if value < 0 or value % SLOT_INCREMENT:
            raise _fail(key, value, f"must be a non-negative multiple of {SLOT_INCREMENT} slots")
        return value

    def _structured(self, key: str) -> object:
        value = self._get(key)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise _fail(key, value, "must be structured config (a YAML list or map)") from None
        return value

    def string_list(self, key: str) -> list[str]:
        value = self._structured(key)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise _fail(key, value, "must be a list of strings")
        return value

    def string_map(self, key: str) -> dict[str, str] | None:
        value = self._structured(key)
        if value is None:
            return None
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise _fail(key, value, "must be a map of strings to strings")
        return value


def _project(project: str | None) -> str:
    hint = f"set it with `pulumi config set {PROJECT_KEY} YOUR_PROJECT_ID`"
    if not project:
        raise StackConfigError(f"config {PROJECT_KEY} is not set: {hint}")
    if project == PROJECT_PLACEHOLDER:
        raise StackConfigError(f"config {PROJECT_KEY} is still the placeholder {project!r}: {hint}")
    if not naming.PROJECT_ID.matches(project):
        raise StackConfigError(f"config {PROJECT_KEY}: {project!r} {naming.PROJECT_ID.wording}")
    return project


def _edition(value: str) -> str:
    edition = value.upper()
    if edition == "STANDARD":
        raise _fail(
            "edition",
            value,
            "cannot run imported models (CREATE MODEL needs ENTERPRISE or ENTERPRISE_PLUS)",
        )
    if edition not in ML_EDITIONS:
        raise _fail("edition", value, f"must be one of {', '.join(ML_EDITIONS)}")
    return edition


def _image_uris(uris: list[str]) -> tuple[str, ...]:
    if not uris:
        raise _fail("imageUris", uris, "must list at least one gs:// URI")
    for uri in uris:
        if not re.fullmatch(r"gs://[a-z0-9][a-z0-9_.-]{1,221}[a-z0-9](/.*)?", uri):
            raise _fail("imageUris", uri, "must be a gs://BUCKET/PATH Cloud Storage URI")
        if uri.count("*") > 1:
            raise _fail("imageUris", uri, "may contain at most one '*' wildcard")
    return tuple(uris)


def _model_files(model_dir: Path, model_type: ModelType) -> tuple[str, ...]:
    key = "modelDir"
    if not model_dir.is_dir():
        raise _fail(key, str(model_dir), "is not a directory (run `make model` to fetch the model)")
    if not any(model_dir.glob(model_type.required_file)):
        raise _fail(
            key,
            str(model_dir),
            f"has no {model_type.required_file}, which a {model_type.value} model needs",
        )
    paths = sorted(path for path in model_dir.rglob("*") if path.is_file())
    total = sum(path.stat().st_size for path in paths)
    if total >= MAX_MODEL_BYTES:
        raise _fail(
            key,
            str(model_dir),
            f"holds {total:,} bytes; BigQuery imports models of less than "
            f"{MAX_MODEL_BYTES / 1e6:.0f} MB ({MAX_MODEL_BYTES:,} bytes)",
        )
    return tuple(path.relative_to(model_dir).as_posix() for path in paths)


def _labels(labels: dict[str, str] | None, stack: str) -> dict[str, str]:
    if labels is None:
        stack_label = re.sub(r"[^a-z0-9_-]", "-", stack.lower())[:63]
        return {"app": "resnet-inference", "stack": stack_label}
    if len(labels) > naming.MAX_LABELS:
        raise _fail("labels", len(labels), f"labels are more than {naming.MAX_LABELS}")
    for label_key, label_value in labels.items():
        if not naming.LABEL_KEY.matches(label_key):
            raise _fail("labels", label_key, f"(a label key) {naming.LABEL_KEY.wording}")
        if not naming.LABEL_VALUE.matches(label_value):
            raise _fail("labels", label_value, f"(a label value) {naming.LABEL_VALUE.wording}")
    return dict(labels)
