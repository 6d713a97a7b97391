"""The model directory uploaded to the stack's bucket, one object per file."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_gcp as gcp

from infra.config import StackConfig


class ModelFiles(pulumi.ComponentResource):
    """`modelDir/<path>` becomes `gs://bucket/modelPrefix/<path>` for every file in it.

    Objects are keyed by their relative path, so changing one file replaces one object.
    The replacement has the old object's name: it is deleted first, or deleting the old
    object after uploading the new one would delete the new one.
    """

    objects: dict[str, gcp.storage.BucketObject]

    def __init__(
        self,
        name: str,
        config: StackConfig,
        bucket: gcp.storage.Bucket,
        *,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("resnet-inference:infra:ModelFiles", name, None, opts)
        self.objects = {
            relative: gcp.storage.BucketObject(
                f"model/{relative}",
                bucket=bucket.name,
                name=f"{config.model_prefix}/{relative}",
                source=pulumi.FileAsset(str(config.model_dir / relative)),
                content_type="application/octet-stream",
                opts=pulumi.ResourceOptions(parent=self, delete_before_replace=True),
            )
            for relative in config.model_files
        }
        self.register_outputs({"count": len(self.objects)})

    @property
    def resources(self) -> Sequence[gcp.storage.BucketObject]:
        return list(self.objects.values())
