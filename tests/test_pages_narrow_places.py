"""The Locations and Geofences pages read only the event types and columns their figures use.

Locations computes its figures in SQL over the store and reads no rows; its pandas definition
needs only ``sm.EVENT_TYPES`` for the chosen dates and the comparison, and
``sm.HISTORY_TYPES`` for the look-back of the returning share. Geofences reads
``gm.IN_DATES_TYPES`` of the chosen dates; its walk-ins and the stores' visits are counted in
SQL over the WiFi events, and of the whole history it takes only each geofence's latest
attributes, in SQL (``tests/test_queries_geofences.py``). That is only
right when every figure gives the same answer on the narrowed rows as on all the events:
checked here on a small demo, then each page is run with every read of all event types made to
fail.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from c4w import data, demo, schema, ui
from c4w.metrics import geofences as gm
from c4w.metrics import overview as om
from c4w.metrics import stores as sm
from tests.apptest import open_page

DAY = dt.timedelta(days=1)
READ_VIEW = data.read_view  # the tests of the pages make it fail: the expected counts use it


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return demo.demo_events_frame(3000)


@pytest.fixture(scope="module")
def locations() -> pd.DataFrame:
    return demo.demo_locations_frame()


def last_day(events: pd.DataFrame) -> dt.date:
    return events[schema.CREATED_AT].max().date()


def narrow(events: pd.DataFrame, types: tuple[str, ...]) -> pd.DataFrame:
    """The rows of ``types``, each category column with only the values it holds (as a read of
    those types apart gives them: its own categories, not the whole demo's)."""
    rows = data.of_types(events, types)
    own = {c: rows[c].cat.remove_unused_categories() for c in rows.select_dtypes("category")}
    return rows.assign(**own)


@pytest.mark.parametrize(
    "types",
    [sm.EVENT_TYPES, sm.HISTORY_TYPES, gm.IN_DATES_TYPES, gm.WIFI_TYPES],
)
def test_the_demo_has_events_the_pages_do_not_need(events, types: tuple[str, ...]) -> None:
    """Otherwise the equality checks below would prove nothing."""
    assert 0 < len(narrow(events, types)) < len(events)


# --- Locations ------------------------------------------------------------------------------------
def location_periods(events: pd.DataFrame):
    """As the page reads them: the last 30 days, the 30 before, and the history from 30 days
    before those (the returning share's look-back)."""
    end = last_day(events)
    start = end - dt.timedelta(days=29)
    first, last = start - dt.timedelta(days=30), start - DAY
    return (
        (start, end),
        ui.slice_events(events, start, end),
        ui.slice_events(events, first, last),
        ui.slice_events(events, first - dt.timedelta(days=om.RETURNING_LOOKBACK_DAYS), end),
    )


@pytest.mark.parametrize("by", list(sm.GROUPINGS))
@pytest.mark.parametrize("fair", [True, False])
def test_store_figures_are_the_same_on_the_rows_the_page_reads(
    events, locations, by: str, fair: bool
) -> None:
    (start, end), now, before, history = location_periods(events)
    whole = sm.store_comparison(
        now, before, history, locations, start, end, by=by, returning_comparable=fair
    )
    # only the rows and columns the page reads
    columns = list(sm.COLUMNS_READ)
    narrowed = sm.store_comparison(
        narrow(now, sm.EVENT_TYPES)[columns],
        narrow(before, sm.EVENT_TYPES)[columns],
        narrow(history, sm.HISTORY_TYPES),
        locations,
        start,
        end,
        by=by,
        returning_comparable=fair,
    )
    pd.testing.assert_frame_equal(narrowed, whole)
    assert whole["visits"].sum() > 0 and whole["returning"].notna().any()
    assert whole["returning_previous"].notna().any() == fair
    moved = zip(sm.movers(narrowed, min_previous=5), sm.movers(whole, min_previous=5), strict=True)
    for table, other in moved:
        pd.testing.assert_frame_equal(table, other)
    pd.testing.assert_frame_equal(sm.readable(narrowed), sm.readable(whole))


def test_guests_count_a_contact_seen_only_in_an_email_at_the_store(events, locations) -> None:
    """Why the page cannot read the visits, logins and sign-ups alone: a guest is a contact
    with an event of any kind at the store."""
    (start, end), now, before, history = location_periods(events)
    in_store = narrow(now, (schema.VISIT, schema.LOGIN, schema.SIGNUP))
    whole = sm.store_comparison(now, before, history, locations, start, end)
    fewer = sm.store_comparison(in_store, before, history, locations, start, end)
    assert (fewer["guests"].to_numpy() <= whole["guests"].to_numpy()).all()
    assert fewer["guests"].sum() < whole["guests"].sum()


# --- Geofences ------------------------------------------------------------------------------------
def geofence_figures(
    in_dates: pd.DataFrame,
    history: pd.DataFrame,
    wifi: pd.DataFrame,
    store_days: pd.DataFrame,
    locations: pd.DataFrame,
    minutes: float,
) -> dict[str, pd.DataFrame]:
    """Every figure of the Geofences page, as the page makes them from what it read."""
    summary = gm.geofence_summary(in_dates, history)
    stores = gm.geofence_stores(summary, locations, gm.geofence_ext_ids(history))
    walk = gm.walk_ins(in_dates, stores, wifi, minutes)
    table = gm.with_walk_ins(summary, stores, walk)
    on_map = gm.mappable(table)
    places = gm.map_places(on_map, gm.wifi_location_points(locations), gm.store_visits(store_days))
    figures = {
        "summary": table,
        "walk_ins": walk,
        "low": gm.low_walk_in(table, 2, 0.9),
        "readable": gm.readable(table),
        "clusters": gm.map_clusters(places),
        "totals": pd.DataFrame([gm.geofence_totals(in_dates)]),
    }
    for key in summary[gm.GEOFENCE].head(3):
        focus = gm.geofence_events(in_dates, key)
        figures[f"totals {key}"] = pd.DataFrame([gm.geofence_totals(focus)])
        figures[f"daily {key}"] = gm.geofence_daily(focus)
        figures[f"contacts {key}"] = gm.readable(gm.geofence_contacts(focus))
    return figures


@pytest.mark.parametrize("minutes", [5.0, gm.WALK_IN_MINUTES, 240.0])
def test_geofence_figures_are_the_same_on_the_rows_the_page_reads(
    events, locations, minutes: float
) -> None:
    # the dates end a day before the demo does: walk-ins may be seen on the day after
    end = last_day(events) - DAY
    start = end - dt.timedelta(days=59)
    in_dates = ui.slice_events(events, start, end)
    wifi = ui.slice_events(events, start, end + DAY)
    whole = geofence_figures(in_dates, events, wifi, in_dates, locations, minutes)
    columns = list(gm.GEOFENCE_COLUMNS)
    narrowed = geofence_figures(
        narrow(in_dates, gm.IN_DATES_TYPES)[columns],
        narrow(events, schema.GEOFENCE_TYPES)[columns],
        narrow(wifi, gm.WIFI_TYPES)[list(gm.WIFI_COLUMNS)],
        narrow(in_dates, gm.WIFI_TYPES)[list(gm.WIFI_COLUMNS)],
        locations,
        minutes,
    )
    assert list(narrowed) == list(whole)
    for name, figure in whole.items():
        pd.testing.assert_frame_equal(narrowed[name], figure, obj=name)
    assert whole["walk_ins"]["walk_ins"].sum() > 0
    assert whole["summary"]["arrivals"].sum() > 0
    assert any(len(whole[name]) for name in whole if name.startswith("contacts"))


def test_store_visits_count_the_wifi_visits_of_each_store(locations) -> None:
    frame = pd.DataFrame(
        {
            schema.TYPE: pd.Categorical(
                [schema.VISIT, schema.VISIT, schema.LOGIN, schema.GEO_VISIT, schema.VISIT]
            ),
            schema.LOCATION_ID: pd.Categorical(["L1", "L2", "L1", None, "L1"]),
        }
    )
    assert gm.store_visits(frame) == {"L1": 2, "L2": 1}


# --- the pages never read every event type ------------------------------------------------------
def chosen_days() -> pd.DataFrame:
    """Every event of the 30 days the pages open on, counted here from the demo's own days."""
    start, end = ui.utc_today() - dt.timedelta(days=29), ui.utc_today()
    return ui.slice_events(READ_VIEW(data.Source("demo"), start, end).events, start, end)


def test_locations_reads_no_event_rows(demo_app, monkeypatch) -> None:
    at, asked = open_page(monkeypatch, "pages/locations.py")
    assert asked == []
    # every store's row: its visits and logins add up to those of the 30 days at the stores
    table = next(t.value for t in at.dataframe if "WiFi visits" in t.value.columns)
    days = chosen_days()
    stores = set(data.load_locations(data.Source("demo"))["id"].astype(str))
    at_a_store = days[schema.LOCATION_ID].astype(str).isin(stores).to_numpy()
    types = days[schema.TYPE].astype(str).to_numpy()
    assert int(table["WiFi visits"].sum()) == int(((types == schema.VISIT) & at_a_store).sum())
    assert int(table["WiFi logins"].sum()) == int(((types == schema.LOGIN) & at_a_store).sum())


def test_geofences_reads_only_its_event_types(demo_app, monkeypatch) -> None:
    at, asked = open_page(monkeypatch, "pages/geofences.py")
    # the walk-ins and the stores' visits are counted in DuckDB: no WiFi row is read
    assert set(asked) == {gm.IN_DATES_TYPES, schema.GEOFENCE_TYPES}
    types = chosen_days()[schema.TYPE].astype(str).to_numpy()
    arrivals = int((types == schema.GEO_ARRIVING).sum())
    assert arrivals > 0
    shown = {m.label: m.value for m in at.metric}
    assert int(str(shown["Arrivals"]).replace(",", "")) == arrivals
    # one geofence picked: its chart per day and its contacts come from the same rows
    at.selectbox(key="geofences_pick").select_index(1).run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(t.value.columns[0] == schema.CONTACT_ID for t in at.dataframe)
