"""The stack's policies as plain validate functions, free of `pulumi_policy`.

Each function has the signature `pulumi_policy` calls (`args`, `report_violation`) and
reads only `args.resource_type`, `args.props` (engine property names, camelCase) and
`args.resources`, so tests call it directly and `policy/__main__.py` wires it into the
pack. Pulumi runs a pack from its own folder in its own virtualenv, so the facts come from
the project root (`bigquery_facts`), put on the path by `__main__.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from bigquery_facts import ML_EDITIONS, SLOT_INCREMENT

BUCKET = "gcp:storage/bucket:Bucket"
RESERVATION = "gcp:bigquery/reservation:Reservation"
ASSIGNMENT = "gcp:bigquery/reservationAssignment:ReservationAssignment"
DATASET = "gcp:bigquery/dataset:Dataset"
TABLE = "gcp:bigquery/table:Table"
# The stack's resources that take labels.
LABELABLE = (RESERVATION, DATASET, BUCKET, TABLE)


class Resource(Protocol):
    """What a policy reads of a resource (pulumi_policy's ResourceValidationArgs/PolicyResource)."""

    @property
    def resource_type(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def props(self) -> Mapping[str, Any]: ...


class Stack(Protocol):
    """What a stack policy reads (pulumi_policy's StackValidationArgs)."""

    @property
    def resources(self) -> Sequence[Resource]: ...


class Report(Protocol):
    def __call__(self, message: str, urn: str | None = None) -> None: ...


def bucket_stays_private(args: Resource, report: Report) -> None:
    if args.resource_type != BUCKET:
        return
    props = args.props
    if props.get("uniformBucketLevelAccess") is not True:
        report(f"bucket {args.name}: uniform bucket-level access must stay on")
    if props.get("publicAccessPrevention") != "enforced":
        report(f"bucket {args.name}: public access prevention must be enforced")


def reservation_runs_imported_models(args: Resource, report: Report) -> None:
    if args.resource_type != RESERVATION:
        return
    edition = str(args.props.get("edition") or "STANDARD").upper()
    if edition not in ML_EDITIONS:
        report(
            f"reservation {args.name}: edition {edition} cannot run imported models "
            f"(one of {', '.join(ML_EDITIONS)})"
        )


def _slots(props: Mapping[str, Any]) -> dict[str, object]:
    autoscale = props.get("autoscale") or {}
    return {
        "slotCapacity": props.get("slotCapacity", 0),
        "autoscale.maxSlots": autoscale.get("maxSlots", 0) if isinstance(autoscale, Mapping) else 0,
    }


def reservation_slots_in_steps(args: Resource, report: Report) -> None:
    if args.resource_type != RESERVATION:
        return
    for key, value in _slots(args.props).items():
        if not isinstance(value, int | float) or value < 0 or value % SLOT_INCREMENT:
            report(
                f"reservation {args.name}: {key} {value!r} is not a multiple of "
                f"{SLOT_INCREMENT} slots"
            )


def reservation_baseline_bills_always(args: Resource, report: Report) -> None:
    if args.resource_type != RESERVATION:
        return
    baseline = args.props.get("slotCapacity", 0)
    if baseline:
        report(
            f"reservation {args.name}: {baseline} baseline slots are billed around the clock, "
            "used or not; a baseline of 0 with autoscale bills only while queries run"
        )


def object_table_reads_cloud_storage(args: Resource, report: Report) -> None:
    if args.resource_type != TABLE:
        return
    external = args.props.get("externalDataConfiguration")
    if not isinstance(external, Mapping) or not external.get("objectMetadata"):
        return
    uris = external.get("sourceUris") or []
    for uri in uris:
        if not str(uri).startswith("gs://"):
            report(f"object table {args.name}: source URI {uri!r} is not a gs:// URI")
    if not uris:
        report(f"object table {args.name}: lists no source URIs")


def resources_carry_the_stack_labels(args: Stack, report: Report) -> None:
    labelled = [r for r in args.resources if r.resource_type in LABELABLE]
    seen: dict[str, tuple[tuple[str, object], ...]] = {}
    for resource in labelled:
        labels = resource.props.get("labels")
        if not isinstance(labels, Mapping) or not labels:
            report(f"{resource.name} ({resource.resource_type}) carries no labels")
            continue
        seen[resource.name] = tuple(sorted(labels.items()))
    if len(set(seen.values())) > 1:
        different = ", ".join(f"{name}: {dict(labels)}" for name, labels in sorted(seen.items()))
        report(f"resources carry different labels, not the stack's one set: {different}")


def project_wide_query_assignment(args: Resource, report: Report) -> None:
    if args.resource_type != ASSIGNMENT:
        return
    assignee = str(args.props.get("assignee", ""))
    if args.props.get("jobType") == "QUERY" and assignee.startswith("projects/"):
        report(
            f"assignment {args.name}: every query of {assignee} runs on this reservation "
            "(billed per slot-second), not only this stack's"
        )


@dataclass(frozen=True)
class Rule:
    name: str
    description: str
    advisory: bool
    validate_resource: Callable[[Resource, Report], None] | None = None
    validate_stack: Callable[[Stack, Report], None] | None = None


RULES = (
    Rule(
        "bucket-stays-private",
        "The bucket keeps uniform bucket-level access and enforced public access prevention.",
        advisory=False,
        validate_resource=bucket_stays_private,
    ),
    Rule(
        "reservation-runs-imported-models",
        "The reservation's edition can run imported models (not STANDARD).",
        advisory=False,
        validate_resource=reservation_runs_imported_models,
    ),
    Rule(
        "reservation-slots-in-steps",
        f"Baseline and autoscale slots are multiples of {SLOT_INCREMENT}.",
        advisory=False,
        validate_resource=reservation_slots_in_steps,
    ),
    Rule(
        "reservation-baseline-bills-always",
        "A non-zero baseline is billed around the clock.",
        advisory=True,
        validate_resource=reservation_baseline_bills_always,
    ),
    Rule(
        "object-table-reads-cloud-storage",
        "Object-table source URIs are gs:// URIs.",
        advisory=False,
        validate_resource=object_table_reads_cloud_storage,
    ),
    Rule(
        "resources-carry-the-stack-labels",
        "Every labelable resource carries the stack's labels, the same set on each.",
        advisory=False,
        validate_stack=resources_carry_the_stack_labels,
    ),
    Rule(
        "project-wide-query-assignment",
        "The QUERY assignment moves every query of the project onto the reservation.",
        advisory=True,
        validate_resource=project_wide_query_assignment,
    ),
)
