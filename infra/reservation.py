"""The BigQuery Enterprise reservation imported models need, and its QUERY assignment."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp

from infra.config import StackConfig


class SlotReservation(pulumi.ComponentResource):
    """A reservation with `baseline_slots` always on and autoscale up to `max_slots` more.

    With the default baseline of 0 an idle stack pays for no slots; queries scale up
    in steps of 50 slots and are billed per slot-second while they run.
    """

    reservation: gcp.bigquery.Reservation
    assignment: gcp.bigquery.ReservationAssignment

    def __init__(
        self,
        name: str,
        config: StackConfig,
        *,
        depends_on: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("resnet-inference:infra:SlotReservation", name, None, opts)
        # The reservation's name is fixed, and a project has one QUERY assignment per
        # location: a replacement must delete the old one first (409 otherwise).
        child = pulumi.ResourceOptions(
            parent=self, depends_on=list(depends_on), delete_before_replace=True
        )
        settings = config.reservation
        autoscale = (
            gcp.bigquery.ReservationAutoscaleArgs(max_slots=settings.max_slots)
            if settings.max_slots
            else None
        )
        self.reservation = gcp.bigquery.Reservation(
            "reservation",
            name=settings.name,
            project=config.project,
            location=config.location,
            edition=settings.edition,
            slot_capacity=settings.baseline_slots,
            autoscale=autoscale,
            labels=dict(config.labels),
            opts=child,
        )
        self.assignment = gcp.bigquery.ReservationAssignment(
            "query-assignment",
            project=config.project,
            location=config.location,
            reservation=self.reservation.id,
            assignee=f"projects/{config.project}",
            job_type="QUERY",
            opts=child,
        )
        self.register_outputs({"reservation_name": self.reservation.name})
