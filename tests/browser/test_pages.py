"""Every page of the dashboard in Chromium, on demo data: it runs, its charts and map draw, a
CSV download holds exactly the filtered rows. One screenshot per page lands in
artifacts/screenshots/."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from playwright.sync_api import Page, expect

from c4w import demo, formatting, schema

from .conftest import (
    PAGE_TIMEOUT_MS,
    AppServer,
    assert_no_exception,
    open_page,
    screenshot,
    served_busiest_contact,
)

pytestmark = pytest.mark.browser

# page address -> (name for the screenshot, plotly charts at least, deck.gl maps at least)
PAGES = {
    "": ("overview", 2, 0),
    "visits": ("visits", 1, 0),
    "logins": ("logins", 1, 0),
    "funnels": ("funnels", 1, 0),
    "geofences": ("geofences", 1, 1),
}


def assert_charts_drawn(page: Page, plotly: int, maps: int) -> None:
    """Plotly charts hold an svg or canvas; the deck.gl map holds a canvas."""
    charts = page.locator("[data-testid='stPlotlyChart']")
    if plotly:
        expect(charts.nth(plotly - 1)).to_be_attached(timeout=PAGE_TIMEOUT_MS)
        for i in range(charts.count()):
            expect(charts.nth(i).locator("svg.main-svg, canvas").first).to_be_attached(
                timeout=PAGE_TIMEOUT_MS
            )
    if maps:
        deck = page.locator("[data-testid='stDeckGlJsonChart']")
        expect(deck.first).to_be_attached(timeout=PAGE_TIMEOUT_MS)
        expect(deck.first.locator("canvas").first).to_be_attached(timeout=PAGE_TIMEOUT_MS)


def test_a_shared_link_opened_first_after_start_gets_the_whole_frame(
    demo_app: AppServer, page: Page
) -> None:
    """The first visit after the server starts (this module's first test) lands on a deep link:
    it still gets the shared sidebar, the link's filters and the page's own content."""
    open_page(page, f"{demo_app.url}/visits?range=7d")
    assert_no_exception(page)
    expect(page.locator("[data-testid='stMain'] h1")).to_have_text("Visits")
    sidebar = page.locator("[data-testid='stSidebar']")
    today = dt.datetime.now(dt.UTC).date()
    week = f"{today - dt.timedelta(days=6):%d %b %Y} – {today:%d %b %Y} (7 days, UTC)"
    expect(sidebar.get_by_text(week)).to_be_visible()
    expect(sidebar.get_by_text("Campaign funnels")).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    assert "range=7d" in page.url


@pytest.mark.parametrize("path", list(PAGES), ids=[v[0] for v in PAGES.values()])
def test_each_page_runs_and_draws(demo_app: AppServer, page: Page, path: str) -> None:
    name, plotly, maps = PAGES[path]
    open_page(page, f"{demo_app.url}/{path}")
    assert_no_exception(page)
    assert_charts_drawn(page, plotly, maps)
    expect(page.locator("[data-testid='stDownloadButton']").first).to_be_attached()
    expect(page.get_by_text("Demo data", exact=False).first).to_be_visible()
    # the address holds only what differs from the defaults (last 30 days, all locations)
    assert "range=" not in page.url and "loc=" not in page.url
    screenshot(page, name)


def test_contact_page_for_a_contact_from_the_data(demo_app: AppServer, page: Page) -> None:
    open_page(page, f"{demo_app.url}/contact")
    assert_no_exception(page)
    screenshot(page, "contact-search")
    busiest = served_busiest_contact()
    open_page(page, f"{demo_app.url}/contact?contact={busiest}")
    assert_no_exception(page)
    assert_charts_drawn(page, 1, 0)
    expect(page.locator("[data-testid='stMetric']").first).to_be_visible()
    screenshot(page, "contact")


def read_csv(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "a byte order mark for Excel"
    return list(csv.DictReader(io.StringIO(data[3:].decode("utf-8"))))


def test_csv_download_holds_the_filtered_rows(demo_app: AppServer, page: Page) -> None:
    location = demo.demo_locations_frame()["id"].iloc[0]
    today = dt.datetime.now(dt.UTC).date()
    start, end = today - dt.timedelta(days=13), today - dt.timedelta(days=4)
    open_page(
        page,
        f"{demo_app.url}/?range=custom&start={start}&end={end}&loc={location}",
    )
    assert_no_exception(page)
    page.get_by_text("Download the figures and the events behind them").click()
    button = page.get_by_role("button", name=re.compile(r"All [\d,]+ events \(CSV\)"))
    label = button.inner_text()
    shown = int(re.search(r"All ([\d,]+) events", label).group(1).replace(",", ""))
    with page.expect_download(timeout=PAGE_TIMEOUT_MS) as info:
        button.click()
    download = info.value
    assert download.suggested_filename == f"events_{start}_{end}.csv"
    rows = read_csv(download.path().read_bytes())
    assert len(rows) == shown > 0
    # headers in the user's words (c4w.formatting.EVENT_COLUMN_LABELS)
    labels = formatting.EVENT_COLUMN_LABELS
    assert {row[labels[schema.LOCATION_ID]] for row in rows} == {location}
    days = {row[labels[schema.CREATED_AT]][:10] for row in rows}
    assert min(days) >= start.isoformat() and max(days) <= end.isoformat()
    # personal data is masked by default
    emails = [row[labels[schema.EMAIL]] for row in rows if row[labels[schema.EMAIL]]]
    assert emails and all("***@" in e for e in emails)
