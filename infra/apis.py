"""The Google Cloud APIs the stack needs, enabled on the project."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp
import pulumiverse_time as pulumi_time

from infra.config import StackConfig
from infra.settle import APIS_SETTLE, settle

SERVICES = (
    "bigquery.googleapis.com",
    "bigqueryconnection.googleapis.com",
    "bigqueryreservation.googleapis.com",
    "storage.googleapis.com",
)


class ProjectApis(pulumi.ComponentResource):
    """Enables each API once; `ready` (a wait after them) is what every other resource needs."""

    services: list[gcp.projects.Service]
    ready: pulumi_time.Sleep

    def __init__(
        self, name: str, config: StackConfig, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("resnet-inference:infra:ProjectApis", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.services = [
            gcp.projects.Service(
                service.split(".")[0],
                project=config.project,
                service=service,
                # Other workloads in the project may use these APIs: leave them on at destroy.
                disable_on_destroy=False,
                opts=child,
            )
            for service in SERVICES
        ]
        self.ready = settle("apis-settle", APIS_SETTLE, after=self.services, parent=self)
        self.register_outputs({})
