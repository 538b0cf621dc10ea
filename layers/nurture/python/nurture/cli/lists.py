"""Leads in and out as lists: `nurture import` (a business-card CSV), `nurture export`, `nurture activity import`
(what staff did with leads offline, as a CSV) and `nurture purchases import` (customers' orders, as a CSV), on the
local system or a deployed stack."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from nurture.cli.progress import Report, counted, terminal_progress


def add_list_commands(commands: Any, target_options: Any) -> None:
    command = commands.add_parser("import", help="import leads from a CSV (business cards, an exhibition's list)")
    command.add_argument("file", type=Path, help="CSV with a header row (UTF-8, UTF-8 with BOM or Shift_JIS)")
    command.add_argument("--source", required=True, help="where the list comes from, e.g. expo-2026-autumn")
    command.add_argument("--consent-basis", help="recorded as each lead's consent, e.g. '展示会で案内送付に同意'; "
                                                 "without it imported leads get no step email")
    command.add_argument("--encoding", help="force the file's encoding (utf-8, utf-8-sig, cp932, ...)")
    command.add_argument("--map", dest="mapping", default="", metavar="HEADER:FIELD,...",
                         help="map columns by header, e.g. 'E-Mail(会社):email,備考:' (an empty field skips one)")
    command.add_argument("--overwrite", action="store_true",
                         help="replace what known leads already have (default: fill their blanks only, and keep "
                              "the differing values as proposals on the lead)")
    command.add_argument("--subscriptions", default="", metavar="TYPE=START,...",
                         help="start the leads the list creates on these subscription types unlike their defaults, "
                              "e.g. 'seminar=opted_in,newsletter=not_until_asked' (recorded as made by the import)")
    command.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    command.add_argument("--json", action="store_true", help="the summary as one JSON object")
    target_options(command)

    export = commands.add_parser("export", help="leads with their scores, rank, stage and consent, as CSV or JSONL")
    export.add_argument("--rank", choices=["A", "B", "C"], help="only leads of this rank (as of now)")
    export.add_argument("--format", choices=["csv", "jsonl"], default="csv",
                        help="csv: UTF-8 with BOM, which Excel opens as such (default); jsonl: one lead per line")
    export.add_argument("--output", type=Path, help="write to this file instead of stdout")
    target_options(export)

    activity = commands.add_parser("activity", help="offline activity: meetings, visits, trade-show booth visits")
    activity_commands = activity.add_subparsers(dest="activity_command", required=True)
    records = activity_commands.add_parser(
        "import", help="record a CSV's rows on their leads, as POST /v1/leads/{id}/activities does: one row each")
    records.add_argument("file", type=Path, help="CSV with a header row (UTF-8, UTF-8 with BOM or Shift_JIS): email "
                                                 "or lead id, type, date, by, note, id")
    records.add_argument("--type", dest="kind", help="the type of rows without one: one of scoring.yaml's "
                                                     "offline_activities, e.g. booth_visit")
    records.add_argument("--at", help="the date (and time) of rows without one, e.g. 2026/11/20 (Asia/Tokyo)")
    records.add_argument("--by", help="who recorded rows without a by column, e.g. 展示会チーム")
    records.add_argument("--encoding", help="force the file's encoding (utf-8, utf-8-sig, cp932, ...)")
    records.add_argument("--map", dest="mapping", default="", metavar="HEADER:FIELD,...",
                         help="map columns by header, e.g. '来場者メール:email,区分:type' (an empty field skips one)")
    records.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    records.add_argument("--json", action="store_true", help="the summary as one JSON object")
    target_options(records)

    purchases = commands.add_parser("purchases", help="customers' purchases: RFM scores and CPM segments")
    purchase_commands = purchases.add_subparsers(dest="purchases_command", required=True)
    orders = purchase_commands.add_parser(
        "import", help="record a CSV's orders on their customers' leads, as POST /v1/purchases does: each order once")
    orders.add_argument("file", type=Path, help="CSV with a header row (UTF-8, UTF-8 with BOM or Shift_JIS): order "
                                                "id, date, amount, product, and the customer's email or lead id")
    orders.add_argument("--encoding", help="force the file's encoding (utf-8, utf-8-sig, cp932, ...)")
    orders.add_argument("--dry-run", action="store_true", help="check and count, write nothing")
    orders.add_argument("--json", action="store_true", help="the summary as one JSON object")
    target_options(orders)


def _pairs(text: str, separator: str, usage: str) -> dict[str, str]:
    """`A<sep>B,C<sep>D` as {A: B, C: D}, split at each item's last separator; ValueError(`usage`) otherwise."""
    pairs = [item.rsplit(separator, 1) for item in text.split(",") if item.strip()]
    if any(len(pair) != 2 for pair in pairs):
        raise ValueError(usage)
    return {key.strip(): value.strip() for key, value in pairs}


def column_overrides(text: str) -> dict[str, str]:
    return _pairs(text, ":", "--map takes HEADER:FIELD pairs separated by commas")


def _starts(text: str, types: Any) -> dict[str, Any]:
    """--subscriptions: TYPE=opted_in|not_until_asked pairs, each type one subscriptions.yaml has."""
    usage = "--subscriptions takes TYPE=opted_in or TYPE=not_until_asked pairs separated by commas"
    starts = _pairs(text, "=", usage)
    if any(start not in ("opted_in", "not_until_asked") for start in starts.values()):
        raise ValueError(usage)
    unknown = sorted(set(starts) - set(types))
    if unknown:
        raise ValueError(f"unknown subscription types in --subscriptions: {', '.join(unknown)} "
                         f"(subscriptions.yaml has: {', '.join(types)})")
    return starts


def _list_import(args: argparse.Namespace, target_of: Any, plan: Callable[[], Any],
                 planned: Callable[[Any], dict[str, Any]], record: Callable[[Any, str, Report], Any],
                 readable: Callable[[dict[str, Any], bool], str], what: str) -> int:
    """The imports' one flow: read the file (refused whole: exit 1), count it, record it unless --dry-run, then
    print the summary; exit 1 when rows failed to be stored, 2 without a target."""
    from nurture.domain.importing import ImportRefused

    try:
        made = plan()
    except (OSError, ValueError, ImportRefused) as refused:
        print(f"import refused: {refused}", file=sys.stderr)
        return 1
    summary: dict[str, Any] = {"rows": made.rows, "encoding": made.encoding, **planned(made),
                               "rejected": [msgspec.to_builtins(rejected) for rejected in made.rejected]}
    if not args.dry_run:
        target = target_of(args)
        if target is None:
            return 2
        with terminal_progress(what) as progress:  # its counts, and the rows not stored
            summary |= msgspec.to_builtins(record(made, target.environment["TABLE_NAME"], progress))
    print(json.dumps(summary, ensure_ascii=False) if args.json else readable(summary, args.dry_run))
    return 1 if summary.get("failed") else 0


def run_import(args: argparse.Namespace, target_of: Any) -> int:
    from nurture.adapters.lead_store import DynamoLeadStore
    from nurture.config import load_config
    from nurture.domain.clock import utc_now
    from nurture.domain.importing import plan_import, run_import

    config = load_config(args.config_dir)
    return _list_import(
        args, target_of,
        lambda: plan_import(args.file.read_bytes(), args.source, args.consent_basis, args.encoding,
                            column_overrides(args.mapping), args.overwrite,
                            _starts(args.subscriptions, config.subscriptions.types)),
        lambda plan: {"to_import": len(plan.submissions), "duplicates_in_file": plan.duplicates_in_file},
        lambda plan, table, progress: run_import(plan, args.source, DynamoLeadStore(table), utc_now(),
                                                 config.api.event_retention_days, progress),
        _readable, "importing leads")


def run_activity_import(args: argparse.Namespace, target_of: Any) -> int:
    from nurture.adapters.lead_store import DynamoLeadStore
    from nurture.config import load_config
    from nurture.domain.clock import utc_now
    from nurture.domain.sales.offline import Defaults, plan_activity_import, run_activity_import

    config, now = load_config(args.config_dir), utc_now()
    retention = config.api.event_retention_days
    return _list_import(
        args, target_of,
        lambda: plan_activity_import(args.file.read_bytes(), config.scoring, now, retention,
                                     Defaults(args.kind, args.at, args.by), args.encoding,
                                     column_overrides(args.mapping)),
        lambda plan: {"ignored_columns": plan.ignored_columns, "to_record": len(plan.entries)},
        lambda plan, table, progress: run_activity_import(plan, DynamoLeadStore(table), config.scoring, now,
                                                          retention, progress),
        _readable_activity, "recording activity")


def run_purchase_import(args: argparse.Namespace, target_of: Any) -> int:
    from zoneinfo import ZoneInfo

    from nurture.adapters.purchase_store import DynamoPurchaseStore
    from nurture.config import load_config
    from nurture.domain.clock import utc_now
    from nurture.domain.customers.purchases import plan_purchases, record_purchases

    config, now = load_config(args.config_dir), utc_now()
    zone = config.scoring.timezone
    return _list_import(
        args, target_of,
        lambda: plan_purchases(args.file.read_bytes(), zone, now.astimezone(ZoneInfo(zone)).date(), args.encoding),
        lambda plan: {"to_record": len(plan.purchases), "repeated_orders": plan.repeated_orders},
        lambda plan, table, progress: record_purchases(plan.purchases, DynamoPurchaseStore(table), now, zone,
                                                       config.api.event_retention_days, "import", progress),
        _readable_purchases, "recording purchases")


def _readable_purchases(summary: dict[str, Any], dry_run: bool) -> str:
    lines = [f"{summary['rows']} rows ({summary['encoding']}): "
             + (f"{summary['to_record']} to record (dry run, nothing written)" if dry_run else
                f"{summary['recorded']} recorded, {summary['unchanged']} unchanged (recorded before)"),
             f"{summary['repeated_orders']} orders repeated within the file (counted once)"]
    if summary.get("unknown_customers"):
        lines.append(f"{len(summary['unknown_customers'])} customers who are no lead (import them first with "
                     f"nurture import): rows {', '.join(map(str, summary['unknown_customers']))}")
    return "\n".join(lines + row_problems(summary))


def _readable_activity(summary: dict[str, Any], dry_run: bool) -> str:
    lines = [f"{summary['rows']} rows ({summary['encoding']}): "
             + (f"{summary['to_record']} to record (dry run, nothing written)" if dry_run else
                f"{summary['recorded']} recorded, {summary['unchanged']} unchanged (recorded before), "
                f"{len(summary['not_leads'])} not leads (import them first with nurture import)")]
    if summary["ignored_columns"]:
        lines.append(f"columns ignored: {', '.join(summary['ignored_columns'])} (map them with --map)")
    lines += row_problems(summary)
    return "\n".join(lines)


def row_problems(summary: dict[str, Any]) -> list[str]:
    """The rejected rows, and those the store did not take."""
    lines = [f"{len(summary['rejected'])} rejected"]
    lines += [f"  row {rejected['row']}: {'; '.join(rejected['reasons'])}" for rejected in summary["rejected"]]
    if summary.get("failed"):
        lines.append(f"{len(summary['failed'])} not stored (run the same import again to retry them)")
        lines += [f"  row {failed['row']}: {'; '.join(failed['reasons'])}" for failed in summary["failed"]]
    return lines


def _readable(summary: dict[str, Any], dry_run: bool) -> str:
    lines = [f"{summary['rows']} rows ({summary['encoding']}): "
             + (f"{summary['to_import']} to import (dry run, nothing written)" if dry_run else
                f"{summary['created']} created, {summary['updated']} updated, "
                f"{summary['unchanged']} unchanged (imported before)"),
             f"{summary['duplicates_in_file']} duplicates within the file (merged into the first row)"]
    return "\n".join(lines + row_problems(summary))


def _no_progress(done: int, total: int) -> None:
    """No bar: the rows themselves go to the terminal, and a bar would be drawn over them."""


def run_export(args: argparse.Namespace, target_of: Any) -> int:
    import csv

    from nurture.adapters.lead_store import DynamoLeadStore
    from nurture.config import load_config
    from nurture.domain.clock import utc_now
    from nurture.domain.leads import EXPORT_COLUMNS, export_row
    from nurture.domain.text import spreadsheet_cell

    target = target_of(args)
    if target is None:
        return 2
    rules, now = load_config(args.config_dir).scoring, utc_now()
    encoding = "utf-8-sig" if args.format == "csv" else "utf-8"
    with (args.output.open("w", encoding=encoding, newline="") if args.output else
          contextlib.nullcontext(sys.stdout)) as sink, \
            (contextlib.nullcontext(_no_progress) if args.output is None and sys.stdout.isatty()
             else terminal_progress("exporting leads")) as progress:
        profiles = counted(DynamoLeadStore(target.environment["TABLE_NAME"]).profiles(), progress)
        rows = (export_row(profile, rules, now) for profile in profiles)
        wanted = (row for row in rows if args.rank is None or row["rank"] == args.rank)
        if args.format == "csv":
            if args.output is None:
                sink.write("\ufeff")  # the BOM, so Excel reads the redirected output as UTF-8
            writer = csv.DictWriter(sink, fieldnames=EXPORT_COLUMNS, lineterminator="\r\n")
            writer.writeheader()
            # What leads typed opens in Excel as text, never as a formula; the JSONL stays exact.
            writer.writerows({name: spreadsheet_cell(value) for name, value in row.items()} for row in wanted)
        else:
            sink.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in wanted)
    return 0
