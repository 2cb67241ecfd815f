"""The Visits and WiFi logins pages read only the event types their figures use.

Each page reads its rows with ``ctx.history(..., types=<module>.EVENT_TYPES)`` instead of the
whole range of every event type. That is only right when every figure of the page gives the
same answer on the narrowed rows as on all the events: checked here on a small demo, then each
page is run with the whole-range frames made to fail.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from c4w import data, demo, schema, ui
from c4w.metrics import logins as lm
from c4w.metrics import visits as vm
from tests.apptest import open_page

READ_VIEW = data.read_view  # the tests of the pages make it fail: the expected counts use it


@pytest.fixture(scope="module")
def halves() -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small demo cut in two by time: (the later half, the earlier half as its previous)."""
    events = demo.demo_events_frame(3000)
    middle = events[schema.CREATED_AT].dropna().median()
    later = (events[schema.CREATED_AT] >= middle).to_numpy()
    return events.loc[later], events.loc[~later]


def narrow(events: pd.DataFrame, types: tuple[str, ...]) -> pd.DataFrame:
    return data.of_types(events, types)


def test_the_demo_has_events_the_pages_do_not_need(halves) -> None:
    """Otherwise the equality checks below would prove nothing."""
    events, _ = halves
    assert len(narrow(events, vm.EVENT_TYPES)) < len(events)
    assert len(narrow(events, lm.EVENT_TYPES)) < len(events)
    assert set(events[schema.TYPE].unique()) >= {schema.LOGIN, schema.VISIT, schema.GEO_VISIT}


@pytest.mark.parametrize("kind", [vm.WIFI, vm.GEOFENCE, vm.BOTH])
def test_visit_figures_are_the_same_on_the_visit_rows_alone(halves, kind: str) -> None:
    events, previous = halves
    rows, before = narrow(events, vm.EVENT_TYPES), narrow(previous, vm.EVENT_TYPES)
    places = vm.visit_places(events, kind)
    pd.testing.assert_frame_equal(vm.visit_places(rows, kind), places)
    chosen = places["place"].head(2).tolist()
    assert len(chosen) == 2
    for picked in (None, chosen):
        assert vm.visit_kpis(rows, before, kind, picked, 7) == vm.visit_kpis(
            events, previous, kind, picked, 7
        )
        for split in (None, "kind", "place"):
            pd.testing.assert_frame_equal(
                vm.dwell_histogram(rows, 5, 240, kind, picked, split=split),
                vm.dwell_histogram(events, 5, 240, kind, picked, split=split),
            )
            pd.testing.assert_frame_equal(
                vm.dwell_buckets(rows, [5, 15, 60], kind, picked, split=split),
                vm.dwell_buckets(events, [5, 15, 60], kind, picked, split=split),
            )
        pd.testing.assert_frame_equal(
            vm.dwell_by_place(rows, kind, picked, 7), vm.dwell_by_place(events, kind, picked, 7)
        )
        pd.testing.assert_frame_equal(
            vm.visit_rows(rows, kind, picked), vm.visit_rows(events, kind, picked)
        )


def test_login_figures_are_the_same_on_the_login_rows_alone(halves) -> None:
    events, previous = halves
    rows, before = narrow(events, lm.EVENT_TYPES), narrow(previous, lm.EVENT_TYPES)
    assert lm.login_kpis(rows, before) == lm.login_kpis(events, previous)
    assert lm.logins_per_contact(rows) == lm.logins_per_contact(events)
    for granularity in lm.GRANULARITIES:
        for top_n in (1, 10):
            pd.testing.assert_frame_equal(
                lm.login_timeline(rows, granularity, top_n=top_n),
                lm.login_timeline(events, granularity, top_n=top_n),
            )
    pd.testing.assert_frame_equal(lm.top_locations(rows), lm.top_locations(events))
    pd.testing.assert_frame_equal(lm.login_frequency(rows), lm.login_frequency(events))
    pd.testing.assert_frame_equal(lm.login_rows(rows), lm.login_rows(events))


# --- the pages never read the whole range ------------------------------------------------------
@pytest.mark.parametrize(
    ("page", "tile", "types"),
    [
        ("pages/visits.py", "Visits", vm.EVENT_TYPES),
        ("pages/logins.py", "WiFi logins", lm.EVENT_TYPES),
    ],
)
def test_the_page_reads_only_its_event_types(
    demo_app, monkeypatch: pytest.MonkeyPatch, page: str, tile: str, types: tuple[str, ...]
) -> None:
    at, asked = open_page(monkeypatch, page)
    assert tuple(types) in asked
    # the tile counts the rows of those types in the chosen 30 days, as a count over the demo
    start, end = ui.utc_today() - dt.timedelta(days=29), ui.utc_today()
    chosen = ui.slice_events(READ_VIEW(data.Source("demo"), start, end).events, start, end)
    expected = int(np.isin(chosen[schema.TYPE].astype(str), list(types)).sum())
    shown = {m.label: m.value for m in at.metric}[tile]
    assert int(str(shown).replace(",", "")) == expected
