"""What Nurture costs at AWS list prices (bench/prices.yaml), from the calls it makes and how long it runs.

A `Meter` watches the real handlers on the emulator: every invocation (its measured duration, scaled to
the function's share of a vCPU), every AWS call they make (DynamoDB request units from the stored items'
sizes, index writes included; SQS requests, SES emails, keyring decryptions), every byte and metric they log.
What AWS does around the handlers is billed by rule: an API Gateway request (and its access-log line)
per API invocation, a Scheduler invocation per tick, the SQS event source's receive and delete per
batch. Usage is kept per function, keyed by the price it is billed at.
"""

from __future__ import annotations

import functools
import io
import json
import math
import os
import time
import uuid
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import yaml
from pydantic import BaseModel, ConfigDict

from bench.calls import REPO
from bench.units import item_size, read_units, write_units
from nurture.topology import FUNCTIONS

PRICES = Path(__file__).with_name("prices.yaml")
MONTH_HOURS = 30 * 24
MONTH_MINUTES = MONTH_HOURS * 60  # the dispatcher ticks every minute
GB = 1024**3
OBSERVABILITY = ("xray_trace", "logs_gb_ingested", "logs_ia_gb_ingested", "cloudwatch_metric_month",
                 "cloudwatch_alarm_metric_month",
                 "cloudwatch_dashboard_month")  # what tells you how it runs, not what it does
SALES_TOOLING = "sales tooling"  # polls the handoff queue: billed to the account, made by no function
SES_PUBLISHING = "SES event publishing"


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
        """Dollars per price line. Usage without a price, or below zero, is a mistake, not free."""
        unknown = set(usage) - set(self.prices)
        if unknown:
            raise KeyError(f"usage without a price: {sorted(unknown)}")
        negative = {name: amount for name, amount in usage.items() if amount < 0}
        if negative:
            raise ValueError(f"usage below zero: {negative}")
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


def lambda_ms(prices: PriceList, function: str, local_seconds: float) -> float:
    """A duration measured here, as Lambda runs it: at the function's share of a vCPU, in ms."""
    return local_seconds * 1000 * prices.assume("memory_mb_per_vcpu") / FUNCTIONS[function].memory_mb


def lambda_gb_seconds(prices: PriceList, function: str, local_seconds: float) -> float:
    """What Lambda bills for that duration: per started ms, at the function's memory."""
    return math.ceil(lambda_ms(prices, function, local_seconds)) / 1000 * FUNCTIONS[function].memory_mb / 1024


def split(bill: Mapping[str, float]) -> tuple[float, float]:
    """(what runs the product, what observes it) in dollars."""
    observing = sum(usd for name, usd in bill.items() if name in OBSERVABILITY)
    return sum(bill.values()) - observing, observing


@dataclass(frozen=True)
class Stored:
    """What billing needs of one stored item: its size and its entry in each global index."""

    size: int
    index_entries: dict[str, IndexEntry | None]


@dataclass(frozen=True)
class IndexEntry:
    """An item's entry in a global index: its index keys, what the index projects of it, and that size."""

    keys: tuple[str, str]
    projected: str
    size: int


class Meter:
    """Counts what the handlers use, per function; install it around the run it measures."""

    def __init__(self, prices: PriceList):
        self.prices = prices
        self.usage: defaultdict[str, Amounts] = defaultdict(Amounts)
        self.calls: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.invocations: Counter[str] = Counter()
        self.items: Counter[str] = Counter()  # records or messages handed to the function
        self.local_seconds = Amounts()
        self.metrics: set[tuple[str, str, str]] = set()  # (function, namespace, metric): each a custom metric
        self._overhead = 0.0  # the meter's own time inside the current invocation, not billed
        self._reader: Any = None  # a DynamoDB client the meter reads with, unmetered

    # --- installing -----------------------------------------------------------------------

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Every botocore client made from now on reports its calls (as moto hooks in), and every
        invocation of a local function reports its duration."""
        import boto3
        from botocore import handlers

        from nurture.local.functions import invocations_observed

        hooks: list[tuple[str, Callable[..., None]]] = [("before-parameter-build", self._before_call),
                                                        ("after-call", self._count_call)]
        handlers.BUILTIN_HANDLERS.extend(hooks)
        boto3.DEFAULT_SESSION = None  # a session made before now would not have the hooks
        try:
            with invocations_observed(self._count_invocation):
                yield
        finally:
            for hook in hooks:
                handlers.BUILTIN_HANDLERS.remove(hook)
            boto3.DEFAULT_SESSION = None
            self._reader = None

    def reset(self) -> None:
        for table in (self.usage, self.calls):
            table.clear()
        for counter in (self.invocations, self.items):
            counter.clear()
        self.local_seconds.clear()
        self.metrics.clear()

    def total(self) -> Amounts:
        summed = Amounts()
        for usage in self.usage.values():
            summed.add(usage)
        return summed

    # --- invocations and their logs -------------------------------------------------------

    def _count_invocation(self, function: str, event: dict[str, Any], seconds: float) -> None:
        spec = FUNCTIONS[function]
        local = max(0.0, seconds - self._overhead)
        self._overhead = 0.0
        usage = self.usage[function]
        usage["lambda_request"] += 1
        usage["lambda_arm64_gb_second"] += lambda_gb_seconds(self.prices, function, local)
        usage["xray_trace"] += self.prices.assume("traced_share")
        usage["logs_gb_ingested"] += self.prices.assume("platform_log_bytes_per_invocation") / GB
        if spec.trigger == "api":
            usage["api_gateway_request"] += 1
            usage["logs_ia_gb_ingested"] += self.prices.assume("access_log_bytes_per_request") / GB
        elif spec.trigger == "schedule":
            usage["scheduler_invocation"] += 1
        elif spec.trigger == "queue":
            usage["sqs_request"] += 2  # the event source's receive, and its delete of the batch
        self.invocations[function] += 1
        self.items[function] += len(event.get("Records", [])) or 1
        self.local_seconds[function] += local

    def logged(self, text: str) -> None:
        """Text a function wrote to its log: billed as CloudWatch Logs ingestion, and each metric it
        published (EMF) counted once per function, as CloudWatch bills custom metrics."""
        from nurture.local.functions import running

        function = running.get()
        if function is None:
            return
        self.usage[function]["logs_gb_ingested"] += len(text.encode()) / GB
        if text.startswith('{"_aws"'):  # Powertools prints each invocation's metrics as one EMF document
            for directive in json.loads(text)["_aws"]["CloudWatchMetrics"]:
                self.metrics |= {(function, directive["Namespace"], metric["Name"]) for metric in directive["Metrics"]}

    # --- AWS calls --------------------------------------------------------------------------

    def _before_call(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        started = time.perf_counter()
        context["metered_parameters"] = params
        if model.service_model.service_name == "dynamodb" and model.name in WRITES:
            context["metered_before"] = [self._stored(table, key) for table, key in _written(model.name, params)]
        self._not_billed(started)

    def _count_call(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        started = time.perf_counter()
        self._bill_call(model.service_model.service_name, model.name, context.get("metered_parameters", {}),
                        context.get("metered_before", []), parsed)
        self._not_billed(started)

    def _not_billed(self, started: float) -> None:
        from nurture.local.functions import running

        if running.get() is not None:
            self._overhead += time.perf_counter() - started

    def _bill_call(self, service: str, operation: str, params: dict[str, Any], before: list[Stored],
                   parsed: dict[str, Any]) -> None:
        from nurture.local.functions import running

        error = parsed.get("Error", {}).get("Code", "")
        if error and error not in ("ConditionalCheckFailedException", "TransactionCanceledException"):
            return  # refused before any work (throttled, invalid): not billed
        owner = running.get()
        fifo = str(params.get("QueueUrl", "")).endswith(".fifo")
        if owner is None:
            if (service, operation) == ("events", "PutEvents"):  # the emulator standing in for SES
                owner = SES_PUBLISHING
            elif fifo and operation == "DeleteMessage":
                owner = SALES_TOOLING  # its idle polls are a fixed count (prices.yaml); each message adds these
            else:
                return  # setting up, or the emulator's stand-ins for event sources (billed per invocation)
        self.calls[owner][f"{service} {operation}"] += 1
        usage = self.usage[owner]
        if service == "dynamodb":
            usage.add(self._request_units(operation, params, before, parsed, succeeded=not error))
        elif owner == SALES_TOOLING:
            usage["sqs_fifo_request"] += 2  # the receive that got the message, and its delete
        elif service == "sqs":
            usage["sqs_fifo_request" if fifo else "sqs_request"] += 1
        elif service == "sesv2" and operation == "SendEmail":
            usage["ses_email"] += len(params.get("Destination", {}).get("ToAddresses", [])) or 1
        elif (service, operation) == ("ssm", "GetParameter") and params.get("WithDecryption"):
            usage["kms_request"] += 1  # SSM decrypts the SecureString keyring with aws/ssm: a KMS request
        elif (service, operation) == ("events", "PutEvents"):
            # SES's events on the default bus, the rule and its delivery are free (an AWS service's events:
            # https://aws.amazon.com/eventbridge/pricing/); each delivery into the SES events queue is a SendMessage.
            usage["sqs_request"] += len(params.get("Entries", []))

    # --- DynamoDB request units, from the items as stored ----------------------------------

    def _request_units(self, operation: str, params: dict[str, Any], before: list[Stored],
                       parsed: dict[str, Any], succeeded: bool) -> Amounts:
        units = Amounts()
        if operation in WRITES:
            transactional = operation == "TransactWriteItems"
            written = zip(_written(operation, params), _actions(operation, params), before, strict=True)
            for (table, key), action, old in written:
                new = self._stored(table, key)
                units["dynamodb_write_unit"] += (2 if transactional else 1) * write_units(max(old.size, new.size))
                if succeeded and action != "ConditionCheck":
                    units["dynamodb_write_unit"] += index_writes(old, new)
        elif operation == "GetItem":
            units["dynamodb_read_unit"] += read_units(self._stored(params["TableName"], params["Key"]).size,
                                                      params.get("ConsistentRead", False))
        elif operation == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                for key in request["Keys"]:
                    units["dynamodb_read_unit"] += read_units(self._stored(table, key).size,
                                                              request.get("ConsistentRead", False))
        elif operation in ("Query", "Scan"):
            # A page is billed on the whole items it read: a projection limits what comes back, so a
            # projected page is read again without it.
            items = self._unprojected(operation, params) if "ProjectionExpression" in params else parsed["Items"]
            consistent = params.get("ConsistentRead", False) and "IndexName" not in params
            units["dynamodb_read_unit"] += read_units(sum(item_size(item) for item in items), consistent)
        return units

    def _stored(self, table_name: str, item: Mapping[str, Any]) -> Stored:
        """The stored item with `item`'s key (nothing stored: size 0, in no index)."""
        from moto.dynamodb.models.dynamo_type import DynamoType

        from nurture.table import TABLE

        table = _emulated_table(table_name)
        found = table.get_item(DynamoType(item[TABLE.partition_key]), DynamoType(item[TABLE.sort_key]))
        if found is None:
            return Stored(0, {index.name: None for index in TABLE.global_indexes})
        return Stored(found.size(), {index.name: index_entry(index, found.to_json()["Attributes"])
                                     for index in TABLE.global_indexes})

    def _unprojected(self, operation: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        import boto3

        from nurture.local.resources import LocalResources

        if self._reader is None:
            self._reader = boto3.session.Session(region_name=LocalResources().region).client("dynamodb")
            self._reader.meta.events.unregister("before-parameter-build", self._before_call)
            self._reader.meta.events.unregister("after-call", self._count_call)
        request = {name: value for name, value in params.items() if name not in ("ProjectionExpression", "Select")}
        used = " ".join(str(params.get(name, "")) for name in ("KeyConditionExpression", "FilterExpression"))
        names = {name: value for name, value in params.get("ExpressionAttributeNames", {}).items() if name in used}
        request.pop("ExpressionAttributeNames", None)
        if names:
            request["ExpressionAttributeNames"] = names
        items: list[dict[str, Any]] = getattr(self._reader, _snake(operation))(**request)["Items"]
        return items

    def table_bytes(self, table_name: str, lasting_from: float | None = None) -> int:
        """What DynamoDB bills storage on: every item plus 100 bytes of overhead, and each global index's
        entry (what it projects) plus 100 bytes again. With `lasting_from` (epoch seconds), only the items
        whose time to live runs out more than a day after it: a visitor's count for a minute is gone in two."""
        from nurture.table import TABLE

        total = 0
        for item in _emulated_table(table_name).all_items():
            attributes = item.to_json()["Attributes"]
            expires = attributes.get(TABLE.ttl_attribute, {}).get("N")
            if lasting_from is not None and expires is not None and float(expires) < lasting_from + 86_400:
                continue
            total += item.size() + 100
            total += sum(entry.size + 100 for index in TABLE.global_indexes
                         if (entry := index_entry(index, attributes)) is not None)
        return total


def index_entry(index: Any, attributes: Mapping[str, Any]) -> IndexEntry | None:
    """The entry `index` (a nurture.table.GlobalIndex) holds for an item (None: the item is not in it)."""
    from nurture.table import TABLE

    if index.partition_key not in attributes or index.sort_key not in attributes:
        return None
    kept = (TABLE.partition_key, TABLE.sort_key, index.partition_key, index.sort_key, *index.include)
    entry = {name: attributes[name] for name in kept if name in attributes}
    return IndexEntry((json.dumps(attributes[index.partition_key]), json.dumps(attributes[index.sort_key])),
                      json.dumps(entry, sort_keys=True), item_size(entry))


def _emulated_table(table_name: str) -> Any:
    """moto's own table, read without a request (and so without being metered)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    from nurture.local.resources import LocalResources

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][LocalResources().region].get_table(table_name)


WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


def _written(operation: str, params: dict[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """(table, item or key) of every item a write touches, in the request's order."""
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return [(params["TableName"], params.get("Key") or params["Item"])]
    if operation == "BatchWriteItem":
        return [(table, request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"])
                for table, requests in params["RequestItems"].items() for request in requests]
    return [(action["TableName"], action.get("Key") or action["Item"])
            for entry in params["TransactItems"] for action in entry.values()]


def _actions(operation: str, params: dict[str, Any]) -> list[str]:
    if operation == "TransactWriteItems":
        return [next(iter(entry)) for entry in params["TransactItems"]]
    return [operation] * len(_written(operation, params))


def index_writes(old: Stored, new: Stored) -> int:
    """Write units global indexes add: none while an entry's keys and what it projects stay the same; one to put,
    update or delete an entry, two when its keys changed (delete, then put); each on the projected size."""
    writes = 0
    for name, was in old.index_entries.items():
        now = new.index_entries[name]
        if was == now:  # both absent, or the same entry
            continue
        if was is not None and now is not None and was.keys != now.keys:
            writes += write_units(was.size) + write_units(now.size)
        else:
            writes += write_units(max(was.size if was else 0, now.size if now else 0))
    return writes


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")


class MeteredLog(io.TextIOBase):
    """A log stream that bills what each function writes to it; the text itself goes nowhere."""

    def __init__(self, meter: Meter):
        self._meter = meter

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._meter.logged(text)
        return len(text)


# --- the scenarios ----------------------------------------------------------------------------

HITS = 200  # of each kind: enough for stable averages, quick on the emulator
# A page's events as the snippet sends them together (issue 20): a view and four scroll marks, one request.
PAGE_BATCH = "identified visitor, a page's 5 events in one request, scored"
ONE_AT_A_TIME = "identified visitor, scored one at a time"
EVENTS_PER_REQUEST = {PAGE_BATCH: 5}
IDLE_TICKS = 5
IDLE_TICK = "dispatcher tick, nothing due"


FIRST_OF_A_DAY = "identified visitor, the first hit of its day, scored"
# The least a request can cost behind an HTTP API, $ per million (issue 20's count): the request ($1.00), an
# invocation and its shortest billed duration, a write unit; scoring adds the stream's invocation and a write.
FLOOR_STORED, FLOOR_SCORED = 1.86, 2.95
UNSCORED = ("anonymous visitor",)


def floor(kind: str) -> float:
    """The floor per million events of a kind of hit: its requests' floor shared by the events each carries."""
    return (FLOOR_STORED if kind in UNSCORED else FLOOR_SCORED) / EVENTS_PER_REQUEST.get(kind, 1)


@dataclass
class FreshAccount:
    usage: dict[str, Amounts]  # per kind of hit (and the idle tick), the usage of one
    calls: dict[str, Amounts]  # per kind of hit (and the idle tick), AWS calls of one, by function
    stored_bytes: dict[str, float]  # per kind of hit, what the table (its indexes included) grew by per hit


def kept(prices: PriceList, stored_bytes: float, retention_days: int) -> float:
    """Dollars to store `stored_bytes` and back them up (point-in-time recovery) for `retention_days`."""
    per_gb_month = prices.prices["dynamodb_storage_gb_month"].usd + prices.prices["dynamodb_backup_gb_month"].usd
    return stored_bytes / GB * per_gb_month * retention_days / 30


def on_a_fresh_account(prices: PriceList) -> FreshAccount:
    """A dispatcher tick with nothing due; then beacons of one page view each: from identified visitors
    (stored on the lead, then scored), one at a time as the stream delivers them below a hit a second
    (its 1 s batching window) and in bursts of 100; and from anonymous visitors (stored under the visitor,
    not scored until it identifies); a page's events in one request; and each lead's first hit of a day (a
    day apart: its daily counters start again). Every function has run once before anything is measured."""
    import time_machine
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
                   "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", **resources.environment(str(REPO / "config"))}
    emulator.install()
    usage: dict[str, Amounts] = {}
    calls: dict[str, Amounts] = {}
    stored_bytes: dict[str, float] = {}
    with mock.patch.dict(os.environ, environment), mock_aws(), meter.installed(), \
            functions_logging(MeteredLog(meter)), warnings.catch_warnings():  # type: ignore[arg-type]
        os.environ.pop("AWS_ENDPOINT_URL", None)
        warnings.simplefilter("ignore")  # Powertools: "no application metrics" from an invocation with none
        create_resources(resources)
        reset_clients()
        reload()
        streams = StreamPoller(resources.table_name, resources.region,
                               {name: functools.partial(invoke, name) for name in ("scoring", "handoff")},
                               on_delivered=emulator.stream_trimmer(resources.table_name, resources.region))

        def accepted(path: str, payload: dict[str, Any] | list[dict[str, Any]], content_type: str) -> None:
            response = api_request("POST", path, headers={"content-type": content_type},
                                   body=json.dumps(payload).encode())
            if response is None or response["statusCode"] >= 300:  # a refused hit costs less: not what is measured
                raise RuntimeError(f"{path} refused the benchmark's request: {response}")

        def beacon(vid: str, n: int) -> None:
            accepted("/v1/events", {"vid": vid, "type": "page_view", "url": f"https://example.jp/p{n}"}, "text/plain")

        def measured(kind: str, run: Callable[[], None], times: int = HITS) -> None:
            meter.reset()
            before = meter.table_bytes(resources.table_name, lasting_from=time.time())
            run()
            stored_bytes[kind] = (meter.table_bytes(resources.table_name, lasting_from=time.time()) - before) / times
            usage[kind] = meter.total().times(1 / times)
            calls[kind] = Amounts({f"{owner}: {call}": n / times for owner, counted in meter.calls.items()
                                   for call, n in counted.items()})

        def idle_ticks() -> None:
            for _ in range(IDLE_TICKS):
                invoke("dispatcher", scheduled_event(resources.region))

        visitors = [f"bench-{uuid.uuid4().hex[:12]}" for _ in range(10)]
        for n, vid in enumerate(visitors):  # leads whose visitors are identified; warms the handlers up
            accepted("/v1/forms/contact", {"email": f"hits{n}@example{n}.jp", "name": "B", "company": f"C{n}",
                                           "consent": True, "vid": vid}, "application/json")
            beacon(vid, 0)
        streams.poll_once()
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

        def a_page_at_a_time() -> None:  # the snippet's batch: a page view and what the person did on the page
            per = EVENTS_PER_REQUEST[PAGE_BATCH]
            for n in range(0, HITS, per):
                vid = visitors[(n // per) % len(visitors)]
                page = [{"vid": vid, "type": "page_view", "url": f"https://example.jp/p{n}"}] + [
                    {"vid": vid, "type": "custom", "name": "scrolled", "url": f"https://example.jp/p{n}",
                     "props": {"depth": 25 * k}} for k in range(1, per)]
                accepted("/v1/events", page, "text/plain")
                streams.poll_once()

        measured(IDLE_TICK, idle_ticks, IDLE_TICKS)
        measured(ONE_AT_A_TIME, one_at_a_time)
        measured("identified visitor, scored in batches of 100", in_bursts)
        measured("anonymous visitor", anonymous)
        def first_of_a_day(clock: time_machine.Traveller) -> None:  # a day after its last: new daily counters
            for n in range(HITS):
                if n % len(visitors) == 0:
                    clock.shift(timedelta(days=1))
                beacon(visitors[n % len(visitors)], n)
                streams.poll_once()

        measured(PAGE_BATCH, a_page_at_a_time)
        # Last: it leaves the leads' clocks weeks ahead. Measured in travelled time, for what outlasts a day.
        with time_machine.travel(datetime.now(UTC), tick=True) as clock:
            measured(FIRST_OF_A_DAY, functools.partial(first_of_a_day, clock))
    reset_clients()
    return FreshAccount(usage, calls, stored_bytes)


@dataclass
class MonthCosts:
    simulated_leads: int
    days: int
    usage: Amounts  # for LEADS_PER_MONTH leads
    fixed: Amounts  # of which the same at any number of leads
    calls: dict[str, Counter[str]]
    invocations: Counter[str]
    items: Counter[str]
    local_seconds: Amounts
    report: dict[str, Any]
    wall_seconds: float
    simulated_hits: float  # the tracking function's requests in the simulation, scaled to LEADS_PER_MONTH
    quiet: Amounts  # a month with no traffic at all


LEADS_PER_MONTH = 10_000
HITS_PER_MONTH = 1_000_000  # tracking events the month's leads and visitors make


def per_month(prices: PriceList, idle_tick: Amounts, deployed: Amounts, init_seconds: Mapping[str, float],
              page_event: Amounts, page_event_bytes: float, leads: int = 1_000, days: int = 30) -> MonthCosts:
    """`simulate` with the meter on: the leads' first month (sign-ups, the first steps: the busiest),
    scaled to LEADS_PER_MONTH. The simulation ticks every 15 minutes, AWS every minute: the idle part of
    a tick (`idle_tick`) is billed for every minute of the month, and the simulated ticks' share of it
    is not scaled with the leads. Fixed: what the stack deploys (`deployed`), each custom metric the
    functions published, idle polls, cold starts (`init_seconds` each). Storage is the table as the
    month left it, with its continuous backups. The simulation's visitors browse little: the month is
    topped up to HITS_PER_MONTH tracking events as the snippet sends them (`page_event`: one event of a
    page's batch, identified and scored; `page_event_bytes` stored each)."""
    from nurture.local.resources import LocalResources
    from nurture.local.simulation import simulate

    meter = Meter(prices)
    storage: list[int] = []
    started = time.perf_counter()
    with meter.installed():
        report = simulate(REPO / "config", leads, days, seed=1, start=date(2026, 4, 20),
                          logs=MeteredLog(meter),  # type: ignore[arg-type]
                          inspect=lambda: storage.append(meter.table_bytes(LocalResources().table_name)))
    wall_seconds = time.perf_counter() - started
    cold_start = Amounts()  # one cold start of every function
    for function, seconds in init_seconds.items():
        cold_start["lambda_arm64_gb_second"] += lambda_gb_seconds(prices, function, seconds)
    fixed = fixed_monthly(prices, deployed, idle_tick, len(meter.metrics), cold_start)
    quiet = quiet_monthly(prices, deployed, idle_tick, init_seconds)
    stored = Amounts({"dynamodb_storage_gb_month": storage[0] / GB, "dynamodb_backup_gb_month": storage[0] / GB})
    usage = monthly(meter.total(), stored, meter.invocations["dispatcher"], idle_tick, LEADS_PER_MONTH / leads, fixed)
    simulated_hits = meter.items["tracking"] * LEADS_PER_MONTH / leads
    more_hits = max(0.0, HITS_PER_MONTH - simulated_hits)
    usage.add(page_event, more_hits)
    usage.add(Amounts({"dynamodb_storage_gb_month": page_event_bytes / GB,
                       "dynamodb_backup_gb_month": page_event_bytes / GB}), more_hits)
    return MonthCosts(leads, days, usage, fixed, dict(meter.calls), meter.invocations, meter.items,
                      meter.local_seconds, report.to_json(), wall_seconds, simulated_hits, quiet)


def monthly(simulated: Amounts, stored: Amounts, simulated_ticks: int, idle_tick: Amounts, factor: float,
            fixed: Amounts) -> Amounts:
    """The month for `factor` times the simulated leads: what the simulation used and stored, less its
    ticks' idle part (in `fixed`, per minute), scaled; plus the fixed part."""
    usage = Amounts(simulated)
    usage.add(stored)
    usage.add(idle_tick, -simulated_ticks)
    usage = usage.times(factor)
    usage.add(fixed)
    return usage


def fixed_monthly(prices: PriceList, deployed: Amounts, idle_tick: Amounts, metrics: int,
                  cold_start: Amounts) -> Amounts:
    """What a month costs at any number of leads: the stack's resources, a tick every minute, the idle
    long polls, the custom metrics, and cold starts as often as prices.yaml assumes."""
    fixed = Amounts(deployed)
    fixed.add(idle_tick, MONTH_MINUTES)
    fixed["sqs_request"] += 2 * prices.assume("idle_receives_per_queue_month")
    fixed["sqs_fifo_request"] += prices.assume("sales_tooling_receives_per_month")
    fixed["cloudwatch_metric_month"] += metrics
    fixed.add(cold_start, prices.assume("cold_starts_per_function_hour") * MONTH_HOURS)
    return fixed


def quiet_monthly(prices: PriceList, deployed: Amounts, idle_tick: Amounts, init_seconds: Mapping[str, float]
                  ) -> Amounts:
    """A month with no traffic: the stack's resources, the idle polls, and only the dispatcher running (its tick
    every minute, a cold start an hour); nothing publishes a custom metric."""
    dispatcher_start = lambda_gb_seconds(prices, "dispatcher", init_seconds.get("dispatcher", 0.0))
    return fixed_monthly(prices, deployed, idle_tick, 0, Amounts({"lambda_arm64_gb_second": dispatcher_start}))


def deployed_resources(template: Path) -> Amounts:
    """What the synthesized stack bills by the month whatever it does: alarms (per metric they watch),
    dashboards, customer-managed KMS keys, Secrets Manager secrets (none since issue 20)."""
    resources = json.loads(template.read_text(encoding="utf-8"))["Resources"].values()
    usage = Amounts()
    for resource in resources:
        kind, properties = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::CloudWatch::Alarm":
            usage["cloudwatch_alarm_metric_month"] += sum("MetricStat" in m for m in properties.get("Metrics", [])) or 1
        elif kind == "AWS::CloudWatch::Dashboard":
            usage["cloudwatch_dashboard_month"] += 1
        elif kind == "AWS::KMS::Key":
            usage["kms_key_month"] += 1
        elif kind == "AWS::SecretsManager::Secret":
            usage["secretsmanager_secret_month"] += 1
    return usage


# --- what `make bench` writes -----------------------------------------------------------------

HEADLINE = PAGE_BATCH  # what the shipped snippet sends
PER_ITEM = {  # function: what one of its items is
    "forms": "form request", "tracking": "tracking request", "scoring": "stream record",
    "handoff": "stream record", "dispatcher": "tick", "sender": "send", "ses_events": "SES event",
}


def line_name(prices: PriceList, name: str) -> str:
    return prices.prices[name].what.split(" (")[0]


def quantity(amount: float) -> str:
    return f"{amount:,.0f}" if amount >= 100 else f"{amount:.3g}"


def per(amount: float) -> str:
    return f"{amount:.2f}" if amount >= 0.005 else "<0.01"


def traced_extra(prices: PriceList, usage: Mapping[str, float]) -> float:
    """What nurture:tracing adds: Lambda's Active tracing records every invocation, whatever the sampling rules."""
    untraced = usage.get("lambda_request", 0) * (1 - prices.assume("traced_share"))
    return untraced * prices.prices["xray_trace"].usd / prices.prices["xray_trace"].per


def markdown(prices: PriceList, fresh: FreshAccount, month: MonthCosts) -> list[str]:

    headline = prices.bill(fresh.usage[HEADLINE])
    running, observing = split(headline)
    monthly = prices.bill(month.usage)
    month_running, month_observing = split(monthly)
    fixed = sum(prices.bill(month.fixed).values())
    lines = [
        f"cost per million tracking events as the snippet sends them: ${(running + observing) * 1e6:.2f} "
        f"(one event a request: ${sum(prices.bill(fresh.usage[ONE_AT_A_TIME]).values()) * 1e6:.2f})",
        "",
        f"At {prices.region} list prices (`bench/prices.yaml`, with sources), no free tier. Usage is counted on the",
        "emulator with the real handlers: each invocation's measured duration scaled to its function's share of a",
        "vCPU, each AWS call's request units from the stored items' sizes (index writes included), each byte and",
        "metric the functions log; what AWS does around them is billed by rule (a request and an access-log line",
        "per API call, a Scheduler invocation per tick, the SQS event source's receive and delete per batch). The",
        "headline is what the shipped snippet sends: a page's events from an identified visitor, five to a",
        "request, stored as one item on its lead and scored as one unit (one event a request is the table's first",
        f"row). Of it, ${running * 1e6:.2f} runs the product and ${observing * 1e6:.2f} observes it",
        "(CloudWatch Logs; X-Ray only with nurture:tracing, the last column).",
        "",
        "Per million events (a hit is an event); the batched row's requests carry five each. Storing what a",
        f"hit adds to the table and backing it up for the {retention_days()} days events are kept "
        "(`event_retention_days`) is",
        "apart, in the last column: it is paid over those days, and the table's growth per hit is measured the",
        "same way (items and index entries, 100 bytes of overhead each).",
        "",
        "| tracking hit | product, $ per million | logs (and X-Ray) | total | floor | with tracing on "
        f"| $ per million requests | bytes stored | kept {retention_days()} days, $ per million |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, usage in fresh.usage.items():
        if kind == IDLE_TICK:
            continue
        product, observe = split(prices.bill(usage))
        traced = traced_extra(prices, usage)
        total = product + observe
        stored = fresh.stored_bytes[kind]
        lines.append(f"| {kind} | {product * 1e6:.2f} | {observe * 1e6:.2f} | {total * 1e6:.2f} | {floor(kind):.2f} | "
                     f"{(total + traced) * 1e6:.2f} | {total * EVENTS_PER_REQUEST.get(kind, 1) * 1e6:.2f} | "
                     f"{stored:,.0f} | {kept(prices, stored, retention_days()) * 1e6:.2f} |")
    lines += ["", f"Where the headline's dollars go, per million hits ({HEADLINE}):", "",
              "| line | per hit | $ per million hits |", "|---|---:|---:|"]
    lines += [f"| {line_name(prices, name)} | {quantity(fresh.usage[HEADLINE][name])} | {usd * 1e6:.2f} |"
              for name, usd in sorted(headline.items(), key=lambda line: -line[1])]
    lines += [
        "",
        f"**{LEADS_PER_MONTH:,} leads nurtured for a month with {HITS_PER_MONTH:,} tracking hits: "
        f"${month_running + month_observing:,.2f}** (${month_running:,.2f} product, ${month_observing:,.2f} logs, "
        f"metrics and alarms), of which ${fixed:,.2f} is fixed, the same at any number of leads, and "
        f"${month_running + month_observing - fixed:,.2f} variable. Measured on `nurture simulate --leads "
        f"{month.simulated_leads:,} --days {month.days} --seed 1` (the shipped sequences and campaign calendar) "
        f"with the meter on and scaled to {LEADS_PER_MONTH:,} leads: their first month (sign-up and the first "
        f"steps, the busiest), {month.report['emails_sent']:,} emails per {month.simulated_leads:,} leads and "
        f"{month.simulated_hits:,.0f} tracking requests (opens, clicks, page views); the rest of the "
        f"{HITS_PER_MONTH:,} hits are priced as the snippet sends them ({PAGE_BATCH}, the row above) and stored "
        "for the month. Storing a month's hits for their whole retention is the hit table's last column, per "
        "million. Fixed: the dispatcher's idle tick every minute, the SQS event sources' and the sales tooling's "
        "idle long polls, an hourly cold start of each function, each custom metric the functions published "
        "(a full month each: CloudWatch prorates by the hour, so a metric published in a few hours costs less), "
        "and the stack's alarms (and dashboard, if asked for).",
        "",
        f"**A quiet month, with no traffic: ${sum(prices.bill(month.quiet).values()):,.2f}** (aim: at most $3): the "
        "alarms, the idle long polls, and the dispatcher's tick every minute with an hourly cold start; nothing "
        "publishes a custom metric.",
        "",
        "| line | for the month | of it fixed | $ |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {line_name(prices, name)} | {quantity(month.usage[name])} | {quantity(month.fixed.get(name, 0))} | "
              f"{usd:,.2f} |" for name, usd in sorted(monthly.items(), key=lambda line: -line[1])]
    lines += ["", "## AWS calls per form, beacon, stream record, dispatch and send", "",
              f"From the metered month ({month.simulated_leads:,} leads): per item each function handles, the AWS "
              "calls it made and its duration here and as billed on Lambda (scaled to its share of a vCPU).", "",
              "| function, per | invocations | items | calls per item | ms per invocation here | on Lambda |",
              "|---|---:|---:|---|---:|---:|"]
    for function, item in PER_ITEM.items():
        if not month.invocations[function]:
            continue
        per_item = sorted(month.calls[function].items())
        calls = ", ".join(f"{call} {per(n / month.items[function])}" for call, n in per_item)
        local_seconds = month.local_seconds[function] / month.invocations[function]
        lines.append(f"| {function}, per {item} | {month.invocations[function]:,} | {month.items[function]:,} | "
                     f"{calls} | {local_seconds * 1000:.1f} | {lambda_ms(prices, function, local_seconds):.0f} |")
    idle_calls = ", ".join(f"{call.split(': ')[1]} {per(n)}" for call, n in sorted(fresh.calls[IDLE_TICK].items()))
    lines.append(f"| dispatcher, per tick with nothing due | | | {idle_calls} | | |")
    lines += ["", "Prices and assumptions (`bench/prices.yaml`):", ""]
    lines += [f"- {price.what}: ${price.usd:,.10f}".rstrip("0").rstrip(".") + f" per {price.per:,.0f} ({price.source})"
              for price in prices.prices.values()]
    lines += [f"- Assumed {name.replace('_', ' ')} = {assumption.value:,g}: {assumption.why} ({assumption.source})"
              for name, assumption in prices.assumptions.items()]
    return lines


def hit_table(prices: PriceList, fresh: FreshAccount) -> list[str]:
    """`make bench-cost`: the tracking hits alone, a minute's run (the whole `make bench` takes an hour)."""
    lines = ["| tracking hit | $ per million events | floor | with tracing on | $ per million requests | bytes stored "
             f"| kept {retention_days()} days, $ per million |", "|---|---:|---:|---:|---:|---:|---:|"]
    for kind, usage in fresh.usage.items():
        if kind != IDLE_TICK:
            total = sum(prices.bill(usage).values())
            stored = fresh.stored_bytes[kind]
            lines.append(f"| {kind} | {total * 1e6:.2f} | {floor(kind):.2f} | "
                         f"{(total + traced_extra(prices, usage)) * 1e6:.2f} | "
                         f"{total * EVENTS_PER_REQUEST.get(kind, 1) * 1e6:.2f} | {stored:,.0f} | "
                         f"{kept(prices, stored, retention_days()) * 1e6:.2f} |")
    return lines


@functools.cache
def retention_days() -> int:
    """How long the shipped config keeps a lead's events."""
    from nurture.config import load_config

    return load_config(REPO / "config").api.event_retention_days


if __name__ == "__main__":
    price_list = PriceList.load()
    print("\n".join(hit_table(price_list, on_a_fresh_account(price_list))))
