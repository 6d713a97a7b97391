"""Bounded waits for what Google Cloud finishes after it answers: `pulumiverse_time.Sleep`.

A fresh project meets two eventually consistent steps that no provider waits for:
APIs enabled in the same `up` are not usable at once (terraform-provider-google issue
11465), and a CLOUD_RESOURCE connection's service account is created asynchronously, so
granting it a role right away can fail with `400 Service account ... does not exist` (the
Google provider's own object-table tests wait 120 s for it, magic-modules PR 18751).

`Sleep` waits only when it is created, or when one of its `triggers` changes (a new
connection, hence a new account): later `up`s and every preview pass straight through.
Its SDK is pure Python; `pulumi` fetches its plugin (`time`, from the pulumiverse GitHub
releases) on first use like any provider plugin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumiverse_time as pulumi_time

# After enabling the APIs, before anything that uses them.
APIS_SETTLE = "60s"
# After the connection exists, before its service account is granted a role.
ACCOUNT_SETTLE = "120s"


def settle(
    name: str,
    duration: str,
    *,
    after: Sequence[pulumi.Resource],
    triggers: Mapping[str, pulumi.Input[str]] | None = None,
    parent: pulumi.Resource | None = None,
) -> pulumi_time.Sleep:
    """A wait of `duration` once `after` exist; depend on it to start only after the wait."""
    return pulumi_time.Sleep(
        name,
        create_duration=duration,
        triggers=dict(triggers) if triggers else None,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(after)),
    )
