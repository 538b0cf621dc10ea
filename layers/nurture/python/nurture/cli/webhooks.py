"""`nurture webhooks set | list`: where alerts are posted, kept in SSM Parameter Store, never in config files."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from nurture.cli.config_versions import FindTarget, TargetOptions
from nurture.cli.tables import print_table

if TYPE_CHECKING:
    from nurture.adapters.alerts import WebhookClient
    from nurture.cli.target import Target


def add_webhook_commands(commands: argparse._SubParsersAction, target_options: TargetOptions) -> None:
    webhooks = commands.add_parser("webhooks", help="the Slack, Teams and generic webhooks alerts are posted to")
    webhook_commands = webhooks.add_subparsers(dest="webhooks_command", required=True)
    set_command = webhook_commands.add_parser(
        "set", help="store a webhook's URL and signing secret (a new secret is made and printed once if none is "
                    "given)")
    set_command.add_argument("webhook", help="its id in config/sales.yaml's webhooks, or kintone (crm.kintone)")
    set_command.add_argument("--url", required=True, help="https://… (Slack's or Teams' incoming webhook URL, or "
                                                          "your receiver's)")
    set_command.add_argument("--secret-stdin", action="store_true",
                             help="read the signing secret from standard input instead of making one")
    listed = webhook_commands.add_parser("list", help="each webhook of config/sales.yaml and whether its secret is "
                                                      "stored")
    listed.add_argument("--json", action="store_true", help="one JSON object per line")
    for name in ("set", "list"):
        target_options(webhook_commands.choices[name])


def run_webhook_command(args: argparse.Namespace, find_target: FindTarget) -> int:
    from nurture.config import load_config
    from nurture.config.sales import KINTONE

    sales = load_config(args.config_dir).sales
    # What each parameter is for: a webhook's kind, or the kintone connection (its secret is the API token).
    known: dict[str, str] = {webhook_id: webhook.kind for webhook_id, webhook in sales.webhooks.items()}
    known |= {KINTONE: KINTONE} if sales.crm.kintone else {}
    target = find_target(args)
    if target is None:
        return 2
    webhooks = target_webhooks(target)
    if webhooks is None:
        print(f"The {target.description} keeps no webhooks: deploy this version of the stack first.", file=sys.stderr)
        return 2
    if args.webhooks_command == "list":
        missing = set(webhooks.missing(list(known)))
        rows = [(webhook_id, kind, "MISSING: run `nurture webhooks set`" if webhook_id in missing else "stored",
                 webhooks.parameter(webhook_id)) for webhook_id, kind in known.items()]
        if args.json:
            for webhook_id, kind, _, parameter in rows:
                print(json.dumps({"webhook": webhook_id, "kind": kind, "stored": webhook_id not in missing,
                                  "parameter": parameter}, ensure_ascii=False))
        else:
            print_table(("webhook", "kind", "secret", "parameter"), rows,
                        lambda row: f"{row[0]:<24} {row[1]:<8} {row[2]}  ({row[3]})")
        return 1 if missing else 0
    return _set(args, webhooks, known)


def target_webhooks(target: Target) -> WebhookClient | None:
    from nurture.adapters.alerts import WebhookClient

    prefix = target.environment.get("WEBHOOK_PARAMETERS")
    return WebhookClient(prefix) if prefix else None


def _set(args: argparse.Namespace, webhooks: WebhookClient, known: Mapping[str, object]) -> int:
    import secrets

    from nurture.config.sales import KINTONE
    from nurture.domain.sales.webhooks import WebhookTarget

    if args.webhook not in known:
        print(f"config/sales.yaml has no webhook '{args.webhook}' (it has: {', '.join(known) or 'none'})",
              file=sys.stderr)
        return 2
    if args.webhook == KINTONE and not args.secret_stdin:
        print("kintone's API token (the app's 設定 > APIトークン) is read from standard input: --secret-stdin",
              file=sys.stderr)
        return 2
    made = not args.secret_stdin
    secret = secrets.token_urlsafe(32) if made else sys.stdin.readline().strip()
    try:
        webhooks.store(args.webhook, WebhookTarget(args.url, secret))
    except ValueError as refused:
        print(f"not stored: the webhook needs {refused}", file=sys.stderr)
        return 2
    print(f"stored {webhooks.parameter(args.webhook)}; alerts use it within five minutes")
    if made:
        # Once, for the receiver to check signatures (Slack and Teams ignore them); it is not shown again.
        print(f"signing secret: {secret}")
    return 0
