"""Subscription types (config/subscriptions.yaml): what a lead can opt in to or out of, one by one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from nurture.config.models import FormDefinition, SubscriptionStart, keyed_by_ids
from nurture.config.records import Check, record, setting

TYPE_ID = r"^[a-z][a-z0-9_]{0,31}$"
STEP_EMAILS = "step_emails"  # the type a sequence's emails have unless it names another


@record
class InBothLanguages:
    ja: str = setting(min_length=1, max_length=200)
    en: str = setting(min_length=1, max_length=200)


@record
class SubscriptionType:
    name: InBothLanguages = setting(description="what the lead sees on the preference page")
    description: InBothLanguages
    default: SubscriptionStart = setting(
        default="opted_in", description="a lead that never chose: receives it (consent given at the form), or not "
                                        "until it opts in")


def _shipped() -> dict[str, SubscriptionType]:
    def kind(ja: str, en: str, about_ja: str, about_en: str) -> SubscriptionType:
        return SubscriptionType(name=InBothLanguages(ja=ja, en=en),
                                description=InBothLanguages(ja=about_ja, en=about_en))

    return {
        "newsletter": kind("メールマガジン", "Newsletter", "月1回のメルマガ", "The monthly newsletter"),
        "seminar": kind("セミナー・イベントのご案内", "Seminars and events", "セミナー・イベントのご案内",
                        "Invitations to seminars and events"),
        "product_news": kind("製品・サービスのお知らせ", "Product news", "製品・サービスの最新情報",
                             "What is new in our products and services"),
        STEP_EMAILS: kind("ご登録後のご案内メール", "Follow-up emails", "資料請求やお問い合わせの後にお送りするご案内",
                          "The emails that follow a download or an enquiry"),
    }


def _type_ids(types: dict[str, SubscriptionType]) -> dict[str, SubscriptionType]:
    return keyed_by_ids(types, TYPE_ID, "subscription type ids are lower-case letters, digits and _")


@record
class SubscriptionsConfig:
    types: Annotated[dict[str, SubscriptionType], Check(_type_ids)] = setting(default_factory=_shipped, min_length=1)
    def form_problems(self, forms: Mapping[str, FormDefinition]) -> list[str]:
        return [problem for form_id, form in forms.items() for kind in form.subscriptions
                for problem in self.unknown(f"forms.{form_id}.subscriptions.{kind}", kind)]

    def unknown(self, where: str, type_id: str) -> list[str]:
        """A problem naming `where`, if `type_id` is not a type here."""
        if type_id in self.types:
            return []
        return [f"{where}: no subscription type '{type_id}' in subscriptions.yaml (it has: {', '.join(self.types)})"]
