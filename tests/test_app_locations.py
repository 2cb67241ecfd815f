"""The Locations and Loyalty pages through AppTest: a city picked in the sidebar, rows that link
to filtered pages, the retention rule on the page."""

from __future__ import annotations

import urllib.parse

from c4w import demo

from .test_app import demo_environment, param, run_app  # noqa: F401 (the fixture is used)


def test_a_city_in_the_sidebar_filters_to_its_stores() -> None:
    at = run_app("locations")
    locations = demo.demo_locations_frame()
    chicago = sorted(locations.loc[locations["city"] == "Chicago", "id"])
    at.sidebar.multiselect(key="flt_locations").set_value(["city:Chicago"]).run()
    assert not at.exception
    assert sorted(param(at, "loc")) == chicago
    table = at.dataframe[0].value
    assert sorted(table["Name"]) == ["Copperline O'Hare T1", "Copperline River North"]


def test_each_row_opens_the_other_pages_filtered_to_that_store() -> None:
    at = run_app("locations", range="7d")
    assert not at.exception
    table = at.dataframe[0].value
    locations = demo.demo_locations_frame().set_index("name")["id"]
    for name, link in zip(table["Name"], table["Visits page"], strict=True):
        address = urllib.parse.urlsplit(link)
        assert address.path == "./visits"
        assert urllib.parse.parse_qs(address.query) == {"range": ["7d"], "loc": [locations[name]]}
    assert len(at.metric) >= 2  # the movers


def test_loyalty_states_its_rule_and_the_history() -> None:
    at = run_app("loyalty")
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "PostHog's first-time retention" in captions
    assert "The loaded history goes from" in captions
    assert "not over yet" in captions


def test_a_row_button_opens_the_visits_page_filtered_to_that_store() -> None:
    at = run_app("locations", range="7d")
    locations = demo.demo_locations_frame().set_index("name")["id"]
    picked = locations["Copperline LoDo"]
    at.selectbox(key="locations_open_row").set_value(picked).run()
    at.button(key="locations_open_pages/visits.py").click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Visits"]
    assert at.sidebar.multiselect(key="flt_locations").value == [picked]
    assert param(at, "loc") == [picked] and param(at, "range") == ["7d"]


def test_a_row_button_clicked_right_after_a_new_choice_opens_that_row() -> None:
    """The choice and the click reach the app together, before the page is drawn again with
    the buttons of the new row: the click opens the row chosen, not the one drawn."""
    at = run_app("locations", range="7d")
    picked = demo.demo_locations_frame().set_index("name")["id"]["Copperline LoDo"]
    assert at.selectbox(key="locations_open_row").value != picked
    at.selectbox(key="locations_open_row").set_value(picked)
    at.button(key="locations_open_pages/visits.py").click().run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Visits"]
    assert at.sidebar.multiselect(key="flt_locations").value == [picked]
