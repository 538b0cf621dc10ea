"""A lead's choices per subscription type: defaults for those it never made, and the export's view of them."""

from datetime import UTC, datetime

from nurture.config import load_config
from nurture.config.records import validated
from nurture.config.subscriptions import SubscriptionsConfig
from nurture.domain.leads import export_row
from nurture.domain.preferences.choices import opted_out_of, subscribed
from tests.conftest import CONFIG_DIR

CONFIG = load_config(CONFIG_DIR)
OUT = {"choice": "out", "at": "2026-11-20T01:00:00.000000Z", "via": "one_click"}
IN = {**OUT, "choice": "in", "via": "preference_page"}


def test_a_type_never_chosen_follows_its_default():
    asked_first = validated(SubscriptionsConfig, {"types": {
        "newsletter": {"name": {"ja": "メルマガ", "en": "News"}, "description": {"ja": "月1回", "en": "Monthly"}},
        "seminar": {"name": {"ja": "セミナー", "en": "Seminars"}, "description": {"ja": "案内", "en": "Invites"},
                    "default": "not_until_asked"}}})
    assert subscribed({}, "newsletter", asked_first) is True
    assert subscribed({}, "seminar", asked_first) is False
    assert subscribed({"subscriptions": {"seminar": IN}}, "seminar", asked_first) is True
    assert subscribed({"subscriptions": {"newsletter": OUT}}, "newsletter", asked_first) is False


def test_the_shipped_types_are_all_received_by_a_lead_that_consented_and_never_chose():
    assert all(subscribed({}, kind, CONFIG.subscriptions) for kind in CONFIG.subscriptions.types)


def test_the_export_lists_the_types_left_and_nothing_for_a_lead_that_left_none():
    profile = {"PK": "LEAD#l1", "email": "a@example.co.jp", "subscriptions": {"seminar": OUT, "newsletter": OUT,
                                                                             "product_news": IN}}
    assert opted_out_of(profile) == ["newsletter", "seminar"]
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert export_row(profile, CONFIG.scoring, now)["opted_out_of"] == "newsletter;seminar"
    assert export_row({"PK": "LEAD#l2"}, CONFIG.scoring, now)["opted_out_of"] == ""


def test_a_type_a_form_started_off_is_not_received_until_the_lead_opts_in_and_is_not_an_opt_out():
    not_asked = {"choice": "not_asked", "at": "2026-11-20T01:00:00.000000Z", "via": "form", "form_id": "seminar"}
    profile = {"subscriptions": {"newsletter": not_asked}}
    assert subscribed(profile, "newsletter", CONFIG.subscriptions) is False
    assert opted_out_of(profile) == []
