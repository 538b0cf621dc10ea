"""One-click unsubscribe: a GET shows a page, only a POST unsubscribes, forged links do nothing."""

import json

import pytest

from nurture.adapters.token_keys import token_signer
from nurture.domain.tokens import UNSUBSCRIBE, TokenSigner
from nurture.local.functions import api_request
from nurture.local.resources import LocalResources
from tests.functions.helpers import all_items, items_under, profile, submit

pytestmark = pytest.mark.usefixtures("aws")


def a_lead_and_token() -> tuple[str, str]:
    lead_id = submit("/v1/forms/contact", {"email": "stop@example.co.jp", "name": "S", "company": "C",
                                                        "consent": True})
    token = token_signer(LocalResources().signing_key_parameter).sign(UNSUBSCRIBE, {"l": lead_id, "m": "msg-1"})
    return lead_id, token


def request(method: str, token: str, body: bytes | None = None):
    response = api_request(method, f"/v1/unsubscribe/{token}", headers={
        "content-type": "application/x-www-form-urlencoded"}, body=body)
    assert response is not None
    return response


def suppressed() -> list[dict]:
    return [item for item in all_items() if item["PK"].startswith("SUPPRESS#")]


def test_get_shows_the_preference_page_and_changes_nothing():
    lead_id, token = a_lead_and_token()
    page = request("GET", token)
    assert page["statusCode"] == 200 and 'method="post"' in page["body"] and "配信設定" in page["body"]
    assert page["body"].count('type="checkbox"') == 4 and page["body"].count(" checked>") == 4
    assert profile(lead_id)["status"] == "active" and suppressed() == [] and "subscriptions" not in profile(lead_id)


def test_one_click_post_unsubscribes_at_once_and_only_once():
    lead_id, token = a_lead_and_token()
    done = request("POST", token, b"List-Unsubscribe=One-Click")
    assert done["statusCode"] == 200 and "配信を停止しました" in done["body"]
    assert profile(lead_id)["status"] == "unsubscribed"
    (entry,) = suppressed()
    assert entry["reason"] == "unsubscribed" and "stop@" not in str(entry)
    again = request("POST", token, b"List-Unsubscribe=One-Click")
    assert again["statusCode"] == 200
    assert [e["type"] for e in items_under(f"LEAD#{lead_id}", "EVT#")].count("unsubscribe") == 1


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_forged_link_gets_the_400_page_and_changes_nothing(method):
    lead_id, _ = a_lead_and_token()
    forged = TokenSigner(b"f" * 32).sign(UNSUBSCRIBE, {"l": lead_id, "m": "m"})
    assert request(method, forged, b"List-Unsubscribe=One-Click")["statusCode"] == 400
    assert profile(lead_id)["status"] == "active" and suppressed() == []


def test_unsubscribing_stops_the_step_emails_and_costs_points():
    from tests.functions.pipeline import Pipeline

    pipeline = Pipeline()
    lead_id, token = a_lead_and_token()
    pipeline.drain()
    assert profile(lead_id)["sequence"]["next_send_at"] and "due_pk" in profile(lead_id)
    request("POST", token, b"List-Unsubscribe=One-Click")
    pipeline.drain()
    lead = profile(lead_id)
    assert lead["sequence"]["stopped"] == "unsubscribed" and "due_pk" not in lead
    assert [e["rule_id"] for e in items_under(f"LEAD#{lead_id}", "SCORE#")] == ["contact_form", "unsubscribe"]


def test_an_unsubscribe_racing_another_write_of_the_lead_is_retried_not_lost(monkeypatch):
    from nurture.adapters.dynamo import TransactionCancelled
    from nurture.adapters.lead_store import DynamoLeadStore

    lead_id, token = a_lead_and_token()
    call = DynamoLeadStore._call
    conflicts = []

    def the_scorer_writes_at_the_same_moment(self, operation, **kwargs):
        if operation == "transact_write_items" and not conflicts:
            conflicts.append(operation)
            raise TransactionCancelled([{"Code": "TransactionConflict"}, {"Code": "None"}, {"Code": "None"}])
        return call(self, operation, **kwargs)

    monkeypatch.setattr(DynamoLeadStore, "_call", the_scorer_writes_at_the_same_moment)
    done = request("POST", token, b"List-Unsubscribe=One-Click")
    assert done["statusCode"] == 200 and conflicts
    assert profile(lead_id)["status"] == "unsubscribed" and len(suppressed()) == 1


def test_an_unsubscribe_the_store_cannot_take_is_a_503_to_try_again(monkeypatch):
    from nurture.adapters.lead_store import DynamoLeadStore
    from nurture.domain.errors import WriteConflict

    _, token = a_lead_and_token()

    def always_conflicting(self, lead_id, activity):
        raise WriteConflict("busy")

    monkeypatch.setattr(DynamoLeadStore, "unsubscribe", always_conflicting)
    assert request("POST", token, b"List-Unsubscribe=One-Click")["statusCode"] == 503


def a_token_for(lead_id: str, subscription_type: str) -> str:
    """As an email of that type carries it."""
    return token_signer(LocalResources().signing_key_parameter).sign(UNSUBSCRIBE, {"l": lead_id, "m": "msg-2",
                                                                            "t": subscription_type})


def test_one_click_from_an_email_leaves_its_type_only_and_the_page_offers_everything():
    lead_id, _ = a_lead_and_token()
    newsletter = a_token_for(lead_id, "newsletter")
    assert "すべて停止する" in request("GET", newsletter)["body"]

    done = request("POST", newsletter, b"List-Unsubscribe=One-Click")
    assert done["statusCode"] == 200 and "「メールマガジン」は今後お送りしません" in done["body"]
    lead = profile(lead_id)
    assert lead["status"] == "active" and suppressed() == []
    assert set(lead["subscriptions"]) == {"newsletter"}
    assert (lead["subscriptions"]["newsletter"]["choice"], lead["subscriptions"]["newsletter"]["via"]) == \
        ("out", "one_click")
    # Once: a second POST changes nothing; another type joins the map.
    request("POST", newsletter, b"List-Unsubscribe=One-Click")
    request("POST", a_token_for(lead_id, "seminar"), b"List-Unsubscribe=One-Click")
    assert set(profile(lead_id)["subscriptions"]) == {"newsletter", "seminar"}
    opt_outs = [e for e in items_under(f"LEAD#{lead_id}", "EVT#") if e["type"] == "opt_out"]
    assert sorted(e["subscription_type"] for e in opt_outs) == ["newsletter", "seminar"]
    # Sales see each choice, when and how it was made.
    view = api_request("GET", f"/v1/leads/{lead_id}")
    assert view is not None and view["statusCode"] == 200
    choices = json.loads(view["body"])["profile"]["subscriptions"]
    assert {kind: (c["choice"], c["via"]) for kind, c in choices.items()} == {
        "newsletter": ("out", "one_click"), "seminar": ("out", "one_click")}

    # The page's second button leaves everything.
    request("POST", newsletter, b"scope=everything")
    assert profile(lead_id)["status"] == "unsubscribed" and len(suppressed()) == 1


def test_leaving_a_type_costs_no_points_and_keeps_the_step_emails_going():
    from tests.functions.pipeline import Pipeline

    pipeline = Pipeline()
    lead_id, _ = a_lead_and_token()
    pipeline.drain()
    request("POST", a_token_for(lead_id, "newsletter"), b"List-Unsubscribe=One-Click")
    pipeline.drain()
    lead = profile(lead_id)
    assert lead["sequence"]["stopped"] is None and "due_pk" in lead
    assert [e["rule_id"] for e in items_under(f"LEAD#{lead_id}", "SCORE#")] == ["contact_form"]


def test_the_page_sets_every_type_as_ticked_and_a_type_can_be_joined_again():
    lead_id, token = a_lead_and_token()
    saved = request("POST", token, b"save=1&receive=newsletter&receive=no_such_type")
    assert saved["statusCode"] == 200 and "設定を保存しました" in saved["body"]
    assert saved["body"].count(" checked>") == 1  # the page shows the choices as stored
    choices = profile(lead_id)["subscriptions"]
    left = ("seminar", "product_news", "step_emails")
    stored = {kind: (c["choice"], c["via"]) for kind, c in choices.items()}
    assert stored == dict.fromkeys(left, ("out", "preference_page"))
    (changed,) = [e for e in items_under(f"LEAD#{lead_id}", "EVT#") if e["type"] == "preferences"]
    assert (changed["left"], changed["joined"]) == (["product_news", "seminar", "step_emails"], [])

    request("POST", token, b"save=1&receive=newsletter&receive=seminar")
    assert profile(lead_id)["subscriptions"]["seminar"]["choice"] == "in"
    assert profile(lead_id)["status"] == "active" and suppressed() == []
    # Saving the same choices again writes nothing more.
    request("POST", token, b"save=1&receive=newsletter&receive=seminar")
    assert len([e for e in items_under(f"LEAD#{lead_id}", "EVT#") if e["type"] == "preferences"]) == 2


def test_a_lead_that_left_everything_is_told_so_and_its_page_changes_nothing():
    lead_id, token = a_lead_and_token()
    request("POST", token, b"scope=everything")
    page = request("GET", token)["body"]
    assert "すべてのメールの配信を停止しています" in page and 'type="checkbox"' not in page
    request("POST", token, b"save=1&receive=newsletter")
    assert "subscriptions" not in profile(lead_id)
