"""Which sequence a lead is in, which step comes next and when: pure decisions over typed state.

The lead carries a `SequenceState`. Enrolling and advancing set `next_send_at`; the dispatcher sends
what is due and the sender calls `advance` after a send. A rank change switches to the new rank's
sequence without resending any email the lead already got (emails are known by template).

A finished sequence keeps one more entry in the due index, a follow-up check: at the latest human
activity + the dormancy period it enrolls a still-silent lead in re-engagement, and after
re-engagement's last step + its grace period it applies the sunset policy (no more mail until the
lead shows up again). Activity in between needs no write: the check looks again and moves itself.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from msgspec import Struct
from msgspec.structs import replace

from nurture.config.sequences import Sequence, SequencesConfig, Step
from nurture.domain.clock import iso, parse_iso, parse_iso_or_none
from nurture.domain.preferences.double_opt_in import pending
from nurture.domain.replies import REPLY
from nurture.domain.schedule import next_send_time

SEND_HISTORY_KEPT = 20  # send times kept for the frequency cap
# After a person's reply, sequences that stop on `replied` stop, and none of them starts, for this long: the
# conversation is sales' (a rank the reply itself raised must not start the next sequence at once).
REPLY_QUIET = timedelta(days=14)


class LeadFacts(Struct, frozen=True):
    """What enrollment and the stop rules look at."""

    rank: str
    stage: str
    status: str
    form_kinds: frozenset[str] = frozenset()
    source: str | None = None
    dormant_days: float = 0.0
    timezone: str | None = None
    last_activity_at: datetime | None = None  # the latest human activity (None: none yet, as for an import)
    unconfirmed: bool = False  # a double opt-in lead its person has not confirmed: enrolled in nothing yet
    replied: bool = False  # the person answered an email within REPLY_QUIET (an automatic reply does not count)
    customer_segment: str | None = None  # a customer's CPM segment, once reviewed
    products: frozenset[str] = frozenset()  # what a customer bought
    next_product: str | None = None  # what customers like this one bought next, once reviewed


class SequenceState(Struct, frozen=True):
    sequence: str
    step: int  # index of the next step to send
    step_started_at: str  # when the delay of the next step started (enrollment or the previous send)
    next_send_at: str | None
    sent_templates: tuple[str, ...] = ()
    sent_at: tuple[str, ...] = ()  # recent send times, for the frequency cap
    opened_previous: bool = False
    clicked_previous: bool = False
    stopped: str | None = None  # the stop rule that ended it
    last_message_id: str | None = None  # the previous email: its opens and clicks set the flags above

    def to_item(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "step": self.step, "step_started_at": self.step_started_at,
                "next_send_at": self.next_send_at, "sent_templates": list(self.sent_templates),
                "sent_at": list(self.sent_at), "opened_previous": self.opened_previous,
                "clicked_previous": self.clicked_previous, "stopped": self.stopped,
                "last_message_id": self.last_message_id}

    @classmethod
    def from_item(cls, item: dict[str, Any] | None) -> SequenceState | None:
        if not item:
            return None
        return cls(sequence=str(item["sequence"]), step=int(item["step"]), step_started_at=str(item["step_started_at"]),
                   next_send_at=item.get("next_send_at"), sent_templates=tuple(item.get("sent_templates") or ()),
                   sent_at=tuple(item.get("sent_at") or ()), opened_previous=bool(item.get("opened_previous")),
                   clicked_previous=bool(item.get("clicked_previous")), stopped=item.get("stopped"),
                   last_message_id=item.get("last_message_id"))


def lead_facts(profile: dict[str, Any], rank: str, stage: str, now: datetime) -> LeadFacts:
    """The facts of a stored lead profile, with the rank and stage scoring just decided."""
    # A lead that has done nothing yet (an imported one) has no activity; it is silent since it was created.
    last = parse_iso_or_none(profile.get("last_activity_at"))
    silent_since = last or parse_iso_or_none(profile.get("created_at"))
    dormant = (now - silent_since).total_seconds() / 86400 if silent_since else 0
    return LeadFacts(
        rank=rank,
        stage=stage,
        status=str(profile.get("status", "active")),
        form_kinds=frozenset(profile.get("form_kinds") or ()),
        source=first_touch_source(profile),
        dormant_days=max(0.0, dormant),
        timezone=profile.get("timezone"),
        last_activity_at=last,
        unconfirmed=pending(profile) is not None,
        replied=replied_since(profile, now - REPLY_QUIET),
        customer_segment=(profile.get("customer") or {}).get("segment"),
        products=frozenset(profile.get("products") or ()),
        next_product=(profile.get("customer") or {}).get("next_product"),
    )


def replied_since(profile: dict[str, Any], since: datetime) -> bool:
    """Whether the person's last reply (the scorer's activity summary) came after `since`."""
    last = (((profile.get("activity") or {}).get("types") or {}).get(REPLY) or {}).get("last")
    return last is not None and parse_iso(str(last)) > since


def first_touch_source(profile: dict[str, Any]) -> str | None:
    """Where the lead first came from: its first touch's utm_source (an import's list name)."""
    return ((profile.get("first_touch") or {}).get("utm") or {}).get("utm_source")


def sequence_for(facts: LeadFacts, config: SequencesConfig, had: frozenset[str] = frozenset()) -> Sequence | None:
    """Customers go to the first customer sequence they match that has an email they have not `had` (a lapsed
    customer is silent too: win-back, not re-engagement, is theirs); dormant leads to the re-engagement
    sequence; the others to the first sequence they match."""
    candidates = sorted(config.sequences, key=lambda s: (not s.enroll.for_customers, s.enroll.dormant_days is None))
    for sequence in candidates:
        rule = sequence.enroll
        if rule.for_customers and {step.template for step in sequence.steps} <= had:
            continue
        if rule.dormant_days is not None and facts.dormant_days < rule.dormant_days:
            continue
        if rule.rank is not None and facts.rank not in rule.rank:
            continue
        if rule.form_kind is not None and not facts.form_kinds & set(rule.form_kind):
            continue
        if rule.source is not None and facts.source not in rule.source:
            continue
        if rule.customer_segment is not None and facts.customer_segment not in rule.customer_segment:
            continue
        if rule.bought is not None and not facts.products & set(rule.bought):
            continue
        if rule.next_product is not None and facts.next_product not in rule.next_product:
            continue
        return sequence
    return None


def stop_reason(sequence: Sequence, facts: LeadFacts) -> str | None:
    observed = {
        "handed_off": facts.stage in ("handed_off", "accepted"),
        "converted": facts.stage == "won",
        "unsubscribed": facts.status == "unsubscribed",
        "bounced": facts.status == "bounced",
        "complained": facts.status == "complained",
        "replied": facts.replied,
    }
    return next((rule for rule in sequence.stop if observed[rule]), None)


Scheduler = Callable[[datetime, tuple[str, ...], str | None], datetime]


def scheduler_for(config: SequencesConfig) -> Scheduler:
    def schedule(earliest: datetime, sent_at: tuple[str, ...], timezone: str | None) -> datetime:
        history = [parse_iso(t) for t in sent_at]
        return next_send_time(earliest, config.send_window, config.frequency_cap, history, timezone)

    return schedule


# Stops that sales undo: a lead they send back (recycle, reject, lose) goes on with the sequence its
# handoff stopped, from the first email it has not had.
RESUMED_AFTER = frozenset({"handed_off"})


def update_enrollment(state: SequenceState | None, facts: LeadFacts, config: SequencesConfig,
                      now: datetime) -> SequenceState | None:
    """Enroll, switch on a rank change, or stop: what the lead's sequence state becomes now."""
    if facts.unconfirmed:
        return state
    target = sequence_for(facts, config, frozenset(state.sent_templates) if state else frozenset())
    if state is not None and state.stopped is None:
        current = config.sequence(state.sequence)
        if current is not None:
            reason = stop_reason(current, facts)
            if reason is not None:
                return replace(state, stopped=reason, next_send_at=None)
            # A lead that wakes up leaves re-engagement, and a lead that buys goes to its customer sequence, whatever
            # on_rank_change says: neither is a rank change.
            stays = (config.on_rank_change == "stay" and not current.reengages
                     and not (target is not None and target.enroll.for_customers))
            if target is None or target.id == current.id or stays:
                return state
    if target is None or stop_reason(target, facts) is not None:
        return state
    if state is not None and state.sequence == target.id:
        if state.stopped not in RESUMED_AFTER or facts.stage != "recycled":
            return state  # finished or sunset in this very sequence: it does not start again by itself
        # Sent back by sales: on from the first email not had yet, with what it knows of the last one.
        resumed = replace(state, stopped=None, step=0, step_started_at=iso(now), next_send_at=None)
        return _schedule_next(resumed, target, facts, config)
    sent = state.sent_templates if state else ()
    if target.reengages:  # a lead dormant a second time gets the re-engagement emails again
        sent = tuple(template for template in sent if template not in {step.template for step in target.steps})
    history = state.sent_at if state else ()
    fresh = SequenceState(sequence=target.id, step=0, step_started_at=iso(now), next_send_at=None,
                          sent_templates=sent, sent_at=history)
    return _schedule_next(fresh, target, facts, config)


def advance(state: SequenceState, config: SequencesConfig, facts: LeadFacts, sent_at: datetime,
            message_id: str | None = None) -> SequenceState:
    """After the step was sent: remember it and schedule the one after."""
    sequence = _sequence_of(state, config)
    sent = note_sent(replace(state, step=state.step + 1, step_started_at=iso(sent_at), next_send_at=None,
                             opened_previous=False, clicked_previous=False, last_message_id=message_id),
                     sequence.steps[state.step].template, sent_at)
    return _next_for_customers(_schedule_next(sent, sequence, facts, config), sequence, facts, config, sent_at)


def note_sent(state: SequenceState, template: str, sent_at: datetime) -> SequenceState:
    """Remember an email in the lead's history: it is never resent, and it counts toward the cap."""
    return replace(state, sent_templates=tuple(dict.fromkeys([*state.sent_templates, template])),
                   sent_at=(*state.sent_at, iso(sent_at))[-SEND_HISTORY_KEPT:])


def retime(state: SequenceState, config: SequencesConfig, facts: LeadFacts) -> SequenceState:
    """The pending step again, after the history changed: an email it holds may now be sent already
    (skip it), and the cap may now make it wait."""
    sequence = config.sequence(state.sequence)
    if state.next_send_at is None or state.stopped or sequence is None:
        return state
    return _schedule_next(state, sequence, facts, config)


def note_engagement(state: SequenceState, events: list[dict[str, Any]]) -> SequenceState:
    """Opens and clicks of the previous email, for the next step's condition."""
    mine = [e for e in events if state.last_message_id and e.get("message_id") == state.last_message_id
            and not e.get("bot")]  # a scanner's click says nothing about the person
    opened = state.opened_previous or any(e.get("type") in ("email_open", "email_click") for e in mine)
    clicked = state.clicked_previous or any(e.get("type") == "email_click" for e in mine)
    return replace(state, opened_previous=opened, clicked_previous=clicked)


def skip(state: SequenceState, config: SequencesConfig, facts: LeadFacts, at: datetime) -> SequenceState:
    """The due step's condition does not hold: move on without sending (what the lead did with the
    previous email still counts for the step after)."""
    sequence = _sequence_of(state, config)
    return _next_for_customers(_schedule_next(replace(state, step=state.step + 1, step_started_at=iso(at),
                                                      next_send_at=None), sequence, facts, config),
                               sequence, facts, config, at)


def _next_for_customers(state: SequenceState, sequence: Sequence, facts: LeadFacts, config: SequencesConfig,
                        now: datetime) -> SequenceState:
    """A customer who has had every email of a customer sequence goes on at once to the next one they match
    (the cross-sell of what they bought, then their segment's), or to their rank's."""
    if state.stopped != "completed" or not sequence.enroll.for_customers:
        return state
    return update_enrollment(state, facts, config, now) or state


def step_applies(step: Step, state: SequenceState) -> bool:
    """Judged when the step is due, so opens and clicks up to that moment count."""
    return {
        "always": True,
        "opened_previous": state.opened_previous,
        "not_opened_previous": not state.opened_previous,
        "clicked_previous": state.clicked_previous,
        "not_clicked_previous": not state.clicked_previous,
    }[step.condition]


def current_step(state: SequenceState, config: SequencesConfig) -> Step | None:
    sequence = config.sequence(state.sequence)
    if sequence is None or state.stopped or state.step >= len(sequence.steps):
        return None
    return sequence.steps[state.step]


def is_follow_up_check(state: SequenceState) -> bool:
    """A finished sequence's dormancy or sunset check, due in the index like a step."""
    return state.stopped == "completed" and state.next_send_at is not None


def follow_up(state: SequenceState, config: SequencesConfig, facts: LeadFacts, now: datetime) -> SequenceState:
    """The check came due: enroll a dormant lead in re-engagement, sunset a lead that stayed silent
    through it, or look again later for a lead that was active meanwhile."""
    sequence = config.sequence(state.sequence)
    reason = stop_reason(sequence, facts) if sequence is not None else None
    if reason is not None:
        return replace(state, stopped=reason, next_send_at=None)  # unsubscribed, handed off...: no more checks
    moved = update_enrollment(state, facts, config, now)
    if moved is not None and moved != state:
        return moved  # into re-engagement, or (woken up) back into its rank's sequence
    threshold = config.dormant_after_days()
    if sequence is None or threshold is None:
        return replace(state, next_send_at=None)
    if facts.dormant_days < threshold:
        # Active since: look again when that activity is `threshold` days old (always ahead of now).
        again = _dormant_from(facts, now, threshold)
        return replace(state, next_send_at=iso(max(again, now + timedelta(days=1))))
    if sequence.reengages:
        return replace(state, stopped="sunset", next_send_at=None)
    return replace(state, next_send_at=None)  # dormant, but re-engagement's stop rules keep it out (handed off)


def _follow_up_at(state: SequenceState, sequence: Sequence, facts: LeadFacts, threshold: int) -> str:
    finished = parse_iso(state.step_started_at)  # the last step's send (or skip)
    if sequence.reengages:
        return iso(finished + timedelta(days=sequence.sunset_days))
    return iso(_dormant_from(facts, finished, threshold))


def _dormant_from(facts: LeadFacts, otherwise: datetime, threshold: int) -> datetime:
    """When the lead turns dormant: `threshold` days after its latest activity (or `otherwise`)."""
    return (facts.last_activity_at or otherwise) + timedelta(days=threshold)


def _sequence_of(state: SequenceState, config: SequencesConfig) -> Sequence:
    sequence = config.sequence(state.sequence)
    assert sequence is not None, state.sequence
    return sequence


def _schedule_next(state: SequenceState, sequence: Sequence, facts: LeadFacts,
                   config: SequencesConfig) -> SequenceState:
    """Skip steps whose email the lead already received (by template); time the next one. After the
    last step: completed, with its follow-up check when there is a re-engagement sequence."""
    step_index = state.step
    while step_index < len(sequence.steps) and sequence.steps[step_index].template in state.sent_templates:
        step_index += 1
    if step_index >= len(sequence.steps):
        done = replace(state, step=step_index, next_send_at=None, stopped=state.stopped or "completed")
        threshold = config.dormant_after_days()
        if threshold is None or done.stopped != "completed":
            return done
        return replace(done, next_send_at=_follow_up_at(done, sequence, facts, threshold))
    started = parse_iso(state.step_started_at)
    earliest = started + timedelta(days=sequence.steps[step_index].delay_days)
    schedule = scheduler_for(config)
    return replace(state, step=step_index, next_send_at=iso(schedule(earliest, state.sent_at, facts.timezone)))


MAX_PLANNED_STEPS = 500  # a year of steps and checks: a bound, not a limit any real plan meets


def planned_sends(facts: LeadFacts, sequences: SequencesConfig, now: datetime,
                   until: datetime) -> list[tuple[datetime, str]] | None:
    """Drive the real sequencing rules forward in time for a silent lead; None: no sequence takes it."""
    state = update_enrollment(None, facts, sequences, now)
    if state is None:
        return None
    sends: list[tuple[datetime, str]] = []
    for _ in range(MAX_PLANNED_STEPS):
        if state.next_send_at is None or (at := parse_iso(state.next_send_at)) >= until:
            break
        silent = replace(facts, dormant_days=(at - now).total_seconds() / 86400)
        if is_follow_up_check(state):
            state = follow_up(state, sequences, silent, at)
            continue
        step = current_step(state, sequences)
        if step is None:
            break
        if step_applies(step, state):
            sends.append((at, step.template))
            state = advance(state, sequences, silent, at)
            # The scorer sees the send: a lead silent for the dormancy period mid-sequence moves on.
            state = update_enrollment(state, silent, sequences, at) or state
        else:
            state = skip(state, sequences, silent, at)
    return sends
