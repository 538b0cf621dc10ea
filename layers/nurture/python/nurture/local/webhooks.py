"""The local webhook receiver, `/_webhooks`: takes what the notifier posts to `/_webhooks/<webhook id>`, checks each
signature against the secret in that webhook's parameter (as a real receiver would), and lists what came."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from html import escape
from typing import Any

from nurture.adapters.aws import client
from nurture.domain.sales.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    signature_valid,
    target_from_parameter,
)
from nurture.local.gateway import Page

PATH = "/_webhooks"


@dataclass(frozen=True)
class Received:
    webhook: str
    at: float
    event: str
    delivery: str
    signature_valid: bool
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    def __init__(self, parameter_prefix: str):
        self._prefix = parameter_prefix.rstrip("/")
        self._received: list[Received] = []
        self._lock = threading.Lock()

    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def receive(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Page | None:
        """A POST to `/_webhooks/<id>`: 204 when its signature holds, 401 when not (it is listed either way)."""
        webhook = path.removeprefix(f"{PATH}/")
        if method != "POST" or not path.startswith(f"{PATH}/") or not webhook or "/" in webhook:
            return None
        now = int(time.time())
        secret = stored_secret(self._prefix, webhook)
        valid = secret is not None and signature_valid(secret, headers.get(SIGNATURE_HEADER.lower()), body, now)
        with self._lock:
            self._received.append(Received(webhook, time.time(), headers.get(EVENT_HEADER.lower(), ""),
                                           headers.get(DELIVERY_HEADER.lower(), ""), valid, body))
        return Page(204 if valid else 401, "text/plain; charset=utf-8", b"")

    def page(self, path: str) -> Page | None:
        """`/_webhooks` lists what came, newest first; `/_webhooks.json` is the same for scripts."""
        if path == f"{PATH}.json":
            listed = [{"webhook": r.webhook, "event": r.event, "delivery": r.delivery,
                       "signature_valid": r.signature_valid, "body": r.json()} for r in reversed(self.received())]
            return Page(200, "application/json", json.dumps(listed, ensure_ascii=False).encode())
        if path.rstrip("/") != PATH:
            return None
        rows = "".join(
            f"<tr><td>{escape(time.strftime('%H:%M:%S', time.localtime(r.at)))}</td><td>{escape(r.webhook)}</td>"
            f"<td>{escape(r.event)}</td><td>{escape(r.delivery)}</td>"
            f"<td>{'valid' if r.signature_valid else '<strong>INVALID</strong>'}</td>"
            f"<td><pre>{escape(json.dumps(r.json(), ensure_ascii=False, indent=1)[:4000])}</pre></td></tr>"
            for r in reversed(self.received()))
        empty = "" if rows else "<p>Nothing yet: a hot lead whose owner has a webhook channel posts here.</p>"
        html = (f"<!doctype html><html><head><meta charset='utf-8'><title>Webhooks</title></head><body>"
                f"<h1>Webhooks received</h1><p>{len(self.received())} post(s), newest first. Each signature is "
                f"checked with the secret in SSM under {escape(self._prefix)}/&lt;id&gt;.</p>{empty}<table>"
                f"<tr><th>At</th><th>Webhook</th><th>Event</th><th>Delivery</th><th>Signature</th><th>Body</th></tr>"
                f"{rows}</table></body></html>")
        return Page(200, "text/html; charset=utf-8", html.encode())


def stored_secret(prefix: str, parameter_id: str) -> str | None:
    """The secret in `<prefix>/<id>` (a webhook's signing secret, kintone's API token), as a receiver checks it."""
    ssm = client("ssm")
    try:
        name = f"{prefix.rstrip('/')}/{parameter_id}"
        value = ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None
    target = target_from_parameter(value)
    return target.signing_secret if target else None

