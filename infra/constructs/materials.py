"""Download forms' materials: a private bucket `nurture config push` puts them in, and the files config/assets/
shipped with the deploy as file assets (no custom resource). The tracking function hands one out through a
presigned link of a few minutes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from aws_cdk import Stack
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from infra.constructs.buckets import acknowledge_prefix, marketer_bucket
from nurture.config.materials import shipped_materials
from nurture.topology import MATERIAL_PREFIX

if TYPE_CHECKING:
    from infra.constructs.function import NurtureFunction


class Materials(Construct):
    def __init__(self, scope: Construct, construct_id: str, shipped_config: Path) -> None:
        super().__init__(scope, construct_id)
        self.bucket = marketer_bucket(
            self, "Bucket", "Holds only the materials download forms hand out; each download is recorded on its lead, "
                            "and CloudTrail data events can be switched on for a full audit.")
        self.shipped = {name: s3_assets.Asset(self, f"Shipped{number}", path=str(path))
                        for number, (name, path) in enumerate(shipped_materials(shipped_config).items())}

    @property
    def shipped_locations(self) -> str:
        """`{name: "s3://bucket/key"}` of the deployed files, as JSON for an environment variable."""
        return Stack.of(self).to_json_string({name: asset.s3_object_url for name, asset in self.shipped.items()})

    def grant_read(self, function: NurtureFunction) -> None:
        """The pushed materials under their prefix, and exactly the deployed files."""
        function.allow(["s3:GetObject"], [self.bucket.arn_for_objects(f"{MATERIAL_PREFIX}*")] +
                       [asset.bucket.arn_for_objects(asset.s3_object_key) for asset in self.shipped.values()])
        # Without it S3 answers the HEAD of a file not pushed (so handed over as the deploy shipped it) 403, not 404.
        function.allow(["s3:ListBucket"], [self.bucket.bucket_arn])
        acknowledge_prefix(function, self.bucket, MATERIAL_PREFIX,
                           "Any material a pushed config names may be handed out; the bucket holds nothing else.")
