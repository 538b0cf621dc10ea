"""What the console's lead page shows beyond the sales API's lead: the score over time, step by step."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from nurture.config.scoring import ScoringRules
from nurture.domain.clock import iso, parse_iso
from nurture.domain.leads import LeadRecord, current_scores, lead_view
from nurture.domain.scoring import ScoreState, decayed

DECAY_SAMPLES = 4  # points drawn inside a gap between two steps: enough for the curve of the decay
DECAY_VISIBLE = timedelta(hours=6)  # a shorter gap loses too little to draw


def score_history(record: LeadRecord, rules: ScoringRules, now: datetime) -> list[dict[str, Any]]:
    """The total score from the first step of this cycle to now, oldest first: each ledger entry is a step (its
    rule, its points, when, the total after it); between steps engagement decays, drawn as points with no rule.
    Fit is today's: the profile's fit as the rules score it now."""
    fit = current_scores(record.profile, rules, now)["fit"]
    cycle_start = ScoreState.from_item(record.profile.get("scoring")).cycle_started_at
    steps = sorted((entry for entry in record.ledger
                    if cycle_start is None or str(entry["occurred_at"]) >= cycle_start),
                   key=lambda entry: str(entry["occurred_at"]))
    points: list[dict[str, Any]] = []
    engagement, as_of = 0.0, None
    for entry in steps:
        at = parse_iso(str(entry["occurred_at"]))
        points += _decay(fit, engagement, as_of, at, rules.half_life_days)
        engagement, as_of = decayed(engagement, as_of, at, rules.half_life_days) + float(entry["delta"]), at
        points.append({"at": iso(at), "total": round(fit + engagement, 2), "engagement": round(engagement, 2),
                       "rule_id": entry["rule_id"], "points": float(entry["delta"]),
                       "reason": str(entry.get("reason", ""))})
    points += _decay(fit, engagement, as_of, now, rules.half_life_days)
    engagement_now = decayed(engagement, as_of, now, rules.half_life_days)
    points.append({"at": iso(now), "total": round(fit + engagement_now, 2), "engagement": round(engagement_now, 2),
                   "rule_id": None})
    return points


def _decay(fit: float, engagement: float, since: datetime | None, until: datetime,
           half_life_days: float) -> list[dict[str, Any]]:
    if since is None or until - since < DECAY_VISIBLE or engagement == 0:
        return []
    gap = (until - since) / (DECAY_SAMPLES + 1)
    samples = [since + gap * step for step in range(1, DECAY_SAMPLES + 1)]
    return [{"at": iso(at), "total": round(fit + decayed(engagement, since, at, half_life_days), 2),
             "engagement": round(decayed(engagement, since, at, half_life_days), 2), "rule_id": None}
            for at in samples]


def console_lead(record: LeadRecord, rules: ScoringRules, now: datetime) -> dict[str, Any]:
    """The sales API's lead, with its score over time and its activities told apart as people's or machines'."""
    view = lead_view(record, rules, now)
    view["score_history"] = score_history(record, rules, now)
    # `origin`, not `by`: an owner change's `by` is who decided it.
    view["activities"] = [{**activity, "origin": "machine" if activity.get("bot") else "person"}
                          for activity in view["activities"]]
    return view
