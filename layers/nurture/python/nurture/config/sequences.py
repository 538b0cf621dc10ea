"""Typed model of config/sequences.yaml: who enrolls in which step emails, when they go out, when they stop."""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Literal

from nurture.config.customers import CpmSegment
from nurture.config.models import FormKind, TimeZoneName
from nurture.config.records import Check, record, setting
from nurture.config.subscriptions import STEP_EMAILS, InBothLanguages, SubscriptionsConfig

SUNSET_DAYS = 30  # a re-engagement sequence's default sunset_after_days
ID = r"^[a-z][a-z0-9_]{0,63}$"
Rank = Literal["A", "B", "C"]
StopRule = Literal["handed_off", "converted", "unsubscribed", "bounced", "complained", "replied"]
# replied: a person's answer to any email (not an automatic one) is a conversation; more step emails would talk
# over it (HubSpot's sequences stop on a reply too)
DEFAULT_STOP: tuple[StopRule, ...] = ("converted", "unsubscribed", "bounced", "complained", "replied")
Condition = Literal["always", "opened_previous", "not_opened_previous", "clicked_previous", "not_clicked_previous"]


@record
class Enrollment:
    """Which leads enter the sequence. Every given criterion must hold."""

    rank: list[Rank] | None = None
    form_kind: list[FormKind] | None = None
    source: list[str] | None = setting(default=None, description="utm_source of the lead's first touch")
    dormant_days: int | None = setting(default=None, gt=0, description="no human activity for this many days")
    customer_segment: list[CpmSegment] | None = setting(default=None, min_length=1, description=(
        "customers in any of these CPM segments (first_time, toddler, steady, trendy, loyal, lapsed_...)"))
    bought: list[str] | None = setting(default=None, min_length=1, description="customers who bought any of these "
                                       "products (as their purchases name them)")
    next_product: list[str] | None = setting(default=None, min_length=1, description=(
        "customers whose likeliest next product (what customers like them bought next) is any of these"))

    def __post_init__(self) -> None:
        if all(value is None for value in (self.rank, self.form_kind, self.source, self.dormant_days,
                                           self.customer_segment, self.bought, self.next_product)):
            raise ValueError("give at least one of rank, form_kind, source, dormant_days, customer_segment, "
                             "bought or next_product")

    @property
    def for_customers(self) -> bool:
        """Enrols customers by what they bought: becoming one moves a lead here from any other sequence."""
        return self.customer_segment is not None or self.bought is not None or self.next_product is not None


@record
class Step:
    id: str = setting(pattern=ID)
    delay_days: float = setting(ge=0, le=365, description="after enrollment or the previous step")
    template: str = setting(pattern=ID)
    condition: Condition = "always"


@record
class Sequence:
    id: str = setting(pattern=ID)
    description: str = ""
    type: str = setting(default=STEP_EMAILS, description="its emails' subscription type (subscriptions.yaml)")
    enroll: Enrollment
    steps: list[Step] = setting(min_length=1)
    stop: list[StopRule] = setting(default_factory=lambda: list(DEFAULT_STOP))
    sunset_after_days: Annotated[int | None, Check(_days_given)] = setting(
        default=None, ge=1, le=365, description="re-engagement only: days after its last step without human activity "
        f"before the lead's mail stops (sunset); default {SUNSET_DAYS}")

    @property
    def sunset_days(self) -> int:
        return self.sunset_after_days or SUNSET_DAYS

    @property
    def reengages(self) -> bool:
        """Enrolls dormant leads: its end is the sunset check, not another dormancy check."""
        return self.enroll.dormant_days is not None

    def __post_init__(self) -> None:
        ids = [step.id for step in self.steps]
        if len(set(ids)) != len(ids):
            raise ValueError("step ids must be unique within a sequence")
        if self.steps[0].condition != "always":
            raise ValueError("the first step has no previous step to condition on")
        if self.sunset_after_days is not None and not self.reengages:
            raise ValueError("sunset_after_days applies to a sequence that enrolls by dormant_days")


def _days_given(days: int | None) -> int:
    """Left out, a sequence has no sunset period of its own; written, it is a number (`null` is not one)."""
    if days is None:
        from pydantic_core import PydanticCustomError  # reached only while pydantic validates

        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return days


def _month_days(dates: list[str]) -> list[str]:
    bad = [d for d in dates if not re.fullmatch(r"(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])", d)]
    if bad:
        raise ValueError(f"closed dates are MM-DD: {', '.join(bad)}")
    return dates


@record
class SendWindow:
    start: time = time(9, 0)
    end: time = time(18, 0)
    timezone: TimeZoneName = setting(default="Asia/Tokyo", description="for leads whose time zone is unknown")
    business_days_only: bool = True
    holidays: Literal["JP"] | None = "JP"
    closed_dates: Annotated[list[str], Check(_month_days)] = setting(
        default_factory=list, description="MM-DD dates closed every year, e.g. 12-31")

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise ValueError("the window's start must be before its end")


@record
class FrequencyCap:
    max_emails: int = setting(default=2, ge=1, le=50)
    per_days: int = setting(default=7, ge=1, le=90)


@record
class Deliverability:
    transient_bounces_to_suppress: int = setting(default=3, ge=1, le=20,
                                                 description="soft bounces in a row that suppress the address")
    # Below SES's own review levels (bounces 5%, complaints 0.1%): pause before SES has to.
    pause_bounce_rate: float = setting(default=0.04, gt=0, lt=1)
    pause_complaint_rate: float = setting(default=0.0008, gt=0, lt=1)
    window_sends: int = setting(default=1000, ge=50, le=1_000_000, description="the rates cover about this many sends")
    # One complaint is not a rate (anyone can sign up their own mailbox and press "spam"): a pause needs this
    # many, and a rate whose 95% lower bound is over the threshold.
    min_complaints: int = setting(default=3, ge=1, description="complaints in the window before a pause")
    min_hard_bounces: int = setting(default=10, ge=1, description="hard bounces in the window before a pause")


@record
class SenderIdentity:
    """Who sends, in every email's footer: the Act on Specified Electronic Mail (特定電子メール法) asks for the
    sender's name, postal address and a contact for complaints and questions in each commercial email."""

    legal_name: InBothLanguages
    postal_address: InBothLanguages
    contact: InBothLanguages = setting(description="an address, telephone number or web page for questions")


@record
class SequencesConfig:
    sender_name: str = setting(default="", max_length=100, description="display name beside the sending address")
    sender: SenderIdentity = setting(description="the legal footer every email renders ({{ sender_footer }})")
    open_pixel: bool = setting(default=True, description="append a signed 1x1 open-tracking image")
    send_window: SendWindow = setting(default_factory=SendWindow)
    frequency_cap: FrequencyCap = setting(default_factory=FrequencyCap)
    on_rank_change: Literal["switch", "stay"] = "switch"
    deliverability: Deliverability = setting(default_factory=Deliverability)
    sequences: list[Sequence] = setting(min_length=1)

    def __post_init__(self) -> None:
        ids = [sequence.id for sequence in self.sequences]
        if len(set(ids)) != len(ids):
            raise ValueError("sequence ids must be unique")
        ranks = [rank for sequence in self.sequences for rank in sequence.enroll.rank or []]
        doubled = sorted({rank for rank in ranks if ranks.count(rank) > 1})
        if doubled:
            raise ValueError(f"one sequence per rank, so a rank change has one place to go: {', '.join(doubled)}")

    def dormant_after_days(self) -> int | None:
        """No human activity for this long makes a lead dormant (None: no re-engagement sequence)."""
        days = [s.enroll.dormant_days for s in self.sequences if s.enroll.dormant_days is not None]
        return min(days) if days else None

    def sequence(self, sequence_id: str) -> Sequence | None:
        return next((s for s in self.sequences if s.id == sequence_id), None)

    def type_problems(self, subscriptions: SubscriptionsConfig) -> list[str]:
        return [problem for n, sequence in enumerate(self.sequences)
                for problem in subscriptions.unknown(f"sequences[{n}] ({sequence.id}).type", sequence.type)]

    def templates(self) -> set[str]:
        return {step.template for sequence in self.sequences for step in sequence.steps}
