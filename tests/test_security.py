"""What a hostile or broken link, or a failing API, cannot do to the dashboard.

Pure functions of ``c4w.ui`` first, then the app through AppTest in live mode against the
sandbox: contact ids that are dot segments, error pages that keep the sidebar and a way to try
again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from streamlit.testing.v1 import AppTest

from c4w import ui

TODAY = dt.date(2024, 6, 15)
CREDENTIAL_VARS = ("C4W_TOKEN", "C4W_CLIENT_KEY", "C4W_CLIENT_SECRET", "C4W_ORG_ID", "C4W_BASE_URL")


# --- 10: the loc parameter ------------------------------------------------------------------------
def test_comma_separated_location_ids_count_towards_the_cap() -> None:
    cap = ui.MAX_LOCATIONS_IN_LINK
    one_value = ",".join(f"loc-{i}" for i in range(40_000))  # 40,000 ids in one `loc` value
    filters, notes = ui.parse_url_filters({"loc": [one_value]}, TODAY)
    assert filters.location_ids == tuple(f"loc-{i}" for i in range(cap))
    assert notes == [f"The link names more than {cap} locations; only the first {cap} are used."]


def test_the_cap_counts_ids_over_repeated_and_comma_separated_values() -> None:
    cap = ui.MAX_LOCATIONS_IN_LINK
    # 300 values of 2 ids each: 600 ids, of which the first `cap` are kept
    values = [f"a{i},b{i}" for i in range(300)]
    filters, notes = ui.parse_url_filters({"loc": values}, TODAY)
    expected = [x for i in range(300) for x in (f"a{i}", f"b{i}")][:cap]
    assert list(filters.location_ids) == expected and len(notes) == 1


def test_repeated_ids_are_kept_once_in_their_first_order() -> None:
    filters, notes = ui.parse_url_filters({"loc": ["b,a", "b", " a ,c", "c,,"]}, TODAY)
    assert filters.location_ids == ("b", "a", "c")
    assert notes == []
    # exactly the cap is not "more than" it
    exactly = ",".join(str(i) for i in range(ui.MAX_LOCATIONS_IN_LINK))
    filters, notes = ui.parse_url_filters({"loc": [exactly, "0,1"]}, TODAY)
    assert len(filters.location_ids) == ui.MAX_LOCATIONS_IN_LINK and notes == []


# --- the app in live mode -------------------------------------------------------------------------
@pytest.fixture
def live(sandbox_factory, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """A sandbox over the small test organization, the app pointed at it."""
    box = sandbox_factory()
    monkeypatch.setenv("C4W_DEMO_EVENTS", "2000")
    for name in CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("C4W_BASE_URL", box.url)
    monkeypatch.setenv("C4W_TOKEN", box.token)
    monkeypatch.setenv("C4W_ORG_ID", box.org_id)
    yield box


def run_app(page: str | None = None, **params: str) -> AppTest:
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.query_params.update(params)
    at.run()
    if page is not None:
        at.switch_page(f"pages/{page}.py").run()
    return at


# --- 6: contact ids that are dot segments ---------------------------------------------------------
# what a browser's address gives the page for ?contact=.., ., %2e%2e, %20..%20 and %00..
@pytest.mark.parametrize("contact_id", ["..", ".", " .. ", "\x00..", ".\x00."])
def test_dot_segment_contact_ids_get_the_bad_id_message(live, contact_id: str) -> None:
    at = run_app("contact", contact=contact_id)
    assert not at.exception, [e.value for e in at.exception]
    assert any("No events found for that contact id" in i.value for i in at.info)
    assert all(entry["endpoint"] != "contact" for entry in live.requests)  # nothing was asked


def test_a_literal_percent_encoded_dot_id_is_sent_as_data(live) -> None:
    at = run_app("contact", contact="%2e%2e")
    assert not at.exception, [e.value for e in at.exception]
    assert any("No events found" in i.value for i in at.info)
    assert [e["contact_id"] for e in live.requests if e["endpoint"] == "contact"] == ["%2e%2e"]


# --- 7: error pages keep the sidebar and a way to try again ---------------------------------------
@pytest.mark.parametrize("endpoint", ["events", "locations"])
def test_an_error_page_keeps_the_sidebar_and_offers_to_try_again(live, endpoint: str) -> None:
    live.add_fault(410, endpoint=endpoint, times=1)  # refused once, then answered
    at = run_app()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1 and "revoked" not in at.error[0].value  # the short message only
    assert at.button(key="error_refresh").label == "Try again"
    assert at.sidebar.button(key="error_refresh_side").label == "Refresh data"
    if endpoint == "events":  # the filters were drawn before the events were asked for
        assert at.sidebar.selectbox(key="flt_range").value == "30d"
    at.button(key="error_refresh").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.metric) >= 6  # the Overview, now that the API answers
