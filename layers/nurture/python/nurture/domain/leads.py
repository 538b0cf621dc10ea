"""What is known about one lead, as sales and the CLI see it, and what sales can do to it."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, Literal, Protocol

from msgspec import Struct, field

from nurture import keys
from nurture.config.scoring import ScoringRules
from nurture.config.segments import Consent
from nurture.domain.activity import Activity, new_activity
from nurture.domain.clock import iso, parse_iso_or_none
from nurture.domain.console.audit import Change
from nurture.domain.customers.review import customer_view
from nurture.domain.errors import LeadNotFound, StoreUnavailable, WriteConflict
from nurture.domain.preferences.choices import opted_out_of
from nurture.domain.preferences.double_opt_in import pending
from nurture.domain.retry import MAX_ATTEMPTS, backoff
from nurture.domain.sales.task_views import task_view
from nurture.domain.scoring import ScoreState, decayed, fit_matches, rank_for
from nurture.domain.sequencing import first_touch_source

PROFILE_FIELDS = ("email", "name", "company", "title", "department", "industry", "employees", "phone",
                  "country", "prefecture", "timezone", "language", "custom", "consent", "subscriptions", "first_touch",
                  "last_touch",
                  "form_submissions", "created_at", "updated_at", "last_activity_at")
SUPPRESSED_STATUSES = ("unsubscribed", "bounced", "complained")
Outcome = Literal["accepted", "rejected", "won", "lost", "recycle"]
Stage = Literal["nurturing", "handed_off", "accepted", "won", "recycled"]
STAGE_AFTER: dict[str, str] = {"accepted": "accepted", "won": "won", "rejected": "recycled", "lost": "recycled",
                               "recycle": "recycled"}


class LeadRecord(Struct, frozen=True):
    """A lead as read from the store: newest activity first."""

    lead_id: str
    profile: dict[str, Any]
    activities: list[dict[str, Any]] = field(default_factory=list)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    suppressed: bool = False
    consents: list[dict[str, Any]] = field(default_factory=list)  # CONSENT# records, newest first
    tasks: list[dict[str, Any]] = field(default_factory=list)  # TASK# items (call tasks), newest first


def status_of(profile: dict[str, Any]) -> str:
    """active, unconfirmed (double opt-in: its person has not confirmed yet), unsubscribed, bounced, complained,
    converted, dormant (silent through re-engagement: no more mail until it shows up again) or recycled."""
    if profile.get("status") in SUPPRESSED_STATUSES:
        return str(profile["status"])
    if pending(profile) is not None:
        return "unconfirmed"
    if profile.get("stage") == "won":
        return "converted"
    if (profile.get("sequence") or {}).get("stopped") == "sunset":
        return "dormant"
    return "recycled" if profile.get("stage") == "recycled" else "active"


def consent_state(profile: dict[str, Any]) -> Consent:
    granted = (profile.get("consent") or {}).get("granted")
    return "granted" if granted is True else "refused" if granted is False else "unknown"


def mail_refusal(profile: dict[str, Any]) -> str | None:
    """Why the lead's profile allows no email at all (unsubscribed, bounced, complained, unconfirmed, or
    no_consent: an unknown consent is none), or None. The sender asks right before every send; segments ask it
    too."""
    if profile.get("status") in SUPPRESSED_STATUSES:
        return str(profile["status"])
    if pending(profile) is not None:
        return "unconfirmed"
    return None if consent_state(profile) == "granted" else "no_consent"


def current_scores(profile: dict[str, Any], rules: ScoringRules, now: datetime) -> dict[str, float]:
    """Fit from today's rules and profile; engagement decayed to now."""
    state = ScoreState.from_item(profile.get("scoring"))
    as_of = parse_iso_or_none(state.as_of)
    engagement = round(decayed(state.engagement, as_of, now, rules.half_life_days), 2)
    fit = sum(m.points for m in fit_matches(profile, rules))
    return {"fit": fit, "engagement": engagement, "total": round(fit + engagement, 2)}


def rank_of(scores: dict[str, float], rules: ScoringRules, held: str | None) -> str:
    """The rank that scores (as `current_scores` gives them) stand at, for a lead that held `held`."""
    return rank_for(int(scores["fit"]), scores["engagement"], rules, held)


EXPORT_COLUMNS = ["lead_id", "email", "name", "company", "department", "title", "phone", "industry", "employees",
                  "prefecture", "rank", "fit", "engagement", "total", "stage", "status", "consent", "consent_version",
                  "opted_out_of",
                  "source",
                  "created_at", "updated_at", "last_activity_at"]


def export_row(profile: dict[str, Any], rules: ScoringRules, now: datetime) -> dict[str, Any]:
    """One lead as `nurture export` lists it: the spreadsheet columns, scores and rank as of now."""
    scores = current_scores(profile, rules, now)
    return {
        "lead_id": str(profile["PK"]).removeprefix("LEAD#"),
        **{name: profile.get(name, "") for name in ("email", "name", "company", "department", "title", "phone",
                                                    "industry", "employees", "prefecture")},
        **scores,
        "rank": rank_of(scores, rules, profile.get("rank")),
        "stage": profile.get("stage", "nurturing"),
        "status": status_of(profile),
        "consent": consent_state(profile),
        "consent_version": (profile.get("consent") or {}).get("version", ""),  # its wording: the consent record
        "opted_out_of": ";".join(opted_out_of(profile)),  # subscription types the lead left
        "source": first_touch_source(profile) or "",
        "created_at": profile.get("created_at", ""),
        "updated_at": profile.get("updated_at", ""),
        "last_activity_at": profile.get("last_activity_at", ""),
    }


def breakdown(profile: dict[str, Any], ledger: list[dict[str, Any]], rules: ScoringRules) -> list[dict[str, Any]]:
    """Points by rule: fit rules that match now, engagement rules of this cycle summed from the ledger
    (undecayed)."""
    cycle_start = ScoreState.from_item(profile.get("scoring")).cycle_started_at
    ledger = [entry for entry in ledger if cycle_start is None or str(entry["occurred_at"]) >= cycle_start]
    rows: list[dict[str, Any]] = [
        {"rule_id": m.rule_id, "kind": "fit", "points": m.points, "reason": m.reason, "events": None}
        for m in fit_matches(profile, rules)
    ]
    earned: dict[str, float] = defaultdict(float)
    counted: dict[str, int] = defaultdict(int)
    reasons: dict[str, str] = {}
    for entry in ledger:
        earned[entry["rule_id"]] += float(entry["delta"])
        counted[entry["rule_id"]] += 1
        reasons[entry["rule_id"]] = str(entry.get("reason", ""))
    rows += [{"rule_id": rule_id, "kind": "engagement", "points": round(points, 2), "reason": reasons[rule_id],
              "events": counted[rule_id]} for rule_id, points in earned.items()]
    return sorted(rows, key=lambda row: (-abs(row["points"]), row["rule_id"]))


def public_activity(item: dict[str, Any]) -> dict[str, Any]:
    hidden = {"PK", "SK", "expires_at", "lead_id", "user_agent", "vid"}
    return {key: value for key, value in item.items() if key not in hidden}


def lead_view(record: LeadRecord, rules: ScoringRules, now: datetime, activity_limit: int = 50) -> dict[str, Any]:
    """The object GET /v1/leads/{lead_id} answers and `nurture leads show --json` prints."""
    profile = record.profile
    scores = current_scores(profile, rules, now)
    return {
        "lead_id": record.lead_id,
        "profile": {key: profile[key] for key in PROFILE_FIELDS if key in profile},
        "status": status_of(profile),
        "suppressed": record.suppressed,
        "scores": scores,
        # Engagement decays between events, so the rank is recomputed for now, not read back.
        "rank": rank_of(scores, rules, profile.get("rank")),
        "stage": profile.get("stage", "nurturing"),
        "owner": {"id": profile["owner"], "kind": profile.get("owner_kind")} if profile.get("owner") else None,
        "account_id": keys.account_id(str(profile["account"])) if profile.get("account") else None,
        "customer": customer_view(profile),
        "breakdown": breakdown(profile, record.ledger, rules),
        "tasks": [task_view(task, now) for task in record.tasks],
        "activities": [public_activity(a) for a in record.activities[:activity_limit]],
        # What anonymous posts for this address would have changed: for a person to judge, never applied.
        "proposed_changes": [{"at": a["occurred_at"], "form_id": a.get("form_id"), "fields": a["proposed"]}
                             for a in record.activities[:activity_limit] if a.get("proposed")],
        # Form consents (with when each was confirmed) and subscription choices; where from is kept, not shown.
        "consent_history": [{key: value for key, value in c.items()
                             if key not in ("PK", "SK", "lead_id", "source_ip", "confirmed_ip")}
                            for c in record.consents],
    }


class Feedback(Struct, frozen=True):
    outcome: Outcome
    reason: str | None = None
    note: str | None = None


def after_feedback(profile: dict[str, Any], feedback: Feedback, at: str) -> tuple[str, ScoreState]:
    """The stage and score state sales' verdict leads to.

    accepted / won end nurturing; rejected / lost / recycle put the lead back into nurturing with
    engagement reset and a new cycle, so it can become hot (and be handed off) again.
    """
    state = ScoreState.from_item(profile.get("scoring"))
    stage = STAGE_AFTER[feedback.outcome]
    if stage == "recycled":
        state = ScoreState(engagement=0.0, as_of=at, sequence=state.sequence, cycle=state.cycle + 1,
                           cycle_started_at=at, version=state.version)
    return stage, state


OPEN_STAGES = ("handed_off", "accepted")  # a salesperson is working the lead: it counts in their load


def counts_as_open(owner_kind: Any, stage: str) -> bool:
    """Whether a lead in this stage counts in its owner's open handoffs: only a salesperson's count."""
    return owner_kind == "person" and stage in OPEN_STAGES


def open_count_change(profile: dict[str, Any], stage: str) -> dict[str, int]:
    """How a verdict moving the lead to `stage` changes its salesperson's open handoffs: -1 when it closes one
    (won, or back to nurturing), +1 when it opens one again (a recycled lead accepted after all)."""
    owner, kind = profile.get("owner"), profile.get("owner_kind")
    change = int(counts_as_open(kind, stage)) - int(counts_as_open(kind, str(profile.get("stage"))))
    return {str(owner): change} if owner and change else {}


class VerdictEffect(Struct, frozen=True):
    """What a verdict writes on the lead: its stage, score state and scores, and the open handoffs it moves."""

    stage: str
    state: ScoreState
    rank: str
    total: float
    open_counts: dict[str, int]


def verdict_effect(profile: dict[str, Any], outcome: Outcome, rules: ScoringRules, now: datetime) -> VerdictEffect:
    stage, state = after_feedback(profile, Feedback(outcome), iso(now))
    fit = sum(m.points for m in fit_matches(profile, rules))
    engagement = decayed(state.engagement, parse_iso_or_none(state.as_of), now, rules.half_life_days)
    return VerdictEffect(stage, state, rank_for(fit, engagement, rules), round(fit + engagement, 4),
                         open_count_change(profile, stage))


class SalesStore(Protocol):
    def lead_record(self, lead_id: str, activity_limit: int = 50, ledger_limit: int = 1000) -> LeadRecord | None: ...

    def save_feedback(self, lead_id: str, effect: VerdictEffect, activity: Activity, expected_version: int,
                      owner: str | None = None) -> None: ...

    def erase(self, lead_id: str, change: Change | None = None) -> bool: ...


def record_feedback(lead_id: str, feedback: Feedback, store: SalesStore, rules: ScoringRules, now: datetime,
                    retention_days: int) -> dict[str, Any]:
    """Apply sales' verdict to the lead and record it as an activity (a KPI)."""
    for attempt in range(MAX_ATTEMPTS):
        record = store.lead_record(lead_id, activity_limit=0, ledger_limit=0)
        if record is None:
            raise LeadNotFound(f"There is no lead '{lead_id}'.")
        profile = record.profile
        if profile.get("stage") == STAGE_AFTER[feedback.outcome]:
            # A retried POST, or a second verdict to the same effect: nothing to change or count again.
            return {"lead_id": lead_id, "outcome": feedback.outcome, "stage": profile["stage"],
                    "status": status_of(profile)}
        effect = verdict_effect(profile, feedback.outcome, rules, now)
        activity = new_activity("sales_feedback", now, retention_days,
                                {"lead_id": lead_id, "outcome": feedback.outcome, "reason": feedback.reason,
                                 "note": feedback.note, "stage_before": profile.get("stage")})
        try:
            store.save_feedback(lead_id, effect, activity, ScoreState.from_item(profile.get("scoring")).version,
                                profile.get("owner"))
        except WriteConflict:
            backoff(attempt)  # the scorer updated the lead meanwhile: apply the verdict to what it wrote
            continue
        return {"lead_id": lead_id, "outcome": feedback.outcome, "stage": effect.stage,
                "status": status_of({**profile, "stage": effect.stage})}
    raise StoreUnavailable("the lead kept changing while the feedback was applied")


def erase_lead(lead_id: str, store: SalesStore, change: Change | None = None) -> None:
    """`change`: the console's record of it, written with the erasure's first step."""
    if not store.erase(lead_id, change):
        raise LeadNotFound(f"There is no lead '{lead_id}'.")

