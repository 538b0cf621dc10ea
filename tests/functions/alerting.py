"""What tests of alerts and the CRM push run against: the local runtime's webhook receiver and kintone on a port
of their own, and the alerts queue's event source."""

import functools
import threading
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default
from typing import Any

from nurture.config.sales import KINTONE
from nurture.local import emulator
from nurture.local.functions import invoke
from nurture.local.gateway import Gateway, Page
from nurture.local.kintone import PATH as KINTONE_PATH
from nurture.local.kintone import KintoneFake
from nurture.local.queues import QueuePoller
from nurture.local.resources import LocalResources, point_webhooks_at
from nurture.local.webhooks import PATH, Received, WebhookReceiver
from nurture.settings import marketer_config

RESOURCES = LocalResources()


class Receiver:
    """The local webhook receiver and the local kintone on a port of their own; `failing` webhooks answer 500
    instead, `redirecting` ones a 302 to the receiver's listing (which a GET would reach)."""

    def __init__(self) -> None:
        self.webhooks = WebhookReceiver(RESOURCES.webhook_parameters)
        self.kintone = KintoneFake(RESOURCES.webhook_parameters,
                                   marketer_config().sales.crm.kintone)
        self.failing: set[str] = set()
        self.redirecting: set[str] = set()
        self.redirected = 0
        self.gateway = Gateway(("127.0.0.1", 0), self._page, self._receive)
        self.base = f"http://127.0.0.1:{self.gateway.server_address[1]}"
        self.url = f"{self.base}{PATH}"
        threading.Thread(target=self.gateway.serve_forever, daemon=True).start()

    def _receive(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Page | None:
        if path.rpartition("/")[2] in self.failing or (path.startswith(KINTONE_PATH) and KINTONE in self.failing):
            return Page(500, "text/plain", b"")
        if path.rpartition("/")[2] in self.redirecting:
            self.redirected += 1
            return Page(302, "text/plain", b"", {"Location": f"{self.url}/{path.rpartition('/')[2]}"})
        return self.webhooks.receive(method, path, headers, body) or self.kintone.receive(method, path, headers, body)

    def alerts(self) -> list[Received]:
        """What the alert webhooks received (not the CRM push's)."""
        return [post for post in self.webhooks.received() if post.webhook not in marketer_config().sales.crm.webhooks]

    def _page(self, path: str) -> Page | None:
        if path.rpartition("/")[2] in self.redirecting:
            self.redirected += 1  # a GET that followed the redirect
            return Page(200, "text/plain", b"")
        return self.webhooks.page(path)


def receiving() -> Iterator[Receiver]:
    """A receiver the config's webhooks and kintone connection point at, while it runs."""
    running = Receiver()
    webhooks = {webhook: f"{running.url}/{webhook}" for webhook in marketer_config().sales.webhooks}
    point_webhooks_at(RESOURCES, {**webhooks, KINTONE: f"{running.base}{KINTONE_PATH}"})
    yield running
    running.gateway.shutdown()
    running.gateway.server_close()


def notifier(retry_at_once: bool = False) -> QueuePoller:
    """The alerts queue's event source: one alert an invocation, as deployed."""
    return QueuePoller(RESOURCES.queue_url(RESOURCES.alert_queue), RESOURCES.region,
                       functools.partial(invoke, "notifier"), batch_size=1, retry_at_once=retry_at_once)


def alert_emails() -> list[Any]:
    return [message_from_bytes(email.raw, policy=default) for email in emulator.sent_emails(RESOURCES.region)
            if email.configuration_set is None]


