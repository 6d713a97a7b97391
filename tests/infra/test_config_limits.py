"""The stack config's documented edges: topK, labels, the model size, booleans, stack names."""

from __future__ import annotations

from pathlib import Path

import pytest

from bigquery_facts import MAX_LABELS, MAX_MODEL_BYTES
from infra.config import StackConfig, StackConfigError, parse_config
from tests.support.pulumi_harness import write_model_dir

PROJECT = "demo-project-123"


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    return write_model_dir(tmp_path)


def parse(model_dir: Path, stack: str = "dev", **raw: object) -> StackConfig:
    return parse_config({"modelDir": str(model_dir), **raw}, project=PROJECT, stack=stack)


def test_top_k_of_1_is_the_least(model_dir: Path) -> None:
    assert parse(model_dir, topK="1").top_k == 1
    with pytest.raises(StackConfigError, match=r"topK: 0 must be at least 1$"):
        parse(model_dir, topK="0")


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("True", True), ("TRUE", True), ("false", False), ("False", False)],
)
def test_booleans_in_any_case(model_dir: Path, text: str, value: bool) -> None:
    assert parse(model_dir, createReservation=text).reservation.create is value


def test_64_labels_pass_and_65_are_refused(model_dir: Path) -> None:
    labels = {f"k{index}": "v" for index in range(MAX_LABELS)}
    assert len(parse(model_dir, labels=labels).labels) == 64
    with pytest.raises(
        StackConfigError, match=r"config resnet-inference:labels: 65 labels are more than 64$"
    ):
        parse(model_dir, labels={**labels, "one_more": "v"})


@pytest.mark.parametrize("key_or_value", ["key", "value"])
def test_a_bad_label_names_its_key_or_value(model_dir: Path, key_or_value: str) -> None:
    labels = {"Bad Key": "v"} if key_or_value == "key" else {"k": "Bad Value"}
    bad = next(iter(labels)) if key_or_value == "key" else labels["k"]
    with pytest.raises(StackConfigError, match=rf"labels: '{bad}' \(a label {key_or_value}\)"):
        parse(model_dir, labels=labels)


def test_the_stack_label_is_cut_to_63_characters(model_dir: Path) -> None:
    stack = "Prod.EU-" + "x" * 70
    config = parse(model_dir, stack=stack, bucketName="b-1", reservationName="r-1")
    label = config.labels["stack"]
    assert label == ("prod-eu-" + "x" * 70)[:63] and len(label) == 63


def test_the_model_may_be_one_byte_under_450_mb(model_dir: Path) -> None:
    padding = model_dir / "variables" / "padding.data"
    others = sum(p.stat().st_size for p in model_dir.rglob("*") if p.is_file())
    with padding.open("wb") as sparse:
        sparse.truncate(MAX_MODEL_BYTES - 1 - others)
    assert "variables/padding.data" in parse(model_dir).model_files
    with padding.open("wb") as sparse:
        sparse.truncate(MAX_MODEL_BYTES - others)
    with pytest.raises(
        StackConfigError,
        match=r"holds 450,000,000 bytes; BigQuery imports models of less than 450 MB \(450,000,000 bytes\)$",
    ):
        parse(model_dir)


def test_an_unknown_key_suggests_the_closest_one_or_nothing(model_dir: Path) -> None:
    with pytest.raises(
        StackConfigError,
        match=r"^unknown config key resnet-inference:topk \(did you mean resnet-inference:topK\?\)$",
    ):
        parse(model_dir, topk="5")
    with pytest.raises(StackConfigError, match=r"^unknown config key resnet-inference:zzzzzz$"):
        parse(model_dir, zzzzzz="5")
