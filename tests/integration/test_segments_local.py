"""`nurture segment count | preview` on the running local system: the audience workers scan in parts."""

from __future__ import annotations

import json
import uuid

from tests.local_system import RunningSystem, wait_for


def count(system: RunningSystem, segment: str) -> dict:
    done = system.cli("segment", "count", segment, "--json")
    assert done.returncode == 0, done.stderr
    result: dict = json.loads(done.stdout)
    return result


def test_a_segment_counts_and_previews_the_leads_that_belong_to_it(local_system: RunningSystem):
    before = count(local_system, "enterprise")
    added = []
    for employees in ("1,200名", "5000", "80"):
        email = f"seg-{uuid.uuid4().hex[:10]}@example.co.jp"
        lead_id = local_system.submit("/v1/forms/contact", {"email": email, "name": "佐藤 花子", "company": "大手製造",
                                                            "employees": employees, "consent": True})
        wait_for(lambda lead=lead_id: local_system.items(f"LEAD#{lead}", "PROFILE")[0].get("rank_pk"), seconds=30)
        added.append(lead_id)

    after = count(local_system, "enterprise")

    assert after["leads"] == before["leads"] + 2
    assert after["profiles_scanned"] == before["profiles_scanned"] + 3
    assert after["parts"] >= 4 and after["config_version"] == 1
    preview = json.loads(local_system.cli("segment", "preview", "enterprise", "--limit", "100", "--json").stdout)
    shown = {row["lead_id"] for row in preview["sample"]}
    assert set(added[:2]) <= shown and added[2] not in shown


def test_an_unknown_segment_is_refused_with_the_ones_that_exist(local_system: RunningSystem):
    refused = local_system.cli("segment", "count", "enterprize")

    assert refused.returncode == 1
    assert "No segment 'enterprize' in config version 1" in refused.stderr and "enterprise" in refused.stderr
