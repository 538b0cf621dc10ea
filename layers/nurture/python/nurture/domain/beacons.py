"""What the tracking snippet posts, checked as hostile input: pydantic's validation, loaded only by the tracking
function (the functions behind queues and streams import `nurture.domain.tracking` without it)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from nurture.domain.bodies import JSON, TEXT, load_json, media_type
from nurture.domain.errors import FieldProblem, MalformedBody, UnsupportedMediaType, ValidationFailed
from nurture.domain.submissions import VID_PATTERN
from nurture.domain.text import clean_text, drop_invisible

# Stored text holds nothing invisible (control, bidi and zero-width characters): see text.drop_invisible.
Url = Annotated[str, StringConstraints(max_length=2048, pattern=r"^https?://"), AfterValidator(drop_invisible)]
Text = Annotated[str, AfterValidator(clean_text)]


def _dynamodb_number(value: float) -> float:
    """DynamoDB numbers lie within 1E-130 and 9.9E+125 in magnitude (or are zero)."""
    if value != 0 and not 1e-130 <= abs(value) < 9.9e125:
        raise ValueError("is outside the range of numbers that can be stored")
    return value


# Values DynamoDB can hold as they are: no NaN or infinity, integers within its 38 digits.
PropValue = (
    Annotated[str, StringConstraints(max_length=500), AfterValidator(drop_invisible)]
    | bool
    | Annotated[int, Field(ge=-(10**15), le=10**15)]
    | Annotated[float, Field(allow_inf_nan=False), AfterValidator(_dynamodb_number)]
    | None
)


class Beacon(BaseModel):
    """One event the tracking snippet sends. Unknown keys are ignored so old snippets keep working."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    vid: Annotated[str, StringConstraints(pattern=VID_PATTERN.pattern)]
    type: Literal["page_view", "download", "custom"]
    url: Url | None = None
    title: Annotated[Text, StringConstraints(max_length=500)] | None = None
    referrer: Url | Literal[""] | None = None
    name: Annotated[Text, StringConstraints(min_length=1, max_length=100)] | None = None
    props: Annotated[dict[Annotated[Text, StringConstraints(max_length=64)], PropValue], Field(max_length=20)] = {}

    def activity_data(self) -> dict[str, Any]:
        return {"vid": self.vid, "url": self.url, "title": self.title, "referrer": self.referrer, "name": self.name,
                "props": self.props}



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
            beacon = Beacon.model_validate(item)
        except ValidationError as exc:
            problems += [
                FieldProblem(prefix + ".".join(str(part) for part in error["loc"]), error["type"], error["msg"])
                for error in exc.errors()
            ]
            continue
        if beacon.type == "custom" and not beacon.name:
            problems.append(FieldProblem(f"{prefix}name", "required", "is required for custom events"))
        beacons.append(beacon)
    if problems:
        raise ValidationFailed("Some events are invalid.", problems)
    return beacons
