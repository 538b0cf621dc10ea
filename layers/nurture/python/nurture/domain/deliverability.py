"""The deliverability guard: pause all sending before bounces or complaints hurt the sender's reputation.

Pure: daily counts in, a verdict out. The rates cover the most recent days that together hold about
`window_sends` sends. Sending pauses on evidence, not on one unlucky complaint: only when at least
`min_complaints` (`min_hard_bounces`) were counted and the rate's lower 95% confidence bound (Wilson's
score interval) is above the threshold, i.e. when the true rate is very likely over it. A rate over the
threshold without that evidence is a warning: an alarm and a line in the report, not a pause.
"""

from __future__ import annotations

import math

from msgspec import Struct

from nurture.config.sequences import Deliverability

Z_95 = 1.959964  # the normal quantile of a two-sided 95% interval


class DayCounts(Struct, frozen=True):
    day: str  # YYYY-MM-DD (UTC)
    sent: int = 0
    bounced: int = 0
    complained: int = 0


class Verdict(Struct, frozen=True):
    sends: int
    bounces: int
    complaints: int
    bounce_rate: float
    complaint_rate: float
    pause: bool
    warn: bool  # a rate over its threshold, without the evidence to pause yet
    reason: str | None  # why it pauses, or what it warns of


def wilson_lower_bound(events: int, trials: int, z: float = Z_95) -> float:
    """The lower end of Wilson's score interval for a proportion: sound for rare events and small samples,
    where the normal approximation says a rate of 1 in 1,000 could be negative."""
    if trials == 0:
        return 0.0
    p = events / trials
    denominator = 1 + z * z / trials
    centre = p + z * z / (2 * trials)
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return max(0.0, (centre - margin) / denominator)


def judge(days: list[DayCounts], settings: Deliverability) -> Verdict:
    sends = bounced = complained = 0
    for day in sorted(days, key=lambda d: d.day, reverse=True):  # newest first, until the window is full
        sends, bounced, complained = sends + day.sent, bounced + day.bounced, complained + day.complained
        if sends >= settings.window_sends:
            break
    checks = (
        ("bounce", bounced, settings.min_hard_bounces, settings.pause_bounce_rate, "hard bounces", "{:.2%}"),
        ("complaint", complained, settings.min_complaints, settings.pause_complaint_rate, "complaints", "{:.3%}"),
    )
    pause_reason = warn_reason = None
    for kind, count, minimum, threshold, counted, shown in checks:
        rate = count / sends if sends else 0.0
        if rate < threshold or count == 0:
            continue
        lower = wilson_lower_bound(count, sends)
        said = (f"{kind} rate {shown.format(rate)} ({count} {counted} in {sends} sends; "
                f"95% lower bound {shown.format(lower)}, threshold {shown.format(threshold)})")
        if count >= minimum and lower > threshold:
            pause_reason = pause_reason or said
        else:
            warn_reason = warn_reason or f"{said}: not enough evidence to pause yet"
    return Verdict(sends, bounced, complained, bounced / sends if sends else 0.0,
                   complained / sends if sends else 0.0, pause_reason is not None,
                   pause_reason is None and warn_reason is not None, pause_reason or warn_reason)


def standing(verdict: Verdict, pause: dict[str, object] | None) -> dict[str, object]:
    """The guard as a report shows it: paused (and since when, why), at risk (the warning), or ok."""
    state = "paused" if pause else "at_risk" if verdict.warn else "ok"
    return {"state": state, "reason": pause.get("reason") if pause else verdict.reason,
            "paused_at": pause.get("paused_at") if pause else None, "sends": verdict.sends,
            "bounce_rate": verdict.bounce_rate, "complaint_rate": verdict.complaint_rate}


def day_of(iso_time: str) -> str:
    return iso_time[:10]
