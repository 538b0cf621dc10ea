"""`nurture config push | diff | rollback | status`: marketer content published without a deploy."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path

    from nurture.adapters.config_store import ConfigStore, Pointer
    from nurture.cli.target import Target
    from nurture.config import NurtureConfig
    from nurture.config.versions import ConfigVersion
    from nurture.domain.errors import ConfigInvalid

TargetOptions = Callable[[argparse.ArgumentParser], None]
FindTarget = Callable[[argparse.Namespace], "Target | None"]


def add_version_commands(config_commands: argparse._SubParsersAction, target_options: TargetOptions) -> None:
    push = config_commands.add_parser("push", help="check the config folder and publish it as the active version: "
                                                   "every function uses it within a minute, no deploy")
    push.add_argument("--by", help="who is pushing (default: your AWS identity, or your login locally)")
    config_commands.add_parser("diff", help="what a push would change against the active version")
    rollback = config_commands.add_parser("rollback", help="make the version active before the current one active "
                                                           "again")
    status = config_commands.add_parser("status", help="the active version, who made it active and when")
    for command in (push, rollback, status):
        command.add_argument("--json", action="store_true", help="the outcome as one JSON object")
    for name in ("push", "diff", "rollback", "status"):
        target_options(config_commands.choices[name])


def run_version_command(args: argparse.Namespace, find_target: FindTarget) -> int:
    from nurture.cli import exit_codes
    from nurture.cli.aws_setup import store_unavailable
    from nurture.config.loader import load_config_files, read_config_files
    from nurture.domain.errors import ConfigInvalid, StoreUnavailable, WriteConflict

    target = find_target(args)
    if target is None:
        return 2
    bucket, deployed_url = target.environment.get("CONFIG_BUCKET"), target.environment.get("DEPLOYED_CONFIG_URL")
    if not bucket or not deployed_url:
        print(f"The {target.description} has no config store: deploy this version of the stack first.",
              file=sys.stderr)
        return 2
    from nurture.adapters.config_store import ConfigStore

    store = ConfigStore(bucket)
    try:
        if args.config_command == "status":
            return _status(store, deployed_url, args.json)
        if args.config_command == "rollback":
            return _rollback(store, deployed_url, target.who(getattr(args, "by", None)), args.json)
        files = read_config_files(args.config_dir)
        if args.config_command == "diff":
            return _diff(store, deployed_url, files)
        # A push is `config check` first, and campaigns' times checked against what the target has started,
        # all against the version read here: an invalid bundle changes nothing, and a push that lands
        # meanwhile makes this one a conflict.
        seen = store.pointer()
        active = store.active(deployed_url, seen)
        config = load_config_files(files, str(args.config_dir), check_template_syntax=True)
        late = _past_campaigns(config, active, target.environment["TABLE_NAME"])
        if late:
            raise ConfigInvalid([f"{args.config_dir}/campaigns.yaml: {problem}: change it, or remove the campaign"
                                 for problem in late])
        unset = _webhooks_without_secrets(config, target)
        if unset:
            raise ConfigInvalid([f"{args.config_dir}/sales.yaml: webhooks.{webhook}: no URL and signing secret in "
                                 f"the target: run `nurture webhooks set {webhook} --url URL` first"
                                 for webhook in unset])
        _upload_materials(config, args.config_dir, target)
        return _push(store, deployed_url, files, config, target.who(getattr(args, "by", None)), active, seen,
                     args.json)
    except ConfigInvalid as invalid:
        print_problems(invalid, args.config_dir, ": nothing was pushed")
        return 1
    except WriteConflict as conflict:
        print(f"Someone else changed the active version meanwhile: nothing was changed ({conflict}). "
              "Check `nurture config status` and run again.", file=sys.stderr)
        return 1
    except StoreUnavailable as unavailable:
        return store_unavailable(target.description, unavailable, exit_codes.PROBLEMS_FOUND)


def _upload_materials(config: NurtureConfig, config_dir: Path, target: Target) -> None:
    """The files the download forms and the events name, into the target's materials bucket before the version
    that names them is active (a file already there is replaced: a material can be updated in place)."""
    from nurture.adapters.material_store import S3Materials
    from nurture.config.materials import material_problems, named_materials
    from nurture.domain.errors import ConfigInvalid

    missing = material_problems(config_dir, config.forms, config.events)
    if missing:
        raise ConfigInvalid(missing)
    named = named_materials(config_dir, config.forms, config.events)
    bucket = target.environment.get("MATERIALS_BUCKET")
    if named and not bucket:
        raise ConfigInvalid([f"{config_dir}: the {target.description} has no materials bucket for "
                             f"{', '.join(sorted(named))}: deploy this version of the stack first"])
    store = S3Materials(str(bucket))
    for name, path in sorted(named.items()):
        store.put(name, path.read_bytes())
    if named:  # a step on the way, on stderr: stdout is the push's outcome (one JSON object with --json)
        print(f"uploaded {len(named)} material(s): {', '.join(sorted(named))}", file=sys.stderr)


def _webhooks_without_secrets(config: NurtureConfig, target: Target) -> list[str]:
    """Webhooks (and the kintone connection) the alerts and the CRM push use whose parameter the target lacks:
    pushed, their deliveries would only fail."""
    from nurture.cli.webhooks import target_webhooks
    from nurture.config.sales import secrets_needed

    webhooks = target_webhooks(target)
    used = secrets_needed(config.sales)
    return webhooks.missing(used) if webhooks is not None and used else []


def print_problems(invalid: ConfigInvalid, config_dir: Path, consequence: str = "") -> None:
    """Each problem with its location, then how many, as `nurture config check` lists them."""
    for problem in invalid.problems:
        print(problem, file=sys.stderr)
    print(f"{len(invalid.problems)} problem(s) found in {config_dir}{consequence}", file=sys.stderr)


def _past_campaigns(config: NurtureConfig, active: ConfigVersion, table: str) -> list[str]:
    """Campaigns this push adds or changes whose time has passed without the target starting them."""
    from nurture.adapters.campaign_store import DynamoCampaignStore
    from nurture.config.loader import load_config_files
    from nurture.config.proposals import late_campaigns
    from nurture.domain.clock import utc_now
    from nurture.domain.errors import ConfigInvalid

    try:
        known = load_config_files(active.files, f"v{active.number}").campaigns.campaigns
    except ConfigInvalid:
        known = {}
    return late_campaigns(config, known, utc_now(), DynamoCampaignStore(table))


def _status(store: ConfigStore, deployed_url: str, as_json: bool = False) -> int:
    pointer = store.pointer()
    active = store.active(deployed_url)
    rolled_back = pointer.active is not None and pointer.active.action == "rollback"
    shipped_since = active.number != 1 and store.deployed(deployed_url).digest != active.based_on
    if as_json:
        print(json.dumps({
            "active_version": active.number, "pushed_by": active.pushed_by if active.number != 1 else None,
            "pushed_at": active.pushed_at if active.number != 1 else None,
            "activated_by": pointer.active.activated_by if pointer.active else None,
            "activated_at": pointer.active.activated_at if pointer.active else None, "rollback": rolled_back,
            "digest": active.digest, "files": len(active.files),
            "rollback_to": active.previous if active.number != 1 else None,
            "deploy_shipped_other_files": shipped_since}, ensure_ascii=False))
        return 0
    origin = "shipped by the deploy" if active.number == 1 else f"pushed by {active.pushed_by} at {active.pushed_at}"
    print(f"active version: {active.number} ({origin})")
    if rolled_back and pointer.active is not None:
        print(f"made active again by {pointer.active.activated_by} at {pointer.active.activated_at} (rollback)")
    print(f"digest: {active.digest[:12]}, {len(active.files)} files")
    if active.number != 1:
        print(f"rollback returns to version {active.previous}")
        if shipped_since:
            print("note: a deploy since this push shipped other config files; functions keep this version until "
                  "the next push (or a rollback to 1)")
    return 0


def _diff(store: ConfigStore, deployed_url: str, files: dict[str, str]) -> int:
    from nurture.config.versions import unified_diff

    active = store.active(deployed_url)
    lines = unified_diff(active.files, files, f"v{active.number}")
    if not lines:
        print(f"no changes against the active version {active.number}")
        return 0
    sys.stdout.writelines(lines)
    return 0


def _push(store: ConfigStore, deployed_url: str, files: dict[str, str], config: NurtureConfig, who: str,
          active: ConfigVersion, seen: Pointer, as_json: bool = False) -> int:
    from nurture.config.compiled import CompileFailed, compiled_json, from_compiled
    from nurture.config.versions import DEPLOYED_VERSION, digest
    from nurture.domain.clock import iso, utc_now

    bundle = digest(files)
    if active.digest == bundle:
        if active.number == DEPLOYED_VERSION or from_compiled(active.compiled, bundle) is not None:
            print(json.dumps({"pushed": False, "active_version": active.number}) if as_json else
                  f"no changes against the active version {active.number}: nothing pushed")
            return 0
        # The same files, compiled by another release (the one deployed before): without this, every cold start
        # validates them again.
        print(f"the active version {active.number} has these files, compiled by another release: pushing them "
              "again compiled by this one", file=sys.stderr if as_json else sys.stdout)
    try:
        compiled = compiled_json(config, bundle)
    except CompileFailed as failed:
        print(f"note: {failed}; functions validate this version's files at each cold start instead",
              file=sys.stderr)
        compiled = ""
    version = store.publish(files, who, iso(utc_now()), based_on=store.deployed(deployed_url).digest, seen=seen,
                            compiled=compiled)
    if as_json:
        print(json.dumps({"pushed": True, "active_version": version.number, "files": len(files),
                          "digest": version.digest, "rollback_to": version.previous}))
        return 0
    print(f"pushed version {version.number} ({len(files)} files, digest {version.digest[:12]}); functions use it "
          f"within a minute. `nurture config rollback` returns to version {version.previous}.")
    return 0


def _rollback(store: ConfigStore, deployed_url: str, who: str, as_json: bool = False) -> int:
    from nurture.config.versions import DEPLOYED_VERSION, ActivePointer
    from nurture.domain.clock import iso, utc_now

    seen = store.pointer()
    if seen.version == DEPLOYED_VERSION:
        print("the active version is 1, shipped by the deploy: there is nothing before it", file=sys.stderr)
        return 1
    previous = store.version(seen.version).previous
    store.activate(ActivePointer(previous, who, iso(utc_now()), "rollback"), seen)
    print(json.dumps({"active_version": previous, "was": seen.version}) if as_json else
          f"version {previous} is active again (was {seen.version}); functions use it within a minute")
    return 0
