"""Following the emailed download link (`/v1/d/<token>`) records a `download` activity (a machine's marked, scoring
nothing) and leads to the file; the thank-you page's leads to it only."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from msgspec import Struct

from nurture.domain.activity import RequestContext, new_activity
from nurture.domain.bots import bot_data, classify
from nurture.domain.downloads.tokens import material_of
from nurture.domain.errors import StoreUnavailable
from nurture.domain.tokens import TokenSigner, lead_of
from nurture.domain.tracking import ActivityStore, TrackingSettings, sent_at, written


class Download(Struct, frozen=True):
    asset: str  # the material's file name, as the config named it when the link was made
    form_id: str
    link: str | None  # where the file is handed over (None: it is not there, and nothing was recorded)
    bot: str | None = None  # why it was a machine's (None: a person's)
    dropped: str | None = None  # why nothing was stored: erased, unavailable, missing (None: recorded)


def record_download(token: str, signer: TokenSigner, store: ActivityStore, request: RequestContext,
                    settings: TrackingSettings, link_to: Callable[[str], str | None]) -> Download:
    """The material of a genuine, unexpired download link (`link_to` its name: where the file is handed over, None
    when it is not there), its download recorded on the lead. ExpiredToken (its claims name the form) or
    InvalidToken: nothing is handed out."""
    asset, form_id, claims = material_of(token, signer, request.received_at)
    link = link_to(asset)
    if link is None:  # a download that cannot happen is not recorded
        return Download(asset, form_id, None, dropped="missing")
    if "l" not in claims:  # the thank-you page's: its post was recorded, by whoever typed the address
        return Download(asset, form_id, link, dropped="no_lead")
    bot = classify("click", request.received_at, sent_at(claims), request.user_agent, request.source_ip,
                   settings.bots)
    activity = new_activity("download", request.received_at, settings.event_retention_days,
                            {"asset": asset, "form_id": form_id, "user_agent": request.user_agent, **bot_data(bot)})
    try:
        recorded = written(partial(store.record_lead_activity, lead_of(claims), [activity]))
    except StoreUnavailable:
        # The person still gets the material; only the hit is lost (and logged).
        return Download(asset, form_id, link, bot, "unavailable")
    # An erased lead's link still hands the material over: only nothing is recorded.
    return Download(asset, form_id, link, bot, None if recorded else "erased")
