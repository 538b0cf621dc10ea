"""`make bench`: run every benchmark (or the sections named), print the numbers and rewrite docs/benchmarks.md."""

from __future__ import annotations

import argparse
import os
import platform
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from bench import (
    attendance,
    calls,
    campaigns,
    cold_import,
    console,
    cost,
    customers,
    deploy,
    dispatch,
    end_state,
    load,
    replies,
    sales,
    scoring,
)
from bench.process import in_fresh_process
from nurture.topology import FUNCTIONS

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
SECTION = re.compile(r"<!-- bench:(?P<name>[\w-]+) -->\n(?P<body>.*?)\n<!-- /bench:(?P=name) -->", re.DOTALL)
NOTES = [
    "- Tracing is opt-in (nurture:tracing, issue 20): Lambda's Active tracing records every invocation whatever",
    "  the sampling rules, so a scored hit was two traces at $5 a million, half of what it cost. The last",
    "  column of the hit table prices it on. Lambda's own START/REPORT lines are not sent at its WARN system",
    "  log level, and the access log is in the Infrequent Access class.",
    "- A page's events leave the snippet together and are stored as one item, scored as one unit: the",
    "  batched row (five events a request) is what the shipped snippet sends, the headline, under $2.00 a million",
    "  events. One event a request pays the API request, two invocations and a transaction for each. (A cost",
    "  section measured before 2026-12-05 19:00 UTC leads with the one-at-a-time row and has no quiet month.)",
    "- An identified visitor's beacon reads whether the browser is a lead's (eventually consistent, half a",
    "  unit), then writes on the lead in one transaction that checks the small identity item: the failed",
    "  anonymous transaction it used to try first is gone. The indexes project only what their readers",
    "  need, so a score change rewrites no `due` entry and moves `by_rank` only when the total moves; the",
    "  profile keeps no consent text or stream ARN and two days of cap counters (under 2 KB: two units).",
    "- Six custom metrics, ten alarm metrics and no dashboard unless `nurture:dashboard`: the quiet month is",
    "  the alarms and the idle polls and ticks (no KMS key, no secret: SSM keeps the signing keyring).",
    "- An anonymous beacon is a read (is the browser a lead's?) and one `TransactWriteItems` (a condition",
    "  check that the visitor is still anonymous, its count for the minute, plus the events), billed as",
    "  transactional writes. Keeping that condition is what guarantees no hit is stranded under a visitor",
    "  that has just identified. An email open or click is such a transaction too: a check that the lead",
    "  exists, and the event.",
    "- A form submit is one strongly consistent `BatchGetItem` and one `TransactWriteItems`, and for a known",
    "  lead a `GetItem` of what it holds (a post from anyone fills blanks only; the rest is proposed). A",
    "  visitor's first identify adds a `Query` of its newest events (at most 100), their copies in",
    "  transactions with the identity's `UpdateItem`, and a COUNT page of the older ones: bounded, whatever",
    "  the history.",
    "- A cold start reads the config layer's `compiled.json` (no YAML, no validation), imports no X-Ray SDK",
    "  with tracing off, and runs bytecode compiled for Lambda's Python (decision 73). No function imports",
    "  pydantic, PyYAML or Powertools' event handler (decisions 89 and 90); the API functions read their events",
    "  without Powertools' event classes, import a store's adapter when it is first built, and the console",
    "  registers a page's routes at its first request (decision 107). The domain's values are msgspec Structs,",
    "  which are made in C, where the dataclass module compiled each class's methods from source (about 0.65 ms",
    "  a class: 47 ms of the dispatcher's cold start; decision 119). What is left on top of boto3: Powertools'",
    "  Logger and Metrics, the config classes and the handler's own domain modules; the sender also imports",
    "  Jinja (~20 ms), which renders its every message. The cold imports run on Lambda's Python 3.13 where the",
    "  machine has it (LAMBDA_PYTHON). On this 2-core machine a handler's ratio moves by about 0.05x between runs.",
    "- A lead's first hit of a day also refreshes its company's standing (issue 24): a `GetItem` of the",
    "  account's owner, a `Query` of its members, a `BatchGetItem` of their profiles and one conditional",
    "  `UpdateItem`; the day's later hits pay nothing for the account. An account pattern is told at most once",
    "  per person, day and pattern (a `GetItem` and a conditional `UpdateItem` when its marks move).",
    "- What a hit keeps in the table for two years costs about as much as handling it: a page's batch",
    "  stores 171 bytes an event (one item shared by five), a lone event about 400-500 bytes with its item's",
    "  overhead; the first hit of a lead's day adds its ledger entry.",
    "- Scoring meets its call aims: one strongly consistent `BatchGetItem` for the batch's leads, a `PutItem`",
    "  per ledger entry (the same units as `BatchWriteItem`, which the scorer no longer holds: it could",
    "  delete any item), one conditional `UpdateItem` per lead (a `TransactWriteItems` instead when the lead",
    "  turns hot).",
    "- Hot-lead latency on the local runtime: the median is the poller's 250 ms interval twice (scoring,",
    "  then handoff on the next poll) plus the receive. moto used to deep-copy the whole table before every",
    "  `TransactWriteItems` and sort it for every `Query`; `nurture.local.emulator` now copies only what a",
    "  transaction touches and lets a query look only at its partition or index (docs/decisions.md #24).",
    "  On AWS the path is the stream's own delivery latency.",
    "- The dispatcher's reads do not grow with the number of leads: each tick queries the four `due`",
    "  shards for `due_sk <= now` and reads only the due leads' index items; each claim is one conditional",
    "  `UpdateItem`. The read units are the same at 1,000 and 100,000 leads.",
    "- `nurture simulate` spends its time in the emulator: 2,880 scheduler ticks in 30 days (four queries",
    "  each), stream reads and moto's response serialization. A query of the `due` index still passes over",
    "  the table's items in Python (moto keeps no index), which grows with the table: the next thing to",
    "  speed up for larger simulations. The metered month also logs everything at INFO and sizes every item",
    "  it reads or writes.",
    "- The guard pauses on evidence (docs/ses-events.md): a simulated month's one or two complaints among",
    "  about 1,000 sends raise its warning, not a pause, where a single complaint used to pause sending for",
    "  the rest of the month.",
    "- Lambda cannot write `__pycache__` under /opt, so layer source without bytecode is compiled at every",
    "  cold start. `make layers` precompiles the modules the handlers import when they load, with Python",
    "  3.13 if the machine has one (`infra/layer_bytecode.py`): about 4 MB, where the whole layer's",
    "  bytecode would add 9.5 MB. `cdk synth` compiles the whole library layer the same way (decision 73).",
]


class Measured:
    """What the chosen sections read, each measured once a run and only when a chosen section needs it."""

    @cached_property
    def prices(self) -> cost.PriceList:
        return cost.PriceList.load()

    @cached_property
    def fresh(self) -> cost.FreshAccount:
        return cost.on_a_fresh_account(self.prices)

    @cached_property
    def synthesized(self) -> tuple[float, int, Path]:
        """`cdk synth`'s seconds, the template's resource count and the template it wrote."""
        seconds, resources = deploy.synth()
        return seconds, resources, deploy.template()

    @cached_property
    def layer_imports(self) -> list[tuple[str, float, float, float]]:
        return deploy.cold_imports_with_layers()

    @cached_property
    def month(self) -> cost.MonthCosts:
        init_seconds = {name: precompiled for name, _, precompiled, _ in self.layer_imports if name in FUNCTIONS}
        return cost.per_month(self.prices, self.fresh.usage[cost.IDLE_TICK],
                              cost.deployed_resources(self.synthesized[2]), init_seconds,
                              self.fresh.usage[cost.PAGE_BATCH], self.fresh.stored_bytes[cost.PAGE_BATCH])


def _cost(measured: Measured) -> list[str]:
    month, simulated = measured.month, measured.month.report
    return [
        "## What it costs",
        "",
        *cost.markdown(measured.prices, measured.fresh, month),
        "",
        f"`nurture simulate --leads {month.simulated_leads:,} --days {month.days} --seed 1` (the metered month "
        f"above, its functions logging at INFO): **{month.wall_seconds:.0f} s** of wall time for",
        f"{simulated['emails_sent']:,} emails, {simulated['handoffs']} handoffs, "
        f"{simulated['unsubscribed']} unsubscribes, {simulated['bounced']} bounced and "
        f"{simulated['complained']} complained; opens by people {simulated['opens_human']:,}, by machines "
        f"{simulated['opens_bot']:,}; clicks by people {simulated['clicks_human']:,}, by machines "
        f"{simulated['clicks_bot']:,}; sending paused: {'yes' if simulated['sending_paused'] else 'no'};",
        f"sends after unsubscribe {simulated['sends_after_unsubscribe']}, after a bounce or complaint "
        f"{simulated['sends_after_suppression']}, while paused {simulated['sends_while_paused']}, outside the "
        f"window {simulated['sends_outside_window']}, over the cap {simulated['sends_over_cap']}.",
    ]


def _calls(_: Measured) -> list[str]:
    return ["## DynamoDB calls per request", "",
            "Counted with a botocore `before-call` hook on the client the handlers use, against moto.",
            "Aims: a beacon is one write call; a form submit for a known lead at most two reads and one write call.",
            "", *_call_table(calls.count_calls())]


def _scoring(_: Measured) -> list[str]:
    records_per_second = scoring.throughput()
    median, p99, misses = in_fresh_process("bench.scoring", "hot_lead_latency")
    return [
        "## Scoring",
        "",
        f"- Throughput in-process (AWS excluded, batches of 100): **{records_per_second:,.0f} records/s**. The",
        "  1,000 leads are people of one company: each person's first activity of the day refreshes the account's",
        "  standing from its first 200 people, as the DynamoDB adapter reads them.",
        "- Hot-lead latency on the local runtime, POST of a demo request to its handoff message being",
        f"  receivable, over 100 leads: **median {median:.2f} s, p99 {p99:.2f} s** ({misses} missed). Aim: p99 < 2 s.",
        "  The leads are people of one company, so its account grows to 100 people, read twice for each hot lead",
        "  (scoring refreshes its standing; the handoff lists the lead's colleagues).",
        "",
        "DynamoDB calls of one scoring invocation (aim: one conditional update per lead per batch; a ledger",
        "entry is one `PutItem`; one more `UpdateItem` per batch and day when the batch holds a form, an email",
        "event or sales' feedback: the console's daily KPI counters):",
        "",
        *_call_table(scoring.calls_per_batch()),
    ]


def _sales(_: Measured) -> list[str]:
    return sales.markdown(in_fresh_process("bench.sales", "alert_latency"), sales.round_robin_split())


def _replies(_: Measured) -> list[str]:
    return replies.markdown(in_fresh_process("bench.replies", "reply_latency"))


def _console(_: Measured) -> list[str]:
    return console.markdown(console.shipped(), console.calls_per_page(),
                            in_fresh_process("bench.console", "page_timings"))


def _attendance(_: Measured) -> list[str]:
    return attendance.markdown(attendance.import_rates())


def _steps(_: Measured) -> list[str]:
    tick_rows = dispatch.tick_read_units()
    return [
        "## Step emails",
        "",
        f"One dispatcher tick with {dispatch.DUE} leads due among ever more leads (profiles of about",
        f"{tick_rows[0][1]['item_bytes']} bytes, the rest due over the next weeks). Read units are DynamoDB's rule",
        "applied to the index items each query page read (4 KB units, halved: GSI reads are eventually",
        "consistent). Aim: the same within 10% whatever the population.",
        "",
        "| leads | queries | read units | claims (UpdateItem) |",
        "|---:|---:|---:|---:|",
        *[f"| {population:,} | {row['calls'].get('Query', 0)} | {row['read_units']:.1f} | "
          f"{row['calls'].get('UpdateItem', 0)} |" for population, row in tick_rows],
    ]


def _campaigns(measured: Measured) -> list[str]:
    return campaigns.markdown(campaigns.audience_builds(), campaigns.campaign_cost(measured.prices),
                              campaigns.send_pace())


def _customers(_: Measured) -> list[str]:
    return customers.markdown(customers.daily_reviews())


def _faults(_: Measured) -> list[str]:
    faults = end_state.long_run()
    return [
        "## Faults",
        "",
        f"`simulate` of {faults['leads']} leads over {faults['days']} days (seed {faults['seed']}), once clean and "
        f"once with {faults['faults']:.0%} of the functions' AWS attempts failing (injected: "
        + ", ".join(f"{service} {n:,}" for service, n in faults["injected"].items()) + "): "
        f"{faults['clean']['emails_sent']:,} emails and {faults['clean']['handoffs']} handoffs in the clean run; "
        f"**{len(faults['differences'])} differences** in what was stored, sent and handed off "
        "(the test in `make test` runs 20 leads over 10 days; docs/reliability.md says what differences meant "
        "so far):",
        *[f"- {difference}" for difference in faults["differences"][:20]],
    ]


def _load(_: Measured) -> list[str]:
    under_load = load.gateway_under_load()
    return [
        "## The local gateway under load",
        "",
        f"{under_load['clients']} concurrent clients (one connection each) posting beacons and contact forms to",
        f"`nurture local` for {under_load['seconds']:.0f} s, every fifth form twice: "
        f"**{under_load['requests_per_second']:.0f} requests/s**, {under_load['errors']} errors,",
        f"latency median {under_load['median_ms']} ms, p99 {under_load['p99_ms']} ms; "
        f"{under_load['forms_accepted']:,} forms and {under_load['beacons_accepted']:,} beacons accepted,",
        f"{under_load['stored_wrongly']} stored other than exactly once.",
        "The local runtime is one Python process serving every function; this measures it, not Lambda.",
    ]


def _cold_import(_: Measured) -> list[str]:
    return [
        "## Cold import of each handler module",
        "",
        f"Median of {cold_import.RUNS} fresh interpreters with Lambda's environment variables set, tracing off as",
        "shipped: the handler's import and its first request's config load (the config layer's compiled config,",
        "as `cdk synth` stages it). Aim: at most 1.3x the bare boto3 client; each sample is divided by a baseline",
        "run just before it, and the ratio is the median of those.",
        "",
        "| module | seconds | ratio |",
        "|---|---:|---:|",
        *[f"| `{name}` | {seconds:.3f} | {ratio:.2f}x |" for name, seconds, ratio in cold_import.measure()],
    ]


def _deploy(measured: Measured) -> list[str]:
    synth_seconds, resources, _ = measured.synthesized
    layers = deploy.layer_megabytes()
    return [
        "## What `cdk deploy` ships",
        "",
        f"- `cdk synth` with cdk-nag (pinned CLI, layers built): **{synth_seconds:.1f} s**; the template holds "
        f"**{resources} resources**.",
        f"- Layers, unzipped (aim: dependencies under 25 MB): dependencies **{layers['dependencies']:.1f} MB** "
        f"as `make layers` built them here ({layers['bytecode']:.1f} MB of it precompiled cold-start modules), "
        f"library {layers['library']:.2f} MB, config {layers['config']:.2f} MB.",
        "",
        "Cold import and first config load of each handler with nothing importable but its layers and the",
        "runtime's boto3 (medians, seconds), with the layers' source only and precompiled as `make layers` and",
        "`cdk synth` ship them; the ratio is the latter's to the bare boto3 client, each sample against a",
        "baseline run just before it (the median of those ratios). Aim: at most 1.3x.",
        "",
        "| handler | source only | precompiled | ratio |",
        "|---|---:|---:|---:|",
        *[f"| `{name}` | {plain:.3f} | {compiled:.3f} | {ratio:.2f}x |"
          for name, plain, compiled, ratio in measured.layer_imports],
    ]


# The page's sections in its order; `python -m bench.run NAME...` measures only those and keeps the others'
# last numbers (each says when it was measured), so an hour-long page can be renewed a part at a time.
SECTIONS: dict[str, Callable[[Measured], list[str]]] = {
    "cost": _cost, "calls": _calls, "scoring": _scoring, "sales": _sales, "replies": _replies,
    "console": _console, "attendance": _attendance, "steps": _steps, "campaigns": _campaigns,
    "customers": _customers, "faults": _faults, "load": _load, "cold-import": _cold_import, "deploy": _deploy,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("sections", nargs="*", metavar="SECTION",
                        help=f"measure only these ({', '.join(SECTIONS)}); all by default")
    chosen = parser.parse_args(argv).sections or list(SECTIONS)
    if unknown := [name for name in chosen if name not in SECTIONS]:
        parser.error(f"no section {', '.join(unknown)}; the sections are {', '.join(SECTIONS)}")
    kept = sections_of(DOC.read_text(encoding="utf-8")) if DOC.exists() else {}
    measured, machine = Measured(), (f"{platform.machine()}, {os.cpu_count()} cores, "
                                     f"Python {platform.python_version()}, {platform.system()}")
    for name in chosen:
        stamp = f"_Measured by `python -m bench.run {name}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC ({machine})._"
        body = SECTIONS[name](measured)
        kept[name] = "\n".join([body[0], "", stamp, *body[1:]])
        print(kept[name], flush=True)
        DOC.write_text(page(kept), encoding="utf-8")  # each section as it is measured: a later failure keeps it


def page(sections: dict[str, str]) -> str:
    """The page: every section between its markers, in SECTIONS' order; one never measured says how to."""
    lines = ["# Benchmarks", "",
             "Written by `make bench` (`python -m bench.run` with section names renews only those). Numbers, not",
             "pass/fail: the aims are stated beside them.", ""]
    for name in SECTIONS:
        text = sections.get(name, f"_Not measured yet: `python -m bench.run {name}`._")
        lines += [f"<!-- bench:{name} -->", text, f"<!-- /bench:{name} -->", ""]
    lines += ["## Reading these numbers", "", *NOTES]
    return "\n".join(lines) + "\n"


def sections_of(text: str) -> dict[str, str]:
    """The sections a page holds, by name, as written between their markers."""
    return {match["name"]: match["body"] for match in SECTION.finditer(text)}


def _call_table(rows: list[tuple[str, dict]]) -> list[str]:
    lines = ["| what | reads | writes | calls |", "|---|---:|---:|---|"]
    for name, row in rows:
        detail = ", ".join(f"{op} {n}" for op, n in sorted(row["calls"].items()))
        lines.append(f"| {name} | {row['reads']} | {row['writes']} | {detail} |")
    return lines


if __name__ == "__main__":
    main()
