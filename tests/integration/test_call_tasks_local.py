"""Call tasks on the local runtime as `make run` starts it: a warm lead's task is listed by `nurture tasks list`,
and a meeting set with `nurture tasks done` hands the lead to the caller, who is alerted."""

import json
import uuid

import pytest

from tests.local_system import RunningSystem, wait_for

pytestmark = pytest.mark.integration
EAST = {"suzuki": "suzuki@example.co.jp", "sato": "sato@example.co.jp"}  # the shipped task rule's team


def test_a_warm_leads_call_task_is_listed_and_a_meeting_set_from_the_cli_alerts_the_caller(
        local_system: RunningSystem):
    tag = uuid.uuid4().hex[:10]
    lead_id = local_system.submit("/v1/forms/whitepaper", {
        "email": f"buyer-{tag}@mfg-{tag}.example.co.jp", "name": "製造 次郎", "company": f"製造{tag}工業",
        "title": "課長", "industry": "製造業", "employees": "300", "phone": "03-1234-5678", "prefecture": "東京都",
        "consent": True})

    def listed() -> tuple[str, dict] | None:
        for owner in EAST:
            answer = local_system.cli("tasks", "list", "--owner", owner, "--json")
            assert answer.returncode == 0, answer.stderr
            found = [task for task in json.loads(answer.stdout)["tasks"] if task["lead_id"] == lead_id]
            if found:
                return owner, found[0]
        return None

    owner, task = wait_for(listed, seconds=30)
    assert task["task_id"] == f"{lead_id}-0" and task["lead"]["phone"] == "03-1234-5678"
    text = local_system.cli("tasks", "list", "--owner", owner)
    assert f"{task['task_id']}  due " in text.stdout and "tel 03-1234-5678" in text.stdout

    done = local_system.cli("tasks", "done", task["task_id"], "--outcome", "meeting_set", "--by", "営業 一郎",
                            "--note", "来週訪問")
    assert done.returncode == 0 and "recorded" in done.stdout and "the task is done" in done.stdout, done.stderr
    again = local_system.cli("tasks", "done", task["task_id"], "--outcome", "not_interested", "--by", "営業 一郎")
    assert again.returncode == 1 and "closed" in again.stderr
    repeated = json.loads(local_system.cli("tasks", "done", task["task_id"], "--outcome", "meeting_set", "--by",
                                           "営業 一郎", "--attempt", "1", "--json").stdout)
    assert (repeated["task_id"], repeated["outcome"], repeated["changed"]) == (task["task_id"], "meeting_set", False)

    page = wait_for(lambda: local_system.alert_email(lead_id, EAST[owner]), seconds=30)
    assert "電話で商談が決まった" in page
    missing = local_system.cli("tasks", "done", "0123456789abcdef0123456789abcdef-0", "--outcome", "reached",
                               "--by", "x")
    assert missing.returncode == 1 and "no task" in missing.stderr.lower()
