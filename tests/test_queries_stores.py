"""The Locations page's table computed in DuckDB over the store equals its pandas definition,
``c4w.metrics.stores.store_comparison``, on the same events: on the three locations worked out
by hand in tests/test_metrics_stores.py, and on the demo."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from c4w import demo, ui
from c4w.metrics import stores as sm
from c4w.metrics.comparison import before_moment
from c4w.queries import stores as sql
from c4w.store import EventStore
from c4w.store.demo import write_demo_store, write_events
from tests.test_metrics_stores import LOCATIONS, frames, visit

FETCHED = dt.datetime(2024, 4, 10, 12, tzinfo=dt.UTC)
D = dt.date


def sql_comparison(store, locations, start, end, compared, history_from, by, fair=True):
    """The table as the Locations page makes it: each group's figures by SQL, then
    ``sm.comparison_table``."""
    groups = tuple(sm.location_groups(locations, by).items())
    now = sql.group_figures(store, start, end, groups, history_from)
    before = {}
    if compared is not None:
        first, last, until = compared
        since = history_from if fair else None
        before = sql.group_figures(store, first, last, groups, since, until, trend=False)
    return sm.comparison_table(now, before, locations, by)


def both(store, now, before, history, locations, start, end, by, fair, until=None):
    """The table by pandas and by SQL for the same days (the comparison: the days before)."""
    first, last = ui.previous_period(start, end)
    history_from = ui.history_span(history)[0]
    by_pandas = sm.store_comparison(
        now, before, history, locations, start, end, by=by, returning_comparable=fair
    )
    compared = None if before is None else (first, last, until)
    by_sql = sql_comparison(store, locations, start, end, compared, history_from, by, fair)
    return by_pandas, by_sql


@pytest.mark.parametrize("by", [sm.BY_LOCATION, sm.BY_CITY, sm.BY_TAG])
@pytest.mark.parametrize("fair", [True, False])
@pytest.mark.parametrize("reaches_back", [True, False])
def test_the_hand_worked_stores_by_sql(tmp_path, by, fair, reaches_back):
    extra = [visit("A", "2024-02-20 12:00", 15, "L1")] if reaches_back else []
    now, before, history = frames(extra)
    store = EventStore(tmp_path, "org-1")
    write_events(store, history, FETCHED)
    by_pandas, by_sql = both(
        store, now, before, history, LOCATIONS, D(2024, 3, 8), D(2024, 3, 14), by, fair
    )
    pd.testing.assert_frame_equal(by_sql, by_pandas)
    if by == sm.BY_LOCATION:  # the figures worked out by hand, now from SQL
        brera = by_sql.set_index("group").loc["L1"]
        assert (brera["visits"], brera["guests"], brera["logins"]) == (3, 2, 2)
        assert brera["bounce_rate"] == pytest.approx(1 / 3)
        assert brera["returning"] == pytest.approx(2 / 3)
        assert brera["trend"] == [1, 1, 1, 0, 0, 0, 0]
        if fair and reaches_back:
            assert brera["returning_previous"] == pytest.approx(1 / 2)


def test_no_comparison_by_sql(tmp_path):
    now, _before, history = frames()
    store = EventStore(tmp_path, "org-1")
    write_events(store, history, FETCHED)
    by_pandas, by_sql = both(
        store, now, None, history, LOCATIONS, D(2024, 3, 8), D(2024, 3, 14), sm.BY_LOCATION, True
    )
    pd.testing.assert_frame_equal(by_sql, by_pandas)
    assert by_sql["visits_previous"].isna().all()


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    org = demo.build_demo(8_000, end=dt.datetime(2024, 4, 10, 12))
    store = EventStore(tmp_path_factory.mktemp("demo"), org.org_id)
    write_demo_store(store, org, FETCHED)
    return store


@pytest.mark.parametrize("by", [sm.BY_LOCATION, sm.BY_TAG])
@pytest.mark.parametrize("cut", [False, True])
def test_the_demo_stores_by_sql(demo_store, by, cut):
    """The comparison period cut at a moment (as when the dates end today) too."""
    store = demo_store
    first_day, last_day = store.span()
    start, end = last_day - dt.timedelta(days=13), last_day
    prev_start, prev_end = ui.previous_period(start, end)
    until = dt.datetime.combine(prev_end, dt.time(15, 30), tzinfo=dt.UTC) if cut else None
    history_from = prev_start - dt.timedelta(days=30)
    everything = store.read(first_day, last_day)
    kinds = everything["type"].isin(sm.EVENT_TYPES).to_numpy()
    now = ui.slice_events(everything.loc[kinds], start, end)
    before = ui.slice_events(everything.loc[kinds], prev_start, prev_end)
    if until is not None:
        before = before_moment(before, until)
    history = ui.slice_events(everything, history_from, end)
    history = history.loc[history["type"].eq("visit").to_numpy()]
    locations = demo.demo_locations_frame()
    by_pandas = sm.store_comparison(now, before, history, locations, start, end, by=by)
    by_sql = sql_comparison(
        store, locations, start, end, (prev_start, prev_end, until), history_from, by
    )
    assert by_pandas["visits"].sum() > 150 and by_pandas["returning"].notna().any()
    pd.testing.assert_frame_equal(by_sql, by_pandas)
