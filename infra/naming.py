"""Naming rules of BigQuery, Cloud Storage and labels, as regular expressions with their wording.

Each rule says in words what it checks, so a config error can name the rule it broke.
The BigQuery identifier rules are deliberately the narrow, always-safe subset the SQL
templates accept back-quoted (letters, digits, underscore; dash only where BigQuery allows it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


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
