"""`nurture segment count | preview NAME`: a segment over the whole population, by the target's own workers."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nurture.cli import exit_codes
from nurture.cli.aws_setup import store_unavailable
from nurture.cli.progress import Report, terminal_progress

if TYPE_CHECKING:
    from nurture.adapters.audience_store import DynamoAudienceStore
    from nurture.cli.target import Target
    from nurture.config import NurtureConfig
    from nurture.domain.audiences.scan import JobProgress

TargetOptions = Callable[[argparse.ArgumentParser], None]
FindTarget = Callable[[argparse.Namespace], "Target | None"]
WAIT_SECONDS = 900  # a job over a very large table on a busy account; the workers go on if we stop waiting
PREVIEW_COLUMNS = ("lead_id", "email", "name", "company", "title", "rank", "total", "stage", "status")


def add_segment_commands(commands: argparse._SubParsersAction, target_options: TargetOptions) -> None:
    segment = commands.add_parser("segment", help="segments (config/segments.yaml) over every lead")
    segment_commands = segment.add_subparsers(dest="segment_command", required=True)
    count = segment_commands.add_parser("count", help="how many leads the segment holds now")
    preview = segment_commands.add_parser("preview", help="a sample of the segment's leads")
    preview.add_argument("--limit", type=int, default=20, help="leads to show (at most 100; default 20)")
    for command in (count, preview):
        command.add_argument("name", help="the segment's name")
        command.add_argument("--json", action="store_true", help="one JSON object")
        target_options(command)


def run_segment_command(args: argparse.Namespace, find_target: FindTarget) -> int:
    from nurture.adapters.audience_queue import AudienceQueue
    from nurture.adapters.audience_store import DynamoAudienceStore
    from nurture.domain.audiences.scan import PREVIEW_MAX, ScanTask, new_job_id, start_scan
    from nurture.domain.clock import utc_now
    from nurture.domain.errors import ConfigInvalid, StoreUnavailable
    from nurture.settings import runtime_settings

    limit = getattr(args, "limit", 0)
    if not 0 <= limit <= PREVIEW_MAX:
        print(f"--limit is between 1 and {PREVIEW_MAX}", file=sys.stderr)
        return 2
    target = find_target(args)
    if target is None:
        return 2
    settings = runtime_settings()
    if not settings.audience_queue_url:
        print(f"The {target.description} has no segment workers: deploy this version of the stack first.",
              file=sys.stderr)
        return 2
    try:
        version, config = target_config()
        segments = config.segments.segments
        if args.name not in segments:
            print(f"No segment '{args.name}' in config version {version} (it has: "
                  f"{', '.join(sorted(segments)) or 'none'}). Push config/ first if you added it.", file=sys.stderr)
            return 1
        store = DynamoAudienceStore(settings.table_name)
        started = time.monotonic()
        job_id = start_scan(store, AudienceQueue(settings.audience_queue_url), ScanTask.of(
            job_id=new_job_id(), segment=args.name, part=0, parts=1, config_version=version, sample=limit),
            args.segment_command, "nurture segment", utc_now())
        with terminal_progress(f"scanning for {args.name} (parts)") as report:
            progress = _wait(store, job_id, report)
    except ConfigInvalid as error:
        print(str(error), file=sys.stderr)
        return 1
    except StoreUnavailable as error:
        return store_unavailable(target.description, error, exit_codes.PROBLEMS_FOUND)
    if progress is None or not progress.done:
        print(f"The workers have not finished yet (job {job_id}); they go on without us.", file=sys.stderr)
        return 1
    result: dict[str, Any] = {"segment": args.name, "config_version": version, "leads": progress.matched,
                              "profiles_scanned": progress.scanned, "parts": len(progress.parts),
                              "seconds": round(time.monotonic() - started, 1)}
    if args.segment_command == "preview":
        result["sample"] = _rows(store, progress.sample(limit))
    print(json.dumps(result, ensure_ascii=False) if args.json else _text(result))
    return 0


def target_config() -> tuple[int, NurtureConfig]:
    """The target's active config version and its content: what its functions use, not the local folder
    (version 1 is the bundle the deploy shipped, read from where the deploy put it)."""
    import os

    from nurture.adapters.config_store import ConfigStore
    from nurture.config.loader import load_config_files
    from nurture.config.versions import DEPLOYED_VERSION
    from nurture.settings import config_version, runtime_settings

    bucket, shipped = runtime_settings().config_bucket, os.environ.get("DEPLOYED_CONFIG_URL", "")
    if not bucket or not shipped:
        return DEPLOYED_VERSION, config_version(DEPLOYED_VERSION)  # a stack from before the config store
    active = ConfigStore(bucket).active(shipped)
    return active.number, load_config_files(active.files, f"config v{active.number}")


def _wait(store: DynamoAudienceStore, job_id: str, report: Report) -> JobProgress | None:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        progress = store.progress(job_id)
        if progress is not None:
            report(sum(part.done for part in progress.parts), len(progress.parts))
        if (progress is not None and progress.done) or time.monotonic() > deadline:
            return progress
        time.sleep(0.5)


def _rows(store: DynamoAudienceStore, lead_ids: list[str]) -> list[dict[str, Any]]:
    from nurture.jsonable import plain

    rows = []
    for lead_id in lead_ids:
        profile = store.profile(lead_id) or {}
        rows.append(plain({column: lead_id if column == "lead_id" else profile.get(column, "")
                              for column in PREVIEW_COLUMNS}))
    return rows


def _text(result: dict[str, Any]) -> str:
    lines = [f"segment {result['segment']} (config version {result['config_version']}): {result['leads']} leads "
             f"of {result['profiles_scanned']} scanned, {result['parts']} parts in parallel, {result['seconds']} s"]
    for row in result.get("sample", []):
        lines.append("  ".join(str(row[column]) for column in PREVIEW_COLUMNS))
    return "\n".join(lines)
