"""The console on the local runtime over HTTP: its page, signing in against the emulator's Cognito, and the token
check the HTTP API's JWT authorizer makes in AWS."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from nurture.local.cognito import LOCAL_PASSWORD, USERS
from tests.local_system import RunningSystem

pytestmark = pytest.mark.integration


def sign_in(local_system: RunningSystem, email: str, password: str = LOCAL_PASSWORD) -> str:
    """What the console's page does: Cognito's InitiateAuth with the user's password; the ID token."""
    settings = local_system.request("GET", "/console/settings.json").json()
    request = urllib.request.Request(settings["cognitoEndpoint"] + "/", data=json.dumps({
        "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": settings["clientId"],
        "AuthParameters": {"USERNAME": email, "PASSWORD": password}}).encode(), headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return str(json.loads(answer.read())["AuthenticationResult"]["IdToken"])


def test_the_console_page_and_its_sign_in_settings_are_served(local_system: RunningSystem):
    page = local_system.request("GET", "/console/")
    settings = local_system.request("GET", "/console/settings.json").json()

    assert page.status == 200 and b"console.js" in page.body
    assert settings["clientId"] and settings["cognitoEndpoint"].startswith("http://127.0.0.1:")


def test_each_seeded_user_signs_in_and_the_api_knows_their_group(local_system: RunningSystem):
    for group, email in USERS.items():
        token = sign_in(local_system, email)

        me = local_system.request("GET", "/v1/console/me", headers={"Authorization": f"Bearer {token}"})

        assert me.status == 200 and me.json()["groups"] == [group] and me.json()["email"] == email


def test_a_missing_or_forged_token_is_refused_before_the_function_runs(local_system: RunningSystem):
    token = sign_in(local_system, USERS["admin"])
    header, payload, signature = token.split(".")
    forged = ".".join((header, payload, signature[:-4] + ("AAAA" if not signature.endswith("AAAA") else "BBBB")))

    for authorization in (None, "Bearer", f"Bearer {forged}", f"Basic {token}"):
        answer = local_system.request("GET", "/v1/console/leads",
                                      headers={"Authorization": authorization} if authorization else {})
        assert answer.status == 401 and answer.json() == {"message": "Unauthorized"}


def test_a_hot_lead_shows_with_its_score_story_and_to_sales_only_if_it_is_theirs(local_system: RunningSystem):
    lead_id = local_system.submit("/v1/forms/demo", {
        "email": "console-buyer@big-console.example.co.jp", "name": "担当 太郎", "company": "大手 コンソール",
        "title": "部長", "phone": "03-1234-5678", "consent": True, "employees": "5000"})
    marketer = {"Authorization": f"Bearer {sign_in(local_system, USERS['marketer'])}"}
    sales = {"Authorization": f"Bearer {sign_in(local_system, USERS['sales'])}"}
    deadline, lead = time.monotonic() + 30, {}
    while time.monotonic() < deadline and not lead.get("owner"):  # scored and routed through the stream
        lead = local_system.request("GET", f"/v1/console/leads/{lead_id}", headers=marketer).json()
        time.sleep(0.3)

    assert lead["owner"]["id"] in ("tanaka", "smith")  # the enterprise team, whoever has fewer open handoffs
    assert any(point["rule_id"] for point in lead["score_history"])
    theirs = lead["owner"]["id"] == "tanaka"  # the seeded sales user is config/sales.yaml's tanaka
    listed = [item["lead_id"] for item in local_system.request("GET", "/v1/console/leads", headers=sales)
              .json()["leads"]]
    assert (lead_id in listed) is theirs
    assert local_system.request("GET", f"/v1/console/leads/{lead_id}", headers=sales).status == (
        200 if theirs else 404)
