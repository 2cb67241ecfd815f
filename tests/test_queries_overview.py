"""Aggregates computed in DuckDB over the store equal their pandas definitions in c4w.metrics on
the same events: on a small case worked out by hand, and on the demo."""

from __future__ import annotations

import datetime as dt

import pytest

from c4w import demo, frame, schema
from c4w.metrics.overview import overview_kpis
from c4w.queries.overview import events_per_day, headline_counts
from c4w.store import EventStore
from c4w.store.demo import write_demo_store, write_events
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
