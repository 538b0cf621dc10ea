"""The tracking-token signing key, from Secrets Manager through Powertools' cached parameters."""

from __future__ import annotations

import base64
import binascii

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

from nurture.domain.errors import StoreUnavailable
from nurture.domain.tokens import TokenSigner

# Five minutes: a rotated key reaches every warm function within that, at one call per container.
KEY_CACHE_SECONDS = 300


def token_signer(secret_id: str) -> TokenSigner:
    try:
        secret = parameters.get_secret(secret_id, max_age=KEY_CACHE_SECONDS)
    except GetParameterError as error:
        raise StoreUnavailable("the token signing key could not be read") from error
    return TokenSigner(decode_key(str(secret)))


def decode_key(secret: str) -> bytes:
    """Keys are stored base64-encoded; a raw string of at least 32 characters is accepted too."""
    try:
        key = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    return key if len(key) >= 32 else secret.encode("utf-8")
