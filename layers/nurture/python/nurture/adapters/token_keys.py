"""The tracking-token keyring, from an SSM SecureString parameter through Powertools' cached parameters.

The parameter holds either one key (base64, or a raw string of at least 32 characters: the first key of a
stack whose keyring was imported from its Secrets Manager secret) or, once rotated, a JSON keyring whose
first key signs:
`{"keys": [{"id": "k1", "secret": "<base64>", "created_at": "…"}, {"id": "k0", …, "retired_at": "…"}]}`.
"""

from __future__ import annotations

import base64
import binascii
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
# once a minute: a forged token naming a made-up key must not cost an SSM call per request.
KEY_CACHE_SECONDS = 300
REFRESH_AT_MOST_EVERY = 60.0
STANDARD_PARAMETER_LIMIT = 4096  # characters of a standard-tier parameter's value (the advanced tier costs a month)
_refreshed_at = -REFRESH_AT_MOST_EVERY
T = TypeVar("T")


def token_signer(parameter: str, lifetime_days: int = DEFAULT_LIFETIME.days, refresh: bool = False) -> TokenSigner:
    """The keyring in the SecureString `parameter`, decrypted (aws/ssm), cached for KEY_CACHE_SECONDS."""
    try:
        value = parameters.get_parameter(parameter, decrypt=True, max_age=KEY_CACHE_SECONDS, force_fetch=refresh)
    except GetParameterError as error:
        raise StoreUnavailable("the token signing key could not be read") from error
    return TokenSigner(keyring(str(value)), timedelta(days=lifetime_days))


def with_signer(parameter: str, lifetime_days: int, use: Callable[[TokenSigner], T]) -> T:
    """`use` the cached keyring; if a token names a key newer than it (a rotation this container has not
    seen), read the keyring again and retry, at most once a minute."""
    signer = token_signer(parameter, lifetime_days)
    try:
        return use(signer)
    except UnknownSigningKey as unknown:
        fresh = refreshed_signer(parameter, lifetime_days) if signer.newer_than_known(unknown.key_id) else None
        if fresh is None:
            raise
        return use(fresh)


def refreshed_signer(parameter: str, lifetime_days: int) -> TokenSigner | None:
    """The keyring read again at once, as a signature by a key this container has not seen yet asks; None when it
    was read again less than a minute ago (a forger's tries must not cost an SSM call each)."""
    global _refreshed_at
    if time.monotonic() - _refreshed_at < REFRESH_AT_MOST_EVERY:
        return None
    _refreshed_at = time.monotonic()
    return token_signer(parameter, lifetime_days, refresh=True)


def keyring(value: str) -> list[SigningKey]:
    if value.lstrip().startswith("{"):
        try:
            document: Any = json.loads(value)
            return [SigningKey(str(key["id"]), decode_key(str(key["secret"])),
                               parse_iso_or_none(key.get("created_at")), parse_iso_or_none(key.get("retired_at")))
                    for key in document["keys"]]
        except (ValueError, KeyError, TypeError) as error:
            raise StoreUnavailable("the token keyring is not readable") from error
    return [SigningKey(FIRST_KEY_ID, decode_key(value))]


def keyring_value(keys: list[SigningKey]) -> str:
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


def rotate_keys(parameter: str, now: datetime) -> list[SigningKey]:
    """A new signing key at the head of the keyring; returns the keyring.

    SSM has no conditional write, so the write is checked after the fact: a version other than the one after
    the version read means someone wrote in between, and their keyring is put back at once (their new key may
    already sign links) and ours refused. An SDK retry of our own write is recognized as ours and kept."""
    ssm = client("ssm")
    try:
        current = ssm.get_parameter(Name=parameter, WithDecryption=True)["Parameter"]
        keys = rotate(keyring(current["Value"]), secrets.token_bytes(32), now)
        value = keyring_value(keys)
        if len(value) > STANDARD_PARAMETER_LIMIT:
            raise StoreUnavailable(f"a keyring of {len(keys)} keys is over the {STANDARD_PARAMETER_LIMIT} characters "
                                   "a standard SSM parameter holds (about 25 keys)")
        written = ssm.put_parameter(Name=parameter, Value=value, Type="SecureString", Overwrite=True,
                                     Tier="Standard")["Version"]
        if written != current["Version"] + 1:
            before = ssm.get_parameter(Name=f"{parameter}:{written - 1}", WithDecryption=True)["Parameter"]["Value"]
            if before != value:  # not our own write, retried: someone else's rotation, which stands
                ssm.put_parameter(Name=parameter, Value=before, Type="SecureString", Overwrite=True, Tier="Standard")
                raise RotatedMeanwhile("the key was rotated meanwhile: run `nurture keys rotate` again")
    except ClientError as error:  # its code only: a validation message can quote the value written
        raise StoreUnavailable(f"the keyring could not be rotated: {error.response['Error']['Code']}") from error
    except BotoCoreError as error:
        raise StoreUnavailable(f"the keyring could not be rotated: {type(error).__name__}") from error
    return keys
