"""The fault comparison names every difference that matters, and only those."""

from __future__ import annotations

import copy

from bench.end_state import differences

LEAD = {"activity": {"form_submit": 1, "email_open": 2}, "sent": {"know_how": 1}, "rank": "B", "stage": "nurturing",
        "status": "active", "handoffs": 0, "total": 41.5}
CLEAN = {"leads": {"a@example.jp": LEAD},
         "report": {"emails_sent": 1, "steps": {"warm/know_how": {"sent": 1}}, "handoffs": 0,
                    "sends_after_unsubscribe": 0, "sends_after_suppression": 0, "sends_outside_window": 0,
                    "sends_over_cap": 0}}


def changed(change) -> list[str]:
    faulty = copy.deepcopy(CLEAN)
    change(faulty)
    return differences(CLEAN, faulty)


def test_the_same_end_state_within_a_point_of_score_is_no_difference():
    assert changed(lambda state: state["leads"]["a@example.jp"].update(total=42.2)) == []


def test_a_form_stored_twice_an_email_sent_twice_and_a_second_handoff_are_named():
    def double(state):
        lead = state["leads"]["a@example.jp"]
        lead["activity"]["form_submit"] = 2
        lead["sent"]["know_how"] = 2
        lead["handoffs"] = 2

    found = changed(double)
    assert any("activity" in line for line in found)
    assert any("know_how sent 2 times" in line for line in found)
    assert any("handed off 2 times" in line for line in found)


def test_a_lost_lead_a_send_after_unsubscribe_and_a_changed_step_count_are_named():
    def lose(state):
        state["leads"].clear()
        state["report"]["sends_after_unsubscribe"] = 1
        state["report"]["steps"]["warm/know_how"]["sent"] = 0

    found = changed(lose)
    assert any("leads only in one run" in line for line in found)
    assert "sends_after_unsubscribe: 1" in found
    assert any(line.startswith("steps:") for line in found)
