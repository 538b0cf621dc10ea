"""AWS calls per request, counted with botocore event hooks on the clients the handlers use."""

from __future__ import annotations

import json
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

REPO = Path(__file__).resolve().parent.parent
READS = {"GetItem", "BatchGetItem", "Query", "Scan"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}


class CallCounter:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def measure(self, action: Callable[[], Any]) -> dict[str, Any]:
        self.calls.clear()
        action()
        counted = dict(self.calls)
        return {
            "reads": sum(n for op, n in counted.items() if op in READS),
            "writes": sum(n for op, n in counted.items() if op in WRITES),
            "calls": counted,
        }


@contextmanager
def counted_dynamodb() -> Iterator[CallCounter]:
    """Nurture's resources in moto, as the tests build them (on the emulator the local runtime runs: concurrent
    transactions are safe), with the handlers' DynamoDB calls counted."""
    from moto import mock_aws

    from nurture.adapters.aws import client, reset_clients
    from nurture.local import emulator
    from nurture.local.resources import LocalResources, create_resources
    from nurture.settings import reload

    emulator.install()
    resources = LocalResources()
    environment = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                   "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", **resources.environment(str(REPO / "config"))}
    # The handlers' environment for this run only: a later benchmark (a cold import's subprocess) inherits none of it
    with mock.patch.dict(os.environ, environment), mock_aws():
        os.environ.pop("AWS_ENDPOINT_URL", None)
        create_resources(resources)
        reset_clients()
        reload()
        counter = CallCounter()
        client("dynamodb").meta.events.register("before-call.dynamodb", counter)
        yield counter


def count_calls() -> list[tuple[str, dict[str, Any]]]:
    """Run each kind of request once against moto and count the DynamoDB calls it made."""
    from nurture.local.functions import api_request

    results: list[tuple[str, dict[str, Any]]] = []
    with counted_dynamodb() as counter:

        def post(path: str, payload: Any, content_type: str = "application/json") -> Callable[[], Any]:
            return lambda: api_request("POST", path, headers={"content-type": content_type},
                                       body=json.dumps(payload).encode())

        email = f"bench-{uuid.uuid4().hex[:8]}@example.jp"
        lead = {"email": email, "name": "B", "company": "C", "consent": True}
        vid = "bench-visitor-1"
        results.append(("beacon, anonymous visitor", counter.measure(
            post("/v1/events", {"vid": vid, "type": "page_view", "url": "https://example.jp/"}, "text/plain"))))
        results.append(("beacon of 10 events, anonymous visitor", counter.measure(
            post("/v1/events", [{"vid": vid, "type": "page_view", "url": f"https://example.jp/{n}"}
                                for n in range(10)], "text/plain"))))
        results.append(("form submit, new lead", counter.measure(post("/v1/forms/contact", lead))))
        results.append(("form submit, known lead", counter.measure(
            post("/v1/forms/whitepaper", {**lead, "title": "部長"}))))
        results.append(("form submit, duplicate", counter.measure(
            post("/v1/forms/whitepaper", {**lead, "title": "部長"}))))
        results.append(("form submit, known lead identifying a visitor (11 hits merged)", counter.measure(
            post("/v1/forms/contact", {**lead, "vid": vid}))))
        results.append(("form submit, known lead, visitor already identified", counter.measure(
            post("/v1/forms/demo", {**lead, "vid": vid, "phone": "03-0000-0000"}))))
        results.append(("beacon, identified visitor", counter.measure(
            post("/v1/events", {"vid": vid, "type": "page_view", "url": "https://example.jp/x"}, "text/plain"))))
    return results
