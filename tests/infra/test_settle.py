"""The bounded waits of a first `up`, under mocks: each sits between the right resources."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from infra.config import parse_config
from infra.settle import ACCOUNT_SETTLE, APIS_SETTLE
from infra.stack import build_stack
from tests.support.pulumi_harness import (
    ASSIGNMENT,
    BUCKET,
    CONNECTION,
    DATASET,
    IAM_MEMBER,
    RESERVATION,
    SERVICE,
    SERVICE_ACCOUNT,
    SLEEP,
    TABLE,
    Deployment,
    run_program,
    write_model_dir,
)


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    model_dir = write_model_dir(tmp_path_factory.mktemp("model"))
    config = parse_config({"modelDir": str(model_dir)}, project="demo-project-123", stack="unit")

    def program() -> pulumi.Output[Any]:
        resources = build_stack(config)
        return pulumi.Output.all(service_account=resources.lake.service_account)

    monitor, _ = run_program(program, stack="unit")
    return Deployment(monitor.registrations, {})


def test_there_are_exactly_two_waits(deployment: Deployment) -> None:
    assert sorted(r.name for r in deployment.of_type(SLEEP)) == [
        "apis-settle",
        "connection-account-settle",
    ]


def test_the_apis_wait_follows_every_api_and_precedes_their_users(deployment: Deployment) -> None:
    settle = deployment.named(SLEEP, "apis-settle")
    assert settle.inputs["createDuration"] == APIS_SETTLE == "60s"
    assert set(settle.dependencies) == deployment.urns(SERVICE)
    for typ in (RESERVATION, ASSIGNMENT, DATASET, CONNECTION, BUCKET):
        dependencies = set(deployment.one(typ).dependencies)
        assert settle.urn in dependencies, typ
        assert not dependencies & deployment.urns(SERVICE), f"{typ} skips the wait"


def test_the_account_wait_sits_between_the_connection_and_its_grant(
    deployment: Deployment,
) -> None:
    settle = deployment.named(SLEEP, "connection-account-settle")
    assert settle.inputs["createDuration"] == ACCOUNT_SETTLE == "120s"
    assert deployment.one(CONNECTION).urn in settle.dependencies
    # A new connection has a new account: the wait runs again for it.
    assert settle.inputs["triggers"] == {"service_account": SERVICE_ACCOUNT}
    grant = deployment.one(IAM_MEMBER)
    assert settle.urn in grant.dependencies
    assert grant.urn in deployment.one(TABLE).dependencies


def test_nothing_waits_on_the_account_but_the_grant(deployment: Deployment) -> None:
    settle = deployment.named(SLEEP, "connection-account-settle").urn
    waiting = [r.name for r in deployment.registrations if settle in r.dependencies]
    assert waiting == ["connection-object-viewer"]
