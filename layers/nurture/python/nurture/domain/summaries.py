"""The activity summaries the scorer keeps on the lead profile: for each kind of thing the person did, how
many times and when last. Segments read them instead of the events.

    activity = {"types": {<event type>: {"n": 3, "last": <iso>}}, "pages": {<url group>: {...}},
                "forms": {<form id>: {...}}, "form_kinds": {<form kind>: {...}}}

Pure. The scorer decides which events are the person's (a machine's opens and clicks are not) and writes
the result in the conditional update that applies the events, so a replayed batch is not counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from nurture.config.segments import PAGE_ACTIVITY, UrlGroups
from nurture.domain.clock import iso

Summary = dict[str, dict[str, dict[str, Any]]]  # section -> key -> {"n": count, "last": iso time}


def url_groups_of(url: Any, url_groups: UrlGroups) -> list[str]:
    """The groups with a prefix the URL's path starts with. Scheme, host and query are ignored; the path is
    compared percent-decoded and case-insensitively (as scoring's URL globs are), so a prefix may be written
    in Japanese."""
    if not isinstance(url, str) or not url:
        return []
    path = unquote(urlsplit(url).path).casefold()
    return [name for name, prefixes in url_groups.items()
            if any(path.startswith(prefix.casefold()) for prefix in prefixes)]


def summarize(activity: Mapping[str, Any] | None, events: Iterable[tuple[datetime, Mapping[str, Any]]],
              url_groups: UrlGroups) -> Summary:
    """`activity` (as stored, or None) with the person's `events` (time, attributes) counted in. `last`
    never moves backwards: merged history arrives late but is older."""
    summary: Summary = {section: {key: {"n": int(entry["n"]), "last": str(entry["last"])}
                                  for key, entry in entries.items()}
                        for section, entries in (activity or {}).items()}
    for at, attributes in events:
        when, kind = iso(at), str(attributes.get("type"))
        places = [("types", kind)]
        if kind in PAGE_ACTIVITY:
            places += [("pages", group) for group in url_groups_of(attributes.get("url"), url_groups)]
        if kind == "form_submit":
            places += [(section, str(attributes[name])) for section, name in (("forms", "form_id"),
                                                                              ("form_kinds", "form_kind"))
                       if attributes.get(name)]
        for section, key in places:
            entry = summary.setdefault(section, {}).setdefault(key, {"n": 0, "last": when})
            entry["n"] += 1
            entry["last"] = max(entry["last"], when)
    return summary


def withdraw(summary: Summary, kind: str, count: int) -> Summary:
    """`count` of `kind` taken back (clicks found to be a scanner's after they were counted). Their time may
    stay as `last`, which never moves backwards; an entry with nothing left goes."""
    entry = summary.get("types", {}).get(kind)
    if entry is None or count <= 0:
        return summary
    entry["n"] -= count
    if entry["n"] <= 0:
        del summary["types"][kind]
    return summary


def recorded(activity: Mapping[str, Any] | None, section: str, key: str) -> tuple[int, str | None]:
    """(how many, the latest) from a stored profile's summaries; (0, None) for a lead scored before they
    were kept."""
    entry = ((activity or {}).get(section) or {}).get(key)
    return (int(entry["n"]), str(entry["last"])) if entry else (0, None)


def last_counted(activity: Mapping[str, Any] | None) -> str | None:
    """When the person last did anything counted (every counted event is under `types`)."""
    return max((str(entry["last"]) for entry in ((activity or {}).get("types") or {}).values()), default=None)
