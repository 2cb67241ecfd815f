"""The page address follows the sidebar on pages that end their run early (a page with nothing
chosen yet stops after its prompt): the dates picked there must still reach the address."""

from __future__ import annotations

import pytest

from tests.test_app import demo_environment, param, run_app  # noqa: F401 (autouse)


@pytest.mark.parametrize("page", ["contact", "loyalty", "geofences"])
def test_dates_picked_on_a_page_that_stops_early_reach_the_address(page: str) -> None:
    at = run_app(page)
    assert not at.exception
    at.sidebar.selectbox(key="flt_range").set_value("7d").run()
    assert not at.exception
    assert param(at, "range") == ["7d"]
