"""Every choice lives in the page address, in Chromium: a first visit adds no history entry, a
reload or a shared link shows the same view, a page change adds one entry and Back returns to
the view before. A link to a page that does not exist gets a short note."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from bench.browser import NAV_LINK

from .conftest import AppServer, open_page, wait_for_app

pytestmark = pytest.mark.browser


def history_length(page: Page) -> int:
    return int(page.evaluate("() => window.history.length"))


def settle(page: Page) -> None:
    """Let the address writes of the last run reach the browser."""
    page.wait_for_timeout(800)
    wait_for_app(page)


def test_first_visit_adds_no_history_entry_and_default_filters_stay_out(
    demo_app: AppServer, page: Page
) -> None:
    open_page(page, demo_app.url + "/")
    settle(page)
    # the new tab's blank page and the dashboard: nothing more (the default range is not written)
    assert history_length(page) == 2
    assert "range=" not in page.url


def test_a_shared_link_with_page_choices_survives_a_reload(demo_app: AppServer, page: Page) -> None:
    open_page(page, f"{demo_app.url}/visits?range=7d&bins=10&split=kind")
    settle(page)
    main = page.locator("[data-testid='stMain']")
    expect(main.get_by_text(re.compile("falls in a 10-minute band"))).to_be_visible()
    assert "bins=10" in page.url and "split=kind" in page.url
    page.reload(wait_until="domcontentloaded")
    wait_for_app(page)
    settle(page)
    expect(main.get_by_text(re.compile("falls in a 10-minute band"))).to_be_visible()
    assert "bins=10" in page.url and "range=7d" in page.url


def test_moving_between_pages_keeps_the_filters_and_back_returns_to_the_view(
    demo_app: AppServer, page: Page
) -> None:
    open_page(page, f"{demo_app.url}/visits?range=7d&bins=10")
    settle(page)
    before = history_length(page)
    page.locator(NAV_LINK).filter(has_text="WiFi logins").first.click()
    expect(page.locator("[data-testid='stMain'] h1")).to_have_text("WiFi logins")
    settle(page)
    assert "/logins" in page.url and "range=7d" in page.url  # the filters follow to the page
    sidebar = page.locator("[data-testid='stSidebar']")
    main = page.locator("[data-testid='stMain']")
    assert history_length(page) - before == 1  # one step per page change
    page.go_back()
    expect(page.locator("[data-testid='stMain'] h1")).to_have_text("Visits")
    settle(page)
    assert "/visits" in page.url and "bins=10" in page.url
    expect(main.get_by_text(re.compile("falls in a 10-minute band"))).to_be_visible()
    expect(sidebar.get_by_text(re.compile(r"\(7 days, UTC\)"))).to_be_visible()
    page.go_forward()
    expect(page.locator("[data-testid='stMain'] h1")).to_have_text("WiFi logins")
    settle(page)
    assert "/logins" in page.url and "range=7d" in page.url


def test_a_choice_made_on_a_page_is_in_the_links_to_the_other_pages(
    demo_app: AppServer, page: Page
) -> None:
    open_page(page, f"{demo_app.url}/visits")
    settle(page)
    side = page.locator("[data-testid='stSidebar']")
    side.locator("input[aria-label='Dates']").click()
    page.locator("[role='option']").filter(has_text="Last 7 days").first.click()
    settle(page)
    assert "range=7d" in page.url
    link = page.locator(NAV_LINK).filter(has_text="Overview").first
    assert "range=7d" in (link.get_attribute("href") or "")
    before = history_length(page)
    link.click()
    expect(page.locator("[data-testid='stMain'] h1")).to_have_text("Overview")
    settle(page)
    assert history_length(page) - before == 1 and "range=7d" in page.url
    expect(side.get_by_text(re.compile(r"\(7 days, UTC\)"))).to_be_visible()


def test_a_link_to_a_page_that_does_not_exist_says_so(demo_app: AppServer, page: Page) -> None:
    open_page(page, demo_app.url + "/no-such-page")
    expect(page.locator("[data-testid='stMain'] h1")).to_have_text("Overview")
    expect(page.get_by_text("There is no page called “no-such-page”")).to_be_visible()
