"""The demo organization written into a store, so the dashboard reads demo and live data the
same way. Days are parsed and written one at a time, so a large demo never sits in memory as
one frame; its contacts go beside the events, as a sync keeps a live organization's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from c4w import contacts, frame, schema
from c4w.demo import DemoOrg
from c4w.store.contacts import write_contacts
from c4w.store.store import EventStore, days_between


def write_events(
    store: EventStore,
    events: pd.DataFrame,
    fetched_at: dt.datetime | None = None,
    *,
    complete: bool = True,
) -> int:
    """Write a canonical events frame into ``store``, one partition per UTC day it covers
    (replacing those days); rows without a time are left out. Returns the days written."""
    fetched_at = fetched_at or dt.datetime.now(dt.UTC)
    created = events[schema.CREATED_AT]
    days = created.dt.floor("D")
    written = 0
    with store.write_lock():
        for day in sorted(days.dropna().unique()):
            part = events.loc[(days == day).to_numpy()]
            store.write_day(
                day.date(), part, complete=complete, api_count=None, fetched_at=fetched_at
            )
            written += 1
    return written


def write_demo_store(
    store: EventStore,
    org: DemoOrg,
    fetched_at: dt.datetime | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Write the demo organization ``org`` into ``store``: its contacts first, then its events
    one UTC day at a time, oldest first, so a store whose last day is there is whole. Every day
    of its window counts as complete, a day without events included (a small demo has quiet
    days, and today has none before its first hour). ``progress(days_done, days_total)`` after
    each day. Returns the number of events written."""
    fetched_at = fetched_at or dt.datetime.now(dt.UTC)
    seconds = np.asarray(org.created_at, dtype=np.int64)
    days = days_between(org.start.date(), org.end.date())
    midnights = np.array(
        [int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).timestamp()) for d in days]
    )
    starts = np.searchsorted(seconds, midnights, side="left")
    stops = np.searchsorted(seconds, midnights + 86_400, side="left")
    written = 0
    with store.write_lock():
        write_contacts(store, contacts.contacts_frame(org.contacts))
        for i, (day, lo, hi) in enumerate(zip(days, starts.tolist(), stops.tolist(), strict=True)):
            events = frame.events_frame(org.body(slice(lo, hi)))
            state = store.write_day(
                day, events, complete=True, api_count=hi - lo, fetched_at=fetched_at
            )
            written += state.events
            if progress is not None:
                progress(i + 1, len(days))
    return written
