"""`nurture local`: the whole system on this machine, on moto's server as the AWS emulator."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import os
import shutil
import socket
import tempfile
import threading
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import yaml
from moto.server import ThreadedMotoServer

from nurture.adapters.aws import reset_clients
from nurture.adapters.material_store import S3Materials
from nurture.config.loader import read_config_files
from nurture.config.materials import shipped_materials
from nurture.config.sales import KINTONE
from nurture.config.versions import deployed_version
from nurture.domain.clock import iso
from nurture.domain.console.page import security_headers
from nurture.local import emulator
from nurture.local.cognito import (
    CONSOLE_PATH,
    CONSOLE_SETTINGS,
    TokenCheck,
    console_settings,
    create_console_pool,
)
from nurture.local.functions import invoke
from nurture.local.gateway import Gateway, Page, index_page
from nurture.local.kintone import PATH as KINTONE_PATH
from nurture.local.kintone import KintoneFake
from nurture.local.outbox import Outbox
from nurture.local.queues import QueuePoller, Repeater, scheduled_event
from nurture.local.replies import receive as receive_reply
from nurture.local.resources import LocalResources, create_resources, point_webhooks_at
from nurture.local.ses_publisher import EventPublisher, delivery_records
from nurture.local.site import StaticSite
from nurture.local.state import LocalState
from nurture.local.streams import StreamPoller
from nurture.local.webhooks import PATH as WEBHOOKS
from nurture.local.webhooks import WebhookReceiver
from nurture.settings import marketer_config, reload

logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto server: one line per AWS call is noise
# A pixel or a preflight publishes no metric; Powertools warns each time, which floods a terminal.
warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)

SNAPSHOT = "snapshot.json"
DEPLOYED_KEY = "deployed.json"  # where the local config bucket keeps version 1 (AWS: the stack's config asset)
ALERT_BACKLOG = 20  # alert and CRM jobs the local notifier takes in a row before the repeater's next turn
STREAM_POLL_SECONDS = 0.25  # Lambda polls a stream about four times a second
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local"}


def free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def any_time_config(config_dir: Path, into: Path) -> Path:
    """A copy of the config whose send window is always open, for trying step emails at any hour."""
    shutil.copytree(config_dir, into, dirs_exist_ok=True)
    path = into / "sequences.yaml"
    sequences = yaml.safe_load(path.read_text(encoding="utf-8"))
    sequences["send_window"] = {**sequences.get("send_window", {}), "start": "00:00", "end": "23:59",
                                "business_days_only": False, "holidays": None, "closed_dates": []}
    path.write_text(yaml.safe_dump(sequences, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return into


class LocalSystem:
    def __init__(self, config_dir: Path, host: str = "127.0.0.1", port: int = 3000, persist: Path | None = None,
                 tick_seconds: float = 5.0, send_any_time: bool = False, site: StaticSite | None = None):
        self._scratch = Path(tempfile.mkdtemp(prefix="nurture-local-"))
        self.config_dir = any_time_config(config_dir, self._scratch / "config") if send_any_time \
            else config_dir.resolve()
        self.host = host
        self.port = port
        self.persist = persist
        self.tick_seconds = tick_seconds
        self.resources = LocalResources()
        self.outbox_dir = (persist / "outbox") if persist else self._scratch / "outbox"
        self.site = site or StaticSite([])
        self._threads: list[threading.Thread] = []
        self._repeaters: list[Repeater] = []

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> LocalState:
        emulator_port = free_port(self.host)
        emulator.install()
        self._moto = ThreadedMotoServer(ip_address=self.host, port=emulator_port, verbose=False)
        self._moto.start()
        emulator_url = f"http://{self.host}:{emulator_port}"
        # The handlers run in this process and read these, exactly as in Lambda.
        os.environ.update({**FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": emulator_url,
                           **self.resources.environment(str(self.config_dir), self.gateway_url)})
        os.environ.pop("AWS_PROFILE", None)
        reset_clients()
        reload()
        create_resources(self.resources)
        self.console = create_console_pool(boto3.session.Session(region_name=self.resources.region))
        self._emulator_url = emulator_url
        if self.persist:
            self._restore()
        self._ship_config()
        consumers = {name: functools.partial(invoke, name) for name in ("scoring", "handoff")}
        self.poller = StreamPoller(self.resources.table_name, self.resources.region, consumers,
                                   on_delivered=emulator.stream_trimmer(self.resources.table_name,
                                                                        self.resources.region))
        self._repeaters = [Repeater("stream-poller", STREAM_POLL_SECONDS, self.poller.poll_once)]
        ses = EventPublisher(self.resources.configuration_set_arn, self.resources.region)
        # SES, as it would: Send and Delivery events for each email it accepted, once, whoever saw it first.
        self.outbox = Outbox(self.outbox_dir, self.resources.region, lambda email: ses.publish(
            *delivery_records(email, self.resources.configuration_set, datetime.now(UTC)))
            if email.configuration_set else None,  # alerts to salespeople are sent without one
            lambda raw: receive_reply(raw, self.resources))
        self._start_step_emails()
        sales = marketer_config().sales
        self.webhooks = WebhookReceiver(self.resources.webhook_parameters)
        self.kintone = KintoneFake(self.resources.webhook_parameters, sales.crm.kintone)
        self.gateway = Gateway((self.host, self.port), self._page, lambda *request: (
            self.webhooks.receive(*request) or self.kintone.receive(*request) or
            self.outbox.reply(request[0], request[1], request[3])), TokenCheck(self.console, emulator_url))
        self.port = self.gateway.server_address[1]
        point_webhooks_at(self.resources, {**{webhook: f"{self.gateway_url}{WEBHOOKS}/{webhook}"
                                              for webhook in sales.webhooks},
                                           KINTONE: f"{self.gateway_url}{KINTONE_PATH}"})
        thread = threading.Thread(target=self.gateway.serve_forever, name="gateway", daemon=True)
        thread.start()
        self._threads.append(thread)
        state = LocalState(gateway_url=self.gateway_url, emulator_url=emulator_url, region=self.resources.region,
                           table_name=self.resources.table_name,
                           signing_key_parameter=self.resources.signing_key_parameter,
                           config_dir=str(self.config_dir), pid=os.getpid())
        state.save()
        return state

    def _ship_config(self) -> None:
        """What `cdk deploy` does with the config: it becomes version 1, the one active until a push, and its
        `assets/` go to the materials bucket."""
        shipped = deployed_version(read_config_files(self.config_dir), "nurture local", iso(datetime.now(UTC)))
        s3 = boto3.session.Session(region_name=self.resources.region).client("s3")
        s3.put_object(Bucket=self.resources.config_bucket, Key=DEPLOYED_KEY, Body=shipped.to_json().encode("utf-8"))
        materials = S3Materials(self.resources.materials_bucket, s3)
        for name, path in shipped_materials(self.config_dir).items():
            materials.put(name, path.read_bytes())

    def _start_step_emails(self) -> None:
        """The scheduler's tick runs the dispatcher; the send queue feeds the sender; the outbox fills."""
        region = self.resources.region
        sender = QueuePoller(self.resources.queue_url(self.resources.send_queue), region,
                             functools.partial(invoke, "sender"))

        ses_events = QueuePoller(self.resources.queue_url(self.resources.ses_events_queue), region,
                                 functools.partial(invoke, "ses_events"))

        # Segment scans: one part a message, as the deployed event source (batch size 1) hands them over.
        audience = QueuePoller(self.resources.queue_url(self.resources.audience_queue), region,
                               functools.partial(invoke, "audience"), batch_size=1)

        # Alerts to salespeople, one a message as deployed: emails land in the outbox, webhooks at the local receiver.
        notifier = QueuePoller(self.resources.queue_url(self.resources.alert_queue), region,
                               functools.partial(invoke, "notifier"), batch_size=1)

        def collecting(poller: QueuePoller, backlog: int = 1) -> Callable[[], None]:
            """Polls, up to `backlog` in a row while messages come, then what SES accepted into the outbox."""
            def poll() -> None:
                polled = 0
                while polled < backlog and poller.poll_once():
                    polled += 1
                if polled:
                    self.outbox.collect()
            return poll

        self._repeaters += [
            Repeater("scheduler", self.tick_seconds, lambda: invoke("dispatcher", scheduled_event(region))),
            Repeater("send-queue", 0.5, collecting(sender)),
            # Deployed, the notifier scales out on a backlog; here one job at a time, each taken as soon as the
            # last is done, so one owner's alerts do not wait behind another's CRM push.
            Repeater("alert-queue", 0.2, collecting(notifier, backlog=ALERT_BACKLOG)),
            Repeater("ses-events-queue", 0.5, ses_events.poll_once),
            Repeater("audience-queue", 0.2, audience.poll_once),
        ]
        for repeater in self._repeaters:
            repeater.start()

    def _page(self, path: str) -> Page | None:
        if path == "/":
            return index_page(self.urls())
        if path == "/_outbox" or path.startswith("/_outbox/"):
            return self.outbox.page(path)
        if path.startswith(WEBHOOKS):
            return self.webhooks.page(path)
        if path.startswith(KINTONE_PATH):
            return self.kintone.page(path)
        if path == CONSOLE_SETTINGS:
            return console_settings(self.console, self._emulator_url)
        page = self.site.page(path)
        if page is not None and path.startswith(CONSOLE_PATH):
            # As CloudFront serves it in AWS: the same security headers, the emulator being its Cognito here.
            return dataclasses.replace(page, headers={**page.headers, **security_headers(self._emulator_url)})
        return page

    def urls(self) -> dict[str, str]:
        base = self.gateway_url
        return {
            "Demo site (日本語)": f"{base}/demo/",
            "Demo site (English)": f"{base}/demo/en/",
            "API docs (Swagger UI)": f"{base}/v1/docs",
            "OpenAPI document": f"{base}/v1/openapi.json",
            "Form endpoint (contact)": f"{base}/v1/forms/contact",
            "Tracking beacon": f"{base}/v1/events",
            "Mail outbox": f"{base}/_outbox",
            "Webhooks received": f"{base}{WEBHOOKS}",
            "kintone app (local)": f"{base}{KINTONE_PATH}",
            "Console": f"{base}{CONSOLE_PATH}",
        }

    def stop(self) -> None:
        if self.persist:
            self._snapshot()
        self.gateway.shutdown()
        self.gateway.server_close()
        for repeater in self._repeaters:
            repeater.stop()
        self._moto.stop()
        LocalState.clear()
        shutil.rmtree(self._scratch, ignore_errors=True)  # the in-memory outbox and any derived config

    # --- --persist: a plain JSON snapshot of the table and the signing key ----------------------

    def _snapshot(self) -> None:
        assert self.persist is not None
        session = boto3.session.Session(region_name=self.resources.region)
        dynamodb = session.client("dynamodb")
        items: list[dict[str, Any]] = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=self.resources.table_name):
            items += page["Items"]
        key = session.client("ssm").get_parameter(Name=self.resources.signing_key_parameter, WithDecryption=True)
        s3, bucket = session.client("s3"), self.resources.config_bucket
        config = {item["Key"]: s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode("utf-8")
                  for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                  for item in page.get("Contents", []) if item["Key"] != DEPLOYED_KEY}
        self.persist.mkdir(parents=True, exist_ok=True)
        (self.persist / SNAPSHOT).write_text(json.dumps({"items": items, "token_key": key["Parameter"]["Value"],
                                                         "config": config}), encoding="utf-8")

    def _restore(self) -> None:
        assert self.persist is not None
        path = self.persist / SNAPSHOT
        if not path.exists():
            return
        snapshot = json.loads(path.read_text(encoding="utf-8"))
        session = boto3.session.Session(region_name=self.resources.region)
        session.client("ssm").put_parameter(Name=self.resources.signing_key_parameter, Type="SecureString",
                                            Value=snapshot["token_key"], Overwrite=True)
        for key, body in snapshot.get("config", {}).items():  # pushed config versions and the active pointer
            session.client("s3").put_object(Bucket=self.resources.config_bucket, Key=key, Body=body.encode("utf-8"))
        dynamodb = session.client("dynamodb")
        items = snapshot["items"]
        for start in range(0, len(items), 25):
            request = {self.resources.table_name: [{"PutRequest": {"Item": item}} for item in items[start:start + 25]]}
            while request:
                request = dynamodb.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}
