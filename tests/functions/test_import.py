"""`nurture import` against the table: new leads, existing ones updated, a re-run changes nothing."""

from datetime import UTC, datetime

import boto3
import pytest

from nurture.adapters.dynamo import to_item
from nurture.adapters.lead_store import DynamoLeadStore
from nurture.domain.importing import plan_import, run_import
from nurture.domain.text import email_key
from nurture.keys import SUPPRESSION_SK, suppression_pk
from tests.functions.helpers import TABLE_NAME, all_items, items_under, profile, submit
from tests.functions.pipeline import Pipeline

pytestmark = pytest.mark.usefixtures("aws")
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
CARDS = ("氏名,会社名,役職,メールアドレス\n"
         "山田 太郎,株式会社サンプル,部長,taro@example.co.jp\n"
         "佐藤 花子,サンプル工業,課長,hanako@example.jp\n"
         "壊れた行,会社,,not-an-email\n").encode("cp932")


def imported(data: bytes = CARDS, basis: str | None = "展示会で案内送付に同意"):  # type: ignore[no-untyped-def]
    plan = plan_import(data, "expo-2026", basis)
    return run_import(plan, "expo-2026", DynamoLeadStore(TABLE_NAME), NOW, 730)


def claims() -> dict[str, str]:
    return {item["PK"]: item["lead_id"] for item in all_items() if item["PK"].startswith("EMAIL#")}


def test_an_existing_lead_is_updated_by_progressive_profiling_and_a_new_one_created():
    known = submit("/v1/forms/contact", {"email": "hanako@example.jp", "name": "佐藤 花子",
                                                      "company": "サンプル工業", "consent": True})
    outcome = imported()
    assert (outcome.created, outcome.updated, outcome.failed) == (1, 1, [])
    assert claims()[f"EMAIL#{email_key('hanako@example.jp')}"] == known and len(claims()) == 2
    hanako = profile(known)
    assert hanako["title"] == "課長" and hanako["form_kinds"] == {"contact", "import"}
    taro = profile(claims()[f"EMAIL#{email_key('taro@example.co.jp')}"])
    assert taro["consent"]["granted"] is True and "purpose" not in taro["consent"]  # its wording: the record
    (record,) = items_under(f"LEAD#{taro['lead_id']}", "CONSENT#")
    assert record["purpose"] == "展示会で案内送付に同意" and record["event_id"] == taro["consent"]["event_id"]
    assert taro["consent"]["version"] == "expo-2026" and taro["first_touch"]["utm"] == {"utm_source": "expo-2026"}


def test_an_import_proposes_what_it_has_differently_unless_it_overwrites():
    known = submit("/v1/forms/contact", {"email": "hanako@example.jp", "name": "佐藤 はなこ",
                                         "company": "サンプル工業", "consent": True})
    imported()
    assert profile(known)["name"] == "佐藤 はなこ"
    (row,) = [e for e in items_under(f"LEAD#{known}", "EVT#") if e.get("form_kind") == "import"]
    assert row["proposed"] == {"name": "佐藤 花子"}
    plan = plan_import(CARDS, "expo-2026-fix", overwrite=True)
    run_import(plan, "expo-2026-fix", DynamoLeadStore(TABLE_NAME), NOW, 730)
    assert profile(known)["name"] == "佐藤 花子"


def test_running_the_same_import_again_changes_nothing():
    imported()
    before = all_items()
    again = imported()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert all_items() == before


def test_imported_leads_are_scored_and_enrolled_like_captured_ones():
    pipeline = Pipeline()
    imported()
    pipeline.drain()
    taro = profile(claims()[f"EMAIL#{email_key('taro@example.co.jp')}"])
    assert taro["rank"] in ("A", "B", "C") and taro["sequence"]["next_send_at"]


def test_a_suppressed_address_stays_suppressed():
    key = email_key("taro@example.co.jp")
    boto3.client("dynamodb").put_item(TableName=TABLE_NAME, Item=to_item(
        {"PK": suppression_pk(key), "SK": SUPPRESSION_SK, "reason": "bounce"}))
    imported()
    assert DynamoLeadStore(TABLE_NAME).suppressed(key)  # what the sender asks before every step email


def test_an_import_can_start_its_new_leads_on_types_unlike_their_defaults_recorded_as_the_imports():
    plan = plan_import(CARDS, "expo-2026", "展示会で案内送付に同意", subscriptions={"newsletter": "not_until_asked"})
    run_import(plan, "expo-2026", DynamoLeadStore(TABLE_NAME), NOW, 730)
    taro = profile(claims()[f"EMAIL#{email_key('taro@example.co.jp')}"])
    assert taro["subscriptions"]["newsletter"] == {"choice": "not_asked", "at": "2026-11-20T10:00:00.000000Z",
                                                   "via": "import", "form_id": "import"}
