"""The console's Emails pages: each sequence as the diagram of its steps, every step with its results from the step
counters the sender and the SES events consumer keep (sent, delivered, opened, clicked...: since the step began)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from nurture.config.sequences import Sequence, SequencesConfig
from nurture.domain.report import step_rates

StepKey = tuple[str, str]  # (sequence id, step id)


def counted_steps(sequences: SequencesConfig) -> list[StepKey]:
    """Every step whose counters the diagrams show, in the config's order."""
    return [(sequence.id, step.id) for sequence in sequences.sequences for step in sequence.steps]


def _enrollment(sequence: Sequence) -> dict[str, Any]:
    enroll = sequence.enroll
    given = {"rank": enroll.rank, "form_kind": enroll.form_kind, "source": enroll.source,
             "dormant_days": enroll.dormant_days}
    return {name: value for name, value in given.items() if value is not None}


def sequence_diagrams(sequences: SequencesConfig, totals: Mapping[StepKey, Mapping[str, int]]) -> list[dict[str, Any]]:
    """Each sequence: who enters it, its steps in order (the wait before each, the condition it is sent on, its
    template, its results and rates) and what stops it. `totals`: the counters of each step that has any."""
    return [{"id": sequence.id, "description": sequence.description, "type": sequence.type,
             "enroll": _enrollment(sequence), "stop": list(sequence.stop),
             "sunset_days": sequence.sunset_days if sequence.reengages else None,
             "steps": [{"id": step.id, "delay_days": step.delay_days, "condition": step.condition,
                        "template": step.template,
                        **step_rates(Counter(totals.get((sequence.id, step.id), {})))}
                       for step in sequence.steps]}
            for sequence in sequences.sequences]
