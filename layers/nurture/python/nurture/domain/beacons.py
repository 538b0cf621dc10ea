"""What the tracking snippet posts, checked as hostile input (a msgspec Struct), loaded only by the tracking
function."""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import msgspec

from nurture.domain.bodies import JSON, TEXT, load_json, media_type
from nurture.domain.errors import FieldProblem, MalformedBody, UnsupportedMediaType, ValidationFailed
from nurture.domain.inputs import parsed
from nurture.domain.submissions import VID_PATTERN
from nurture.domain.text import clean_text, drop_invisible

Url = Annotated[str, msgspec.Meta(max_length=2048, pattern=r"^https?://")]
Text = Annotated[str, msgspec.Meta(max_length=500)]
# Values DynamoDB can hold as they are: floats within its range (JSON has no NaN); an integer beyond 10^15 is
# kept as the float it is close to, as pydantic kept it before.
PropValue = Text | bool | int | float | None
LARGEST_INTEGER = 10**15


class Beacon(msgspec.Struct, kw_only=True):
    """One event the tracking snippet sends. Unknown keys are ignored so old snippets keep working. Stored text
    holds nothing invisible (control, bidi and zero-width characters): see text.drop_invisible."""

    vid: Annotated[str, msgspec.Meta(pattern=VID_PATTERN.pattern)]
    type: Literal["page_view", "download", "custom"]
    url: Url | None = None
    title: Text | None = None
    referrer: Annotated[str, msgspec.Meta(max_length=2048, pattern=r"^(https?://|$)")] | None = None
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None
    props: Annotated[dict[Annotated[str, msgspec.Meta(max_length=64)], PropValue], msgspec.Meta(max_length=20)] = {}

    def __post_init__(self) -> None:
        self.url = None if self.url is None else drop_invisible(self.url)
        self.referrer = None if self.referrer is None else drop_invisible(self.referrer)
        self.title = None if self.title is None else clean_text(self.title)
        self.name = None if self.name is None else clean_text(self.name)
        if self.type == "custom" and not self.name:
            raise ValidationFailed("Some events are invalid.",
                                   [FieldProblem("name", "required", "is required for custom events")])
        self.props = {clean_text(key): _prop(key, value) for key, value in self.props.items()}

    def activity_data(self) -> dict[str, Any]:
        return {"vid": self.vid, "url": self.url, "title": self.title, "referrer": self.referrer, "name": self.name,
                "props": self.props}


def _prop(key: str, value: Any) -> Any:
    if isinstance(value, str):
        return drop_invisible(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > LARGEST_INTEGER:
        value = float(value)
    # DynamoDB numbers lie within 1E-130 and 9.9E+125 in magnitude (or are zero).
    if isinstance(value, float) and (not math.isfinite(value) or (value != 0 and not 1e-130 <= abs(value) < 9.9e125)):
        raise ValidationFailed("Some events are invalid.", [FieldProblem(
            "props", "invalid", "is outside the range of numbers that can be stored")])
    return value


def parse_beacons(content_type: str | None, body: bytes, max_events: int) -> list[Beacon]:
    """One beacon object or an array of them, as JSON or as the text/plain navigator.sendBeacon sends."""
    kind, params = media_type(content_type)
    if kind not in (TEXT, JSON, ""):
        raise UnsupportedMediaType(f"Send events as {JSON} or {TEXT}, not {kind}.")
    data = load_json(body, params.get("charset", "utf-8"))
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(item, dict) for item in items):
        raise MalformedBody("Send one event object or a non-empty array of event objects.")
    if len(items) > max_events:
        raise ValidationFailed(
            f"At most {max_events} events per request.",
            [FieldProblem("events", "too_many", f"at most {max_events} events per request")],
        )
    beacons: list[Beacon] = []
    problems: list[FieldProblem] = []
    for index, item in enumerate(items):
        prefix = f"events[{index}]." if isinstance(data, list) else ""
        try:
            beacons.append(parsed(Beacon, item))
        except ValidationFailed as invalid:  # the first problem of each event
            problems += [FieldProblem(prefix + p.field, p.code, p.message) for p in invalid.problems]
    if problems:
        raise ValidationFailed("Some events are invalid.", problems)
    return beacons
