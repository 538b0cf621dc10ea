"""The deliverability guard: pause all sending before bounces or complaints hurt the sender's reputation.

Pure: daily counts in, a verdict out. The rates cover the most recent days that together hold about
`window_sends` sends; with fewer than `min_sends` there is no verdict, because one early bounce is
not a rate.
"""

from __future__ import annotations

from dataclasses import dataclass

from nurture.config.sequences import Deliverability


@dataclass(frozen=True)
class DayCounts:
    day: str  # YYYY-MM-DD (UTC)
    sent: int = 0
    bounced: int = 0
    complained: int = 0


@dataclass(frozen=True)
class Verdict:
    sends: int
    bounce_rate: float
    complaint_rate: float
    pause: bool
    reason: str | None


def judge(days: list[DayCounts], settings: Deliverability) -> Verdict:
    sends = bounced = complained = 0
    for day in sorted(days, key=lambda d: d.day, reverse=True):  # newest first, until the window is full
        sends, bounced, complained = sends + day.sent, bounced + day.bounced, complained + day.complained
        if sends >= settings.window_sends:
            break
    bounce_rate = bounced / sends if sends else 0.0
    complaint_rate = complained / sends if sends else 0.0
    reason = None
    if sends >= settings.min_sends:
        if bounce_rate >= settings.pause_bounce_rate:
            reason = f"bounce rate {bounce_rate:.2%} over {sends} sends (pause at {settings.pause_bounce_rate:.2%})"
        elif complaint_rate >= settings.pause_complaint_rate:
            reason = (f"complaint rate {complaint_rate:.3%} over {sends} sends "
                      f"(pause at {settings.pause_complaint_rate:.3%})")
    return Verdict(sends, bounce_rate, complaint_rate, reason is not None, reason)


def day_of(iso_time: str) -> str:
    return iso_time[:10]
