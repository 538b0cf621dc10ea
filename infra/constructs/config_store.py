"""Where `nurture config push` publishes marketer config versions, and the deploy's own version 1."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from infra import paths
from infra.constructs.buckets import acknowledge_prefix, marketer_bucket
from nurture.config.loader import read_config_files
from nurture.config.versions import ACTIVE_KEY, VERSIONS_PREFIX, deployed_version

if TYPE_CHECKING:
    from infra.constructs.function import NurtureFunction


class ConfigStore(Construct):
    def __init__(self, scope: Construct, construct_id: str, shipped_config: Path) -> None:
        super().__init__(scope, construct_id)
        # Each pushed version is a new key; versioning also keeps a pointer overwritten by mistake.
        self.bucket = marketer_bucket(
            self, "Bucket", "Holds only marketer config: every version records who pushed it and when, and the active "
                            "pointer who made it active. CloudTrail data events can be switched on for a full audit.")
        # Version 1 as a file asset: `cdk deploy` uploads it with the rest, no custom resource. The functions
        # read the same files from their config layer; the CLI reads this copy to diff and to show status.
        self.deployed = s3_assets.Asset(self, "Deployed", path=str(_bundle_file(shipped_config)))

    def grant_read(self, function: NurtureFunction) -> None:
        """The pointer and the versions, nothing else; ListBucket makes a missing pointer (nothing pushed yet) a
        404 rather than a 403."""
        function.allow(["s3:GetObject"], [self.bucket.arn_for_objects(ACTIVE_KEY),
                                          self.bucket.arn_for_objects(f"{VERSIONS_PREFIX}*")])
        function.allow(["s3:ListBucket"], [self.bucket.bucket_arn])
        acknowledge_prefix(function, self.bucket, VERSIONS_PREFIX, "Any pushed config version may become the active "
                                                                   "one; the bucket holds nothing else to read.")

    def grant_publish(self, function: NurtureFunction) -> None:
        """The pointer, written (a push, a rollback to a pushed version) or deleted (a rollback to the deploy's own),
        and new versions: a version is written only if no object has its key (`If-None-Match`), so one once
        published is never replaced."""
        function.allow(["s3:PutObject", "s3:DeleteObject"], [self.bucket.arn_for_objects(ACTIVE_KEY)])
        function.allow(["s3:PutObject"], [self.bucket.arn_for_objects(f"{VERSIONS_PREFIX}*")],
                       conditions={"Null": {"s3:if-none-match": "false"}})  # IAM holds the role to If-None-Match too

    @property
    def deployed_url(self) -> str:
        return self.deployed.s3_object_url


def _bundle_file(config_dir: Path) -> Path:
    text = deployed_version(read_config_files(config_dir), "cdk deploy").to_json()
    path = paths.REPO / ".build" / "config-bundles" / f"{hashlib.sha256(text.encode()).hexdigest()[:16]}.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path
