"""The demo organization written into a store, so the dashboard reads demo and live data the
same way. Days are parsed and written one at a time, so a large demo never sits in memory as
one frame."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from c4w import frame, schema
from c4w.demo import DemoOrg
from c4w.store.store import EventStore


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
    """Write the demo organization ``org`` into ``store``, parsing one UTC day at a time; every
    day counts as complete. ``progress(days_done, days_total)`` after each day. Returns the
    number of events written."""
    fetched_at = fetched_at or dt.datetime.now(dt.UTC)
    seconds = np.asarray(org.created_at, dtype=np.int64)
    day_numbers = seconds // 86_400
    edges = np.flatnonzero(np.diff(day_numbers)) + 1
    starts = np.concatenate([[0], edges]) if len(seconds) else np.zeros(0, np.int64)
    stops = np.concatenate([edges, [len(seconds)]]) if len(seconds) else np.zeros(0, np.int64)
    written = 0
    with store.write_lock():
        for i, (lo, hi) in enumerate(zip(starts.tolist(), stops.tolist(), strict=True)):
            day = dt.date(1970, 1, 1) + dt.timedelta(days=int(day_numbers[lo]))
            events = frame.events_frame(org.body(slice(lo, hi)))
            state = store.write_day(
                day, events, complete=True, api_count=hi - lo, fetched_at=fetched_at
            )
            written += state.events
            if progress is not None:
                progress(i + 1, len(starts))
    return written
