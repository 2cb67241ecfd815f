"""Server memory over repeated downloads of the Overview's 90-day "all events" CSV.

``python -m bench.csv_memory [--events 1000000] [--clicks 3]`` starts the dashboard on the demo
organization, opens the Overview for the last 90 days in headless Chromium and downloads every
event as a CSV ``--clicks`` times, sampling the server's RSS every 50 ms. It prints RSS before
the first click, the peak during each click, RSS 10 s after each one, the file's size and the
time from click to file, and RSS ``--wait-after`` seconds after the last click (once the
served file has been dropped from Streamlit's memory).
"""

from __future__ import annotations

import argparse
import os
import re
import threading
import time
from collections.abc import Sequence

from playwright.sync_api import sync_playwright

from bench.browser import CHROMIUM, CHROMIUM_ARGS
from bench.many_users import rss_bytes, start_app

APP_READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
SETTLE_S = 10.0


class Sampler:
    """Samples a process's RSS on a thread; ``peak_since(mark)`` is the highest since a mark."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic(), rss_bytes(self.pid)))
            time.sleep(0.05)

    def now(self) -> int:
        return rss_bytes(self.pid)

    def peak_since(self, mark: float) -> int:
        return max((rss for at, rss in self.samples if at >= mark), default=0)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def mib(value: float) -> str:
    return f"{value / 2**20:,.0f} MiB"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.csv_memory")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--clicks", type=int, default=3)
    parser.add_argument(
        "--wait-after", type=float, default=75.0, help="seconds to wait after the last click"
    )
    args = parser.parse_args(argv)
    print(f"load average before: {os.getloadavg()}")
    server = start_app(args.events, None)
    sampler = Sampler(server.process.pid)
    try:
        with sync_playwright() as play:
            browser = play.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(accept_downloads=True).new_page()
            page.goto(server.url + "/?range=90d", timeout=300_000)
            page.wait_for_selector("[data-testid='stMain'] h1", timeout=300_000)
            page.wait_for_selector(APP_READY, timeout=300_000)
            page.get_by_text("Download the figures and the events behind them").click()
            button = page.locator("[data-testid='stDownloadButton'] button").filter(
                has_text=re.compile(r"All [\d,]+ events")
            )
            label = button.first.inner_text()
            time.sleep(SETTLE_S)
            before = sampler.now()
            print(f"button: {label!r}")
            print(f"RSS before the first click: {mib(before)}")
            for click in range(1, args.clicks + 1):
                mark = time.monotonic()
                with page.expect_download(timeout=600_000) as info:
                    button.first.click()
                path = info.value.path()
                took = time.monotonic() - mark
                size = os.path.getsize(path)
                time.sleep(SETTLE_S)
                print(
                    f"click {click}: {size / 1e6:,.0f} MB in {took:.1f} s; peak "
                    f"{mib(sampler.peak_since(mark))}, {SETTLE_S:.0f} s later {mib(sampler.now())}"
                )
            if args.wait_after:
                time.sleep(args.wait_after)
                print(f"{args.wait_after:.0f} s after the last click: {mib(sampler.now())}")
            browser.close()
    finally:
        sampler.stop()
        server.stop()
    print(f"load average after: {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
