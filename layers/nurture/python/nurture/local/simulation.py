"""`nurture simulate`: a month of nurturing in seconds, on the emulator, with the real handlers.

A virtual clock (time-machine) drives everything: synthetic leads submit forms, read emails, click,
visit the pricing page, download, unsubscribe or complain, each with its persona's probabilities, and
the scheduler ticks as time passes. What SES would publish goes through the same SNS topic and queue
to the real `ses_events`: every send, its delivery or (for an address that does not exist) its
bounce, complaints, and the machines' part — mail apps that prefetch images on delivery and security
gateways that follow every link. People open and click through Nurture's own pixel and links, as in
production; the machines' opens and clicks arrive as SES Open and Click events, so both of the bot
judges' doors are exercised. The campaigns of the config that fall in the period are scheduled at its
start and go out as the dispatcher starts them; right before the sender takes a campaign's messages, the
simulation notes who is in its segment, so an email to anyone else would show. What the report says
is read back from the outbox (what SES accepted) and from the leads' stored histories, never from the
dispatcher's own bookkeeping, so a send outside the window, over the cap, to a suppressed address or
while sending was paused would show.
"""

from __future__ import annotations

import functools
import heapq
import json
import os
import random
import re
import uuid
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from nurture.domain.clock import parse_iso
from nurture.domain.text import email_key

if TYPE_CHECKING:  # annotations only: `nurture --help` imports this module for Mix's defaults
    from nurture.config.campaigns import Campaign
    from nurture.config.sequences import FrequencyCap, SequencesConfig
    from nurture.local.ses_publisher import SesMail

TOKYO = ZoneInfo("Asia/Tokyo")
API_BASE = "https://api.nurture.example"  # links in the simulated emails; followed in-process, never fetched
DEFAULT_START = date(2026, 4, 20)  # a Monday: the month ahead holds Golden Week


@dataclass(frozen=True)
class Persona:
    name: str
    share: float  # of all leads
    opens: float  # chance of opening an email
    clicks: float  # chance of clicking, once opened
    pricing: float  # chance of visiting the pricing page after a click
    downloads: float  # chance of downloading a document after a click
    unsubscribes: float  # chance of unsubscribing, once opened
    bounces: bool = False  # the address does not exist


PERSONAS = (
    Persona("engaged", 0.15, opens=0.75, clicks=0.45, pricing=0.5, downloads=0.3, unsubscribes=0.01),
    Persona("casual", 0.40, opens=0.40, clicks=0.12, pricing=0.15, downloads=0.1, unsubscribes=0.03),
    Persona("silent", 0.30, opens=0.06, clicks=0.05, pricing=0.0, downloads=0.0, unsubscribes=0.02),
    Persona("unsubscriber", 0.08, opens=0.6, clicks=0.0, pricing=0.0, downloads=0.0, unsubscribes=0.6),
)
BOUNCER = Persona("bouncer", 0.0, opens=0.0, clicks=0.0, pricing=0.0, downloads=0.0, unsubscribes=0.0, bounces=True)


@dataclass(frozen=True)
class Mix:
    """The world's mail beyond the personas: shares of leads and chances per email."""

    bad_addresses: float = 0.02  # leads whose address does not exist (mistyped business cards)
    complaints: float = 0.0005  # chance that a person who opens an email reports it as spam instead
    apple_mail: float = 0.3  # leads whose mail app fetches images on delivery (Mail Privacy Protection)
    mail_gateways: float = 0.25  # leads behind a security gateway that follows every link of every email


BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
PREFETCH = ("Mozilla/5.0", "17.58.101.1")  # Apple's image proxy: announces nothing, opens on delivery
GATEWAY = (BROWSER, "198.51.100.25")  # a mail gateway posing as a browser: only its timing gives it away
FAMILY = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤")
GIVEN = ("太郎", "花子", "健一", "美咲", "大輔", "陽子", "翔太", "由美", "直樹", "恵")
ENGLISH = ("Alex Morgan", "Sam Carter", "Jordan Lee", "Taylor Reed", "Chris Walker", "Pat Kim")
COMPANIES = (  # (name, industry, employees)
    ("株式会社ミナト製作所", "製造業", 1200), ("北斗ソフト株式会社", "IT", 350), ("さくら物流株式会社", "物流", 80),
    ("東都建設株式会社", "建設", 2400), ("株式会社アオバ商事", "卸売", 40), ("Harbor Analytics Inc.", "IT", 150),
    ("Pacific Components Ltd.", "製造業", 600), ("株式会社ひかり医療", "医療", 8),
    # Many companies, few people each, as a list of inquiries is: three people of one company sending forms within
    # two weeks make a hot account (scoring.yaml), which a world of eight companies would make of everyone.
    ("株式会社なごみ食品", "食品", 230), ("大和精機株式会社", "製造業", 900), ("株式会社みらい教育", "教育", 60),
    ("港北システムズ株式会社", "IT", 120), ("株式会社しずく化学", "化学", 1500),
    ("北陸メディカル株式会社", "医療", 300),
    ("Summit Logistics Inc.", "物流", 450), ("株式会社あさひ不動産", "不動産", 25), ("中央電設株式会社", "建設", 700),
    ("株式会社つばさ旅行", "サービス", 90), ("Riverside Foods Co., Ltd.", "食品", 280),
    ("株式会社ときわ銀行", "金融", 3000),
    ("株式会社かなで楽器", "製造業", 150), ("瀬戸内海運株式会社", "物流", 400), ("株式会社いろは印刷", "印刷", 35),
    ("Blue Pine Software Ltd.", "IT", 70),
)
TITLES = ("部長", "課長", "担当", "本部長", "Manager", "Director", "Engineer")
FORMS = (("contact", 0.35), ("whitepaper", 0.40), ("seminar", 0.18), ("demo", 0.07))


@dataclass
class SimLead:
    index: int
    persona: Persona
    email: str
    vid: str
    rng: random.Random
    apple_mail: bool
    behind_gateway: bool
    lead_id: str | None = None


@dataclass(order=True)
class _Action:
    at: datetime
    order: int
    run: Callable[[], None] = field(compare=False)


@dataclass
class StepCounts:
    sent: int = 0
    opened: int = 0
    clicked: int = 0


@dataclass
class CampaignCounts:
    members: int = 0  # in its segment when its scan ran (people a person could check)
    sent: int = 0
    leads_twice: int = 0  # leads who got it more than once (must be 0)
    outside_segment: int = 0  # emails to leads not in its segment when it went out (must be 0)


@dataclass
class Report:
    leads: int
    days: int
    seed: int
    start: str
    emails_sent: int = 0
    leads_emailed: int = 0
    leads_opened: int = 0
    leads_clicked: int = 0
    unsubscribed: int = 0
    bounced_addresses: int = 0
    emails_to_bouncing_addresses: int = 0
    handoffs: int = 0
    opens_human: int = 0
    opens_bot: int = 0
    clicks_human: int = 0
    clicks_bot: int = 0
    bounced: int = 0  # leads whose address bounced
    complained: int = 0  # leads who reported an email as spam
    suppressed: int = 0  # addresses never mailed again (bounced, complained, unsubscribed)
    sending_paused: bool = False  # the deliverability guard paused sending
    sends_after_unsubscribe: int = 0
    sends_after_suppression: int = 0  # after the address bounced or complained
    sends_while_paused: int = 0
    sends_outside_window: int = 0
    sends_over_cap: int = 0
    faults_injected: dict[str, int] = field(default_factory=dict)  # AWS attempts failed on purpose, per service
    steps: dict[str, StepCounts] = field(default_factory=dict)
    campaigns: dict[str, CampaignCounts] = field(default_factory=dict)  # of the shipped calendar, in the period

    def to_json(self) -> dict[str, Any]:
        return {**{k: v for k, v in self.__dict__.items() if k not in ("steps", "campaigns")},
                "steps": {name: counts.__dict__ for name, counts in sorted(self.steps.items())},
                "campaigns": {name: counts.__dict__ for name, counts in sorted(self.campaigns.items())}}

    def text(self) -> str:
        lines = [
            f"{self.leads} leads over {self.days} days from {self.start} (seed {self.seed})",
            f"Funnel: {self.leads} leads -> {self.leads_emailed} emailed -> {self.leads_opened} opened -> "
            f"{self.leads_clicked} clicked; {self.handoffs} handed off to sales",
            f"Emails sent: {self.emails_sent}; unsubscribed: {self.unsubscribed}; bouncing addresses: "
            f"{self.bounced_addresses} ({self.emails_to_bouncing_addresses} emails to them)",
            f"Opens: {self.opens_human} by people, {self.opens_bot} by machines; clicks: {self.clicks_human} by "
            f"people, {self.clicks_bot} by machines",
            f"Bounced {self.bounced}, complained {self.complained}, suppressed {self.suppressed}; sending "
            f"{'PAUSED by the deliverability guard' if self.sending_paused else 'not paused'}",
            f"Invariants: sends after unsubscribe {self.sends_after_unsubscribe}, after a bounce or complaint "
            f"{self.sends_after_suppression}, while paused {self.sends_while_paused}, outside the send window "
            f"{self.sends_outside_window}, over the frequency cap {self.sends_over_cap}; campaigns to a lead twice "
            f"{sum(c.leads_twice for c in self.campaigns.values())}, outside their segment "
            f"{sum(c.outside_segment for c in self.campaigns.values())}",
            *([f"Faults injected: {self.faults_injected}"] if self.faults_injected else []),
            "",
            f"{'sequence / step':<44}{'sent':>7}{'opened':>8}{'clicked':>9}",
        ]
        lines += [f"{name:<44}{c.sent:>7}{c.opened:>8}{c.clicked:>9}" for name, c in sorted(self.steps.items())]
        if self.campaigns:
            lines += ["", f"{'campaign (shipped calendar)':<44}{'members':>8}{'sent':>7}"]
            lines += [f"{name:<44}{c.members:>8}{c.sent:>7}" for name, c in sorted(self.campaigns.items())]
        return "\n".join(lines)


def simulate(config_dir: Path, leads: int, days: int, seed: int, start: date = DEFAULT_START,
             tick: timedelta = timedelta(minutes=15), mix: Mix = Mix(), faults: float = 0.0,
             inspect: Callable[[], None] | None = None, logs: TextIO | None = None,
             progress: Callable[[int, int], None] | None = None) -> Report:
    """`faults`: the share of the handlers' DynamoDB, SQS and SES attempts that fail (throttling or a
    5xx), from a generator seeded like the rest. `inspect` runs at the end, while the emulated
    account still exists (tests read the table there). `logs` receives what the functions would
    write to CloudWatch Logs (their INFO logs and metrics); without it only errors are logged."""
    from unittest import mock

    from nurture.local.resources import LocalResources

    resources = LocalResources()
    quiet = {"AWS_ACCESS_KEY_ID": "sim", "AWS_SECRET_ACCESS_KEY": "sim", "AWS_SESSION_TOKEN": "sim",
             "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "POWERTOOLS_TRACE_DISABLED": "true"}
    # The whole environment comes back as it was afterwards, the popped endpoint included.
    with mock.patch.dict(os.environ, {**resources.environment(str(config_dir.resolve()), API_BASE), **quiet}):
        os.environ.pop("AWS_ENDPOINT_URL", None)
        import time_machine
        from aws_lambda_powertools.utilities import parameters
        from moto import mock_aws

        from nurture.adapters.aws import inject_faults, reset_clients
        from nurture.adapters.faults import FaultInjector, FaultPlan
        from nurture.http import services
        from nurture.local import emulator
        from nurture.local.log import functions_logging
        from nurture.local.resources import create_resources
        from nurture.settings import marketer_config, reload

        emulator.install()
        moment = datetime.combine(start, time(0, 0), TOKYO)
        # Ids from the seed too: lead ids decide due shards and the order within them, so a busy tick
        # must cut in the same place every run. The handlers' logs and metrics are not the simulation's
        # output: they go to `logs`, or (errors only) to the console. Back-offs (the SDK's and ours) wait
        # for nothing in virtual time: no real sleeping.
        ids = random.Random(f"ids/{seed}")  # noqa: S311 - reproducible ids for a simulation
        with mock_aws(), time_machine.travel(moment, tick=False) as clock, \
                mock.patch("uuid.uuid4", lambda: uuid.UUID(int=ids.getrandbits(128), version=4)), \
                mock.patch("time.sleep", lambda seconds: None), \
                functions_logging(logs), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            create_resources(resources)
            reset_clients()
            reload()
            services.reset()
            parameters.clear_caches()
            injector = FaultInjector(FaultPlan(faults, seed)) if faults else None
            try:
                world = _World(resources, marketer_config().sequences, clock, leads, days, seed, moment, mix)
                inject_faults(injector)
                world.run(moment + timedelta(days=days), tick, days, progress)
                inject_faults(None)
                if inspect is not None:
                    inspect()
                report = world.report(Report(leads=leads, days=days, seed=seed, start=start.isoformat()))
                report.faults_injected = dict(sorted(injector.injected.items())) if injector else {}
                return report
            finally:
                inject_faults(None)
                reset_clients()
                reload()
                services.reset()


class _World:
    def __init__(self, resources: Any, sequences: SequencesConfig, clock: Any, leads: int, days: int, seed: int,
                 start: datetime, mix: Mix):
        import boto3

        from nurture.adapters.lead_store import DynamoLeadStore
        from nurture.local import emulator
        from nurture.local.functions import invoke
        from nurture.local.queues import QueuePoller
        from nurture.local.ses_publisher import EventPublisher
        from nurture.local.streams import StreamPoller

        self._resources = resources
        self._sequences = sequences
        self._clock = clock
        self._actions: list[_Action] = []
        self._order = 0
        self._invoke = invoke
        # Delivered stream records are dropped, as in `nurture local`: moto copies the whole stream on
        # every transaction, so a month of records kept would make each write slower than the last.
        self._streams = StreamPoller(resources.table_name, resources.region,
                                     {name: functools.partial(invoke, name) for name in ("scoring", "handoff")},
                                     on_delivered=emulator.stream_trimmer(resources.table_name, resources.region))
        self._sender = QueuePoller(resources.queue_url(resources.send_queue), resources.region,
                                   functools.partial(invoke, "sender"), retry_at_once=True)
        self._ses_events = QueuePoller(resources.queue_url(resources.ses_events_queue), resources.region,
                                       functools.partial(invoke, "ses_events"), retry_at_once=True)
        self._audience = QueuePoller(resources.queue_url(resources.audience_queue), resources.region,
                                     functools.partial(invoke, "audience"), batch_size=1, retry_at_once=True)
        self._ses = EventPublisher(resources.configuration_set_arn, resources.region)
        self._mix = mix
        self._campaigns = _schedule_calendar(resources.table_name, start, start + timedelta(days=days))
        # Per campaign, every lead that was in its segment at a moment its emails went out: the oracle.
        self._members: dict[str, set[str]] = {name: set() for name in self._campaigns}
        self._first_members: dict[str, int] = {}
        self._campaign_sends: dict[str, Counter[str]] = {name: Counter() for name in self._campaigns}
        self._emails_seen = 0
        self._sqs = boto3.client("sqs")
        # The world's own reads bypass the adapters' clients, so injected faults never reach them.
        self._leads = DynamoLeadStore(resources.table_name, boto3.client("dynamodb"))
        self._handoff_ids: set[str] = set()
        self.outbox: list[EmailMessage] = []
        chooser = random.Random(seed)  # noqa: S311 - a reproducible simulation, not security
        self.leads: list[SimLead] = []
        for index in range(leads):
            bad = chooser.random() < mix.bad_addresses
            persona = BOUNCER if bad else chooser.choices(PERSONAS, weights=[p.share for p in PERSONAS])[0]
            domain = "bounce.simulator.invalid" if persona.bounces else f"corp{index % 97}.example.co.jp"
            rng = random.Random(f"{seed}/{index}")  # noqa: S311 - per lead, order-independent
            lead = SimLead(index, persona, f"lead{index:05d}@{domain}", f"sim-{seed}-{index:05d}", rng,
                           apple_mail=rng.random() < mix.apple_mail, behind_gateway=rng.random() < mix.mail_gateways)
            self.leads.append(lead)
            # Sign-ups spread over the first two thirds of the period, at any hour of the day.
            at = start + timedelta(minutes=lead.rng.uniform(0, days * 24 * 60 * 2 / 3))
            self._schedule(at, functools.partial(self._sign_up, lead))
        self._by_email = {lead.email: lead for lead in self.leads}

    # --- the timeline -------------------------------------------------------------------------

    def _schedule(self, at: datetime, run: Callable[[], None]) -> None:
        self._order += 1
        heapq.heappush(self._actions, _Action(at, self._order, run))

    def run(self, end: datetime, tick: timedelta, days: int,
            progress: Callable[[int, int], None] | None = None) -> None:
        """Every tick until `end`, the last of `days`; `progress` (whole virtual days done, `days`) at each, and
        (`days`, `days`) at the end."""
        now = self._actions[0].at.replace(hour=0, minute=0) if self._actions else end
        while now < end:
            if progress is not None:
                days_left = -((now - end) // timedelta(days=1))  # whole or begun
                progress(max(days - days_left, 0), days)
            now += tick
            acted = False
            while self._actions and self._actions[0].at <= now:
                action = heapq.heappop(self._actions)
                self._clock.move_to(action.at)
                action.run()
                acted = True
            self._clock.move_to(now)
            if acted:
                self._ses_events.drain(rounds=100_000)  # what SES published meanwhile
                self._drain_streams()  # scoring (and enrollment) of what the leads just did
            released = self._tick(now)
            if self._audience.drain(rounds=100_000) or released:  # a campaign's members are on the send queue
                self._note_segments(now)
            if self._sender.drain(rounds=100_000):  # until empty: a busy morning is sent in full
                self._read_new_emails(now)
                self._ses_events.drain(rounds=100_000)
                self._drain_streams()
        if progress is not None:
            progress(days, days)

    def _tick(self, now: datetime) -> int:
        """The scheduler's invocation; a tick that failed (an AWS fault) is invoked again, as the
        scheduler does a minute later. Returns the held campaign emails it released."""
        from nurture.local.queues import scheduled_event

        for attempt in range(3):
            try:
                answer = self._invoke("dispatcher", scheduled_event(self._resources.region, now))
                return int((answer or {}).get("held_released", 0))
            except Exception:
                if attempt == 2:
                    raise
        return 0

    def _note_segments(self, now: datetime) -> None:
        """Who is in each campaign's segment right before the sender takes its messages (nothing else runs
        in between): read here from the profiles with the segment's own definition."""
        from nurture.domain.accounts.standing import with_accounts
        from nurture.domain.audiences.evaluate import SegmentEvaluator
        from nurture.settings import marketer_config

        config = marketer_config()
        evaluator = SegmentEvaluator(config.segments, config.scoring, config.subscriptions)
        profiles = [p for p in (self._leads.profile(lead.lead_id) for lead in self.leads if lead.lead_id) if p]
        profiles = with_accounts(profiles, self._leads.account_standings)
        for name, campaign in self._campaigns.items():
            if campaign.starts(config.sequences.send_window) <= now:
                members = {str(p["PK"]).removeprefix("LEAD#") for p in profiles
                           if evaluator.matches(campaign.segment, p, now)}
                self._first_members.setdefault(name, len(members))
                self._members[name] |= members

    def _drain_streams(self) -> None:
        for _ in range(6):  # scoring writes HANDOFF# items that the next poll publishes
            if self._streams.poll_once() == 0:
                break
        self._poll_handoffs()

    def _poll_handoffs(self) -> None:
        """As sales tooling does, as time passes (a message left for days would expire from SQS)."""
        while batch := self._sqs.receive_message(QueueUrl=self._resources.handoff_queue_url,
                                                 MaxNumberOfMessages=10).get("Messages", []):
            for message in batch:
                self._handoff_ids.add(json.loads(message["Body"])["handoff_id"])
                self._sqs.delete_message(QueueUrl=self._resources.handoff_queue_url,
                                         ReceiptHandle=message["ReceiptHandle"])

    # --- what leads do ------------------------------------------------------------------------

    def _sign_up(self, lead: SimLead) -> None:
        from nurture.local.functions import api_request

        rng = lead.rng
        form = rng.choices([f for f, _ in FORMS], weights=[w for _, w in FORMS])[0]
        company, industry, employees = rng.choice(COMPANIES)
        english = form == "demo" or rng.random() < 0.15
        name = rng.choice(ENGLISH) if english else f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}"
        fields: dict[str, Any] = {"email": lead.email, "name": name, "company": company, "industry": industry,
                                  "employees": employees, "title": rng.choice(TITLES), "consent": True,
                                  "vid": lead.vid, "country": "US" if english else "JP"}
        if form == "seminar":
            fields["session"] = "2026-12-10"
        if form == "demo":
            fields["phone"] = "03-1234-5678"
        response = _until_answered(lambda: api_request(
            "POST", f"/v1/forms/{form}", headers={"content-type": "application/json"},
            body=json.dumps(fields, ensure_ascii=False).encode()))
        assert response["statusCode"] == 202, response
        # The answer never names the lead: it is found by its address, as sales tooling finds it.
        lead.lead_id = self._leads.find_lead_id(email_key(lead.email))
        if lead.persona.name == "engaged":
            self._schedule(self._now() + timedelta(days=rng.uniform(1, 6)), functools.partial(self._visit, lead,
                                                                                              "/pricing"))

    def _visit(self, lead: SimLead, path: str) -> None:
        self._beacon(lead, {"type": "page_view", "url": f"https://www.example.co.jp{path}"})

    def _download(self, lead: SimLead) -> None:
        self._beacon(lead, {"type": "download", "url": "https://www.example.co.jp/files/case-study.pdf"})

    def _beacon(self, lead: SimLead, event: dict[str, Any]) -> None:
        from nurture.local.functions import api_request

        # A browser's beacon is never sent twice: a refused one is a lost hit, as in production.
        api_request("POST", "/v1/events", headers={"content-type": "application/json"},
                    body=json.dumps({"vid": lead.vid, **event}).encode())

    def _follow(self, url: str, method: str = "GET", body: bytes | None = None) -> None:
        from nurture.local.functions import api_request

        _until_answered(lambda: api_request(method, urlsplit(url).path, body=body, headers={
            "content-type": "application/x-www-form-urlencoded", "user-agent": BROWSER}))

    def _read_new_emails(self, now: datetime) -> None:
        from nurture.local import emulator
        from nurture.local.ses_publisher import SesMail

        new = emulator.sent_emails(self._resources.region, self._emails_seen)
        self._emails_seen += len(new)
        for sent in new:
            email = message_from_bytes(sent.raw, policy=default)
            assert isinstance(email, EmailMessage)
            self.outbox.append(email)
            lead = self._by_email.get(str(email["To"]))
            mail = SesMail.of(sent, self._resources.configuration_set, now)
            self._ses.publish(mail.send())
            if lead is not None and lead.persona.bounces:
                self._schedule(now + timedelta(seconds=30), functools.partial(self._ses.publish, mail.bounce(
                    now + timedelta(seconds=30))))
                continue
            self._ses.publish(mail.delivery(now + timedelta(milliseconds=800)))
            if lead is not None:
                html = _html(email)
                self._machines(lead, html, mail, now)
                self._react(lead, email, html, mail, now)

    def _machines(self, lead: SimLead, html: str, mail: SesMail, received: datetime) -> None:
        """Image prefetch on delivery, and a gateway following every link (the hidden one too), either
        as the email arrives or when it leaves quarantine minutes later: a burst only the scorer sees."""
        if lead.apple_mail:
            self._schedule(received + timedelta(seconds=1), functools.partial(
                self._ses.publish, mail.open(received + timedelta(seconds=1), *PREFETCH)))
        if not lead.behind_gateway:
            return
        links = re.findall(r'href="([^"]+/v1/t/c/[^"]+)"', html)
        scanned = received + (timedelta(seconds=3) if lead.rng.random() < 0.5
                              else timedelta(minutes=lead.rng.uniform(5, 30)))
        for n, link in enumerate(links):
            at = scanned + timedelta(milliseconds=120 * n)
            self._schedule(at, functools.partial(self._ses.publish, mail.click(at, link, *GATEWAY)))

    def _react(self, lead: SimLead, email: EmailMessage, html: str, mail: SesMail, received: datetime) -> None:
        persona, rng = lead.persona, lead.rng
        if rng.random() >= persona.opens:
            return
        opened = received + timedelta(minutes=rng.uniform(5, 60 * 36))
        pixel = re.search(r'src="([^"]+/v1/t/o/[^"]+)"', html)
        if pixel:
            self._schedule(opened, functools.partial(self._follow, pixel.group(1)))
        if rng.random() < self._mix.complaints:
            complained = opened + timedelta(minutes=1)
            self._schedule(complained, functools.partial(self._ses.publish, mail.complaint(complained)))
            return
        # An email the person asked for (a material) has nothing to unsubscribe from.
        if rng.random() < persona.unsubscribes and email["List-Unsubscribe"]:
            unsubscribe = str(email["List-Unsubscribe"]).strip("<>")
            self._schedule(opened + timedelta(minutes=1), functools.partial(
                self._follow, unsubscribe, "POST", b"List-Unsubscribe=One-Click"))
            return
        # People click what they see: not the hidden honeypot link (machines follow that one).
        links = re.findall(r'href="([^"]+/v1/t/c/[^"]+)"(?! style="display:none")', html)
        if not links or rng.random() >= persona.clicks:
            return
        clicked = opened + timedelta(seconds=rng.uniform(20, 600))
        self._schedule(clicked, functools.partial(self._follow, rng.choice(links)))
        if rng.random() < persona.pricing:
            self._schedule(clicked + timedelta(minutes=2), functools.partial(self._visit, lead, "/pricing"))
        if rng.random() < persona.downloads:
            self._schedule(clicked + timedelta(minutes=4), functools.partial(self._download, lead))

    def _now(self) -> datetime:
        return datetime.now(TOKYO)

    # --- the report: from the outbox and the stored histories -----------------------------------

    def _count_campaign(self, report: Report, lead_id: str, campaign: str) -> None:
        counts = report.campaigns.setdefault(campaign, CampaignCounts())
        counts.sent += 1
        counts.outside_segment += lead_id not in self._members.get(campaign, set())
        self._campaign_sends[campaign][lead_id] += 1

    def report(self, report: Report) -> Report:
        from nurture.adapters.deliverability_store import DynamoDeliverabilityStore
        from nurture.adapters.lead_store import DynamoLeadStore

        store = DynamoLeadStore(self._resources.table_name)
        report.campaigns = {name: CampaignCounts() for name in self._campaigns}
        uncapped: dict[str, list[datetime]] = {}  # campaign emails the frequency cap does not count, per address
        # Emails people asked for a moment ago (a material, a confirmation): sent at once, whatever the send window,
        # the cap, the pause or an earlier unsubscribe, per address.
        asked: dict[str, list[datetime]] = {}
        unsubscribed_at: dict[str, datetime] = {}
        suppressed_at: dict[str, datetime] = {}  # the first bounce or complaint of an address
        emailed: set[int] = set()
        opened: set[int] = set()
        clicked: set[int] = set()
        for lead in self.leads:
            if lead.lead_id is None:
                continue
            history = store.lead_record(lead.lead_id, activity_limit=10_000, ledger_limit=0)
            assert history is not None
            sent_steps: dict[str, str] = {}
            for event in history.activities:
                if event["type"] == "email_sent":
                    step = f"campaign/{event['campaign']}" if event.get("campaign") else \
                        f"{event['sequence']}/{event['step']}"
                    if event.get("asked"):
                        asked.setdefault(lead.email, []).append(parse_iso(str(event["occurred_at"])))
                    if event.get("campaign"):
                        self._count_campaign(report, lead.lead_id, str(event["campaign"]))
                        if not self._campaigns[str(event["campaign"])].counts_toward_cap:
                            uncapped.setdefault(lead.email, []).append(parse_iso(str(event["occurred_at"])))
                    sent_steps[str(event["message_id"])] = step
                    report.steps.setdefault(step, StepCounts()).sent += 1
                    emailed.add(lead.index)
                elif event["type"] == "unsubscribe":
                    at = parse_iso(str(event["occurred_at"]))
                    unsubscribed_at[lead.email] = min(at, unsubscribed_at.get(lead.email, at))
                elif event["type"] in ("email_bounced", "email_complained"):
                    at = parse_iso(str(event["occurred_at"]))
                    suppressed_at[lead.email] = min(at, suppressed_at.get(lead.email, at))
                if event["type"] in ("email_open", "email_click"):
                    kind = "opens" if event["type"] == "email_open" else "clicks"
                    name = f"{kind}_bot" if event.get("bot") else f"{kind}_human"
                    setattr(report, name, getattr(report, name) + 1)
            # A click without a recorded open (images blocked) still means the email was read; a
            # machine's open or click means nothing.
            people = [e for e in history.activities if not e.get("bot")]
            opens = {str(e.get("message_id")) for e in people if e["type"] in ("email_open", "email_click")}
            clicks = {str(e.get("message_id")) for e in people if e["type"] == "email_click"}
            for message, step in sent_steps.items():
                if message in opens:
                    report.steps[step].opened += 1
                    opened.add(lead.index)
                if message in clicks:
                    report.steps[step].clicked += 1
                    clicked.add(lead.index)
            status = history.profile.get("status")
            report.unsubscribed += status == "unsubscribed"
            report.bounced += status == "bounced"
            report.complained += status == "complained"
            report.suppressed += history.suppressed
        for name, counts in report.campaigns.items():
            counts.members = self._first_members.get(name, 0)
            counts.leads_twice = sum(1 for n in self._campaign_sends[name].values() if n > 1)
        report.emails_sent = len(self.outbox)
        report.leads_emailed, report.leads_opened, report.leads_clicked = len(emailed), len(opened), len(clicked)
        report.bounced_addresses = sum(lead.persona.bounces for lead in self.leads)
        report.emails_to_bouncing_addresses = sum(
            self._by_email[str(e["To"])].persona.bounces for e in self.outbox if str(e["To"]) in self._by_email)
        report.handoffs = len(self._handoff_ids)
        pause = DynamoDeliverabilityStore(self._resources.table_name).paused()
        report.sending_paused = pause is not None
        paused_at = parse_iso(str(pause["paused_at"])) if pause else None
        sends: dict[str, list[datetime]] = {}
        for email in self.outbox:
            sent = parsedate_to_datetime(str(email["Date"]))
            to = str(email["To"])
            report.sends_after_suppression += to in suppressed_at and sent > suppressed_at[to]
            if _recorded_at(asked.get(to, []), sent):
                continue
            if not _recorded_at(uncapped.get(to, []), sent):
                sends.setdefault(to, []).append(sent)
            report.sends_after_unsubscribe += to in unsubscribed_at and sent > unsubscribed_at[to]
            report.sends_while_paused += paused_at is not None and sent > paused_at
            if not inside_window(sent, self._sequences):
                report.sends_outside_window += 1
        report.sends_over_cap = sum(over_cap(times, self._sequences.frequency_cap) for times in sends.values())
        return report


def _recorded_at(moments: list[datetime], sent: datetime) -> bool:
    """Whether one of `moments` (send records) is this email's, taking it off: the Date header has whole seconds,
    the record the same moment, finer."""
    found = next((at for at in moments if abs((at - sent).total_seconds()) < 1), None)
    if found is not None:
        moments.remove(found)
    return found is not None


def _schedule_calendar(table: str, start: datetime, end: datetime) -> dict[str, Campaign]:
    """Schedule, as a marketer would, every campaign of the config that falls in the period."""
    from nurture.adapters.campaign_store import DynamoCampaignStore
    from nurture.domain.campaigns.lifecycle import schedule
    from nurture.settings import marketer_config

    config = marketer_config()
    window = config.sequences.send_window
    store = DynamoCampaignStore(table)
    playing = {name: campaign for name, campaign in config.campaigns.campaigns.items()
               if start <= campaign.starts(window) < end}
    for name in playing:
        store.put(schedule(config, name, None, 1, "simulation", start), None)
    return playing


def _until_answered(request: Callable[[], dict[str, Any] | None], attempts: int = 5) -> dict[str, Any]:
    """A person sends a form (or the unsubscribe button) again when the page says "try again" (503,
    429). The pixel and the click links answer as usual even when their hit was not stored."""
    response: dict[str, Any] | None = None
    for _ in range(attempts):
        response = request()
        if response is not None and response["statusCode"] not in (429, 503):
            return response
    assert response is not None
    return response


def _html(email: EmailMessage) -> str:
    part = email.get_body(("html",))
    return part.get_content() if part is not None else ""


def over_cap(sends: list[datetime], cap: FrequencyCap) -> int:
    """Sends that were one too many within any `per_days` period ending at them."""
    ordered = sorted(sends)
    period = timedelta(days=cap.per_days)
    return sum(1 for n, moment in enumerate(ordered)
               if sum(1 for earlier in ordered[:n + 1] if moment - earlier < period) > cap.max_emails)


def inside_window(moment: datetime, sequences: SequencesConfig) -> bool:
    """Checked here on its own terms (weekday, JP holidays, closed dates, hours), not with the scheduler's code."""
    import holidays

    window = sequences.send_window
    local = moment.astimezone(ZoneInfo(window.timezone))
    if window.business_days_only and local.weekday() >= 5:
        return False
    if window.holidays and local.date() in holidays.country_holidays(window.holidays, years=local.year):
        return False
    if local.strftime("%m-%d") in window.closed_dates:
        return False
    return window.start <= local.time() < window.end
