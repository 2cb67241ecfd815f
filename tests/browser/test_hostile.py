"""Hostile data and the credentials, in a real browser, in live mode against the sandbox API.

Location, geofence and campaign names and survey answers hold an HTML payload that would run
script if rendered as HTML, or a spreadsheet formula; signup sources, campaign names and survey
answers hold Markdown (an image on another server, a link, an HTML comment, ``$...$`` LaTeX).
Every page is opened: no dialog may fire, no injected element may exist, no link or image or
formula may be drawn from the data, no request may leave for anywhere but the app itself, the
CSV export must neutralise every formula, and neither the client secret nor the token it buys may
appear anywhere: not in the websocket traffic, the page HTML, the CSV or the server's output.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import secrets

import pytest
from playwright.sync_api import Browser, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from c4w import export, schema
from c4w.sandbox import Sandbox, serve_in_thread, source_from_events
from tests.conftest import LOCATIONS, nested_event

from .conftest import PAGE_TIMEOUT_MS, AppServer, open_page, screenshot, wait_for_app

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://example.invalid","x")'
# Markdown: an image that a browser would fetch (from a port nothing listens on), a link, an
# HTML comment and LaTeX; each would be drawn by an element that renders Markdown
PIXEL = "http://127.0.0.1:9/p.png"
PHISH = "http://phish.invalid/sign-in"
BASE_MAP = "https://basemaps.cartocdn.com/"  # the map's tiles and style (Streamlit's default)
MARKDOWN = f"![px]({PIXEL}) [Sign in again]({PHISH}) <!-- hidden --> $x^2$ $$y$$"
ORG_ID = "org-hostile-01"
# distinctive values, so any leak is found by a plain search
TOKEN = "tok-" + secrets.token_hex(20)
CLIENT_KEY = "ck-hostile"
CLIENT_SECRET = secrets.token_hex(16)  # 32 characters, like a real one
PAGES = ["", "visits", "logins", "funnels", "geofences", "contact"]
CONTACT = "c-hostile"


def hostile_events() -> tuple[list[dict], list[dict]]:
    """Two locations named with the payloads, and every kind of event over the last days."""
    locations = [
        {**LOCATIONS[0], "id": "loc-xss", "name": XSS},
        {**LOCATIONS[1], "id": "loc-formula", "name": FORMULA},
    ]
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    kinds = [
        schema.SIGNUP,
        schema.LOGIN,
        schema.VISIT,
        schema.SEND_EMAIL,
        schema.OPEN_EMAIL,
        schema.CLICK_EMAIL,
        schema.SURVEY,
        schema.GEO_ARRIVING,
        schema.GEO_VISIT,
        schema.SEND_SMS,
        schema.CLICK_SMS,
    ]
    events = []
    for i in range(120):
        kind = kinds[i % len(kinds)]
        where = locations[i % 2]
        created = now - dt.timedelta(hours=3 + i * 5)
        contact = CONTACT if i % 3 == 0 else f"{XSS}-{i % 7}"
        event = nested_event(f"ev-h-{i:04d}", kind, contact, created, where)
        body = event["event"]
        name = (XSS, FORMULA, MARKDOWN)[i % 3]
        if kind == schema.SIGNUP:
            body["signup"] = {"source": MARKDOWN}
        if kind in (schema.SEND_EMAIL, schema.OPEN_EMAIL, schema.CLICK_EMAIL):
            body["email"]["campaignName"] = name
            body["email"]["email"] = f"{FORMULA}@example.com"
        if kind in (schema.SEND_SMS, schema.CLICK_SMS):
            body["sms"]["campaignName"] = name
        if kind == schema.SURVEY:
            body["survey"] = {
                "campaignId": "cmp-s",
                "campaignName": name,
                "answerId": f"a{i}",
                "questions": {"question_1": XSS},
                "answers": {"answer_1": FORMULA, "answer_2": XSS, "answer_3": MARKDOWN},
            }
        if kind in schema.GEOFENCE_TYPES:
            event["where"]["geofenceName"] = XSS
        events.append(event)
    return events, locations


@pytest.fixture(scope="module")
def live_app(start_app):
    events, locations = hostile_events()
    box = serve_in_thread(
        source_from_events(events, ORG_ID, locations),
        token=TOKEN,
        client_key=CLIENT_KEY,
        client_secret=CLIENT_SECRET,
    )
    try:
        # the app logs in with key and secret and receives TOKEN: neither may leak
        server = start_app(
            {
                "C4W_BASE_URL": box.url,
                "C4W_CLIENT_KEY": CLIENT_KEY,
                "C4W_CLIENT_SECRET": CLIENT_SECRET,
                "C4W_ORG_ID": ORG_ID,
            }
        )
        yield server, box
    finally:
        box.stop()


def test_hostile_names_never_run_and_the_credentials_never_leave(
    live_app: tuple[AppServer, Sandbox], browser: Browser
) -> None:
    server, box = live_app
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    dialogs: list[str] = []
    frames: list[bytes] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    def watch(ws) -> None:
        def keep(payload) -> None:
            frames.append(payload if isinstance(payload, bytes) else payload.encode("utf-8"))

        ws.on("framereceived", keep)
        ws.on("framesent", keep)

    page.on("websocket", watch)
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    html: list[str] = []
    try:
        for path in PAGES:
            target = f"{server.url}/{path}"
            if path == "contact":
                target += f"?contact={CONTACT}"
            open_page(page, target)
            expect(page.locator("[data-testid='stException']")).to_have_count(0)
            assert "Demo data" not in page.inner_text("body")
            if path == "geofences":
                hover_the_map(page)
            page.wait_for_timeout(300)
            assert page.locator("img[src='x']").count() == 0, path
            assert page.evaluate("document.querySelectorAll('[onerror]').length") == 0, path
            assert page.locator("a[href*='phish.invalid']").count() == 0, path
            assert page.locator("img[src*='p.png']").count() == 0, path
            assert page.locator(".katex, math").count() == 0, path  # no LaTeX was typeset
            if path == "contact":  # the signup source is shown, as typed
                assert "[Sign in again](" in page.inner_text("[data-testid='stMain']")
            html.append(page.content())
            screenshot(page, f"hostile-{path or 'overview'}")
        csv_bytes = download_events_csv(page, server.url)
    finally:
        context.close()

    assert any(entry["endpoint"] == "login" for entry in box.state.log), "logged in"
    assert dialogs == [], "a script ran"
    # nothing was fetched from anywhere but the app (not the Markdown image, not a page icon or
    # a font from an outside server), except the Geofences map's base map, which the browser
    # draws from CARTO's servers by design
    allowed = (server.url, "data:", "blob:", BASE_MAP)
    outside = [url for url in requested if not url.startswith(allowed)]
    assert requested and outside == []
    assert frames, "the websocket traffic was captured"
    # the hostile text did reach the browser (as data), so the checks above were meaningful
    assert any(XSS.encode() in frame for frame in frames)
    for secret in (TOKEN, CLIENT_SECRET):
        for frame in frames:
            assert secret.encode() not in frame
        for text in html:
            assert secret not in text
        assert secret not in server.output()
        assert secret.encode() not in csv_bytes

    rows = list(csv.reader(io.StringIO(csv_bytes[3:].decode("utf-8"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert cells and not any(c.startswith(export.FORMULA_PREFIXES) for c in cells)
    assert "'" + FORMULA in cells  # kept, as text
    assert XSS in cells  # a CSV is not HTML: kept as it is


def hover_the_map(page: Page) -> None:
    """Sweep the mouse over the map so the tooltip of whatever lies under it is drawn."""
    canvas = page.locator("[data-testid='stDeckGlJsonChart'] canvas").first
    expect(canvas).to_be_attached(timeout=PAGE_TIMEOUT_MS)
    box = canvas.bounding_box()
    assert box, "the map has a size"
    for row in range(1, 9):
        for col in range(1, 13):
            x = box["x"] + box["width"] * col / 13
            y = box["y"] + box["height"] * row / 9
            page.mouse.move(x, y)
            page.wait_for_timeout(15)


def download_events_csv(page: Page, url: str, tries: int = 3) -> bytes:
    """The Overview's download of every event in the range. The file is made on the click, by
    the run that drew the button: when the page is drawn again meanwhile (today's unsettled
    events arriving in the background), that button is gone and the click brings nothing, as
    for a user, who clicks again."""
    open_page(page, url + "/")
    page.get_by_text("Download the figures and the events behind them").click()

    def click() -> bytes:
        wait_for_app(page)
        button = page.get_by_role("button", name="events (CSV)")
        with page.expect_download(timeout=PAGE_TIMEOUT_MS // tries) as info:
            button.click()
        return info.value.path().read_bytes()

    for _ in range(tries - 1):
        with contextlib.suppress(PlaywrightTimeout):
            return click()
    return click()
