"""`nurture accounts show`: a company's account as GET /v1/accounts/{id} shows it; `nurture accounts list`: a
rank's accounts as GET /v1/accounts?rank= lists them (issue 24)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from nurture.cli.aws_setup import store_unavailable
from nurture.cli.tables import print_table


def add_account_commands(commands: Any, target_options: Any) -> None:
    accounts = commands.add_parser("accounts", help="companies: their score, buying group and people")
    account_commands = accounts.add_subparsers(dest="accounts_command", required=True)
    show = account_commands.add_parser("show", help="an account as GET /v1/accounts/{id} shows it")
    show.add_argument("who", metavar="ACCOUNT_ID|LEAD_ID|EMAIL", help="the account, or a lead of it")
    show.add_argument("--json", action="store_true", help="the GET /v1/accounts/{id} object")
    target_options(show)
    merge = account_commands.add_parser("merge", help="merge an account into another: its people move there")
    merge.add_argument("merged", metavar="ACCOUNT_ID")
    merge.add_argument("into", metavar="INTO_ACCOUNT_ID")
    merge.add_argument("--json", action="store_true", help="the outcome as one JSON object")
    target_options(merge)
    split = account_commands.add_parser("split", help="undo a merge: its people move back")
    split.add_argument("merged", metavar="ACCOUNT_ID")
    split.add_argument("--json", action="store_true", help="the outcome as one JSON object")
    target_options(split)
    listed = account_commands.add_parser("list", help="a rank's accounts, highest score first")
    listed.add_argument("--rank", choices=("A", "B", "C"), default="A")
    listed.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    listed.add_argument("--json", action="store_true", help="the GET /v1/accounts?rank= objects")
    target_options(listed)


def run_account_command(args: argparse.Namespace, target_of: Any) -> int:
    from nurture import keys
    from nurture.adapters.account_store import DynamoAccountStore
    from nurture.config import load_config
    from nurture.domain.accounts.merging import account_shown
    from nurture.domain.clock import utc_now
    from nurture.domain.errors import StoreUnavailable
    from nurture.domain.text import InvalidEmail, email_key, normalize_email
    from nurture.jsonable import json_default

    target = target_of(args)
    if target is None:
        return 2
    store = DynamoAccountStore(target.environment["TABLE_NAME"])
    if args.accounts_command == "list":
        return _list(store, args, target.description)
    if args.accounts_command in ("merge", "split"):
        return _merge_or_split(store, args, target.description)
    rules, now = load_config(args.config_dir).scoring, utc_now()
    try:
        named = store.find_lead_id(email_key(normalize_email(args.who))) if "@" in args.who else args.who
        view = account_shown(named, store, rules, now) if named else None  # an account's id, unless it is a lead's
        if view is None and named:
            profile = store.profile(named, "account") or {}
            account_id = keys.account_id(str(profile["account"])) if profile.get("account") else None
            view = account_shown(account_id, store, rules, now) if account_id else None
    except InvalidEmail:
        print(f"'{args.who}' is not an email address", file=sys.stderr)
        return 2
    except StoreUnavailable as error:
        return store_unavailable(target.description, error)
    if view is None:
        print("no such account (nor a lead that belongs to one)", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(view, ensure_ascii=False, indent=2, default=json_default))
        return 0
    scores, group = view["scores"], view["buying_group"]
    print(f"{view['name'] or '(no name)'}  {' '.join(view['domains'])}  account {view['account_id']}")
    print(f"rank {view['rank']}  fit {scores['fit']}  engagement {scores['engagement']}  total {scores['total']}  "
          f"owner {view['owner'] or '-'}")
    print("buying group: " + ", ".join(f"{role} {n}" for role, n in group["roles"].items())
          + (f"  (missing: {', '.join(group['missing'])})" if group["missing"] else ""))
    for pattern in view["patterns"]:
        print(f"hot since {pattern['fired_on']}: {pattern['reason']}")
    print(f"{len(view['people'])} people, {view['active_people']} active in the last {view['active_days']} days:")
    for person in view["people"]:
        print(f"  {person['lead_id']}  {person['rank']}  {person['total']:>7}  {person.get('title') or '':<16} "
              f"{','.join(person['roles']) or '-'}")
    return 0


def _list(store: Any, args: argparse.Namespace, where: str) -> int:
    from nurture.domain.errors import StoreUnavailable
    from nurture.jsonable import json_default

    accounts: list[dict[str, Any]] = []
    cursor = None
    try:
        while len(accounts) < args.limit:
            page, cursor = store.accounts_by_rank(args.rank, min(args.limit - len(accounts), 200), cursor)
            accounts += page
            if cursor is None:
                break
    except StoreUnavailable as error:
        return store_unavailable(where, error)
    if args.json:
        print(json.dumps(accounts, ensure_ascii=False, indent=2, default=json_default))
        return 0
    print_table(("account", "rank", "total", "people", "active", "name", "as of"),
                [(account["account_id"], account["rank"], (account["scores"] or {}).get("total", 0),
                  account["people"], account["active_people"], account["name"] or "(no name)", account["updated_at"])
                 for account in accounts],
                lambda row: f"{row[0]}  {row[1]}  {row[2]:>8}  {row[3]:>3} people ({row[4]} active)  {row[5]}  "
                            f"as of {row[6]}")
    if not accounts:
        print(f"no account of rank {args.rank} yet", file=sys.stderr)
    return 0


def _merge_or_split(store: Any, args: argparse.Namespace, where: str) -> int:
    from nurture import keys
    from nurture.domain.accounts.merging import merge_accounts, split_account
    from nurture.domain.clock import utc_now
    from nurture.domain.errors import AccountNotFound, MergeRefused, StoreUnavailable
    from nurture.jsonable import json_default

    named = [args.merged, *([args.into] if args.accounts_command == "merge" else [])]
    wrong = [value for value in named if not re.match(keys.ACCOUNT_ID_PATTERN, value)]
    if wrong:  # an address or a lead id (which `show` takes) names no account to merge
        print(f"not an account id (32 hex digits, as `accounts show` prints it): {wrong[0]}", file=sys.stderr)
        return 2
    try:
        moved, result = 0, None
        while result is None or (result["more"] and result["moved"]):  # a page a call; one moving none ends
            result = (merge_accounts(args.merged, args.into, store, utc_now()) if args.accounts_command == "merge"
                      else split_account(args.merged, store))
            moved += result["moved"]
        if args.json:
            print(json.dumps({**result, "moved": moved}, ensure_ascii=False, default=json_default))
        elif args.accounts_command == "merge":
            print(f"merged {result['merged']} into {result['into']}: {moved} people moved")
        else:
            print(f"split {result['split']} from {result['from']}: {moved} people moved back")
        if result["more"]:
            print("some people could not be moved (their profiles changed meanwhile): run it again", file=sys.stderr)
            return 1
    except (AccountNotFound, MergeRefused) as refused:
        print(str(refused), file=sys.stderr)
        return 1
    except StoreUnavailable as error:
        return store_unavailable(where, error)
    return 0
