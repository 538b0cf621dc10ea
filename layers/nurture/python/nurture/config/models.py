"""Typed models of config/*.yaml. Unknown keys are errors: a typo must not pass silently."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nurture.config.records import Check, record, setting
from nurture.domain.links import link_domain

# Fields every form understands. Each maps to the maximum length we accept.
STANDARD_FIELDS: dict[str, int] = {
    "email": 254,
    "name": 200,
    "company": 200,
    "title": 200,
    "department": 200,
    "industry": 200,
    "employees": 50,
    "phone": 40,
    "country": 100,
    "prefecture": 40,
    "timezone": 64,
    "consent": 20,
    "vid": 64,
    "utm_source": 200,
    "utm_medium": 200,
    "utm_campaign": 200,
    "utm_term": 200,
    "utm_content": 200,
    "page": 2048,
}

# Standard fields email templates show: what a visitor types into them may hold no link.
RENDERED_FIELDS = ("name", "company", "title", "department", "industry", "country")

# import: a list, not a form; newsletter: a sign-up for mail only
FormKind = Literal["contact", "download", "seminar", "demo_request", "newsletter", "import"]
FIELD_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
# A material's file name: what S3 keys it by and what the browser saves it as, so nothing to quote or escape.
ASSET_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,119}$"
SubscriptionStart = Literal["opted_in", "not_until_asked"]  # a subscription type's default, or a form's start


def _known_zone(zone: str) -> str:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"'{zone}' is not an IANA time zone") from exc
    return zone


TimeZoneName = Annotated[str, Check(_known_zone)]


def _redirect_url(url: str) -> str:
    """An absolute http(s) URL as a Location header may carry it: the host in IDNA, the rest percent-encoded.
    (pydantic's HttpUrl does this too, but importing it costs every function's cold start pydantic.networks.)"""
    if any(character.isspace() or not character.isprintable() for character in url):
        raise ValueError("must not contain spaces or control characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry a user name or password")
    port = f":{parts.port}" if parts.port is not None else ""  # .port raises ValueError when out of range
    host = parts.hostname.encode("idna").decode("ascii")  # UnicodeError (a ValueError) when not a host name
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = f"?{quote(parts.query, safe='/?%:@!$&()*+,;=-._~')}" if parts.query else ""
    fragment = f"#{quote(parts.fragment, safe='/?%:@!$&()*+,;=-._~')}" if parts.fragment else ""
    return f"{parts.scheme}://{host}{port}{path}{query}{fragment}"


RedirectUrl = Annotated[str, Check(_redirect_url)]


class _WithOffset:
    """pydantic's AwareDatetime check (its words too), built only when a config is validated."""

    def __get_pydantic_core_schema__(self, source: Any, handler: Callable[[Any], Any]) -> Any:
        from pydantic_core import core_schema

        return core_schema.datetime_schema(tz_constraint="aware")


AwareDatetime = Annotated[datetime, _WithOffset()]


Keyed = TypeVar("Keyed")


def keyed_by_ids(entries: dict[str, Keyed], pattern: str, rule: str) -> dict[str, Keyed]:
    """`entries` when every key matches `pattern`; otherwise a ValueError saying `rule` and naming the bad keys."""
    bad = [name for name in entries if not re.fullmatch(pattern, name)]
    if bad:
        raise ValueError(f"{rule}: {', '.join(bad)}")
    return entries


@record
class ConsentPolicy:
    required: bool = False
    purpose: str = setting(min_length=1, description="The purpose of use shown to the person (APPI).")
    version: str = setting(min_length=1, max_length=40)


@record
class CustomField:
    name: str = setting(pattern=FIELD_NAME_PATTERN)
    label: str | None = None
    type: Literal["text", "number", "choice", "boolean"] = "text"
    required: bool = False
    max_length: int = setting(default=500, ge=1, le=4000)
    choices: list[str] | None = None
    multiline: bool = setting(default=False, description="a text field that keeps line breaks (a message)")
    rendered: bool = setting(default=False, description="templates may show it as custom.<name>; a text value "
                             "may then hold no link")

    def __post_init__(self) -> None:
        if self.type == "choice" and not self.choices:
            raise ValueError("a choice field needs a non-empty 'choices' list")
        if self.type != "choice" and self.choices:
            raise ValueError("'choices' is only for fields of type choice")
        if self.multiline and (self.type != "text" or self.rendered):
            raise ValueError("'multiline' is for text fields that templates do not render")


@record
class FormDefinition:
    kind: FormKind
    title: str = setting(min_length=1)
    language: Literal["ja", "en"] = "ja"
    required: list[str] = setting(default_factory=lambda: ["email"])
    consent: ConsentPolicy | None = None
    success_url: RedirectUrl | None = None
    error_url: RedirectUrl | None = None
    honeypot: str = setting(default="website", pattern=FIELD_NAME_PATTERN)
    asset: str | None = setting(default=None, pattern=ASSET_NAME_PATTERN,
                                description="What a download form hands out: a file of config/assets/, emailed at "
                                            "once as a signed, expiring, tracked link")
    asset_url: str | None = setting(default=None, pattern=r"^(https?://[^\s]+|/[^/\s][^\s]*)$",
                                    description="A public copy the built-in thank-you page links instead of the "
                                                "signed one: an http(s) URL, or a path on the site that serves "
                                                "that page")
    may_update: bool = setting(default=False, description="a post may change what a known lead already has; "
                               "otherwise it only fills blanks (anyone can type any address)")
    custom_fields: list[CustomField] = setting(default_factory=list)
    subscriptions: dict[str, SubscriptionStart] = setting(
        default_factory=dict, description="for a lead this form creates, each type's start unlike the type's "
                                          "default (subscriptions.yaml), recorded as made at this form")
    double_opt_in: bool = setting(default=False, description="a lead this form creates gets nothing but a confirmation "
                                  "email until the person confirms through its link")

    def __post_init__(self) -> None:
        custom = [field.name for field in self.custom_fields]
        clashes = sorted(set(custom) & (set(STANDARD_FIELDS) | {self.honeypot}))
        if clashes:
            raise ValueError(f"custom fields reuse reserved names: {', '.join(clashes)}")
        if len(set(custom)) != len(custom):
            raise ValueError("custom field names must be unique")
        if self.honeypot in STANDARD_FIELDS:
            raise ValueError(f"the honeypot field cannot be the standard field '{self.honeypot}'")
        unknown = [name for name in self.required if name not in STANDARD_FIELDS and name not in custom]
        if unknown:
            raise ValueError(f"required names unknown fields: {', '.join(unknown)}")
        if "email" not in self.required:
            raise ValueError("'email' must be required: a lead is known by its address")
        if self.double_opt_in and (self.consent is None or not self.consent.required):
            raise ValueError("a double opt-in form has its person confirm a consent: it needs 'consent' with "
                             "'required: true'")
        if self.kind == "download" and not self.asset:
            raise ValueError("a download form needs an 'asset': the file of config/assets/ it emails")

    def custom_field(self, name: str) -> CustomField | None:
        return next((field for field in self.custom_fields if field.name == name), None)


def _exact_origins(origins: list[str]) -> list[str]:
    for origin in origins:
        if origin == "*":
            continue
        # A browser's Origin header is exactly scheme://host[:port]: anything more never matches.
        scheme, host = urlsplit(origin)[:2]
        if scheme not in ("https", "http") or not host or f"{scheme}://{host}" != origin:
            raise ValueError(f"'{origin}' is not an origin (scheme://host[:port], no path or trailing '/')")
    return origins


@record
class CorsSettings:
    allow_origins: Annotated[list[str], Check(_exact_origins)] = setting(default_factory=list)


@record
class LimitSettings:
    form_body_bytes: int = setting(default=16 * 1024, ge=1024, le=1024 * 1024)
    beacon_body_bytes: int = setting(default=32 * 1024, ge=1024, le=1024 * 1024)
    beacon_events: int = setting(default=20, ge=1, le=50)
    # A script posting beacons in a loop fills no table: beyond this, a visitor id's events are dropped (204).
    visitor_events_per_minute: int = setting(default=60, ge=1, le=10_000)
    # A form that identifies a visitor takes its most recent anonymous events along at once; older ones are
    # left (and counted), so a form answers quickly whatever the visitor's history.
    merge_events: int = setting(default=100, ge=1, le=1000)


def _host_names(entries: list[str]) -> list[str]:
    bad = [entry for entry in entries if link_domain(entry) is None]
    if bad:
        raise ValueError(f"not a host name or *.domain: {', '.join(bad)}")
    return [str(link_domain(entry)) for entry in entries]


@record
class ApiSettings:
    cors: CorsSettings = setting(default_factory=CorsSettings)
    limits: LimitSettings = setting(default_factory=LimitSettings)
    link_domains: Annotated[list[str], Check(_host_names)] = setting(
        default_factory=list,
        description="hosts (or *.domain) an email click may lead to, besides the hosts the templates link to")
    token_lifetime_days: int = setting(default=365, ge=1, le=3650,
                                       description="open and click links stop counting after this many days")
    duplicate_window_seconds: int = setting(default=600, ge=0, le=86400)
    event_retention_days: int = setting(default=730, ge=1, le=3650)


@record
class DoubleOptInSettings:
    """What the forms with `double_opt_in: true` send, and how long their leads wait for the person."""

    template: str = setting(default="confirm_subscription", pattern=FIELD_NAME_PATTERN,
                            description="the confirmation email (templates/<name>.yaml); it shows {{ confirm_url }}")
    unconfirmed_kept_days: int = setting(default=7, ge=1, le=90,
                                         description="a lead never confirmed is removed after this many days, leaving "
                                                     "only a count")


@record
class DownloadSettings:
    """What a download form sends at once (資料送付): its material as a signed link that lasts `link_days`."""

    template: str = setting(default="send_material", pattern=FIELD_NAME_PATTERN,
                            description="the email (templates/<name>.yaml); it shows {{ download_url }}")
    link_days: int = setting(default=7, ge=1, le=90, description="how long the emailed and the thank-you page's "
                             "links work")


def _form_ids_and_rendered_fields(forms: dict[str, FormDefinition]) -> dict[str, FormDefinition]:
    bad = [form_id for form_id in forms if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", form_id)]
    if bad:
        raise ValueError(f"form ids must be lower-case slugs: {', '.join(bad)}")
    rendered: dict[str, set[bool]] = {}
    for form in forms.values():
        for field in form.custom_fields:
            rendered.setdefault(field.name, set()).add(field.rendered)
    mixed = sorted(name for name, flags in rendered.items() if len(flags) > 1)
    if mixed:  # a value posted through the form that does not check it could reach an email
        raise ValueError(f"custom fields rendered in one form must be rendered in all: {', '.join(mixed)}")
    return forms


@record
class FormsFile:
    forms: Annotated[dict[str, FormDefinition], Check(_form_ids_and_rendered_fields)]
    double_opt_in: DoubleOptInSettings = setting(default_factory=DoubleOptInSettings)
    downloads: DownloadSettings = setting(default_factory=DownloadSettings)
