"""Validate a form post against its form definition and shape what gets stored."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from functools import cache
from typing import Any
from zoneinfo import available_timezones

from msgspec import Struct, field
from msgspec.structs import replace

from nurture.config.models import RENDERED_FIELDS, STANDARD_FIELDS, FormDefinition
from nurture.domain.errors import FieldProblem, ValidationFailed
from nurture.domain.text import (
    InvalidEmail,
    clean_text,
    contains_link,
    email_key,
    normalize_email,
    normalize_number,
    normalize_phone,
)

# Profile fields a submission can fill or update (progressive profiling).
PROFILE_FIELDS = ("name", "company", "title", "department", "industry", "employees", "phone", "country", "prefecture",
                  "timezone")
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
VID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_TRUE = {"on", "true", "1", "yes", "y", "agree", "agreed", "同意", "同意する"}
_FALSE = {"", "off", "false", "0", "no", "n"}


class Submission(Struct, frozen=True):
    form_id: str
    form: FormDefinition
    email: str
    email_key: str
    profile: dict[str, str]
    custom: dict[str, Any]
    consent: bool | None
    vid: str | None
    utm: dict[str, str]
    page: str | None
    fingerprint: str = field(default="")


def is_spam(form: FormDefinition, fields: dict[str, str]) -> bool:
    """A person never fills the hidden honeypot field; a bot filling every input does."""
    return bool(fields.get(form.honeypot, "").strip())


def validate_submission(form_id: str, form: FormDefinition, fields: dict[str, str]) -> Submission:
    """Every problem at once, or a Submission holding only clean, normalized values."""
    problems: list[FieldProblem] = []
    values: dict[str, str] = {}
    for name, limit in STANDARD_FIELDS.items():
        raw = fields.get(name)
        if raw is None:
            continue
        if len(raw) > limit:
            problems.append(FieldProblem(name, "too_long", f"must be at most {limit} characters"))
            continue
        values[name] = clean_text(raw)
        if name in RENDERED_FIELDS and contains_link(values[name]):
            problems.append(_no_links(name))

    email = _email(values.get("email", ""), problems)
    profile = _profile(values, problems)
    consent = _consent(form, values.get("consent"), problems)
    custom = _custom_fields(form, fields, problems)
    vid = values.get("vid") or None
    if vid is not None and not VID_PATTERN.match(vid):
        problems.append(FieldProblem("vid", "invalid", "must be 8 to 64 letters, digits, '-' or '_'"))
    page = values.get("page") or None
    if page is not None and not page.startswith(("https://", "http://")):
        problems.append(FieldProblem("page", "invalid", "must be an http(s) URL"))
    for name in form.required:
        if name == "email" or form.custom_field(name) is not None:
            continue
        if not values.get(name):
            problems.append(FieldProblem(name, "required", "is required"))
    if problems:
        raise ValidationFailed("The form has missing or invalid fields.", _first_per_field(problems))
    assert email is not None
    submission = Submission(
        form_id=form_id,
        form=form,
        email=email,
        email_key=email_key(email),
        profile=profile,
        custom=custom,
        consent=consent,
        vid=vid,
        utm={name: values[name] for name in UTM_FIELDS if values.get(name)},
        page=page,
    )
    return replace(submission, fingerprint=_fingerprint(submission))


def duplicate_key(submission: Submission, idempotency_key: str | None) -> str:
    """Same form + address + Idempotency-Key, or same form + address + fields: one submission.

    The address is part of the key so that a key reused by another person (a constant in a naive
    integration) never swallows their submission.
    """
    basis = f"key:{submission.email_key}:{idempotency_key}" if idempotency_key else f"fields:{submission.fingerprint}"
    return hashlib.sha256(f"{submission.form_id}|{basis}".encode()).hexdigest()


def _fingerprint(submission: Submission) -> str:
    canonical = json.dumps(
        {
            "email": submission.email_key,
            "profile": submission.profile,
            "custom": submission.custom,
            "consent": submission.consent,
            "vid": submission.vid,
            "utm": submission.utm,
            "page": submission.page,
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _email(raw: str, problems: list[FieldProblem]) -> str | None:
    if not raw:
        problems.append(FieldProblem("email", "required", "is required"))
        return None
    try:
        return normalize_email(raw)
    except InvalidEmail:
        problems.append(FieldProblem("email", "invalid", "is not a valid email address"))
        return None


def _profile(values: dict[str, str], problems: list[FieldProblem]) -> dict[str, str]:
    profile: dict[str, str] = {}
    for name in PROFILE_FIELDS:
        value = values.get(name, "")
        if not value:
            continue  # an empty field never erases what we know
        if name == "phone":
            phone = normalize_phone(value)
            if phone is None:
                problems.append(FieldProblem("phone", "invalid", "is not a phone number"))
                continue
            value = phone
        elif name == "employees":
            value = normalize_number(value)
        elif name == "timezone" and value not in _timezones():
            problems.append(FieldProblem("timezone", "invalid", "is not an IANA time zone such as Asia/Tokyo"))
            continue
        profile[name] = value
    return profile


def _consent(form: FormDefinition, raw: str | None, problems: list[FieldProblem]) -> bool | None:
    answer: bool | None = None
    if raw is not None:
        folded = unicodedata.normalize("NFKC", raw).strip().lower()
        if folded in _TRUE:
            answer = True
        elif folded in _FALSE:
            answer = False
        else:
            problems.append(FieldProblem("consent", "invalid", "must be true or false"))
            return None
    if form.consent is not None and form.consent.required and answer is not True:
        problems.append(FieldProblem("consent", "required", "must be given to submit this form"))
    return answer if form.consent is not None else None


def _custom_fields(form: FormDefinition, fields: dict[str, str], problems: list[FieldProblem]) -> dict[str, Any]:
    custom: dict[str, Any] = {}
    for definition in form.custom_fields:
        raw = fields.get(definition.name)
        value = clean_text(raw, multiline=definition.multiline) if raw is not None else ""
        if len(value) > definition.max_length:
            problems.append(
                FieldProblem(definition.name, "too_long", f"must be at most {definition.max_length} characters")
            )
            continue
        if not value:
            if definition.required or definition.name in form.required:
                problems.append(FieldProblem(definition.name, "required", "is required"))
            continue
        if definition.type == "number":
            number = normalize_number(value)
            if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", number):
                problems.append(FieldProblem(definition.name, "invalid", "must be a number"))
                continue
            custom[definition.name] = number
        elif definition.type == "choice":
            if value not in (definition.choices or []):
                problems.append(FieldProblem(definition.name, "invalid", "is not one of the choices"))
                continue
            custom[definition.name] = value
        elif definition.type == "boolean":
            folded = unicodedata.normalize("NFKC", value).lower()
            if folded not in _TRUE | _FALSE:
                problems.append(FieldProblem(definition.name, "invalid", "must be true or false"))
                continue
            custom[definition.name] = folded in _TRUE
        elif definition.rendered and contains_link(value):
            problems.append(_no_links(definition.name))
        else:
            custom[definition.name] = value
    return custom


def _no_links(name: str) -> FieldProblem:
    # Emails show this field: a link in it would reach the inbox under the sender's name.
    return FieldProblem(name, "no_links", "must not contain a web address or an email address")


def _first_per_field(problems: list[FieldProblem]) -> list[FieldProblem]:
    seen: dict[str, FieldProblem] = {}
    for problem in problems:
        seen.setdefault(problem.field, problem)
    return list(seen.values())


@cache
def _timezones() -> frozenset[str]:
    return frozenset(available_timezones())
