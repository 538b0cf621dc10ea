"""The local system, started as `make run` starts it, driven over HTTP like a browser or a script."""

import json
import re
import time
import uuid
from urllib.parse import urlencode

import pytest

from nurture import keys
from tests.functions.test_forms import BAD_INPUTS
from tests.local_system import REPO, RunningSystem, start_system, wait_for

pytestmark = pytest.mark.integration


def handoff_messages_for(system: RunningSystem, lead_id: str, seconds: float = 20) -> list[dict]:
    """Poll the handoff queue as sales would (other tests' hot leads are on it too) for one lead."""
    found: list[dict] = []
    deadline = time.monotonic() + seconds
    while not found and time.monotonic() < deadline:
        polled = system.cli("handoff", "poll", "--json", "--max", "50", "--wait", "1")
        assert polled.returncode == 0, polled.stderr
        found = [m for m in map(json.loads, polled.stdout.splitlines()) if m["lead_id"] == lead_id]
    return found


def unique_email() -> str:
    return f"lead-{uuid.uuid4().hex[:10]}@example.co.jp"


def contact(email: str, **extra: object) -> dict:
    return {"email": email, "name": "山田 太郎", "company": "株式会社サンプル", "consent": True, **extra}


def test_a_known_address_gets_the_new_ones_answer_and_fills_only_blanks(local_system: RunningSystem):
    email = unique_email()
    created = local_system.post_json("/v1/forms/contact", contact(email, title="課長", phone="03-1234-5678"))
    assert created.status == 202 and set(created.json()) == {"status", "submission_id"}
    lead_id = local_system.lead_id(email)

    updated = local_system.post_json("/v1/forms/whitepaper", contact(email.upper().replace("EXAMPLE", "example"),
                                                                     title="部長", phone="", department="営業部"))
    assert updated.status == created.status and set(updated.json()) == set(created.json())

    (profile,) = local_system.items(f"LEAD#{lead_id}", "PROFILE")
    assert (profile["title"], profile["phone"], profile["department"]) == ("課長", "03-1234-5678", "営業部")
    events = local_system.items(f"LEAD#{lead_id}", "EVT#")
    assert [e.get("proposed") for e in events if e.get("form_id") == "whitepaper"] == [{"title": "部長"}]
    shown = local_system.cli("leads", "show", email)
    assert "proposed, not applied (whitepaper" in shown.stdout and "title=部長" in shown.stdout


def test_double_submit_stores_one_event_and_answers_the_same(local_system: RunningSystem):
    payload = contact(unique_email())
    first = local_system.post_json("/v1/forms/contact", payload)
    second = local_system.post_json("/v1/forms/contact", payload)
    assert (second.status, second.json()) == (first.status, first.json())
    assert len(local_system.items(f"LEAD#{local_system.lead_id(payload['email'])}", "EVT#")) == 1


def test_identify_attaches_the_visitors_earlier_hits(local_system: RunningSystem):
    vid = f"v-{uuid.uuid4().hex[:12]}"
    hit = local_system.request("POST", "/v1/events",
                               json.dumps({"vid": vid, "type": "page_view", "url": "https://example.jp/pricing"}),
                               {"Content-Type": "text/plain;charset=UTF-8"})
    assert hit.status == 204
    lead_id = local_system.submit("/v1/forms/contact", contact(unique_email(), vid=vid))
    types = sorted(e["type"] for e in local_system.items(f"LEAD#{lead_id}", "EVT#"))
    assert types == ["form_submit", "page_view"]


def test_plain_html_form_post_redirects_to_the_thank_you_page(local_system: RunningSystem):
    body = urlencode({"email": unique_email(), "name": "A", "company": "B", "consent": "on", "website": ""})
    reply = local_system.request("POST", "/v1/forms/contact", body,
                                 {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"})
    assert reply.status == 303 and reply.headers["location"] == "contact/thanks"
    page = local_system.request("GET", "/v1/forms/contact/thanks")
    assert page.status == 200 and "送信が完了しました" in page.body.decode()


@pytest.mark.parametrize(("case", "path", "content_type", "body", "status", "field"), BAD_INPUTS,
                         ids=[case[0] for case in BAD_INPUTS])
def test_bad_input_over_http(local_system: RunningSystem, case, path, content_type, body, status, field):
    partitions = local_system.partitions()

    def table_moves() -> bool:
        before = local_system.item_count()
        reply = local_system.request("POST", path, body, {"Content-Type": content_type, "Accept": "application/json"})
        assert reply.status == status
        assert reply.headers["content-type"] == "application/problem+json"
        if field:
            assert field in [error["field"] for error in reply.json()["errors"]]
        return local_system.item_count() != before

    # Nothing is written. The scheduler and the scorer may still write for earlier tests' leads meanwhile (a step
    # email, an account their first activity founds): asked again, a refused request's own write would show every
    # time, and a write once under a key of its own (a new lead, address, visitor, guard) as a new partition.
    assert not all(table_moves() for _ in range(3))
    appeared = local_system.partitions() - partitions
    assert all(pk.startswith(keys.ACCOUNT_PREFIX) for pk in appeared), appeared


def test_cors_preflight_from_an_allowed_origin(local_system: RunningSystem):
    reply = local_system.request("OPTIONS", "/v1/forms/contact", headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert reply.status == 204
    assert reply.headers["access-control-allow-origin"] == "http://localhost:3000"
    denied = local_system.request("OPTIONS", "/v1/events", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in denied.headers


def test_docs_outbox_and_unknown_paths(local_system: RunningSystem):
    spec = local_system.request("GET", "/v1/openapi.json").json()
    assert {"/v1/forms/{form_id}", "/v1/events", "/v1/t/o/{token}", "/v1/t/c/{token}"} <= set(spec["paths"])
    docs = local_system.request("GET", "/v1/docs")
    assert docs.status == 200 and b"swagger" in docs.body.lower()
    assert local_system.request("GET", "/_outbox").status == 200
    assert local_system.request("GET", "/nope").status == 404


def test_minted_click_link_redirects_and_forged_one_does_not(local_system: RunningSystem):
    lead_id = local_system.submit("/v1/forms/contact", contact(unique_email()))
    minted = local_system.cli("token", "click", "--lead", lead_id, "--url", "https://example.co.jp/case")
    assert minted.returncode == 0, minted.stderr
    path = minted.stdout.strip().removeprefix(local_system.base_url)
    reply = local_system.request("GET", path)
    assert reply.status == 302 and reply.headers["location"] == "https://example.co.jp/case"
    assert [e["type"] for e in local_system.items(f"LEAD#{lead_id}", "EVT#")].count("email_click") == 1

    forged = local_system.request("GET", path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"))
    assert forged.status == 400 and "location" not in forged.headers
    pixel = local_system.request("GET", "/v1/t/o/forged.gif")
    assert pixel.status == 200 and pixel.headers["content-type"] == "image/gif" and pixel.body.startswith(b"GIF89a")


def test_invoke_runs_a_handler_against_the_running_system(local_system: RunningSystem):
    result = local_system.cli("invoke", "forms", str(REPO / "events" / "forms-json.json"))
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert response["statusCode"] == 202
    assert json.loads(response["body"])["status"] == "received"


def test_restart_with_persist_keeps_the_leads(tmp_path):
    email = unique_email()
    first = start_system(tmp_path / "state", "--persist", str(tmp_path / "data"))
    try:
        lead_id = first.submit("/v1/forms/contact", contact(email))
    finally:
        output = first.stop()
    assert "Nurture stopped." in output
    assert not (tmp_path / "state" / "local.json").exists()

    second = start_system(tmp_path / "state", "--persist", str(tmp_path / "data"), port=first.port)
    try:
        again = second.post_json("/v1/forms/contact", contact(email, title="部長"))
        assert again.status == 202 and second.lead_id(email) == lead_id
        assert second.items(f"LEAD#{lead_id}", "PROFILE")[0]["title"] == "部長"  # a blank filled
    finally:
        second.stop()


def test_cli_without_a_running_system_says_how_to_start_one(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "nurture.cli.main", "invoke", "forms",
                             str(REPO / "events" / "forms-json.json")], cwd=REPO, capture_output=True, text=True,
                            env={**__import__("os").environ, "NURTURE_STATE_DIR": str(tmp_path)}, check=False)
    assert result.returncode == 2 and "make run" in result.stderr


def test_leads_show_prints_the_stored_lead(local_system: RunningSystem):
    email = unique_email()
    vid = f"v-{uuid.uuid4().hex[:12]}"
    local_system.request("POST", "/v1/events", json.dumps({"vid": vid, "type": "download",
                                                           "url": "https://example.jp/a.pdf"}),
                         {"Content-Type": "text/plain"})
    lead_id = local_system.submit("/v1/forms/seminar", contact(email, title="部長", session="2026-12-10", vid=vid))
    shown = local_system.cli("leads", "show", email.upper(), "--json")
    assert shown.returncode == 0, shown.stderr
    lead = json.loads(shown.stdout)
    assert lead["lead_id"] == lead_id and lead["profile"]["title"] == "部長"
    assert lead["profile"]["custom"] == {"session": "2026-12-10"}
    # Beside its registration's confirmation and what SES reported of it, which may have come already.
    assert sorted(a["type"] for a in lead["activities"] if not a["type"].startswith("email_")) == [
        "download", "form_submit"]
    assert lead["profile"]["consent"]["granted"] is True
    assert lead["status"] == "active" and lead["suppressed"] is False
    by_id = local_system.cli("leads", "show", lead_id)
    assert by_id.returncode == 0 and email in by_id.stdout
    # every activity read is shown (it once cut at ten), and how to read more when there may be more
    for page in range(11):
        local_system.request("POST", "/v1/events", json.dumps({"vid": vid, "type": "page_view",
                                                               "url": f"https://example.jp/p{page}"}),
                             {"Content-Type": "text/plain"})

    def shown_with_every_page() -> str | None:
        shown = local_system.cli("leads", "show", lead_id).stdout
        return shown if shown.count("page_view       https://example.jp/p") == 11 else None

    shown_all = wait_for(shown_with_every_page)
    assert "https://example.jp/p0" in shown_all and "there may be more" not in shown_all
    fewer = local_system.cli("leads", "show", lead_id, "--activities", "3").stdout
    assert len(re.findall(r"^  \d{4}-\d\d-\d\dT", fewer, re.MULTILINE)) == 3
    assert "there may be more: --activities 6" in fewer
    missing = local_system.cli("leads", "show", "nobody@example.jp")
    assert missing.returncode == 1 and "no such lead" in missing.stderr


def test_demo_request_reaches_sales_through_handoff_poll(local_system: RunningSystem):
    email = unique_email()
    lead_id = local_system.submit("/v1/forms/demo", contact(email, phone="03-1234-5678", title="取締役"))
    (message,) = handoff_messages_for(local_system, lead_id)
    assert message["contact"]["email"] == email
    assert message["links"]["lead"] == f"{local_system.base_url}/v1/leads/{lead_id}"
    sales_view = local_system.request("GET", f"/v1/leads/{lead_id}").json()
    assert sales_view["stage"] == "handed_off"


def test_form_and_downloads_cross_the_threshold_and_the_lead_is_handed_off(local_system: RunningSystem):
    email = unique_email()
    vid = f"v-{uuid.uuid4().hex[:12]}"
    lead_id = local_system.submit("/v1/forms/whitepaper", contact(email, title="部長", employees="1500", vid=vid))
    hits = [{"vid": vid, "type": "download", "url": f"https://example.jp/doc{n}.pdf"} for n in range(2)]
    # 20 (whitepaper) + 20 (two documents) + 10 (two case studies) + 2 (page views) = 52: rank A at 50.
    hits += [{"vid": vid, "type": "page_view", "url": f"https://example.jp/case/{n}"} for n in range(2)]
    assert local_system.request("POST", "/v1/events", json.dumps(hits), {"Content-Type": "text/plain"}).status == 204
    (message,) = handoff_messages_for(local_system, lead_id)
    assert message["rank"] == "A" and message["reasons"]["patterns"] == []


def test_rescore_runs_over_every_lead_and_can_run_again(local_system: RunningSystem):
    local_system.post_json("/v1/forms/contact", contact(unique_email(), title="部長"))
    local_system.item_count()  # let the scorer finish
    first = local_system.cli("rescore")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("rescored ") and first.stderr == ""  # no progress bar when piped
    again = local_system.cli("rescore", "--json")
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert f"rescored {summary['rescored']} leads" in first.stdout and set(summary["ranks"]) == {"A", "B", "C"}


def test_sending_status_shows_the_rates_and_resume_says_when_there_was_no_pause(local_system: RunningSystem):
    status = local_system.cli("sending", "status")
    assert status.returncode == 0, status.stderr
    assert "bounce rate:" in status.stdout and "sending: active" in status.stdout
    as_json = json.loads(local_system.cli("sending", "status", "--json").stdout)
    assert as_json["paused"] is None and 0 <= as_json["bounce_rate"] <= 1 and as_json["sends"] >= 0
    resumed = local_system.cli("sending", "resume")
    assert resumed.returncode == 0 and "not paused" in resumed.stdout


def test_leads_erase_asks_for_confirmation_and_erases_as_the_api_does(local_system: RunningSystem):
    email = unique_email()
    lead_id = local_system.submit("/v1/forms/contact", contact(email))
    unconfirmed = local_system.cli("leads", "erase", email)  # no terminal to confirm at
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr
    assert local_system.items(f"LEAD#{lead_id}", "PROFILE")
    erased = local_system.cli("leads", "erase", email, "--yes")
    assert erased.returncode == 0 and lead_id in erased.stdout, erased.stderr
    assert local_system.items(f"LEAD#{lead_id}") == [] and local_system.lead_id(email) is None
    assert local_system.cli("leads", "erase", lead_id, "--yes").returncode == 1


def test_keys_rotate_keeps_links_already_sent_working(local_system: RunningSystem):
    lead_id = local_system.submit("/v1/forms/contact", contact(unique_email()))
    before = local_system.cli("token", "click", "--lead", lead_id, "--url", "https://example.co.jp/before")
    rotated = local_system.cli("keys", "rotate")
    assert rotated.returncode == 0 and "signs new links" in rotated.stdout, rotated.stderr
    again = json.loads(local_system.cli("keys", "rotate", "--json").stdout)
    assert again["signing"] not in rotated.stdout and rotated.stdout.split()[1] in again["verifying"]
    after = local_system.cli("token", "click", "--lead", lead_id, "--url", "https://example.co.jp/after")
    for minted, url in ((before, "https://example.co.jp/before"), (after, "https://example.co.jp/after")):
        reply = local_system.request("GET", minted.stdout.strip().removeprefix(local_system.base_url))
        assert reply.status == 302 and reply.headers["location"] == url


def test_a_whitepaper_post_hands_its_material_over_on_the_thank_you_page_and_by_email(local_system: RunningSystem):
    import re
    import urllib.request
    from email import message_from_bytes
    from email.policy import default

    from tests.local_system import wait_for

    email = unique_email()
    fields = {"email": email, "name": "山田 太郎", "company": "株式会社サンプル", "consent": "on"}
    local_system.personal |= {email, "山田 太郎"}
    posted = local_system.request("POST", "/v1/forms/whitepaper", urlencode(fields),
                                  {"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"})
    assert posted.status == 303 and posted.headers["location"].startswith("whitepaper/thanks?d=")
    page = local_system.request("GET", f"/v1/forms/{posted.headers['location']}").body.decode()
    token = re.search(r'href="\.\./\.\./d/([^"]+)" download>資料をダウンロードする', page).group(1)
    browser = {"User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15"}
    handed = local_system.request("GET", f"/v1/d/{token}", headers=browser)
    assert handed.status == 302
    with urllib.request.urlopen(handed.headers["location"], timeout=10) as file:  # the emulator's presigned URL
        assert file.read() == (REPO / "config" / "assets" / "whitepaper-lead-nurturing-101.pdf").read_bytes()
        assert file.headers["Content-Disposition"] == 'attachment; filename="whitepaper-lead-nurturing-101.pdf"'
    lead_id = local_system.lead_id(email)
    assert lead_id is not None
    # And the outbox holds the email with its own link, which works too and records the download on the lead.
    number = wait_for(lambda: re.findall(r"href='/_outbox/(\d+)'>[^<]*</a></td><td>" + re.escape(email),
                                         local_system.request("GET", "/_outbox").body.decode()))[0]
    message = message_from_bytes(local_system.request("GET", f"/_outbox/{number}.eml").body, policy=default)
    assert str(message["Subject"]).startswith("【ミライ在庫】資料のご送付")
    emailed = re.search(r"/v1/d/[A-Za-z0-9_.-]+", message.get_body(("plain",)).get_content()).group()
    assert local_system.request("GET", emailed, headers=browser).status == 302
    (download,) = wait_for(lambda: [e for e in local_system.events(f"LEAD#{lead_id}") if e["type"] == "download"])
    assert (download["asset"], download["form_id"]) == ("whitepaper-lead-nurturing-101.pdf", "whitepaper")
