"""Chasing overdue verdicts, with the store and queue as plain objects."""

from datetime import UTC, datetime

from nurture.config import load_config
from nurture.domain.errors import StoreUnavailable
from nurture.domain.leads import LeadRecord
from nurture.domain.sales.deadlines import DueVerdict
from nurture.domain.sales.owners import Reassignment, reassign
from nurture.domain.sales.verdicts import chase_verdicts
from tests.conftest import CONFIG_DIR

CONFIG = load_config(CONFIG_DIR)
NOW = datetime(2026, 12, 10, 8, 0, tzinfo=UTC)


def waiting(lead_id: str, owner: str = "ito", stage: str = "handed_off") -> LeadRecord:
    return LeadRecord(lead_id, {"lead_id": lead_id, "email": f"{lead_id}@example.co.jp", "stage": stage,
                                "handoff_id": f"h-{lead_id}", "owner": owner, "owner_kind": "person"})


class Store:
    def __init__(self, *records: LeadRecord, broken: str | None = None) -> None:
        self.records = {record.lead_id: record for record in records}
        self.broken = broken
        self.advanced: list[tuple[str, str | None]] = []
        self.saved: list = []

    def verdicts_due(self, until, limit):
        return [DueVerdict(lead_id, f"h-{lead_id}", "ito", "west", "remind", f"2026-12-10T07:00:00Z#{lead_id}")
                for lead_id in self.records]

    def lead_record(self, lead_id, activity_limit=50, ledger_limit=1000):
        if lead_id == self.broken:
            raise StoreUnavailable("throttled")
        return self.records[lead_id]

    def handoff_item(self, lead_id, handoff_id):
        return {"handoff_id": handoff_id, "lead_id": lead_id, "created_at": "2026-12-07T01:30:00Z", "rank": "A",
                "owner": {"id": "ito", "kind": "person", "strategy": "round_robin", "reason": "西日本"}}

    def advance_verdict(self, due, next_due):
        self.advanced.append((due.lead_id, next_due))
        return True

    def save_owner(self, change):
        self.saved.append(change)


class Queue:
    def __init__(self) -> None:
        self.jobs: list = []

    def send_jobs(self, jobs):
        self.jobs += jobs


def test_a_lead_that_cannot_be_chased_now_does_not_hold_up_the_others():
    store, queue = Store(waiting("a"), waiting("b"), broken="a"), Queue()
    chased = chase_verdicts(store, queue, CONFIG.sales, CONFIG.scoring, "https://api.example", NOW, 730)
    assert (chased.reminded, chased.failed) == (1, ["a"])
    assert [(job.recipient, job.kind, job.handoff.lead_id) for job in queue.jobs] == [
        ("ito", "reminder", "b"), ("ito", "reminder", "b")]  # email and Slack
    assert [lead for lead, _ in store.advanced] == ["b"]


def test_an_escalating_reassignment_the_owners_verdict_overtook_changes_nothing():
    store = Store(waiting("a", owner="sato", stage="accepted"))
    answer = reassign("a", Reassignment("ito", "nurture", "no verdict", unless_answered=("h-a", "sato")),
                      store, CONFIG.sales, NOW, 730)
    assert answer["changed"] is False and store.saved == []
