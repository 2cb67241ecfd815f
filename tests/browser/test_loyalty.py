"""The Loyalty, Locations and Geofences views in Chromium, on demo data: they run and draw, the
map opens fitted to the busiest city (screenshot), and a Locations row opens a page filtered to
that store."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from c4w import demo

from .conftest import (
    PAGE_TIMEOUT_MS,
    AppServer,
    assert_no_exception,
    open_page,
    screenshot,
    wait_for_app,
)

pytestmark = pytest.mark.browser


def test_loyalty_page_draws_cohorts_buckets_and_lifecycle(demo_app: AppServer, page: Page) -> None:
    open_page(page, f"{demo_app.url}/loyalty?range=90d")
    assert_no_exception(page)
    expect(page.locator("[data-testid='stMain'] h1")).to_have_text("Loyalty")
    charts = page.locator("[data-testid='stPlotlyChart']")
    expect(charts.nth(3)).to_be_attached(timeout=PAGE_TIMEOUT_MS)
    expect(charts.first.locator("svg.main-svg").first).to_be_attached()
    expect(page.get_by_text("PostHog's first-time retention", exact=False)).to_be_visible()
    expect(page.locator("[data-testid='stDownloadButton']").first).to_be_attached()
    screenshot(page, "loyalty")


def test_a_locations_row_opens_the_visits_page_filtered_to_it(
    demo_app: AppServer, page: Page
) -> None:
    open_page(page, f"{demo_app.url}/locations?range=7d")
    assert_no_exception(page)
    expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible()
    expect(page.locator("[data-testid='stMetric']").first).to_be_visible()  # the movers
    screenshot(page, "locations")
    location = demo.demo_locations_frame().set_index("name")["id"]["Copperline LoDo"]
    page.locator("[data-testid='stMain'] [data-testid='stSelectbox']").nth(1).click()
    page.keyboard.type("LoDo")
    page.get_by_role("option", name="Copperline LoDo").click()
    wait_for_app(page)
    page.get_by_role("button", name="Visits", exact=True).click()
    expect(page.locator("[data-testid='stMain'] h1")).to_have_text("Visits")
    wait_for_app(page)
    assert_no_exception(page)
    expect(page).to_have_url(f"{demo_app.url}/visits?range=7d&loc={location}")
    sidebar = page.locator("[data-testid='stSidebar']")
    expect(sidebar.get_by_text("Copperline LoDo")).to_be_visible()


def test_geofence_map_opens_fitted_to_the_busiest_city(demo_app: AppServer, page: Page) -> None:
    open_page(page, f"{demo_app.url}/geofences")
    assert_no_exception(page)
    deck = page.locator("[data-testid='stDeckGlJsonChart']")
    expect(deck.first.locator("canvas").first).to_be_attached(timeout=PAGE_TIMEOUT_MS)
    # quick picks: one per city cluster, the busiest chosen, and "Everything"
    picks = page.locator("[data-testid='stButtonGroup']").first
    expect(picks.get_by_text("Everything")).to_be_visible()
    expect(page.get_by_text("Circles by visits", exact=False)).to_be_visible()  # the legend
    expect(page.get_by_text("Many pass by, few come in", exact=False)).to_be_visible()
    page.wait_for_timeout(1500)  # let deck.gl draw its first frame
    deck.first.screenshot(path=str(screenshot_path("geofences-map-fitted")))
    picks.get_by_text("Everything").click()
    wait_for_app(page)
    page.wait_for_timeout(1500)
    deck.first.screenshot(path=str(screenshot_path("geofences-map-everything")))
    assert_no_exception(page)


def screenshot_path(name: str):
    from .conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}.png"
