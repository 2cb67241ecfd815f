"""Facts about the history read in SQL over the store: checked on events placed by hand."""

from __future__ import annotations

import datetime as dt

from c4w.queries.history import latest_event
from c4w.store import EventStore
from c4w.store.demo import write_events
from tests.frames import event, make_events

FETCHED = dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC)


def test_latest_event_of_a_day(tmp_path):
    events = make_events(
        [
            event("login", "c-a", "2024-03-05 08:00"),
            event("visit", "c-a", "2024-03-05 21:30"),
            event("login", "c-b", "2024-03-05 13:15"),
            # the next UTC day: not the 5th's latest
            event("login", "c-b", "2024-03-06 00:10"),
        ]
    )
    store = EventStore(tmp_path, "org-1")
    write_events(store, events, FETCHED)
    utc = dt.UTC
    assert latest_event(store, dt.date(2024, 3, 5)) == dt.datetime(2024, 3, 5, 21, 30, tzinfo=utc)
    assert latest_event(store, dt.date(2024, 3, 6)) == dt.datetime(2024, 3, 6, 0, 10, tzinfo=utc)
    # a day the store does not hold
    assert latest_event(store, dt.date(2024, 3, 7)) is None
