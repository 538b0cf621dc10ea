"""`nurture events attendance EVENT FILE`: a session's participant report (Zoom, Teams) read, each of its registrants
marked attended or no-show on the local system or a deployed stack, and their follow-up emails started."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import msgspec

from nurture.cli.config_versions import FindTarget, TargetOptions
from nurture.cli.lists import column_overrides, row_problems
from nurture.cli.progress import terminal_progress


def add_event_commands(commands: argparse._SubParsersAction, target_options: TargetOptions) -> None:
    events = commands.add_parser("events", help="seminars and events (events.yaml): attendance")
    event_commands = events.add_subparsers(dest="events_command", required=True)
    attendance = event_commands.add_parser(
        "attendance", help="mark a session's registrants attended or no-show from its Zoom or Teams participant report")
    attendance.add_argument("event", metavar="EVENT", help="an event id of config/events.yaml")
    attendance.add_argument("file", type=Path, help="the report as exported: Zoom's attendee report or participant "
                                                    "list, Teams' attendance report (CSV, any language)")
    attendance.add_argument("--session", help="the session it is of (default: the event's only one, or the one the "
                                              "report's join times fall in)")
    attendance.add_argument("--encoding", help="force the file's encoding (utf-8, utf-16, cp932, ...)")
    attendance.add_argument("--map", dest="mapping", default="", metavar="HEADER:FIELD,...",
                            help="map columns by header, e.g. '参加者のメール:email' (fields: email, attended, joined, "
                                 "left, duration, role; an empty field skips one)")
    attendance.add_argument("--dry-run", action="store_true", help="read and count, write nothing")
    attendance.add_argument("--json", action="store_true", help="the summary as one JSON object")
    target_options(attendance)


def run_event_command(args: argparse.Namespace, find_target: FindTarget) -> int:
    from nurture.adapters.event_store import DynamoRegistrations
    from nurture.config import load_config
    from nurture.domain.clock import utc_now
    from nurture.domain.events.attendance import read_attendance, record_attendance, session_of
    from nurture.domain.importing import ImportRefused

    config, now = load_config(args.config_dir), utc_now()
    event = config.events.events.get(args.event)
    if event is None:
        known = ", ".join(sorted(config.events.events)) or "none"
        print(f"nurture events attendance: no event {args.event!r} in events.yaml (events: {known})", file=sys.stderr)
        return 2
    try:
        report = read_attendance(args.file.read_bytes(), event.time_zone, args.encoding, column_overrides(args.mapping))
        session = session_of(report, event, args.session)
    except (OSError, ValueError, ImportRefused) as refused:
        print(f"attendance refused: {refused}", file=sys.stderr)
        return 1
    summary: dict[str, Any] = {
        "event": args.event, "session": session.id, "rows": report.rows, "encoding": report.encoding,
        "people": len(report.attendees), "came": sum(1 for a in report.attendees.values() if a.attended),
        "without_address": report.without_address, "unknown_columns": report.unknown_columns,
        "rejected": [msgspec.to_builtins(rejected) for rejected in report.rejected]}
    if not args.dry_run:
        target = find_target(args)
        if target is None:
            return 2
        try:
            with terminal_progress("recording attendance") as progress:
                outcome = record_attendance(args.event, event, session, report,
                                            DynamoRegistrations(target.environment["TABLE_NAME"]), now,
                                            config.api.event_retention_days, progress)
        except ImportRefused as refused:
            print(f"attendance refused: {refused}", file=sys.stderr)
            return 1
        summary |= {"attended": outcome.attended, "no_show": outcome.no_show, "walk_ins": outcome.walk_ins,
                    "unchanged": outcome.unchanged, "not_leads": outcome.not_leads,
                    "failed": outcome.failed}
    print(json.dumps(summary, ensure_ascii=False) if args.json else _readable(summary, args.dry_run))
    return 1 if summary.get("failed") else 0


def _readable(summary: dict[str, Any], dry_run: bool) -> str:
    lines = [f"{summary['event']} session {summary['session']}: {summary['rows']} rows ({summary['encoding']}), "
             f"{summary['people']} people, {summary['came']} came"
             + (f", {summary['without_address']} without an address" if summary["without_address"] else "")]
    if dry_run:
        lines.append("dry run: nothing written")
    else:
        lines.append(f"{summary['attended']} marked attended ({summary['walk_ins']} without a place in the session), "
                     f"{summary['no_show']} no-shows, {summary['unchanged']} unchanged (marked before), "
                     f"{len(summary['not_leads'])} rows not leads")
    if summary["unknown_columns"]:
        lines.append(f"unknown columns, not read: {', '.join(summary['unknown_columns'])} (map them with --map)")
    lines += row_problems({**summary, "failed": []})  # the store's refusals are by lead, not by row
    if summary.get("failed"):
        lines.append(f"{len(summary['failed'])} not stored (run the same import again to retry them)")
        lines += [f"  {reason}" for reason in summary["failed"]]
    return "\n".join(lines)
