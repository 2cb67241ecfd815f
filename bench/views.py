"""Views benchmark: warm rerun time, bytes sent and peak memory over a walk of every page.

    python -m bench.views                          # 1,000,000 demo events, last 30 days
    python -m bench.views --events 150000 --runs 3
    python -m bench.views --events 10000000 --range 90d --baseline ffa86a5 --startup
    python -m bench.views --page Locations --page Geofences   # the first view, then these only

Each build is measured in a fresh process of its own (``python bench/views.py --worker``): its
data is made ready first (this build: the demo written into its history store; an older build:
its parsed demo kept on disk), then a new process walks every page from ``app.py`` through
Streamlit's AppTest: the first view (the first run of the front page, caches empty, data ready
on disk, as after a restart), then each page once (cold) and ``--runs`` warm reruns (median).
Warm reruns are also given in CPU seconds of the walking process, which a busy machine does
not inflate. The bytes a page sends are the serialized size of every message of one rerun
(what the websocket carries). Peak RSS is the walking process's own peak (``getrusage``),
imports included.
``--baseline REV`` measures the project at that git revision the same way in the same run;
``--startup`` also times a real server start to the first page drawn in Chromium.
``--range 365d``, which the sidebar offers only as a custom range, opens every page on the custom
range of the 365 days to today through the address, as a shared link does; the demo makes 90 days
itself, so a longer history is built first with ``python -m bench.store build --chunks K
--dashboard-cache DIR`` and walked with ``C4W_CACHE_DIR=DIR``. A page that raises is reported
(its error in the table, its traceback on stderr) and the walk goes on.
Targets: warm rerun <= 1 s, bytes < 2 MB per page; at 10M events on 90 days a first view <= 5 s
and peak RSS <= 2 GB; at 50M events warm rerun <= 2 s and peak RSS <= 4 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from c4w import memory

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "Overview": "pages/overview.py",
    "Data quality": "pages/quality.py",
    "Visits": "pages/visits.py",
    "WiFi logins": "pages/logins.py",
    "Loyalty": "pages/loyalty.py",
    "Locations": "pages/locations.py",
    "Campaign funnels": "pages/funnels.py",
    "Campaigns": "pages/campaigns.py",
    "Geofences": "pages/geofences.py",
    "Contact": "pages/contact.py",
}
RANGES = ("today", "7d", "30d", "90d", "365d")
PRESETS = RANGES[:4]  # the sidebar's own presets; longer ranges are custom ones
BYTES_TARGET = 2_000_000
CREDENTIAL_VARS = ("C4W_TOKEN", "C4W_CLIENT_KEY", "C4W_CLIENT_SECRET", "C4W_ORG_ID", "C4W_BASE_URL")


def range_params(choice: str, today: dt.date) -> dict[str, str]:
    """The address parameters that open a page on ``choice``: a sidebar preset by its name,
    ``"365d"`` as the custom range of the 365 days to ``today`` (both ends included)."""
    if choice in PRESETS:
        return {"range": choice}
    days = int(choice.removesuffix("d"))
    start = today - dt.timedelta(days=days - 1)
    return {"range": "custom", "start": start.isoformat(), "end": today.isoformat()}


def targets(events: int) -> dict[str, float | None]:
    """The issue's targets for a demo of ``events``: warm rerun seconds, first view seconds and
    peak RSS bytes (None: no target at that size)."""
    if events >= 50_000_000:
        return {"warm_s": 2.0, "first_view_s": None, "peak_rss": 4 * 2**30}
    if events >= 10_000_000:
        return {"warm_s": 1.0, "first_view_s": 5.0, "peak_rss": 2 * 2**30}
    return {"warm_s": 1.0, "first_view_s": None, "peak_rss": None}


# --- inside a worker process (the build's own ``c4w`` on the path) ------------------------------
_message_bytes: list[int] = []


def _record_message_sizes() -> None:
    """Count the serialized size of every message a script run sends to the browser."""
    from streamlit.testing.v1 import local_script_runner as runner

    parse = runner.parse_tree_from_messages

    def parse_and_measure(messages):
        _message_bytes.append(sum(m.ByteSize() for m in messages))
        return parse(messages)

    runner.parse_tree_from_messages = parse_and_measure


def prepare(events: int) -> None:
    """Make the build's data ready on disk (as a server that ran before leaves it)."""
    from c4w import data, demo

    if hasattr(data, "store_of"):
        data.store_of(data.Source("demo"))
        return
    demo.demo_events_frame(events)  # an older build: the parsed demo frame, saved on disk
    path = demo.demo_cache_path(events, demo._this_hour())
    deadline = time.monotonic() + 900
    while path is not None and not path.exists() and time.monotonic() < deadline:
        time.sleep(0.5)  # it is saved on a background thread


def busiest_contact(app_root: Path) -> str:
    """The most active contact of the demo's last week (the Contact page's story)."""
    import datetime as dt

    from c4w import data, schema

    today = dt.datetime.now(dt.UTC).date()
    if hasattr(data, "read_view"):
        events = data.read_view(data.Source("demo"), today - dt.timedelta(days=6), today).events
    else:
        events = data.load_events(data.Source("demo"), today, today).events
    return str(events[schema.CONTACT_ID].value_counts().index[0])


def _peak_rss() -> int:
    """This process's peak resident memory so far, in bytes."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _current_rss() -> int:
    """This process's resident memory now, in bytes (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _error_text(at) -> str | None:
    """The first exception a run showed (its traceback to stderr), or None."""
    if not at.exception:
        return None
    shown = at.exception[0]
    print("\n".join(shown.stack_trace or []), file=sys.stderr, flush=True)
    return str(shown.value)


def walk(app_root: Path, runs: int, choice: str, titles: list[str] | None = None) -> dict:
    """First view, then every page (or those of ``titles``) cold and warm, in this process;
    returns the figures."""
    from streamlit import logger
    from streamlit.testing.v1 import AppTest

    logger.set_log_level("error")  # AppTest runs bare: its context warnings are noise here
    _record_message_sizes()
    app = str(app_root / "app.py")
    params = range_params(choice, dt.datetime.now(dt.UTC).date())
    started = time.perf_counter()
    at = AppTest.from_file(app, default_timeout=1800)
    at.query_params.update(params)
    at.run()
    first_view = time.perf_counter() - started
    error = _error_text(at)
    if error:
        raise SystemExit(f"first view raised: {error}")
    first_peak = _peak_rss()
    print(f"first view: {first_view:.2f} s, peak {first_peak / 2**20:,.0f} MiB", file=sys.stderr)
    contact = busiest_contact(app_root)
    pages = {}
    for title, path in PAGES.items():
        if not (app_root / path).exists() or (titles and title not in titles):
            continue
        at = AppTest.from_file(app, default_timeout=1800)
        at.query_params.update(params)
        if path.endswith("contact.py"):
            at.query_params["contact"] = contact
        at.run()
        started = time.perf_counter()
        at.switch_page(path).run()
        cold = time.perf_counter() - started
        error = _error_text(at)
        warm, warm_cpu = [], []
        for _ in range(0 if error else runs):
            started, cpu = time.perf_counter(), time.process_time()
            at.run()
            warm.append(time.perf_counter() - started)
            warm_cpu.append(time.process_time() - cpu)
            error = error or _error_text(at)
        pages[title] = {
            "cold": cold,
            "warm": statistics.median(warm) if warm else None,
            "warm_cpu": statistics.median(warm_cpu) if warm_cpu else None,
            "bytes": _message_bytes[-1],
            "peak_after": _peak_rss(),
            "rss_after": _current_rss(),
            "error": error,
        }
        print(f"{title}: {json.dumps(pages[title])}", file=sys.stderr, flush=True)
    peak = _peak_rss()
    return {"first_view": first_view, "first_peak": first_peak, "pages": pages, "peak_rss": peak}


def worker(args: argparse.Namespace) -> int:
    app_root = Path(args.app_root)
    os.chdir(app_root)
    sys.path.insert(0, str(app_root))
    if args.prepare:
        started = time.perf_counter()
        prepare(args.events)
        print(json.dumps({"prepare_s": time.perf_counter() - started}))
        return 0
    print(json.dumps(walk(app_root, args.runs, args.range, args.page)))
    return 0


# --- the driver ----------------------------------------------------------------------------------
def build_copy(revision: str) -> Path:
    """The project at ``revision``, unpacked into a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="c4w-baseline-"))
    archive = folder / "build.tar"
    subprocess.run(
        ["git", "archive", "--format=tar", "-o", str(archive), revision], cwd=ROOT, check=True
    )
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    archive.unlink()
    return folder


def run_worker(app_root: Path, env: dict[str, str], *extra: str) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--app-root"]
    command += [str(app_root), *extra]
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True, cwd=app_root)
    if done.returncode != 0:
        raise SystemExit("worker failed (its output is above)")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure_startup(app_root: Path, env: dict[str, str], port: int = 8599) -> float:
    """Seconds from starting the server to the first page fully drawn in Chromium."""
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))
    from bench.browser import CHROMIUM, CHROMIUM_ARGS

    started = time.perf_counter()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    server = subprocess.Popen(
        command, cwd=app_root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            deadline = time.monotonic() + 120
            while True:
                try:
                    page.goto(f"http://127.0.0.1:{port}/", timeout=5000)
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            page.wait_for_selector("[data-testid='stMetric']", timeout=600_000)
            page.wait_for_selector(
                "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=600_000
            )
            elapsed = time.perf_counter() - started
            browser.close()
            return elapsed
    finally:
        server.terminate()
        server.wait(timeout=30)


def environment(events: int) -> dict[str, str]:
    """Demo mode with ``events``, and data folders of this run only."""
    env = memory.server_environment(
        {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
    )
    env["C4W_DEMO_EVENTS"] = str(events)
    env.setdefault("C4W_CACHE_DIR", tempfile.mkdtemp(prefix="c4w-bench-cache-"))
    env.setdefault("C4W_STORE_DIR", tempfile.mkdtemp(prefix="c4w-bench-store-"))
    return env


def report(results: dict[str, dict], args: argparse.Namespace) -> bool:
    names = list(results)
    print(f"\nViews, {args.events:,} demo events, range {args.range}, median of {args.runs}:")
    header = "".join(f"{n[:30]:>32}" for n in names)
    print(f"{'':<30}{header}")

    def row(label: str, cells: list[str]) -> None:
        print(f"{label:<30}" + "".join(f"{c:>32}" for c in cells))

    row("data made ready (s)", [f"{r['prepare_s']:.1f}" for r in results.values()])
    if args.startup:
        row("server start to first page (s)", [f"{r['startup_s']:.1f}" for r in results.values()])
    row("first view, AppTest (s)", [f"{r['first_view']:.2f}" for r in results.values()])
    row("peak RSS of the walk (MiB)", [f"{r['peak_rss'] / 2**20:,.0f}" for r in results.values()])
    first_peaks = [f"{r['first_peak'] / 2**20:,.0f}" for r in results.values()]
    row("peak after first view (MiB)", first_peaks)
    walked = [title for title in PAGES if any(title in r["pages"] for r in results.values())]
    for title in walked:
        row(f"{title} cold / warm", [_page_cell(r["pages"].get(title)) for r in results.values()])
    for title in walked:  # CPU seconds of this process: what a busy machine does not inflate
        cells = []
        for r in results.values():
            page = r["pages"].get(title)
            cpu = None if page is None else page.get("warm_cpu")
            cells.append("-" if cpu is None else f"{cpu:.2f} s")
        row(f"{title} warm CPU", cells)
    for title in walked:
        cells = []
        for r in results.values():
            page = r["pages"].get(title)
            cells.append("-" if page is None else f"{page.get('peak_after', 0) / 2**20:,.0f}")
        row(f"{title} peak after (MiB)", cells)
    for name, r in results.items():
        for title, page in r["pages"].items():
            if page.get("error"):
                print(f"{name}: {title} raised: {page['error']}")
    mine = results[names[-1]]
    goal = targets(args.events)
    met = all(
        not p.get("error") and p["warm"] <= goal["warm_s"] and p["bytes"] < BYTES_TARGET
        for p in mine["pages"].values()
    )
    first = mine.get("startup_s", mine["first_view"])
    if goal["first_view_s"] is not None:
        met &= first <= goal["first_view_s"]
    if goal["peak_rss"] is not None:
        met &= mine["peak_rss"] <= goal["peak_rss"]
    print("targets", "met" if met else "MISSED", "(this build)")
    return met


def _page_cell(page: dict | None) -> str:
    if page is None:
        return "-"
    if page.get("error"):
        return f"{page['cold']:.2f} s / error"
    return f"{page['cold']:.2f} s / {page['warm']:.2f} s / {page['bytes'] / 1e3:,.0f} kB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--range", default="30d", choices=RANGES)
    parser.add_argument("--baseline", help="git revision measured first, in the same run")
    parser.add_argument("--startup", action="store_true", help="also time a real server start")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--page", action="append", choices=list(PAGES), help="walk only this page (repeatable)"
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--app-root", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)

    builds = {"this build": ROOT}
    if args.baseline:
        builds = {f"baseline {args.baseline}": build_copy(args.baseline), **builds}
    try:
        results = {name: measure(root, args) for name, root in builds.items()}
    finally:  # the baseline's unpacked copy is removed, also when a walk fails
        for root in builds.values():
            if root != ROOT:
                shutil.rmtree(root, ignore_errors=True)
    met = report(results, args)
    return 0 if (met or not args.check) else 1


def measure(root: Path, args: argparse.Namespace) -> dict:
    """The figures of the build at ``root``: its data made ready, then its walk."""
    name = "this build" if root == ROOT else f"baseline {args.baseline}"
    env = environment(args.events)
    env["PYTHONPATH"] = str(root)
    print(f"{name}: making the data ready…", flush=True)
    figures = run_worker(root, env, "--prepare", "--events", str(args.events))
    print(f"{name}: walking every page…", flush=True)
    walk_args = ["--events", str(args.events), "--runs", str(args.runs), "--range", args.range]
    walk_args += [f"--page={title}" for title in args.page or []]
    figures |= run_worker(root, env, *walk_args)
    if args.startup:
        figures["startup_s"] = measure_startup(root, env)
    return figures


if __name__ == "__main__":
    raise SystemExit(main())
