"""Drive handlers the way API Gateway does and read what they stored."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import boto3

from nurture import keys
from nurture.adapters.dynamo import from_item
from nurture.domain.activity import expand
from nurture.domain.text import email_key, normalize_email
from nurture.local.functions import api_request
from nurture.local.resources import LocalResources

TABLE_NAME = LocalResources().table_name
JSON_HEADERS = {"content-type": "application/json"}


def post_json(path: str, payload: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = api_request("POST", path, headers={**JSON_HEADERS, **(headers or {})},
                           body=json.dumps(payload).encode())
    assert response is not None
    return response


def listed(path: str, query: str, key: str) -> list[dict[str, Any]]:
    """A page of a sales API list (`key`: leads, tasks), answered 200."""
    response = api_request("GET", path, query=query)
    assert response is not None and response["statusCode"] == 200, response
    return list(json.loads(response["body"])[key])


def post_form(path: str, fields: dict[str, str], accept: str = "text/html,application/xhtml+xml") -> dict[str, Any]:
    response = api_request("POST", path, headers={"content-type": "application/x-www-form-urlencoded",
                                                  "accept": accept}, body=urlencode(fields).encode())
    assert response is not None
    return response


def submit(path: str, payload: dict[str, Any], headers: dict[str, str] | None = None) -> str:
    """Post a form as a script would and return the lead it reached: the public answer never names it, so
    the lead is found by its address, as sales tooling finds it."""
    response = post_json(path, payload, headers)
    assert response["statusCode"] == 202, response["body"]
    return lead_id_of(str(payload["email"]))


def lead_id_of(email: str) -> str:
    (claim,) = items_under(keys.email_claim_pk(email_key(normalize_email(email))))
    return str(claim["lead_id"])


def body_json(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])


def all_items() -> list[dict[str, Any]]:
    dynamodb = boto3.client("dynamodb")
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=TABLE_NAME):
        items += [from_item(item) for item in page["Items"]]
    return items


def items_under(pk: str, sk_prefix: str = "") -> list[dict[str, Any]]:
    return sorted((i for i in all_items() if i["PK"] == pk and i["SK"].startswith(sk_prefix)), key=lambda i: i["SK"])


def events_under(pk: str) -> list[dict[str, Any]]:
    """The activity under `pk`, oldest first, as its readers see it: a beacon request's batch item as its events."""
    return [event for item in items_under(pk, "EVT#") for event in expand(item)]


def profile(lead_id: str) -> dict[str, Any]:
    (item,) = items_under(f"LEAD#{lead_id}", "PROFILE")
    return item
