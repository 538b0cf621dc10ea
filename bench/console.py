"""The console: how soon its home and lead pages paint and show their data on the local runtime with 10,000 leads
(Chromium's own timings), the bytes it ships, and the DynamoDB calls each page's API requests make."""

from __future__ import annotations

import functools
import gzip
import os
import statistics
import tempfile
from collections.abc import Callable
from typing import Any

from bench.calls import REPO, counted_dynamodb
from bench.profiles import bulk_load, profile

LEADS = 10_000
LOADS = 5  # each page loaded this many times; the medians are reported
PAGE = REPO / "web" / "console"
ADMIN = {"sub": "bench-admin", "email": "admin@nurture.example", "cognito:groups": ["admin"]}


def shipped() -> dict[str, tuple[int, int]]:
    """Each file of the page: (bytes, bytes gzipped) as a server compressing it would send them."""
    return {path.name: (len(raw := path.read_bytes()), len(gzip.compress(raw, 9)))
            for path in sorted(PAGE.iterdir()) if path.suffix in (".html", ".js", ".css")}


def calls_per_page() -> list[tuple[str, dict[str, Any]]]:
    """The DynamoDB calls of each page's API requests for an admin (moto; 200 leads of one rank, a page of 50)."""
    from nurture.local.events import http_api_event, match_route
    from nurture.local.functions import invoke
    from nurture.local.resources import LocalResources

    def request(path: str, query: str = "") -> Any:
        matched = match_route("GET", path)
        assert matched is not None
        route, parameters = matched
        return lambda: invoke("console", http_api_event("GET", path, query=query, route=route,
                                                        path_parameters=parameters, jwt_claims=ADMIN))

    rows = []
    with counted_dynamodb() as counter:
        bulk_load(LocalResources().table_name, [profile(n) for n in range(200)])
        lead = f"{7:032x}"
        pages = {"home": [request("/v1/console/me"), request("/v1/console/home")],
                 "leads, a rank's first 50": [request("/v1/console/leads", "rank=B&limit=50")],
                 "leads, by an address no lead has": [request("/v1/console/leads", "email=nobody@example.co.jp")],
                 "a lead": [request(f"/v1/console/leads/{lead}")],
                 "campaigns": [request("/v1/console/campaigns")]}
        for name, requests in pages.items():
            rows.append((name, counter.measure(functools.partial(_each, requests))))
    return rows


def _each(requests: list[Callable[[], Any]]) -> None:
    for send in requests:
        send()


def page_timings(leads: int = LEADS, loads: int = LOADS) -> dict[str, dict[str, float]]:
    """Median milliseconds from navigation to first contentful paint, to DOM interactive, and to the page's data
    shown (its view's heading drawn from the API's answer), for the home and a lead's page, with `leads` leads."""
    from playwright.sync_api import sync_playwright

    from nurture.local.cognito import LOCAL_PASSWORD, USERS
    from nurture.local.runtime import LocalSystem, free_port
    from nurture.local.site import StaticSite
    from tests.e2e.conftest import CHROMIUM, CHROMIUM_FLAGS  # the browser tests' (Debian's chromium, `make browser`)

    os.environ["NURTURE_STATE_DIR"] = tempfile.mkdtemp(prefix="nurture-bench-")
    system = LocalSystem(REPO / "config", port=free_port("127.0.0.1"), site=StaticSite([REPO / "web"]))
    system.start()
    try:
        bulk_load(system.resources.table_name, [profile(n) for n in range(leads)])
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
            page = browser.new_page(base_url=system.gateway_url)
            page.goto("/console/")
            page.fill("input[name=email]", USERS["admin"])
            page.fill("input[name=password]", LOCAL_PASSWORD)
            page.click("form#sign-in button[type=submit]")
            page.wait_for_selector("#user:has-text('admin')")
            timings = {"home": _timed(page, "/console/#/home", "table.kpis", loads),
                       "a lead": _timed(page, f"/console/#/leads/{leads // 2:032x}", "svg.chart", loads)}
            browser.close()
    finally:
        system.stop()
    return timings


def _timed(page: Any, url: str, shown: str, loads: int) -> dict[str, float]:
    samples: dict[str, list[float]] = {"first_paint": [], "interactive": [], "data_shown": []}
    for _ in range(loads):
        page.goto("about:blank")
        page.goto(url)
        page.wait_for_selector(shown)
        measured = page.evaluate("""() => ({
            first_paint: performance.getEntriesByName("first-contentful-paint")[0].startTime,
            interactive: performance.getEntriesByType("navigation")[0].domInteractive,
            data_shown: performance.now()})""")
        for name in samples:
            samples[name].append(float(measured[name]))
    return {name: statistics.median(values) for name, values in samples.items()}


def markdown(files: dict[str, tuple[int, int]], calls: list[tuple[str, dict[str, Any]]],
             timings: dict[str, dict[str, float]]) -> list[str]:
    lines = [
        "## The console",
        "",
        f"Its home and a lead's page on the local runtime with {LEADS:,} leads in the table, signed in as an admin,",
        f"each loaded {LOADS} times in headless Chromium (medians, from navigation, Chromium's own timings; the",
        "data shown is the page's view drawn from the API's answers (who is signed in, then the page's own),",
        "which the local runtime serves from one process on the emulator, not Lambda):",
        "",
        "| page | first contentful paint | DOM interactive | data shown |",
        "|---|---:|---:|---:|",
        *[f"| {name} | {t['first_paint']:.0f} ms | {t['interactive']:.0f} ms | {t['data_shown']:.0f} ms |"
          for name, t in timings.items()],
        "",
        "What it ships (budget: 80 KB of JavaScript gzipped): "
        + ", ".join(f"`{name}` {raw:,} bytes ({packed:,} gzipped)" for name, (raw, packed) in files.items())
        + ". No framework, no chart library: the charts are inline SVG.",
        "",
        "DynamoDB calls of each page's API requests (moto, 200 leads of one rank; reads never scan: indexes, the",
        "lead's own partition, the KPI and guard counters):",
        "",
        "| page | reads | writes | calls |",
        "|---|---:|---:|---|",
    ]
    for name, row in calls:
        detail = ", ".join(f"{op} {n}" for op, n in sorted(row["calls"].items()))
        lines.append(f"| {name} | {row['reads']} | {row['writes']} | {detail} |")
    return lines


def main() -> None:
    """`python -m bench.console`: this section alone (`make bench` writes it with the rest)."""
    print("\n".join(markdown(shipped(), calls_per_page(), page_timings())))


if __name__ == "__main__":
    main()
