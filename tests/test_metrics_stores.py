"""Stores compared, on three locations worked out by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from c4w import demo, schema, ui
from c4w.metrics import stores as sm

from .frames import event, make_events

D = dt.date
LOCATIONS = pd.DataFrame(
    {
        "id": ["L1", "L2", "L3"],
        "name": ["Brera", "Navigli", "Back Bay"],
        "city": ["Milano", "Milano", "Boston"],
        "country": ["IT", "IT", "US"],
        "timezone": ["Europe/Rome", "Europe/Rome", "America/New_York"],
        "tags": ["flagship, europe", "europe", None],
    }
)


def visit(contact: str, at: str, minutes: float, place: str) -> dict:
    return event(schema.VISIT, contact, at, visit_duration_min=minutes, location_id=place)


CURRENT = [
    visit("A", "2024-03-08 12:00", 10, "L1"),
    visit("B", "2024-03-09 12:00", 3, "L1"),
    visit("A", "2024-03-10 12:00", 20, "L1"),
    event(schema.LOGIN, "A", "2024-03-08 11:50", location_id="L1"),
    event(schema.LOGIN, "B", "2024-03-09 11:57", location_id="L1"),
    event(schema.SIGNUP, "B", "2024-03-09 11:56", location_id="L1"),
    visit("C", "2024-03-12 12:00", 30, "L2"),
    event(schema.GEO_ARRIVING, "Z", "2024-03-12 12:00"),  # no location: never counted
]
PREVIOUS = [
    visit("A", "2024-03-02 12:00", 8, "L1"),
    visit("D", "2024-03-03 12:00", 2, "L1"),
    visit("E", "2024-03-05 12:00", 10, "L3"),  # L2 had no visit in the comparison period
]


def frames(extra_history: list[dict] = ()) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return (
        make_events(CURRENT),
        make_events(PREVIOUS),
        make_events([*extra_history, *PREVIOUS, *CURRENT]),
    )


def by_group(table: pd.DataFrame) -> dict[str, dict]:
    return {row["group"]: row for row in table.to_dict("records")}


def test_one_row_per_location_with_changes() -> None:
    now, before, history = frames()
    rows = by_group(
        sm.store_comparison(
            now,
            before,
            history,
            LOCATIONS,
            D(2024, 3, 8),
            D(2024, 3, 14),
            returning_comparable=False,
        )
    )
    brera = rows["L1"]
    assert brera["name"] == "Brera" and brera["tags"] == "europe, flagship"
    assert (brera["visits"], brera["visits_previous"], brera["visits_change"]) == (3, 2, 0.5)
    assert (brera["guests"], brera["guests_previous"], brera["guests_change"]) == (2, 2, 0.0)
    assert brera["logins"] == 2 and pd.isna(brera["logins_change"])  # none before: no %
    assert (brera["median_dwell"], brera["median_dwell_previous"]) == (10.0, 5.0)
    assert brera["median_dwell_change"] == 1.0
    assert brera["bounce_rate"] == pytest.approx(1 / 3)  # B's 3 minutes
    assert brera["bounce_rate_change"] == pytest.approx(1 / 3 - 1 / 2)  # in points
    # A on 8 Mar (last seen 2 Mar) and A on 10 Mar are returning, B is new
    assert brera["returning"] == pytest.approx(2 / 3)
    # the history does not hold the look-back before the comparison period: no comparison
    assert pd.isna(brera["returning_previous"]) and pd.isna(brera["returning_change"])
    assert brera["signups"] == 1 and pd.isna(brera["signups_change"])
    assert brera["trend"] == [1, 1, 1, 0, 0, 0, 0]


def test_a_store_with_no_visits_in_the_comparison_period() -> None:
    now, before, history = frames()
    rows = by_group(
        sm.store_comparison(now, before, history, LOCATIONS, D(2024, 3, 8), D(2024, 3, 14))
    )
    navigli = rows["L2"]
    assert navigli["visits"] == 1 and navigli["visits_previous"] == 0
    assert pd.isna(navigli["visits_change"])  # not +infinity
    assert navigli["median_dwell"] == 30.0 and pd.isna(navigli["median_dwell_previous"])
    back_bay = rows["L3"]
    assert back_bay["visits"] == 0 and back_bay["visits_change"] == -1.0
    assert pd.isna(back_bay["median_dwell"]) and pd.isna(back_bay["bounce_rate"])
    assert back_bay["trend"] == [0] * 7


def test_no_comparison_days_give_no_previous_figures() -> None:
    now, _before, history = frames()
    table = sm.store_comparison(now, None, history, LOCATIONS, D(2024, 3, 8), D(2024, 3, 14))
    assert table["visits_previous"].isna().all() and table["visits_change"].isna().all()
    assert table.set_index("group").loc["L1", "visits"] == 3


def test_returning_compared_when_the_history_reaches_back_far_enough() -> None:
    now, before, history = frames([visit("A", "2024-02-20 12:00", 15, "L1")])
    rows = by_group(
        sm.store_comparison(now, before, history, LOCATIONS, D(2024, 3, 8), D(2024, 3, 14))
    )
    # before: A on 2 Mar (last seen 20 Feb) returning, D new
    assert rows["L1"]["returning_previous"] == pytest.approx(1 / 2)
    assert rows["L1"]["returning_change"] == pytest.approx(2 / 3 - 1 / 2)


def test_grouped_by_city_and_by_tag() -> None:
    now, before, history = frames()
    city = by_group(
        sm.store_comparison(now, before, history, LOCATIONS, D(2024, 3, 8), D(2024, 3, 14), "city")
    )
    assert set(city) == {"Milano", "Boston"}
    milano = city["Milano"]
    assert milano["location_ids"] == ["L1", "L2"]
    assert milano["visits"] == 4 and milano["guests"] == 3  # A, B, C
    assert milano["median_dwell"] == 15.0  # 3, 10, 20, 30
    assert milano["bounce_rate"] == 0.25
    tags = by_group(
        sm.store_comparison(now, before, history, LOCATIONS, D(2024, 3, 8), D(2024, 3, 14), "tag")
    )
    assert {k: v["location_ids"] for k, v in tags.items()} == {
        "europe": ["L1", "L2"],
        "flagship": ["L1"],
        "No tag": ["L3"],
    }


def test_movers_up_and_down() -> None:
    now, before, history = frames()
    table = sm.store_comparison(now, before, history, LOCATIONS, D(2024, 3, 8), D(2024, 3, 14))
    up, down = sm.movers(table, "visits", n=2, min_previous=1)
    assert up["name"].tolist() == ["Brera"]  # +50%
    assert down["name"].tolist() == ["Back Bay"]  # -100%; Navigli had nothing to compare
    assert sm.tag_filter(table, ["flagship"])["name"].tolist() == ["Brera"]
    shown = sm.readable(table)
    assert shown.loc[shown["Name"] == "Brera", "WiFi visits vs before (%)"].item() == 50.0
    assert shown.loc[shown["Name"] == "Brera", "Bounce rate (%)"].item() == 33.3


def test_demo_store_that_improved_and_one_that_dropped() -> None:
    """The demo seeds LoDo's traffic x1.9 and Capitol Hill's x0.4 over the last 30 days."""
    frame = demo.demo_events_frame(60_000)
    locations = demo.demo_locations_frame()
    end = ui.history_span(frame)[1]
    start = end - dt.timedelta(days=29)
    prev_start, prev_end = ui.previous_period(start, end)
    table = sm.store_comparison(
        ui.slice_events(frame, start, end),
        ui.slice_events(frame, prev_start, prev_end),
        frame,
        locations,
        start,
        end,
    )
    change = table.set_index("name")["visits_change"]
    assert change["Copperline LoDo"] > 0.4
    assert change["Copperline Capitol Hill"] < -0.4
    # the other stores open all along stay within +-30% (Brera opened 35 days ago)
    steady = change.drop(["Copperline LoDo", "Copperline Capitol Hill", "Copperline Brera"])
    assert steady.abs().max() < 0.3
    up, down = sm.movers(table, "visits", n=2, min_previous=20)
    assert "Copperline LoDo" in up["name"].tolist()
    assert down["name"].iloc[0] == "Copperline Capitol Hill"


def test_sidebar_can_pick_a_city_or_a_tag() -> None:
    groups = ui.location_group_choices(LOCATIONS)
    assert groups == {
        "city:Boston": ("City: Boston", ["L3"]),
        "city:Milano": ("City: Milano", ["L1", "L2"]),
        "tag:europe": ("Tag: europe", ["L1", "L2"]),
        "tag:flagship": ("Tag: flagship", ["L1"]),
    }
    assert ui.expand_location_choices(["tag:flagship", "city:Milano", "L3"], groups) == (
        "L1",
        "L2",
        "L3",
    )


def test_a_row_links_to_a_page_filtered_to_its_store() -> None:
    filters = ui.Filters("custom", D(2024, 3, 8), D(2024, 3, 14), ("L9",))
    assert ui.page_link("visits", filters, ["L1", "L2"]) == (
        "./visits?range=custom&start=2024-03-08&end=2024-03-14&loc=L1&loc=L2"
    )
    assert ui.page_link("", ui.Filters("7d", D(2024, 3, 8), D(2024, 3, 14))) == "./?range=7d"
