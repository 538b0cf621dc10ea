"""Run `simulate` in this process and print its end state as one JSON object: what each lead ended
with (by address, since ids are not comparable across runs), what it was sent, its handoffs; and
compare a faulty run's end state with a clean one's. The reliability test runs a small world, `make
bench` a long one.

`python -m bench.end_state LEADS DAYS SEED FAULTS`
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from typing import Any

from bench.calls import REPO
from nurture.local.resources import LocalResources
from nurture.local.simulation import simulate

RULES = ("sends_after_unsubscribe", "sends_after_suppression", "sends_outside_window", "sends_over_cap")
# An asked-for email (a material, a seminar's confirmation) is counted by template, as many as the lead asked: a
# fault may delay it a tick (the dispatcher's lease), so the hour it went in is not what a run must keep.
ASKED = " (asked)"


def main(leads: int, days: int, seed: int, faults: float) -> dict[str, Any]:
    state: dict[str, dict[str, Any]] = {}

    def inspect() -> None:
        from nurture.adapters.lead_store import DynamoLeadStore

        by_pk: dict[str, dict[str, Any]] = {}
        for item in DynamoLeadStore(LocalResources().table_name).report_items():
            lead = by_pk.setdefault(item["PK"], {"activity": Counter(), "sent": Counter(), "handoffs": 0})
            if item["SK"] == "PROFILE":
                lead.update(email=item["email"], rank=item.get("rank"), stage=item.get("stage"),
                            status=item.get("status"), total=float(item.get("total", 0)))
            elif item["SK"].startswith("EVT#"):
                lead["activity"][item["type"] + ("/machine" if item.get("bot") else "")] += 1
                if item["type"] == "email_sent":  # an asked-for email goes once per asking: a lead may ask again
                    lead["sent"][item["template"] + (ASKED if item.get("asked") else "")] += 1
            elif item["SK"].startswith("HANDOFF#"):
                lead["handoffs"] += 1
        state.update({lead.pop("email"): lead for lead in by_pk.values() if "email" in lead})

    report = simulate(REPO / "config", leads, days, seed, faults=faults, inspect=inspect)
    return {"leads": state, "report": report.to_json()}


def differences(clean: dict[str, Any], faulty: dict[str, Any]) -> list[str]:
    """What faults changed that must not change: each lead's activity (every form and hit stored once),
    the emails it was sent (each once), its rank, stage, status and handoffs (at most one), its score
    within a point (a retried step lands seconds later, and engagement decays by the second); the
    emails SES accepted, per step; and no send that breaks a rule."""
    found = [f"leads only in one run: {sorted(clean['leads'].keys() ^ faulty['leads'].keys())}"] \
        if clean["leads"].keys() != faulty["leads"].keys() else []
    for email, lead in clean["leads"].items():
        other = faulty["leads"].get(email)
        if other is None:
            continue
        found += [f"{email}: {what} {lead[what]} became {other[what]}"
                  for what in ("activity", "sent", "rank", "stage", "status", "handoffs") if other[what] != lead[what]]
        found += [f"{email}: {template} sent {n} times" for template, n in other["sent"].items()
                  if n != 1 and not template.endswith(ASKED)]  # the clean run's count of an asked email: above
        if abs(other["total"] - lead["total"]) >= 1:
            found.append(f"{email}: score {lead['total']} became {other['total']}")
        if other["handoffs"] > 1:
            found.append(f"{email}: handed off {other['handoffs']} times")
    found += [f"{what}: {clean['report'][what]} became {faulty['report'][what]}"
              for what in ("emails_sent", "steps", "handoffs") if faulty["report"][what] != clean["report"][what]]
    found += [f"{rule}: {faulty['report'][rule]}" for rule in RULES if faulty["report"][rule]]
    return found


def long_run(leads: int = 100, days: int = 30, seed: int = 3, faults: float = 0.1) -> dict[str, Any]:
    """`make bench`'s version of the reliability test: a bigger world, both runs at once (two processes)."""
    runs = [subprocess.Popen([sys.executable, "-m", "bench.end_state", str(leads), str(days), str(seed), str(rate)],
                             cwd=REPO, text=True, stdout=subprocess.PIPE) for rate in (0.0, faults)]
    outputs = [run.communicate()[0] for run in runs]
    if any(run.returncode for run in runs):
        raise RuntimeError("a simulation failed: its error is above")
    clean, faulty = (json.loads(output.strip().splitlines()[-1]) for output in outputs)
    return {"leads": leads, "days": days, "seed": seed, "faults": faults, "clean": clean["report"],
            "injected": faulty["report"]["faults_injected"], "differences": differences(clean, faulty)}


if __name__ == "__main__":
    leads, days, seed, faults = sys.argv[1:5]
    print(json.dumps(main(int(leads), int(days), int(seed), float(faults)), ensure_ascii=False))
