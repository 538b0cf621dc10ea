"""The console's page in its bucket, which CloudFront serves (infra/constructs/console_site.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from nurture.adapters.aws import client
from nurture.domain.errors import StoreUnavailable

# CloudFront asks the bucket again at each visit whether a file changed (ETag): a publish shows at once, without
# an invalidation the operator would need the rights to make.
REVALIDATE = "no-cache"


class S3ConsoleSite:
    def __init__(self, bucket: str, s3: Any = None):
        self._bucket = bucket
        self._s3 = s3

    @property
    def _client(self) -> Any:
        return self._s3 or client("s3")  # the shared client (adapters.aws), unless one was given

    def publish(self, files: Mapping[str, tuple[bytes, str]]) -> None:
        """`files`: key -> (body, content type). The page last, so a visitor never gets a page whose script is
        not there yet."""
        for key in sorted(files, key=lambda name: name == "index.html"):
            body, content_type = files[key]
            try:
                self._client.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type,
                                        CacheControl=REVALIDATE)
            except (ClientError, BotoCoreError) as error:
                raise StoreUnavailable(f"s3 {type(error).__name__}") from error
