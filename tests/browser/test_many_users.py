"""Three people on one dashboard at once, in live mode against the sandbox API.

All three open every page with the default filters at the same time; then one of them picks
other dates, a location and a contact. Every page must render in every session, each session
must keep showing its own filters (address and sidebar), the API must be asked once per date
window however many sessions look at the same data (the cache is shared), and the token must
never reach a browser.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Browser, Page

from bench.browser import NAV_LINK, PAGE_TITLES, SNAPSHOT_JS
from c4w import ui
from c4w.sandbox import Sandbox, serve_in_thread

from .conftest import PAGE_TIMEOUT_MS, AppServer

pytestmark = pytest.mark.browser

TOKEN = "tok-many-" + secrets.token_hex(20)  # distinctive, so any leak is found by a plain search
DEMO_EVENTS = 20_000
# page address -> its title (the h1 and the sidebar link), in the order the sessions open them
PAGES = PAGE_TITLES


@pytest.fixture(scope="module")
def live(start_app) -> Iterator[tuple[Sandbox, AppServer]]:
    """The 20,000-event demo organization behind the sandbox API (each answer 0.15 s late, so
    concurrent sessions really do ask for the same data at the same time), and the dashboard
    in live mode against it."""
    box = serve_in_thread(n_events=DEMO_EVENTS, token=TOKEN, latency_ms=150)
    try:
        app = start_app({"C4W_BASE_URL": box.url, "C4W_TOKEN": TOKEN, "C4W_ORG_ID": box.org_id})
        yield box, app
    finally:
        box.stop()


def params_of(snapshot: dict) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlsplit(snapshot["url"]).query)


def settle(page: Page, title: str, check: Callable[[dict], bool] = lambda s: True) -> dict:
    """Wait until the script run is over with ``title`` drawn and ``check`` true; no exception."""
    deadline = time.monotonic() + PAGE_TIMEOUT_MS / 1000
    seen: dict = {}
    while time.monotonic() < deadline:
        seen = page.evaluate(SNAPSHOT_JS)
        assert seen["exceptions"] == [], f"an exception is shown on {seen['url']}"
        if seen["state"] == "notRunning" and seen["title"] == title and check(seen):
            page.wait_for_timeout(250)
            again = page.evaluate(SNAPSHOT_JS)
            if again["state"] == "notRunning" and again["title"] == title and check(again):
                assert again["exceptions"] == [], f"an exception is shown on {again['url']}"
                return again
        page.wait_for_timeout(150)
    raise AssertionError(f"{title!r} was not drawn as expected; last seen: {seen}")


def fresh_queries(box: Sandbox) -> list[dict]:
    """Query parameters of every event query that starts a scan (its first page); each is one
    date window of one range."""
    return [e["query"] for e in box.requests_to("events") if "scrollId" not in e["query"]]


def window(query: dict) -> tuple:
    return tuple(query.get(k) for k in ("dateStart", "dateEnd", "sortBy", "sortReverse", "events"))


def covered(queries: list[dict]) -> tuple[str, str]:
    """The span the date windows of one fetch cover together: (first start, last end)."""
    return min(q["dateStart"] for q in queries), max(q["dateEnd"] for q in queries)


def assert_each_window_fetched_once(queries: list[dict]) -> None:
    repeated = {w: n for w, n in Counter(window(q) for q in queries).items() if n > 1}
    assert queries and not repeated, f"windows fetched more than once: {repeated}"


def own_filters(preset: str, locations: list[str]) -> Callable[[dict], bool]:
    """The address and the sidebar show ``preset`` and exactly ``locations`` (ids)."""

    def check(seen: dict) -> bool:
        params = params_of(seen)
        # the default preset is left out of the address
        shown = params.get("range", [ui.DEFAULT_PRESET])
        return shown == [preset] and sorted(params.get("loc", [])) == sorted(locations)

    return check


def test_three_sessions_share_the_cache_and_keep_their_own_filters(
    live: tuple[Sandbox, AppServer], browser: Browser
) -> None:
    box, app = live
    today = dt.datetime.now(dt.UTC).date()
    end_of_today = f"{today}T23:59:59Z"
    place = box.state.source.locations[0]
    contact = Counter(box.state.source.contact_ids.tolist()).most_common(1)[0][0]
    contexts = [browser.new_context(viewport={"width": 1100, "height": 800}) for _ in range(3)]
    frames: list[bytes] = []
    html: list[str] = []

    def keep(payload: str | bytes) -> None:
        frames.append(payload if isinstance(payload, bytes) else payload.encode("utf-8"))

    try:
        pages = [context.new_page() for context in contexts]
        for page in pages:
            page.on(
                "websocket", lambda ws: (ws.on("framereceived", keep), ws.on("framesent", keep))
            )
        a, b, c = pages

        # 1. all three open every page with the default filters, at the same time
        for page in pages:
            page.goto(app.url + "/", wait_until="commit", timeout=PAGE_TIMEOUT_MS)
        for path, title in PAGES.items():
            if path:
                for page in pages:
                    page.locator(NAV_LINK).filter(has_text=title).first.click()
            for page in pages:
                seen = settle(page, title, own_filters("30d", []))
                assert urllib.parse.urlsplit(seen["url"]).path == "/" + path
                assert seen["dates"] == "Last 30 days" and seen["tags"] == []
                html.append(page.content())
        first = fresh_queries(box)
        assert_each_window_fetched_once(first)
        # Last 30 days = today-29 .. today; the previous 30 days for the change figures are
        # today-59 .. today-30: one fetch of today-59 00:00:00 .. today 23:59:59.
        assert covered(first) == (f"{today - dt.timedelta(days=59)}T00:00:00Z", end_of_today)

        # 2. one session picks other dates, a location and a contact
        side = a.locator("[data-testid='stSidebar']")
        side.locator("input[aria-label='Dates']").click()
        a.locator("[role='option']").filter(has_text="Last 7 days").first.click()
        settle(a, "Contact", own_filters("7d", []))
        side.locator("input[aria-label='Locations']").click()
        # the list also offers cities and tags: narrow it to the store by typing its name
        a.keyboard.type(place["name"])
        a.locator("[role='option']").filter(has_text=place["name"]).first.click()
        a.keyboard.press("Escape")
        settle(a, "Contact", own_filters("7d", [place["id"]]))
        box_a = a.locator(
            "[data-testid='stMain'] input[aria-label='Contact id, email, phone or name']"
        )
        box_a.fill(contact)
        box_a.press("Enter")
        # the contact's card is drawn (its id in a code block); a failure lists the messages shown
        seen = settle(
            a,
            "Contact",
            lambda s: params_of(s).get("contact") == [contact] and contact in s["codes"],
        )
        assert own_filters("7d", [place["id"]])(seen) and seen["contact"] == contact
        assert seen["codes"].count(contact) == 1
        html.append(a.content())
        second = fresh_queries(box)[len(first) :]
        # Last 7 days and the 7 before (today-13 .. today) lie inside the 60 days already in the
        # history store, and the location is a filter on stored days: no new fetch.
        assert second == []

        # 3. the other two run their pages again: still their own filters, and no new fetch
        for page in (b, c):
            page.locator(NAV_LINK).filter(has_text="Visits").first.click()
        for page in (b, c):
            seen = settle(page, "Visits", own_filters("30d", []))
            assert seen["dates"] == "Last 30 days" and seen["tags"] == []
            assert "contact" not in params_of(seen)
            html.append(page.content())
        b.locator(NAV_LINK).filter(has_text="Contact").first.click()
        seen = settle(b, "Contact", own_filters("30d", []))
        assert seen["contact"] == "" and "contact" not in params_of(seen)
        a.locator(NAV_LINK).filter(has_text="Overview").first.click()
        seen = settle(a, "Overview", own_filters("7d", [place["id"]]))
        assert seen["dates"] == "Last 7 days" and seen["tags"] == [place["name"]]
        html.extend(page.content() for page in pages)
    finally:
        for context in contexts:
            context.close()

    assert fresh_queries(box) == first + second, "a session fetched data another had loaded"
    contact_fetches = [e for e in box.requests_to("contact") if "scrollId" not in e["query"]]
    assert [e["contact_id"] for e in contact_fetches] == [contact]
    assert frames, "the websocket traffic was captured"
    assert not [f for f in frames if TOKEN.encode() in f], "the token reached a browser"
    assert not [h for h in html if TOKEN in h], "the token is in a page"
    assert TOKEN not in app.output()
