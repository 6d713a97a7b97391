"""Each identifier rule exactly at and one past its documented length, and its characters."""

from __future__ import annotations

import pytest

import bigquery_facts as facts
from bigquery_facts import NamingRule


@pytest.mark.parametrize(
    ("rule", "longest", "too_long"),
    [
        (facts.PROJECT_ID, "a" * 30, "a" * 31),
        (facts.DATASET_ID, "D" * 1024, "D" * 1025),
        (facts.TABLE_NAME, "t" * 1024, "t" * 1025),
        (facts.CONNECTION_ID, "c" * 1024, "c" * 1025),
        (facts.BUCKET_NAME, "b" * 63, "b" * 64),
        (facts.RESERVATION_NAME, "r" * 64, "r" * 65),
        (facts.LABEL_KEY, "k" * 63, "k" * 64),
        (facts.LABEL_VALUE, "v" * 63, "v" * 64),
    ],
)
def test_longest_name_passes_and_one_more_character_fails(
    rule: NamingRule, longest: str, too_long: str
) -> None:
    assert rule.matches(longest)
    assert not rule.matches(too_long)


@pytest.mark.parametrize(
    ("rule", "shortest", "too_short"),
    [
        (facts.PROJECT_ID, "abcdef", "abcde"),
        (facts.DATASET_ID, "d", ""),
        (facts.TABLE_NAME, "t", ""),
        (facts.CONNECTION_ID, "c", ""),
        (facts.BUCKET_NAME, "abc", "ab"),
        (facts.RESERVATION_NAME, "r", ""),
        (facts.LABEL_KEY, "k", ""),
    ],
)
def test_shortest_name_passes_and_one_less_fails(
    rule: NamingRule, shortest: str, too_short: str
) -> None:
    assert rule.matches(shortest)
    assert not rule.matches(too_short)


def test_a_label_value_may_be_empty() -> None:
    assert facts.LABEL_VALUE.matches("")


@pytest.mark.parametrize(
    ("rule", "good", "bad"),
    [
        (facts.PROJECT_ID, ["my-project-1"], ["My-project", "1project", "project-", "my_project"]),
        (facts.DATASET_ID, ["My_Data_1"], ["my-data", "my.data", "my data", "dätä", "x`y"]),
        (facts.TABLE_NAME, ["Tbl_9"], ["tbl-9", "tbl.9", "tbl;", "t\n"]),
        (facts.CONNECTION_ID, ["conn-1_A"], ["conn.1", "conn 1", "conn`"]),
        (
            facts.BUCKET_NAME,
            ["my.bucket_1-a", "9bucket"],
            ["googbucket", "-bucket", "bucket-", "Bucket", "buc/ket"],
        ),
        (facts.RESERVATION_NAME, ["res-1"], ["Res", "1res", "res-", "res_1"]),
        (facts.LABEL_KEY, ["app_1-x"], ["App", "1app", "_app", "a.b"]),
        (facts.LABEL_VALUE, ["1-a_b"], ["A", "a.b", "a b"]),
        (
            facts.LOCATION,
            ["US", "EU", "us-central1", "europe-west4"],
            ["us central1", "us_", "-us"],
        ),
        (
            facts.OBJECT_PREFIX,
            ["resnet_50", "models/r50", "a.b/c-d"],
            ["/abs", "trail/", "a//b", "..", "a/../b", "./a", "a/.", "sp ace"],
        ),
    ],
)
def test_characters(rule: NamingRule, good: list[str], bad: list[str]) -> None:
    assert [value for value in good if not rule.matches(value)] == []
    assert [value for value in bad if rule.matches(value)] == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ds.t", True),
        ("my-project.ds.t", True),
        ("my_dataset.t1", True),  # dataset.name
        ("t", False),
        ("a.b.c.d", False),
        ("My-project.ds.t", False),
        ("abcde.ds.t", False),
        ("my-project.ds-x.t", False),
        ("my-project.ds.t-x", False),
        ("my-project..t", False),
        ("ds.", False),
        ("." + "t" * 1024, False),
        ("d" * 1024 + "." + "t" * 1024, True),
        ("d" * 1025 + ".t", False),
    ],
)
def test_is_table_id(value: str, expected: bool) -> None:
    assert facts.is_table_id(value) is expected


def test_documented_limits() -> None:
    assert facts.MAX_DECODE_IMAGE_BYTES == 10_000_000
    assert facts.MAX_OBJECT_IMAGE_BYTES == 20_000_000
    assert facts.MAX_MODEL_BYTES == 450_000_000
    assert facts.MAX_LABELS == 64
    assert facts.MODEL_TYPES == ("TENSORFLOW", "ONNX", "TENSORFLOW_LITE")
    assert facts.DECODABLE_CONTENT_TYPES == ("image/jpeg", "image/png", "image/bmp")
