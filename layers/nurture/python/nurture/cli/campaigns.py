"""`nurture campaign list | show | test | schedule | cancel | status`: newsletters on the target system.

Definitions come from the target's active config version (what its functions use): push config/ first.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nurture.cli import exit_codes
from nurture.cli.aws_setup import store_unavailable
from nurture.cli.tables import print_table

if TYPE_CHECKING:
    from nurture.adapters.audience_store import DynamoAudienceStore
    from nurture.cli.target import Target
    from nurture.config import NurtureConfig
    from nurture.domain.campaigns.lifecycle import CampaignState

TargetOptions = Callable[[argparse.ArgumentParser], None]
FindTarget = Callable[[argparse.Namespace], "Target | None"]


def add_campaign_commands(commands: argparse._SubParsersAction, target_options: TargetOptions) -> None:
    campaign = commands.add_parser("campaign", help="campaigns (config/campaigns.yaml): newsletters to a segment")
    campaign_commands = campaign.add_subparsers(dest="campaign_command", required=True)
    listed = campaign_commands.add_parser("list", help="every campaign, its time and its state")
    listed.add_argument("--json", action="store_true")
    target_options(listed)
    for name, text in (("show", "one campaign's definition and state"),
                       ("schedule", "send it at its time to its segment (a draft only; its time must be ahead)"),
                       ("cancel", "stop it: nothing more goes out"),
                       ("status", "its state, the audience found so far, and what was sent or skipped")):
        command = campaign_commands.add_parser(name, help=text)
        command.add_argument("campaign_id", metavar="ID")
        command.add_argument("--json", action="store_true")
        target_options(command)
    test = campaign_commands.add_parser("test", help="send it now to one of its seed addresses, marked as a test")
    test.add_argument("campaign_id", metavar="ID")
    test.add_argument("--to", required=True, metavar="ADDRESS", help="one of the campaign's seeds")
    test.add_argument("--language", choices=["ja", "en"], default="ja")
    target_options(test)


def run_campaign_command(args: argparse.Namespace, find_target: FindTarget) -> int:
    from nurture.adapters.campaign_store import DynamoCampaignStore
    from nurture.domain.campaigns.lifecycle import CampaignRefused
    from nurture.domain.errors import ConfigInvalid, StoreUnavailable

    target = find_target(args)
    if target is None:
        return 2
    from nurture.cli.segments import target_config
    from nurture.settings import runtime_settings

    store = DynamoCampaignStore(runtime_settings().table_name)
    try:
        version, config = target_config()
        command = args.campaign_command
        if command == "list":
            return _list(config, store, args.json)
        if command == "test":
            return _test(config, args)
        if command == "schedule":
            return _schedule(config, version, store, args, target.who())
        if command == "cancel":
            return _cancel(store, args)
        return _show(config, store, args, with_progress=command == "status")
    except (CampaignRefused, ConfigInvalid) as refused:
        print(str(refused), file=sys.stderr)
        return 1
    except StoreUnavailable as error:
        return store_unavailable(target.description, error, exit_codes.PROBLEMS_FOUND)


def _list(config: NurtureConfig, store: Any, as_json: bool) -> int:
    from nurture.domain.campaigns.overview import campaign_rows

    rows = campaign_rows(config, store.states(list(config.campaigns.campaigns)).get, _audiences().scan_done)
    if as_json:
        print(json.dumps(rows, ensure_ascii=False))
    else:
        print_table(("campaign", "status", "sends", "segment", "name"),
                    [(row["id"], row["status"], row["sends"], row["segment"], row["name"]) for row in rows],
                    lambda row: f"{row[0]:<24} {row[1]:<10} {row[2]:<32} {row[3]:<20} {row[4]}")
    return 0


def _show(config: NurtureConfig, store: Any, args: argparse.Namespace, with_progress: bool) -> int:
    from nurture.config.records import dumped
    from nurture.domain.campaigns.lifecycle import campaign_of

    campaign = campaign_of(config.campaigns, args.campaign_id)
    state = store.state(args.campaign_id)
    shown: dict[str, Any] = {"id": args.campaign_id, **dumped(type(campaign), campaign, exclude_none=True),
                             "status": _status(state)}
    if state is not None:
        shown["state"] = state.to_item()
    if with_progress:
        shown["counts"] = store.counts(args.campaign_id)
        if campaign.ab_test is not None:  # the test's own: sent, failed and people's clicks per variant
            from nurture.domain.campaigns.ab import LETTERS, variant_step

            shown["variants"] = {LETTERS[n]: store.counts(variant_step(args.campaign_id, n))
                                 for n in range(len(campaign.ab_test.subjects))}
        if state is not None and state.job_id:
            shown["audience"] = _audience(state.job_id)
        if state is not None and state.rest_job_id:
            shown["rest_audience"] = _audience(state.rest_job_id)  # the A/B test's winner, to everyone else
    if args.json:
        print(json.dumps(shown, ensure_ascii=False))
    else:
        for name, value in shown.items():
            print(f"{name}: {json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value}")
    return 0


def _audience(job_id: str) -> dict[str, Any]:
    progress = _audiences().progress(job_id)
    if progress is None:
        return {}
    return {"found": progress.matched, "profiles_scanned": progress.scanned, "parts": len(progress.parts),
            "parts_done": sum(part.done for part in progress.parts)}


def _audiences() -> DynamoAudienceStore:
    from nurture.adapters.audience_store import DynamoAudienceStore
    from nurture.settings import runtime_settings

    return DynamoAudienceStore(runtime_settings().table_name)


def _status(state: CampaignState | None) -> str:
    from nurture.domain.campaigns.lifecycle import seen_status

    return seen_status(state, _audiences().scan_done)


def _schedule(config: NurtureConfig, version: int, store: Any, args: argparse.Namespace, who: str) -> int:
    from nurture.domain.campaigns.lifecycle import schedule
    from nurture.domain.clock import utc_now

    current = store.state(args.campaign_id)
    state = schedule(config, args.campaign_id, current, version, who, utc_now())
    store.put(state, None)
    campaign = config.campaigns.campaigns[args.campaign_id]
    print(f"scheduled {args.campaign_id}: from {state.sends_from} to segment {campaign.segment} "
          f"(config version {version}); `nurture campaign cancel {args.campaign_id}` stops it")
    return 0


def _cancel(store: Any, args: argparse.Namespace) -> int:
    from nurture.domain.campaigns.lifecycle import cancel
    from nurture.domain.clock import utc_now

    current = store.state(args.campaign_id)
    state = cancel(current, args.campaign_id, utc_now())  # even once "sent": it stops what the sender still holds
    store.put(state, current.status if current else None)
    print(f"cancelled {args.campaign_id}: nothing more goes out")
    return 0


def _test(config: NurtureConfig, args: argparse.Namespace) -> int:
    """Sent through SES as the sender would (domain.campaigns.preview.proof_emails)."""
    from nurture.adapters.mailer import SesMailer
    from nurture.adapters.token_keys import token_signer
    from nurture.domain.campaigns.preview import proof_emails
    from nurture.domain.clock import utc_now
    from nurture.domain.sending import Composer
    from nurture.domain.text import normalize_email
    from nurture.settings import runtime_settings

    settings = runtime_settings()
    signer = token_signer(settings.signing_key_parameter, config.api.token_lifetime_days)  # as the sender signs
    composer = Composer.for_config(config, signer, settings.public_api_url, settings.sender_address)
    mailer = SesMailer(settings.sender_address, settings.ses_configuration_set)
    for letter, raw in proof_emails(config, args.campaign_id, args.to, args.language, composer, utc_now()):
        address = normalize_email(args.to)
        mailer.send(raw, address, {"test": args.campaign_id})  # no sequence or step tag: no campaign counter moves
        print(f"test of {args.campaign_id}{f' (variant {letter})' if letter else ''} sent to {address}")
    return 0
