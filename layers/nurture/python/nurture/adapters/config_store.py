"""The config store: pushed config versions in S3, and the pointer naming the active one.

`versions/<n>.json` is written once (`If-None-Match: *`) and never changed; `active.json` is replaced only
by compare-and-set on its ETag, so two pushes racing cannot both win and a rollback never undoes a push it
did not see. Functions read the pointer through Powertools' parameter cache (a minute by default), and a
version's bundle once per container.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools.utilities.parameters import BaseProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import BotoCoreError, ClientError
from msgspec import Struct

from nurture.adapters.aws import client, no_such_object
from nurture.config.versions import (
    ACTIVE_KEY,
    DEPLOYED_VERSION,
    VERSIONS_PREFIX,
    ActivePointer,
    ConfigVersion,
    DamagedRecord,
)
from nurture.domain.errors import StoreUnavailable, WriteConflict

_VERSION_KEY = re.compile(r"^versions/(\d+)\.json$")


def version_key(number: int) -> str:
    return f"{VERSIONS_PREFIX}{number:06d}.json"


class _S3Objects(BaseProvider):
    """Powertools' cache over S3 GetObject: an absent object reads as an empty string (cached too, so a
    stack that never had a push costs one GET a minute per container, not one per request)."""

    def __init__(self, bucket: str):
        super().__init__()
        self.bucket = bucket

    def _get(self, name: str, **sdk_options: Any) -> str:
        try:
            body: bytes = client("s3").get_object(Bucket=self.bucket, Key=name)["Body"].read()
        except ClientError as error:
            if no_such_object(error):
                return ""
            raise
        return body.decode("utf-8")

    def _get_multiple(self, path: str, **sdk_options: Any) -> dict[str, str]:
        raise NotImplementedError("the config store reads one object at a time")


class Pointer(Struct, frozen=True):
    active: ActivePointer | None  # None: nothing pushed (or rolled back to the deploy's own version)
    etag: str | None

    @property
    def version(self) -> int:
        return self.active.version if self.active else DEPLOYED_VERSION


class ConfigStore:
    def __init__(self, bucket: str):
        self.bucket = bucket
        self._objects = _S3Objects(bucket)

    # Functions' side: cached reads.
    def active_version(self, max_age: int) -> int:
        """The active version's number, read again once the last read is `max_age` seconds old."""
        try:
            text = self._objects.get(ACTIVE_KEY, max_age=max_age)
        except GetParameterError as error:
            raise StoreUnavailable("the config store could not be read") from error
        return _active(str(text)).version if text else DEPLOYED_VERSION

    def version(self, number: int) -> ConfigVersion:
        try:
            text = self._objects.get(version_key(number), max_age=365 * 86400)  # written once, never changed
        except GetParameterError as error:
            raise StoreUnavailable(f"config version {number} could not be read") from error
        if not text:
            raise StoreUnavailable(f"config version {number} is not in the store")
        return ConfigVersion.from_json(str(text))

    # The CLI's side: uncached reads and conditional writes.
    def pointer(self) -> Pointer:
        try:
            answer = self._s3.get_object(Bucket=self.bucket, Key=ACTIVE_KEY)
        except ClientError as error:
            if no_such_object(error):
                return Pointer(None, None)
            raise _unavailable(error) from error
        except BotoCoreError as error:
            raise _unavailable(error) from error
        return Pointer(_active(answer["Body"].read()), answer["ETag"])

    def active(self, deployed_url: str, seen: Pointer | None = None) -> ConfigVersion:
        """The version functions use: the pushed one the pointer (`seen`, or read now) names, or the bundle
        the deploy shipped, at `deployed_url` (a stack output)."""
        number = (seen or self.pointer()).version
        return self.deployed(deployed_url) if number == DEPLOYED_VERSION else self.version(number)

    def deployed(self, url: str) -> ConfigVersion:
        """Version 1, the bundle `cdk deploy` shipped, at `s3://bucket/key` (a stack output)."""
        bucket, _, key = url.removeprefix("s3://").partition("/")
        try:
            body = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except (BotoCoreError, ClientError) as error:
            raise _unavailable(error) from error
        return ConfigVersion.from_json(body)

    def numbers(self) -> list[int]:
        """Every pushed version's number, oldest first."""
        found: list[int] = []
        try:
            for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                            Prefix=VERSIONS_PREFIX):
                found += [int(match[1]) for item in page.get("Contents", [])
                          if (match := _VERSION_KEY.match(item["Key"]))]
        except (BotoCoreError, ClientError) as error:
            raise _unavailable(error) from error
        return sorted(found)

    def publish(self, files: Mapping[str, str], pushed_by: str, now: str, based_on: str = "",
                seen: Pointer | None = None, compiled: str = "") -> ConfigVersion:
        """Write the bundle as the next version and make it active, unless another push or rollback got
        there first since `seen` was read (WriteConflict: nothing changed that the caller did not see).
        `based_on`: the deployed version's digest, so a later deploy with other files can be told apart;
        `compiled`: the files validated (nurture.config.compiled), for functions to load."""
        seen = seen or self.pointer()
        number = max([DEPLOYED_VERSION, *self.numbers()]) + 1
        version = ConfigVersion(number, dict(files), pushed_by, now, previous=seen.version, based_on=based_on,
                                compiled=compiled)
        self._put(version_key(number), version.to_json(), if_none_match=True)
        self.activate(ActivePointer(number, pushed_by, now, "push"), seen)
        return version

    def activate(self, pointer: ActivePointer, seen: Pointer) -> None:
        """Point functions at another version, only if the pointer is still what the caller read."""
        if pointer.version == DEPLOYED_VERSION:
            # The deploy's own version lives in the functions' layer: no pointer means "use it".
            if seen.etag is not None:
                self._delete_pointer(seen.etag)
            elif self.pointer().etag is not None:
                raise WriteConflict(f"{ACTIVE_KEY} was written by someone else meanwhile: look again and retry")
            return
        self._put(ACTIVE_KEY, pointer.to_json(), if_match=seen.etag, if_none_match=seen.etag is None)

    @property
    def _s3(self) -> Any:
        return client("s3")

    def _put(self, key: str, body: str, if_match: str | None = None, if_none_match: bool = False) -> None:
        conditions: dict[str, str] = {"IfMatch": if_match} if if_match else {"IfNoneMatch": "*"} \
            if if_none_match else {}
        with _conditional(key):
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=body.encode("utf-8"),
                                ContentType="application/json", **conditions)

    def _delete_pointer(self, etag: str) -> None:
        with _conditional(ACTIVE_KEY):
            self._s3.delete_object(Bucket=self.bucket, Key=ACTIVE_KEY, IfMatch=etag)


@contextmanager
def _conditional(key: str) -> Iterator[None]:
    """A conditional write's refusal is a WriteConflict; any other failure, StoreUnavailable."""
    try:
        yield
    except ClientError as error:
        # NoSuchKey: an If-Match on a pointer a rollback to 1 has just deleted.
        if error.response["Error"]["Code"] in ("PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"):
            raise WriteConflict(f"{key} was changed by someone else meanwhile: look again and retry") from error
        raise _unavailable(error) from error
    except BotoCoreError as error:
        raise _unavailable(error) from error


def _unavailable(error: Exception) -> StoreUnavailable:
    return StoreUnavailable(f"the config store could not be reached: {error}")


def _active(text: str | bytes) -> ActivePointer:
    """The pointer, or StoreUnavailable: a damaged one is a store problem for functions and CLI alike."""
    try:
        return ActivePointer.from_json(text)
    except DamagedRecord as error:
        raise StoreUnavailable(f"{error}: deleting {ACTIVE_KEY} from the config bucket returns every function to "
                               "version 1; push again after") from error
