"""Tracking: website beacons, the email open pixel and email click redirects."""


from collections.abc import Callable
from typing import Annotated
from urllib.parse import parse_qs

import msgspec

from nurture.domain.beacons import parse_beacons
from nurture.domain.bodies import check_size
from nurture.domain.clock import utc_now
from nurture.domain.downloads.links import record_download
from nurture.domain.errors import InvalidToken, StoreUnavailable
from nurture.domain.events.cancellation import RegistrationView, cancel, registration_view
from nurture.domain.preferences.centre import Preferences, change_preferences, preferences, unsubscribe
from nurture.domain.preferences.double_opt_in import ConfirmationView, confirm, confirmation_state
from nurture.domain.tokens import ExpiredToken, TokenSigner
from nurture.domain.tracking import record_beacons, record_email_click, record_email_open
from nurture.http import pages
from nurture.http.problems import documented, problem_doc
from nurture.http.requests import body_bytes, request_context
from nurture.http.router import Parameters, Response, Router
from nurture.http.services import (
    double_opt_in_settings,
    lead_store,
    materials,
    preference_settings,
    registrations,
    tracking_settings,
    verified,
)
from nurture.observability import logger
from nurture.settings import marketer_config


# No length or pattern here: the pixel must answer a GIF to anything, so the domain judges the token.
class Link(Parameters):
    token: Annotated[str, msgspec.Meta(description="A signed tracking token")]


NO_STORE = {"Cache-Control": "no-store, max-age=0"}


def register_tracking_routes(app: Router) -> None:
    @app.post("/v1/events", summary="Record website events (the tracking snippet's beacon)", tags=["tracking"],
              responses={204: documented("Recorded"), 400: problem_doc("Malformed body"),
                         413: problem_doc("Body over the size limit"), 415: problem_doc("Unsupported content type"),
                         422: problem_doc("Invalid events")})
    def collect_events() -> Response:
        request = app.current_request
        limits = marketer_config().api.limits
        body = body_bytes(request)
        check_size(body, limits.beacon_body_bytes)
        settings = tracking_settings()
        beacons = parse_beacons(request.headers.get("content-type"), body, settings.max_events)
        recorded = record_beacons(beacons, lead_store(), request_context(request), settings)
        if recorded.dropped:  # over a visitor's quota, or an erased lead's browser: still a 204
            logger.info("hits dropped", extra={"count": recorded.dropped})
        return Response(204, None, "", headers=NO_STORE)

    @app.get("/v1/t/o/<token>", summary="Email open pixel (1x1 GIF, always)", tags=["tracking"], parameters=Link,
             responses={200: documented("A 1x1 GIF", "image/gif")})
    def open_pixel(token: str) -> Response:
        request = app.current_request
        try:
            # People's and machines' opens are told apart on the activity: the report counts both.
            verified(lambda keys: record_email_open(token.removesuffix(".gif"), keys, lead_store(),
                                                    request_context(request), tracking_settings()))
        except InvalidToken as error:
            # A person must never see a broken image, so the pixel is served whatever the token.
            logger.info("open pixel with invalid token", extra={"reason": error.detail})
        except StoreUnavailable as error:
            logger.warning("open not recorded", extra={"reason": str(error)})
        return Response(200, "image/gif", pages.PIXEL_GIF, headers=NO_STORE)

    @app.get("/v1/unsubscribe/<token>", summary="The preference page: the lead's choices per subscription type "
                                                "(a GET changes nothing)",
             tags=["tracking"], parameters=Link, responses={200: documented("Preference page", "text/html"),
                                           400: documented("Invalid or forged link", "text/html")})
    def preference_page(token: str) -> Response:
        try:
            shown = verified(lambda keys: preferences(token, keys, lead_store(), preference_settings()))
        except InvalidToken:
            return _invalid_link_page()
        if shown is None:  # erased: the link leads nowhere now
            return _invalid_link_page()
        # Mail scanners follow every link: only the POSTs below change anything.
        return _preference_page(shown)

    @app.post("/v1/unsubscribe/<token>", summary="RFC 8058 one-click (leaves the email's type), the page's "
                                                 "choices, or leaving everything",
              tags=["tracking"], parameters=Link, responses={200: documented("Done", "text/html"),
                                            400: documented("Invalid or forged link", "text/html")})
    def preference_post(token: str) -> Response:
        body = body_bytes(app.current_request)
        check_size(body, marketer_config().api.limits.form_body_bytes)
        form = parse_qs(body.decode("utf-8", "replace"))
        settings, context = preference_settings(), request_context(app.current_request)
        try:
            if form.get("save") == ["1"]:  # the page's form: exactly the types ticked
                verified(lambda keys: change_preferences(token, keys, lead_store(), context, settings,
                                                         set(form.get("receive", []))))
                shown = verified(lambda keys: preferences(token, keys, lead_store(), settings))
                return _invalid_link_page() if shown is None else _preference_page(shown, saved=True)
            done = verified(lambda keys: unsubscribe(token, keys, lead_store(), context, settings,
                                                     everything=form.get("scope") == ["everything"]))
        except InvalidToken:
            return _invalid_link_page()
        kind = settings.subscriptions.types.get(done.subscription_type or "")
        return Response(200, "text/html; charset=utf-8", pages.unsubscribed_page(kind), headers=NO_STORE)

    @app.get("/v1/confirm/<token>", summary="Double opt-in: the confirmation page (a GET confirms nothing)",
             tags=["tracking"], parameters=Link, responses={200: documented("Confirmation page", "text/html"),
                                           400: documented("Invalid or forged link", "text/html"),
                                           410: documented("Expired link, or a sign-up removed", "text/html")})
    def confirmation_page(token: str) -> Response:
        try:
            shown = verified(lambda keys: confirmation_state(token, keys, lead_store()))
        except ExpiredToken:
            return _expired_confirmation()
        except InvalidToken:
            return _invalid_link_page()
        return _confirmation(shown)

    @app.post("/v1/confirm/<token>", summary="Double opt-in: the page's button confirms the sign-up, once",
              tags=["tracking"], parameters=Link, responses={200: documented("Confirmed", "text/html"),
                                            400: documented("Invalid or forged link", "text/html"),
                                            410: documented("Expired link, or a sign-up removed", "text/html")})
    def confirmation_post(token: str) -> Response:
        check_size(body_bytes(app.current_request), marketer_config().api.limits.form_body_bytes)
        context = request_context(app.current_request)
        try:
            shown = verified(lambda keys: confirm(token, keys, lead_store(), context, double_opt_in_settings()))
        except ExpiredToken:
            return _expired_confirmation()
        except InvalidToken:
            return _invalid_link_page()
        return _confirmation(shown)

    @app.get("/v1/registrations/<token>", summary="A seminar registration's page, with its cancel button (a GET "
                                                   "cancels nothing)", tags=["tracking"], parameters=Link,
             responses={200: documented("The registration's page", "text/html"),
                        400: documented("Invalid or forged link", "text/html"),
                        410: documented("The session has begun", "text/html")})
    def registration_page(token: str) -> Response:
        return _registration(lambda keys: registration_view(token, keys, registrations(), marketer_config().events,
                                                            utc_now()))

    @app.post("/v1/registrations/<token>", summary="The page's button: cancels the registration once, and its seat "
                                                    "goes to the first on the waitlist", tags=["tracking"],
              parameters=Link,
              responses={200: documented("Cancelled (or it was already)", "text/html"),
                         400: documented("Invalid or forged link", "text/html"),
                         410: documented("The session has begun", "text/html")})
    def registration_cancel(token: str) -> Response:
        check_size(body_bytes(app.current_request), marketer_config().api.limits.form_body_bytes)
        return _registration(lambda keys: cancel(token, keys, registrations(), marketer_config().events, utc_now(),
                                                 marketer_config().api.event_retention_days))

    @app.get("/v1/t/c/<token>", summary="Email click redirect", tags=["tracking"], parameters=Link,
             responses={302: documented("Redirect to the link's destination"),
                        400: documented("Invalid or forged link (an HTML page, never a redirect)", "text/html")})
    def click(token: str) -> Response:
        request = app.current_request
        try:
            outcome = verified(lambda keys: record_email_click(token, keys, lead_store(), request_context(request),
                                                                   tracking_settings()))
        except InvalidToken as error:
            # Forged or broken, or genuine but leading to a host the config does not allow: no redirect.
            logger.info("click refused", extra={"reason": error.detail})
            return _invalid_link_page()
        if outcome.dropped == "unavailable":
            logger.warning("click not recorded; redirected anyway")
        elif outcome.dropped is not None:  # an expired link, or an erased lead's: the person goes on
            logger.info("click not recorded", extra={"reason": outcome.dropped})
        return Response(302, "text/plain", "", headers={"Location": str(outcome.url), **NO_STORE})

    @app.get("/v1/d/<token>", summary="A download form's material: records the download, then redirects to the "
                                      "file for a few minutes", tags=["tracking"], parameters=Link,
             responses={302: documented("Redirect to the file"),
                        400: documented("Invalid or forged link (an HTML page, never a redirect)", "text/html"),
                        404: documented("The material is not in its bucket", "text/html"),
                        410: documented("Expired link: the person requests the material again", "text/html")})
    def download(token: str) -> Response:
        try:
            # The file is looked for first: a download that cannot happen is not recorded.
            got = verified(lambda keys: record_download(token, keys, lead_store(), request_context(app.current_request),
                                                        tracking_settings(), materials().link))
        except ExpiredToken as expired:
            return _link_page(410, _form_language(expired.claims.get("f")), "download_expired")
        except InvalidToken as error:
            logger.info("download refused", extra={"reason": error.detail})
            return _invalid_link_page()
        if got.link is None:
            logger.warning("material not in its bucket", extra={"asset": got.asset, "form_id": got.form_id})
            return _link_page(404, _form_language(got.form_id), "material_missing")
        if got.dropped is not None:
            logger.info("download not recorded", extra={"reason": got.dropped})
        return Response(302, "text/plain", "", headers={"Location": got.link, **NO_STORE})


def _registration(show: Callable[[TokenSigner], RegistrationView]) -> Response:
    try:
        shown = verified(show)
    except ExpiredToken as expired:
        language = "en" if expired.claims.get("g") == "en" else "ja"
        return _link_page(410, language, "registration_expired")
    except InvalidToken as error:
        logger.info("registration link refused", extra={"reason": error.detail})
        return _invalid_link_page()
    return Response(410 if shown.state == "started" else 200, "text/html; charset=utf-8",
                    pages.registration_page(shown.language, shown.state, shown.title, shown.starts), headers=NO_STORE)


def _form_language(form_id: object) -> str:
    form = marketer_config().forms.get(form_id) if isinstance(form_id, str) else None
    return form.language if form is not None else "ja"


def _link_page(status: int, language: str, key: str) -> Response:
    body = pages.simple_page(language, f"{key}_title", pages.text(language, f"{key}_body"))
    return Response(status, "text/html; charset=utf-8", body, headers=NO_STORE)


def _preference_page(shown: Preferences, saved: bool = False) -> Response:
    body = pages.preference_page(shown, marketer_config().subscriptions.types, saved)
    return Response(200, "text/html; charset=utf-8", body, headers=NO_STORE)


def _confirmation(shown: ConfirmationView | None) -> Response:
    if shown is None:  # removed unconfirmed, or erased
        return _expired_confirmation()
    body = pages.confirmation_page(shown.language, confirmed=shown.state == "confirmed")
    return Response(200, "text/html; charset=utf-8", body, headers=NO_STORE)


def _expired_confirmation() -> Response:
    return Response(410, "text/html; charset=utf-8", pages.expired_confirmation_page(), headers=NO_STORE)


def _invalid_link_page() -> Response:
    logger.info("invalid link")
    return _link_page(400, "ja", "invalid_link")
