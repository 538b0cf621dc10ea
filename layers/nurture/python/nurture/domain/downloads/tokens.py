"""The download link's token: signed for one lead, form and material, lasting the config's days."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from nurture.config.models import ASSET_NAME_PATTERN
from nurture.domain.clock import epoch_seconds
from nurture.domain.errors import InvalidToken
from nurture.domain.tokens import DOWNLOAD, TokenSigner

PATH = "/v1/d/"


def download_token(signer: TokenSigner, lead_id: str | None, form_id: str, asset: str, now: datetime,
                   link_days: int) -> str:
    """The token of a link to `asset`: the emailed one names its lead, whose downloads it records, and carries its
    sending time, so a scanner following it at once is told from a person. The thank-you page's names no lead
    (`lead_id` None): whoever posted the form gets it, and a public answer never shows a lead's id."""
    claims: dict[str, str | int] = {"f": form_id, "a": asset}
    if lead_id is not None:
        claims |= {"l": lead_id, "s": epoch_seconds(now)}
    return signer.sign(DOWNLOAD, claims, expires_at=now + timedelta(days=link_days))


def material_of(token: str, signer: TokenSigner, now: datetime) -> tuple[str, str, dict[str, Any]]:
    """The material's name, the form and all the claims of a genuine, unexpired download token; ExpiredToken (its
    claims name the form) or InvalidToken otherwise."""
    claims = signer.verify(token, DOWNLOAD, now)
    asset, form_id = claims.get("a"), claims.get("f")
    if not isinstance(asset, str) or not re.fullmatch(ASSET_NAME_PATTERN, asset) or not isinstance(form_id, str):
        raise InvalidToken("The link names no material.")
    return asset, form_id, claims
