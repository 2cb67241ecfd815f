"""Aggregates computed in DuckDB over the store equal their pandas definitions in c4w.metrics on
the same events: on a small case worked out by hand, and on the demo."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from c4w import demo, frame, schema
from c4w.metrics import comparison
from c4w.metrics import overview as om
from c4w.metrics.overview import overview_kpis
from c4w.queries.overview import (
    events_per_day,
    headline_counts,
    headlines,
    per_day,
    period_headline,
    returning_share,
    returning_shares,
    weekly_heatmap,
)
from c4w.store import EventStore
from c4w.store.demo import write_demo_store, write_events
from c4w.ui import slice_events
from tests.frames import event, make_events

FETCHED = dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC)


def pandas_headline(events, location_ids=(), visit_types=(schema.VISIT,)) -> dict:
    kpis = overview_kpis(events, visit_types=visit_types, location_ids=location_ids)
    return {k.key: k.value for k in kpis if k.key != "returning"}


def test_headline_counts_by_hand(tmp_path):
    events = make_events(
        [
            event("signup", "c-a", "2024-03-05 08:00", location_id="L1"),
            event("login", "c-a", "2024-03-05 08:01", location_id="L1"),
            event("visit", "c-a", "2024-03-05 09:00", location_id="L1", visit_duration_min=10.0),
            event("visit", "c-b", "2024-03-06 09:00", location_id="L2", visit_duration_min=40.0),
            event("visit", "c-b", "2024-03-06 11:00", location_id="L2", visit_duration_min=20.0),
            event("visit", "c-c", "2024-03-06 12:00", location_id="L2", visit_duration_min=-5.0),
            event("login", None, "2024-03-06 13:00", location_id="L2"),
            event("send_email", "c-d", "2024-03-06 14:00", location_id="L2"),
            event("send_email", "c-a", "2024-03-06 14:00", location_id="L1"),
        ]
    )
    store = EventStore(tmp_path, "org-1")
    write_events(store, events, FETCHED)
    first, last = dt.date(2024, 3, 5), dt.date(2024, 3, 6)
    # 3 guests with a login or visit (a, b, c; the last login has no contact), 2 reached by
    # email (d, a), 1 signup, 2 logins, 4 visits; usable lengths 10, 40, 20 (the negative one
    # left out): median 20
    expected = {
        "guests": 3,
        "reached": 2,
        "signups": 1,
        "logins": 2,
        "visits": 4,
        "median_dwell": 20.0,
    }
    assert headline_counts(store, first, last) == expected
    assert pandas_headline(events) == expected
    # at L2 only: guests b, c; reached d; lengths 40, 20: median 30
    at_l2 = {
        "guests": 2,
        "reached": 1,
        "signups": 0,
        "logins": 1,
        "visits": 3,
        "median_dwell": 30.0,
    }
    assert headline_counts(store, first, last, location_ids=["L2"]) == at_l2
    # 5 March alone
    assert headline_counts(store, first, first) == {
        "guests": 1,
        "reached": 0,
        "signups": 1,
        "logins": 1,
        "visits": 1,
        "median_dwell": 10.0,
    }
    assert events_per_day(store, first, last).to_pylist() == [
        {"day": first, "type": "login", "events": 1},
        {"day": first, "type": "signup", "events": 1},
        {"day": first, "type": "visit", "events": 1},
        {"day": last, "type": "login", "events": 1},
        {"day": last, "type": "send_email", "events": 2},
        {"day": last, "type": "visit", "events": 3},
    ]


@pytest.mark.parametrize(
    "location_ids, visit_types",
    [((), (schema.VISIT,)), ((), schema.VISIT_TYPES), (("first",), (schema.VISIT,))],
)
def test_headline_counts_equal_the_pandas_metric_on_the_demo(tmp_path, location_ids, visit_types):
    org = demo.build_demo(3_000, end=dt.datetime(2024, 3, 10, 12))
    store = EventStore(tmp_path, org.org_id)
    write_demo_store(store, org, FETCHED)
    start, end = dt.date(2024, 2, 1), dt.date(2024, 2, 29)
    events = store.read(start, end)
    if location_ids:
        location_ids = (org.locations[0]["id"],)
        events = events[events[schema.LOCATION_ID] == location_ids[0]]
    assert len(events) > 100
    by_sql = headline_counts(store, start, end, location_ids, visit_types)
    by_pandas = pandas_headline(events, location_ids, visit_types)
    assert by_sql == by_pandas


def test_an_empty_range_counts_zero(tmp_path):
    store = EventStore(tmp_path, "org-1")
    write_events(store, frame.empty_events_frame(), FETCHED)
    got = headline_counts(store, dt.date(2024, 1, 1), dt.date(2024, 1, 2))
    assert got == {
        "guests": 0,
        "reached": 0,
        "signups": 0,
        "logins": 0,
        "visits": 0,
        "median_dwell": None,
    }


def test_the_returning_share_by_hand(tmp_path):
    def visit(contact, when, location="L1"):
        return event("visit", contact, when, location_id=location, visit_duration_min=5.0)

    events = make_events(
        [
            visit("c-a", "2024-02-20 10:00"),  # history: a's earlier visit, 14 days before
            visit("c-b", "2024-01-20 10:00"),  # history, but 45 days before b's next: too long
            visit("c-c", "2024-03-04 10:00", location="L2"),  # elsewhere: counts only for all
            visit("c-a", "2024-03-05 10:00"),  # returning (14 days)
            visit("c-a", "2024-03-05 18:00"),  # same day as the one before: not returning
            visit("c-b", "2024-03-05 11:00"),  # not returning (45 days)
            visit("c-c", "2024-03-05 12:00"),  # at L1; returning only when L2 counts (1 day)
            visit(None, "2024-03-05 13:00"),  # no guest: not judged
        ]
    )
    store = EventStore(tmp_path, "org-1")
    write_events(store, events, FETCHED)
    day, back = dt.date(2024, 3, 5), dt.date(2024, 1, 1)
    # judged: a, a, b, c (the visit without a guest left out); returning: a's first, c's
    everywhere = returning_share(store, day, day, back)
    assert (everywhere.returning, everywhere.judged) == (2, 4)
    # at L1: the same four judged, c's earlier visit (at L2) not seen: only a's first returns
    at_l1 = returning_share(store, day, day, back, location_ids=["L1"])
    assert (at_l1.returning, at_l1.judged) == (1, 4)
    # before 12:00 UTC: a's first (returning) and b's only
    until = dt.datetime(2024, 3, 5, 12, tzinfo=dt.UTC)
    morning = returning_share(store, day, day, back, until=until)
    assert (morning.returning, morning.judged) == (1, 2)
    # with no look-back limit b's visit returns too
    unlimited = returning_share(store, day, day, back, lookback_days=None)
    assert (unlimited.returning, unlimited.judged) == (3, 4)
    # the three periods in one pass; a's visit of 20 Feb is judged (no earlier visit: not
    # returning) in a period of its own
    feb_20 = dt.date(2024, 2, 20)
    together = returning_shares(
        store, [(day, day, None), (day, day, until), (feb_20, feb_20, None)], back
    )
    assert [(s.returning, s.judged) for s in together] == [(2, 4), (1, 2), (0, 1)]
    at_l1_together = returning_shares(
        store, [(feb_20, feb_20, None), (day, day, None)], back, ["L1"]
    )
    assert [(s.returning, s.judged) for s in at_l1_together] == [(0, 1), (1, 4)]


def test_the_look_back_counts_whole_seconds_of_the_clock(tmp_path):
    # as in c4w.metrics.overview: R's visits 30 days and 0.2 s apart are 30 days and 1 s apart
    # in whole seconds (10:00:00 and 10:00:01), too long; S's are 30 days to the second
    def visit(contact, when):
        return event("visit", contact, when, visit_start=when, visit_duration_min=5.0)

    events = make_events(
        [
            visit("c-t", "2024-01-01 00:00:00.500"),
            visit("c-r", "2024-01-10 10:00:00.900"),
            visit("c-s", "2024-01-10 10:00:00.900"),
            visit("c-r", "2024-02-09 10:00:01.100"),
            visit("c-s", "2024-02-09 10:00:00.950"),
        ]
    )
    store = EventStore(tmp_path, "org-1")
    write_events(store, events, FETCHED)
    day = dt.date(2024, 2, 9)
    share = returning_share(store, day, day, dt.date(2024, 1, 1))
    assert (share.returning, share.judged) == (1, 2)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    org = demo.build_demo(4_000, end=dt.datetime(2024, 3, 10, 12))
    store = EventStore(tmp_path_factory.mktemp("demo"), org.org_id)
    write_demo_store(store, org, FETCHED)
    return org, store


@pytest.mark.parametrize(
    "at_one_location, visit_types, until",
    [
        (False, (schema.VISIT,), None),
        (False, schema.VISIT_TYPES, None),
        (True, (schema.VISIT,), dt.datetime(2024, 2, 29, 15, 30, tzinfo=dt.UTC)),
    ],
)
def test_the_overview_figures_equal_the_pandas_metrics_on_the_demo(
    demo_store, at_one_location, visit_types, until
):
    org, store = demo_store
    start, end = dt.date(2024, 2, 1), dt.date(2024, 2, 29)
    history_from = start - dt.timedelta(days=30)
    location_ids = (org.locations[0]["id"],) if at_one_location else ()
    history = store.read(history_from, end)
    in_dates = slice_events(history, start, end, location_ids)
    events = comparison.before_moment(in_dates, until)  # a comparison period ends at ``until``
    assert len(events) > 100
    by_pandas = om._headline(
        events, history, tuple(visit_types), location_ids, om.RETURNING_LOOKBACK_DAYS
    )
    assert by_pandas["returning"] is not None
    by_sql = period_headline(
        store, start, end, history_from, location_ids, visit_types, until=until
    )
    assert by_sql.pop("events") == len(events)
    assert by_sql == pytest.approx(by_pandas)
    pd.testing.assert_frame_equal(
        per_day(store, start, end, location_ids), om.events_per_day(in_dates, start=start, end=end)
    )
    for types in (None, [schema.LOGIN]):
        pd.testing.assert_frame_equal(
            weekly_heatmap(store, start, end, location_ids, types, until=until),
            om.weekly_heatmap(in_dates, types=types, start=start, end=end, until=until),
        )


@pytest.mark.parametrize("at_one_location", [False, True])
def test_both_periods_headlines_in_one_pass_equal_each_period_alone(demo_store, at_one_location):
    org, store = demo_store
    start, end = dt.date(2024, 3, 1), dt.date(2024, 3, 10)
    before_start, before_end = dt.date(2024, 2, 20), dt.date(2024, 2, 29)
    until = dt.datetime(2024, 2, 29, 12, tzinfo=dt.UTC)
    history_from = before_start - dt.timedelta(days=30)
    location_ids = (org.locations[0]["id"],) if at_one_location else ()
    alone_now = period_headline(store, start, end, history_from, location_ids)
    alone_before = period_headline(
        store, before_start, before_end, history_from, location_ids, until=until
    )
    assert alone_now["returning"] is not None and alone_before["returning"] is not None
    compared = (before_start, before_end, until)
    assert headlines(store, start, end, history_from, location_ids, compared=compared) == (
        alone_now,
        alone_before,
    )
    now, before = headlines(
        store, start, end, history_from, location_ids, compared=compared, compared_returning=False
    )
    assert now == alone_now and before == {**alone_before, "returning": None}
    assert headlines(store, start, end, history_from, location_ids) == (alone_now, None)
