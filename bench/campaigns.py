"""Campaigns at scale: a segment's audience built over ever more leads, what a campaign to 100,000 people
costs beside SES's own price, and the sender's pace against the SES rate. All on the emulator, with the
real handlers."""

from __future__ import annotations

import functools
import os
import time
import warnings
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from unittest import mock

from msgspec.structs import replace

from bench.calls import REPO, counted_dynamodb
from bench.cost import SES_PUBLISHING, Meter, MeteredLog, PriceList, split
from bench.profiles import bulk_load, profile
from bench.units import item_size, read_units

POPULATIONS = (1_000, 10_000, 100_000)
SEGMENT = "mailable"
CAMPAIGN = "newsletter-2027-01"  # shipped: to `mailable`, 2027-01-13 10:00 in Tokyo
SCHEDULED_AT = datetime(2027, 1, 6, 1, 0, tzinfo=UTC)
SENDING_AT = datetime(2027, 1, 13, 1, 5, tzinfo=UTC)
RECIPIENTS = 300  # the metered campaign's audience (the meter is slow); its usage per recipient is scaled to PER
PER = 100_000
PACED_EMAILS = 140  # ten seconds at SES's starting rate of 14 a second


def _seed(table: str, population: int) -> int:
    """Mailable leads (consent, an activity summary), bulk-loaded; returns their average size in bytes."""
    items = [profile(n, consent={"granted": True, "at": "2026-11-01T01:00:00.000000Z", "form": "contact"},
                     scoring={"version": 3, "engagement": Decimal("12.5"), "as_of": "2026-11-01T01:00:00.000000Z"},
                     activity={"page_view": {"count": 12, "last": "2026-11-20T01:00:00.000000Z"},
                               "form_submit": {"count": 1, "last": "2026-11-01T01:00:00.000000Z"}})
             for n in range(population)]
    bulk_load(table, items)
    return round(sum(map(item_size, items)) / population)


# --- the audience -------------------------------------------------------------------------------

def audience_builds() -> list[dict[str, Any]]:
    from nurture.local import emulator

    emulator.install()
    return [_audience_build(population) for population in POPULATIONS]


def _audience_build(population: int) -> dict[str, Any]:
    """`nurture segment count mailable` over `population` profiles: the job's parts fanned out on the audience
    queue, each message handed to the real worker one at a time (the deployed batch size) until none is left."""
    from nurture.adapters.audience_queue import AudienceQueue
    from nurture.adapters.audience_store import DynamoAudienceStore
    from nurture.adapters.aws import client
    from nurture.domain.audiences.scan import ScanTask, new_job_id, parts_for
    from nurture.local.functions import invoke
    from nurture.local.queues import QueuePoller
    from nurture.local.resources import LocalResources

    resources = LocalResources()
    with counted_dynamodb() as counter:
        item_bytes = _seed(resources.table_name, population)
        pages: list[int] = []
        client("dynamodb").meta.events.register(
            "after-call.dynamodb.Scan", lambda parsed, **_: pages.append(sum(map(item_size, parsed["Items"]))))
        store = DynamoAudienceStore(resources.table_name)
        first = ScanTask.of(job_id=new_job_id(), segment=SEGMENT, part=0, parts=parts_for(store.profile_estimate()),
                         config_version=1)
        parts = store.create_job(first, "segment", "bench", SENDING_AT)
        AudienceQueue(resources.queue_url(resources.audience_queue)).send_all(
            [first.replaced(part=part, parts=parts) for part in range(parts)])
        poller = QueuePoller(resources.queue_url(resources.audience_queue), resources.region,
                             functools.partial(invoke, "audience"), batch_size=1)
        counter.calls.clear()
        started = time.perf_counter()
        invocations = poller.drain(rounds=1_000_000)
        seconds = time.perf_counter() - started
        progress = store.progress(first.job_id)
        assert progress is not None and progress.done
        return {"leads": population, "parts": parts, "invocations": invocations, "scans": counter.calls["Scan"],
                # Scan pages are eventually consistent; billed on what each page read (here only profiles).
                "read_units": sum(read_units(size, consistent=False) for size in pages),
                "matched": progress.matched, "seconds": seconds, "item_bytes": item_bytes}


# --- a campaign's cost --------------------------------------------------------------------------

def campaign_cost(prices: PriceList) -> dict[str, Any]:
    """A shipped newsletter sent to RECIPIENTS mailable leads, metered from the dispatcher's tick that starts it
    to SES's Send and Delivery events recorded: usage per recipient, billed for PER recipients."""
    import time_machine
    from moto import mock_aws

    from nurture.adapters.aws import reset_clients
    from nurture.adapters.campaign_store import DynamoCampaignStore
    from nurture.config import load_config
    from nurture.domain.campaigns.lifecycle import schedule
    from nurture.local import emulator
    from nurture.local.functions import invoke
    from nurture.local.log import functions_logging
    from nurture.local.queues import QueuePoller, scheduled_event
    from nurture.local.resources import LocalResources, create_resources
    from nurture.local.ses_publisher import EventPublisher, delivery_records
    from nurture.settings import reload

    resources = LocalResources()
    meter = Meter(prices)
    environment = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
                   "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", **resources.environment(str(REPO / "config"))}
    # The local sender is unpaced: pacing costs time, not money (measured apart, in send_pace).
    emulator.install()
    with mock.patch.dict(os.environ, environment), mock_aws(), meter.installed(), \
            functions_logging(MeteredLog(meter)), warnings.catch_warnings():  # type: ignore[arg-type]
        os.environ.pop("AWS_ENDPOINT_URL", None)
        warnings.simplefilter("ignore")
        create_resources(resources)
        reset_clients()
        reload()
        _seed(resources.table_name, RECIPIENTS)
        DynamoCampaignStore(resources.table_name).put(
            schedule(load_config(REPO / "config"), CAMPAIGN, None, 1, "bench", SCHEDULED_AT), None)
        pollers = {name: QueuePoller(resources.queue_url(queue), resources.region, functools.partial(invoke, name),
                                     batch_size=size)
                   for name, queue, size in (("audience", resources.audience_queue, 1),
                                             ("sender", resources.send_queue, 10),
                                             ("ses_events", resources.ses_events_queue, 10))}
        ses = EventPublisher(resources.configuration_set_arn, resources.region)
        meter.reset()
        with time_machine.travel(SENDING_AT, tick=True):
            invoke("dispatcher", scheduled_event(resources.region))
            for name in ("audience", "sender"):
                pollers[name].drain(rounds=1_000_000)
            sent = emulator.sent_emails(resources.region)
            for email in sent:
                ses.publish(*delivery_records(email, resources.configuration_set, datetime.now(UTC)))
            pollers["ses_events"].drain(rounds=1_000_000)
        usage = meter.total()
    bill = prices.bill(usage.times(PER / len(sent)))
    ses_usd = bill.pop("ses_email", 0.0)
    running, observing = split(bill)
    by_function = {owner: sum(prices.bill(amounts.times(PER / len(sent))).get(name, 0.0)
                              for name in amounts if name != "ses_email")
                   for owner, amounts in meter.usage.items()}
    return {"recipients": len(sent), "ses_usd": ses_usd, "running_usd": running, "observing_usd": observing,
            "lines": dict(sorted(bill.items(), key=lambda pair: -pair[1])),
            "by_function": dict(sorted(by_function.items(), key=lambda pair: -pair[1])),
            "invocations": dict(meter.invocations), "ses_publishing": SES_PUBLISHING}


# --- the sender's pace --------------------------------------------------------------------------

def send_pace() -> dict[str, Any]:
    """PACED_EMAILS campaign emails through one sender instance with the pacer a default deploy gives it (SES's
    rate shared over the sender's reserved concurrency), each SendEmail's moment taken as botocore makes the
    call: the most sends in the second after any send, and the average rate, against the instance's share."""
    import time_machine

    from functions.sender.handler import composer
    from infra.settings import DeploySettings
    from nurture.adapters.aws import client
    from nurture.adapters.campaign_store import DynamoCampaignStore
    from nurture.adapters.mailer import SEND_ONCE, SesMailer
    from nurture.adapters.sender_store import DynamoSenderStore
    from nurture.config import load_config
    from nurture.domain.campaigns.lifecycle import CampaignMessage, schedule
    from nurture.domain.pacing import SendPacer
    from nurture.local import emulator
    from nurture.local.queues import sqs_event
    from nurture.local.resources import LocalResources
    from nurture.settings import runtime_settings

    emulator.install()
    deploy = DeploySettings.model_validate({})
    resources = LocalResources()
    config = load_config(REPO / "config")
    with counted_dynamodb():
        # Imported once the functions' environment is set: Powertools reads its metrics namespace on import.
        from nurture.queues.sender import handle_batch

        _seed(resources.table_name, PACED_EMAILS)
        campaigns = DynamoCampaignStore(resources.table_name)
        state = schedule(config, CAMPAIGN, None, 1, "bench", SCHEDULED_AT)
        campaigns.put(state, None)
        campaigns.put(replace(state, status="sending"), "scheduled")
        settings = runtime_settings()
        mailer = SesMailer(settings.sender_address, settings.ses_configuration_set,
                           pacer=SendPacer(deploy.sender_rate_per_instance))
        moments: list[float] = []
        client("sesv2", SEND_ONCE).meta.events.register("before-call.sesv2.SendEmail",
                                             lambda **_: moments.append(time.monotonic()))
        messages = [CampaignMessage.of(campaign_id=CAMPAIGN, lead_id=f"{n:032x}", config_version=1).to_json()
                    for n in range(PACED_EMAILS)]
        with time_machine.travel(SENDING_AT, tick=True):
            for start in range(0, PACED_EMAILS, 10):  # the deployed event source's batches
                event = sqs_event([{"MessageId": str(n), "ReceiptHandle": str(n), "Body": body, "MD5OfBody": ""}
                                   for n, body in enumerate(messages[start:start + 10], start)],
                                  "arn:aws:sqs:ap-northeast-1:123456789012:send", resources.region)
                handle_batch(event, DynamoSenderStore(resources.table_name), mailer, composer, config,
                             lambda: datetime.now(UTC), campaigns.state, lambda version: config)
    from nurture.observability import metrics

    metrics.clear_metrics()  # called outside an invocation: nothing flushes what the batches counted
    seconds = moments[-1] - moments[0]
    # What SES sees after any one send: how many more arrive within the next second.
    busiest = max(sum(1 for other in moments if start < other <= start + 1) for start in moments)
    return {"emails": len(moments), "instance_rate": deploy.sender_rate_per_instance,
            "instances": deploy.sender_concurrency, "account_rate": deploy.ses_send_rate, "seconds": seconds,
            "average_rate": (len(moments) - 1) / seconds, "busiest_second": busiest}


# --- the report ---------------------------------------------------------------------------------

def markdown(builds: list[dict[str, Any]], cost: dict[str, Any], pace: dict[str, Any]) -> list[str]:
    lines = [
        "## Campaigns",
        "",
        f"`nurture segment count {SEGMENT}` over ever more profiles (about {builds[0]['item_bytes']} bytes each, all",
        "in the segment), its parts handed to the real audience worker one message at a time as the deployed",
        "event source does. Read units are DynamoDB's rule applied to each Scan page (eventually consistent,",
        "billed on what the page read: the table holds only profiles here; in production its events are read",
        "too, see docs/decisions.md 56). Aim: read units and invocations grow linearly, no invocation long.",
        "",
        "| leads | parts | invocations | Scan pages | read units | found | wall seconds (emulator) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [f"| {b['leads']:,} | {b['parts']} | {b['invocations']} | {b['scans']} | {b['read_units']:,.1f} | "
              f"{b['matched']:,} | {b['seconds']:.1f} |" for b in builds]
    lines += ["", "Wall seconds are the emulator's: moto projects and serializes every item it returns in Python",
              "(most of the time here), and each page reads on from where the last ended (`nurture.local.emulator`),",
              "so they grow with the table as DynamoDB's pages do, not with its square."]
    recipients, per = cost["recipients"], f"{PER:,}"
    lines += [
        "",
        f"A shipped newsletter sent to {recipients} mailable leads on the emulator, metered from the dispatcher's",
        "tick that starts it to SES's Send and Delivery events recorded (no opens or clicks: each adds an SES",
        f"event's share), then scaled to {per} recipients at list prices (bench/prices.yaml; linear: every",
        "cost here is per recipient or per page). Aim: Nurture's own overhead at most $1 per 100,000 beside",
        "SES's $10.",
        "",
        f"- SES: **${cost['ses_usd']:.2f}**; Nurture around it: **${cost['running_usd']:.2f}** running it and "
        f"**${cost['observing_usd']:.2f}** observing it (logs; no X-Ray as shipped), "
        f"**${cost['running_usd'] + cost['observing_usd']:.2f}** in all.",
        "- By price: " + ", ".join(f"{name} ${usd:.3f}" for name, usd in cost["lines"].items()) + ".",
        "- By function: " + ", ".join(f"{name} ${usd:.3f}" for name, usd in cost["by_function"].items())
        + f" (\"{cost['ses_publishing']}\": SES's events through EventBridge into the queue).",
        "- Invocations for the metered campaign: " + ", ".join(f"{name} {n}" for name, n in cost["invocations"].items())
        + ".",
        "- Above the aim: the sender writes 12 units an email (counted item by item on 2026-12-03): the send's",
        "  marker (1), then one transaction of five items of under 1 KB, each billed twice (the lead's profile,",
        "  its activity, the marker closed, the campaign's counter, the guard's daily count: 10), and the",
        "  profile's `by_rank` entry rewritten (1). Those doubled writes are the lever left now that tracing is",
        "  opt-in (it was $0.16): the two counters kept per batch rather than per email, and no profile write",
        "  for a campaign that does not count toward the cap, would save about $0.40.",
        "",
        f"The sender's pace: {pace['emails']} campaign emails through one sender instance paced as a default deploy",
        f"paces it (SES's {pace['account_rate']:g}/s shared over a reserved concurrency of {pace['instances']}: "
        f"{pace['instance_rate']:g}/s an instance): **{pace['average_rate']:.2f}/s** on average over "
        f"{pace['seconds']:.1f} s, at most **{pace['busiest_second']}** in the second after any send. Together the "
        f"instances stay under {pace['account_rate']:g}/s.",
    ]
    return lines


def main() -> None:
    """`python -m bench.campaigns`: this section alone (`make bench` writes it with the rest)."""
    builds = audience_builds()
    cost = campaign_cost(PriceList.load())
    pace = send_pace()
    print("\n".join(markdown(builds, cost, pace)))


if __name__ == "__main__":
    main()
