"""A registration's own link: signed for the event and the lead, good until the session starts. Every email about
the registration carries it; it opens the page that shows the registration and cancels it."""

from __future__ import annotations

from nurture.config.events import EventDefinition, Session
from nurture.domain.errors import InvalidToken
from nurture.domain.tokens import REGISTRATION, TokenSigner

PATH = "/v1/registrations/"


def registration_token(signer: TokenSigner, event_id: str, event: EventDefinition, session: Session, lead_id: str,
                       language: str) -> str:
    """The page's language rides in the token: the page reads no profile."""
    return signer.sign(REGISTRATION, {"ev": event_id, "l": lead_id, "g": language},
                       expires_at=event.starts_at(session))


def registration_of(token: str, signer: TokenSigner) -> tuple[str, str, str]:
    """(event id, lead id, language) of a genuine, unexpired registration token; ExpiredToken (its claims name the
    language) or InvalidToken otherwise."""
    claims = signer.verify(token, REGISTRATION)
    event_id, lead_id = claims.get("ev"), claims.get("l")
    if not isinstance(event_id, str) or not isinstance(lead_id, str):
        raise InvalidToken("The link names no registration.")
    return event_id, lead_id, "en" if claims.get("g") == "en" else "ja"
