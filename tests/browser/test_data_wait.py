"""While a live fetch waits on an API that does not answer, in a real browser: the page offers
Cancel, which stops the wait at once and shows what is stored. The API holds every events answer
back past the client's read timeout."""

from __future__ import annotations

import re
import tempfile
import time

import pytest
from playwright.sync_api import Browser, expect

from bench.browser import NAV_LINK
from c4w.sandbox import serve_in_thread

from .conftest import PAGE_TIMEOUT_MS

pytestmark = pytest.mark.browser

HUNG_S = 13  # each events answer is held back past the client's read timeout
OPEN_WITHIN_S = 20


@pytest.fixture(scope="module")
def hung_app(start_app):
    box = serve_in_thread(None, n_events=3000)
    box.add_fault("timeout", endpoint="events", delay_s=HUNG_S, times=None)
    try:
        server = start_app(
            {
                "C4W_BASE_URL": box.url,
                "C4W_TOKEN": box.token,
                "C4W_ORG_ID": box.org_id,
                "C4W_STORE_DIR": tempfile.mkdtemp(prefix="c4w-browser-store-"),
            }
        )
        yield server
    finally:
        box.clear_faults()
        box.stop()


def test_cancel_stops_the_wait_and_shows_the_stored_days(hung_app, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(hung_app.url + "/", wait_until="domcontentloaded", timeout=PAGE_TIMEOUT_MS)
        cancel = page.get_by_role("button", name="Cancel")
        expect(cancel).to_be_visible(timeout=PAGE_TIMEOUT_MS)
        expect(page.get_by_text(re.compile("Fetching events from Cloud4Wi"))).to_be_visible()
        started = time.monotonic()
        cancel.click()
        expect(page.get_by_text(re.compile("Fetching was cancelled"))).to_be_visible(timeout=8000)
        assert time.monotonic() - started < 8
        expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
    finally:
        page.close()


def test_the_sidebar_stays_usable_while_the_page_waits(hung_app, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(hung_app.url + "/", wait_until="domcontentloaded", timeout=PAGE_TIMEOUT_MS)
        expect(page.get_by_role("button", name="Cancel")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
        side = page.locator("[data-testid='stSidebar']")
        # the dates can be changed while the fetch waits ...
        side.locator("input[aria-label='Dates']").click()
        page.locator("[role='option']").filter(has_text="Last 7 days").first.click()
        expect(side.get_by_text(re.compile(r"\(7 days, UTC\)"))).to_be_visible(timeout=10_000)
        # ... and another page opened, with the dates chosen, long before the fetch would give up
        # (its retries of the held answers take several read timeouts); a busy machine can
        # take some seconds to run the new page
        started = time.monotonic()
        page.locator(NAV_LINK).filter(has_text="Data quality").first.click()
        page.wait_for_url(re.compile(r"/quality\?(.*&)?range=7d"), timeout=OPEN_WITHIN_S * 1000)
        assert time.monotonic() - started < OPEN_WITHIN_S
        expect(page.get_by_role("button", name="Cancel")).to_be_visible(timeout=10_000)
        expect(page.locator("[data-testid='stException']")).to_have_count(0)
    finally:
        page.close()
