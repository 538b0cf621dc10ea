"""What a seminar form's post asks for: a place in the session it chose. The scorer's stream reads it off the post's
`form_submit` activity and queues this message to the sender, which registers the lead and sends the confirmation
(kept apart from both, which need the store and the renderer the scorer does not load)."""

from __future__ import annotations

from typing import Annotated, Any, Final, Literal

import msgspec

from nurture.config.events import SESSION_FIELD, EventsConfig
from nurture.domain.messages import Id, LeadMessage, Moment, SessionId

Status = Literal["registered", "waitlisted"]  # a registration's: a place in its session, or on its waitlist
# What an attendance import records, scored by scoring.yaml's rules.
ATTENDED: Final = "event_attended"
NO_SHOW: Final = "event_no_show"
CANCELLED: Final = "event_cancelled"  # the person cancelled through the registration's page
Attendance = Literal["event_attended", "event_no_show"]


class RegistrationMessage(LeadMessage, frozen=True, kw_only=True):
    """The send queue's message for one post's registration."""

    kind: Literal["registration"] = "registration"
    event_id: Id
    session_id: SessionId
    asked_at: Moment


class ReminderMessage(LeadMessage, frozen=True, kw_only=True):
    """The send queue's message for one reminder of one registration (the dispatcher's, from the due index)."""

    kind: Literal["event_reminder"] = "event_reminder"
    event_id: Id
    hours_before: Annotated[int, msgspec.Meta(ge=1, le=720, description="which of the event's reminders_hours_before")]


def requested_registration(lead_id: str, activity: dict[str, Any], events: EventsConfig) -> RegistrationMessage | None:
    """The message a new activity item asks for, if it is the post of an event's registration form choosing one of
    its sessions."""
    if activity.get("type") != "form_submit" or activity.get("form_kind") != "seminar":
        return None
    found = events.for_form(str(activity.get("form_id")))
    session = (activity.get("fields") or {}).get(SESSION_FIELD)
    if found is None or not isinstance(session, str) or found[1].session(session) is None:
        return None
    return RegistrationMessage.of(lead_id=lead_id, event_id=found[0], session_id=session,
                               asked_at=str(activity["occurred_at"]))


class FollowUpMessage(LeadMessage, frozen=True, kw_only=True):
    """The send queue's message for the email after a session: thanks to an attendee, the recording to a no-show."""

    kind: Literal["event_follow_up"] = "event_follow_up"
    event_id: Id
    session_id: SessionId
    attendance: Attendance


def requested_follow_up(lead_id: str, activity: dict[str, Any], events: EventsConfig) -> FollowUpMessage | None:
    """The message a new activity item asks for, if an attendance import marked the lead and its event has an email
    for that."""
    kind = activity.get("type")
    if kind not in (ATTENDED, NO_SHOW) or activity.get("source") != "import":
        return None
    event = events.events.get(str(activity.get("name")))
    session = event.session(str(activity.get("session"))) if event is not None else None
    if event is None or session is None or event.follow_up.template(kind) is None:
        return None
    return FollowUpMessage.of(lead_id=lead_id, event_id=str(activity["name"]), session_id=session.id,
                           attendance=ATTENDED if kind == ATTENDED else NO_SHOW)


FREED_BY_DISPATCHER = "-"  # a promotion's `lead_id` when a tick found the seat free, not a lead's cancellation


class PromotionMessage(LeadMessage, frozen=True, kw_only=True):
    """The send queue's message after a seat is given back: the first on the session's waitlist may take it.
    `lead_id` is the lead that cancelled, or FREED_BY_DISPATCHER."""

    kind: Literal["event_promotion"] = "event_promotion"
    event_id: Id
    session_id: SessionId
    offer_id: Annotated[str, msgspec.Meta(
        min_length=1, max_length=64, description="one seat's offer: a redelivery promotes no more")]


def requested_promotion(lead_id: str, activity: dict[str, Any], events: EventsConfig) -> PromotionMessage | None:
    """The message a new activity item asks for, if it is the cancellation of a place (not of a waitlist one) in a
    session of the config."""
    if activity.get("type") != CANCELLED or activity.get("status") != "registered":
        return None
    event = events.events.get(str(activity.get("name")))
    session = event.session(str(activity.get("session"))) if event is not None else None
    if event is None or session is None:
        return None
    return PromotionMessage.of(lead_id=lead_id, event_id=str(activity["name"]), session_id=session.id,
                            offer_id=str(activity.get("event_id") or activity["occurred_at"]))
