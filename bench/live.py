"""Live benchmark: what opening the Overview costs against a slow Cloud4Wi API, with the history
store and with the build before it, in the same run.

    python -m bench.live                               # 1,000,000 demo events, +300 ms an answer
    python -m bench.live --events 100000 --latency-ms 50 --runs 3

One sandbox API (``python -m c4w.sandbox``, a subprocess) serves the demo organization for the
whole run; its request log (``GET /_sandbox/requests``) says what each step asked. In order:

1. this build: ``python -m c4w sync`` (its default, the last 90 days; ``--sync-days N`` syncs
   the last N days instead) into an empty store;
2. this build started fresh (the restart): the Overview opened in Chromium on the last 90 days,
   then 30 days, then 90 days again;
3. the build before the store (``--baseline``, by default the commit before it landed) in a fresh
   process: the same three opens; it fetches each range from the API on each open, kept in
   memory for 10 minutes;
4. this build restarted a second time: the same three opens.

Each open is a new page load of ``/?range=90d`` (or ``30d``) in the same server process.
"shown" is from asking for the page until it is drawn (its numbers on screen, the script run
finished); "done" is until every request the open started has been answered and the page drawn
again with what they brought (this build shows the stored days at once and fetches the unsettled
recent ones in the background). A view also reads the period before its dates (the figures'
comparison), so 90 days read 180 days of history: after a sync of 90 days the first open
fetches the 90 days before them (``--sync-days 180`` syncs them too). With ``--runs N`` the
whole sequence runs N times (a fresh store each time) and each figure is the median.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.browser import CHROMIUM, CHROMIUM_ARGS, CREDENTIAL_VARS
from bench.many_users import ROOT, Server, sandbox_get, start_app, start_sandbox
from bench.views import build_copy
from c4w.__main__ import DEFAULT_DAYS  # what ``python -m c4w sync`` fetches into an empty store

BEFORE_STORE = "d55b5aa^"  # the last commit before the history store landed
OPENS = ("90d", "30d", "90d")
QUIET_S = 2.0  # no request asked or pending for this long: the open's fetching is over
POLL_S = 0.2
STEP_TIMEOUT_S = 1800.0
SHOWN = "[data-testid='stMetric']"
READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
# what a page says while it is fetching in the background (this build's stale note and sidebar)
PAGE_STATE_JS = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  const text = document.body ? document.body.innerText : "";
  return {
    state: app ? app.getAttribute("data-test-script-state") : null,
    updating: text.includes("being fetched again") || /Updating .* events so far/.test(text),
    exceptions: Array.from(document.querySelectorAll("[data-testid='stException']"))
      .map(e => e.innerText.slice(0, 300)),
  };
}"""


# --- the request log ---------------------------------------------------------------------------
def requests_by_endpoint(log: Sequence[dict], since: int) -> Counter:
    """Requests of ``log`` from entry ``since`` on, by endpoint (``events``, ``locations``...)."""
    return Counter(str(entry.get("endpoint")) for entry in log[since:])


def pending(log: Iterable[dict]) -> int:
    """Requests the sandbox has not answered yet (their status is filled in when answered)."""
    return sum(1 for entry in log if entry.get("status") is None)


def endpoints_text(counts: Counter) -> str:
    """``events 228, contacts 1``: each endpoint asked, most asked first (``-`` for none)."""
    return ", ".join(f"{name} {n:,}" for name, n in counts.most_common()) or "-"


@dataclass
class Step:
    """One measured step: the requests it made and its times (seconds; shown is None for the
    sync, which draws nothing)."""

    name: str
    requests: Counter
    shown_s: float | None
    done_s: float


def median_step(steps: Sequence[Step]) -> Step:
    """The median of the same step over several runs, endpoint by endpoint."""
    names = sorted({name for step in steps for name in step.requests})
    counts = Counter(
        {name: round(statistics.median(s.requests.get(name, 0) for s in steps)) for name in names}
    )
    shown = [s.shown_s for s in steps if s.shown_s is not None]
    return Step(
        steps[0].name,
        +counts,
        statistics.median(shown) if shown else None,
        statistics.median(s.done_s for s in steps),
    )


# --- steps ---------------------------------------------------------------------------------------
def read_log(sandbox: Server) -> list[dict]:
    log = sandbox_get(sandbox, "/_sandbox/requests")
    assert isinstance(log, list)
    return log


def wait_until_quiet(sandbox: Server, since: int, page=None) -> tuple[list[dict], float]:
    """Wait until no request is pending or asked for ``QUIET_S`` (and ``page``, when given, has
    finished its script run and is no longer fetching in the background). Returns the log and
    ``time.perf_counter()`` at the moment it went quiet."""
    calm_since, calm_length = None, -1
    deadline = time.monotonic() + STEP_TIMEOUT_S
    while time.monotonic() < deadline:
        now = time.perf_counter()
        log = read_log(sandbox)
        calm = not pending(log[since:])
        if page is not None:
            seen = page.evaluate(PAGE_STATE_JS)
            if seen["exceptions"]:
                raise SystemExit(f"the page shows an exception: {seen['exceptions'][0]}")
            calm = calm and seen["state"] == "notRunning" and not seen["updating"]
        if not calm or len(log) != calm_length:
            calm_since, calm_length = (now, len(log)) if calm else (None, -1)
        elif now - calm_since >= QUIET_S:
            return log, calm_since
        time.sleep(POLL_S)
    raise SystemExit(f"requests still going after {STEP_TIMEOUT_S:.0f} s")


def live_settings(sandbox: Server, token: str, store: Path, cache: Path) -> dict[str, str]:
    """The environment that points a build (app or sync) at the sandbox, with its own folders."""
    health = sandbox_get(sandbox, "/_sandbox/health")
    return {
        "C4W_BASE_URL": sandbox.url,
        "C4W_TOKEN": token,
        "C4W_ORG_ID": str(health["org_id"]),  # type: ignore[index]
        "C4W_STORE_DIR": str(store),
        "C4W_CACHE_DIR": str(cache),
    }


def run_sync(sandbox: Server, live: dict[str, str], days: int) -> Step:
    """``python -m c4w sync`` of this build, as a user runs it: the last ``days`` days (UTC)."""
    command = [sys.executable, "-m", "c4w", "sync", "--quiet"]
    if days != DEFAULT_DAYS:
        today = dt.datetime.now(dt.UTC).date()
        command += ["--since", (today - dt.timedelta(days=days - 1)).isoformat()]
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS} | live
    since = len(read_log(sandbox))
    started = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the sync failed:\n{done.stderr[-3000:]}")
    print(f"  {done.stdout.strip()}", flush=True)
    log, _ = wait_until_quiet(sandbox, since)
    name = f"this build: sync of {days} days"
    return Step(name, requests_by_endpoint(log, since), None, seconds)


def open_overview(browser, app: Server, sandbox: Server, preset: str) -> Step:
    """Open the Overview on ``preset`` in a new page; the requests it made and its times."""
    since = len(read_log(sandbox))
    page = browser.new_page()
    try:
        started = time.perf_counter()
        page.goto(f"{app.url}/?range={preset}", timeout=STEP_TIMEOUT_S * 1000)
        page.wait_for_selector(SHOWN, timeout=STEP_TIMEOUT_S * 1000)
        page.wait_for_selector(READY, timeout=STEP_TIMEOUT_S * 1000)
        shown = time.perf_counter() - started
        log, quiet_at = wait_until_quiet(sandbox, since, page)
    finally:
        page.close()
    days = preset.removesuffix("d")
    return Step(f"{days} days", requests_by_endpoint(log, since), shown, quiet_at - started)


def open_three(browser, build: Path, sandbox: Server, live: dict[str, str], events: int):
    """A fresh server of ``build`` (a restart), the three opens, the server stopped."""
    app = start_app(events, live, [int(sandbox.url.rsplit(":", 1)[1])], build)
    try:
        steps = []
        for preset in OPENS:
            steps.append(open_overview(browser, app, sandbox, preset))
            print(f"    {steps[-1].name}: {row_text(steps[-1])}", flush=True)
        return steps
    finally:
        app.stop()


def one_run(browser, sandbox: Server, token: str, baseline: Path, args) -> list[Step]:
    """The whole sequence once, in folders of its own; steps named for the table."""
    made = [Path(tempfile.mkdtemp(prefix=f"c4w-live-{name}-")) for name in ("store", "cache") * 2]
    try:
        live = live_settings(sandbox, token, *made[:2])
        old_live = live_settings(sandbox, token, *made[2:])
        print("  this build: sync…", flush=True)
        steps = [run_sync(sandbox, live, args.sync_days)]
        print(f"    {row_text(steps[0])}", flush=True)
        for group, build, settings in (
            ("this build, restarted", ROOT, live),
            ("before the store, fresh", baseline, old_live),
            ("this build, restarted again", ROOT, live),
        ):
            print(f"  {group}:", flush=True)
            for step in open_three(browser, build, sandbox, settings, args.events):
                step.name = f"{group}: {step.name}"
                steps.append(step)
        return steps
    finally:
        for folder in made:
            shutil.rmtree(folder, ignore_errors=True)


# --- the report ----------------------------------------------------------------------------------
def row_text(step: Step) -> str:
    shown = "-" if step.shown_s is None else f"{step.shown_s:.1f} s"
    total = sum(step.requests.values())
    asked = f"{total:,} requests ({endpoints_text(step.requests)})"
    return f"{asked}, shown {shown}, done {step.done_s:.1f} s"


def print_table(steps: Sequence[Step]) -> None:
    width = max(len(s.name) for s in steps) + 2
    print(f"\n{'step':<{width}}{'requests':>10}{'shown s':>9}{'done s':>8}   requests by endpoint")
    for s in steps:
        shown = "-" if s.shown_s is None else f"{s.shown_s:.1f}"
        print(
            f"{s.name:<{width}}{sum(s.requests.values()):>10,}{shown:>9}{s.done_s:>8.1f}   "
            f"{endpoints_text(s.requests)}"
        )


def _load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.live", description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000, help="sandbox demo size")
    parser.add_argument("--latency-ms", type=float, default=300.0, help="added to every answer")
    parser.add_argument("--sync-days", type=int, default=DEFAULT_DAYS, help="days synced")
    parser.add_argument("--runs", type=int, default=1, help="whole sequences (medians)")
    parser.add_argument("--baseline", default=BEFORE_STORE, help="git revision of the old build")
    args = parser.parse_args(argv)
    if min(args.events, args.runs, args.sync_days) < 1 or args.latency_ms < 0:
        parser.error("--events, --runs and --sync-days must be positive, --latency-ms at least 0")
    from playwright.sync_api import sync_playwright

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average before: {_load()}",
        flush=True,
    )
    token = "bench-" + secrets.token_hex(16)
    baseline = build_copy(args.baseline)
    print(
        f"starting the sandbox API: {args.events:,} events, +{args.latency_ms:.0f} ms…", flush=True
    )
    sandbox = start_sandbox(args.events, token, args.latency_ms)
    runs: list[list[Step]] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for number in range(1, args.runs + 1):
                    print(f"run {number} of {args.runs}:", flush=True)
                    runs.append(one_run(browser, sandbox, token, baseline, args))
            finally:
                browser.close()
    finally:
        sandbox.stop()
        shutil.rmtree(baseline, ignore_errors=True)
    steps = [median_step(same) for same in zip(*runs, strict=True)]
    what = f"median of {args.runs} runs" if args.runs > 1 else "one run"
    print(
        f"\nLive, {args.events:,} demo events, sandbox +{args.latency_ms:.0f} ms an answer, "
        f"{what}; baseline {args.baseline}; load average after: {_load()}"
    )
    print_table(steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
