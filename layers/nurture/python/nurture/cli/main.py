"""The `nurture` command: config checks, the local system, and invoking handlers against a target."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nurture.cli import exit_codes
from nurture.cli.accounts import add_account_commands, run_account_command
from nurture.cli.aws_setup import aws_setup_problem, store_unavailable
from nurture.cli.calendar import add_calendar_command, run_calendar
from nurture.cli.campaigns import add_campaign_commands, run_campaign_command
from nurture.cli.config_versions import add_version_commands, print_problems, run_version_command
from nurture.cli.console import add_console_commands, run_console_command
from nurture.cli.debug_log import aws_calls_logged
from nurture.cli.events import add_event_commands, run_event_command
from nurture.cli.lists import (
    add_list_commands,
    run_activity_import,
    run_export,
    run_import,
    run_purchase_import,
)
from nurture.cli.progress import terminal_progress
from nurture.cli.report import add_report_command, run_report
from nurture.cli.segments import add_segment_commands, run_segment_command
from nurture.cli.tasks import add_task_commands, run_task_command
from nurture.cli.webhooks import add_webhook_commands, run_webhook_command

if TYPE_CHECKING:
    from nurture.cli.target import Target

DEFAULT_CONFIG = Path("config")
# The demo site and snippet source, and the minified snippet `make web` builds.
DEFAULT_WEB = [Path("web"), Path(".build") / "web"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nurture", description="Nurture: B2B lead nurturing on AWS.",
                                     epilog="Exit codes: 0 done, 1 problems found, 2 bad input or no system to "
                                     "talk to, 130 interrupted, 253 AWS credentials, profile or region, "
                                     "255 a fault of the command (docs/cli.md).")
    parser.add_argument("--config-dir", type=Path, default=DEFAULT_CONFIG, help="folder of the YAML config")
    parser.add_argument("--version", action="version", version=f"nurture {_version()}")
    parser.add_argument("--debug", action="store_true",
                        help="log every AWS call to stderr (never what it carried), and show the traceback of a fault")
    commands = parser.add_subparsers(dest="command", required=True)

    config = commands.add_parser("config", help="marketer configuration")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    config_commands.add_parser("check", help="validate every config file and list each problem with its location")
    add_version_commands(config_commands, _target_options)

    local = commands.add_parser("local", help="run the whole system locally on the AWS emulator")
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--port", type=int, default=None, help="gateway port (default: $PORT or 3000)")
    local.add_argument("--persist", type=Path, default=None, help="keep state in this folder across restarts")
    local.add_argument("--tick", type=float, default=5.0, help="seconds between scheduler ticks (AWS: 60)")
    local.add_argument("--send-any-time", action="store_true",
                       help="open the send window around the clock, to try step emails outside business hours")
    local.add_argument("--web-dir", type=Path, action="append", default=None,
                       help="serve this folder's files (repeatable; default: web/, .build/web/)")

    invoke = commands.add_parser("invoke", help="run a function's handler with an event file, like sam local invoke")
    invoke.add_argument("function", help="function name, e.g. forms or tracking")
    invoke.add_argument("event", type=Path, help="a JSON event file (see events/)")
    _target_options(invoke)

    reply = commands.add_parser("reply", help="a reply arriving on the local system: the raw message into the reply "
                                "bucket, then the replies function, as SES receiving does")
    reply.add_argument("message", type=Path, metavar="EML_FILE", help="a raw message (.eml) sent to a Reply-To "
                       "address of an email in the outbox")

    token = commands.add_parser("token", help="mint a signed tracking link for the target's key")
    token.add_argument("kind", choices=["click", "open"])
    token.add_argument("--lead", required=True, help="the lead id the link belongs to")
    token.add_argument("--url", help="the click's destination (click links)")
    token.add_argument("--message", default="manual", help="message id recorded with the hit")
    _target_options(token)

    keys = commands.add_parser("keys", help="the key that signs tracking links")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    rotate = keys_commands.add_parser(
        "rotate", help="sign new links with a new key; links already sent keep working until they expire "
                       "(unsubscribe links for ever)")
    rotate.add_argument("--json", action="store_true", help="one JSON object")
    _target_options(rotate)

    leads = commands.add_parser("leads", help="look leads up")
    leads_commands = leads.add_subparsers(dest="leads_command", required=True)
    show = leads_commands.add_parser("show", help="a lead as the sales API shows it: scores, breakdown, activity")
    show.add_argument("lead", metavar="LEAD_ID|EMAIL")
    show.add_argument("--json", action="store_true", help="the GET /v1/leads/{lead_id} object")
    show.add_argument("--activities", type=int, default=50, metavar="N", help="the newest N activities (default 50)")
    show.add_argument("--no-pager", action="store_true", help="print at once, without $PAGER, on a terminal too")
    _target_options(show)
    erase = leads_commands.add_parser("erase", help="erase a lead as DELETE /v1/leads/{lead_id} does: everything "
                                                    "but a hashed suppression entry (docs/privacy.md)")
    erase.add_argument("lead", metavar="LEAD_ID|EMAIL")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation (scripts)")
    _target_options(erase)

    handoff = commands.add_parser("handoff", help="the sales handoff queue")
    handoff_commands = handoff.add_subparsers(dest="handoff_command", required=True)
    poll = handoff_commands.add_parser("poll", help="long-poll the handoff queue, print and delete each message")
    poll.add_argument("--max", type=int, default=10, help="stop after this many messages")
    poll.add_argument("--wait", type=int, default=5, help="seconds to wait for messages (0-20)")
    poll.add_argument("--json", action="store_true", help="one JSON object per line")
    poll.add_argument("--queue-url", help="another queue than the target's")
    _target_options(poll)

    add_list_commands(commands, _target_options)
    add_account_commands(commands, _target_options)
    add_event_commands(commands, _target_options)
    add_report_command(commands, _target_options)
    add_segment_commands(commands, _target_options)
    add_campaign_commands(commands, _target_options)
    add_task_commands(commands, _target_options)
    add_calendar_command(commands)

    rescore = commands.add_parser("rescore", help="recompute every lead from its activity with the current rules")
    rescore.add_argument("--json", action="store_true", help="the summary as one JSON object")
    _target_options(rescore)

    sending = commands.add_parser("sending", help="the deliverability guard: rates and the pause")
    sending_commands = sending.add_subparsers(dest="sending_command", required=True)
    for name, text in (("status", "rolling bounce and complaint rates, and whether sending is paused"),
                       ("resume", "lift the guard's pause (after fixing what made addresses bounce)")):
        _target_options(sending_commands.add_parser(name, help=text))
    sending_commands.choices["status"].add_argument("--json", action="store_true", help="one JSON object")

    add_webhook_commands(commands, _target_options)
    add_console_commands(commands, _target_options)

    from nurture.local.simulation import Mix  # the simulated world's defaults, shown in --help

    simulate = commands.add_parser("simulate", help="play a month of nurturing on the emulator in seconds")
    simulate.add_argument("--leads", type=int, default=200, help="synthetic leads (default 200)")
    simulate.add_argument("--days", type=int, default=30, help="virtual days (default 30)")
    simulate.add_argument("--seed", type=int, default=1, help="same seed, same output")
    simulate.add_argument("--start", type=_date, default=None, help="first virtual day, YYYY-MM-DD (a Monday "
                          "in late April by default, so Golden Week falls inside)")
    simulate.add_argument("--tick-minutes", type=int, default=15, help="virtual minutes between scheduler ticks")
    simulate.add_argument("--bad-addresses", type=float, default=Mix.bad_addresses, metavar="SHARE",
                          help=f"share of leads whose address does not exist (default {Mix.bad_addresses})")
    simulate.add_argument("--complaints", type=float, default=Mix.complaints, metavar="CHANCE",
                          help=f"chance that an opened email is reported as spam (default {Mix.complaints})")
    simulate.add_argument("--faults", type=float, default=0.0, metavar="SHARE",
                          help="share of AWS attempts that fail with throttling or a 5xx (default 0)")
    simulate.add_argument("--logs", type=Path, default=None, metavar="FILE",
                          help="write the functions' logs and metrics (as CloudWatch would get them) to FILE")
    simulate.add_argument("--json", action="store_true", help="one JSON object instead of the tables")

    if "_ARGCOMPLETE" in os.environ:  # the shell asks for completions (docs/cli.md): answered, then it exits
        import argcomplete

        argcomplete.autocomplete(parser)
    args = parser.parse_args(argv)
    with aws_calls_logged(sys.stderr) if args.debug else contextlib.nullcontext():
        try:
            return _run(args)
        except exit_codes.Stop as stop:
            return stop.code
        except KeyboardInterrupt:
            print("\ninterrupted", file=sys.stderr)
            return exit_codes.INTERRUPTED
        except Exception as error:  # a fault of the command: one line, unless the operator asked for the traceback
            problem = aws_setup_problem(error)
            if problem is not None:  # the credentials ran out (or were refused) after the stack was found
                print(problem, file=sys.stderr)
                return exit_codes.AWS_SETUP
            if args.debug:
                traceback.print_exc()
                return exit_codes.UNEXPECTED
            said = " ".join(str(error).split())[:200]  # a fault's text may quote an input's values: kept short
            print(f"nurture: {type(error).__name__}: {said} (--debug shows the traceback)", file=sys.stderr)
            return exit_codes.UNEXPECTED


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nurture")
    except PackageNotFoundError:  # run from a checkout without `pip install`
        return "(not installed)"


def _run(args: argparse.Namespace) -> int:
    """The command `args` names."""
    if args.command == "config":
        return config_check(args.config_dir) if args.config_command == "check" else run_version_command(args, _target)
    if args.command == "leads":
        return run_leads_erase(args) if args.leads_command == "erase" else run_leads_show(args)
    # Commands given their arguments alone, and those also given the way to find their target.
    alone: dict[str, Callable[[argparse.Namespace], int]] = {
        "local": run_local, "token": run_token, "keys": run_keys_rotate, "handoff": run_handoff_poll,
        "rescore": run_rescore, "calendar": run_calendar, "simulate": run_simulate, "sending": run_sending,
        "invoke": run_invoke, "reply": run_reply}
    targeted: dict[str, Callable[[argparse.Namespace, Callable[..., Any]], int]] = {
        "import": run_import, "export": run_export, "activity": run_activity_import, "report": run_report,
        "purchases": run_purchase_import, "accounts": run_account_command,
        "campaign": run_campaign_command,
        "segment": run_segment_command, "webhooks": run_webhook_command,
        "tasks": run_task_command, "events": run_event_command, "console": run_console_command}
    if args.command in targeted:
        return targeted[args.command](args, _target)
    return alone[args.command](args)


def _target_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--stack", default=os.environ.get("NURTURE_STACK") or None,
                         help="target a deployed stack instead of the local system (default: $NURTURE_STACK)")
    command.add_argument("--region", default=None, help="the deployed stack's region (default: $AWS_REGION, "
                         "$AWS_DEFAULT_REGION or the profile's)")
    command.add_argument("--profile", default=None, help="the AWS CLI profile whose credentials to use "
                         "(default: $AWS_PROFILE, else the default credentials)")


def run_sending(args: argparse.Namespace) -> int:
    from nurture.adapters.deliverability_store import DynamoDeliverabilityStore
    from nurture.config import load_config
    from nurture.domain.deliverability import judge
    from nurture.settings import runtime_settings

    target = _target(args)
    if target is None:
        return 2
    guard = DynamoDeliverabilityStore(runtime_settings().table_name)
    if args.sending_command == "resume":
        from nurture.domain.clock import utc_now
        from nurture.domain.console.audit import Change

        resumed = guard.resume(Change(target.who(), "sending.resume", "", utc_now()))  # recorded as the console's
        print("sending resumed" if resumed else "sending was not paused")
        return 0
    settings = load_config(args.config_dir).sequences.deliverability
    verdict = judge(guard.recent_days(), settings)
    paused = guard.paused()
    if args.json:
        print(json.dumps({"sends": verdict.sends, "bounces": verdict.bounces, "bounce_rate": verdict.bounce_rate,
                          "complaints": verdict.complaints, "complaint_rate": verdict.complaint_rate,
                          "warning": verdict.reason if verdict.warn else None,
                          "paused": {"since": paused["paused_at"], "reason": paused["reason"]} if paused else None},
                         ensure_ascii=False, default=str))
        return 0
    print(f"sends in the window: {verdict.sends} (about the last {settings.window_sends})")
    print(f"bounce rate:    {verdict.bounce_rate:.2%} ({verdict.bounces} hard bounces; pauses above "
          f"{settings.pause_bounce_rate:.2%} with at least {settings.min_hard_bounces}, on evidence)")
    print(f"complaint rate: {verdict.complaint_rate:.3%} ({verdict.complaints} complaints; pauses above "
          f"{settings.pause_complaint_rate:.3%} with at least {settings.min_complaints}, on evidence)")
    if verdict.warn:
        print(f"WARNING: {verdict.reason}")
    print(f"PAUSED since {paused['paused_at']}: {paused['reason']}" if paused else "sending: active")
    return 0


def _date(text: str) -> Any:
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text}") from error


def run_simulate(args: argparse.Namespace) -> int:
    import time
    from datetime import timedelta

    from nurture.local.simulation import DEFAULT_START, Mix, simulate

    if config_check(args.config_dir) != 0:
        return 1
    if args.leads < 1 or args.days < 1 or args.tick_minutes < 1:
        print("--leads, --days and --tick-minutes must be at least 1", file=sys.stderr)
        return 2
    if not (0 <= args.bad_addresses <= 1 and 0 <= args.complaints <= 1 and 0 <= args.faults < 1):
        print("--bad-addresses, --complaints and --faults are shares between 0 and 1", file=sys.stderr)
        return 2
    started = time.monotonic()
    with contextlib.ExitStack() as files:
        logs = files.enter_context(args.logs.open("w", encoding="utf-8")) if args.logs else None
        progress = files.enter_context(terminal_progress("simulating days"))
        report = simulate(args.config_dir, args.leads, args.days, args.seed, args.start or DEFAULT_START,
                          timedelta(minutes=args.tick_minutes), Mix(bad_addresses=args.bad_addresses,
                                                                   complaints=args.complaints),
                          faults=args.faults, logs=logs, progress=progress)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        print(report.text())
        print(f"\n(simulated in {time.monotonic() - started:.1f} s of wall time)", file=sys.stderr)
    return 0


def config_check(config_dir: Path) -> int:
    from nurture.config import load_config
    from nurture.config.materials import material_problems
    from nurture.domain.errors import ConfigInvalid

    try:
        config = load_config(config_dir, check_template_syntax=True)
        missing = material_problems(config_dir, config.forms, config.events)
        if missing:
            raise ConfigInvalid(missing)
    except ConfigInvalid as invalid:
        print_problems(invalid, config_dir)
        return 1
    from nurture.config.campaigns import past_campaigns
    from nurture.domain.clock import utc_now

    # Offline, a past time may be a campaign already sent: `config push` refuses it unless the target started it.
    for problem in past_campaigns(config.campaigns, config.sequences.send_window, utc_now(), exempt=set()):
        print(f"note: {config_dir}/campaigns.yaml: {problem} (fine if it was sent)", file=sys.stderr)
    print(f"config OK: {len(config.forms)} forms ({', '.join(sorted(config.forms))}), "
          f"{len(config.scoring.engagement) + len(config.scoring.fit)} scoring rules, "
          f"{len(config.sequences.sequences)} sequences, {len(config.templates)} templates, "
          f"{len(config.segments.segments)} segments, {len(config.campaigns.campaigns)} campaigns")
    return 0


def run_local(args: argparse.Namespace) -> int:
    import faulthandler
    import os

    from nurture.local.cognito import LOCAL_PASSWORD as CONSOLE_PASSWORD
    from nurture.local.cognito import USERS as CONSOLE_USERS
    from nurture.local.runtime import LocalSystem
    from nurture.local.site import StaticSite

    if config_check(args.config_dir) != 0:
        return 1
    port = args.port if args.port is not None else int(os.environ.get("PORT", "3000"))
    system = LocalSystem(args.config_dir, host=args.host, port=port, persist=args.persist,
                         tick_seconds=args.tick, send_any_time=args.send_any_time,
                         site=StaticSite(args.web_dir or DEFAULT_WEB))
    # Before start: a Ctrl-C the moment the system is up must stop it, not kill this thread alone
    # and leave the emulator's thread running.
    stopped = threading.Event()
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # `kill -USR1 PID`: where is every thread?
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    system.start()
    print(f"Nurture is running at {system.gateway_url}", flush=True)
    for name, url in system.urls().items():
        print(f"  {name:<24} {url}", flush=True)
    print(f"  {'Outbox folder':<24} {system.outbox_dir}", flush=True)
    print(f"  {'Console sign-in':<24} {', '.join(f'{email} ({group})' for group, email in CONSOLE_USERS.items())}"
          f", password {CONSOLE_PASSWORD} (this machine only)", flush=True)
    print("Press Ctrl-C to stop." + (f" State persists in {args.persist}." if args.persist else
                                     " State is in memory (use --persist DIR to keep it)."), flush=True)
    # Woken every second: a signal's handler then runs even where a blocking wait is not interrupted by it
    # (an idle-looking system once ignored a SIGINT until killed).
    while not stopped.wait(timeout=1.0):
        pass
    system.stop()
    print("Nurture stopped.", flush=True)
    return 0


def _target(args: argparse.Namespace) -> Target | None:
    """The system the command talks to, with this process's environment pointed at it; None if
    there is none (the reason is printed)."""
    from nurture.cli.target import AwsSetupProblem, TargetNotFound, local_target, stack_target

    config_dir = str(args.config_dir.resolve())
    try:
        target = (stack_target(args.stack, args.region, config_dir, args.profile) if args.stack
                  else local_target(config_dir))
    except TargetNotFound as missing:
        print(str(missing), file=sys.stderr)
        if isinstance(missing, AwsSetupProblem):
            raise exit_codes.Stop(exit_codes.AWS_SETUP) from missing
        return None
    target.apply()
    return target


def run_token(args: argparse.Namespace) -> int:
    from nurture.adapters.token_keys import token_signer
    from nurture.domain.tokens import click_token, open_token

    target = _target(args)
    if target is None:
        return 2
    if args.kind == "click" and not args.url:
        print("a click link needs --url", file=sys.stderr)
        return 2
    from nurture.config import load_config

    signer = token_signer(target.environment["SIGNING_KEY_PARAMETER"],
                          load_config(args.config_dir).api.token_lifetime_days)
    if args.kind == "click":
        print(f"{target.api_url}/v1/t/c/{click_token(signer, args.lead, args.url, args.message)}")
    else:
        print(f"{target.api_url}/v1/t/o/{open_token(signer, args.lead, args.message)}.gif")
    return 0


def run_keys_rotate(args: argparse.Namespace) -> int:
    from nurture.adapters.token_keys import rotate_keys
    from nurture.domain.clock import utc_now
    from nurture.domain.errors import StoreUnavailable

    target = _target(args)
    if target is None:
        return 2
    try:
        newest, *older = rotate_keys(target.environment["SIGNING_KEY_PARAMETER"], utc_now())
    except StoreUnavailable as error:
        return store_unavailable(target.description, error)
    if args.json:
        print(json.dumps({"signing": newest.key_id, "verifying": [key.key_id for key in older]}))
        return 0
    print(f"key {newest.key_id} signs new links from now on (functions pick it up within 5 minutes); "
          f"{', '.join(key.key_id for key in older)} verify the links they signed until those expire, "
          f"unsubscribe links for ever")
    return 0


def run_leads_show(args: argparse.Namespace) -> int:
    from nurture.config import load_config
    from nurture.domain.clock import utc_now
    from nurture.domain.errors import StoreUnavailable
    from nurture.domain.leads import lead_view
    from nurture.jsonable import json_default

    found = _the_lead(args)
    if isinstance(found, int):
        return found
    target, store, lead_id = found
    if args.activities < 1:
        print("--activities must be at least 1", file=sys.stderr)
        return exit_codes.BAD_INPUT
    try:
        record = store.lead_record(lead_id, activity_limit=args.activities)
    except StoreUnavailable as error:
        return store_unavailable(target.description, error)
    if record is None:
        print("no such lead", file=sys.stderr)
        return 1
    view = lead_view(record, load_config(args.config_dir).scoring, utc_now(), args.activities)
    if args.json:
        print(json.dumps(view, ensure_ascii=False, indent=2, default=json_default))
        return 0
    text = "\n".join(_lead_lines(view, args.activities))
    if sys.stdout.isatty() and not args.no_pager:  # as `aws` does: a long answer is read in $PAGER (less)
        import pydoc

        pydoc.pager(text)
    else:
        print(text)
    return 0


def _lead_lines(view: dict[str, Any], activity_limit: int) -> list[str]:
    """The lead as `leads show` prints it: every score line, and every activity read."""
    profile, scores = view["profile"], view["scores"]
    lines = [f"{profile.get('name', '')} <{profile.get('email')}>  {profile.get('company', '')}  "
             f"{profile.get('title', '')}",
             f"lead {view['lead_id']}  rank {view['rank']}  stage {view['stage']}  status {view['status']}"
             f"{'  SUPPRESSED' if view['suppressed'] else ''}",
             f"scores: fit {scores['fit']}  engagement {scores['engagement']}  total {scores['total']}"]
    lines += [f"  {row['points']:>7} {row['kind']:<10} {row['rule_id']:<24} {row['reason']}"
              for row in view["breakdown"]]
    activities = view["activities"]
    lines.append(f"activities, newest first ({len(activities)}"
                 + (f"; there may be more: --activities {activity_limit * 2})" if len(activities) >= activity_limit
                    else ")"))
    for activity in activities:
        detail = activity.get("form_id") or activity.get("url") or activity.get("outcome") or ""
        lines.append(f"  {activity['occurred_at']}  {activity['type']:<15} {detail}")
    for proposal in view["proposed_changes"]:
        fields = {**proposal["fields"], **proposal["fields"].get("custom", {})}
        changes = ", ".join(f"{name}={value}" for name, value in fields.items() if name != "custom")
        lines.append(f"  proposed, not applied ({proposal['form_id']}, {proposal['at']}): {changes}")
    return lines


def _the_lead(args: argparse.Namespace) -> tuple[Target, Any, str] | int:
    """The target, its lead store and the id of the lead LEAD_ID|EMAIL names; else the exit code (said why)."""
    from nurture.adapters.lead_store import DynamoLeadStore
    from nurture.domain.errors import StoreUnavailable
    from nurture.domain.text import InvalidEmail, email_key, normalize_email

    target = _target(args)
    if target is None:
        return 2
    store = DynamoLeadStore(target.environment["TABLE_NAME"])
    try:
        lead_id = store.find_lead_id(email_key(normalize_email(args.lead))) if "@" in args.lead else args.lead
    except InvalidEmail:
        print(f"'{args.lead}' is not an email address", file=sys.stderr)
        return 2
    except StoreUnavailable as error:
        return store_unavailable(target.description, error)
    if lead_id is None:
        print("no such lead", file=sys.stderr)
        return 1
    return target, store, lead_id


def run_leads_erase(args: argparse.Namespace) -> int:
    from nurture.domain.errors import LeadNotFound, StoreUnavailable
    from nurture.domain.leads import erase_lead

    found = _the_lead(args)
    if isinstance(found, int):
        return found
    target, store, lead_id = found
    try:
        profile = store.profile(lead_id, "email")
        if profile is not None and not args.yes:
            if not sys.stdin.isatty():
                print("erasing cannot be undone: give --yes to erase without a prompt", file=sys.stderr)
                return 2
            answer = input(f"Erase lead {lead_id} <{profile.get('email')}> for good? Type its email to confirm: ")
            if answer.strip().lower() != str(profile.get("email", "")).lower():
                print("not erased", file=sys.stderr)
                return 1
        erase_lead(lead_id, store)  # also finishes an erasure that was interrupted (the profile goes first)
    except StoreUnavailable as error:
        return store_unavailable(target.description, error)
    except LeadNotFound:
        print("no such lead", file=sys.stderr)
        return 1
    print(f"erased lead {lead_id}: its profile, activity, consent records and browsing history are gone; a hashed "
          f"suppression entry keeps the address from being mailed again")
    return 0


def run_handoff_poll(args: argparse.Namespace) -> int:
    from nurture.adapters.handoff_queue import HandoffQueue

    target = _target(args)
    if target is None:
        return 2
    url = args.queue_url or target.environment.get("HANDOFF_QUEUE_URL")
    if not url:
        print("no handoff queue known for this target: give --queue-url", file=sys.stderr)
        return 2
    queue = HandoffQueue(url)
    printed = 0
    while printed < args.max:
        messages = queue.receive(args.max - printed, max(0, min(args.wait, 20)))
        if not messages:
            break
        for message in messages:
            body = json.loads(message["Body"])
            if args.json:
                print(json.dumps(body, ensure_ascii=False), flush=True)
            else:
                contact, company = body.get("contact", {}), body.get("company", {})
                print(f"HOT {body.get('rank')}  {contact.get('name') or ''} <{contact.get('email')}>  "
                      f"{company.get('name') or ''}  total {body.get('scores', {}).get('total')}  "
                      f"lead {body.get('lead_id')}  handoff {body.get('handoff_id')}", flush=True)
            # Deleted only after printing: a crash in between shows the message again, never loses it.
            queue.delete(message["ReceiptHandle"])
            printed += 1
    if not args.json:
        print(f"{printed} message(s)", file=sys.stderr)
    return 0


def run_rescore(args: argparse.Namespace) -> int:
    from collections import Counter

    from nurture.adapters.scoring_store import DynamoScoringStore
    from nurture.config import load_config
    from nurture.domain.clock import utc_now
    from nurture.domain.score_batch import rescore

    target = _target(args)
    if target is None:
        return 2
    config = load_config(args.config_dir)
    store = DynamoScoringStore(target.environment["TABLE_NAME"])
    total = store.count_leads()
    done, ranks, handoffs = 0, Counter[str](), 0
    try:
        with terminal_progress("rescoring leads") as progress:
            for page in store.lead_ids():
                for lead_id in page:
                    outcome = rescore(lead_id, store, config.scoring, utc_now(), config.api.event_retention_days,
                                      click_burst_seconds=config.bots.click_burst_seconds,
                                      url_groups=config.segments.url_groups, sales=config.sales)
                    done += 1
                    if outcome is not None:
                        ranks[outcome.rank] += 1
                        handoffs += outcome.handoff is not None
                    progress(done, total)
    except KeyboardInterrupt:
        print(f"\ninterrupted after {done} of {total} leads; running it again is safe", file=sys.stderr)
        return exit_codes.INTERRUPTED
    if args.json:
        print(json.dumps({"rescored": done, "ranks": {rank: ranks[rank] for rank in "ABC"}, "handed_off": handoffs}))
        return 0
    summary = ", ".join(f"{rank} {ranks[rank]}" for rank in "ABC")
    print(f"rescored {done} leads ({summary}); {handoffs} newly hot and handed off")
    return 0


def run_invoke(args: argparse.Namespace) -> int:
    from nurture.local.functions import invoke

    target = _target(args)
    if target is None:
        return 2
    try:
        event: Any = json.loads(args.event.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        print(f"cannot read event {args.event}: {error}", file=sys.stderr)
        return 2
    try:
        # Like `sam local invoke`: the function's logs go to stderr, its return value alone to stdout.
        with contextlib.redirect_stdout(sys.stderr):
            result = invoke(args.function, event)
    except KeyError as unknown:
        print(str(unknown).strip("'\""), file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    return 0


def run_reply(args: argparse.Namespace) -> int:
    """Local only: a deployed stack gets its replies from SES itself."""
    from nurture.local.replies import receive
    from nurture.local.resources import LocalResources

    try:
        raw = args.message.read_bytes()
    except OSError as error:
        print(f"cannot read {args.message}: {error}", file=sys.stderr)
        return 2
    from nurture.cli.target import TargetNotFound, local_target

    try:
        local_target(str(args.config_dir.resolve())).apply()
    except TargetNotFound as missing:
        print(str(missing), file=sys.stderr)
        return 2
    with contextlib.redirect_stdout(sys.stderr):  # the function's logs
        outcomes = receive(raw, LocalResources())
    print(json.dumps(outcomes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
