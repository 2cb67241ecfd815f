"""Browser fixtures: the dashboard started the way the README starts it, and Debian's Chromium.

``start_app(env)`` runs ``python -m streamlit run app.py --server.headless true --server.port
<free port>`` from the repository root with ``env`` added (credentials removed unless given),
waits for its health check and stops it after the test module; its stdout and stderr go to a
file the tests can search. ``browser`` is Chromium at /usr/bin/chromium through Playwright.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bench.browser import CHROMIUM, CHROMIUM_ARGS, CREDENTIAL_VARS

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
DEMO_EVENTS = "20000"
APP_READY = "[data-testid='stApp'][data-test-script-state='notRunning']"
START_TIMEOUT_S = 90
PAGE_TIMEOUT_MS = 90_000
# these machines are small and shared: give every expectation time before calling it a failure
expect.set_options(timeout=30_000)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AppServer:
    """A running dashboard: its address, its process and the file holding its output."""

    url: str
    process: subprocess.Popen
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)


def _wait_healthy(server: AppServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError("the dashboard exited at start:\n" + server.output()[-3000:])
        try:
            with urllib.request.urlopen(server.url + "/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the dashboard did not answer its health check:\n" + server.output()[-3000:])


@pytest.fixture(scope="module")
def start_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., AppServer]]:
    """Start dashboards for this test module; all stop when the module is done."""
    started: list[AppServer] = []

    def start(extra_env: dict[str, str] | None = None) -> AppServer:
        env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
        env.update({"C4W_DEMO_EVENTS": DEMO_EVENTS, "PYTHONUNBUFFERED": "1"})
        env.update(extra_env or {})
        port = free_port()
        log_path = tmp_path_factory.mktemp("app") / "server.log"
        log = log_path.open("wb")
        command = [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
        ]
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        server = AppServer(f"http://127.0.0.1:{port}", process, log_path)
        started.append(server)
        _wait_healthy(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless. A failure to launch it is a test failure, not a skip."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@contextlib.contextmanager
def as_the_server() -> Iterator[None]:
    """This process reads the demo as the app servers do (same size, same folders), so a test
    reads the very store the server shows, not a demo generated again at a later hour."""
    before = os.environ.get("C4W_DEMO_EVENTS")
    os.environ["C4W_DEMO_EVENTS"] = DEMO_EVENTS
    try:
        yield
    finally:
        if before is None:
            del os.environ["C4W_DEMO_EVENTS"]
        else:
            os.environ["C4W_DEMO_EVENTS"] = before


def served_contacts():
    """The demo's guests as the app server reads them (``c4w.contacts.CONTACT_COLUMNS``)."""
    from c4w import data

    with as_the_server():
        return data.load_contacts(data.Source("demo"))


def served_busiest_contact() -> str:
    """The contact with the most events in the demo store the app server reads."""
    from c4w import data
    from c4w.queries.contacts import most_active_contacts

    with as_the_server():
        store = data.store_of(data.Source("demo")).store
        first, last = store.span()
        return str(most_active_contacts(store, first, last, (), 1)["contact_id"].iloc[0])


@pytest.fixture(scope="module")
def demo_app(start_app) -> AppServer:
    """The dashboard on the demo organization, one per test module."""
    return start_app()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser tab (its own cookies and storage) that accepts downloads."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    yield context.new_page()
    context.close()


def assert_no_exception(page: Page) -> None:
    expect(page.locator("[data-testid='stException']")).to_have_count(0)


def open_page(page: Page, url: str) -> None:
    """Go to ``url`` and wait until the script has run and the page's title is drawn."""
    page.goto(url, wait_until="domcontentloaded", timeout=PAGE_TIMEOUT_MS)
    wait_for_app(page)


def wait_for_app(page: Page) -> None:
    """Wait for the script run to end with the page drawn (title and sidebar footer present).
    On a timeout the page is saved as ``artifacts/screenshots/timeout.png``."""
    try:
        _wait_drawn(page)
    except Exception:
        screenshot(page, "timeout")
        raise


def _wait_drawn(page: Page) -> None:
    page.wait_for_selector("[data-testid='stMain'] h1", state="attached", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(APP_READY, timeout=PAGE_TIMEOUT_MS)
    page.wait_for_selector(
        "[data-testid='stSidebar'] button:has-text('Refresh data')", timeout=PAGE_TIMEOUT_MS
    )
    page.wait_for_selector(APP_READY, timeout=PAGE_TIMEOUT_MS)


def screenshot(page: Page, name: str) -> Path:
    """Save a screenshot of the whole page under artifacts/screenshots/ (git-ignored). The app
    scrolls inside its main area, so the window is made as tall as the content for the shot."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size or {"width": 1400, "height": 1000}
    tall = page.evaluate(
        "() => { const m = document.querySelector(\"[data-testid='stMain']\");"
        " return m ? m.scrollHeight : document.body.scrollHeight; }"
    )
    height = max(size["height"], min(int(tall or 0) + 40, 8000))
    page.set_viewport_size({"width": size["width"], "height": height})
    try:
        page.wait_for_timeout(400)
        page.screenshot(path=str(path), full_page=True)
    finally:
        page.set_viewport_size(size)
    return path
