"""A/B subject tests: who is in the test and with which variant, and which variant won.

Membership is a hash of the lead and the campaign, so every scan, retry and redelivery puts a lead in
the same group. The winner is judged on people's clicks (opens are unreliable: mail scanners and
privacy proxies open everything), each variant's best rival tested with a two-proportion z-test, the
required confidence split over the comparisons (Bonferroni). Without a significant winner the first
variant goes out, and the decision says why.
"""

from __future__ import annotations

import math
from typing import Any

from msgspec import Struct
from msgspec.structs import asdict

from nurture import keys
from nurture.config.campaigns import ABTest

LETTERS = "abcd"
MIN_SENT = 30  # per variant: below this a click rate says nothing


def variant_step(campaign_id: str, variant: int) -> str:
    """The counters of one variant of a campaign's test (sent, failed, clicked_people)."""
    return f"{campaign_id}#{LETTERS[variant]}"


def variant_in_test(lead_id: str, campaign_id: str, test: ABTest) -> int | None:
    """The variant a lead gets in the test, or None: the lead waits for the winner."""
    draw = keys.bucket(f"{campaign_id}|{lead_id}|ab", 10_000)
    if draw >= test.test_share * 100:
        return None
    return draw % len(test.subjects)


class VariantResult(Struct, frozen=True):
    variant: str
    sent: int
    clicked: int  # people who clicked (at most one per email), never machines

    @property
    def rate(self) -> float:
        return self.clicked / self.sent if self.sent else 0.0


class Decision(Struct, frozen=True):
    winner: int  # index into the test's subjects
    significant: bool
    reason: str
    p_value: float | None
    variants: list[VariantResult]

    def to_item(self) -> dict[str, Any]:
        return {"winner": LETTERS[self.winner], "significant": self.significant, "reason": self.reason,
                "p_value": self.p_value,
                "variants": [asdict(variant) for variant in self.variants]}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Decision:
        p_value = item.get("p_value")
        return cls(LETTERS.index(str(item["winner"])), bool(item["significant"]), str(item["reason"]),
                   None if p_value is None else float(p_value),
                   [VariantResult(str(v["variant"]), int(v["sent"]), int(v["clicked"])) for v in item["variants"]])


def two_proportion_p(clicked_a: int, sent_a: int, clicked_b: int, sent_b: int) -> float:
    """Two-sided p-value that two click rates differ only by chance (pooled z-test)."""
    pooled = (clicked_a + clicked_b) / (sent_a + sent_b)
    spread = math.sqrt(pooled * (1 - pooled) * (1 / sent_a + 1 / sent_b))
    if spread == 0:
        return 1.0  # nobody clicked, or everybody did: no difference to see
    z = (clicked_a / sent_a - clicked_b / sent_b) / spread
    return math.erfc(abs(z) / math.sqrt(2))


def decide(test: ABTest, counts: list[tuple[int, int]]) -> Decision:
    """`counts`: (sent, people who clicked) per variant, in the test's order."""
    results = [VariantResult(LETTERS[n], sent, clicked) for n, (sent, clicked) in enumerate(counts)]
    if any(result.sent < MIN_SENT for result in results):
        return Decision(0, False, f"too few sent to judge (each variant needs {MIN_SENT}): variant a goes out",
                        None, results)
    best = max(range(len(results)), key=lambda n: (results[n].rate, -n))
    alpha = (1 - test.confidence) / (len(results) - 1)
    p_value = round(max(two_proportion_p(results[best].clicked, results[best].sent, other.clicked, other.sent)
                        for n, other in enumerate(results) if n != best), 6)  # as stored: a decimal of 6 places
    if p_value >= alpha:
        return Decision(0, False, f"no variant's click rate is significantly the best (p={p_value:.3f}, needs "
                                  f"<{alpha:.3f}): variant a goes out", p_value, results)
    return Decision(best, True, f"variant {LETTERS[best]} has the best click rate ({results[best].rate:.1%}, "
                                f"p={p_value:.4f})", p_value, results)
