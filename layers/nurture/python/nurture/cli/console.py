"""`nurture console publish`: the console's page into a deployed stack's bucket, with the settings it signs in with."""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
from pathlib import Path

from nurture.cli.config_versions import FindTarget, TargetOptions
from nurture.domain.console.page import SETTINGS_FILE, cognito_endpoint, page_settings

PAGE_FOLDER = Path("web") / "console"


def add_console_commands(commands: argparse._SubParsersAction, target_options: TargetOptions) -> None:
    console = commands.add_parser("console", help="the marketer's console")
    console_commands = console.add_subparsers(dest="console_command", required=True)
    publish = console_commands.add_parser(
        "publish", help="upload the console's page to a deployed stack (after each `cdk deploy` that changes it)")
    publish.add_argument("--page", type=Path, default=PAGE_FOLDER, help=f"the page's folder (default {PAGE_FOLDER})")
    target_options(publish)


def page_files(folder: Path, region: str, client_id: str) -> dict[str, tuple[bytes, str]]:
    """Every file of the page's folder by its key, and the settings the page reads to sign in."""
    files = {path.name: (path.read_bytes(), _content_type(path.name))
             for path in sorted(folder.iterdir()) if path.is_file() and path.name != SETTINGS_FILE}
    settings = page_settings(region, client_id, cognito_endpoint(region))
    files[SETTINGS_FILE] = (json.dumps(settings).encode(), _content_type(SETTINGS_FILE))
    return files


def _content_type(name: str) -> str:
    kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith(("text/", "application/javascript", "application/json")) \
        else kind


def run_console_command(args: argparse.Namespace, find_target: FindTarget) -> int:
    from nurture.adapters.console_site import S3ConsoleSite

    if not (args.page / "index.html").is_file():
        print(f"{args.page} holds no index.html: run from the project's folder, or give --page.", file=sys.stderr)
        return 2
    target = find_target(args)
    if target is None:
        return 2
    bucket = target.environment.get("CONSOLE_BUCKET")
    if not bucket:
        print(f"The {target.description} has no console bucket: the local system serves {args.page} itself at "
              f"{target.api_url.rstrip('/')}/console/, and a stack gets one from this version's `cdk deploy`.",
              file=sys.stderr)
        return 2
    files = page_files(args.page, target.environment["AWS_REGION"], target.environment["CONSOLE_CLIENT_ID"])
    S3ConsoleSite(bucket).publish(files)
    print(f"published {', '.join(sorted(files))}; the console: {target.environment['CONSOLE_URL']}")
    return 0
