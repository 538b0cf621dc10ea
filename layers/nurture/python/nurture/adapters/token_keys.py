"""The tracking-token keyring, from Secrets Manager through Powertools' cached parameters.

The secret holds either one key (base64, or a raw string of at least 32 characters: the stack's
generated first key) or, once rotated, a JSON keyring whose first key signs:
`{"keys": [{"id": "k1", "secret": "<base64>", "created_at": "…"}, {"id": "k0", …, "retired_at": "…"}]}`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import BotoCoreError, ClientError

from nurture.adapters.aws import client
from nurture.domain.clock import iso, parse_iso_or_none
from nurture.domain.errors import StoreUnavailable
from nurture.domain.tokens import DEFAULT_LIFETIME, FIRST_KEY_ID, SigningKey, TokenSigner, UnknownSigningKey, rotate

# Five minutes: a rotated key reaches every warm function within that, at one call per container. A token
# signed with a key newer than the cached keyring makes its reader fetch the keyring again at once, at most
# once a minute: a forged token naming a made-up key must not cost a Secrets Manager call per request.
KEY_CACHE_SECONDS = 300
REFRESH_AT_MOST_EVERY = 60.0
_refreshed_at = -REFRESH_AT_MOST_EVERY
T = TypeVar("T")


def token_signer(secret_id: str, lifetime_days: int = DEFAULT_LIFETIME.days, refresh: bool = False) -> TokenSigner:
    try:
        secret = parameters.get_secret(secret_id, max_age=KEY_CACHE_SECONDS, force_fetch=refresh)
    except GetParameterError as error:
        raise StoreUnavailable("the token signing key could not be read") from error
    return TokenSigner(keyring(str(secret)), timedelta(days=lifetime_days))


def with_signer(secret_id: str, lifetime_days: int, use: Callable[[TokenSigner], T]) -> T:
    """`use` the cached keyring; if a token names a key newer than it (a rotation this container has not
    seen), read the keyring again and retry, at most once a minute."""
    global _refreshed_at
    signer = token_signer(secret_id, lifetime_days)
    try:
        return use(signer)
    except UnknownSigningKey as unknown:
        if not signer.newer_than_known(unknown.key_id) or time.monotonic() - _refreshed_at < REFRESH_AT_MOST_EVERY:
            raise
        _refreshed_at = time.monotonic()
        return use(token_signer(secret_id, lifetime_days, refresh=True))


def keyring(secret: str) -> list[SigningKey]:
    if secret.lstrip().startswith("{"):
        try:
            document: Any = json.loads(secret)
            return [SigningKey(str(key["id"]), decode_key(str(key["secret"])),
                               parse_iso_or_none(key.get("created_at")), parse_iso_or_none(key.get("retired_at")))
                    for key in document["keys"]]
        except (ValueError, KeyError, TypeError) as error:
            raise StoreUnavailable("the token keyring is not readable") from error
    return [SigningKey(FIRST_KEY_ID, decode_key(secret))]


def keyring_secret(keys: list[SigningKey]) -> str:
    return json.dumps({"keys": [{"id": key.key_id, "secret": base64.b64encode(key.secret).decode("ascii"),
                                 **({"created_at": iso(key.created_at)} if key.created_at else {}),
                                 **({"retired_at": iso(key.retired_at)} if key.retired_at else {})}
                                for key in keys]})


def decode_key(secret: str) -> bytes:
    """Keys are stored base64-encoded; a raw string of at least 32 characters is accepted too."""
    try:
        key = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    return key if len(key) >= 32 else secret.encode("utf-8")


class RotatedMeanwhile(StoreUnavailable):
    """Someone rotated the key between our read and our write: run the rotation again."""


def rotate_keys(secret_id: str, now: datetime) -> list[SigningKey]:
    """A new signing key at the head of the keyring; returns the keyring. The new version's request token is
    derived from the version read, so a second rotation from that same version is refused (compare and set)
    and two rotations at once cannot lose a key; an SDK retry of ours is the same request, and a no-op."""
    manager = client("secretsmanager")
    try:
        current = manager.get_secret_value(SecretId=secret_id)
        keys = rotate(keyring(current["SecretString"]), secrets.token_bytes(32), now)
        successor = hashlib.sha256(f"rotated-from:{current['VersionId']}".encode()).hexdigest()[:32]
        manager.put_secret_value(SecretId=secret_id, SecretString=keyring_secret(keys), ClientRequestToken=successor)
    except ClientError as error:
        if error.response["Error"]["Code"] == "ResourceExistsException":
            raise RotatedMeanwhile("the key was rotated meanwhile: run `nurture keys rotate` again") from error
        raise StoreUnavailable(f"the keyring could not be rotated: {error}") from error
    except BotoCoreError as error:
        raise StoreUnavailable(f"the keyring could not be rotated: {error}") from error
    return keys
