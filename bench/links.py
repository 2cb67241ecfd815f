"""Fourteen links: one visitor opens 14 shared links with different custom start dates (live).

    python -m bench.links                          # 1,000,000 sandbox events, this build only
    python -m bench.links --baseline ffa86a5       # also an older build, in the same run
    python -m bench.links --events 150000 --links 6
    python -m bench.links --hang --baseline ffa86a5  # time to "not answering" on a hung API

Each link is ``?range=custom&start=<day>&end=<today>``, the start 30, 34, 38... days back, so
every range (and its previous period) differs. One app server per build, started on an empty
history store, against one sandbox API (``python -m c4w.sandbox``) whose request log is reset
between builds. A headless Chromium opens the links one after another, each until its page is
drawn. The server's memory (VmRSS of its process tree) is sampled every 0.5 s.

Reports per build: server RSS when ready and at its peak, the API's event requests, and the
seconds the walk took. With ``--hang`` the sandbox instead holds every events answer back for
3,000 s (``--fault timeout:delay_s=3000,times=0``), and each build is timed from opening the
front page to "Cloud4Wi is not answering" (an older build: "could not be reached") on screen,
for a first and a second visitor at once.

The baseline build is the project at ``--baseline`` (``git archive`` into a temporary folder),
so before and after are measured on the same machine in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import re
import secrets
import sys
import tempfile
import time
from pathlib import Path

from bench.browser import CHROMIUM, CHROMIUM_ARGS
from bench.many_users import (
    ROOT,
    Sampler,
    mib,
    process_tree,
    rss_bytes,
    sandbox_get,
    sandbox_reset,
    start_app,
    start_sandbox,
)
from bench.views import build_copy

READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
# what a build says when it gives up on a hung API (older builds: "could not be reached")
GIVEN_UP = re.compile("Cloud4Wi is not answering|Cloud4Wi could not be reached")
FIRST_DAYS_BACK = 30
STEP_DAYS = 4


def link_starts(today: dt.date, links: int) -> list[dt.date]:
    """The start day of each link: 30, 34, 38... days before ``today``."""
    return [today - dt.timedelta(days=FIRST_DAYS_BACK + STEP_DAYS * i) for i in range(links)]


async def walk(base_url: str, starts: list[dt.date], today: dt.date, timeout: float) -> int:
    """Open every link in turn in one page; returns how many drew without an exception."""
    from playwright.async_api import async_playwright

    drawn = 0
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(timeout * 1000)
            for start in starts:
                url = f"{base_url}/?range=custom&start={start}&end={today}"
                await page.goto(url, wait_until="domcontentloaded")
                await page.wait_for_selector("[data-testid='stMain'] h1", state="attached")
                await page.wait_for_selector(READY, state="attached")
                await page.wait_for_timeout(500)  # a rerun the first run asked for, if any
                await page.wait_for_selector(READY, state="attached")
                if not await page.locator("[data-testid='stException']").count():
                    drawn += 1
        finally:
            await browser.close()
    return drawn


def measure(cwd: Path, args: argparse.Namespace, sandbox, token: str) -> dict[str, str]:
    sandbox_reset(sandbox)
    health = sandbox_get(sandbox, "/_sandbox/health")
    store = tempfile.mkdtemp(prefix="c4w-links-store-")
    live = {
        "C4W_BASE_URL": sandbox.url,
        "C4W_TOKEN": token,
        "C4W_ORG_ID": str(health["org_id"]),  # type: ignore[index]
        "C4W_STORE_DIR": store,
        "C4W_CACHE_DIR": tempfile.mkdtemp(prefix="c4w-links-cache-"),
    }
    taken = [int(sandbox.url.rsplit(":", 1)[1])]
    app = start_app(args.events, live, taken, cwd)
    try:
        with Sampler(app.process.pid) as sampler:
            ready = sum(rss_bytes(p) for p in process_tree(app.process.pid))
            today = dt.datetime.now(dt.UTC).date()
            started = time.monotonic()
            drawn = asyncio.run(walk(app.url, link_starts(today, args.links), today, 600))
            took = time.monotonic() - started
            time.sleep(1.0)
        log = sandbox_get(sandbox, "/_sandbox/requests")
        requests = sum(1 for e in log if e.get("endpoint") == "events")  # type: ignore[union-attr]
        return {
            "links drawn": f"{drawn} of {args.links}",
            "server RSS when ready": mib(ready),
            "server RSS peak": mib(sampler.peak),
            "API event requests": f"{requests:,}",
            "walk (s)": f"{took:.1f}",
        }
    finally:
        app.stop()


async def time_to_message(base_url: str, visitors: int, timeout: float) -> list[float]:
    """Seconds from opening the front page to "not answering" on screen, for ``visitors``
    sessions opened together (inf when it did not show within ``timeout``)."""
    from playwright.async_api import async_playwright

    async def one(browser) -> float:
        page = await browser.new_page()
        started = time.monotonic()
        await page.goto(base_url + "/", wait_until="domcontentloaded")
        try:
            await page.get_by_text(GIVEN_UP).first.wait_for(timeout=timeout * 1000)
        except Exception:
            return float("inf")
        return time.monotonic() - started

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            return list(await asyncio.gather(*(one(browser) for _ in range(visitors))))
        finally:
            await browser.close()


def measure_hang(cwd: Path, args: argparse.Namespace, sandbox, token: str) -> dict[str, str]:
    health = sandbox_get(sandbox, "/_sandbox/health")
    live = {
        "C4W_BASE_URL": sandbox.url,
        "C4W_TOKEN": token,
        "C4W_ORG_ID": str(health["org_id"]),  # type: ignore[index]
        "C4W_STORE_DIR": tempfile.mkdtemp(prefix="c4w-links-store-"),
        "C4W_CACHE_DIR": tempfile.mkdtemp(prefix="c4w-links-cache-"),
    }
    app = start_app(args.events, live, [int(sandbox.url.rsplit(":", 1)[1])], cwd)
    try:
        first, second = asyncio.run(time_to_message(app.url, 2, args.hang_timeout))
        return {
            "first visitor: message after (s)": f"{first:.1f}",
            "second visitor: message after (s)": f"{second:.1f}",
        }
    finally:
        app.stop()


def add_hang_fault(sandbox) -> None:
    import json
    import urllib.request

    fault = {"kind": "timeout", "delay_s": 3000, "times": None, "endpoint": "events"}
    body = json.dumps([fault]).encode()
    request = urllib.request.Request(
        sandbox.url + "/_sandbox/faults",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.links", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="sandbox demo size")
    parser.add_argument("--links", type=int, default=14)
    parser.add_argument("--baseline", help="git revision to measure first, for comparison")
    parser.add_argument("--hang", action="store_true", help="time the message on a hung API")
    parser.add_argument("--hang-timeout", type=float, default=600.0, help="seconds per visitor")
    args = parser.parse_args(argv)
    token = "bench-" + secrets.token_hex(16)
    builds = {"this build": ROOT}
    if args.baseline:
        builds = {f"baseline {args.baseline}": build_copy(args.baseline), **builds}
    print(f"starting the sandbox API over {args.events:,} events…", flush=True)
    sandbox = start_sandbox(args.events, token)
    results = {}
    try:
        if args.hang:
            add_hang_fault(sandbox)
        for name, cwd in builds.items():
            if args.hang:
                print(f"{name}: two visitors on a hung API…", flush=True)
                results[name] = measure_hang(cwd, args, sandbox, token)
                continue
            print(f"{name}: {args.links} links…", flush=True)
            results[name] = measure(cwd, args, sandbox, token)
    finally:
        sandbox.stop()
    rows = list(next(iter(results.values())))
    width = max(len(r) for r in rows) + 2
    cols = [max(len(n), 12) + 2 for n in results]
    print("\n" + "".ljust(width) + "".join(n.rjust(c) for n, c in zip(results, cols, strict=True)))
    for row in rows:
        cells = "".join(results[n][row].rjust(c) for n, c in zip(results, cols, strict=True))
        print(row.ljust(width) + cells)
    return 0


if __name__ == "__main__":
    sys.exit(main())
