"""Views benchmark: warm rerun time and bytes sent to the browser, page by page.

    python -m bench.views                      # 1,000,000 demo events, 5 warm reruns per page
    python -m bench.views --events 150000 --runs 3
    python -m bench.views --startup            # also: first view after a cold server start

Each page runs from ``app.py`` through Streamlit's AppTest, in-process: the first run fills the
caches, then the median of ``--runs`` warm reruns is the page's server time. The bytes a page
sends are the serialized size of every message of one rerun (what the websocket carries).
Targets: warm rerun <= 1 s, bytes < 2 MB per page, first view on the default demo <= 5 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.browser import CHROMIUM, CHROMIUM_ARGS

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "Overview": "pages/overview.py",
    "Visits": "pages/visits.py",
    "WiFi logins": "pages/logins.py",
    "Campaign funnels": "pages/funnels.py",
    "Geofences": "pages/geofences.py",
    "Contact": "pages/contact.py",
}
WARM_TARGET_S = 1.0
BYTES_TARGET = 2_000_000
STARTUP_TARGET_S = 5.0

_message_bytes: list[int] = []


def _record_message_sizes() -> None:
    """Count the serialized size of every message a script run sends to the browser."""
    from streamlit.testing.v1 import local_script_runner as runner

    parse = runner.parse_tree_from_messages

    def parse_and_measure(messages):
        _message_bytes.append(sum(m.ByteSize() for m in messages))
        return parse(messages)

    runner.parse_tree_from_messages = parse_and_measure


def a_contact_id() -> str:
    """The most active contact of the demo, so the Contact page has a full story to draw."""
    import datetime as dt

    from c4w import data, schema

    events = data.load_events(data.Source("demo"), dt.date.today(), dt.date.today()).events
    return str(events[schema.CONTACT_ID].value_counts().index[0])


def measure_page(path: str, runs: int, query: dict[str, str]) -> tuple[float, float, int]:
    """(cold seconds, median warm seconds, bytes of one warm rerun) for one page."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
    at.query_params.update(query)
    at.run()
    started = time.perf_counter()
    at.switch_page(path).run()
    cold = time.perf_counter() - started
    if at.exception:
        raise SystemExit(f"{path} raised: {at.exception[0].value}")
    warm = []
    for _ in range(runs):
        started = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - started)
    return cold, statistics.median(warm), _message_bytes[-1]


def measure_startup(cache_dir: str, port: int = 8599) -> float:
    """Seconds from starting the server (default demo) to the first page fully drawn."""
    from playwright.sync_api import sync_playwright

    env = {k: v for k, v in os.environ.items() if not k.startswith("C4W_")}
    env["C4W_CACHE_DIR"] = cache_dir
    started = time.perf_counter()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            deadline = time.monotonic() + 60
            while True:
                try:
                    page.goto(f"http://127.0.0.1:{port}/", timeout=5000)
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            page.wait_for_selector("[data-testid='stMetric']", timeout=60_000)
            page.wait_for_selector(
                "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000
            )
            elapsed = time.perf_counter() - started
            browser.close()
            return elapsed
    finally:
        server.terminate()
        server.wait(timeout=30)


def report_startup(runs: int) -> bool:
    """Median first-view time over ``runs`` server starts, with and without the demo on disk."""
    import tempfile

    met = True
    for label, keep_disk_cache in (("demo not on disk yet", False), ("demo on disk", True)):
        folder = tempfile.mkdtemp(prefix="c4w-bench-cache-")
        if keep_disk_cache:
            measure_startup(folder)  # fills the folder
        times = []
        for _ in range(runs):
            if not keep_disk_cache:
                folder = tempfile.mkdtemp(prefix="c4w-bench-cache-")
            times.append(measure_startup(folder))
        median = statistics.median(times)
        ok = median <= STARTUP_TARGET_S
        met &= ok
        print(
            f"first view after start-up, default demo, {label}: {median:.1f} s median of "
            f"{runs} ({'met' if ok else 'MISSED'}, target {STARTUP_TARGET_S:.0f} s)"
        )
    return met


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--startup", action="store_true", help="also time a cold server start")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()

    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    from streamlit import logger

    logger.set_log_level("error")  # AppTest runs bare: its context warnings are noise here
    for name in ("C4W_TOKEN", "C4W_CLIENT_KEY", "C4W_CLIENT_SECRET", "C4W_ORG_ID"):
        os.environ.pop(name, None)
    os.environ["C4W_DEMO_EVENTS"] = str(args.events)
    _record_message_sizes()

    started = time.perf_counter()
    contact = a_contact_id()
    print(f"demo of {args.events:,} events ready in {time.perf_counter() - started:.1f} s")
    print(f"{'page':<18}{'cold s':>9}{'warm s (median)':>17}{'bytes sent':>13}  target")
    missed = False
    for title, path in PAGES.items():
        query = {"contact": contact} if path.endswith("contact.py") else {}
        cold, warm, size = measure_page(path, args.runs, query)
        ok = warm <= WARM_TARGET_S and size < BYTES_TARGET
        missed |= not ok
        print(f"{title:<18}{cold:>9.2f}{warm:>17.3f}{size:>13,}  {'met' if ok else 'MISSED'}")
    if args.startup:
        missed |= not report_startup(args.runs)
    return 1 if (missed and args.check) else 0


if __name__ == "__main__":
    raise SystemExit(main())
