"""The Campaigns page, the contact search by email and audience files in Chromium (demo data)."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from c4w import audience, schema
from c4w import contacts as ct

from .conftest import (
    PAGE_TIMEOUT_MS,
    AppServer,
    assert_no_exception,
    open_page,
    screenshot,
    served_contacts,
    wait_for_app,
)

pytestmark = pytest.mark.browser


def people():
    return served_contacts().set_index(schema.CONTACT_ID)


def download_audience(page: Page) -> tuple[str, list[dict[str, str]]]:
    button = page.get_by_role("button", name=re.compile(r"Download audience \([\d,]+ contacts\)"))
    expect(button.first).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    count = int(
        re.search(r"\(([\d,]+) contacts", button.first.inner_text()).group(1).replace(",", "")
    )
    with page.expect_download(timeout=PAGE_TIMEOUT_MS) as info:
        button.first.click()
    data = info.value.path().read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
    assert len(rows) == count
    return info.value.suggested_filename, rows


def test_campaigns_page_and_its_audience_with_and_without_reveal(demo_app: AppServer, page: Page):
    open_page(page, f"{demo_app.url}/campaigns")
    assert_no_exception(page)
    expect(page.locator("[data-testid='stMain'] h1").first).to_have_text("Campaigns")
    expect(page.locator("[data-testid='stDataFrame']").first).to_be_visible()
    expect(page.locator("[data-testid='stPlotlyChart']").nth(1)).to_be_attached(
        timeout=PAGE_TIMEOUT_MS
    )
    expect(page.get_by_text("Uplift").first).to_be_visible()
    screenshot(page, "campaigns")

    name, rows = download_audience(page)
    assert "_consented_" in name and name.startswith("audience_")
    assert list(rows[0]) == list(audience.AUDIENCE_COLUMNS) if rows else True
    known = people()
    for row in rows:
        guest = known.loc[row["contact_id"]]
        assert row["marketing_consent"] == "yes" and bool(guest[ct.MARKETING_CONSENT])
        if isinstance(guest[schema.EMAIL], str):
            local, _, domain = guest[schema.EMAIL].partition("@")
            assert row["email"] == f"{local[0]}***@{domain}"
        assert guest[ct.LAST_NAME] not in row.values()
    assert rows, "the clicked list of the biggest campaign is not empty"

    page.get_by_text("Show full emails and phone numbers").click()
    wait_for_app(page)
    assert_no_exception(page)
    name, shown = download_audience(page)
    assert [r["contact_id"] for r in shown] == [r["contact_id"] for r in rows]
    for row in shown:
        guest = known.loc[row["contact_id"]]
        assert row["last_name"] == guest[ct.LAST_NAME]
        if isinstance(guest[schema.EMAIL], str):
            assert row["email"] == guest[schema.EMAIL]
        if isinstance(guest[schema.PHONE], str):
            assert row["phone"] == audience.to_e164(guest[schema.PHONE])
            assert re.fullmatch(r"\+\d{8,15}", row["phone"])


def test_contact_search_by_email(demo_app: AppServer, page: Page):
    known = people()
    with_email = known[known[schema.EMAIL].notna()]
    contact_id = str(with_email.index[0])
    email = str(with_email[schema.EMAIL].iloc[0])
    open_page(page, f"{demo_app.url}/contact")
    box = page.get_by_role("textbox", name="Contact id, email, phone or name")
    box.fill(email)
    box.press("Enter")
    wait_for_app(page)
    assert_no_exception(page)
    expect(page.locator("[data-testid='stMetric']").first).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    assert f"contact={contact_id}" in page.url and "%40" not in page.url and "@" not in page.url
    local, _, domain = email.partition("@")
    expect(page.get_by_text(f"{local[0]}***@{domain}").first).to_be_visible()
    screenshot(page, "contact-by-email")


def uplift_tile(page: Page):
    main = page.locator("[data-testid='stMain']")
    return main.locator("[data-testid='stMetric']").filter(has_text="Uplift").first


def pick_campaign(page: Page, name: str) -> None:
    page.locator("[data-testid='stMain'] [data-testid='stSelectbox']").first.click()
    page.keyboard.type(name.split()[0])
    page.get_by_role("option", name=re.compile(rf"^{re.escape(name)} \(email\)")).click()
    wait_for_app(page)
    expect(page.locator("[data-testid='stMain'] h2").first).to_have_text(name)


def test_a_baseline_without_a_fair_figure_says_not_comparable_and_why(
    demo_app: AppServer, page: Page
):
    # The demo's welcome email follows each sign-up, which follows a visit: the same guests'
    # days before are no baseline for it. The brunch email goes to a random draw of guests, so
    # the holdout (never sent anything) is a fair baseline for it at any hour the demo ends.
    open_page(page, f"{demo_app.url}/campaigns")
    assert_no_exception(page)
    pick_campaign(page, "Welcome to Copperline")
    choice = page.locator("[data-testid='stRadio']").filter(has_text="Compare with")

    choice.get_by_text("Same guests, the days before").click()
    wait_for_app(page)
    assert_no_exception(page)
    expect(uplift_tile(page).locator("[data-testid='stMetricValue']")).to_have_text(
        "Not comparable"
    )
    warning = page.locator("[data-testid='stAlertContentWarning']")
    expect(warning).to_have_count(1)
    expect(warning).to_contain_text("Same guests, the days before: not a fair baseline here")
    expect(warning).to_contain_text("sign-up")
    expect(page.get_by_text("95% interval of the uplift")).to_have_count(0)
    assert "nan" not in page.locator("[data-testid='stMain']").inner_text()
    screenshot(page, "campaigns-not-comparable")

    # with no comparable guest for any recipient, the returned share is still all recipients'
    choice.get_by_text("Comparable guests not sent it").click()
    wait_for_app(page)
    assert_no_exception(page)
    returned = page.locator("[data-testid='stMain'] [data-testid='stMetric']").filter(
        has_text="Returned"
    )
    expect(returned.first.locator("[data-testid='stMetricValue']")).to_have_text(
        re.compile(r"^\d+\.\d%$")
    )
    assert "nan" not in page.locator("[data-testid='stMain']").inner_text()

    pick_campaign(page, "Weekend brunch is served")
    choice.get_by_text("Holdout (never sent a campaign)").click()
    wait_for_app(page)
    assert_no_exception(page)
    value = uplift_tile(page).locator("[data-testid='stMetricValue']")
    expect(value).to_have_text(re.compile(r"^[+-]\d+\.\d pts$"))
    expect(page.locator("[data-testid='stAlertContentWarning']")).to_have_count(0)
    expect(page.get_by_text("95% interval of the uplift", exact=False)).to_be_visible()
    assert "nan" not in page.locator("[data-testid='stMain']").inner_text()
