"""Fill the `sql/` templates from stack outputs.

A template is a plain BigQuery SQL file with `${name}` placeholders (Python's
`string.Template` syntax). Each placeholder renders to one complete SQL token: an
identifier, always validated and back-quoted, or a literal (string, integer, boolean,
array) built from a validated value, so no value can change what a statement means.
A value that fails its rule is refused with a message naming the output key.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

from sqlglot import exp

from bigquery_facts import (
    DECODABLE_CONTENT_TYPES,
    MAX_DECODE_IMAGE_BYTES,
    MODEL_TYPES,
    TABLE_ID_WORDING,
    is_table_id,
)
from bigquery_scripts import ScriptSplitError, split_script
from pipeline.errors import SqlRunnerError
from pipeline.labels import load_labels
from pipeline.model_spec import check_model_dir, spec_from_outputs

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
# The post-deploy step's statements, in the order they run.
PIPELINE = ("labels.sql", "create_model.sql", "predict.sql")
CLEANUP = "cleanup.sql"
LABELS_TABLE_NAME = "imagenet_labels"
_GCS_URI = re.compile(r"gs://[a-z0-9][a-z0-9._-]{1,220}[a-z0-9](/[A-Za-z0-9._/-]*)?\*?")


@dataclass(frozen=True)
class RenderOptions:
    full_refresh: bool = False
    max_image_bytes: int = MAX_DECODE_IMAGE_BYTES
    # The model's SavedModel directory when it is on this machine: rendering then refuses
    # outputs whose model_input/model_output/image_size/class_count do not match it.
    local_model_dir: Path | None = None


@dataclass(frozen=True)
class RenderedTemplate:
    name: str
    sql: str

    @property
    def statements(self) -> list[str]:
        return split_statements(self.sql, self.name)


Outputs = Mapping[str, object]


def _string_value(outputs: Outputs, key: str) -> str:
    if key not in outputs:
        raise SqlRunnerError(f"stack output {key!r} is missing")
    value = outputs[key]
    if not isinstance(value, str):
        raise SqlRunnerError(f"{key}: expected a string, got {value!r}")
    return value


def _table_id(outputs: Outputs, key: str) -> str:
    value = _string_value(outputs, key)
    if not is_table_id(value):
        raise SqlRunnerError(f"{key}: {value!r} is not a BigQuery id: {TABLE_ID_WORDING}")
    return value


def labels_table_id(outputs: Outputs) -> str:
    """The labels table: the `labels_table_id` output, else beside the predictions table."""
    if "labels_table_id" in outputs:
        return _table_id(outputs, "labels_table_id")
    dataset = _table_id(outputs, "predictions_table_id").rsplit(".", 1)[0]
    return f"{dataset}.{LABELS_TABLE_NAME}"


def _quoted(table_id: str) -> str:
    return f"`{table_id}`"


def _string_literal(value: str) -> str:
    return exp.Literal.string(value).sql(dialect="bigquery")


def _model_type(outputs: Outputs) -> str:
    value = _string_value(outputs, "model_type")
    if value not in MODEL_TYPES:
        raise SqlRunnerError(f"model_type: {value!r} is not one of {', '.join(MODEL_TYPES)}")
    return _string_literal(value)


def _model_files_uri(outputs: Outputs) -> str:
    value = _string_value(outputs, "model_files_uri")
    if not _GCS_URI.fullmatch(value):
        raise SqlRunnerError(
            f"model_files_uri: {value!r} is not a gs://bucket/path/* URI of letters, digits, "
            "'.', '_', '-' and '/', with at most one trailing '*'"
        )
    return _string_literal(value)


def _top_k(outputs: Outputs) -> str:
    value = outputs.get("top_k", 5)
    classes = spec_from_outputs(outputs).class_count
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= classes:
        raise SqlRunnerError(f"top_k: {value!r} is not an integer from 1 to {classes}")
    return str(value)


def _string_list(values: Sequence[str]) -> str:
    return ", ".join(_string_literal(value) for value in values)


def _labels_array(outputs: Outputs) -> str:
    """The model's class names in output order: with or without index 0 "background"."""
    labels = load_labels()
    if not spec_from_outputs(outputs).background_class:
        labels = labels[1:]
    return f"[{_string_list(labels)}]"


def _column(outputs: Outputs, key: str) -> str:
    spec = spec_from_outputs(outputs)
    return _quoted(spec.input_name if key == "model_input" else spec.output_name)


def _positive_int(value: int, key: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SqlRunnerError(f"{key}: {value!r} is not a positive integer")
    return str(value)


Placeholder = Callable[[Outputs, RenderOptions], str]

PLACEHOLDERS: dict[str, Placeholder] = {
    "model_id": lambda o, _: _quoted(_table_id(o, "model_id")),
    "model_id_value": lambda o, _: _string_literal(_table_id(o, "model_id")),
    "object_table_id": lambda o, _: _quoted(_table_id(o, "object_table_id")),
    "predictions_table_id": lambda o, _: _quoted(_table_id(o, "predictions_table_id")),
    "labels_table_id": lambda o, _: _quoted(labels_table_id(o)),
    "model_type": lambda o, _: _model_type(o),
    "model_files_uri": lambda o, _: _model_files_uri(o),
    "top_k": lambda o, _: _top_k(o),
    "imagenet_labels": lambda o, _: _labels_array(o),
    "model_input": lambda o, _: _column(o, "model_input"),
    "model_output": lambda o, _: _column(o, "model_output"),
    "image_size": lambda o, _: str(spec_from_outputs(o).image_size),
    "full_refresh": lambda _, opts: "TRUE" if opts.full_refresh else "FALSE",
    "max_image_bytes": lambda _, opts: _positive_int(opts.max_image_bytes, "max_image_bytes"),
    "decodable_content_types": lambda _o, _opts: _string_list(DECODABLE_CONTENT_TYPES),
}


def render_text(text: str, outputs: Outputs, options: RenderOptions, source: str) -> str:
    if options.local_model_dir is not None:
        check_model_dir(spec_from_outputs(outputs), options.local_model_dir)
    template = Template(text)
    if not template.is_valid():
        raise SqlRunnerError(f"{source}: a '$' that is not a ${{name}} placeholder ('$$' is '$')")
    values: dict[str, str] = {}
    for name in template.get_identifiers():
        placeholder = PLACEHOLDERS.get(name)
        if placeholder is None:
            raise SqlRunnerError(f"{source}: unknown placeholder ${{{name}}}")
        values[name] = placeholder(outputs, options)
    return template.substitute(values)


def template_path(name: str | Path) -> Path:
    """A template by file name (looked up in `sql/`) or by path."""
    path = Path(name)
    if not path.exists() and not path.is_absolute() and (SQL_DIR / path.name).exists():
        return SQL_DIR / path.name
    return path


def render_file(
    name: str | Path, outputs: Outputs, options: RenderOptions | None = None
) -> RenderedTemplate:
    path = template_path(name)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SqlRunnerError(f"cannot read template {path}: {exc.strerror}") from exc
    rendered = render_text(text, outputs, options or RenderOptions(), path.name)
    return RenderedTemplate(name=path.name, sql=rendered)


def render_pipeline(
    outputs: Outputs, options: RenderOptions | None = None
) -> list[RenderedTemplate]:
    """labels.sql, create_model.sql and predict.sql, rendered, in the order they run."""
    return [render_file(SQL_DIR / name, outputs, options) for name in PIPELINE]


def split_statements(sql: str, source: str = "SQL") -> list[str]:
    """The `;`-separated statements of a script (`bigquery_scripts`), empty ones dropped."""
    try:
        return [statement.text for statement in split_script(sql)]
    except ScriptSplitError as exc:
        raise SqlRunnerError(f"{source}: cannot split into statements: {exc}") from exc
