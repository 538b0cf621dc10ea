"""Score one stream batch: each lead's new activity coalesced into one conditional update."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from msgspec import Struct, field
from msgspec.structs import replace

from nurture import keys
from nurture.config.sales import RoutingRule, SalesConfig, TaskRule
from nurture.config.scoring import ScoringRules
from nurture.config.segments import UrlGroups
from nurture.config.sequences import SequencesConfig
from nurture.domain.accounts.identity import account_of
from nurture.domain.accounts.merging import merge_chain
from nurture.domain.accounts.patterns import AccountState, Touch, fired_through, tell
from nurture.domain.accounts.standing import account_view, roles_of
from nurture.domain.clock import iso, parse_iso
from nurture.domain.errors import StoreUnavailable, WriteConflict
from nurture.domain.kpis import DayKpis, count, kpis_of
from nurture.domain.preferences.double_opt_in import pending
from nurture.domain.retry import MAX_ATTEMPTS, backoff
from nurture.domain.sales.deadlines import verdict_due
from nurture.domain.sales.routing import Assignment, RoutableLead, RoutingState, route, state_needed
from nurture.domain.sales.tasks import CallTask, call_task, holds_handoff, task_rule
from nurture.domain.scoring import (
    ACTIVE_MARK,
    LedgerEntry,
    ScoredEvent,
    ScoreOutcome,
    ScoreState,
    changes_nothing,
    rescore_lead,
    score_lead,
    unapplied,
    with_account_fired,
)
from nurture.domain.sequencing import SequenceState, lead_facts, note_engagement, update_enrollment


class ScoringStore(Protocol):
    def load_profiles(self, lead_ids: list[str]) -> dict[str, dict[str, Any]]: ...

    def write_ledger(self, entries: dict[str, list[LedgerEntry]], retention_days: int) -> None: ...

    def save_score(self, lead_id: str, outcome: ScoreOutcome, expected_version: int,
                   assignment: Assignment | None = None, task: CallTask | None = None) -> None: ...

    def routing_state(self, teams: list[str], people: list[str], account: str | None) -> RoutingState: ...

    def add_kpis(self, days: DayKpis) -> None:
        """Add to the daily KPI counters."""

    def join_account(self, lead_id: str, account: str | None, left: str | None, came_from: str | None = None
                     ) -> bool:
        """The lead's membership: in `account` (None: none), out of `left`, while the profile still names `left`
        (`came_from`: the account its company names, when a merge sent it to another); nothing when the lead is
        gone or another batch moved it meanwhile."""
        ...

    def merged_into(self, account_id: str) -> dict[str, Any] | None:
        """Where sales merged the account, if they did (domain.accounts.merging)."""

    def account_state(self, account_id: str) -> AccountState: ...

    def save_account_state(self, account_id: str, state: AccountState, expected_version: int) -> None:
        """WriteConflict when another batch told the account meanwhile."""

    def account(self, account_id: str) -> tuple[str | None, dict[str, dict[str, Any]]] | None:
        """Its owner and its people's profiles."""

    def save_standing(self, account_id: str, view: dict[str, Any], at: str) -> None: ...


class BatchOutcome(Struct):
    scored: list[str] = field(default_factory=list)
    handoffs: list[str] = field(default_factory=list)
    gone: list[str] = field(default_factory=list)  # erased leads: their late events are dropped
    failed: list[str] = field(default_factory=list)  # kept losing races: the stream retries them
    kpis: DayKpis = field(default_factory=dict)  # the day's KPIs this batch's new activity moves (domain.kpis)
    unjoined: list[str] = field(default_factory=list)  # leads whose account could not be set now
    unrefreshed: list[str] = field(default_factory=list)  # accounts whose standing could not be stored now


def score_batch(
    events_by_lead: dict[str, list[ScoredEvent]],
    store: ScoringStore,
    rules: ScoringRules,
    now: datetime,
    retention_days: int,
    sequences: SequencesConfig | None = None,
    *,
    click_burst_seconds: float,
    url_groups: UrlGroups,
    sales: SalesConfig | None = None,
) -> BatchOutcome:
    result = BatchOutcome()
    profiles = store.load_profiles(sorted(events_by_lead))
    latest = dict(profiles)  # each lead's profile as last read (a lost race reads it again)
    raw = {lead_id: _raw_score(lead_id, profiles[lead_id], events, rules, now, click_burst_seconds, url_groups)
           for lead_id, events in events_by_lead.items() if lead_id in profiles}
    # What several people of a company did together, before any lead is written: a lead may be handed on for it.
    merges: dict[str, str] = {}  # where a merged company's newcomers go, read once a batch
    touches, unfollowed = _touches(raw, profiles, rules, lambda named: _followed(named, store, merges))
    fired, unheard = _tell_accounts(touches, store, rules, now)
    unheard |= unfollowed
    result.failed += sorted(unheard)  # their account could not be told: the stream retries them, and only them
    scored = {lead_id: _finish(lead_id, profiles[lead_id], outcome, events_by_lead[lead_id], fired.get(lead_id, {}),
                               now, sequences, sales)
              for lead_id, outcome in raw.items() if lead_id not in unheard}
    # A replayed batch (every record already applied), or one that changes nothing, writes nothing at all.
    outcomes = {lead_id: (outcome, calls) for lead_id, (outcome, calls) in scored.items()
                if outcome.applied and not changes_nothing(outcome, profiles[lead_id])}
    result.gone = sorted(set(events_by_lead) - set(profiles))
    # The whole batch's ledger in as few calls as possible; entries are keyed by event and rule, so
    # rewriting them after a lost race (below) is harmless.
    store.write_ledger({lead_id: o.ledger for lead_id, (o, _) in outcomes.items() if o.ledger}, retention_days)
    for lead_id, (outcome, calls) in outcomes.items():
        profile = profiles[lead_id]
        for attempt in range(MAX_ATTEMPTS):
            # Routed again on every attempt: a lost race may be another lead taking the same round-robin turn.
            assignment, task = _sales_side(lead_id, profile, outcome, calls, events_by_lead[lead_id], sales, store,
                                           now)
            try:
                store.save_score(lead_id, outcome, ScoreState.from_item(profile.get("scoring")).version, assignment,
                                 task)
            except WriteConflict:
                backoff(attempt)
                fresh = store.load_profiles([lead_id]).get(lead_id)
                if fresh is None:
                    result.gone.append(lead_id)
                    break
                profile = latest[lead_id] = fresh
                outcome, calls = _finish(lead_id, profile, _raw_score(lead_id, profile, events_by_lead[lead_id],
                                                                      rules, now, click_burst_seconds, url_groups),
                                         events_by_lead[lead_id], fired.get(lead_id, {}), now, sequences, sales)
                if changes_nothing(outcome, profile):
                    break
                store.write_ledger({lead_id: outcome.ledger} if outcome.ledger else {}, retention_days)
                continue
            result.scored.append(lead_id)
            if outcome.handoff is not None:
                result.handoffs.append(lead_id)
            break
        else:
            result.failed.append(lead_id)
    result.kpis = _kpis(events_by_lead, profiles, scored, result, ZoneInfo(rules.timezone), now)
    for lead_id in sorted(set(scored) - set(result.failed) - set(result.gone)):
        try:
            if not _join_account(lead_id, latest[lead_id], store, merges):
                result.unjoined.append(lead_id)
        except StoreUnavailable:
            result.unjoined.append(lead_id)  # the lead's next batch tries again; its score stands
    for account in sorted({account for account, _ in touches}):
        try:
            _refresh_standing(account, store, rules, now)
        except StoreUnavailable:
            result.unrefreshed.append(account)  # its people's activity of another day refreshes it
    return result


def _touches(raw: dict[str, ScoreOutcome], profiles: dict[str, dict[str, Any]], rules: ScoringRules,
             follow: Callable[[str], str]) -> tuple[list[tuple[str, Touch]], set[str]]:
    """Per account id, what its people's new activity tells it (a person's first of a day, per pattern): the
    account each is in once the batch's joins are made (`follow`: where a merged company's newcomers go), never
    an account merged away; and the leads whose account could not be found now (the stream retries them)."""
    touches = []
    unfollowed: set[str] = set()
    for lead_id, outcome in sorted(raw.items()):
        key = _account_key(profiles[lead_id]) if outcome.account_marks else None
        if key is not None and not _stays(profiles[lead_id], key):
            try:
                key = follow(key)
            except StoreUnavailable:
                unfollowed.add(lead_id)
                continue
        if key is not None:
            roles = tuple(roles_of(profiles[lead_id], rules.accounts))
            touches.append((keys.account_id(key), Touch(lead_id, roles, outcome.account_marks)))
    return touches, unfollowed


def _tell_accounts(touches: list[tuple[str, Touch]], store: ScoringStore, rules: ScoringRules, now: datetime
                   ) -> tuple[dict[str, dict[str, str]], set[str]]:
    """Each account told once per batch; by lead, the account patterns that fired through it (pattern -> when);
    and the leads whose account could not be told now."""
    today = now.astimezone(ZoneInfo(rules.timezone)).date().isoformat()
    by_account: dict[str, list[Touch]] = {}
    for account, touch in touches:
        if set(touch.marks) - {ACTIVE_MARK}:  # marks of patterns, not only of a day's activity
            by_account.setdefault(account, []).append(touch)
    fired: dict[str, dict[str, str]] = {}
    unheard: set[str] = set()
    for account, told in by_account.items():
        try:
            state = _tell(account, told, store, rules, today)
        except StoreUnavailable:
            unheard.update(touch.lead_id for touch in told)
            continue
        for touch in told:
            fired[touch.lead_id] = fired_through(state, touch.lead_id, rules.accounts, today)
    return fired, unheard


def _tell(account: str, touches: list[Touch], store: ScoringStore, rules: ScoringRules, today: str) -> AccountState:
    for attempt in range(MAX_ATTEMPTS):
        before = store.account_state(account)
        after = tell(before, touches, rules.accounts, today)
        if after == before:
            return before  # told already (a replay)
        try:
            store.save_account_state(account, replace(after, version=before.version + 1), before.version)
        except WriteConflict:
            backoff(attempt)  # another shard told it meanwhile: tell what it holds now
            continue
        return after
    raise StoreUnavailable("the account kept changing while it was told")


def _refresh_standing(account: str, store: ScoringStore, rules: ScoringRules, now: datetime) -> None:
    """The account's standing stored for listing by rank: refreshed on each person's first activity of a day."""
    found = store.account(account)
    if found is not None:
        owner, members = found
        store.save_standing(account, account_view(account, members, owner, rules, now), iso(now))


def _join_account(lead_id: str, profile: dict[str, Any], store: ScoringStore, merges: dict[str, str]) -> bool:
    """A lead joins the account its company (or address) names, and leaves the one it named before: checked on
    every batch of its activity, so a replay, or a batch that failed after scoring, puts it right. A double
    opt-in lead its person has not confirmed joins none: sales would see someone who may never have asked.
    False when it could not join now (moved meanwhile, or its account merged again since it was read)."""
    named = None if pending(profile) is not None else _named_account(profile)
    if _stays(profile, named):
        return True
    for _ in range(2):  # a merge recorded since the batch read it is followed once more
        account = _followed(named, store, merges) if named is not None else None
        if store.join_account(lead_id, account, profile.get("account"),
                              came_from=named if account != named else None):
            return True
        merges.pop(named or "", None)
    return False


def _followed(named: str, store: ScoringStore, merges: dict[str, str]) -> str:
    """The account a lead whose company names `named` joins: that one, or the one its merges lead to, read once
    a batch (`merges`)."""
    if named not in merges:
        chain = merge_chain(keys.account_id(named), store)
        merges[named] = chain[-1] if chain else named
    return merges[named]


def _kpis(events_by_lead: dict[str, list[ScoredEvent]], profiles: dict[str, dict[str, Any]],
          scored: dict[str, tuple[ScoreOutcome, TaskRule | None]], result: BatchOutcome, zone: ZoneInfo,
          now: datetime) -> DayKpis:
    """What the batch's new activity adds to each day's KPIs: the events of every lead not left to a retry, a
    lead scored for the first time, a handoff."""
    days: DayKpis = {}
    for lead_id, (outcome, _) in scored.items():
        if lead_id in result.failed:
            continue  # the stream retries it: counted then
        before = ScoreState.from_item(profiles[lead_id].get("scoring"))
        fresh = unapplied(events_by_lead[lead_id], before)
        machine = {click.event_id for click in outcome.machine_clicks}
        for event in fresh:
            for kpi in kpis_of(event.attributes, event.event_id in machine):
                count(days, kpi, event.occurred_at, zone)
        if fresh and profiles[lead_id].get("scoring") is None and lead_id in result.scored:
            # The day of the form that made it a lead: the anonymous visits it brought along can be far older.
            made = [event for event in fresh if event.attributes.get("type") == "form_submit"] or fresh
            count(days, "new_leads", min(event.occurred_at for event in made), zone)
    for _ in result.handoffs:
        count(days, "handoffs", now, zone)
    return days


def _calls_first(profile: dict[str, Any], outcome: ScoreOutcome, events: list[ScoredEvent],
                 sales: SalesConfig | None) -> tuple[ScoreOutcome, TaskRule | None]:
    """The task rule that gives the lead a call task now, if any; a lead turning hot that is to be called first
    (or whose open task is that call) keeps its stage: its handoff waits for the call."""
    if sales is None:
        return outcome, None
    cycle = outcome.state.cycle
    held = replace(outcome, handoff=None, stage=str(profile.get("stage", "nurturing")))
    if outcome.handoff is not None and holds_handoff(profile, cycle):
        return held, None
    rule = task_rule(_routable(profile, outcome, events), outcome.handoff is not None, cycle, sales)
    return (held if rule is not None and outcome.handoff is not None else outcome), rule


def _sales_side(lead_id: str, profile: dict[str, Any], outcome: ScoreOutcome, calls: TaskRule | None,
                events: list[ScoredEvent], sales: SalesConfig | None, store: ScoringStore, now: datetime
                ) -> tuple[Assignment | None, CallTask | None]:
    """What the score's write also carries: the owner of a lead turning hot, or the call task `calls` gives it,
    from what the store holds now."""
    if sales is None or (calls is None and outcome.handoff is None):
        return None, None
    lead = _routable(profile, outcome, events)
    if calls is not None:
        task = call_task(lead_id, calls, _assign(lead, [calls], sales, store), outcome.state.cycle, sales, now)
        return task.assignment, task
    assert outcome.handoff is not None
    assignment = _assign(lead, sales.routing, sales, store)
    return replace(assignment, verdict_due=verdict_due(assignment.owner, sales, parse_iso(outcome.handoff.at),
                                                       sales.feedback.remind_after_hours)), None


def _routable(profile: dict[str, Any], outcome: ScoreOutcome, events: list[ScoredEvent]) -> RoutableLead:
    """What routing and task rules look at: the profile, the rank and fit just decided, the patterns fired this
    cycle (a handoff's reasons), and the forms the events submitted."""
    submitted = [event.attributes for event in events if event.attributes.get("type") == "form_submit"]
    return RoutableLead(profile=profile, rank=outcome.rank,
                        fit_rules=frozenset(m.rule_id for m in outcome.fit_matches),
                        patterns=frozenset(outcome.state.fired),
                        forms=frozenset(str(a["form_id"]) for a in submitted if a.get("form_id")),
                        assets=frozenset(str(a["asset"]) for a in submitted if a.get("asset")),
                        account=_account_key(profile))


def _account_key(profile: dict[str, Any]) -> str | None:
    """The account the lead is in: the one its profile names, unless its company now names another (a move the
    batch is about to make); a merge's lead is in the account its company was merged into."""
    named = _named_account(profile)
    return profile["account"] if named is not None and _stays(profile, named) else named


def _named_account(profile: dict[str, Any]) -> str | None:
    """The account the lead's company (or, without one, its address) names."""
    ref = account_of(profile.get("email"), profile.get("company"))
    return ref.key if ref is not None else None


def _stays(profile: dict[str, Any], named: str | None) -> bool:
    """Whether the lead is where the account `named` puts it: in it, or where sales merged it."""
    return named == profile.get("account") or (named is not None and named == profile.get("account_from"))


def _assign(lead: RoutableLead, rules: list[RoutingRule] | list[TaskRule], sales: SalesConfig,
            store: ScoringStore) -> Assignment:
    teams, people, by_account = state_needed(rules, sales)
    state = store.routing_state(teams, people, lead.account if by_account else None)  # no call when none is needed
    return route(lead, sales, state, rules)


class RescoringStore(ScoringStore, Protocol):
    def lead_events(self, lead_id: str) -> list[ScoredEvent]: ...

    def replace_ledger(self, lead_id: str, entries: list[LedgerEntry], retention_days: int) -> None: ...


def rescore(lead_id: str, store: RescoringStore, rules: ScoringRules, now: datetime, retention_days: int, *,
            click_burst_seconds: float, url_groups: UrlGroups, sales: SalesConfig | None = None) -> ScoreOutcome | None:
    """One lead afresh with today's rules, its activity summaries rebuilt; None if it was erased meanwhile.
    Safe to repeat."""
    for attempt in range(MAX_ATTEMPTS):
        profile = store.load_profiles([lead_id]).get(lead_id)
        if profile is None:
            return None
        events = store.lead_events(lead_id)
        outcome = rescore_lead(lead_id, profile, events, rules, now, click_burst_seconds=click_burst_seconds,
                               url_groups=url_groups)
        store.replace_ledger(lead_id, outcome.ledger, retention_days)
        outcome, calls = _calls_first(profile, outcome, events, sales)
        assignment, task = _sales_side(lead_id, profile, outcome, calls, events, sales, store, now)
        try:
            store.save_score(lead_id, outcome, ScoreState.from_item(profile.get("scoring")).version, assignment,
                             task)
        except WriteConflict:
            backoff(attempt)  # the stream scored the lead meanwhile: start over from what it wrote
            continue
        return outcome
    raise StoreUnavailable("the lead kept changing while it was rescored")


def _raw_score(lead_id: str, profile: dict[str, Any], events: list[ScoredEvent], rules: ScoringRules,
               now: datetime, click_burst_seconds: float, url_groups: UrlGroups) -> ScoreOutcome:
    return score_lead(lead_id, profile, str(profile.get("stage", "nurturing")),
                      ScoreState.from_item(profile.get("scoring")), events, rules, now,
                      click_burst_seconds=click_burst_seconds, url_groups=url_groups)


def _finish(lead_id: str, profile: dict[str, Any], outcome: ScoreOutcome, events: list[ScoredEvent],
            account_fired: dict[str, str], now: datetime, sequences: SequencesConfig | None,
            sales: SalesConfig | None) -> tuple[ScoreOutcome, TaskRule | None]:
    """The lead's new score with its account's patterns fired through it, its email state, and the task rule that
    gives it a call task now, if any (decided before its emails: a handoff that waits for a call stops no
    sequence)."""
    outcome = with_account_fired(lead_id, outcome, profile, account_fired, now)
    outcome, calls = _calls_first(profile, outcome, events, sales)
    machine = {click.event_id for click in outcome.machine_clicks}
    # A scanner's burst says nothing of the person: it does not count as opening or clicking either.
    return with_enrollment(outcome, profile, sequences, now,
                           [event.attributes for event in events if event.event_id not in machine]), calls


def with_enrollment(outcome: ScoreOutcome, profile: dict[str, Any], sequences: SequencesConfig | None,
                    now: datetime, events: list[dict[str, Any]]) -> ScoreOutcome:
    """Enroll, switch or stop the lead's step emails for the rank and stage just decided; note opens
    and clicks of the previous email. An unchanged state is not written at all."""
    if sequences is None:
        return outcome
    before = SequenceState.from_item(profile.get("sequence"))
    # The facts of the lead as this batch leaves it: its latest activity and summaries (a reply in the batch).
    profile = {**profile, **({"last_activity_at": outcome.last_activity_at} if outcome.last_activity_at else {}),
               **({"activity": outcome.activity} if outcome.activity is not None else {})}
    facts = lead_facts(profile, outcome.rank, outcome.stage, now)
    after = update_enrollment(before and note_engagement(before, events), facts, sequences, now)
    if after == before:
        return outcome
    # The due entry is rewritten only when the time changes: a dispatcher's lease on it stands.
    return replace(outcome, sequence=after,
                   reschedule=before is None or after is None or after.next_send_at != before.next_send_at)
