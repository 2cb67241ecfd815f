"""Many users: one dashboard server, N browser sessions switching pages and filters at once.

    python -m bench.many_users                          # 10 sessions, 60 s, 1,000,000 demo events
    python -m bench.many_users --sessions 3 --seconds 20 --events 150000
    python -m bench.many_users --live                   # live mode against a local sandbox API

One app server (``streamlit run app.py``) and one headless Chromium; every session is its own
browser context (its own Streamlit session) and, in its own seeded random order, switches pages
through the sidebar, picks date presets, adds and removes locations and drills down to a contact.
After each step it waits for the script run to finish and checks: the page's title is drawn, no
exception is shown, and the address and the sidebar show this session's own page, dates,
locations and contact, whatever the other sessions chose meanwhile.

The server's memory (VmRSS of the process and its children) is sampled every 0.5 s. A one-session
run on a fresh server comes first, then the N-session run on another fresh server, so the peaks
compare like for like. With ``--live`` the app reads a sandbox API started as a subprocess, and its
request log shows whether the cache is shared: each date window of each distinct range should be
fetched once, however many sessions look at it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    CREDENTIAL_VARS,
    NAV_LINK,
    PAGE_TITLES,
    SNAPSHOT_JS,
)

ROOT = Path(__file__).resolve().parent.parent
PORTS = range(8540, 8550)

PAGES = PAGE_TITLES
CONTACT_PAGE = "contact"
PRESET_LABELS = {
    "today": "Today",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
}
DEFAULT_PRESET = "30d"
MAX_LOCATIONS = 3
STEP_WEIGHTS = {"page": 4, "dates": 2, "locations": 2, "contact": 1}
SAMPLE_EVERY_S = 0.5
START_TIMEOUT_S = 180


# --- what a session expects to see -----------------------------------------------------------
@dataclasses.dataclass
class Expected:
    """The page and filters one session chose; nothing another session does may change them."""

    page: str = ""
    preset: str = DEFAULT_PRESET
    locations: tuple[str, ...] = ()  # location ids
    contact: str | None = None  # only shown on the Contact page right after drilling down

    def url_path_and_query(self) -> str:
        params: list[tuple[str, str]] = [("range", self.preset)]
        params += [("loc", loc_id) for loc_id in self.locations]
        if self.page == CONTACT_PAGE and self.contact:
            params.append(("contact", self.contact))
        return f"/{self.page}?{urllib.parse.urlencode(params)}"


def differences(seen: dict, want: Expected, names: dict[str, str]) -> list[str]:
    """What the session shows that differs from what it chose (empty when all is as chosen)."""
    out: list[str] = []
    url = urllib.parse.urlsplit(str(seen.get("url") or ""))
    params = urllib.parse.parse_qs(url.query)
    if url.path.strip("/") != want.page:
        out.append(f"address page {url.path!r} != {'/' + want.page!r}")
    if params.get("range", [DEFAULT_PRESET]) != [want.preset]:  # the default range is left out
        out.append(f"address range {params.get('range')} != {want.preset}")
    locs = params.get("loc", [])
    if sorted(locs) != sorted(want.locations):
        out.append(f"address locations {sorted(locs)} != {sorted(want.locations)}")
    wanted_contact = want.contact  # the address keeps the contact on every page
    if params.get("contact", [None])[0] != wanted_contact:
        out.append(f"address contact {params.get('contact')} != {wanted_contact}")
    if seen.get("title") != PAGES[want.page]:
        out.append(f"title {seen.get('title')!r} != {PAGES[want.page]!r}")
    if seen.get("dates") != PRESET_LABELS[want.preset]:
        out.append(f"sidebar dates {seen.get('dates')!r} != {PRESET_LABELS[want.preset]!r}")
    tags = sorted(seen.get("tags") or [])
    wanted_tags = sorted(names.get(loc_id, loc_id) for loc_id in want.locations)
    if tags != wanted_tags:
        out.append(f"sidebar locations {tags} != {wanted_tags}")
    if want.page == CONTACT_PAGE and (seen.get("contact") or None) != wanted_contact:
        out.append(f"contact box {seen.get('contact')!r} != {wanted_contact!r}")
    return out


@dataclasses.dataclass
class SessionResult:
    """What one session did and what went wrong."""

    number: int
    steps: int = 0
    pages: int = 0  # page renders that finished with their title, no exception, own filters
    page_switches: int = 0
    exceptions: list[str] = dataclasses.field(default_factory=list)
    mismatches: list[str] = dataclasses.field(default_factory=list)  # own state not shown
    timeouts: int = 0
    failures: list[str] = dataclasses.field(default_factory=list)  # driver errors
    step_seconds: list[float] = dataclasses.field(default_factory=list)
    kinds: Counter = dataclasses.field(default_factory=Counter)  # finished steps by kind
    presets: set[str] = dataclasses.field(default_factory=lambda: {DEFAULT_PRESET})

    @property
    def errors(self) -> int:
        return len(self.exceptions) + len(self.mismatches) + self.timeouts + len(self.failures)


# --- processes -------------------------------------------------------------------------------
def free_port(taken: Sequence[int] = ()) -> int:
    """The first port of 8540-8549 nobody listens on."""
    for port in PORTS:
        if port in taken:
            continue
        with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port in 8540-8549")


def wait_for_url(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    """Poll ``url`` until it answers 200; fail with the process output if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url} exited at start:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")


@dataclasses.dataclass
class Server:
    """A subprocess of ours: its address, process (own process group) and output file."""

    url: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)


def start_process(
    command: list[str], env: dict[str, str], name: str, port: int, cwd: Path = ROOT
) -> Server:
    log = Path(tempfile.mkdtemp(prefix=f"many-users-{name}-")) / "output.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, stopped as a whole
        )
    return Server(f"http://127.0.0.1:{port}", process, log)


def start_app(
    events: int, live: dict[str, str] | None, taken: Sequence[int] = (), cwd: Path = ROOT
) -> Server:
    """The dashboard as the README starts it, on demo data or (``live``) against an API; from
    another copy of the project when ``cwd`` is given (a baseline build)."""
    port = free_port(taken)
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
    env.update({"C4W_DEMO_EVENTS": str(events), "PYTHONUNBUFFERED": "1"})
    env.update(live or {})
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
    command += ["--server.port", str(port), "--server.address", "127.0.0.1"]
    server = start_process(command, env, "app", port, cwd)
    wait_for_url(server.url + "/_stcore/health", server.process, server.log, START_TIMEOUT_S)
    return server


def start_sandbox(events: int, token: str, latency_ms: float = 0.0) -> Server:
    """``python -m c4w.sandbox`` over the demo organization, accepting ``token`` (given through
    the environment, so it is not on a command line), ``latency_ms`` added to every answer."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
    env.update({"C4W_SANDBOX_TOKEN": token, "PYTHONUNBUFFERED": "1"})
    command = [sys.executable, "-m", "c4w.sandbox", "--port", str(port), "--events", str(events)]
    command += ["--latency-ms", str(latency_ms)]
    server = start_process(command, env, "sandbox", port)
    wait_for_url(server.url + "/_sandbox/health", server.process, server.log, START_TIMEOUT_S)
    return server


def sandbox_get(server: Server, path: str) -> object:
    with urllib.request.urlopen(server.url + path, timeout=30) as answer:
        return json.loads(answer.read())


def sandbox_reset(server: Server) -> None:
    request = urllib.request.Request(server.url + "/_sandbox/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=30):
        pass


# --- memory ----------------------------------------------------------------------------------
def process_parents() -> dict[int, list[int]]:
    """Children of every process, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry))
    return parents


def process_tree(pid: int, parents: dict[int, list[int]] | None = None) -> list[int]:
    """``pid`` and all its descendants."""
    parents = process_parents() if parents is None else parents
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(parents.get(current, []))
    return tree


def rss_bytes(pid: int) -> int:
    """VmRSS of one process in bytes (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of one process so far (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / _TICKS


class Sampler:
    """Every 0.5 s on a thread: the RSS of the server's process tree (keeping the peak) and,
    between ``start_counting`` and ``stop_counting``, the CPU time used by the server, by the
    browser (everything else this benchmark started) and by the sandbox API."""

    def __init__(self, server_pid: int, sandbox_pid: int | None = None) -> None:
        self.server_pid = server_pid
        self.sandbox_pid = sandbox_pid
        self.samples: list[int] = []
        self._base: dict[int, float] = {}
        self._last: dict[int, tuple[str, float]] = {}
        self._counting = False
        self._wall = [0.0, 0.0]
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def _groups(self) -> tuple[list[int], dict[int, str]]:
        parents = process_parents()
        server = process_tree(self.server_pid, parents)
        sandbox = process_tree(self.sandbox_pid, parents) if self.sandbox_pid else []
        groups = dict.fromkeys(process_tree(os.getpid(), parents), "browser")
        groups.pop(os.getpid(), None)
        groups.update(dict.fromkeys(sandbox, "sandbox"))
        groups.update(dict.fromkeys(server, "server"))
        return server, groups

    def _sample(self) -> None:
        server, groups = self._groups()
        self.samples.append(sum(rss_bytes(p) for p in server))
        with self._lock:
            if not self._counting:
                return
            for pid, group in groups.items():
                used = cpu_seconds(pid)
                if used is not None:
                    self._last[pid] = (group, used)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(SAMPLE_EVERY_S)

    def start_counting(self) -> None:
        _, groups = self._groups()
        with self._lock:
            self._base = {p: cpu_seconds(p) or 0.0 for p in groups}
            self._last.clear()
            self._counting = True
            self._wall[0] = time.monotonic()

    def stop_counting(self) -> None:
        self._sample()
        with self._lock:
            self._counting = False
            self._wall[1] = time.monotonic()

    def cores_used(self) -> dict[str, float]:
        """CPU seconds per second of wall time while counting, by group (1.0 = one core)."""
        wall = max(self._wall[1] - self._wall[0], 1e-9)
        used: dict[str, float] = {"server": 0.0, "browser": 0.0, "sandbox": 0.0}
        for pid, (group, seconds) in self._last.items():
            used[group] += max(0.0, seconds - self._base.get(pid, 0.0))
        return {group: seconds / wall for group, seconds in used.items()}

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    @property
    def peak(self) -> int:
        return max(self.samples, default=0)


# --- one browser session ---------------------------------------------------------------------
class Session:
    """One browser context driven through the dashboard in its own seeded random order."""

    def __init__(
        self,
        number: int,
        context,
        base_url: str,
        rng: random.Random,
        names: dict[str, str],
        contacts: Sequence[str],
        step_timeout: float,
    ) -> None:
        self.result = SessionResult(number)
        self.context = context
        self.base_url = base_url
        self.rng = rng
        self.names = names
        self.contacts = list(contacts)
        self.step_timeout = step_timeout
        self.want = Expected()
        self.page = None

    async def open(self) -> None:
        """Open the dashboard's front page with the default filters."""
        self.page = await self.context.new_page()
        self.page.set_default_timeout(self.step_timeout * 1000)
        started = time.monotonic()
        await self.page.goto(self.base_url + "/", wait_until="domcontentloaded")
        await self.settle("open", started)

    async def run(self, deadline: float) -> SessionResult:
        try:
            await self.open()
            while time.monotonic() < deadline:
                kind = self.rng.choices(list(STEP_WEIGHTS), list(STEP_WEIGHTS.values()))[0]
                started = time.monotonic()
                try:
                    await getattr(self, f"step_{kind}")()
                except Exception as exc:  # a driver error: note it, start again from the link
                    self.result.failures.append(f"{kind}: {type(exc).__name__}: {exc}"[:300])
                    await self.resync()
                    continue
                await self.settle(kind, started)
        except Exception as exc:
            self.result.failures.append(f"session: {type(exc).__name__}: {exc}"[:300])
        return self.result

    # -- steps --------------------------------------------------------------------------------
    async def step_page(self) -> None:
        target = self.rng.choice([p for p in PAGES if p != self.want.page])
        await self.go_to_page(target)

    async def go_to_page(self, target: str) -> None:
        await self.page.locator(NAV_LINK).filter(has_text=PAGES[target]).first.click()
        self.want.page = target
        self.result.page_switches += 1

    async def step_dates(self) -> None:
        preset = self.rng.choice([p for p in PRESET_LABELS if p != self.want.preset])
        side = self.page.locator("[data-testid='stSidebar']")
        await self.blur()
        await side.locator("input[aria-label='Dates']").click()
        option = self.page.locator("[role='option']").filter(has_text=PRESET_LABELS[preset])
        await option.first.click()
        self.want.preset = preset
        self.result.presets.add(preset)

    async def step_locations(self) -> None:
        side = self.page.locator("[data-testid='stSidebar']")
        chosen = list(self.want.locations)
        if chosen and (len(chosen) >= MAX_LOCATIONS or self.rng.random() < 0.35):
            loc_id = self.rng.choice(chosen)
            await side.get_by_role("button", name=f"Remove {self.names[loc_id]}").click()
            chosen.remove(loc_id)
        else:
            loc_id = self.rng.choice([i for i in self.names if i not in chosen])
            await self.blur()
            box = side.locator("input[aria-label='Locations']")
            await box.click()
            await box.fill(self.names[loc_id])  # the list may only draw the options in view
            option = self.page.locator("[role='option']").filter(has_text=self.names[loc_id])
            await option.first.click()
            await self.page.keyboard.press("Escape")
            chosen.append(loc_id)
        self.want.locations = tuple(chosen)

    async def step_contact(self) -> None:
        if self.want.page != CONTACT_PAGE:
            await self.go_to_page(CONTACT_PAGE)
            await self.settle("page", time.monotonic())
        contact = self.rng.choice([c for c in self.contacts if c != self.want.contact])
        box = self.page.locator(
            "[data-testid='stMain'] input[aria-label='Contact id, email, phone or name']"
        )
        await box.fill(contact)
        await box.press("Enter")
        self.want.contact = contact

    async def blur(self) -> None:
        """Click the page title, so the next click on a sidebar box opens its list afresh (a
        click on a box that kept the focus after Escape can open a list that ignores picks)."""
        await self.page.locator("[data-testid='stMain'] h1").first.click()

    # -- checks -------------------------------------------------------------------------------
    async def snapshot(self) -> dict:
        return await self.page.evaluate(SNAPSHOT_JS)

    async def settle(self, kind: str, started: float) -> None:
        """Wait until the run is over and the page shows this session's own choices; record
        the outcome of the step."""
        self.result.steps += 1
        deadline = time.monotonic() + self.step_timeout
        seen: dict = {}
        while time.monotonic() < deadline:
            seen = await self.snapshot()
            if seen.get("exceptions"):
                break
            if seen.get("state") == "notRunning" and not differences(seen, self.want, self.names):
                await asyncio.sleep(0.25)  # still so a moment later: the run is really over
                seen = await self.snapshot()
                if seen.get("state") == "notRunning" or seen.get("exceptions"):
                    break
            await asyncio.sleep(0.2)
        else:
            self.result.timeouts += 1
            diff = differences(seen, self.want, self.names) if seen else ["nothing drawn"]
            self.result.mismatches.append(f"{kind} (timeout): " + "; ".join(diff))
            await self.resync()
            return
        if seen.get("exceptions"):
            self.result.exceptions.append(f"{kind}: {seen['exceptions'][0]}")
            return
        diff = differences(seen, self.want, self.names)
        if diff:
            self.result.mismatches.append(f"{kind}: " + "; ".join(diff))
            return
        self.result.pages += 1
        self.result.kinds[kind] += 1
        self.result.step_seconds.append(time.monotonic() - started)

    async def resync(self) -> None:
        """After a failed step: reopen this session's own link so the next steps mean something."""
        with contextlib.suppress(Exception):
            await self.page.goto(
                self.base_url + self.want.url_path_and_query(), wait_until="domcontentloaded"
            )
            await self.page.wait_for_selector(
                "[data-testid='stApp'][data-test-script-state='notRunning']"
            )


# --- one phase: a fresh server, N sessions ---------------------------------------------------
@dataclasses.dataclass
class PhaseResult:
    sessions: list[SessionResult]
    peak_rss: int
    ready_rss: int  # after the first page was drawn (before the sessions started)
    warmup_s: float
    cores: dict[str, float]  # CPU used while the sessions ran, in cores
    fetches: dict[str, int] | None = None


async def drive_sessions(
    base_url: str,
    n: int,
    seconds: float,
    seed: int,
    names: dict[str, str],
    contacts: list[list[str]],
    step_timeout: float,
    before_close: Callable[[], None] = lambda: None,
) -> list[SessionResult]:
    """N contexts of one Chromium, each a session running until ``seconds`` have passed;
    ``before_close`` is called when they are done, while the browser still runs."""
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            contexts = [
                await browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(n)
            ]
            deadline = time.monotonic() + seconds
            sessions = [
                Session(
                    i + 1,
                    contexts[i],
                    base_url,
                    random.Random(f"{seed}-{i}"),
                    names,
                    contacts[i],
                    step_timeout,
                )
                for i in range(n)
            ]
            runs = [asyncio.create_task(s.run(deadline)) for s in sessions]
            done, pending = await asyncio.wait(runs, timeout=seconds + step_timeout * 2 + 30)
            for task in pending:
                task.cancel()
            results = []
            for session, task in zip(sessions, runs, strict=True):
                if task in done and not task.cancelled() and task.exception() is None:
                    results.append(task.result())
                else:
                    session.result.failures.append("session did not finish in time")
                    results.append(session.result)
            return results
        finally:
            before_close()
            await browser.close()


async def warm_up(base_url: str, timeout: float) -> float:
    """Draw the front page once (builds the demo frame) so sessions start on a ready server."""
    from playwright.async_api import async_playwright

    started = time.monotonic()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(base_url + "/", wait_until="domcontentloaded")
            await page.wait_for_selector(
                "[data-testid='stMain'] h1", state="attached", timeout=timeout * 1000
            )
            await page.wait_for_selector(
                "[data-testid='stApp'][data-test-script-state='notRunning']",
                timeout=timeout * 1000,
            )
        finally:
            await browser.close()
    return time.monotonic() - started


def run_phase(
    n: int, args: argparse.Namespace, names: dict[str, str], contacts: list[list[str]], sandbox
) -> PhaseResult:
    live_env = None
    taken: list[int] = []
    if sandbox is not None:
        sandbox_reset(sandbox)
        health = sandbox_get(sandbox, "/_sandbox/health")
        live_env = {
            "C4W_BASE_URL": sandbox.url,
            "C4W_TOKEN": args.token,
            "C4W_ORG_ID": str(health["org_id"]),  # type: ignore[index]
        }
        taken.append(int(sandbox.url.rsplit(":", 1)[1]))
    print(f"  starting the dashboard for {n} session(s)…", flush=True)
    app = start_app(args.events, live_env, taken)
    try:
        sandbox_pid = sandbox.process.pid if sandbox is not None else None
        with Sampler(app.process.pid, sandbox_pid) as sampler:
            warmup_s = 0.0
            if sandbox is None:  # live: the sessions themselves start on a cold cache
                warmup_s = asyncio.run(warm_up(app.url, args.step_timeout))
            ready = sum(rss_bytes(p) for p in process_tree(app.process.pid))
            print(f"  {n} session(s) for {args.seconds:.0f} s…", flush=True)
            sampler.start_counting()
            results = asyncio.run(
                drive_sessions(
                    app.url,
                    n,
                    args.seconds,
                    args.seed,
                    names,
                    contacts,
                    args.step_timeout,
                    sampler.stop_counting,
                )
            )
            time.sleep(1.0)
        fetches = fetch_counts(sandbox) if sandbox is not None else None
        return PhaseResult(results, sampler.peak, ready, warmup_s, sampler.cores_used(), fetches)
    finally:
        app.stop()
        output = app.log.read_text(errors="replace")
        if sandbox is not None and args.token in output:
            print("  !! the token appears in the dashboard's output", flush=True)
        if "Traceback" in output:
            print("  !! the dashboard logged a traceback:\n" + output[-2000:], flush=True)


def window_key(query: dict) -> tuple:
    names = ("dateStart", "dateEnd", "sortBy", "sortReverse", "events", "size")
    return tuple(query.get(name) for name in names)


def fetch_counts(sandbox: Server) -> dict[str, int]:
    """From the sandbox's request log: first pages of event queries (each one date window of a
    range), how many distinct windows, how many were asked more than once; contact queries."""
    log = sandbox_get(sandbox, "/_sandbox/requests")
    assert isinstance(log, list)
    fresh = [e for e in log if e.get("endpoint") == "events" and "scrollId" not in e["query"]]
    windows = Counter(window_key(e["query"]) for e in fresh)
    # the first window of a range (or a range fetched in one scan) starts at its first midnight
    ranges = [
        e
        for e in fresh
        if str(e["query"].get("dateStart", "")).endswith("T00:00:00Z")
        and e["query"].get("sortReverse") != "true"
    ]
    contact_fresh = [
        e for e in log if e.get("endpoint") == "contact" and "scrollId" not in e["query"]
    ]
    contacts = Counter(e.get("contact_id") for e in contact_fresh)
    return {
        "event requests": sum(1 for e in log if e.get("endpoint") == "events"),
        "event windows fetched": len(fresh),
        "distinct windows": len(windows),
        "windows fetched twice or more": sum(1 for c in windows.values() if c > 1),
        "ranges fetched": len(ranges),
        "contact fetches": len(contact_fresh),
        "distinct contacts": len(contacts),
        "location fetches": sum(1 for e in log if e.get("endpoint") == "locations"),
    }


# --- data the sessions pick from -------------------------------------------------------------
def pick_data(events: int, sessions: int, seed: int) -> tuple[dict[str, str], list[list[str]]]:
    """Location names by id, and per session three contact ids of its own (disjoint sets, so a
    contact shown to the wrong session is recognised): busy guests and random ones."""
    from c4w import demo

    locations = demo.demo_locations_frame()
    names = dict(zip(locations["id"].astype(str), locations["name"].astype(str), strict=True))
    org = demo.build_demo(events)
    counts = Counter(org.contact_ids.tolist())
    del org
    busy = [c for c, _ in counts.most_common(3 * sessions)]
    rng = random.Random(seed)
    others = rng.sample(sorted(counts), min(len(counts), 3 * sessions))
    pool = list(dict.fromkeys(busy[:sessions] + others))
    picks = [pool[i::sessions][:3] for i in range(sessions)]
    return names, picks


# --- report ----------------------------------------------------------------------------------
def mib(value: int) -> str:
    return f"{value / 2**20:,.0f} MiB"


def summarise(phase: PhaseResult) -> dict[str, str]:
    pages = [s.pages for s in phase.sessions]
    steps = [t for s in phase.sessions for t in s.step_seconds]
    return {
        "sessions": str(len(phase.sessions)),
        "server RSS when ready": mib(phase.ready_rss),
        "server RSS peak": mib(phase.peak_rss),
        "pages rendered (all sessions)": f"{sum(pages):,}",
        "pages per session (min/median/max)": (
            f"{min(pages)}/{statistics.median(pages):g}/{max(pages)}" if pages else "-"
        ),
        "median step (s)": f"{statistics.median(steps):.1f}" if steps else "-",
        "CPU while running: server (cores)": f"{phase.cores['server']:.2f}",
        "CPU while running: browser (cores)": f"{phase.cores['browser']:.2f}",
        **(
            {"CPU while running: sandbox (cores)": f"{phase.cores['sandbox']:.2f}"}
            if phase.fetches is not None
            else {}
        ),
        "exceptions shown": str(sum(len(s.exceptions) for s in phase.sessions)),
        "own filters not shown": str(sum(len(s.mismatches) for s in phase.sessions)),
        "step timeouts": str(sum(s.timeouts for s in phase.sessions)),
        "driver errors": str(sum(len(s.failures) for s in phase.sessions)),
    }


def print_table(rows: dict[str, list[str]], headers: list[str]) -> None:
    width = max(len(k) for k in rows) + 2
    cols = [max(len(h), *(len(v[i]) for v in rows.values())) + 2 for i, h in enumerate(headers)]
    print("".ljust(width) + "".join(h.rjust(c) for h, c in zip(headers, cols, strict=True)))
    for name, values in rows.items():
        print(name.ljust(width) + "".join(v.rjust(c) for v, c in zip(values, cols, strict=True)))


def report(base: PhaseResult, many: PhaseResult, args: argparse.Namespace) -> int:
    mode = "live, against the sandbox API" if args.live else "demo data"
    print(f"\nMany users: {args.events:,} events, {mode}, {args.seconds:.0f} s per run\n")
    one, lots = summarise(base), summarise(many)
    headers = ["1 session", f"{args.sessions} sessions"]
    print_table({k: [one[k], lots[k]] for k in one if k != "sessions"}, headers)
    extra = (many.peak_rss - base.peak_rss) / max(1, args.sessions - 1)
    print(
        f"\npeak RSS {args.sessions} vs 1 session: x{many.peak_rss / max(base.peak_rss, 1):.2f}"
        f" ({mib(int(extra))} per extra session)"
    )
    if base.warmup_s:
        took = f"{base.warmup_s:.0f} s / {many.warmup_s:.0f} s"
        print(f"first page after a server start (builds the demo): {took}")
    if base.fetches and many.fetches:
        for phase in (base, many):
            asked = set().union(*(s.presets for s in phase.sessions))
            phase.fetches["date ranges the sessions chose"] = len(asked)
        print("\nSandbox API requests (the cache is shared when windows are fetched once):")
        print_table(
            {k: [str(base.fetches[k]), str(many.fetches[k])] for k in base.fetches}, headers
        )
    print("\nPer session (N-session run):")
    print_table(
        {
            f"session {s.number}": [
                str(s.steps),
                str(s.pages),
                str(s.page_switches),
                str(len(s.exceptions)),
                str(len(s.mismatches)),
                str(len(s.failures)),
                " ".join(f"{k}:{s.kinds[k]}" for k in ("open", *STEP_WEIGHTS)),
            ]
            for s in many.sessions
        },
        ["steps", "pages", "switches", "exceptions", "mismatches", "driver", "renders by step"],
    )
    problems = [
        f"session {s.number} ({n} run): {text}"
        for n, phase in (("1-session", base), ("N-session", many))
        for s in phase.sessions
        for text in s.exceptions + s.mismatches + s.failures
    ]
    if problems:
        print("\nProblems:")
        for text in problems[:40]:
            print("  " + text)
    duplicate = bool(many.fetches and many.fetches["windows fetched twice or more"])
    failed = bool(problems) or duplicate or any(s.pages == 0 for s in many.sessions)
    print("\nRESULT:", "PROBLEMS FOUND" if failed else "every page rendered in every session")
    return 1 if failed else 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.many_users", description=__doc__)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60.0, help="per run")
    parser.add_argument("--events", type=int, default=1_000_000, help="demo size")
    parser.add_argument("--live", action="store_true", help="live mode against a sandbox API")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--step-timeout", type=float, default=None, help="seconds (default 120; live 300)"
    )
    args = parser.parse_args(argv)
    if args.sessions < 1 or args.seconds <= 0 or args.events < 1:
        parser.error("--sessions, --seconds and --events must be positive")
    args.step_timeout = args.step_timeout or (300.0 if args.live else 120.0)
    args.token = "bench-" + secrets.token_hex(16) if args.live else ""
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"picking locations and contacts from the {args.events:,}-event demo…", flush=True)
    names, contacts = pick_data(args.events, max(args.sessions, 1), args.seed)
    sandbox = None
    try:
        if args.live:
            print("starting the sandbox API…", flush=True)
            sandbox = start_sandbox(args.events, args.token)
        print("1-session run:", flush=True)
        base = run_phase(1, args, names, contacts, sandbox)
        print(f"{args.sessions}-session run:", flush=True)
        many = run_phase(args.sessions, args, names, contacts, sandbox)
    finally:
        if sandbox is not None:
            sandbox.stop()
    return report(base, many, args)


if __name__ == "__main__":
    sys.exit(main())
