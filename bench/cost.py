"""What Nurture costs at AWS list prices (bench/prices.yaml), from the calls it makes and how long it runs.

A `Meter` watches the real handlers on the emulator: every invocation (its measured duration, scaled to
the function's share of a vCPU), every AWS call they make (DynamoDB request units from the stored items'
sizes, SQS requests, SES emails), and every byte they log. What AWS does around the handlers is billed
by rule: an API Gateway request per API invocation, a Scheduler invocation per tick, the SQS event
source's receive and delete per batch. Usage is kept per function, keyed by the price it is billed at.
"""

from __future__ import annotations

import io
import math
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from bench.calls import REPO

PRICES = Path(__file__).with_name("prices.yaml")
ACCOUNT = "123456789012"  # moto's account
MONTH_MINUTES = 30 * 24 * 60  # the dispatcher ticks every minute
GB = 1024**3
OBSERVABILITY = ("xray_trace", "logs_gb_ingested")  # what tells you how it runs, not what it does
OUTSIDE = {"sns": "SES event publishing", "sqs": "sales tooling"}  # calls no function makes, billed to the account


class Price(BaseModel):
    model_config = ConfigDict(extra="forbid")
    usd: float
    per: float
    what: str
    source: str


class Assumption(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: float
    why: str
    source: str


class PriceList(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: str
    prices: dict[str, Price]
    assumptions: dict[str, Assumption]

    @classmethod
    def load(cls, path: Path = PRICES) -> PriceList:
        return cls.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))

    def assume(self, name: str) -> float:
        return self.assumptions[name].value

    def bill(self, usage: Mapping[str, float]) -> dict[str, float]:
        """Dollars per price line; usage keyed by a price that does not exist is a mistake, not free."""
        unknown = set(usage) - set(self.prices)
        if unknown:
            raise KeyError(f"usage without a price: {sorted(unknown)}")
        return {name: usage[name] * price.usd / price.per for name, price in self.prices.items() if usage.get(name)}


class Amounts(defaultdict[str, float]):
    """Quantities by name (usage by price, calls by operation); a missing one is zero."""

    def __init__(self, values: Mapping[str, float] | None = None):
        super().__init__(float, values or {})

    def add(self, other: Mapping[str, float], factor: float = 1.0) -> None:
        for name, amount in other.items():
            self[name] += amount * factor

    def times(self, factor: float) -> Amounts:
        return Amounts({name: amount * factor for name, amount in self.items()})


def write_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def read_units(size: int, consistent: bool) -> float:
    return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)


class Meter:
    """Counts what the handlers use, per function; install it around the run it measures."""

    def __init__(self, prices: PriceList):
        self.prices = prices
        self.usage: defaultdict[str, Amounts] = defaultdict(Amounts)
        self.calls: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.invocations: Counter[str] = Counter()
        self.items: Counter[str] = Counter()  # records or messages handed to the function
        self.local_seconds = Amounts()
        self._owner: str | None = None
        self._overhead = 0.0  # the meter's own time inside the current invocation, not billed

    # --- installing -----------------------------------------------------------------------

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Every botocore client made from now on reports its calls (as moto hooks in), and every
        invocation of a local function reports its duration."""
        import boto3
        from botocore import handlers

        from nurture.local.functions import invocations_observed

        hooks = [("before-parameter-build", self._remember_parameters), ("after-call", self._count_call)]
        handlers.BUILTIN_HANDLERS.extend(hooks)
        boto3.DEFAULT_SESSION = None  # a session made before now would not have the hooks
        try:
            with invocations_observed(self._count_invocation):
                yield
        finally:
            for hook in hooks:
                handlers.BUILTIN_HANDLERS.remove(hook)
            boto3.DEFAULT_SESSION = None

    @contextmanager
    def owner(self, name: str) -> Iterator[None]:
        """Bill what runs inside to `name` instead of the function (a tick measured apart)."""
        self._owner = name
        try:
            yield
        finally:
            self._owner = None

    def reset(self) -> None:
        for table in (self.usage, self.calls):
            table.clear()
        for counter in (self.invocations, self.items):
            counter.clear()
        self.local_seconds.clear()

    # --- invocations ------------------------------------------------------------------------

    def _count_invocation(self, function: str, event: dict[str, Any], seconds: float) -> None:
        from nurture.topology import FUNCTIONS

        spec = FUNCTIONS[function]
        owner = self._owner or function
        local = max(0.0, seconds - self._overhead)
        self._overhead = 0.0
        on_lambda_ms = math.ceil(local * 1000 * self.prices.assume("memory_mb_per_vcpu") / spec.memory_mb)
        usage = self.usage[owner]
        usage["lambda_request"] += 1
        usage["lambda_arm64_gb_second"] += on_lambda_ms / 1000 * spec.memory_mb / 1024
        usage["xray_trace"] += self.prices.assume("xray_sampled_share")
        usage["logs_gb_ingested"] += self.prices.assume("platform_log_bytes_per_invocation") / GB
        if spec.trigger == "api":
            usage["api_gateway_request"] += 1
        elif spec.trigger == "schedule":
            usage["scheduler_invocation"] += 1
        elif spec.trigger == "queue":
            usage["sqs_request"] += 2  # the event source's receive, and its delete of the batch
        self.invocations[owner] += 1
        self.items[owner] += len(event.get("Records", [])) or 1
        self.local_seconds[owner] += local

    def log_bytes(self, size: int) -> None:
        """Bytes a function wrote to its log (or metrics), billed as CloudWatch Logs ingestion."""
        owner = self._running()
        if owner is not None:
            self.usage[owner]["logs_gb_ingested"] += size / GB

    # --- AWS calls --------------------------------------------------------------------------

    def _running(self) -> str | None:
        from nurture.local.functions import running

        function = running.get()
        return None if function is None else self._owner or function

    def _remember_parameters(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["metered_parameters"] = params

    def _count_call(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        started = time.perf_counter()
        self._bill_call(model.service_model.service_name, model.name, context.get("metered_parameters", {}), parsed)
        if self._running() is not None:
            self._overhead += time.perf_counter() - started

    def _bill_call(self, service: str, operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        error = parsed.get("Error", {}).get("Code", "")
        if error and error not in ("ConditionalCheckFailedException", "TransactionCanceledException"):
            return  # refused before any work (throttled, invalid): not billed
        owner = self._running()
        if owner is None:  # SES publishing its events, sales tooling polling the handoff queue
            if (service, operation) == ("sns", "Publish") or str(params.get("QueueUrl", "")).endswith(".fifo"):
                owner = OUTSIDE[service]
            else:
                return  # setting up, or the emulator's stand-ins for event sources (billed per invocation)
        self.calls[owner][f"{service} {operation}"] += 1
        usage = self.usage[owner]
        if service == "dynamodb":
            usage.add(self._request_units(operation, params, parsed))
        elif service == "sqs":
            usage["sqs_fifo_request" if str(params.get("QueueUrl", "")).endswith(".fifo") else "sqs_request"] += 1
        elif service == "sesv2" and operation == "SendEmail":
            usage["ses_email"] += len(params.get("Destination", {}).get("ToAddresses", [])) or 1
        elif service == "secretsmanager":
            usage["secretsmanager_call"] += 1
        elif service == "sns" and operation == "Publish":
            usage["sns_publish"] += 1
            usage["sqs_request"] += 1  # SNS's delivery into the SES events queue is a SendMessage

    # --- DynamoDB request units, from the sizes of the items as stored --------------------

    def _request_units(self, operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> Amounts:
        units = Amounts()
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            units["dynamodb_write_unit"] += write_units(self._size(params["TableName"], params.get("Key")
                                                                   or params["Item"]))
        elif operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    written = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
                    units["dynamodb_write_unit"] += write_units(self._size(table, written))
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                (action,) = entry.values()
                units["dynamodb_write_unit"] += 2 * write_units(self._size(action["TableName"], action.get("Key")
                                                                           or action["Item"]))
        elif operation == "GetItem":
            units["dynamodb_read_unit"] += read_units(self._size(params["TableName"], params["Key"]),
                                                      params.get("ConsistentRead", False))
        elif operation == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                for key in request["Keys"]:
                    units["dynamodb_read_unit"] += read_units(self._size(table, key),
                                                              request.get("ConsistentRead", False))
        elif operation in ("Query", "Scan"):
            # A page is billed on the items it read; a projection or a filter hides some of that, so the
            # full stored item is used where the page returned its key.
            size = sum(self._size(params["TableName"], item) for item in parsed.get("Items", []))
            consistent = params.get("ConsistentRead", False) and "IndexName" not in params
            units["dynamodb_read_unit"] += read_units(size, consistent)
        return units

    def _size(self, table_name: str, item: dict[str, Any]) -> int:
        """The stored item's size by DynamoDB's rules (names plus values), found by the key `item`
        holds; an item no longer stored (deleted, or never there) counts as small."""
        from moto.dynamodb.models import dynamodb_backends
        from moto.dynamodb.models.dynamo_type import DynamoType

        from nurture.local.resources import LocalResources

        table = dynamodb_backends[ACCOUNT][LocalResources().region].get_table(table_name)
        hash_key, range_key = table.hash_key_attr, table.range_key_attr
        if hash_key not in item or (range_key and range_key not in item):
            return _attribute_bytes(item)  # a projected index item: what came back is what is known
        stored = table.get_item(DynamoType(item[hash_key]), DynamoType(item[range_key]) if range_key else None)
        return stored.size() if stored is not None else 0

    def table_bytes(self, table_name: str) -> int:
        """What DynamoDB bills storage on: every item plus 100 bytes of overhead."""
        from moto.dynamodb.models import dynamodb_backends

        from nurture.local.resources import LocalResources

        table = dynamodb_backends[ACCOUNT][LocalResources().region].get_table(table_name)
        return sum(item.size() + 100 for item in table.all_items())

    # --- totals -----------------------------------------------------------------------------

    def total(self) -> Amounts:
        summed = Amounts()
        for usage in self.usage.values():
            summed.add(usage)
        return summed


def _attribute_bytes(item: dict[str, Any]) -> int:
    from bench.dispatch import item_size

    return item_size(item)


class MeteredLog(io.TextIOBase):
    """A log stream that bills what each function writes to it and keeps the text for a privacy check."""

    def __init__(self, meter: Meter, keep: io.TextIOBase):
        self._meter = meter
        self._keep = keep

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._meter.log_bytes(len(text.encode()))
        return self._keep.write(text)


def split(bill: Mapping[str, float]) -> tuple[float, float]:
    """(what runs the product, what observes it) in dollars."""
    observing = sum(usd for name, usd in bill.items() if name in OBSERVABILITY)
    return sum(bill.values()) - observing, observing


# --- the scenarios ----------------------------------------------------------------------------

HITS = 200  # of each kind: enough for stable averages, quick on the emulator
IDLE_TICK = "dispatcher tick, nothing due"


IDLE_TICKS = 5


@dataclass
class FreshAccount:
    usage: dict[str, Amounts]  # per kind of hit (and the idle tick), the usage of one
    calls: dict[str, Amounts]  # per kind of hit (and the idle tick), AWS calls of one, by function


def on_a_fresh_account(prices: PriceList) -> FreshAccount:
    """A dispatcher tick with nothing due; then beacons of one page view each: from identified visitors
    (stored on the lead, then scored), one at a time as the stream delivers them below a hit a second
    (its 1 s batching window) and in bursts of 100; and from anonymous visitors (stored under the visitor,
    not scored until it identifies)."""
    import functools
    import json
    import os
    import uuid
    import warnings
    from unittest import mock

    from moto import mock_aws

    from nurture.adapters.aws import reset_clients
    from nurture.local import emulator
    from nurture.local.functions import api_request, invoke
    from nurture.local.log import functions_logging
    from nurture.local.queues import scheduled_event
    from nurture.local.resources import LocalResources, create_resources
    from nurture.local.streams import StreamPoller
    from nurture.settings import reload

    resources = LocalResources()
    meter = Meter(prices)
    environment = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                   "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "POWERTOOLS_METRICS_DISABLED": "false",
                   **resources.environment(str(REPO / "config"))}
    emulator.install()
    usage: dict[str, Amounts] = {}
    calls: dict[str, Amounts] = {}
    log = MeteredLog(meter, io.StringIO())
    with mock.patch.dict(os.environ, environment), mock_aws(), meter.installed(), functions_logging(log), \
            warnings.catch_warnings():
        os.environ.pop("AWS_ENDPOINT_URL", None)
        warnings.simplefilter("ignore")  # Powertools: "no application metrics" from an invocation with none
        create_resources(resources)
        reset_clients()
        reload()
        streams = StreamPoller(resources.table_name, resources.region,
                               {name: functools.partial(invoke, name) for name in ("scoring", "handoff")},
                               on_delivered=emulator.stream_trimmer(resources.table_name, resources.region))

        def accepted(method: str, path: str, payload: dict[str, Any], content_type: str) -> None:
            response = api_request(method, path, headers={"content-type": content_type},
                                   body=json.dumps(payload).encode())
            if response is None or response["statusCode"] >= 300:  # a refused hit costs less: not what is measured
                raise RuntimeError(f"{path} refused the benchmark's request: {response}")

        def beacon(vid: str, n: int) -> None:
            accepted("POST", "/v1/events", {"vid": vid, "type": "page_view", "url": f"https://example.jp/p{n}"},
                     "text/plain")

        visitors = [f"bench-{uuid.uuid4().hex[:12]}" for _ in range(10)]
        for n, vid in enumerate(visitors):  # leads whose visitors are identified; warms every handler up
            accepted("POST", "/v1/forms/contact", {"email": f"hits{n}@example.jp", "name": "B", "company": "C",
                                                   "consent": True, "vid": vid}, "application/json")
            beacon(vid, 0)
        streams.poll_once()

        def measured(kind: str, run: Callable[[], None], times: int = HITS) -> None:
            meter.reset()
            run()
            usage[kind] = meter.total().times(1 / times)
            calls[kind] = Amounts({f"{owner}: {call}": n / times for owner, counted in meter.calls.items()
                                   for call, n in counted.items()})

        def idle_ticks() -> None:
            for _ in range(IDLE_TICKS):
                invoke("dispatcher", scheduled_event(resources.region))

        def one_at_a_time() -> None:
            for n in range(HITS):
                beacon(visitors[n % len(visitors)], n)
                streams.poll_once()

        def in_bursts() -> None:
            for burst in range(0, HITS, 100):
                for n in range(burst, burst + 100):
                    beacon(visitors[n % len(visitors)], n)
                streams.poll_once()

        def anonymous() -> None:
            for n in range(HITS):
                beacon(f"anonymous-{n % 50:04d}", n)
            streams.poll_once()

        measured(IDLE_TICK, idle_ticks, IDLE_TICKS)
        measured("identified visitor, scored one at a time", one_at_a_time)
        measured("identified visitor, scored in batches of 100", in_bursts)
        measured("anonymous visitor", anonymous)
    reset_clients()
    return FreshAccount(usage, calls)


@dataclass
class MonthCosts:
    simulated_leads: int
    days: int
    usage: Amounts  # for LEADS_PER_MONTH leads
    by_owner: dict[str, Amounts]  # as simulated (not scaled)
    calls: dict[str, Counter[str]]
    invocations: Counter[str]
    items: Counter[str]
    local_seconds: Amounts
    log_text: str
    report: dict[str, Any]
    wall_seconds: float


LEADS_PER_MONTH = 10_000


def per_month(prices: PriceList, idle_tick: Amounts, leads: int = 1_000, days: int = 30) -> MonthCosts:
    """`simulate` with the meter on: the leads' first month (sign-ups, the first steps: the busiest),
    scaled to LEADS_PER_MONTH. The simulation ticks every 15 minutes, AWS every minute: the idle part of
    a tick (`idle_tick`) is billed for every minute of the month, and the simulated ticks' share of it
    is not scaled with the leads. Storage is the table as the month left it."""
    from nurture.local.resources import LocalResources
    from nurture.local.simulation import simulate

    meter = Meter(prices)
    kept = io.StringIO()
    storage: list[int] = []
    started = time.perf_counter()
    with meter.installed():
        report = simulate(REPO / "config", leads, days, seed=1, start=date(2026, 4, 20),
                          logs=MeteredLog(meter, kept),  # type: ignore[arg-type]
                          inspect=lambda: storage.append(meter.table_bytes(LocalResources().table_name)))
    wall_seconds = time.perf_counter() - started
    variable = meter.total()
    variable.add(idle_tick, -meter.invocations["dispatcher"])
    usage = variable.times(LEADS_PER_MONTH / leads)
    usage.add(idle_tick, MONTH_MINUTES)
    usage["sqs_request"] += 2 * prices.assume("idle_receives_per_queue_month")
    usage["secretsmanager_secret_month"] += 1
    usage["dynamodb_storage_gb_month"] += storage[0] * LEADS_PER_MONTH / leads / GB
    return MonthCosts(leads, days, usage, dict(meter.usage), dict(meter.calls), meter.invocations, meter.items,
                      meter.local_seconds, kept.getvalue(), report.to_json(), wall_seconds)



# --- what `make bench` writes -----------------------------------------------------------------

HEADLINE = "identified visitor, scored one at a time"
PER_ITEM = {  # function: what one of its items is
    "forms": "form request", "tracking": "tracking request", "scoring": "stream record",
    "handoff": "stream record", "dispatcher": "tick", "sender": "send", "ses_events": "SES event",
}


def line_name(prices: PriceList, name: str) -> str:
    return prices.prices[name].what.split(" (")[0]


def quantity(amount: float) -> str:
    return f"{amount:,.0f}" if amount >= 100 else f"{amount:.3g}"


def markdown(prices: PriceList, fresh: FreshAccount, month: MonthCosts) -> list[str]:
    headline = prices.bill(fresh.usage[HEADLINE])
    running, observing = split(headline)
    monthly = prices.bill(month.usage)
    month_running, month_observing = split(monthly)
    lines = [
        f"cost per million tracking hits: ${(running + observing) * 1e6:.2f}",
        "",
        f"At {prices.region} list prices (`bench/prices.yaml`, with sources), no free tier. Usage is counted on the",
        "emulator with the real handlers: each invocation's measured duration scaled to its function's share of a",
        "vCPU, each AWS call's request units from the stored items' sizes, each byte the functions log; what AWS",
        "does around them is billed by rule (a request per API call, a Scheduler invocation per tick, the SQS event",
        "source's receive and delete per batch). The headline is a page view from an identified visitor, stored on",
        f"its lead and scored on its own: the dearest common hit. Of it, ${running * 1e6:.2f} runs the product and",
        f"${observing * 1e6:.2f} observes it (X-Ray traces, CloudWatch Logs).",
        "",
        "| tracking hit | product, $ per million | X-Ray and logs | total |",
        "|---|---:|---:|---:|",
    ]
    for kind, usage in fresh.usage.items():
        if kind == IDLE_TICK:
            continue
        product, observe = split(prices.bill(usage))
        lines.append(f"| {kind} | {product * 1e6:.2f} | {observe * 1e6:.2f} | {(product + observe) * 1e6:.2f} |")
    lines += ["", f"Where the headline's dollars go, per million hits ({HEADLINE}):", "",
              "| line | per hit | $ per million hits |", "|---|---:|---:|"]
    lines += [f"| {line_name(prices, name)} | {quantity(fresh.usage[HEADLINE][name])} | {usd * 1e6:.2f} |"
              for name, usd in sorted(headline.items(), key=lambda line: -line[1])]
    report = month.report
    lines += [
        "",
        f"**{LEADS_PER_MONTH:,} leads nurtured for a month: ${month_running + month_observing:,.2f}** "
        f"(${month_running:,.2f} product, ${month_observing:,.2f} X-Ray and logs). Measured on "
        f"`nurture simulate --leads {month.simulated_leads:,} --days {month.days} --seed 1` with the meter on and "
        "scaled to "
        f"{LEADS_PER_MONTH:,} leads: their first month (sign-up and the first steps, the busiest), "
        f"{report['emails_sent']:,} emails per {month.simulated_leads:,} leads. The dispatcher's idle tick is "
        "billed for every minute of the month, the idle long polls of the two SQS event sources and the secret "
        "once.",
        "",
        "| line | for the month | $ |",
        "|---|---:|---:|",
    ]
    lines += [f"| {line_name(prices, name)} | {quantity(month.usage[name])} | {usd:,.2f} |"
              for name, usd in sorted(monthly.items(), key=lambda line: -line[1])]
    lines += ["", "## AWS calls per form, beacon, stream record, dispatch and send", "",
              f"From the metered month ({month.simulated_leads:,} leads): per item each function handles, the AWS "
              "calls it made and its duration here and as billed on Lambda (scaled to its share of a vCPU).", "",
              "| function, per | invocations | items | calls per item | ms per invocation here | on Lambda |",
              "|---|---:|---:|---|---:|---:|"]
    from nurture.topology import FUNCTIONS

    for function, item in PER_ITEM.items():
        if not month.invocations[function]:
            continue
        per_item = sorted(month.calls[function].items())
        calls = ", ".join(f"{call} {n / month.items[function]:.2f}" for call, n in per_item)
        local_ms = month.local_seconds[function] * 1000 / month.invocations[function]
        scale = prices.assume("memory_mb_per_vcpu") / FUNCTIONS[function].memory_mb
        lines.append(f"| {function}, per {item} | {month.invocations[function]:,} | {month.items[function]:,} | "
                     f"{calls} | {local_ms:.1f} | {local_ms * scale:.0f} |")
    idle_calls = ", ".join(f"{call.split(': ')[1]} {n:.2f}" for call, n in sorted(fresh.calls[IDLE_TICK].items()))
    lines.append(f"| dispatcher, per tick with nothing due | | | {idle_calls} | | |")
    lines += ["", "Prices and assumptions (`bench/prices.yaml`):", ""]
    lines += [f"- {price.what}: ${price.usd:,.10f}".rstrip("0").rstrip(".") + f" per {price.per:,.0f} ({price.source})"
              for price in prices.prices.values()]
    lines += [f"- Assumed {name.replace('_', ' ')} = {assumption.value:,g}: {assumption.why} ({assumption.source})"
              for name, assumption in prices.assumptions.items()]
    return lines
