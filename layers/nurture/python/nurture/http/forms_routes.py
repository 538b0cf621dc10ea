"""POST /v1/forms/{form_id}: what web forms post to, as JSON, urlencoded or multipart."""


import json
from datetime import datetime
from typing import Annotated, Literal
from urllib.parse import urlencode

import msgspec
from aws_lambda_powertools.metrics import MetricUnit

from nurture.config.models import FormDefinition
from nurture.domain.bodies import check_size, parse_form_fields
from nurture.domain.capture import capture_submission
from nurture.domain.clock import new_id, utc_now
from nurture.domain.downloads.tokens import download_token, material_of
from nurture.domain.errors import InputError, InvalidToken, StoreUnavailable, UnknownForm
from nurture.domain.links import back_link
from nurture.domain.submissions import is_spam, validate_submission
from nurture.http import pages
from nurture.http.problems import documented, problem_doc
from nurture.http.requests import ApiRequest, body_bytes, is_browser_post, request_context
from nurture.http.router import Parameters, Response, Router
from nurture.http.services import capture_settings, lead_store, verified
from nurture.observability import logger, metrics
from nurture.settings import marketer_config

# Any id is looked up: one that is not in config/forms.yaml is a 404, whatever its shape.
FormId = Annotated[str, msgspec.Meta(description="The form's id in config/forms.yaml")]
Link = Annotated[str, msgspec.Meta(max_length=2048)]


class FormRef(Parameters):
    form_id: FormId


class ThanksQuery(Parameters):
    form_id: FormId
    back: Link | None = None
    d: Annotated[Link, msgspec.Meta(description="a download form's signed link")] | None = None


class SubmissionReceived(msgspec.Struct):
    """The same for a new and a known address: the form's answer never tells whether an address is known."""

    status: Literal["received"]
    submission_id: str


SUBMIT_RESPONSES = {
    202: documented("Received (whether the address was new or known)", model=SubmissionReceived),
    303: documented("Browser post: redirect to the success (or error) page"),
    400: problem_doc("Malformed body"),
    404: problem_doc("Unknown form"),
    413: problem_doc("Body over the size limit"),
    415: problem_doc("Unsupported content type"),
    422: problem_doc("Missing or invalid fields, or missing required consent"),
}


def register_form_routes(app: Router) -> None:
    @app.post("/v1/forms/<form_id>", summary="Submit a form", tags=["forms"], responses=SUBMIT_RESPONSES,
              parameters=FormRef)
    def submit_form(form_id: str) -> Response:
        request = app.current_request
        browser = is_browser_post(request)
        form = marketer_config().forms.get(form_id)
        try:
            if form is None:
                raise UnknownForm(f"There is no form '{form_id}'.")
            body = body_bytes(request)
            check_size(body, marketer_config().api.limits.form_body_bytes)
            fields = parse_form_fields(request.headers.get("content-type"), body)
            if is_spam(form, fields):
                logger.info("honeypot filled; dropped", extra={"form_id": form_id})
                return _success(form_id, form, new_id(), browser, None)
            submission = validate_submission(form_id, form, fields)
        except InputError as error:
            if browser:
                return _browser_error(form_id, form, error, request)
            raise
        result = capture_submission(submission, lead_store(), request_context(request), capture_settings(),
                                    request.headers.get("idempotency-key"))
        metrics.add_metric(name="FormSubmitted", unit=MetricUnit.Count, value=1)
        logger.info("form captured",
                    extra={"form_id": form_id, "lead_id": result.lead_id, "lead_created": result.created})
        download = _download_token(form_id, form, request_context(request).received_at) if browser else None
        return _success(form_id, form, result.submission_id, browser, submission.page, download)

    @app.get("/v1/forms/<form_id>/thanks", summary="Built-in thank-you page", tags=["forms"],
             responses={200: documented("HTML page", "text/html"), 404: problem_doc("No such form")},
             parameters=ThanksQuery)
    def thanks(form_id: str, back: str | None, d: str | None) -> Response:
        form = marketer_config().forms.get(form_id)
        if form is None:
            raise UnknownForm(f"There is no form '{form_id}'.")
        # Its download link is the post's own: no Referer carries it to the site, no cache keeps it.
        return Response(200, "text/html; charset=utf-8", pages.thanks_page(
            form, _back_url(app.current_request, back), _download_link(form_id, d)),
            headers={"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"})


def _download_token(form_id: str, form: FormDefinition, now: datetime) -> str | None:
    """The post's own link to its material, for the built-in thank-you page (the email carries another)."""
    if form.kind != "download" or not form.asset or form.asset_url or form.success_url:
        return None
    link_days, asset = marketer_config().downloads.link_days, form.asset
    try:
        return verified(lambda keys: download_token(keys, None, form_id, asset, now, link_days))
    except StoreUnavailable:  # the post is captured: the page says the link was emailed, and the email has it
        logger.warning("download link not made for the thank-you page")
        return None


def _download_link(form_id: str, token: str | None) -> str | None:
    """A genuine, unexpired download token of this form, as a link from its thank-you page; None for anything else
    (the page then says only that the link was emailed)."""
    if not token:
        return None
    try:
        if verified(lambda keys: material_of(token, keys, utc_now()))[1] != form_id:
            return None
    except InvalidToken:
        return None
    return f"../../d/{token}"  # /v1/d/<token> from /v1/forms/<id>/thanks, wherever the API is served


def _success(form_id: str, form: FormDefinition, submission_id: str, browser: bool, page: str | None,
             download: str | None = None) -> Response:
    if browser:
        # The form's page, as the snippet fills it in, for the thank-you page's back link (checked there: a
        # browser's default referrer policy would give it only the site's origin); a download form's link.
        query = {key: value for key, value in (("back", page), ("d", download)) if value}
        location = str(form.success_url) if form.success_url else \
            f"{form_id}/thanks{'?' + urlencode(query) if query else ''}"
        return Response(303, "text/plain", "", headers={"Location": location})
    return Response(202, "application/json", json.dumps({"status": "received", "submission_id": submission_id}))


def _back_url(request: ApiRequest, page: str | None = None) -> str | None:
    """The form's page (as posted, else as the browser's Referer says), for a "back" link: only when it is one
    of the sender's own sites."""
    config = marketer_config()
    return back_link(page or request.headers.get("referer"), config.api.cors.allow_origins, config.link_hosts,
                     request.headers.get("host"))


def _browser_error(form_id: str, form: FormDefinition | None, error: InputError, request: ApiRequest) -> Response:
    language = form.language if form else "en"
    if form is not None and form.error_url:
        codes = ",".join(f"{p.field}:{p.code}" for p in error.problems) or error.slug
        separator = "&" if "?" in str(form.error_url) else "?"
        location = f"{form.error_url}{separator}{urlencode({'form': form_id, 'errors': codes})}"
        return Response(303, "text/plain", "", headers={"Location": location})
    body = (pages.simple_page(language, "not_found_title") if form is None
            else pages.errors_page(language, error.problems, error.detail,
                                   {field.name: field.label for field in form.custom_fields if field.label},
                                   _back_url(request)))
    return Response(error.status, "text/html; charset=utf-8", body)
