"""The private bucket of download forms' materials: a short-lived link to one (when it is there), and putting one."""

from __future__ import annotations

import mimetypes
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from nurture.adapters.aws import PRESIGNING, client, no_such_object
from nurture.domain.errors import StoreUnavailable
from nurture.topology import MATERIAL_PREFIX

LINK_SECONDS = 300  # the presigned link is followed at once, by the browser the download link redirected


class S3Materials:
    """The bucket `nurture config push` puts materials in (under MATERIAL_PREFIX), and the files the deploy shipped
    (`shipped`: name -> s3://bucket/key), which a pushed file of the same name replaces."""

    def __init__(self, bucket: str, s3: Any = None, shipped: dict[str, str] | None = None):
        self._bucket = bucket
        self._s3 = s3
        self._shipped = shipped or {}

    @property
    def _client(self) -> Any:
        return self._s3 or client("s3", PRESIGNING)  # the shared client (adapters.aws), unless one was given

    def link(self, name: str) -> str | None:
        """A presigned GET of the material, saved under its own name; None when there is no such file."""
        bucket, key = self._bucket, MATERIAL_PREFIX + name
        if not self._exists(bucket, key):
            if name not in self._shipped:
                return None
            bucket, _, key = self._shipped[name].removeprefix("s3://").partition("/")  # deployed with the stack
        # Signing is local: nothing more is asked of S3 until the browser follows it.
        url: str = self._client.generate_presigned_url("get_object", ExpiresIn=LINK_SECONDS, Params={
            "Bucket": bucket, "Key": key, "ResponseContentDisposition": f'attachment; filename="{name}"'})
        return url

    def _exists(self, bucket: str, key: str) -> bool:
        if not bucket:
            return False
        try:
            self._client.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if no_such_object(error):
                return False
            raise StoreUnavailable(f"s3 {error.response['Error']['Code']}") from error
        except BotoCoreError as error:
            raise StoreUnavailable(f"s3 {type(error).__name__}") from error
        return True

    def put(self, name: str, body: bytes) -> None:
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        try:
            self._client.put_object(Bucket=self._bucket, Key=MATERIAL_PREFIX + name, Body=body,
                                    ContentType=content_type)
        except (ClientError, BotoCoreError) as error:
            raise StoreUnavailable(f"s3 {type(error).__name__}") from error
