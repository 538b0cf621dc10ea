"""`nurture report`: the KPI report of a period, as text, JSON or one self-contained HTML file."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any


def add_report_command(commands: Any, target_options: Any) -> None:
    report = commands.add_parser("report", help="KPIs of a period: step emails, handoffs, feedback, leads, plan")
    report.add_argument("--from", dest="start", type=_day, help="first day, YYYY-MM-DD (default: 27 days before --to)")
    report.add_argument("--to", dest="end", type=_day, help="last day, YYYY-MM-DD (default: today)")
    report.add_argument("--json", action="store_true", help="the report as one JSON object")
    report.add_argument("--html", type=Path, metavar="FILE", help="also write the report with charts to FILE")
    report.add_argument("--language", choices=("ja", "en"), default=_locale_language(),
                        help="the HTML report's language (default: your locale's, ja for LANG=ja_JP.UTF-8, else en)")
    target_options(report)


def _locale_language() -> str:
    """ja where the reader's language is Japanese (LANGUAGE, LC_ALL, LC_MESSAGES or LANG, in gettext's order),
    else en."""
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        if value := os.environ.get(variable):
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def run_report(args: argparse.Namespace, target_of: Any) -> int:
    from zoneinfo import ZoneInfo

    from nurture.adapters.deliverability_store import DynamoDeliverabilityStore
    from nurture.adapters.lead_store import DynamoLeadStore
    from nurture.cli.progress import counted, terminal_progress
    from nurture.cli.report_html import render_html
    from nurture.config import load_config
    from nurture.domain.clock import utc_now
    from nurture.domain.deliverability import judge, standing
    from nurture.domain.report import CONVERSION_DAYS, Period, Planned, build_report, default_period

    config = load_config(args.config_dir)
    zone = ZoneInfo(config.sequences.send_window.timezone)
    now = utc_now()
    fallback = default_period(args.end or now.astimezone(zone).date(), zone)  # four weeks up to --to
    try:
        period = Period(args.start or fallback.start, fallback.end, zone)
    except ValueError as error:
        print(f"nurture report: {error}", file=sys.stderr)
        return 2
    target = target_of(args)
    if target is None:
        return 2
    with terminal_progress("reading the table") as progress:
        items = counted(DynamoLeadStore(target.environment["TABLE_NAME"]).report_items(), progress)
        report = build_report(items, period, config.sequences, config.scoring, now,
                              Planned(config.campaigns, config.segments), config.sales, config.events)
    guard = DynamoDeliverabilityStore(target.environment["TABLE_NAME"])
    report["deliverability"] = standing(judge(guard.recent_days(), config.sequences.deliverability), guard.paused())
    if args.html:
        args.html.write_text(render_html(report, CONVERSION_DAYS, args.language), encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else _readable(report))
    return 0


def _readable(report: dict[str, Any]) -> str:
    from nurture.cli.report_html import percent

    period, totals, leads, plan = report["period"], report["totals"], report["leads"], report["touchpoint_plan"]
    guard = report["deliverability"]
    lines = [f"KPI report {period['from']} .. {period['to']} ({period['timezone']})", "",
             f"sending: {guard['state'].upper().replace('_', ' ')}"
             + (f" (since {guard['paused_at']})" if guard["paused_at"] else "")
             + (f": {guard['reason']}" if guard["reason"] else ""), "",
             f"{'sequence':<16}{'step':<22}{'sent':>6}{'deliv':>7}{'open':>6}{'bot':>5}{'click':>6}{'bot':>5}"
             f"{'CTR':>8}{'CVR':>8}{'unsub':>8}{'bounce':>8}{'compl':>8}"]
    for row in [*report["steps"], {"sequence": "total", "step": "", **totals}]:
        lines.append(f"{row['sequence']:<16}{row['step']:<22}{row['sent']:>6}{row['delivered']:>7}{row['opened']:>6}"
                     f"{row['opened_bot']:>5}{row['clicked']:>6}{row['clicked_bot']:>5}"
                     f"{percent(row['click_rate']):>8}{percent(row['conversion_rate']):>8}"
                     f"{percent(row['unsubscribe_rate']):>8}{percent(row['bounce_rate']):>8}"
                     f"{percent(row['complaint_rate']):>8}")
    for row in report["campaigns"]:
        skipped = ", ".join(f"{reason} {count}" for reason, count in row["skipped"].items()) or "none"
        lines.append(f"campaign {row['campaign']}: audience {row['audience']}, sent {row['sent']}, delivered "
                     f"{row['delivered']}, opened {row['opened']} (+{row['opened_bot']} machines), clicked "
                     f"{row['clicked']} (+{row['clicked_bot']} machines), CTR {percent(row['click_rate'])}, CVR "
                     f"{percent(row['conversion_rate'])}, unsubscribed {row['unsubscribed']}, bounced "
                     f"{row['bounced']}, complained {row['complained']}; skipped: {skipped}")
        test = row.get("ab_test")
        if test:
            lines += [f"  A/B variant {v['variant']}: sent {v['sent']}, clicked {v['clicked']} "
                      f"(+{v['clicked_bot']} machines), CTR {percent(v['click_rate'])}" for v in test["variants"]]
            decision = test["decision"]
            lines.append(f"  A/B decision: {decision['reason']}" if decision else "  A/B decision: not yet")
    lines += [f"double opt-in {row['form']}: confirmations sent {row['sent']}, confirmed {row['confirmed']} "
              f"({percent(row['confirmation_rate'])}), removed unconfirmed (ever) {row['removed_unconfirmed']}"
              for row in report["double_opt_in"]]
    for funnel in report["events"]:
        invited = "not counted (no invitations in events.yaml)" if funnel["invited"] is None else funnel["invited"]
        lines.append(f"event {funnel['event']}: invited {invited}")
        lines += [f"  session {row['session']}: registered {row['registered']}/{row['capacity']}, waitlisted "
                  f"{row['waitlisted']}, attended {row['attended']}, no-show {row['no_show']}, handed off within "
                  f"{funnel['handoff_days']} days {row['handed_off']}" for row in funnel["sessions"]]
    feedback = report["feedback"]
    lines += ["", "week of      sent  opened  clicked  forms  handoffs"]
    lines += [f"{w['week']}  {w['sent']:>4}  {w['opened']:>6}  {w['clicked']:>7}  {w['forms']:>5}  {w['handoffs']:>8}"
              for w in report["weekly"]]
    lines += ["", f"hot leads handed off: {report['handoffs']}",
              f"sales feedback: {feedback['leads_with_feedback']} lead(s), acceptance "
              f"{percent(feedback['acceptance_rate'])} {feedback['outcomes']}",
              f"leads: {leads['total']} (new {leads['new_in_period']}); by rank {leads['by_rank']}",
              f"  by stage {leads['by_stage']}", f"  by status {leads['by_status']}",
              f"dormant leads: {leads['dormant']}", *_sales_lines(report.get("sales")),
              *_customer_lines(report["customers"]), "",
              "touchpoint plan (a lead enrolled today that never reacts, and the campaigns that may reach it):"]
    lines += [f"  rank {p['rank']}: {len(p['sends'])} email(s); no email in {', '.join(p['months_without_email'])}"
              for p in plan["by_rank"]]
    quiet = plan["months_without_any_email"]
    lines.append(f"  months in which no sequence sends anything: {', '.join(quiet) if quiet else 'none'}")
    return "\n".join(lines)


def _customer_lines(customers: dict[str, Any]) -> list[str]:
    if not customers["customers"]:
        return []
    days = customers["migration_days"]
    lines = ["", f"customers: {customers['customers']}; by CPM segment ({days} days before -> now, revenue in the "
                 f"period):"]
    lines += [f"  {row['name']} ({row['segment']}): {row['days_before']} -> {row['now']}, "
              f"¥{row['revenue_in_period']:,}" for row in customers["by_segment"] if row["now"] or row["days_before"]]
    lines += [f"  moved {source} -> {target}: {count}" for source, moves in customers["migration"].items()
              for target, count in moves.items() if source != target]
    lines += [f"  repeat purchases within {customers['attribution_days']} days of a click on {row['sequence']} "
              f"{row['step']}: {row['purchases']} (¥{row['revenue']:,}) from {row['customers_clicked']} customer(s)"
              for row in customers["repeat_purchases"]]
    lines += [f"  orders in {month['month']}: {month['orders']} (¥{month['revenue']:,}, erased customers' included)"
              for month in customers["monthly"]]
    return lines


def _sales_lines(sales: dict[str, Any] | None) -> list[str]:
    """Per owner and team: the period's handoffs and how they were answered, then sales' reasons."""
    from nurture.cli.report_html import percent

    if not sales or not sales["owners"]:
        return []
    lines = ["", "sales (handoffs in the period, by the owner routing gave them):",
             "  owner / team                handoffs  verdicts  accepted  median h  overdue  won  lost"]
    for row in [*sales["owners"], *({**team, "owner": f"team {team['team']}"} for team in sales["teams"])]:
        hours = "-" if row["median_hours_to_verdict"] is None else f"{row['median_hours_to_verdict']:g}"
        lines.append(f"  {row['owner'][:26]:<26}  {row['handoffs']:>8}  {row['with_verdict']:>8}  "
                     f"{percent(row['acceptance_rate']):>8}  {hours:>8}  {row['overdue']:>7}  {row['won']:>3}  "
                     f"{row['lost']:>4}")
    lines += [f"  reason: {r['outcome']} {r['count']}x {r['reason'] or '(none given)'}" for r in sales["reasons"][:10]]
    return lines
