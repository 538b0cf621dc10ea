"""What a download form's post asks for: its material, emailed. The scorer's stream reads it off the post's
`form_submit` activity and queues this message to the sender (kept apart from the email itself, which needs the
renderer the scorer does not load)."""

from __future__ import annotations

from typing import Any, Literal

from nurture.domain.messages import Id, LeadMessage, Moment


class MaterialMessage(LeadMessage, frozen=True, kw_only=True):
    """The send queue's message for one post's material email."""

    kind: Literal["material"] = "material"
    form_id: Id
    asked_at: Moment


def requested_material(lead_id: str, activity: dict[str, Any]) -> MaterialMessage | None:
    """The message a new activity item asks for, if it is a download form's post."""
    if activity.get("type") != "form_submit" or activity.get("form_kind") != "download" or not activity.get("asset"):
        return None
    return MaterialMessage.of(lead_id=lead_id, form_id=str(activity["form_id"]), asked_at=str(activity["occurred_at"]))
