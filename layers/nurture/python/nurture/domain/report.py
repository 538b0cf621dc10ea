"""The KPI report: how nurturing performed over a period, from the table's own records.

Pure: the lead items (profiles, activity, handoffs) in, numbers out. Step emails are counted as a
cohort, as email tools report a campaign: the emails sent in the period, with everything that
happened to them since (a delivery, a person's open, a click, a form within a week of the click).
A person's and a machine's opens and clicks are counted apart; rates use only the person's.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from msgspec import Struct, field

from nurture import keys
from nurture.config.campaigns import CampaignsConfig
from nurture.config.events import EventsConfig
from nurture.config.sales import SalesConfig
from nurture.config.scoring import ScoringRules
from nurture.config.segments import SegmentsConfig
from nurture.config.sequences import SequencesConfig
from nurture.domain.activity import expand
from nurture.domain.audiences.scan import job_progress
from nurture.domain.campaigns.calendar import month_of, rank_touchpoints
from nurture.domain.clock import parse_iso
from nurture.domain.customers.report import Click, customer_report
from nurture.domain.customers.review import Bought
from nurture.domain.events.funnel import event_funnel
from nurture.domain.leads import current_scores, rank_of, status_of
from nurture.domain.preferences.double_opt_in import CONFIRMED
from nurture.domain.preferences.double_opt_in import COUNTERS as OPT_IN_COUNTERS
from nurture.domain.sales.performance import ACCEPTED, sales_performance
from nurture.domain.scoring import is_human_activity
from nurture.jsonable import plain
from nurture.keys import CAMPAIGN_COUNTERS

CONVERSION_DAYS = 7  # a form this soon after a person's click converts that email
PLAN_MONTHS = 12


class Period(Struct, frozen=True):
    """Whole days in the marketer's time zone, both ends included."""

    start: date
    end: date
    zone: ZoneInfo

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"the period ends ({self.end}) before it starts ({self.start})")

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment.astimezone(self.zone).date() <= self.end

    def week_of(self, moment: datetime) -> str:
        """The Monday of the moment's week, in the marketer's time zone."""
        day = moment.astimezone(self.zone).date()
        return (day - timedelta(days=day.weekday())).isoformat()

    def weeks(self) -> list[str]:
        monday = self.start - timedelta(days=self.start.weekday())
        return [(monday + timedelta(weeks=n)).isoformat() for n in range((self.end - monday).days // 7 + 1)]


class _Email(Struct):
    sequence: str
    step: str
    lead_id: str
    sent_at: datetime
    reactions: set[str] = field(default_factory=set)
    clicked_at: list[datetime] = field(default_factory=list)
    variant: str | None = None  # a campaign's A/B test variant, for the emails of the test itself


STEP_COUNTS = ("sent", "delivered", "opened", "opened_bot", "clicked", "clicked_bot", "converted", "unsubscribed",
               "bounced", "complained")
WEEKLY_COUNTS = ("sent", "opened", "clicked", "forms", "handoffs")


def build_report(items: Iterable[dict[str, Any]], period: Period, sequences: SequencesConfig, rules: ScoringRules,
                 now: datetime, campaigns: Planned | None = None, sales: SalesConfig | None = None,
                 events_config: EventsConfig | None = None) -> dict[str, Any]:
    profiles: dict[str, dict[str, Any]] = {}
    events: dict[str, list[dict[str, Any]]] = defaultdict(list)
    handoffs: list[datetime] = []
    handoff_items: list[dict[str, Any]] = []
    outcomes: dict[str, Counter[str]] = defaultdict(Counter)  # per campaign: failed, skipped_<reason>
    jobs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    decisions: dict[str, dict[str, Any]] = {}  # per campaign whose A/B test is decided
    removed: Counter[str] = Counter()  # per double opt-in form: leads removed unconfirmed, ever (all that is left)
    registrations: list[dict[str, Any]] = []  # seminar registrations (EVENT#<id>, REG#<lead>)
    handed_off: dict[str, list[datetime]] = defaultdict(list)  # per lead
    purchases: dict[str, list[Bought]] = defaultdict(list)  # per customer
    monthly: dict[str, dict[str, int]] = {}  # the anonymous orders and revenue per month
    for item in items:
        lead_id = str(item.get("PK", "")).removeprefix("LEAD#")
        sort_key = str(item.get("SK", ""))
        if sort_key == keys.PROFILE:
            profiles[lead_id] = item
        elif sort_key.startswith(keys.EVENT_PREFIX):
            events[lead_id].extend(expand(item))
        elif sort_key.startswith(keys.PURCHASE_PREFIX):
            purchases[lead_id].append(Bought(date.fromisoformat(str(item["on"])), int(item["amount"])))
        elif str(item.get("PK", "")).startswith(keys.revenue_pk("")):
            month = monthly.setdefault(str(item["PK"]).removeprefix(keys.revenue_pk("")), {"orders": 0, "revenue": 0})
            for name in month:
                month[name] += int(item.get(name, 0))
        elif sort_key.startswith(keys.HANDOFF_PREFIX) and item.get("created_at"):
            handoffs.append(parse_iso(str(item["created_at"])))
            handed_off[lead_id].append(handoffs[-1])
            handoff_items.append(item)
        elif str(item.get("PK", "")).startswith(keys.event_pk("")) and sort_key.startswith(keys.registration_sk("")):
            registrations.append(item)
        elif str(item.get("PK", "")).startswith(keys.stats_pk(CAMPAIGN_COUNTERS, "")):
            outcomes[str(item["step"])].update({name: int(value) for name, value in item.items()
                                                if name.startswith(("skipped_", "failed")) and value})
        elif str(item.get("PK", "")).startswith(keys.stats_pk(OPT_IN_COUNTERS, "")):
            removed[str(item["step"])] += int(item.get("removed", 0))
        elif str(item.get("PK", "")).startswith(keys.job_pk("")):
            jobs[str(item["PK"])].append(item)
        elif str(item.get("PK", "")).startswith(keys.campaign_pk("")) and item.get("decision"):
            decisions[str(item["campaign_id"])] = plain(item["decision"])
    emails = _emails(events, period)
    weekly = {week: dict.fromkeys(WEEKLY_COUNTS, 0) for week in period.weeks()}

    def tally(moment: datetime, name: str) -> None:
        if period.contains(moment):
            weekly[period.week_of(moment)][name] += 1

    for lead_events in events.values():
        for event in lead_events:
            kind, at = event.get("type"), parse_iso(str(event["occurred_at"]))
            # Marketing's sends: not an email a person asked for (a confirmation, a material, a seminar's).
            if kind == "email_sent" and not event.get("confirmation") and not event.get("asked"):
                tally(at, "sent")
            elif kind == "form_submit" and is_human_activity(event):
                tally(at, "forms")
            elif kind in ("email_open", "email_click") and not event.get("bot") and event.get("source") != "ses":
                tally(at, "opened" if kind == "email_open" else "clicked")  # our pixel and links: one per hit
    for at in handoffs:
        tally(at, "handoffs")
    return {
        "period": {"from": period.start.isoformat(), "to": period.end.isoformat(), "timezone": period.zone.key},
        "generated_at": now.isoformat(timespec="seconds"),
        "steps": _step_rows({mid: e for mid, e in emails.items()
                             if e.sequence not in (CAMPAIGN_COUNTERS, OPT_IN_COUNTERS)}, sequences),
        "campaigns": _campaign_rows({mid: e for mid, e in emails.items() if e.sequence == CAMPAIGN_COUNTERS},
                                    outcomes, _audiences(jobs), decisions),
        "totals": step_rates(_tally(e for e in emails.values() if e.sequence != OPT_IN_COUNTERS)),
        "weekly": [{"week": week, **counts} for week, counts in weekly.items()],
        "handoffs": sum(1 for at in handoffs if period.contains(at)),
        "feedback": _feedback(events, period),
        "sales": sales_performance(handoff_items, {lead: [e for e in lead_events if e.get("type") == "sales_feedback"]
                                                   for lead, lead_events in events.items()},
                                   period.contains, sales, now) if sales is not None else None,
        "double_opt_in": _double_opt_in({mid: e for mid, e in emails.items() if e.sequence == OPT_IN_COUNTERS},
                                        events, period, removed),
        "leads": _leads(profiles, period, rules, now),
        "events": event_funnel(events_config, registrations, events, handed_off) if events_config else [],
        "customers": customer_report(purchases, monthly, [
            Click(e.sequence, e.step, e.lead_id, e.clicked_at) for e in emails.values()
            if e.clicked_at and e.sequence != OPT_IN_COUNTERS], period.start, period.end, period.zone, rules.customers),
        "touchpoint_plan": touchpoint_plan(sequences, now, period.zone, campaigns),
    }


def _emails(events: dict[str, list[dict[str, Any]]], period: Period) -> dict[str, _Email]:
    """The period's step emails by message id, each with what happened to it."""
    emails: dict[str, _Email] = {}
    for lead_id, lead_events in events.items():
        for event in lead_events:
            if event.get("type") != "email_sent" or not event.get("message_id") or \
                    (event.get("asked") and not event.get("confirmation")):  # a material, a seminar's: not steps
                continue
            at = parse_iso(str(event["occurred_at"]))
            if period.contains(at):
                sequence, step = (CAMPAIGN_COUNTERS, str(event["campaign"])) if event.get("campaign") else \
                    (OPT_IN_COUNTERS, str(event["confirmation"])) if event.get("confirmation") else \
                    (str(event.get("sequence")), str(event.get("step")))
                emails[str(event["message_id"])] = _Email(sequence, step, lead_id, at, variant=str(event["variant"])
                                                          if event.get("ab") == "test" else None)
    forms: dict[str, list[datetime]] = defaultdict(list)
    for lead_id, lead_events in events.items():
        for event in lead_events:
            kind, at = str(event.get("type")), parse_iso(str(event["occurred_at"]))
            if kind == "form_submit" and is_human_activity(event):  # an import converts nothing
                forms[lead_id].append(at)
            email = emails.get(str(event.get("message_id")))
            if email is None:
                continue
            reaction = REACTIONS.get(kind)
            if kind == "preferences" and event.get("left"):  # the email's link led the person to leave a type
                reaction = "unsubscribed"
            if reaction in ("opened", "clicked") and event.get("bot"):
                reaction += "_bot"
            if reaction is not None:
                email.reactions.add(reaction)
            if reaction == "clicked":
                email.clicked_at.append(at)
    for email in emails.values():
        if any(click <= form <= click + timedelta(days=CONVERSION_DAYS)
               for click in email.clicked_at for form in forms[email.lead_id]):
            email.reactions.add("converted")
    return emails


REACTIONS = {"email_delivered": "delivered", "email_open": "opened", "email_click": "clicked",
             "email_bounced": "bounced", "email_complained": "complained", "unsubscribe": "unsubscribed",
             "opt_out": "unsubscribed"}


def _counts(email: _Email, name: str) -> bool:
    if name == "sent":
        return True
    if name == "opened":  # a click means the email was read, with images blocked or not
        return "opened" in email.reactions or "clicked" in email.reactions
    return name in email.reactions


def _tally(emails: Iterable[_Email]) -> Counter[str]:
    """How many of the emails count toward each of STEP_COUNTS."""
    emails = list(emails)
    return Counter({name: sum(1 for e in emails if _counts(e, name)) for name in STEP_COUNTS})


def _step_rows(emails: dict[str, _Email], sequences: SequencesConfig) -> list[dict[str, Any]]:
    order = {(s.id, step.id): (n, m) for n, s in enumerate(sequences.sequences) for m, step in enumerate(s.steps)}
    grouped: dict[tuple[str, str], list[_Email]] = defaultdict(list)
    for email in emails.values():
        grouped[(email.sequence, email.step)].append(email)
    rows = []
    for (sequence, step), members in sorted(grouped.items(), key=lambda pair: order.get(pair[0], (99, 99))):
        rows.append({"sequence": sequence, "step": step, **step_rates(_tally(members))})
    return rows


def _campaign_rows(emails: dict[str, _Email], outcomes: dict[str, Counter[str]], audiences: dict[str, int],
                   decisions: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Per campaign sent in the period: the audience its scan found, what went out and what happened to it,
    and what the sender skipped, by reason (skips are counted over the campaign's whole life); with an A/B
    test, the same per variant of the test and the decision."""
    grouped: dict[str, list[_Email]] = defaultdict(list)
    for email in emails.values():
        grouped[email.step].append(email)
    rows = []
    for campaign in sorted(grouped):
        members = grouped[campaign]
        skipped = {name.removeprefix("skipped_"): count for name, count in sorted(outcomes[campaign].items())
                   if name.startswith("skipped_")}
        row = {"campaign": campaign, "audience": audiences.get(campaign), **step_rates(_tally(members)),
               "failed": outcomes[campaign].get("failed", 0), "skipped": skipped}
        variants: dict[str, list[_Email]] = defaultdict(list)
        for email in members:
            if email.variant is not None:
                variants[email.variant].append(email)
        if variants or campaign in decisions:
            row["ab_test"] = {"variants": [{"variant": variant, **step_rates(_tally(tested))}
                                           for variant, tested in sorted(variants.items())],
                              "decision": decisions.get(campaign)}
        rows.append(row)
    return rows


def _audiences(jobs: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    """How many members each campaign's scan found (an A/B test's two scans each see the whole segment: the
    larger count)."""
    found: dict[str, int] = {}
    for job in filter(None, (job_progress(items) for items in jobs.values())):
        if job.campaign:
            found[job.campaign] = max(found.get(job.campaign, 0), job.matched)
    return found


def step_rates(counts: Counter[str]) -> dict[str, Any]:
    """Rates per delivered email; per sent email where no deliveries were reported (SES event
    publishing not set up, or every email bounced)."""
    base = counts["delivered"] or counts["sent"]

    def share(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    return {**{name: counts[name] for name in STEP_COUNTS},
            "rate_base": "delivered" if counts["delivered"] else "sent",
            "open_rate": share(counts["opened"], base),
            "click_rate": share(counts["clicked"], base),
            "click_to_open_rate": share(counts["clicked"], counts["opened"]),
            "conversion_rate": share(counts["converted"], base),
            "unsubscribe_rate": share(counts["unsubscribed"], base),
            "bounce_rate": share(counts["bounced"], counts["sent"]),
            "complaint_rate": share(counts["complained"], base)}


def _double_opt_in(emails: dict[str, _Email], events: dict[str, list[dict[str, Any]]], period: Period,
                   removed: Counter[str]) -> list[dict[str, Any]]:
    """Per double opt-in form: confirmation emails sent and sign-ups confirmed in the period, and the leads ever
    removed unconfirmed (their count is all that is kept of them)."""
    sent = Counter(email.step for email in emails.values())
    confirmed = Counter(str(event.get("form_id")) for lead_events in events.values() for event in lead_events
                        if event.get("type") == CONFIRMED and period.contains(parse_iso(str(event["occurred_at"]))))
    return [{"form": form, "sent": sent[form], "confirmed": confirmed[form],
             "confirmation_rate": round(confirmed[form] / sent[form], 4) if sent[form] else None,
             "removed_unconfirmed": removed[form]} for form in sorted(set(sent) | set(confirmed) | set(removed))]


def _feedback(events: dict[str, list[dict[str, Any]]], period: Period) -> dict[str, Any]:
    verdicts: dict[str, set[str]] = defaultdict(set)
    outcomes: Counter[str] = Counter()
    for lead_id, lead_events in events.items():
        for event in lead_events:
            if event.get("type") == "sales_feedback" and period.contains(parse_iso(str(event["occurred_at"]))):
                verdicts[lead_id].add(str(event.get("outcome")))
                outcomes[str(event.get("outcome"))] += 1
    accepted = sum(1 for given in verdicts.values() if given & ACCEPTED)
    return {"leads_with_feedback": len(verdicts), "accepted_leads": accepted,
            "acceptance_rate": round(accepted / len(verdicts), 4) if verdicts else None,
            "outcomes": dict(sorted(outcomes.items()))}


def _leads(profiles: dict[str, dict[str, Any]], period: Period, rules: ScoringRules,
           now: datetime) -> dict[str, Any]:
    by_rank: Counter[str] = Counter()
    by_stage: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    created = 0
    for profile in profiles.values():
        # As of now: engagement decays.
        by_rank[rank_of(current_scores(profile, rules, now), rules, profile.get("rank"))] += 1
        by_stage[str(profile.get("stage", "nurturing"))] += 1
        by_status[status_of(profile)] += 1
        created += bool(profile.get("created_at")) and period.contains(parse_iso(str(profile["created_at"])))
    return {"total": len(profiles), "new_in_period": created,
            "by_rank": {rank: by_rank[rank] for rank in ("A", "B", "C")},
            "by_stage": dict(sorted(by_stage.items())), "by_status": dict(sorted(by_status.items())),
            "dormant": by_status["dormant"]}


class Planned(Struct, frozen=True):
    """The campaigns a plan counts, with the segments that say whom they reach."""

    campaigns: CampaignsConfig
    segments: SegmentsConfig


def touchpoint_plan(sequences: SequencesConfig, now: datetime, zone: ZoneInfo,
                    campaigns: Planned | None = None) -> dict[str, Any]:
    """The coming twelve months as a lead of each rank would live them if it enrolled today and never
    reacted (the sequence, then re-engagement when it goes dormant, and the campaigns whose segment does not
    rule its rank out): the months in which it would get no email, and the months in which no rank's lead
    would."""
    months = _months(now.astimezone(zone).date())
    plans = []
    for rank in ("A", "B", "C"):
        sends = rank_touchpoints(rank, sequences, now, now + timedelta(days=366),
                                 campaigns.campaigns if campaigns else None, campaigns.segments if campaigns else None)
        if sends is None:
            continue
        sent_months = {month_of(send.at, zone) for send in sends}
        plans.append({"rank": rank, "sends": [{"at": send.at.astimezone(zone).date().isoformat(),
                                               "email": send.name if send.kind == "step" else f"campaign: {send.name}"}
                                              for send in sends],
                      "months_without_email": [month for month in months if month not in sent_months]})
    quiet = [month for month in months if all(month in plan["months_without_email"] for plan in plans)]
    return {"months": months, "by_rank": plans, "months_without_any_email": quiet}


def _months(first: date) -> list[str]:
    return [date(first.year + (first.month - 1 + n) // 12, (first.month - 1 + n) % 12 + 1, 1).strftime("%Y-%m")
            for n in range(PLAN_MONTHS)]


def default_period(today: date, zone: ZoneInfo, days: int = 28) -> Period:
    """The last four whole weeks up to today, as the dashboards of HubSpot and Marketo default to."""
    return Period(today - timedelta(days=days - 1), today, zone)
