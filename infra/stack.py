"""Declares every resource of the stack, in dependency order, from a validated config."""

from __future__ import annotations

from dataclasses import dataclass

from infra.apis import ProjectApis
from infra.config import StackConfig
from infra.lake import ImageLake
from infra.model_files import ModelFiles
from infra.reservation import SlotReservation


@dataclass(frozen=True)
class StackResources:
    apis: ProjectApis
    # None when `createReservation` is false (the project already has one).
    reservation: SlotReservation | None
    lake: ImageLake
    model_files: ModelFiles


def build_stack(config: StackConfig) -> StackResources:
    apis = ProjectApis("apis", config)
    reservation = (
        SlotReservation("slots", config, depends_on=[apis.ready])
        if config.reservation.create
        else None
    )
    lake = ImageLake("lake", config, depends_on=[apis.ready])
    model_files = ModelFiles("model-files", config, lake.bucket)
    return StackResources(apis=apis, reservation=reservation, lake=lake, model_files=model_files)
