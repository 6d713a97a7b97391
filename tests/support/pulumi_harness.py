"""Pulumi's own mocks, with a monitor that keeps what each registration asked for.

No network and no CLI: the mocks answer with the ids and computed fields GCP would, and
the monitor records each custom resource's inputs and the URNs it waits on. Shared by
the stack, post-deploy and outputs-contract tests.
"""

from __future__ import annotations

import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.runtime.mocks import MockMonitor

from tests.support.savedmodel_pb import resnet_signature_pb

REPO = Path(__file__).resolve().parents[2]
PULUMI_PROJECT = "resnet-inference"
SERVICE_ACCOUNT = "bqcx-123456789-abcd@gcp-sa-bigquery-condel.iam.gserviceaccount.com"
DATASET_CREATION_TIME = 1700000000000

SERVICE = "gcp:projects/service:Service"
RESERVATION = "gcp:bigquery/reservation:Reservation"
ASSIGNMENT = "gcp:bigquery/reservationAssignment:ReservationAssignment"
DATASET = "gcp:bigquery/dataset:Dataset"
CONNECTION = "gcp:bigquery/connection:Connection"
BUCKET = "gcp:storage/bucket:Bucket"
IAM_MEMBER = "gcp:storage/bucketIAMMember:BucketIAMMember"
TABLE = "gcp:bigquery/table:Table"
OBJECT = "gcp:storage/bucketObject:BucketObject"
DYNAMIC = "pulumi-python:dynamic:Resource"
SLEEP = "time:index/sleep:Sleep"

# A SavedModel directory's shape: enough for the stack, which uploads the files and reads
# the serving signature from saved_model.pb.
MODEL_FILES = {
    "saved_model.pb": resnet_signature_pb(),
    "fingerprint.pb": b"fingerprint",
    "variables/variables.index": b"index",
    "variables/variables.data-00000-of-00001": b"\x00" * 64,
}


@dataclass
class Registration:
    typ: str
    name: str
    urn: str
    id: str
    inputs: dict[str, Any]
    dependencies: list[str]
    delete_before_replace: bool = False
    # The inputs exactly as the program sent them (secrets still wrapped).
    wire_inputs: struct_pb2.Struct | None = None


class GcpMocks(pulumi.runtime.Mocks):
    """Echoes inputs back as outputs, plus the fields GCP computes."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        resource_id = f"{args.name}-id"
        if args.typ == CONNECTION:
            outputs["cloudResource"] = {"serviceAccountId": SERVICE_ACCOUNT}
            resource_id = (
                f"projects/{args.inputs['project']}/locations/{args.inputs['location']}"
                f"/connections/{args.inputs['connectionId']}"
            )
        elif args.typ == RESERVATION:
            resource_id = (
                f"projects/{args.inputs['project']}/locations/{args.inputs['location']}"
                f"/reservations/{args.inputs['name']}"
            )
        elif args.typ == BUCKET:
            outputs["url"] = f"gs://{args.inputs['name']}"
        elif args.typ == DATASET:
            outputs["creationTime"] = DATASET_CREATION_TIME
        return resource_id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


class RecordingMonitor(MockMonitor):
    """Keeps what the stock mock monitor drops: the request's inputs and dependencies."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[Registration] = []

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.custom:
            self.registrations.append(
                Registration(
                    typ=request.type,
                    name=request.name,
                    urn=response.urn,
                    id=response.id,
                    inputs=pulumi.runtime.rpc.deserialize_properties(request.object),
                    dependencies=list(request.dependencies),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    wire_inputs=request.object,
                )
            )
        return response


@dataclass
class Deployment:
    registrations: list[Registration]
    outputs: dict[str, Any]

    def of_type(self, typ: str) -> list[Registration]:
        return [r for r in self.registrations if r.typ == typ]

    def one(self, typ: str) -> Registration:
        found = self.of_type(typ)
        assert len(found) == 1, f"expected one {typ}, got {[r.name for r in found]}"
        return found[0]

    def named(self, typ: str, name: str) -> Registration:
        found = [r for r in self.of_type(typ) if r.name == name]
        assert len(found) == 1, f"expected one {typ} named {name}, got {len(found)}"
        return found[0]

    def urns(self, typ: str) -> set[str]:
        return {r.urn for r in self.of_type(typ)}


def run_program(
    program: Callable[[], pulumi.Output[Any]],
    *,
    stack: str,
    preview: bool = False,
    mocks: pulumi.runtime.Mocks | None = None,
) -> tuple[RecordingMonitor, dict[str, Any]]:
    """Run `program` under the mocks (an update unless `preview`); it returns an Output of outputs."""
    mocks = mocks or GcpMocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(
        mocks, project=PULUMI_PROJECT, stack=stack, preview=preview, monitor=monitor
    )
    outputs: dict[str, Any] = {}
    pulumi.runtime.test(lambda: program().apply(outputs.update))()
    return monitor, outputs


def deploy_main(config: Mapping[str, str], *, stack: str, preview: bool = False) -> Deployment:
    """Run the project's own `__main__.py` with `config` (full `namespace:key` names)."""

    def program() -> pulumi.Output[Any]:
        runpy.run_path(str(REPO / "__main__.py"), run_name="__main__")
        root = pulumi.runtime.get_root_resource()
        assert root is not None
        return pulumi.Output.all(**dict(root.outputs))  # type: ignore[attr-defined]

    pulumi.runtime.set_all_config(dict(config))
    try:
        monitor, outputs = run_program(program, stack=stack, preview=preview)
    finally:
        pulumi.runtime.set_all_config({})
    return Deployment(monitor.registrations, outputs)


def write_model_dir(root: Path, files: Mapping[str, bytes] = MODEL_FILES) -> Path:
    model_dir = root / "resnet_50"
    for relative, content in files.items():
        path = model_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return model_dir
