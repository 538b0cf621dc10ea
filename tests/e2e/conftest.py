"""A real browser (Debian's chromium, driven by Playwright) on the demo site of a running local system."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright

from nurture.keys import lead_pk
from tests.local_system import REPO, RunningSystem, start_system

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("NURTURE_TEST_ARTIFACTS", REPO / ".build" / "test-artifacts")) / "e2e"
# As root in a container, with no network beyond loopback: no sandbox, and none of Chrome's own calls home.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    # Step emails go out at once (any hour, a one-second tick), so a lead's first email arrives in seconds.
    system = start_system(tmp_path_factory.mktemp("e2e"), "--send-any-time", "--tick", "1")
    yield system
    system.stop_and_check_logs()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright, site: RunningSystem) -> Iterator[Browser]:
    # Depends on the site so that it closes first: the site then stops with no browser connected.
    browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
    yield browser
    browser.close()


class Visit:
    """One visitor's browser (a fresh context: no cookies), with every console error it printed."""

    def __init__(self, browser: Browser, base_url: str, **options: Any):
        self.context = browser.new_context(base_url=base_url, locale="ja-JP", **options)
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.beacons: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        # Beacons' bodies are not shown to Playwright: what they carried is read back from the table.
        self.page.on("request", lambda request: self.beacons.append(request.url)
                     if request.url.endswith("/v1/events") else None)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"{message.type}: {message.text} ({message.location.get('url')})")

    def cookie(self, name: str) -> str | None:
        return next((c["value"] for c in self.context.cookies() if c["name"] == name), None)

    def screenshot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.fixture
def visit(browser: Browser, site: RunningSystem, request: pytest.FixtureRequest) -> Iterator[Callable[..., Visit]]:
    opened: list[Visit] = []

    def open_visit(**options: Any) -> Visit:
        opened.append(Visit(browser, site.base_url, **options))
        return opened[-1]

    yield open_visit
    for number, visited in enumerate(opened):
        if not visited.page.is_closed():  # the final page of every scenario, kept with the test run
            visited.screenshot(request.node.name + (f"-{number}" if number else ""))
        visited.context.close()


def history(site: RunningSystem, lead_id: str) -> list[dict[str, Any]]:
    return site.events(lead_pk(lead_id))
