"""AWS faults change nothing that matters: `simulate` with 10% of DynamoDB, SQS and SES attempts
failing (throttling, or a 5xx answering a request that was carried out) ends where the same seed
ends without faults."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration
WORLD = ("20", "10", "3")  # leads, days, seed: small enough for make test; `nurture simulate --faults` for more


def end_state(faults: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "tests.integration.end_state", *WORLD, faults], cwd=REPO, text=True,
                          capture_output=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_ten_percent_faults_lose_nothing_and_double_nothing():
    clean, faulty = end_state("0"), end_state("0.1")

    # The faults really happened, on every kind of service
    injected = faulty["report"]["faults_injected"]
    assert injected["dynamodb"] > 100 and injected["sqs"] >= 1 and injected["sesv2"] >= 1, injected

    # The same leads, each submitted form stored once, the same emails sent once each
    assert faulty["leads"].keys() == clean["leads"].keys() and len(clean["leads"]) == int(WORLD[0])
    for email, lead in clean["leads"].items():
        other = faulty["leads"][email]
        assert other["activity"] == lead["activity"], email
        assert other["sent"] == lead["sent"] and all(n == 1 for n in other["sent"].values()), email
        # The same rank, stage and handoffs; the score within a point (a retried step lands seconds
        # later, and engagement decays by the second)
        assert (other["rank"], other["stage"], other["status"], other["handoffs"]) == (
            lead["rank"], lead["stage"], lead["status"], lead["handoffs"]), email
        assert abs(other["total"] - lead["total"]) < 1, email
        assert other["handoffs"] <= 1, email

    # And no rule was broken on the way
    report = faulty["report"]
    assert report["emails_sent"] == clean["report"]["emails_sent"] > 0  # what SES accepted, from its outbox
    assert report["steps"] == clean["report"]["steps"]  # per step: sent, and opened and clicked by people
    assert report["handoffs"] == clean["report"]["handoffs"]
    assert (report["sends_after_unsubscribe"], report["sends_after_suppression"], report["sends_outside_window"],
            report["sends_over_cap"]) == (0, 0, 0, 0)
