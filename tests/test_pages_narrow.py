"""The Visits, WiFi logins and Campaign funnels pages read only the event types and columns
their figures use.

Each page reads its rows with ``ctx.history_later(..., <types>, <module>.COLUMNS_READ)``
instead of the whole range of every event type and column. That is only right when every
figure of the page gives the same answer on the narrowed rows as on all the events: checked
here on a small demo, then each page is run with the whole-range frames made to fail.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from c4w import data, demo, schema, ui
from c4w.metrics import funnels as fm
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


def visit_figures(events: pd.DataFrame, previous: pd.DataFrame, kind: str, picked) -> list:
    """Every figure of the Visits page on ``events`` (``previous`` for the comparison)."""
    out = [vm.visit_places(events, kind), vm.visit_kpis(events, previous, kind, picked, 7)]
    for split in (None, "kind", "place"):
        out.append(vm.dwell_histogram(events, 5, 240, kind, picked, split=split))
        out.append(vm.dwell_buckets(events, [5, 15, 60], kind, picked, split=split))
    out.append(vm.dwell_by_place(events, kind, picked, 7))
    out.append(vm.visit_count(events, kind, picked))
    return out


def login_figures(events: pd.DataFrame, previous: pd.DataFrame) -> list:
    """Every figure of the WiFi logins page on ``events`` (``previous`` for the comparison)."""
    out = [lm.login_kpis(events, previous), lm.logins_per_contact(events)]
    for granularity in lm.GRANULARITIES:
        for top_n in (1, 10):
            out.append(lm.login_timeline(events, granularity, top_n=top_n))
    out += [lm.top_locations(events), lm.login_frequency(events), lm.login_count(events)]
    return out


def assert_same(got: list, expected: list) -> None:
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        if isinstance(b, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b)
        else:
            assert a == b


@pytest.mark.parametrize("kind", [vm.WIFI, vm.GEOFENCE, vm.BOTH])
def test_visit_figures_are_the_same_on_the_visit_rows_and_columns_alone(halves, kind) -> None:
    events, previous = halves
    rows, before = narrow(events, vm.EVENT_TYPES), narrow(previous, vm.EVENT_TYPES)
    chosen = vm.visit_places(events, kind)["place"].head(2).tolist()
    assert len(chosen) == 2
    columns = list(vm.COLUMNS_READ)
    assert len(columns) < len(events.columns)
    for picked in (None, chosen):
        expected = visit_figures(events, previous, kind, picked)
        assert_same(visit_figures(rows, before, kind, picked), expected)
        assert_same(visit_figures(rows[columns], before[columns], kind, picked), expected)
        pd.testing.assert_frame_equal(
            vm.visit_rows(rows, kind, picked), vm.visit_rows(events, kind, picked)
        )


def test_login_figures_are_the_same_on_the_login_rows_and_columns_alone(halves) -> None:
    events, previous = halves
    rows, before = narrow(events, lm.EVENT_TYPES), narrow(previous, lm.EVENT_TYPES)
    columns = list(lm.COLUMNS_READ)
    expected = login_figures(events, previous)
    assert_same(login_figures(rows, before), expected)
    assert_same(login_figures(rows[columns], before[columns]), expected)
    pd.testing.assert_frame_equal(lm.login_rows(rows), lm.login_rows(events))


def funnel_figures(events: pd.DataFrame, steps: tuple[str, ...], **how) -> list:
    result = fm.funnel(events, steps, **how)
    out = [result.steps, result.journeys, fm.steps_table(result), fm.dropped_contacts(result)]
    out += [fm.funnel_breakdown(result, by=by) for by in (fm.BY_LOCATION, fm.BY_CAMPAIGN)]
    out += [result.location_filter_ignored, result.open_windows]
    return out


@pytest.mark.parametrize(
    "steps",
    [*fm.PRESETS.values(), (schema.SEND_EMAIL, schema.OPEN_EMAIL), (schema.LOGIN, schema.VISIT)],
)
def test_funnel_figures_are_the_same_on_the_rows_and_columns_it_reads(halves, steps) -> None:
    events, _ = halves
    rows = narrow(events, tuple(fm.types_to_read(steps)))[list(fm.COLUMNS_READ)]
    start = events[schema.CREATED_AT].min().date()
    end = start + dt.timedelta(days=20)
    stores = events[schema.LOCATION_ID].dropna().astype(str).unique()[:3].tolist()
    for how in (
        {},
        {"entry_from": start, "entry_to": end, "data_until": end},
        {"entry_locations": stores, "same_campaign": False},
    ):
        expected = funnel_figures(events, steps, **how)
        assert expected[0]["contacts"].iloc[0] > 0
        assert_same(funnel_figures(rows, steps, **how), expected)
    if steps[0] in fm.SEND_TYPES:
        assert fm.campaigns_sent(rows, steps[0]) == fm.campaigns_sent(events, steps[0])


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
