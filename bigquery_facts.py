"""What BigQuery, Cloud Storage and BigQuery ML document, written once.

Every limit, identifier rule and model type the project checks lives here and nowhere
else: the stack config, the SQL templates, the local engine and the report import it.
Identifier rules are the narrow, always-safe subset the SQL templates accept
back-quoted (letters, digits, underscore; dash only where BigQuery allows it); each says
in words what it checks, so an error can name the rule that was broken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The project of the local lake: ids in its outputs and SQL name it like a real project.
LOCAL_PROJECT = "local-lake"

# ML.DECODE_IMAGE: "The data argument value must be <= 10 MB (10,000,000 bytes)."
# https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-decode-image
MAX_DECODE_IMAGE_BYTES = 10_000_000
# Formats ML.DECODE_IMAGE decodes (same page), as object-table content types.
DECODABLE_CONTENT_TYPES = ("image/jpeg", "image/png", "image/bmp")
# Object tables for inference: image files "are less than 20 MB in size".
# https://cloud.google.com/bigquery/docs/object-table-inference#limitations
MAX_OBJECT_IMAGE_BYTES = 20_000_000

# Imported models: "The serialized size of the model must be less than 450 MB." (same page)
MAX_MODEL_BYTES = 450_000_000
# CREATE MODEL's model_type for imported models, and the file each needs under model_path.
MODEL_TYPE_FILES = {
    "TENSORFLOW": "saved_model.pb",
    "ONNX": "*.onnx",
    "TENSORFLOW_LITE": "*.tflite",
}
MODEL_TYPES = tuple(MODEL_TYPE_FILES)

# Reservations: baseline and autoscale slots are set "in multiples of 50 slots".
# https://cloud.google.com/bigquery/docs/slots-autoscaling-intro
SLOT_INCREMENT = 50
# Editions whose reservations run BigQuery ML (imported models): STANDARD does not.
# https://cloud.google.com/bigquery/docs/editions-intro
ML_EDITIONS = ("ENTERPRISE", "ENTERPRISE_PLUS")


@dataclass(frozen=True)
class NamingRule:
    pattern: re.Pattern[str]
    wording: str

    def matches(self, value: str) -> bool:
        return self.pattern.fullmatch(value) is not None


def _rule(pattern: str, wording: str) -> NamingRule:
    return NamingRule(re.compile(pattern), wording)


PROJECT_ID = _rule(
    r"[a-z][a-z0-9-]{4,28}[a-z0-9]",
    "must be 6-30 characters of lowercase letters, digits and dashes, "
    "start with a letter and not end with a dash",
)
LOCATION = _rule(
    r"[A-Za-z]+(-[A-Za-z0-9]+)*",
    "must be a BigQuery location such as US, EU or us-central1",
)
DATASET_ID = _rule(
    r"[A-Za-z0-9_]{1,1024}",
    "must be 1-1024 letters, digits or underscores (BigQuery dataset naming)",
)
TABLE_NAME = _rule(
    r"[A-Za-z0-9_]{1,1024}",
    "must be 1-1024 letters, digits or underscores (BigQuery table and model naming)",
)
CONNECTION_ID = _rule(
    r"[A-Za-z0-9_-]{1,1024}",
    "must be 1-1024 letters, digits, underscores or dashes (BigQuery connection naming)",
)
BUCKET_NAME = _rule(
    r"(?!goog)[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]",
    "must be 3-63 lowercase letters, digits, dashes, underscores or dots, start and end "
    "with a letter or digit, and not start with 'goog' (Cloud Storage bucket naming)",
)
RESERVATION_NAME = _rule(
    r"[a-z]([a-z0-9-]{0,62}[a-z0-9])?",
    "must be 1-64 lowercase letters, digits or dashes, start with a letter "
    "and not end with a dash (BigQuery reservation naming)",
)
OBJECT_PREFIX = _rule(
    r"(?!.*(^|/)\.\.?(/|$))[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*",
    "must be a folder path of letters, digits, '_', '.', '-' separated by single '/', "
    "with no leading or trailing '/' and no '.' or '..' parts",
)
LABEL_KEY = _rule(
    r"[a-z][a-z0-9_-]{0,62}",
    "must be 1-63 lowercase letters, digits, underscores or dashes, starting with a letter",
)
LABEL_VALUE = _rule(
    r"[a-z0-9_-]{0,63}",
    "must be at most 63 lowercase letters, digits, underscores or dashes",
)
MAX_LABELS = 64

TABLE_ID_WORDING = (
    "expected project.dataset.name (or dataset.name), project of lowercase letters, digits "
    "and dashes, dataset and name of letters, digits and underscores"
)


def is_table_id(value: str) -> bool:
    """`project.dataset.name` or `dataset.name` under the rules above (tables and models)."""
    parts = value.split(".")
    return (
        len(parts) in (2, 3)
        and DATASET_ID.matches(parts[-2])
        and TABLE_NAME.matches(parts[-1])
        and (len(parts) == 2 or PROJECT_ID.matches(parts[0]))
    )


# An object table's columns, and its `data` pseudocolumn (the object's bytes), which
# `SELECT *` leaves out. https://cloud.google.com/bigquery/docs/object-table-introduction
OBJECT_TABLE_COLUMNS = (
    ("uri", "STRING"),
    ("generation", "INT64"),
    ("content_type", "STRING"),
    ("size", "INT64"),
    ("md5_hash", "STRING"),
    ("updated", "TIMESTAMP"),
    ("metadata", "ARRAY<STRUCT<name STRING, value STRING>>"),
)
OBJECT_TABLE_PSEUDO_COLUMNS = (("data", "BYTES"),)

# ML.DECODE_IMAGE "returns a STRUCT<ARRAY<INT64>, ARRAY<FLOAT64>>": the image's
# [height, width, channels], then its pixels in [0, 1].
# https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-decode-image
ML_IMAGE_TYPE = "STRUCT<ARRAY<INT64>, ARRAY<FLOAT64>>"
# ML.CONVERT_IMAGE_TYPE "returns a STRUCT<ARRAY<INT64>, ARRAY<INT64>>", pixels in [0, 255).
# https://cloud.google.com/bigquery/docs/reference/standard-sql/bigqueryml-syntax-convert-image-type
ML_INT_IMAGE_TYPE = "STRUCT<ARRAY<INT64>, ARRAY<INT64>>"
# The image functions: name -> ((argument, type), ...), return type. Pages:
# .../bigqueryml-syntax-decode-image, -resize-image, -convert-color-space, -convert-image-type.
ML_IMAGE_FUNCTIONS: dict[str, tuple[tuple[tuple[str, str], ...], str]] = {
    "DECODE_IMAGE": ((("data", "BYTES"),), ML_IMAGE_TYPE),
    "RESIZE_IMAGE": (
        (
            ("image", ML_IMAGE_TYPE),
            ("target_height", "INT64"),
            ("target_width", "INT64"),
            ("preserve_aspect_ratio", "BOOL"),
        ),
        ML_IMAGE_TYPE,
    ),
    "CONVERT_COLOR_SPACE": (
        (("image", ML_IMAGE_TYPE), ("target_color_space", "STRING")),
        ML_IMAGE_TYPE,
    ),
    "CONVERT_IMAGE_TYPE": ((("image", ML_IMAGE_TYPE),), ML_INT_IMAGE_TYPE),
}

# The REST API's error reasons and the HTTP status each is answered with.
# https://cloud.google.com/bigquery/docs/error-messages
ERROR_REASON_STATUS = {
    "invalid": 400,
    "invalidQuery": 400,
    "bytesBilledLimitExceeded": 400,
    "resourceInUse": 400,
    "notFound": 404,
    "duplicate": 409,
    "stopped": 200,
    "notImplemented": 501,
    "backendError": 500,
    "internalError": 500,
}
# The canonical status text Google APIs send beside the code in `error.status`.
HTTP_STATUS_TEXT = {
    200: "OK",
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
}

# Statement keywords of BigQuery's procedural language, debugging, transaction, DCL and
# data-movement statements: a script may start a statement with any of them.
# https://cloud.google.com/bigquery/docs/reference/standard-sql/procedural-language
# https://cloud.google.com/bigquery/docs/reference/standard-sql/debugging-statements
# https://cloud.google.com/bigquery/docs/reference/standard-sql/data-control-language
# https://cloud.google.com/bigquery/docs/reference/standard-sql/other-statements
SCRIPT_STATEMENT_KEYWORDS = frozenset(
    {
        "DECLARE", "SET", "EXECUTE", "BEGIN", "EXCEPTION", "CASE", "IF", "LOOP", "REPEAT",
        "WHILE", "BREAK", "LEAVE", "CONTINUE", "ITERATE", "FOR", "RETURN", "CALL", "RAISE",
        "ASSERT", "COMMIT", "ROLLBACK", "GRANT", "REVOKE", "EXPORT", "LOAD", "UNDROP",
    }
)  # fmt: skip
