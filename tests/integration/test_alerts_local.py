"""Alerts on the local runtime as `make run` starts it: a hot lead reaches its owner's inbox (the outbox) and the
webhook receiver, signed; the CLI keeps webhooks' secrets out of config files."""

import json
import uuid

import pytest

from tests.local_system import RunningSystem, wait_for

pytestmark = pytest.mark.integration


def test_a_demo_request_alerts_its_owner_by_email_and_a_signed_webhook(local_system: RunningSystem):
    # A lead no rule routes waits in the unassigned queue, watched by the east team's lead (email and CRM hook)
    email = f"lead-{uuid.uuid4().hex[:10]}@example.com"
    lead_id = local_system.submit("/v1/forms/demo", {"email": email, "name": "海外 太郎", "company": "Overseas Inc",
                                                     "title": "部長", "phone": "03-1234-5678", "country": "US",
                                                     "consent": True})

    def posted() -> list[dict]:
        return [post for post in local_system.request("GET", "/_webhooks.json").json()
                if post["webhook"] == "crm_hook" and post["body"].get("handoff", {}).get("lead_id") == lead_id]

    (post,) = wait_for(posted, seconds=30)
    assert (post["webhook"], post["event"], post["signature_valid"]) == ("crm_hook", "handoff.created", True)
    assert post["body"]["recipient"] == "suzuki" and post["body"]["handoff"]["owner"]["id"] == "unassigned"

    page = wait_for(lambda: local_system.alert_email(lead_id, "suzuki@example.co.jp"), seconds=30)
    assert "キュー「未割当 (unassigned)」にホットリードが入りました" in page
    assert "海外 太郎 / 部長 / Overseas Inc" in page
    received = local_system.request("GET", "/_webhooks").body.decode()
    assert "INVALID" not in received and post["delivery"] in received


def test_a_hot_lead_reaches_the_crm_webhook_and_its_record_in_the_local_kintone(local_system: RunningSystem):
    email = f"lead-{uuid.uuid4().hex[:10]}@crm.example.co.jp"
    lead_id = local_system.submit("/v1/forms/demo", {"email": email, "name": "営業 花子", "company": "近畿商事",
                                                     "title": "部長", "phone": "06-1111-2222", "prefecture": "大阪府",
                                                     "consent": True})

    record = wait_for(lambda: local_system.request("GET", "/_kintone.json").json()["records"].get(lead_id),
                      seconds=30)
    assert record["values"]["メールアドレス"] == email and record["values"]["最新の出来事"] == "lead.handed_off"
    (post,) = [post for post in local_system.request("GET", "/_webhooks.json").json()
               if post["webhook"] == "crm_push" and post["body"]["lead"]["lead_id"] == lead_id]
    assert (post["event"], post["signature_valid"], post["body"]["schema_version"]) == ("lead.handed_off", True, 1)
    assert all(request["status"] == 200 for request in local_system.request("GET", "/_kintone.json").json()[
        "requests"])


def test_webhooks_are_listed_with_their_secrets_stored_and_refused_without_https(local_system: RunningSystem):
    listed = local_system.cli("webhooks", "list")
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [
        "west_slack", "enterprise_teams", "crm_hook", "crm_push", "kintone"]
    assert all(" stored " in line for line in listed.stdout.splitlines()) and "signing" not in listed.stdout
    as_json = [json.loads(line) for line in local_system.cli("webhooks", "list", "--json").stdout.splitlines()]
    assert [(entry["webhook"], entry["stored"]) for entry in as_json] == [
        (name, True) for name in ("west_slack", "enterprise_teams", "crm_hook", "crm_push", "kintone")]
    plain = local_system.cli("webhooks", "set", "crm_hook", "--url", "http://hooks.example/x")
    assert plain.returncode == 2 and "https" in plain.stderr
    unknown = local_system.cli("webhooks", "set", "nowhere", "--url", "https://hooks.example/x")
    assert unknown.returncode == 2 and "no webhook 'nowhere'" in unknown.stderr
