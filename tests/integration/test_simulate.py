"""`nurture simulate`: a reproducible month in miniature, its invariants read from the outbox."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from nurture.local.simulation import ENGLISH, FAMILY, GIVEN
from tests.conftest import REPO
from tests.local_system import personal_data_in

pytestmark = pytest.mark.integration
WORLD = ("--leads", "12", "--days", "9", "--seed", "5")
OTHER_SEED = ("--leads", "12", "--days", "9", "--seed", "6")
BOUNCE_STORM = ("--leads", "60", "--days", "6", "--seed", "2", "--bad-addresses", "0.5")
# The shipped 2027 plan's April newsletter (the 14th, 10:00) tests two subjects on 20%.
CALENDAR_WEEK = ("--leads", "20", "--days", "5", "--seed", "4", "--start", "2027-04-12")

LOGGED = ("logged",)  # WORLD once more, with the functions' logs and metrics written as CloudWatch would get them

# Every run the module needs starts at once, two at a time (one a core); a test waits for the ones it reads.
_pool = ThreadPoolExecutor(max_workers=2)
_runs: dict[tuple[str, ...], Future] = {}


def _started(key: tuple[str, ...]) -> Future:
    if key not in _runs:
        _runs[key] = _pool.submit(_simulated_with_logs if key == LOGGED else _simulated, *key)
    return _runs[key]


def _simulated(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "nurture.cli.main", "simulate", *args, "--json"], cwd=REPO,
                          text=True, capture_output=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _simulated_with_logs(*_: str) -> tuple[dict, str]:
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "functions.log"
        report = _simulated(*WORLD, "--logs", str(log))
        return report, log.read_text(encoding="utf-8")


def simulate(*args: str) -> dict:
    return _started(args).result()


def simulated_with_logs() -> tuple[dict, str]:
    return _started(LOGGED).result()


@pytest.fixture(scope="module", autouse=True)
def _every_run_started() -> Iterator[None]:
    for key in (WORLD, LOGGED, BOUNCE_STORM, OTHER_SEED, CALENDAR_WEEK):
        _started(key)
    yield
    _pool.shutdown(wait=True, cancel_futures=True)


def test_same_seed_same_output_and_no_send_breaks_a_rule():
    first = simulate(*WORLD)
    assert first == simulated_with_logs()[0]  # run again (logging everything), really
    assert {"leads", "emails_sent", "unsubscribed", "handoffs", "sends_after_unsubscribe", "sends_outside_window",
            "sends_over_cap", "steps", "opens_human", "opens_bot", "clicks_human", "clicks_bot", "bounced",
            "complained", "suppressed", "sending_paused"} <= set(first)
    assert first["leads"] == 12 and first["emails_sent"] > 0
    assert (first["sends_after_unsubscribe"], first["sends_after_suppression"], first["sends_while_paused"],
            first["sends_outside_window"], first["sends_over_cap"]) == (0, 0, 0, 0, 0)
    assert sum(step["sent"] for step in first["steps"].values()) == first["emails_sent"]
    assert all(step["clicked"] <= step["opened"] <= step["sent"] for step in first["steps"].values())


def test_machines_opens_and_clicks_arrive_as_ses_events_and_count_apart_from_peoples():
    report = simulate(*WORLD)
    assert report["opens_bot"] > 0 and report["clicks_bot"] > 0  # image prefetch, gateways following links
    # What people did is all the steps' table shows: a machine's open or click is in neither column.
    assert sum(step["clicked"] for step in report["steps"].values()) <= report["clicks_human"]
    # A bad address is mailed once: its bounce suppresses it before the next step.
    assert report["bounced"] == report["bounced_addresses"] == report["emails_to_bouncing_addresses"] > 0
    assert report["suppressed"] == report["bounced"] + report["complained"] + report["unsubscribed"]
    assert report["sending_paused"] is False


def test_a_bounce_storm_pauses_sending():
    # Given a list where half the addresses do not exist, and the shipped guard
    # When a week is played out
    report = simulate(*BOUNCE_STORM)
    # Then the bounces pause sending, nothing goes out afterwards, and leads are left waiting
    assert report["sending_paused"] is True and report["sends_while_paused"] == 0
    # (with good addresses, the same week emails 57 of the 60)
    assert report["bounced"] >= 2 and report["leads_emailed"] < 0.75 * report["leads"]


def test_the_functions_log_no_ones_address_name_or_phone():
    report, log = simulated_with_logs()
    # The log is really there: a line for every form captured and every email sent, and the metrics
    lines = [json.loads(line) for line in log.splitlines()]
    assert sum(line.get("message") == "form captured" for line in lines) == report["leads"]
    assert sum(line.get("outcome") == "sent" for line in lines) == report["emails_sent"]
    assert any("_aws" in line for line in lines)
    # And nothing in it is anyone's personal data, as written or as JSON escapes it
    names = {f"{family} {given}" for family in FAMILY for given in GIVEN} | set(FAMILY) | set(ENGLISH)
    for text in (log, json.dumps(lines, ensure_ascii=False)):
        assert personal_data_in(text, names | {"03-1234-5678"}) == []


def test_another_seed_plays_out_differently():
    assert simulate(*OTHER_SEED) != simulate(*WORLD)


def test_bad_arguments_are_refused_with_a_reason():
    done = subprocess.run([sys.executable, "-m", "nurture.cli.main", "simulate", "--leads", "0"], cwd=REPO,
                          text=True, capture_output=True, timeout=120, check=False)
    assert done.returncode == 2 and "at least 1" in done.stderr


def test_a_simulated_week_of_the_shipped_calendar_sends_its_newsletter_once_to_its_segment_only():
    # Given the shipped 2027 plan, whose April newsletter (the 14th, 10:00) tests two subjects on 20%
    report = simulate(*CALENDAR_WEEK)
    # Then it goes to everyone in its segment when it went out, to nobody twice and nobody outside it
    april = report["campaigns"]["newsletter-2027-04"]
    # (members: when it started; the rest goes out hours later, to anyone who joined the segment meanwhile too)
    assert april["members"] > 10 and april["sent"] >= april["members"]
    assert (april["leads_twice"], april["outside_segment"]) == (0, 0)
    assert set(report["campaigns"]) == {"newsletter-2027-04"}  # only what falls in the week is played
    # And the rules every email obeys hold for the campaign's too
    assert (report["sends_after_unsubscribe"], report["sends_after_suppression"], report["sends_while_paused"],
            report["sends_outside_window"], report["sends_over_cap"]) == (0, 0, 0, 0, 0)
    assert report["steps"]["campaign/newsletter-2027-04"]["sent"] == april["sent"]
