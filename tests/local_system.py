"""The real local system (`nurture local`) in a subprocess, talked to over HTTP: integration and e2e tests."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import boto3

from nurture.adapters.dynamo import from_item
from nurture.domain.activity import expand
from nurture.domain.text import email_key, normalize_email
from nurture.keys import EMAIL_CLAIM_SK, email_claim_pk
from nurture.local.cognito import USERS as CONSOLE_USERS
from nurture.local.runtime import free_port
from tests.conftest import REPO

STARTUP_SECONDS = 60


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


PERSONAL_FIELDS = ("email", "name", "phone")
EMAIL_ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# 03-1234-5678, 0312345678, +81-3-1234-5678, +81312345678; never inside a uuid or a longer number
PHONE_NUMBER = re.compile(r"(?<![\w.+-])(?:0\d{1,4}-\d{1,4}-\d{3,4}|0\d{9,10}|\+81-?\d{1,4}-?\d{1,4}-?\d{3,4})"
                          r"(?![\w-])")


# The emulator's console users, which `make run` prints on purpose so a developer can sign in: nobody's data.
CONSOLE_ACCOUNTS = set(CONSOLE_USERS.values())


def personal_data_in(log: str, known: set[str]) -> list[str]:
    """What in `log` is someone's personal data: a value the tests sent as an email, name or phone,
    or anything shaped like an email address or a Japanese phone number."""
    found = {value for value in known if value in log}
    found |= set(EMAIL_ADDRESS.findall(unquote(log))) | set(PHONE_NUMBER.findall(log))  # %40 is an @ too
    return sorted(found - CONSOLE_ACCOUNTS)


@dataclass
class RunningSystem:
    base_url: str
    port: int
    state_dir: Path
    process: subprocess.Popen[str]
    log: Path
    personal: set[str] = field(default_factory=set)  # what the tests sent that must never be logged

    def request(self, method: str, path: str, body: bytes | str | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            payload = body.encode() if isinstance(body, str) else body
            connection.request(method, path, body=payload, headers=headers or {})
            response = connection.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            connection.close()

    def post_json(self, path: str, payload: Any, headers: dict[str, str] | None = None) -> Reply:
        if isinstance(payload, dict):
            self.personal |= {str(payload[name]) for name in PERSONAL_FIELDS if payload.get(name)}
        return self.request("POST", path, json.dumps(payload),
                            {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})})

    def submit(self, path: str, payload: dict[str, Any]) -> str:
        """Post a form as a script would; the lead it reached, found by its address (the answer never names it)."""
        reply = self.post_json(path, payload)
        assert reply.status == 202, reply.body
        lead_id = self.lead_id(str(payload["email"]))
        assert lead_id is not None
        return lead_id

    def lead_id(self, address: str) -> str | None:
        """The lead that owns an address, from its email claim, as sales tooling would look it up."""
        claims = self.items(email_claim_pk(email_key(normalize_email(address))), EMAIL_CLAIM_SK)
        return str(claims[0]["lead_id"]) if claims else None

    def state(self) -> dict[str, Any]:
        return json.loads((self.state_dir / "local.json").read_text(encoding="utf-8"))

    def items(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]:
        state = self.state()
        dynamodb = boto3.client("dynamodb", endpoint_url=state["emulator_url"], region_name=state["region"])
        found = dynamodb.query(TableName=state["table_name"], KeyConditionExpression="PK = :pk",
                               ExpressionAttributeValues={":pk": {"S": pk}})["Items"]
        return [from_item(i) for i in found if i["SK"]["S"].startswith(sk_prefix)]

    def events(self, pk: str) -> list[dict[str, Any]]:
        """The activity under `pk` as its readers see it: a beacon request's batch item as its events."""
        return [event for item in self.items(pk, "EVT#") for event in expand(item)]

    def item_count(self) -> int:
        """Items in the whole table once the stream consumers are idle (tests run one at a time)."""
        state = self.state()
        dynamodb = boto3.client("dynamodb", endpoint_url=state["emulator_url"], region_name=state["region"])

        def count() -> int:
            pages = dynamodb.get_paginator("scan").paginate(TableName=state["table_name"], Select="COUNT")
            return sum(page["Count"] for page in pages)

        previous, deadline = count(), time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(0.6)  # a few poll intervals: scoring and handoff of earlier requests land
            current = count()
            if current == previous:
                return current
            previous = current
        return previous

    def partitions(self) -> set[str]:
        """The table's partition keys (leads, addresses, visitors, guards, counters ...)."""
        state = self.state()
        dynamodb = boto3.client("dynamodb", endpoint_url=state["emulator_url"], region_name=state["region"])
        pages = dynamodb.get_paginator("scan").paginate(TableName=state["table_name"], ProjectionExpression="PK")
        return {item["PK"]["S"] for page in pages for item in page["Items"]}

    def alert_email(self, lead_id: str, address: str, containing: str = "") -> str | None:
        """The outbox's alert about this lead to this salesperson's address (saying this), if it has come."""
        index = self.request("GET", "/_outbox").body.decode()
        for number in re.findall(r"href='/_outbox/(\d+)'", index):
            page = self.request("GET", f"/_outbox/{number}").body.decode()
            if f"/v1/leads/{lead_id}" in page and address in page and containing in page:
                return page
        return None

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "nurture.cli.main", *args], cwd=REPO, text=True,
                              capture_output=True, env=_env(self.state_dir, self.port), timeout=60, check=False)

    def stop_and_check_logs(self) -> None:
        """Stop the system; fail if its log (every function's lines) holds anyone's personal data."""
        leaked = personal_data_in(self.stop(), self.personal)
        assert not leaked, f"personal data in the local system's log ({self.log}): {leaked[:10]}"

    def stop(self) -> str:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.send_signal(signal.SIGUSR1)  # every thread's stack, into the log
            time.sleep(1)
            self.process.kill()
            stacks = self.log.read_text(encoding="utf-8").split("Thread 0x", 1)[-1]
            raise AssertionError(f"nurture local did not stop within 30 s; its threads:\nThread 0x{stacks}") from None
        return self.log.read_text(encoding="utf-8")


def _env(state_dir: Path, port: int) -> dict[str, str]:
    return {**os.environ, "NURTURE_STATE_DIR": str(state_dir), "PORT": str(port)}


def start_system(state_dir: Path, *extra: str, port: int | None = None, config_dir: Path | None = None
                 ) -> RunningSystem:
    """`nurture local` with these options (and another config folder than config/)."""
    port = port or free_port("127.0.0.1")
    state_dir.mkdir(parents=True, exist_ok=True)
    log = state_dir / f"local-{port}.log"
    # To a file, not a pipe: a pipe nobody reads fills up and blocks the system's logging.
    with log.open("a", encoding="utf-8") as sink:
        configured = ["--config-dir", str(config_dir)] if config_dir else []
        process = subprocess.Popen([sys.executable, "-m", "nurture.cli.main", *configured, "local", *extra], cwd=REPO,
                                   text=True,
                                   stdout=sink, stderr=subprocess.STDOUT, env=_env(state_dir, port))
    system = RunningSystem(f"http://127.0.0.1:{port}", port, state_dir, process, log)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nurture local exited early:\n{log.read_text(encoding='utf-8')}")
        if (state_dir / "local.json").exists():
            try:
                if system.request("GET", "/v1/openapi.json").status == 200:
                    return system
            except OSError:
                pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("nurture local did not come up in time")


def wait_for(predicate: Callable[[], Any], seconds: float = 90, every: float = 0.3) -> Any:
    """The predicate's first truthy answer, asked `every` so often: what the system does in the background
    (stream consumers, the scheduler, the sender) lands a moment after the request that caused it."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(every)
    raise AssertionError("timed out waiting")
