"""Each policy's validate function on passing and failing resources, and the stack as declared.

`PolicyPack` starts a server when constructed, so the pack itself stays out of tests;
the functions are called as `pulumi_policy` calls them: (args, report_violation).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from policy import rules
from tests.support.pulumi_harness import Deployment, deploy_main, write_model_dir


@dataclass
class Args:
    resource_type: str
    props: Mapping[str, Any]
    name: str = "r"


@dataclass
class StackArgs:
    resources: list[Args]


@dataclass
class Violations:
    messages: list[str] = field(default_factory=list)

    def __call__(self, message: str, urn: str | None = None) -> None:
        self.messages.append(message)


def violations(validate: Any, args: Any) -> list[str]:
    report = Violations()
    validate(args, report)
    return report.messages


PRIVATE_BUCKET = {"uniformBucketLevelAccess": True, "publicAccessPrevention": "enforced"}
RESERVATION = {"edition": "ENTERPRISE", "slotCapacity": 0, "autoscale": {"maxSlots": 50}}


def test_a_private_bucket_passes() -> None:
    assert violations(rules.bucket_stays_private, Args(rules.BUCKET, PRIVATE_BUCKET)) == []


@pytest.mark.parametrize(
    ("props", "expected"),
    [
        ({**PRIVATE_BUCKET, "uniformBucketLevelAccess": False}, "uniform bucket-level access"),
        ({"publicAccessPrevention": "enforced"}, "uniform bucket-level access"),
        ({**PRIVATE_BUCKET, "publicAccessPrevention": "inherited"}, "public access prevention"),
        ({"uniformBucketLevelAccess": True}, "public access prevention"),
    ],
)
def test_a_bucket_open_to_the_public_fails(props: dict[str, Any], expected: str) -> None:
    found = violations(rules.bucket_stays_private, Args(rules.BUCKET, props, "bucket"))
    assert len(found) == 1
    assert expected in found[0]


def test_bucket_rule_ignores_other_types() -> None:
    assert violations(rules.bucket_stays_private, Args(rules.DATASET, {})) == []


@pytest.mark.parametrize("edition", ["ENTERPRISE", "ENTERPRISE_PLUS", "enterprise"])
def test_editions_that_run_imported_models_pass(edition: str) -> None:
    args = Args(rules.RESERVATION, {**RESERVATION, "edition": edition})
    assert violations(rules.reservation_runs_imported_models, args) == []


@pytest.mark.parametrize("edition", ["STANDARD", None, "FLEX"])
def test_standard_or_missing_edition_fails(edition: str | None) -> None:
    props = {**RESERVATION, "edition": edition}
    found = violations(rules.reservation_runs_imported_models, Args(rules.RESERVATION, props))
    assert len(found) == 1
    assert "cannot run imported models" in found[0]


@pytest.mark.parametrize(
    "props",
    [
        RESERVATION,
        {**RESERVATION, "slotCapacity": 100, "autoscale": {"maxSlots": 0}},
        {"edition": "ENTERPRISE", "slotCapacity": 50},
    ],
)
def test_slots_in_steps_of_fifty_pass(props: dict[str, Any]) -> None:
    assert violations(rules.reservation_slots_in_steps, Args(rules.RESERVATION, props)) == []


@pytest.mark.parametrize(
    ("props", "key"),
    [
        ({**RESERVATION, "slotCapacity": 25}, "slotCapacity 25"),
        ({**RESERVATION, "slotCapacity": -50}, "slotCapacity -50"),
        ({**RESERVATION, "autoscale": {"maxSlots": 60}}, "autoscale.maxSlots 60"),
        ({**RESERVATION, "slotCapacity": "fifty"}, "slotCapacity 'fifty'"),
    ],
)
def test_slots_off_the_steps_fail(props: dict[str, Any], key: str) -> None:
    found = violations(rules.reservation_slots_in_steps, Args(rules.RESERVATION, props))
    assert found == [f"reservation r: {key} is not a multiple of 50 slots"]


def test_a_zero_baseline_is_not_warned_about() -> None:
    args = Args(rules.RESERVATION, RESERVATION)
    assert violations(rules.reservation_baseline_bills_always, args) == []


def test_a_baseline_is_warned_about() -> None:
    args = Args(rules.RESERVATION, {**RESERVATION, "slotCapacity": 100})
    found = violations(rules.reservation_baseline_bills_always, args)
    assert len(found) == 1
    assert "100 baseline slots are billed around the clock" in found[0]


def object_table(uris: list[str]) -> dict[str, Any]:
    return {"externalDataConfiguration": {"objectMetadata": "SIMPLE", "sourceUris": uris}}


def test_gs_uris_pass() -> None:
    args = Args(rules.TABLE, object_table(["gs://a/*.jpg", "gs://b/x.png"]))
    assert violations(rules.object_table_reads_cloud_storage, args) == []


@pytest.mark.parametrize(
    ("uris", "expected"),
    [
        (["gs://a/*.jpg", "s3://b/x.jpg"], "'s3://b/x.jpg' is not a gs:// URI"),
        (["https://storage.googleapis.com/a/x.jpg"], "is not a gs:// URI"),
        (["GS://a/x.jpg"], "is not a gs:// URI"),
        ([], "lists no source URIs"),
    ],
)
def test_other_uris_fail(uris: list[str], expected: str) -> None:
    found = violations(
        rules.object_table_reads_cloud_storage, Args(rules.TABLE, object_table(uris))
    )
    assert len(found) == 1
    assert expected in found[0]


def test_a_table_that_is_not_an_object_table_is_left_alone() -> None:
    args = Args(rules.TABLE, {"externalDataConfiguration": {"sourceUris": ["s3://x"]}})
    assert violations(rules.object_table_reads_cloud_storage, args) == []


LABELS = {"app": "resnet-inference", "stack": "dev"}


def labelled_stack(*labels: Any) -> StackArgs:
    types = (rules.RESERVATION, rules.DATASET, rules.BUCKET, rules.TABLE)
    return StackArgs(
        [
            Args(typ, {"labels": value}, f"r{i}")
            for i, (typ, value) in enumerate(zip(types, labels, strict=True))
        ]
        + [Args("gcp:bigquery/connection:Connection", {}, "connection")]
    )


def test_the_same_labels_everywhere_pass() -> None:
    stack = labelled_stack(LABELS, LABELS, LABELS, LABELS)
    assert violations(rules.resources_carry_the_stack_labels, stack) == []


def test_a_resource_without_labels_fails() -> None:
    found = violations(
        rules.resources_carry_the_stack_labels, labelled_stack(LABELS, None, LABELS, {})
    )
    assert found == [
        f"r1 ({rules.DATASET}) carries no labels",
        f"r3 ({rules.TABLE}) carries no labels",
    ]


def test_different_labels_fail() -> None:
    stack = labelled_stack(LABELS, LABELS, {**LABELS, "stack": "prod"}, LABELS)
    found = violations(rules.resources_carry_the_stack_labels, stack)
    assert len(found) == 1
    assert "different labels" in found[0]


def test_a_project_wide_query_assignment_is_flagged() -> None:
    args = Args(rules.ASSIGNMENT, {"assignee": "projects/p", "jobType": "QUERY"})
    found = violations(rules.project_wide_query_assignment, args)
    assert len(found) == 1
    assert "every query of projects/p runs on this reservation" in found[0]


@pytest.mark.parametrize(
    "props",
    [
        {"assignee": "projects/p", "jobType": "PIPELINE"},
        {"assignee": "folders/123", "jobType": "QUERY"},
    ],
)
def test_other_assignments_are_not_flagged(props: dict[str, Any]) -> None:
    assert violations(rules.project_wide_query_assignment, Args(rules.ASSIGNMENT, props)) == []


def test_every_rule_is_wired_once_with_its_level() -> None:
    names = [rule.name for rule in rules.RULES]
    assert len(set(names)) == len(names) == 7
    advisory = {rule.name for rule in rules.RULES if rule.advisory}
    assert advisory == {"reservation-baseline-bills-always", "project-wide-query-assignment"}
    for rule in rules.RULES:
        assert (rule.validate_resource is None) != (rule.validate_stack is None), rule.name


# --- the stack as declared ---


@pytest.fixture(scope="module")
def declared(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    model_dir: Path = write_model_dir(tmp_path_factory.mktemp("model"))
    return deploy_main(
        {"gcp:project": "policy-project", "resnet-inference:modelDir": str(model_dir)},
        stack="dev",
    )


def test_the_stack_as_declared_passes_every_mandatory_rule(declared: Deployment) -> None:
    resources = [Args(r.typ, r.inputs, r.name) for r in declared.registrations]
    found: dict[str, list[str]] = {}
    for rule in rules.RULES:
        if rule.validate_stack is not None:
            found[rule.name] = violations(rule.validate_stack, StackArgs(resources))
        else:
            found[rule.name] = [
                message
                for resource in resources
                for message in violations(rule.validate_resource, resource)
            ]
    mandatory = {rule.name for rule in rules.RULES if not rule.advisory}
    assert {name: messages for name, messages in found.items() if name in mandatory} == {
        name: [] for name in mandatory
    }
    # The one advisory finding the stack is meant to have: the project-wide assignment.
    assert found["reservation-baseline-bills-always"] == []
    assert len(found["project-wide-query-assignment"]) == 1
