"""The data side of the walkthrough: dataset, connection, bucket, its IAM grant, object table."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp
import pulumiverse_time as pulumi_time

from infra.config import StackConfig
from infra.settle import ACCOUNT_SETTLE, settle

OBJECT_VIEWER = "roles/storage.objectViewer"


async def _known(value: object) -> object:
    return value


def _unknown() -> pulumi.Output[str]:
    """An output whose value is not known yet: a preview shows it as `output<string>`."""
    return pulumi.Output(set(), _known(None), _known(False))  # type: ignore[arg-type]


def _service_account(
    cloud_resource: gcp.bigquery.outputs.ConnectionCloudResource | None,
) -> pulumi.Input[str]:
    account = cloud_resource.service_account_id if cloud_resource else None
    if account:
        return account
    if pulumi.runtime.is_dry_run():
        # A preview may know the connection's `cloud_resource` and not yet its account
        # (it is created with the connection): leave it unknown until `up` creates it.
        return _unknown()
    raise pulumi.RunError("the BigQuery connection returned no cloud_resource service account")


class ImageLake(pulumi.ComponentResource):
    """A dataset, a CLOUD_RESOURCE connection, the stack's bucket and an object table.

    The connection's service account may read this bucket only; the grant waits for that
    account to exist (`account_settle`), and the object table is created after the grant,
    since BigQuery checks access when it first lists objects. Every name here is fixed by
    config, so a replacement deletes the old resource first (a second one of the same
    name cannot exist: create-before-delete fails with 409 Already Exists).
    """

    dataset: gcp.bigquery.Dataset
    connection: gcp.bigquery.Connection
    connection_ref: pulumi.Output[str]
    service_account: pulumi.Output[str]
    bucket: gcp.storage.Bucket
    account_settle: pulumi_time.Sleep
    bucket_reader: gcp.storage.BucketIAMMember
    object_table: gcp.bigquery.Table

    def __init__(
        self,
        name: str,
        config: StackConfig,
        *,
        depends_on: Sequence[pulumi.Resource] = (),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("resnet-inference:infra:ImageLake", name, None, opts)
        child = pulumi.ResourceOptions(
            parent=self, depends_on=list(depends_on), delete_before_replace=True
        )
        labels = dict(config.labels)

        self.dataset = gcp.bigquery.Dataset(
            "dataset",
            project=config.project,
            dataset_id=config.dataset_id,
            location=config.location,
            description="ResNet-50 inference over an object table (managed by Pulumi)",
            # Destroy also drops what the post-deploy SQL created in it (model, predictions).
            delete_contents_on_destroy=True,
            labels=labels,
            opts=child,
        )
        self.connection = gcp.bigquery.Connection(
            "connection",
            project=config.project,
            location=config.location,
            connection_id=config.connection_id,
            friendly_name="ResNet inference lake connection",
            cloud_resource=gcp.bigquery.ConnectionCloudResourceArgs(),
            opts=child,
        )
        self.service_account = self.connection.cloud_resource.apply(_service_account)
        # BigQuery reports the connection as `project.location.id` (location lowercase);
        # using that form keeps the object table free of a permanent diff.
        self.connection_ref = pulumi.Output.all(
            self.connection.project, self.connection.location, self.connection.connection_id
        ).apply(lambda parts: f"{parts[0]}.{str(parts[1]).lower()}.{parts[2]}")

        self.bucket = gcp.storage.Bucket(
            "bucket",
            project=config.project,
            name=config.bucket_name,
            location=config.location,
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            force_destroy=True,
            labels=labels,
            opts=child,
        )
        self.account_settle = settle(
            "connection-account-settle",
            ACCOUNT_SETTLE,
            after=[self.connection],
            triggers={"service_account": self.service_account},
            parent=self,
        )
        # The same member on the same bucket is one binding: replacing it must remove the
        # old binding before adding the new one, or the delete would remove the new one.
        self.bucket_reader = gcp.storage.BucketIAMMember(
            "connection-object-viewer",
            bucket=self.bucket.name,
            role=OBJECT_VIEWER,
            member=self.service_account.apply(lambda account: f"serviceAccount:{account}"),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.account_settle], delete_before_replace=True
            ),
        )
        self.object_table = gcp.bigquery.Table(
            "object-table",
            project=config.project,
            dataset_id=self.dataset.dataset_id,
            table_id=config.object_table_name,
            description="Object table over the configured image URIs",
            deletion_protection=False,
            labels=labels,
            external_data_configuration=gcp.bigquery.TableExternalDataConfigurationArgs(
                object_metadata="SIMPLE",
                connection_id=self.connection_ref,
                source_uris=list(config.image_uris),
                autodetect=False,
            ),
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[self.bucket_reader], delete_before_replace=True
            ),
        )
        self.register_outputs(
            {
                "dataset_id": self.dataset.dataset_id,
                "connection_ref": self.connection_ref,
                "bucket_name": self.bucket.name,
                "object_table_id": self.object_table.id,
            }
        )
