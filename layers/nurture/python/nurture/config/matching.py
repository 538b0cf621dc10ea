"""Which activity events a rule or pattern matches: shared by a lead's rules (scoring.yaml) and its account's."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from nurture.config.models import FormKind
from nurture.config.records import record, setting


@record
class EventMatch:
    """Which activity events a rule or pattern step matches. Every given filter must match."""

    event: str = setting(min_length=1, description="activity type: form_submit, page_view, download, email_click...")
    form_kind: FormKind | None = None
    form_id: str | None = None
    url: str | None = setting(default=None, description="glob over the event's URL, e.g. */pricing*")
    asset: str | None = setting(default=None, description="glob over the form's asset")
    link: str | None = setting(default=None, description="the email link's tag")
    name: str | None = setting(default=None, description="a custom event's name, or an offline activity's kind")
    outcome: str | None = setting(default=None, description="a call's outcome (reached, no_answer, wrong_number, "
                                  "meeting_set, not_interested) or sales' verdict")

    def matches(self, event: dict[str, Any]) -> bool:
        if event.get("type") != self.event:
            return False
        exact = {"form_kind": self.form_kind, "form_id": self.form_id, "link": self.link, "name": self.name,
                 "outcome": self.outcome}
        if any(wanted is not None and event.get(key) != wanted for key, wanted in exact.items()):
            return False
        globs = {"url": self.url, "asset": self.asset}
        return all(
            pattern is None or (isinstance(event.get(key), str) and fnmatchcase(event[key].lower(), pattern.lower()))
            for key, pattern in globs.items()
        )
