"""Drive handlers the way API Gateway does and read what they stored."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import boto3

from nurture.adapters.lead_store import from_item
from nurture.local.functions import api_request
from nurture.local.resources import LocalResources

TABLE_NAME = LocalResources().table_name
JSON_HEADERS = {"content-type": "application/json"}


def post_json(path: str, payload: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = api_request("POST", path, headers={**JSON_HEADERS, **(headers or {})},
                           body=json.dumps(payload).encode())
    assert response is not None
    return response


def post_form(path: str, fields: dict[str, str], accept: str = "text/html,application/xhtml+xml") -> dict[str, Any]:
    response = api_request("POST", path, headers={"content-type": "application/x-www-form-urlencoded",
                                                  "accept": accept}, body=urlencode(fields).encode())
    assert response is not None
    return response


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


def profile(lead_id: str) -> dict[str, Any]:
    (item,) = items_under(f"LEAD#{lead_id}", "PROFILE")
    return item
