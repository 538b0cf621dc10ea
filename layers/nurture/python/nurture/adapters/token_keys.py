"""The tracking-token keyring, from Secrets Manager through Powertools' cached parameters.

The secret holds either one key (base64, or a raw string of at least 32 characters: the stack's
generated first key) or, once rotated, a JSON keyring whose first key signs:
`{"keys": [{"id": "k1", "secret": "<base64>", "created_at": "…"}, {"id": "k0", …, "retired_at": "…"}]}`.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import BotoCoreError, ClientError

from nurture.adapters.aws import client
from nurture.domain.clock import iso, parse_iso_or_none
from nurture.domain.errors import StoreUnavailable
from nurture.domain.tokens import DEFAULT_LIFETIME, FIRST_KEY_ID, SigningKey, TokenSigner, rotate

# Five minutes: a rotated key reaches every warm function within that, at one call per container. A token
# signed with a key newer than the cached keyring makes its reader fetch the keyring again at once.
KEY_CACHE_SECONDS = 300


def token_signer(secret_id: str, lifetime: timedelta = DEFAULT_LIFETIME, refresh: bool = False) -> TokenSigner:
    try:
        secret = parameters.get_secret(secret_id, max_age=KEY_CACHE_SECONDS, force_fetch=refresh)
    except GetParameterError as error:
        raise StoreUnavailable("the token signing key could not be read") from error
    return TokenSigner(keyring(str(secret)), lifetime)


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


def rotate_keys(secret_id: str, now: datetime) -> list[SigningKey]:
    """A new signing key at the head of the keyring (a new version of the secret); returns the keyring."""
    manager = client("secretsmanager")
    try:
        current = manager.get_secret_value(SecretId=secret_id)["SecretString"]
        keys = rotate(keyring(current), secrets.token_bytes(32), now)
        manager.put_secret_value(SecretId=secret_id, SecretString=keyring_secret(keys))
    except (ClientError, BotoCoreError) as error:
        raise StoreUnavailable(f"the keyring could not be rotated: {error}") from error
    return keys
