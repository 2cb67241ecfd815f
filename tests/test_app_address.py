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


def test_the_geofence_colour_and_walk_in_minutes_live_in_the_address() -> None:
    at = run_app("geofences")
    at.selectbox(key="geofences_pick").select_index(1).run()  # the first after "All geofences"
    at.radio(key="geofences_color_by").set_value("arrivals").run()
    at.number_input(key="geofences_walk_in_minutes").set_value(30).run()
    assert not at.exception
    chosen = at.selectbox(key="geofences_pick").value
    assert param(at, "colour") == ["arrivals"] and param(at, "walkin") == ["30"]
    assert param(at, "geofence") == [chosen] and chosen
    # a shared link with those choices opens on the same view
    again = run_app("geofences", geofence=chosen, colour="arrivals", walkin="30")
    assert not again.exception
    assert again.selectbox(key="geofences_pick").value == chosen
    assert again.radio(key="geofences_color_by").value == "arrivals"
    assert again.number_input(key="geofences_walk_in_minutes").value == 30
    # a geofence that is not in these dates is ignored, not an error
    odd = run_app("geofences", geofence="no-such-geofence", colour="sparkles", walkin="7000")
    assert not odd.exception
    assert odd.selectbox(key="geofences_pick").value in ("", None)
    assert odd.radio(key="geofences_color_by").value == "visits"
    assert odd.number_input(key="geofences_walk_in_minutes").value == 60
