"""Sync: bring an organization's history store up to date from the API, fetching only what it
lacks.

Each UTC day the store does not hold, or holds from before it settled, is fetched in one plain
scroll (so the API's ``count`` for that day's query can be kept beside the rows received), a few
days at once on ``workers`` threads. Each day is written through ``EventStore.write_day`` as soon
as it arrives (one atomic rename), so a sync that is killed leaves every day either as it was or
complete, and the next sync carries on where it stopped. A day whose file cannot be read is set
aside first and fetched again. Retries (429 with ``Retry-After``, 5xx, resets) are the client's.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

import pandas as pd

from c4w import schema
from c4w.client import Client, FetchProgress
from c4w.store import EventStore, days_between
from c4w.store.partition import day_bounds

log = logging.getLogger(__name__)

FETCH_WORKERS_ENV = "C4W_FETCH_WORKERS"
# From the measured curve (``python -m bench.store sync --workers-curve``, README): at 300 ms a
# request on 90 days, a first sync took 24.8 s with 4 workers, 9.1 s with 8, 8.6 s with 16 and
# 22.1 s with 32 (a loaded machine: parsing competes for the cores); the quieter run of
# the dashboard's fetch gave 10.5 s with 4 and 4.0 s with 16. 16 is the fastest of both; 32
# only adds requests in flight against the vendor's rate limit.
DEFAULT_FETCH_WORKERS = 16
WAIT_REPORT_S = 0.5  # how often a sync looks for a rate-limit wait to report while days fetch
MAX_FETCH_WORKERS = 64


def fetch_workers(environ: Mapping[str, str] | None = None) -> int:
    """How many requests a fetch keeps in flight: ``C4W_FETCH_WORKERS`` (a whole number from 1
    to 64), else ``DEFAULT_FETCH_WORKERS``. A value that is not one is a ValueError saying so."""
    environ = os.environ if environ is None else environ
    raw = (environ.get(FETCH_WORKERS_ENV) or "").strip()
    if not raw:
        return DEFAULT_FETCH_WORKERS
    try:
        workers = int(raw)
    except ValueError:
        workers = 0
    if not 1 <= workers <= MAX_FETCH_WORKERS:
        raise ValueError(
            f"{FETCH_WORKERS_ENV} must be a whole number from 1 to {MAX_FETCH_WORKERS}, "
            f"not {raw[:20]!r}."
        )
    return workers


@dataclass(frozen=True)
class SyncProgress:
    """How far a sync has got: days written of the days to fetch, events written so far, and
    while the API has asked to wait (429 with Retry-After) when the next try starts
    (``time.time()``)."""

    days_done: int
    days_total: int
    events: int
    retry_at: float | None = None


@dataclass
class SyncReport:
    """What one sync did."""

    start: dt.date
    end: dt.date
    days_fetched: list[dt.date] = field(default_factory=list)
    days_kept: int = 0  # days of the range already complete in the store, not fetched
    events_written: int = 0
    set_aside: dict[dt.date, str] = field(default_factory=dict)  # unreadable days, refetched
    count_mismatches: dict[dt.date, tuple[int, int]] = field(default_factory=dict)  # api, rows
    outside_day: int = 0  # rows the API returned for a day whose time is on another day
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for a terminal or a log."""
        parts = [
            f"{len(self.days_fetched)} day(s) fetched, {self.days_kept} already complete",
            f"{self.events_written:,} events written in {self.seconds:.1f} s",
        ]
        if self.set_aside:
            parts.append(f"{len(self.set_aside)} unreadable day(s) set aside and fetched again")
        if self.count_mismatches:
            parts.append(f"{len(self.count_mismatches)} day(s) where the API's count differs")
        return "; ".join(parts)


@dataclass(frozen=True)
class _Day:
    day: dt.date
    events: pd.DataFrame
    api_count: int | None
    fetched_at: dt.datetime


def days_to_fetch(
    store: EventStore, start: dt.date, end: dt.date, now: dt.datetime, refetch_days: int = 0
) -> list[dt.date]:
    """The days of ``start``..``end`` a sync fetches: those ``store.missing_days`` lists, and the
    last ``refetch_days`` days of the range (up to today) whatever their state."""
    if refetch_days < 0:
        raise ValueError("refetch_days must not be negative")
    chosen = set(store.missing_days(start, end, now))
    last = min(end, now.astimezone(dt.UTC).date())
    if refetch_days:
        chosen.update(days_between(max(start, last - dt.timedelta(days=refetch_days - 1)), last))
    return sorted(chosen)


def fetch_day(
    client: Client,
    org_id: str,
    day: dt.date,
    on_wait: Callable[[float | None], None] | None = None,
) -> _Day:
    """One UTC day's events in one plain scroll in UTC order, with the API's count.
    ``on_wait(retry_at)`` hears of each page's rate-limit state (None when not waiting)."""
    counts: list[int | None] = [None]

    def keep_count(progress: FetchProgress) -> None:
        if progress.api_count is not None:
            counts[0] = progress.api_count
        if on_wait is not None:
            on_wait(progress.retry_at)

    fetched_at = dt.datetime.now(dt.UTC)
    events = client.org_events(
        org_id, start=day, end=day, sort_by="utcTime", workers=1, progress=keep_count
    )
    return _Day(day, events, counts[0], fetched_at)


def sync(
    client: Client,
    store: EventStore,
    start: dt.date,
    end: dt.date,
    *,
    refetch_days: int = 0,
    now: dt.datetime | None = None,
    progress: Callable[[SyncProgress], None] | None = None,
    workers: int | None = None,
    wait_s: float | None = None,
    verify: bool = False,
) -> SyncReport:
    """Fetch into ``store`` the days of ``start``..``end`` it lacks (see ``days_to_fetch``),
    ``workers`` days at once (default: the client's ``workers``), holding the store's write lock
    (``StoreBusy`` at once when another sync holds it, or after ``wait_s`` seconds).

    A day counts as complete when it had settled at the moment its query was sent. ``verify``
    reads every stored page of the range first (the footer check always runs). ``now`` (for
    tests) replaces the clock for choosing days and judging them settled. ``progress`` is called
    on the calling thread after each day is written.
    """
    began = time.monotonic()
    if start > end:
        raise ValueError(f"the start ({start}) is after the end ({end})")
    workers = client.workers if workers is None else workers
    report = SyncReport(start, end)
    with store.write_lock(timeout=wait_s):
        unreadable = store.verify_days(start, end) if verify else store.corrupt_days()
        for day, reason in sorted(unreadable.items()):
            if start <= day <= end:
                store.set_aside(day)
                report.set_aside[day] = reason
        moment = now or dt.datetime.now(dt.UTC)
        days = days_to_fetch(store, start, end, moment, refetch_days)
        today = moment.astimezone(dt.UTC).date()
        report.days_kept = len(days_between(start, min(end, today))) - len(days)
        done = 0
        if progress is not None:
            progress(SyncProgress(0, len(days), 0))
        waits: dict[dt.date, float] = {}  # day -> when its fetch's next try starts, if waiting
        told: float | None = None

        waits_lock = threading.Lock()

        def note_wait(day: dt.date, retry_at: float | None) -> None:
            with waits_lock:
                if retry_at is None:
                    waits.pop(day, None)
                else:
                    waits[day] = retry_at

        with ThreadPoolExecutor(max(1, min(workers, len(days) or 1)), "c4w-sync") as pool:
            pending: set[Future[_Day]] = {
                pool.submit(fetch_day, client, store.org_id, day, functools.partial(note_wait, day))
                for day in days
            }
            try:
                while pending:
                    finished, pending = wait(
                        pending, timeout=WAIT_REPORT_S, return_when=FIRST_COMPLETED
                    )
                    for future in finished:
                        fetched = future.result()
                        note_wait(fetched.day, None)
                        _write(store, fetched, now, report)
                        done += 1
                    with waits_lock:
                        waiting = max(waits.values(), default=None)
                    if progress is not None and (finished or waiting != told):
                        told = waiting
                        progress(SyncProgress(done, len(days), report.events_written, told))
            finally:
                for future in pending:
                    future.cancel()
    report.days_fetched.sort()
    report.seconds = time.monotonic() - began
    return report


def _write(store: EventStore, fetched: _Day, now: dt.datetime | None, report: SyncReport) -> None:
    """Write one fetched day, keeping only its rows (and rows without a time)."""
    events = fetched.events
    low, high = day_bounds(fetched.day)
    created = events[schema.CREATED_AT]
    outside = (created.notna() & ((created < low) | (created >= high))).to_numpy()
    if outside.any():
        log.warning(
            "the API returned %d event(s) outside %s for that day; left out", outside.sum(), low
        )
        report.outside_day += int(outside.sum())
        events = events.loc[~outside]
    fetched_at = fetched.fetched_at if now is None else now
    state = store.write_day(
        fetched.day,
        events,
        complete=store.is_settled(fetched.day, fetched_at),
        api_count=fetched.api_count,
        fetched_at=fetched_at,
    )
    report.days_fetched.append(fetched.day)
    report.events_written += state.events
    if state.api_count is not None and state.api_count != state.events + state.duplicates_dropped:
        report.count_mismatches[fetched.day] = (state.api_count, state.events)
