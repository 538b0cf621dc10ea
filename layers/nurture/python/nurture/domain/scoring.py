"""The scoring engine: fit from the profile, decaying engagement from activity, ranks and patterns.

Pure: state comes in, state and ledger entries go out. Engagement is stored as (value, as_of) and
decays exponentially with the configured half-life; adding an event of any time is exact, so events
may arrive out of order (a visitor's history merged at identify) and still count as if they had
happened to the lead in time order.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any, get_args
from zoneinfo import ZoneInfo

from msgspec import Struct, field
from msgspec.structs import replace

from nurture.config.accounts import AccountPattern
from nurture.config.scoring import MEETING_SET, FitRule, PatternRule, ScoringRules
from nurture.config.segments import PersonActivity, UrlGroups
from nurture.domain.bots import CLICK_BURST, ClickHit, click_bursts
from nurture.domain.clock import iso, parse_iso, parse_iso_or_none
from nurture.domain.preferences.double_opt_in import pending
from nurture.domain.sequencing import SequenceState
from nurture.domain.summaries import Summary, last_counted, summarize, withdraw

HANDOFF_STAGES = ("nurturing", "recycled")  # stages from which a hot lead is handed to sales
CALL_OUTCOME = "call_outcome"  # the activity a salesperson's call is recorded as (domain.sales.tasks)
# What a person does (a machine's opens and clicks are told apart before this): it keeps a lead from
# going dormant. Sends, deliveries and bounces are what we do.
HUMAN_ACTIVITY = frozenset(get_args(PersonActivity))
# The scoring state rides on every profile write, billed by the kilobyte: it keeps only what decides points.
CAP_DAYS_KEPT = 2  # daily-cap counters of today and yesterday (relative to the newest event)
MARKS_KEPT = 5  # per pattern step: the most recent times a step happened (a fired pattern keeps none)
# A person's clicks are remembered this long (at most CLICKS_KEPT of them): the rest of a scanner's
# burst may reach the scorer in a later batch, and the points of the clicks before it are withdrawn.
CLICK_MEMORY = timedelta(hours=1)
CLICKS_KEPT = 50
ACTIVE_MARK = "*"  # any activity of the person's: once a day, it refreshes the account's standing


class CountedClick(Struct, frozen=True):
    """A remembered click, with the points it earned per rule (emptied once withdrawn)."""

    hit: ClickHit
    points: dict[str, float]
    counted: bool = False  # scored and summarized as a person's click (until withdrawn)

    def to_item(self) -> dict[str, Any]:
        return {"event_id": self.hit.event_id, "at": iso(self.hit.at), "message_id": self.hit.message_id,
                "link": self.hit.link, "points": self.points, "counted": self.counted}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> CountedClick:
        hit = ClickHit(str(item["event_id"]), parse_iso(str(item["at"])), str(item["message_id"]), str(item["link"]))
        points = {rule: float(points) for rule, points in (item.get("points") or {}).items()}
        # Remembered before `counted` was stored: only a click with points was then withdrawn.
        return cls(hit, points, bool(item.get("counted", bool(points))))


class ScoreState(Struct, frozen=True):
    """What the scorer keeps on the lead between batches."""

    engagement: float = 0.0
    as_of: str | None = None
    caps: dict[str, float] = field(default_factory=dict)  # "<rule>#<yyyy-mm-dd>" -> points given that day
    # sequence pattern -> {"first": [times], "then": [times]}: steps seen, so either may arrive first
    marks: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    fired: dict[str, str] = field(default_factory=dict)  # pattern -> when it fired, this cycle
    sequence: int = 0  # the last stream sequence number applied: a replayed record never counts twice
    stream: str | None = None  # the label of the stream `sequence` belongs to (a new stream numbers afresh)
    cycle: int = 0  # incremented by each recycle
    cycle_started_at: str | None = None  # the last recycle: activity before it no longer counts
    version: int = 0  # optimistic lock shared by every writer of the score state
    clicks: tuple[CountedClick, ...] = ()  # a person's recent email clicks, to catch a burst across batches
    # The last day the person's activity was told to its account: ACTIVE_MARK for any, else per account pattern.
    account_days: dict[str, str] = field(default_factory=dict)

    def to_item(self) -> dict[str, Any]:
        return {"engagement": round(self.engagement, 4), "as_of": self.as_of, "caps": self.caps, "marks": self.marks,
                "fired": self.fired, "sequence": self.sequence, "stream": self.stream, "cycle": self.cycle,
                "cycle_started_at": self.cycle_started_at, "version": self.version,
                "clicks": [click.to_item() for click in self.clicks], "account_days": self.account_days}

    @classmethod
    def from_item(cls, item: dict[str, Any] | None) -> ScoreState:
        if not item:
            return cls()
        return cls(
            engagement=float(item.get("engagement", 0)),
            as_of=item.get("as_of"),
            caps={k: float(v) for k, v in (item.get("caps") or {}).items()},
            marks={pattern: {step: list(times) for step, times in steps.items()}
                   for pattern, steps in (item.get("marks") or {}).items()},
            fired=dict(item.get("fired") or {}),
            sequence=int(item.get("sequence", 0)),
            stream=item.get("stream"),
            cycle=int(item.get("cycle", 0)),
            cycle_started_at=item.get("cycle_started_at"),
            version=int(item.get("version", 0)),
            clicks=tuple(CountedClick.from_item(click) for click in item.get("clicks") or []),
            account_days=dict(item.get("account_days") or {}),
        )


class ScoredEvent(Struct, frozen=True):
    event_id: str
    occurred_at: datetime
    sequence: int
    attributes: dict[str, Any]
    stream: str | None = None  # the stream's ARN, as the event source mapping reports it


class LedgerEntry(Struct, frozen=True):
    event_id: str
    occurred_at: str
    rule_id: str
    delta: float
    reason: str
    event_type: str


class MachineClick(Struct, frozen=True):
    """A click judged a machine's only when the scorer saw the burst: its activity is marked so."""

    event_id: str
    occurred_at: str


class FitMatch(Struct, frozen=True):
    rule_id: str
    points: int
    reason: str


class Handoff(Struct, frozen=True):
    handoff_id: str
    cycle: int
    patterns: list[str]
    at: str


class ScoreOutcome(Struct, frozen=True):
    state: ScoreState
    fit: int
    fit_matches: list[FitMatch]
    engagement: float  # decayed to `now`
    rank: str
    stage: str
    ledger: list[LedgerEntry]
    newly_fired: list[str]
    handoff: Handoff | None
    applied: int  # events not seen before; 0 for a replayed batch, which then writes nothing
    sequence: SequenceState | None = None  # the step-email state the new rank and stage lead to, if it changed
    reschedule: bool = False  # its next send time changed: the due entry follows
    machine_clicks: tuple[MachineClick, ...] = ()  # newly found in a burst (this batch's, or withdrawn ones)
    last_activity_at: str | None = None  # the lead's latest human activity, when this batch moved it forward
    activity: Summary | None = None  # the profile's activity summaries, when this batch changed them
    # What the account is to learn: per ACTIVE_MARK or account pattern, the day and time of the person's first
    # such activity on a day not told yet (domain.accounts.patterns)
    account_marks: dict[str, tuple[str, str]] = field(default_factory=dict)


# --- decay -----------------------------------------------------------------------------------------


def _days(later: datetime, earlier: datetime) -> float:
    return (later - earlier).total_seconds() / 86400


def decayed(value: float, as_of: datetime | None, at: datetime, half_life_days: float) -> float:
    """`value` as it stands at `at`; decay only runs forward (a value is never inflated)."""
    if as_of is None or at <= as_of:
        return value
    return value * 2 ** (-_days(at, as_of) / half_life_days)


def add_points(
    value: float, as_of: datetime | None, delta: float, at: datetime, half_life_days: float
) -> tuple[float, datetime]:
    """Add `delta` earned at `at`; exact whichever comes first, the stored value or the event."""
    if as_of is None:
        return delta, at
    if at >= as_of:
        return decayed(value, as_of, at, half_life_days) + delta, at
    return value + delta * 2 ** (-_days(as_of, at) / half_life_days), as_of


# --- fit ---------------------------------------------------------------------------------------------


def employee_count(value: Any) -> int | None:
    """The first number in "1000", "1,000名", "100-499": ranges count by their lower bound."""
    found = re.search(r"\d[\d,]*", str(value or ""))
    return int(found.group().replace(",", "")) if found else None


def profile_value(profile: dict[str, Any], name: str) -> Any:
    """A profile field as fit rules and segments read it; `email_domain` is the address's domain."""
    if name == "email_domain":
        email = str(profile.get("email") or "")
        return email.rsplit("@", 1)[-1].lower() if "@" in email else None
    return profile.get(name)


def _fit_rule_matches(rule: FitRule, value: Any) -> bool:
    if value in (None, ""):
        return False
    if rule.min is not None or rule.max is not None:
        count = employee_count(value)
        return count is not None and (rule.min is None or count >= rule.min) and (
            rule.max is None or count <= rule.max)
    text = str(value).casefold()
    if rule.any_of is not None:
        return text in folded_options(tuple(rule.any_of))
    return mentions_any(text, rule.keywords or ())


def mentions_any(text: str, keywords: Sequence[str]) -> bool:
    """Whether casefolded `text` holds any of the keywords, each matching as `keyword_pattern` says."""
    return bool(keywords) and keywords_pattern(tuple(keywords)).search(text) is not None


@cache
def keywords_pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    """One pattern for any of the keywords: a rule's or a role's keywords are tried on every profile a batch
    or an account view reads, so one search instead of one per keyword."""
    return re.compile("|".join(f"(?:{keyword_pattern(keyword).pattern})" for keyword in keywords))


@cache
def folded_options(options: tuple[str, ...]) -> frozenset[str]:
    """Exact values to compare case-insensitively with a casefolded text."""
    return frozenset(option.casefold() for option in options)


@cache
def keyword_pattern(keyword: str) -> re.Pattern[str]:
    """A Latin keyword matches whole words, case-insensitively ("IT" is not in "Audit", "CTO" not in
    "Director"); one with Japanese matches anywhere, as Japanese puts no spaces between words (部長 in
    営業部長). Beside a Latin keyword, only a Latin letter or digit continues the word (DX推進部 has DX)."""
    folded = re.escape(keyword.casefold())
    return re.compile(rf"(?<![0-9a-z]){folded}(?![0-9a-z])" if keyword.isascii() else folded)


def fit_matches(profile: dict[str, Any], rules: ScoringRules) -> list[FitMatch]:
    """Every matching fit rule; within a group only the one with the largest effect counts."""
    strongest: dict[str, FitRule] = {}
    matched: list[FitRule] = []
    for rule in rules.fit:
        if not _fit_rule_matches(rule, profile_value(profile, rule.field)):
            continue
        if rule.group is None:
            matched.append(rule)
        elif rule.group not in strongest or abs(rule.points) > abs(strongest[rule.group].points):
            strongest[rule.group] = rule
    return [FitMatch(r.id, r.points, r.reason) for r in [*matched, *strongest.values()]]


# --- ranks and handoff -------------------------------------------------------------------------------


def rank_for(fit: int, engagement: float, rules: ScoringRules, held: str | None = None) -> str:
    """The rank these scores earn. A lead that `held` a rank (or a higher one) keeps it until its engagement
    falls `hysteresis` points below the threshold: entering a rank takes the threshold, leaving it more."""
    for rank in ("A", "B"):
        threshold = getattr(rules.ranks, rank)
        margin = rules.ranks.hysteresis if held in ("A", "B") and held <= rank else 0.0  # "A" <= "B": A is higher
        if fit >= threshold.min_fit and engagement >= threshold.min_engagement - margin:
            return rank
    return "C"


def handoff_id(lead_id: str, cycle: int) -> str:
    """One id per lead per nurture cycle: a replay can never hand the same lead off twice."""
    return hashlib.sha256(f"{lead_id}#{cycle}".encode()).hexdigest()[:32]


# --- the engine -------------------------------------------------------------------------------------


def score_lead(
    lead_id: str,
    profile: dict[str, Any],
    stage: str,
    state: ScoreState,
    events: list[ScoredEvent],
    rules: ScoringRules,
    now: datetime,
    *,
    click_burst_seconds: float,
    url_groups: UrlGroups,
) -> ScoreOutcome:
    """Apply the events not applied yet (by stream sequence), in time order, and decide on handoff.

    Clicks on different links of one message within `click_burst_seconds` are a scanner's: they score
    nothing, and the points of a burst's clicks scored in an earlier batch are withdrawn. The person's
    activity of every cycle is counted into the profile's summaries (page views by `url_groups`)."""
    zone = ZoneInfo(rules.timezone)
    stream, watermark = _stream_position(events, state)
    cycle_start = parse_iso_or_none(state.cycle_started_at)
    applied = unapplied(events, state)
    # Activity from before the last recycle (arriving late, or merged) belongs to the finished cycle.
    fresh = sorted((e for e in applied if cycle_start is None or e.occurred_at >= cycle_start),
                   key=lambda e: (e.occurred_at, e.event_id))
    value, as_of = state.engagement, parse_iso_or_none(state.as_of)
    caps, fired = dict(state.caps), dict(state.fired)
    marks = {pattern: {step: list(times) for step, times in steps.items()} for pattern, steps in state.marks.items()}
    ledger: list[LedgerEntry] = []
    newly_fired: list[str] = []
    latest_human: datetime | None = None
    account_marks: dict[str, tuple[str, str]] = {}
    # A double opt-in lead its person has not confirmed belongs to no account yet.
    account_keys = () if pending(profile) is not None else (None, *rules.accounts.patterns)
    hits = {event.event_id: hit for event in fresh if (hit := _person_click(event))}
    burst = click_bursts([click.hit for click in state.clicks] + list(hits.values()), click_burst_seconds)
    machine = [MachineClick(event.event_id, iso(event.occurred_at)) for event in fresh if event.event_id in burst]
    clicks = list(state.clicks)
    for event in fresh:
        if event.event_id in burst:
            clicks.append(CountedClick(hits[event.event_id], {}))  # the rest of its burst may come later
            continue
        if event.attributes.get("bot"):
            continue  # a machine's open or click: kept as history, scores nothing
        if is_human_activity(event.attributes):  # SES's report of an open counts too (our pixel may be off)
            latest_human = max(latest_human or event.occurred_at, event.occurred_at)
        if _repeats_own_tracking(event):
            if event.event_id in hits:
                clicks.append(CountedClick(hits[event.event_id], {}))  # SES's own bursts are still judged
            continue
        day = _day(event.occurred_at, zone)
        if is_human_activity(event.attributes):
            _mark_account(account_marks, account_keys, event, day, state.account_days)
        earned: dict[str, float] = {}
        for rule in rules.engagement:
            if not rule.when.matches(event.attributes):
                continue
            delta = float(rule.points)
            if rule.daily_cap is not None and delta > 0:
                key = f"{rule.id}#{day}"
                delta = max(0.0, min(delta, rule.daily_cap - caps.get(key, 0.0)))
                caps[key] = caps.get(key, 0.0) + delta
            if delta == 0:
                continue
            earned[rule.id] = delta
            value, as_of = add_points(value, as_of, delta, event.occurred_at, rules.half_life_days)
            ledger.append(LedgerEntry(event.event_id, iso(event.occurred_at), rule.id, delta, rule.reason,
                                      str(event.attributes.get("type"))))
        if event.event_id in hits:
            clicks.append(CountedClick(hits[event.event_id], earned, counted=True))
        for pattern in rules.patterns:
            if pattern.id not in fired and _pattern_fires(pattern, event, marks):
                fired[pattern.id] = iso(event.occurred_at)
                newly_fired.append(pattern.id)
        if MEETING_SET not in fired and _sets_meeting(event.attributes):
            fired[MEETING_SET] = iso(event.occurred_at)
            newly_fired.append(MEETING_SET)
    withdrawn = 0
    for index, click in enumerate(clicks):
        if click.hit.event_id not in burst or not click.counted:
            continue
        # Counted in an earlier batch, before the rest of its burst arrived: its points come back off.
        for rule_id, delta in click.points.items():
            value, as_of = add_points(value, as_of, -delta, click.hit.at, rules.half_life_days)
            key = f"{rule_id}#{_day(click.hit.at, zone)}"
            if key in caps:
                caps[key] = max(0.0, caps[key] - delta)
        if click.points:
            ledger.append(LedgerEntry(click.hit.event_id, iso(click.hit.at), CLICK_BURST, -sum(click.points.values()),
                                      "リンク一斉クリック (a scanner's burst of clicks: points withdrawn)",
                                      "email_click"))
        machine.append(MachineClick(click.hit.event_id, iso(click.hit.at)))
        withdrawn += 1
        clicks[index] = CountedClick(click.hit, {})
    persons = [(event.occurred_at, event.attributes) for event in applied if _summarized(event, burst)]
    activity = None
    if persons or withdrawn:
        activity = withdraw(summarize(profile.get("activity"), persons, url_groups), "email_click", withdrawn)
    if as_of is not None:
        newest = max(as_of, *(e.occurred_at for e in fresh)) if fresh else as_of
        horizon = (newest.astimezone(zone).date() - timedelta(days=CAP_DAYS_KEPT - 1)).isoformat()
        caps = {key: points for key, points in caps.items() if key.rsplit("#", 1)[1] >= horizon}
    new_state = replace(
        state,
        engagement=value,
        as_of=iso(as_of) if as_of else None,
        caps=caps,
        marks={pattern: steps for pattern, steps in marks.items() if pattern not in fired},
        fired=fired,
        sequence=max([watermark, *(e.sequence for e in events)]),
        stream=stream,
        clicks=_recent(clicks),
        account_days={key: day for key, day in {**state.account_days,
                                                **{key: day for key, (day, _) in account_marks.items()}}.items()
                      if key == ACTIVE_MARK or any(p.id == key for p in rules.accounts.patterns)},
    )
    matches = fit_matches(profile, rules)
    fit = sum(m.points for m in matches)
    # Rounded as shown to people: a threshold met at the event is not missed by milliseconds of decay.
    engagement_now = round(decayed(value, as_of, now, rules.half_life_days), 2)
    rank = rank_for(fit, engagement_now, rules, profile.get("rank"))
    handoff, stage = _handoff(lead_id, profile, stage, rank, new_state, now)
    known = parse_iso_or_none(profile.get("last_activity_at"))
    moved = latest_human is not None and (known is None or latest_human > known)
    return ScoreOutcome(new_state, fit, matches, engagement_now, rank, stage, ledger, newly_fired, handoff,
                        applied=len(applied), machine_clicks=tuple(machine),
                        last_activity_at=iso(latest_human) if moved and latest_human else None, activity=activity,
                        account_marks=account_marks)


def _handoff(lead_id: str, profile: dict[str, Any], stage: str, rank: str, state: ScoreState, now: datetime
             ) -> tuple[Handoff | None, str]:
    """The handoff a lead of rank A, or with a pattern fired this cycle, gets, and the stage it leaves it in. A
    double opt-in lead its person has not confirmed goes to nobody: its confirmation is scored, and hands it on."""
    if stage in HANDOFF_STAGES and (rank == "A" or state.fired) and pending(profile) is None:
        return Handoff(handoff_id(lead_id, state.cycle), state.cycle, sorted(state.fired), iso(now)), "handed_off"
    return None, stage


def with_account_fired(lead_id: str, outcome: ScoreOutcome, profile: dict[str, Any], fired: dict[str, str],
                       now: datetime) -> ScoreOutcome:
    """The lead's outcome when its activity completed its account's patterns `fired` (pattern -> when): they
    count as its own patterns of this cycle (handing it to sales), each once. One that fired before the lead's
    cycle began (sales has had it since) is not given again."""
    started = parse_iso_or_none(outcome.state.cycle_started_at)
    new = {pattern: at for pattern, at in fired.items()
           if pattern not in outcome.state.fired and (started is None or parse_iso(at) >= started)}
    if not new:
        return outcome
    state = replace(outcome.state, fired={**outcome.state.fired, **new})
    if outcome.handoff is not None:
        return replace(outcome, state=state, newly_fired=[*outcome.newly_fired, *new],
                       handoff=replace(outcome.handoff, patterns=sorted(state.fired)))
    handoff, stage = _handoff(lead_id, profile, outcome.stage, outcome.rank, state, now)
    return replace(outcome, state=state, newly_fired=[*outcome.newly_fired, *new], handoff=handoff, stage=stage)


def _mark_account(marks: dict[str, tuple[str, str]], patterns: tuple[AccountPattern | None, ...],
                  event: ScoredEvent, day: str, told: dict[str, str]) -> None:
    """Note the event for its account (`None` in `patterns`: as any activity), on a day not told yet; the first
    such event of a day stands for it."""
    for pattern in patterns:
        if pattern is not None and pattern.when is not None and not pattern.when.matches(event.attributes):
            continue
        key = ACTIVE_MARK if pattern is None else pattern.id
        if day > told.get(key, "") and day > marks.get(key, ("", ""))[0]:
            marks[key] = (day, iso(event.occurred_at))



def changes_nothing(outcome: ScoreOutcome, profile: dict[str, Any]) -> bool:
    """Events that move no points, summary, time, rank, stage or email state (a machine's open, say): the profile
    is not written. The watermark stays behind, which is safe: a replay of them finds nothing to apply either."""
    before = ScoreState.from_item(profile.get("scoring"))
    return (not outcome.ledger and outcome.handoff is None and not outcome.machine_clicks and outcome.sequence is None
            and outcome.activity is None and outcome.last_activity_at is None
            and replace(outcome.state, sequence=before.sequence, stream=before.stream) == before
            and (outcome.rank, outcome.stage, outcome.fit) == (profile.get("rank"), profile.get("stage", "nurturing"),
                                                               profile.get("fit")))

def _day(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).date().isoformat()


def _stream_position(events: list[ScoredEvent], state: ScoreState) -> tuple[str | None, int]:
    """The events' stream, and the last of its sequence numbers the lead's score applied."""
    stream = stream_label(next((e.stream for e in events if e.stream), state.stream))
    # Sequence numbers only compare within one stream: a new stream (a restore, a re-enable) starts over.
    return stream, state.sequence if stream == stream_label(state.stream) else 0


def unapplied(events: list[ScoredEvent], state: ScoreState) -> list[ScoredEvent]:
    """The events the lead's score has not applied yet, by their stream sequence numbers."""
    _, watermark = _stream_position(events, state)
    return [e for e in events if e.sequence > watermark]


def is_human_activity(attributes: dict[str, Any]) -> bool:
    """Something the person did. A list import is the marketer's doing: it wakes no one up."""
    return attributes.get("type") in HUMAN_ACTIVITY and attributes.get("form_kind") != "import"


def _sets_meeting(attributes: dict[str, Any]) -> bool:
    return attributes.get("type") == CALL_OUTCOME and attributes.get("outcome") == "meeting_set"


def _repeats_own_tracking(event: ScoredEvent) -> bool:
    """SES reports opens and clicks of every email of the configuration set, and its click leads on to
    our own signed link: the person's open or click is already scored from our pixel and link. SES's
    report is kept (and counted per step) but never scores a second time."""
    return event.attributes.get("source") == "ses" and event.attributes.get("type") in ("email_open", "email_click")


def _summarized(event: ScoredEvent, burst: set[str]) -> bool:
    """The person's own doing, as first reported: what the activity summaries count. A list import is the
    marketer's; SES's report of an open or click repeats our pixel's and link's."""
    return (event.event_id not in burst and not event.attributes.get("bot") and is_human_activity(event.attributes)
            and not _repeats_own_tracking(event))


def _person_click(event: ScoredEvent) -> ClickHit | None:
    """An email click not already judged a machine's, with the message and link a burst is told by.

    Bursts are told within one reporter: one person's click reaches both SES and our link within
    milliseconds, under two different URLs, and is not a burst."""
    attributes = event.attributes
    message, link = attributes.get("message_id"), attributes.get("link") or attributes.get("url")
    if attributes.get("type") != "email_click" or attributes.get("bot") or not message or not link:
        return None
    return ClickHit(event.event_id, event.occurred_at, f"{attributes.get('source', 'nurture')}#{message}", str(link))


def _recent(clicks: list[CountedClick]) -> tuple[CountedClick, ...]:
    if not clicks:
        return ()
    newest = max(click.hit.at for click in clicks)
    kept = sorted((c for c in clicks if c.hit.at >= newest - CLICK_MEMORY), key=lambda c: c.hit.at)
    return tuple(kept[-CLICKS_KEPT:])


def stream_label(stream: str | None) -> str | None:
    """What tells a table's streams apart: the label that ends its ARN (the whole ARN was kept before)."""
    return stream.rsplit("/stream/", 1)[-1] if stream else None


def _pattern_fires(pattern: PatternRule, event: ScoredEvent, marks: dict[str, dict[str, list[str]]]) -> bool:
    """A one-step pattern on its event; a sequence when both steps are seen in order within the window,
    whichever of them arrived first (merged history arrives late but is older)."""
    if pattern.when is not None:
        return pattern.when.matches(event.attributes)
    assert pattern.first is not None and pattern.then is not None and pattern.within_days is not None
    window = timedelta(days=pattern.within_days)
    steps = marks.setdefault(pattern.id, {"first": [], "then": []})
    at = event.occurred_at
    fires = False
    if pattern.first.matches(event.attributes):
        steps["first"] = _remember(steps["first"], at)
        fires = any(at <= then <= at + window for then in map(parse_iso, steps["then"]))
    if pattern.then.matches(event.attributes):
        steps["then"] = _remember(steps["then"], at)
        fires = fires or any(first <= at <= first + window for first in map(parse_iso, steps["first"]))
    return fires


def _remember(times: list[str], at: datetime) -> list[str]:
    return sorted({*times, iso(at)})[-MARKS_KEPT:]


def rescore_lead(lead_id: str, profile: dict[str, Any], events: list[ScoredEvent], rules: ScoringRules,
                 now: datetime, *, click_burst_seconds: float, url_groups: UrlGroups) -> ScoreOutcome:
    """Score the lead afresh from its stored activity with today's rules (after a rules change), and
    rebuild its activity summaries.

    Only this cycle's activity scores (nothing before the last recycle), and only what the stream
    has already applied (up to the stored `as_of`): newer events are still on their way to the
    scorer and must not count twice. The summaries count every cycle's activity, up to the latest the
    stream has recorded.
    """
    state = ScoreState.from_item(profile.get("scoring"))
    start, until = parse_iso_or_none(state.cycle_started_at), parse_iso_or_none(state.as_of)
    counted = [replace(e, sequence=1) for e in events
               if (start is None or e.occurred_at >= start) and (until is None or e.occurred_at <= until)]
    # What its account's patterns gave it this cycle is not in its own events: kept, as what was told to the account.
    accounts = {pattern.id for pattern in rules.accounts.patterns}
    base = ScoreState(cycle=state.cycle, cycle_started_at=state.cycle_started_at, version=state.version,
                      fired={p: at for p, at in state.fired.items() if p in accounts}, account_days=state.account_days)
    outcome = score_lead(lead_id, profile, str(profile.get("stage", "nurturing")), base, counted, rules, now,
                         click_burst_seconds=click_burst_seconds, url_groups=url_groups)
    # What the stream has counted so far: newer activity is on its way and adds itself.
    counted_until = max(filter(None, (profile.get("last_activity_at"), last_counted(profile.get("activity")))),
                        default=None)
    history = [e for e in events if counted_until is not None and iso(e.occurred_at) <= counted_until]
    burst = click_bursts([hit for e in history if (hit := _person_click(e))], click_burst_seconds)
    activity = summarize(None, [(e.occurred_at, e.attributes) for e in history if _summarized(e, burst)], url_groups)
    return replace(outcome, state=replace(outcome.state, sequence=state.sequence, stream=state.stream),
                   activity=activity)

