"""`nurture calendar [--year Y] [--json]`: the year's touchpoints by rank and by campaign segment, from config/."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def add_calendar_command(commands: argparse._SubParsersAction) -> None:
    calendar = commands.add_parser("calendar", help="month by month, what each rank and campaign segment receives, "
                                                    "and the months in which one gets nothing")
    calendar.add_argument("--year", type=int, default=None, help="the year to show (default: this year in Tokyo)")
    calendar.add_argument("--json", action="store_true", help="one JSON object")


def run_calendar(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from nurture.cli.config_versions import print_problems
    from nurture.config import load_config
    from nurture.domain.campaigns.calendar import build_calendar
    from nurture.domain.clock import utc_now
    from nurture.domain.errors import ConfigInvalid

    try:
        config = load_config(args.config_dir)
    except ConfigInvalid as invalid:
        print_problems(invalid, args.config_dir)
        return 1
    zone = ZoneInfo(config.sequences.send_window.timezone)
    year = args.year or utc_now().astimezone(zone).year
    if not 2000 <= year <= 2100:
        print("--year is between 2000 and 2100", file=sys.stderr)
        return 2
    calendar = build_calendar(year, config.sequences, config.segments, config.campaigns, zone)
    print(json.dumps(calendar, ensure_ascii=False) if args.json else _text(calendar))
    return 0


def _text(calendar: dict[str, Any]) -> str:
    lines = [f"calendar {calendar['year']} (a lead of each rank enrolled on January 1 that never reacts, and the "
             "campaigns that may reach it)"]
    for row in calendar["ranks"]:
        lines.append(f"rank {row['rank']}:")
        lines += [f"  {month}  {', '.join(row['months'][month]) or '— nothing'}" for month in calendar["months"]]
    for row in calendar["segments"]:
        lines.append(f"segment {row['segment']} (campaigns): " + ", ".join(
            f"{month[5:]}: {len(row['months'][month])}" for month in calendar["months"]))
    silent = [f"rank {rank}: {', '.join(months)}" for rank, months in calendar["silent_ranks"].items()]
    silent += [f"segment {name}: {', '.join(months)}" for name, months in calendar["silent_segments"].items()]
    lines.append("months without a touchpoint: " + ("; ".join(silent) if silent else "none"))
    return "\n".join(lines)
