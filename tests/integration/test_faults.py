"""AWS faults change nothing that matters: `simulate` with 10% of DynamoDB, SQS and SES attempts
failing (throttling, or a 5xx answering a request that was carried out) ends where the same seed
ends without faults."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.end_state import RULES, differences
from tests.conftest import REPO

pytestmark = pytest.mark.integration
WORLD = ("20", "10", "3")  # leads, days, seed: small enough for make test; `make bench` runs a long one


def end_state(faults: str) -> dict:
    done = subprocess.run([sys.executable, "-m", "bench.end_state", *WORLD, faults], cwd=REPO, text=True,
                          capture_output=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_ten_percent_faults_lose_nothing_and_double_nothing():
    with ThreadPoolExecutor(max_workers=2) as both:  # one a core: the two worlds play out side by side
        clean, faulty = both.map(end_state, ("0", "0.1"))

    # The faults really happened, on every kind of service
    injected = faulty["report"]["faults_injected"]
    assert injected["dynamodb"] > 100 and injected["sqs"] >= 1 and injected["sesv2"] >= 1, injected

    # The same leads, each submitted form stored once, the same emails sent once each, the same
    # ranks, stages and handoffs, and no rule broken on the way
    assert len(clean["leads"]) == int(WORLD[0]) and clean["report"]["emails_sent"] > 0
    assert not any(clean["report"][rule] for rule in RULES)
    assert differences(clean, faulty) == []
