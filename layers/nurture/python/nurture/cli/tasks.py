"""`nurture tasks list | done`: a salesperson's call tasks, and what came of a call, as the sales API has them."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from nurture.cli.aws_setup import store_unavailable
from nurture.cli.config_versions import FindTarget, TargetOptions

if TYPE_CHECKING:
    from nurture.adapters.lead_store import DynamoLeadStore
    from nurture.config.bundle import NurtureConfig

# domain.sales.tasks.CallOutcome's values, spelt out so that parsing arguments imports no domain (a unit test
# holds the two equal).
OUTCOMES = ("reached", "no_answer", "wrong_number", "meeting_set", "not_interested")


def add_task_commands(commands: argparse._SubParsersAction, target_options: TargetOptions) -> None:
    tasks = commands.add_parser("tasks", help="call tasks (テレアポ): list a salesperson's, record a call's outcome")
    task_commands = tasks.add_subparsers(dest="tasks_command", required=True)
    listing = task_commands.add_parser("list", help="a salesperson's or queue's tasks, open ones soonest due first")
    listing.add_argument("--owner", required=True, help="a salesperson's or queue's id in config/sales.yaml")
    listing.add_argument("--status", choices=("open", "done"), default="open")
    listing.add_argument("--limit", type=int, default=50, help="at most this many (1-200)")
    listing.add_argument("--json", action="store_true", help="the GET /v1/tasks object")
    done = task_commands.add_parser("done", help="record what came of a call, as POST /v1/tasks/{id}/outcome does")
    done.add_argument("task", metavar="TASK_ID")
    done.add_argument("--outcome", required=True, choices=OUTCOMES)
    done.add_argument("--by", required=True, help="who called")
    done.add_argument("--note", help="what was said (kept on the lead's timeline)")
    done.add_argument("--attempt", type=int, help="the call this reports (1: the first): a repeat changes nothing")
    done.add_argument("--json", action="store_true", help="the POST /v1/tasks/{id}/outcome answer")
    for name in ("list", "done"):
        target_options(task_commands.choices[name])


def run_task_command(args: argparse.Namespace, find_target: FindTarget) -> int:
    from nurture.adapters.lead_store import DynamoLeadStore
    from nurture.config import load_config
    from nurture.domain.errors import InputError, StoreUnavailable
    from nurture.settings import runtime_settings

    config = load_config(args.config_dir)
    target = find_target(args)
    if target is None:
        return 2
    store = DynamoLeadStore(runtime_settings().table_name)
    try:
        if args.tasks_command == "list":
            return _list(args, store)
        return _done(args, store, config)
    except InputError as error:
        print(error.detail, file=sys.stderr)
        return 1
    except StoreUnavailable as error:
        return store_unavailable(target.description, error)


def _list(args: argparse.Namespace, store: DynamoLeadStore) -> int:
    from nurture.domain.clock import utc_now
    from nurture.domain.sales.task_views import listed_tasks
    from nurture.jsonable import json_default

    if not 1 <= args.limit <= 200:
        print("--limit is 1 to 200", file=sys.stderr)
        return 2
    found, _ = store.tasks_by_owner(args.owner, args.status, args.limit, None)
    tasks = listed_tasks(found, utc_now())
    if args.json:
        print(json.dumps({"tasks": tasks}, ensure_ascii=False, indent=2, default=json_default))
        return 0
    if not tasks:
        print(f"no {args.status} tasks for {args.owner}")
    for task in tasks:
        lead = task["lead"]
        late = "  OVERDUE" if task["overdue"] else ""
        print(f"{task['task_id']}  due {task['due_at'] or '-'}{late}  calls {task['attempts']}/"
              f"{task['attempts_allowed']}{'  ' + task['outcome'] if task['outcome'] else ''}")
        print(f"    {lead['name'] or ''}  {lead['company'] or ''}  {lead['title'] or ''}  "
              f"tel {lead['phone'] or '-'}  rank {lead['rank']}  ({task['reason']})")
    return 0


def _done(args: argparse.Namespace, store: DynamoLeadStore, config: NurtureConfig) -> int:
    from nurture.domain.clock import utc_now
    from nurture.domain.sales.tasks import CallReport, record_call_outcome
    from nurture.domain.text import clean_text
    from nurture.jsonable import json_default

    by, note = clean_text(args.by), clean_text(args.note, multiline=True) if args.note else None
    if not by:
        print("--by names who called", file=sys.stderr)
        return 2
    result = record_call_outcome(args.task, CallReport(args.outcome, by, note, args.attempt), store, config.sales,
                                 config.scoring, utc_now(), config.api.event_retention_days)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, default=json_default))
        return 0
    state = "recorded" if result["changed"] else "already recorded"
    print(f"{state}: {result['task_id']} {result['outcome']}; the task is {result['status']}"
          + (f", next call due {result['due_at']}" if result["due_at"] else ""))
    return 0
