"""What the reliability comparison counts as a difference between a clean and a faulty run."""

from bench.end_state import ASKED, RULES, differences


def run(sent: dict[str, int]) -> dict:
    lead = {"activity": {"form_submit": 1}, "sent": sent, "rank": "B", "stage": "nurturing", "status": "active",
            "handoffs": 0, "total": 30.0}
    return {"leads": {"a@example.jp": lead},
            "report": {"emails_sent": sum(sent.values()), "steps": {}, "handoffs": 0, **dict.fromkeys(RULES, 0)}}


def test_an_asked_email_is_compared_by_how_many_times_the_lead_asked_not_by_the_hour_it_went():
    clean = run({"know_how": 1, f"send_material{ASKED}": 2})  # the lead asked twice
    assert differences(clean, run({"know_how": 1, f"send_material{ASKED}": 2})) == []
    assert differences(clean, run({"know_how": 1, f"send_material{ASKED}": 3})) == [
        "a@example.jp: sent {'know_how': 1, 'send_material (asked)': 2} became "
        "{'know_how': 1, 'send_material (asked)': 3}",
        "emails_sent: 3 became 4"]


def test_a_step_email_sent_twice_is_a_difference_even_if_both_runs_did():
    assert differences(run({"know_how": 2}), run({"know_how": 2})) == ["a@example.jp: know_how sent 2 times"]
