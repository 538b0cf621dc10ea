"""The `nurture` command: config checks, the local system, and invoking handlers against a target."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nurture.cli.target import Target

DEFAULT_CONFIG = Path("config")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nurture", description="Nurture: B2B lead nurturing on AWS.")
    parser.add_argument("--config-dir", type=Path, default=DEFAULT_CONFIG, help="folder of the YAML config")
    commands = parser.add_subparsers(dest="command", required=True)

    config = commands.add_parser("config", help="marketer configuration")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    config_commands.add_parser("check", help="validate every config file and list each problem with its location")

    local = commands.add_parser("local", help="run the whole system locally on the AWS emulator")
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument("--port", type=int, default=None, help="gateway port (default: $PORT or 3000)")
    local.add_argument("--persist", type=Path, default=None, help="keep state in this folder across restarts")

    invoke = commands.add_parser("invoke", help="run a function's handler with an event file, like sam local invoke")
    invoke.add_argument("function", help="function name, e.g. forms or tracking")
    invoke.add_argument("event", type=Path, help="a JSON event file (see events/)")
    _target_options(invoke)

    token = commands.add_parser("token", help="mint a signed tracking link for the target's key")
    token.add_argument("kind", choices=["click", "open"])
    token.add_argument("--lead", required=True, help="the lead id the link belongs to")
    token.add_argument("--url", help="the click's destination (click links)")
    token.add_argument("--message", default="manual", help="message id recorded with the hit")
    _target_options(token)

    lead = commands.add_parser("lead", help="show what is stored about a lead")
    lead_commands = lead.add_subparsers(dest="lead_command", required=True)
    show = lead_commands.add_parser("show", help="profile, activity and consent of the lead with this address")
    show.add_argument("email")
    _target_options(show)

    args = parser.parse_args(argv)
    if args.command == "config":
        return config_check(args.config_dir)
    if args.command == "local":
        return run_local(args)
    if args.command == "token":
        return run_token(args)
    if args.command == "lead":
        return run_lead_show(args)
    return run_invoke(args)


def _target_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("--stack", help="target a deployed stack instead of the local system")
    command.add_argument("--region", default="ap-northeast-1", help="the deployed stack's region")


def config_check(config_dir: Path) -> int:
    from nurture.config import load_config
    from nurture.domain.errors import ConfigInvalid

    try:
        config = load_config(config_dir)
    except ConfigInvalid as invalid:
        for problem in invalid.problems:
            print(problem, file=sys.stderr)
        print(f"{len(invalid.problems)} problem(s) found in {config_dir}", file=sys.stderr)
        return 1
    print(f"config OK: {len(config.forms)} forms ({', '.join(sorted(config.forms))})")
    return 0


def run_local(args: argparse.Namespace) -> int:
    import os

    from nurture.local.runtime import LocalSystem

    if config_check(args.config_dir) != 0:
        return 1
    port = args.port if args.port is not None else int(os.environ.get("PORT", "3000"))
    system = LocalSystem(args.config_dir, host=args.host, port=port, persist=args.persist)
    system.start()
    print(f"Nurture is running at {system.gateway_url}", flush=True)
    for name, url in system.urls().items():
        print(f"  {name:<24} {url}", flush=True)
    print("Press Ctrl-C to stop." + (f" State persists in {args.persist}." if args.persist else
                                     " State is in memory (use --persist DIR to keep it)."), flush=True)
    stopped = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopped.set())
    stopped.wait()
    system.stop()
    print("Nurture stopped.", flush=True)
    return 0


def _target(args: argparse.Namespace) -> Target | None:
    from nurture.cli.target import TargetNotFound, local_target, stack_target

    config_dir = str(args.config_dir.resolve())
    try:
        return stack_target(args.stack, args.region, config_dir) if args.stack else local_target(config_dir)
    except TargetNotFound as missing:
        print(str(missing), file=sys.stderr)
        return None


def run_token(args: argparse.Namespace) -> int:
    from nurture.adapters.token_keys import token_signer
    from nurture.domain.tokens import click_token, open_token

    target = _target(args)
    if target is None:
        return 2
    if args.kind == "click" and not args.url:
        print("a click link needs --url", file=sys.stderr)
        return 2
    target.apply()
    signer = token_signer(target.environment["TOKEN_SECRET_ID"])
    if args.kind == "click":
        print(f"{target.api_url}/v1/t/c/{click_token(signer, args.lead, args.url, args.message)}")
    else:
        print(f"{target.api_url}/v1/t/o/{open_token(signer, args.lead, args.message)}.gif")
    return 0


def run_lead_show(args: argparse.Namespace) -> int:
    from nurture.adapters.lead_store import DynamoLeadStore
    from nurture.domain.errors import StoreUnavailable
    from nurture.domain.text import InvalidEmail, email_key, normalize_email

    target = _target(args)
    if target is None:
        return 2
    try:
        key = email_key(normalize_email(args.email))
    except InvalidEmail:
        print(f"'{args.email}' is not an email address", file=sys.stderr)
        return 2
    target.apply()
    try:
        lead = DynamoLeadStore(target.environment["TABLE_NAME"]).read_lead(key)
    except StoreUnavailable as error:
        print(f"{target.description}: {error}", file=sys.stderr)
        return 2
    if lead is None:
        print("no lead has that address", file=sys.stderr)
        return 1
    print(json.dumps(lead, ensure_ascii=False, indent=2, default=str))
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
    target.apply()
    try:
        # Like `sam local invoke`: the function's logs go to stderr, its return value alone to stdout.
        with contextlib.redirect_stdout(sys.stderr):
            result = invoke(args.function, event)
    except KeyError as unknown:
        print(str(unknown).strip("'\""), file=sys.stderr)
        return 2
    print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
