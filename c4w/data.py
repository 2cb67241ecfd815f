"""Where the dashboard's data comes from: the history store, filled from the demo organization
or topped up from a live Cloud4Wi account.

The one module (with ``c4w.ui``) that knows about Streamlit caching. Both modes read events from
an on-disk store (``c4w.store``: Parquet by UTC day) under ``C4W_STORE_DIR``:
- demo mode writes the demo organization into a store of its own once (per size and day), then
  reads it like any other;
- live mode reads a range from the store and first tops up, through ``c4w.sync`` and the client,
  only the days the store lacks or has not settled. Days the store holds are never asked again;
  unsettled recent days are asked again at most every ``TOP_UP_EVERY_S`` (or on Refresh), in the
  background while the last figures stay on screen.
Frames read from a store are kept in one process-wide cache bounded in bytes (``C4W_MEMORY_MB``),
shared by every session: a range inside a cached range is a slice of it (no copy), and ranges
that overlap are read as their union once. The token and client secret never reach a cache key,
a message or the screen: cached functions look the credentials up in a process-local registry by
an opaque key.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import datetime as dt
import functools
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from c4w import errors, schema
from c4w.frame import empty_events_frame
from c4w.metrics import memo

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://explore.cloud4wi.com"
TOP_UP_EVERY_S = 600  # unsettled recent days are asked again at most every 10 minutes
EVENTS_TTL_S = TOP_UP_EVERY_S
LOCATIONS_TTL_S = 3600
MAX_CACHED_CONTACTS = 64
CONTACTS_TTL_S = 1800  # the contacts list (names, consents) is refetched after 30 minutes
MEMORY_ENV = "C4W_MEMORY_MB"
# megabytes of events kept in memory by every session together: a rerun whose figures are all
# remembered reads none, so this only spares a new figure of the same rows a read of the store
# (at 10M events, a walk of every page peaked at 2,251 MiB with 256 against 2,472 with 512, its
# warm reruns the same)
DEFAULT_MEMORY_MB = 256
NO_ANSWER_S = 20.0  # a fetch with no progress for this long is given up ("not answering")
BACKFILL_DAYS = 365  # how far back "Fetch older history" reaches
BACKFILL_CHUNK_DAYS = 7  # older history is fetched a week at a time, newest first
DEMO_ORG_ID = "demo"
CACHE_ENV = "C4W_CACHE_DIR"  # c4w.demo.CACHE_ENV: where the demo keeps what it makes
SYNC_WAIT_S = 120.0  # how long a fetch waits for another one writing the same store


@dataclasses.dataclass(frozen=True)
class Source:
    """Where data comes from. Credentials are kept out of ``repr`` and of every cache key."""

    mode: str  # "demo" or "live"
    org_id: str = ""
    base_url: str = DEFAULT_BASE_URL
    token: str | None = dataclasses.field(default=None, repr=False)
    client_key: str | None = dataclasses.field(default=None, repr=False)
    client_secret: str | None = dataclasses.field(default=None, repr=False)
    problem: str | None = None  # why live mode is configured but unusable, if it is

    @property
    def is_demo(self) -> bool:
        return self.mode == "demo"

    @property
    def key(self) -> str:
        """Opaque, stable id of this source: a hash, from which no credential can be read."""
        raw = "\x1f".join(
            [self.mode, self.base_url, self.org_id, self.token or "", self.client_key or ""]
            + [self.client_secret or ""]
        )
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:24]


# Process-local registry: opaque key -> Source (with its credentials), for the cached functions.
_SOURCES: dict[str, Source] = {}
_SOURCES_LOCK = threading.Lock()


def _secrets_section() -> Mapping[str, Any]:
    """The ``[c4w]`` section of ``.streamlit/secrets.toml``, or an empty mapping."""
    try:
        section = st.secrets.get("c4w", {})
    except Exception:  # no secrets file, or an unreadable one: behave as if none
        return {}
    return section if isinstance(section, Mapping) else {}


def source_from_settings(secrets: Mapping[str, Any], environ: Mapping[str, str]) -> Source:
    """Decide demo or live from the ``[c4w]`` secrets and the environment (which wins).

    Live needs an org id and either a token or a client key + secret; anything less is demo,
    with ``problem`` saying what is missing when some credentials were given.
    """

    def pick(secret_name: str, env_name: str) -> str | None:
        value = environ.get(env_name) or secrets.get(secret_name)
        value = str(value).strip() if value is not None else ""
        return value or None

    token = pick("token", "C4W_TOKEN")
    key = pick("client_key", "C4W_CLIENT_KEY")
    secret = pick("client_secret", "C4W_CLIENT_SECRET")
    org = pick("org_id", "C4W_ORG_ID")
    base = pick("base_url", "C4W_BASE_URL") or DEFAULT_BASE_URL
    has_login = bool(key and secret)
    if not (token or key or secret):
        return Source(mode="demo")
    problem = None
    if not (token or has_login):
        problem = "Both a client key and a client secret are needed (or a token)."
    elif not org:
        problem = "The organization id (org_id / C4W_ORG_ID) is missing."
    if problem:
        return Source(mode="demo", problem=problem)
    return Source(
        mode="live",
        org_id=org or "",
        base_url=base.rstrip("/"),
        token=token,
        client_key=key if has_login else None,
        client_secret=secret if has_login else None,
    )


def current_source() -> Source:
    """The configured source for this app (secrets + environment), registered for the caches."""
    source = source_from_settings(_secrets_section(), os.environ)
    if not source.is_demo:
        with _SOURCES_LOCK:
            _SOURCES[source.key] = source
    return source


def fetch_workers(environ: Mapping[str, str]) -> int:
    """Requests a live fetch keeps in flight, from ``C4W_FETCH_WORKERS`` (``c4w.sync``'s rule);
    a value that is not a whole number from 1 to 64 is logged and the default used."""
    from c4w import sync

    try:
        return sync.fetch_workers(environ)
    except ValueError as exc:
        log.warning("%s Using %d.", exc, sync.DEFAULT_FETCH_WORKERS)
        return sync.DEFAULT_FETCH_WORKERS


@st.cache_resource(show_spinner=False, max_entries=4)
def _client(source_key: str):
    """One HTTP client per live source, shared by every session (it re-logs in by itself)."""
    from c4w.client import Client

    source = _SOURCES[source_key]
    return Client(
        base_url=source.base_url,
        token=source.token,
        client_key=source.client_key,
        client_secret=source.client_secret,
        workers=fetch_workers(os.environ),
    )


def now() -> dt.datetime:
    """The current time (UTC); tests move it to try midnight and the settle time."""
    return dt.datetime.now(dt.UTC)


# --- the stores ----------------------------------------------------------------------------------
def store_root(environ: Mapping[str, str] | None = None) -> Path:
    """Where stores live: ``C4W_STORE_DIR``, or the store's default per-user data folder."""
    from c4w.store import store_dir

    return Path(store_dir(environ))


@dataclasses.dataclass(frozen=True)
class Handle:
    """One store of one source, and a stable id that names it in the memory cache."""

    store: Any  # c4w.store.EventStore
    id: str
    is_demo: bool
    built_at: dt.datetime | None = None  # demo: when its store was written


def demo_size() -> int | None:
    """Demo size from ``C4W_DEMO_EVENTS`` (None = the demo's default)."""
    raw = os.environ.get("C4W_DEMO_EVENTS", "").strip().replace("_", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


@st.cache_resource(show_spinner=False, max_entries=4)
def _live_store(source_key: str, root: str) -> Handle:
    from c4w.store import EventStore

    source = _SOURCES[source_key]
    store = EventStore(Path(root), source.org_id)
    return Handle(store, f"live:{source_key}:{root}", is_demo=False)


@st.cache_resource(show_spinner="Preparing the demo organization…", max_entries=2)
def _demo_store(n_events: int | None, root: str, day: dt.date) -> Handle:
    """The demo organization's store of this size for ``day`` (its 90 days end this day),
    written once when it is not there yet; older days' demo stores of this size are removed."""
    from c4w.store import EventStore, StoreBusy

    folder = demo_store_folder(Path(root), n_events, day)
    store = EventStore(folder, DEMO_ORG_ID)
    waited = time.monotonic()
    while not _demo_built(store, day):
        try:
            _write_demo(store, n_events)
        except StoreBusy:  # another server process is writing it: wait for that one
            if time.monotonic() - waited > 900:
                raise
            time.sleep(1.0)
            continue
        if not _demo_built(store, day):  # a demo ending before ``day`` would be rewritten forever
            raise RuntimeError(f"the demo organization was written but does not reach {day}")
    _remove_older_demos(folder)
    built = store.last_updated() or now()
    return Handle(store, f"demo:{folder}", is_demo=True, built_at=built)


def demo_store_folder(root: Path, n_events: int | None, day: dt.date) -> Path:
    """The folder of the demo store of this size whose 90 days end on ``day``."""
    size = n_events if n_events is not None else "default"
    return root / f"{size}-{day:%Y%m%d}"


def _demo_built(store: Any, day: dt.date) -> bool:
    """Whether the demo store is whole: its contacts and then its days are written oldest
    first, so its last day is there only when everything is (a store an older build wrote
    without contacts or guest numbers is written again)."""
    from c4w.store.contacts import contacts_path
    from c4w.store.guests import GUEST_NO

    span = store.span()
    whole = span is not None and span[1] >= day and contacts_path(store).exists()
    return whole and store.guest_key() == GUEST_NO


def _write_demo(store: Any, n_events: int | None) -> None:
    """Generate the demo organization and write it into ``store`` one UTC day at a time (the
    whole demo is never one parsed frame in memory)."""
    from c4w import demo
    from c4w.store.demo import write_demo_store

    this_hour = now().replace(minute=0, second=0, microsecond=0)
    write_demo_store(store, demo.build_demo(n_events, end=this_hour))


def _remove_older_demos(folder: Path) -> None:
    import shutil

    size = folder.name.rsplit("-", 1)[0]
    for other in folder.parent.glob(f"{size}-*"):
        if other != folder and other.is_dir():
            shutil.rmtree(other, ignore_errors=True)


def demo_store_root(environ: Mapping[str, str] | None = None) -> Path:
    """Where the demo's stores live: beside the other things the demo keeps on disk
    (``C4W_CACHE_DIR``, default ``~/.cache/c4w-dashboard``), since it can always be made again;
    live stores, which cannot, live under ``C4W_STORE_DIR``."""
    environ = os.environ if environ is None else environ
    raw = str(environ.get(CACHE_ENV, "")).strip()
    folder = Path(raw).expanduser() if raw else Path.home() / ".cache" / "c4w-dashboard"
    return folder / "demo-store"


def store_of(source: Source) -> Handle:
    """The store ``source`` reads from (the demo's is written on first use)."""
    if source.is_demo:
        return _demo_store(demo_size(), str(demo_store_root()), now().date())
    return _live_store(source.key, str(store_root()))


# --- frames in memory: one cache for every session, bounded in bytes -----------------------------
def memory_budget(environ: Mapping[str, str] | None = None) -> int:
    """Bytes of events the cache may keep (``C4W_MEMORY_MB``, default 256 MB)."""
    environ = os.environ if environ is None else environ
    raw = str(environ.get(MEMORY_ENV, "")).strip()
    megabytes = int(raw) if raw.isdigit() else DEFAULT_MEMORY_MB
    return megabytes * 2**20


def frame_bytes(frame: pd.DataFrame) -> int:
    """Memory held by ``frame`` (category lists and text included)."""
    return int(frame.memory_usage(index=True, deep=True).sum())


def _day_marks(states: Mapping[dt.date, Any], start: dt.date, end: dt.date) -> tuple:
    """What the store holds for ``start..end``: (day, fetched at, events) of each stored day.
    A cached frame is good while this is unchanged."""
    out = []
    day = start
    while day <= end:
        state = states.get(day)
        if state is not None:
            out.append((day, getattr(state, "fetched_at", None), getattr(state, "events", None)))
        day += dt.timedelta(days=1)
    return tuple(out)


@dataclasses.dataclass
class _Entry:
    store_id: str
    start: dt.date
    end: dt.date
    frame: pd.DataFrame
    marks: tuple
    nbytes: int
    types: frozenset[str] | None = None  # the event types it holds (None: every type)
    columns: frozenset[str] | None = None  # the columns it holds (None: every column)

    def holds(self, types: frozenset[str] | None, columns: frozenset[str] | None = None) -> bool:
        """Whether this entry holds every event of ``types`` (None: of every type) with every
        one of ``columns`` (None: every column)."""
        has_types = self.types is None or (types is not None and types <= self.types)
        has_columns = self.columns is None or (columns is not None and columns <= self.columns)
        return has_types and has_columns


class RangeCache:
    """Events of day ranges read from stores, least recently used first out, never more than
    ``budget`` bytes in all. A frame larger than the budget is handed out but not kept."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._entries: collections.OrderedDict[tuple, _Entry] = collections.OrderedDict()
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(e.nbytes for e in self._entries.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def covering(
        self,
        store_id: str,
        start: dt.date,
        end: dt.date,
        states: Mapping[dt.date, Any],
        types: frozenset[str] | None = None,
        columns: frozenset[str] | None = None,
    ) -> _Entry | None:
        """A cached range of ``store_id`` holding ``start..end`` (every event of ``types``
        with ``columns``; None: of every type, every column) whose days the store has not
        changed since; stale ones are dropped on the way."""
        with self._lock:
            for key, entry in list(self._entries.items()):
                if entry.store_id != store_id:
                    continue
                if entry.marks != _day_marks(states, entry.start, entry.end):
                    del self._entries[key]
                    continue
                if entry.start <= start and end <= entry.end and entry.holds(types, columns):
                    self._entries.move_to_end(key)
                    return entry
        return None

    def neighbours(
        self,
        store_id: str,
        start: dt.date,
        end: dt.date,
        types: frozenset[str] | None = None,
        columns: frozenset[str] | None = None,
    ) -> list[_Entry]:
        """Cached ranges of ``store_id`` holding the same event types and columns that overlap
        or touch ``start..end``."""
        one = dt.timedelta(days=1)
        with self._lock:
            return [
                e
                for e in self._entries.values()
                if e.store_id == store_id
                and e.types == types
                and e.columns == columns
                and e.start <= end + one
                and start <= e.end + one
            ]

    def add(self, entry: _Entry) -> None:
        """Keep ``entry`` (dropping the cached ranges it holds), then trim to the budget."""
        if entry.nbytes > self.budget:
            return
        with self._lock:
            for key, other in list(self._entries.items()):
                if (
                    other.store_id == entry.store_id
                    and entry.start <= other.start
                    and other.end <= entry.end
                    and entry.holds(other.types, other.columns)
                ):
                    del self._entries[key]
            key = (entry.store_id, entry.start, entry.end, entry.types, entry.columns)
            self._entries[key] = entry
            total = sum(e.nbytes for e in self._entries.values())
            while total > self.budget and len(self._entries) > 1:
                _, dropped = self._entries.popitem(last=False)
                total -= dropped.nbytes


_CACHE = RangeCache(memory_budget())
_READ_LOCKS: dict[str, threading.Lock] = collections.defaultdict(threading.Lock)


def _days_of(frame: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Rows of a time-ordered ``frame`` on UTC days ``start..end``: a slice, not a copy."""
    times = frame[schema.CREATED_AT]
    values = times.to_numpy(dtype="datetime64[ns]") if len(frame) else np.array([], "M8[ns]")
    lo = np.datetime64(dt.datetime.combine(start, dt.time()), "ns")
    hi = np.datetime64(dt.datetime.combine(end + dt.timedelta(days=1), dt.time()), "ns")
    i, j = np.searchsorted(values, [lo, hi], side="left")
    return frame.iloc[int(i) : int(j)]


def _within_history(
    states: Mapping[dt.date, Any], start: dt.date, end: dt.date
) -> tuple[dt.date, dt.date]:
    """``start..end`` cut to the days the store holds (later than ``end`` when it holds none
    of them): days outside the history have no events, so a range reaching past it is served
    by the cached days it does hold instead of being read again."""
    if not states:
        return end + dt.timedelta(days=1), end
    return max(start, min(states)), min(end, max(states))


def read_days(
    handle: Handle,
    start: dt.date,
    end: dt.date,
    types: Sequence[str] | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Events of UTC days ``start..end`` from ``handle``'s store (only of ``types`` when
    given; only ``columns``, in that order, when given), in time order, read-only.

    Served from the memory cache when a cached range holds these days, types and columns;
    otherwise read from the store (only the rows of ``types``, only ``columns``), together
    with the cached ranges of the same types and columns it overlaps or touches when their
    union fits the budget, so overlapping ranges end up as one copy."""
    kind = None if types is None else frozenset(types)
    held = None if columns is None else _columns_kept(columns)
    states = handle.store.day_states()
    start, end = _within_history(states, start, end)
    if start > end:
        frame = empty_events_frame()
        return frame if columns is None else frame[list(columns)]
    entry = _CACHE.covering(handle.id, start, end, states, kind, held)
    if entry is None:
        with _READ_LOCKS[handle.id]:  # two sessions asking for the same days read them once
            states = handle.store.day_states()
            entry = _CACHE.covering(handle.id, start, end, states, kind, held)
            if entry is None:
                entry = _read_entry(handle, start, end, states, kind, held)
                _CACHE.add(entry)
    frame = _days_of(entry.frame, start, end)
    if entry.types != kind:
        frame = of_types(frame, sorted(kind or ()))
    return frame if columns is None else frame[list(columns)]  # a view of the columns: no copy


def _columns_kept(columns: Sequence[str]) -> frozenset[str]:
    """The columns a cached range read for ``columns`` holds: those, and the time and type
    every cached range is sliced and narrowed by."""
    return frozenset(columns) | {schema.CREATED_AT, schema.TYPE}


def _read_entry(
    handle: Handle,
    start: dt.date,
    end: dt.date,
    states: Mapping[dt.date, Any],
    kind: frozenset[str] | None,
    held: frozenset[str] | None = None,
) -> _Entry:
    lo, hi = _union(handle.id, start, end, states, kind, held)
    types = None if kind is None else sorted(kind)
    names = None if held is None else sorted(held)
    frame = _sorted_by_time(handle.store.read(lo, hi, columns=names, types=types))
    marks = _day_marks(states, lo, hi)
    return _Entry(handle.id, lo, hi, frame, marks, frame_bytes(frame), types=kind, columns=held)


def _union(
    store_id: str,
    start: dt.date,
    end: dt.date,
    states: Mapping[dt.date, Any],
    types: frozenset[str] | None = None,
    columns: frozenset[str] | None = None,
) -> tuple[dt.date, dt.date]:
    """``start..end`` widened to the cached ranges of the same types and columns it overlaps
    or touches, while the estimated size of the whole stays within the budget."""
    lo, hi = start, end
    neighbours = _CACHE.neighbours(store_id, start, end, types, columns)
    for entry in sorted(neighbours, key=lambda e: e.nbytes):
        if not len(entry.frame):
            continue
        per_event = entry.nbytes / len(entry.frame)
        a, b = min(lo, entry.start), max(hi, entry.end)
        events = sum(getattr(s, "events", 0) or 0 for d, s in states.items() if a <= d <= b)
        if events * per_event <= _CACHE.budget:
            lo, hi = a, b
    return lo, hi


# --- figures computed over a store, kept while its days are unchanged ---------------------------
_FIGURES: collections.OrderedDict[tuple, Any] = collections.OrderedDict()
_FIGURES_LOCK = threading.Lock()
_COMPUTING: dict[tuple, concurrent.futures.Future] = {}  # figures under way, by key
_STOPPED = object()  # what waiters of a figure get when its computation was stopped
MAX_FIGURES = 256


def store_figure(function: Callable[..., Any], store: Any, *args: Any, **kwargs: Any) -> Any:
    """``function(store, *args, **kwargs)``, remembered until any stored day of ``store``
    changes (the arguments are dates, ids and other small values: they are the key). What it
    returns is shared between callers: they must not change it. A figure being computed (for
    another session) is waited for, not computed twice."""
    key = _figure_key(function, store, args, kwargs)
    with _FIGURES_LOCK:
        found = key in _FIGURES
        if found:
            _FIGURES.move_to_end(key)
            result = _FIGURES[key]
        pending = None if found else _COMPUTING.get(key)
        mine = not found and pending is None
        if mine:
            pending = _COMPUTING[key] = concurrent.futures.Future()
    if found:
        memo.KEPT.used(("store figure", key))
        return result
    if not mine:
        result = pending.result()
        if result is _STOPPED:  # its session stopped it (a rerun): compute it here
            return store_figure(function, store, *args, **kwargs)
        memo.KEPT.used(("store figure", key))
        return result
    try:
        result = function(store, *args, **kwargs)
    except BaseException as error:
        with _FIGURES_LOCK:
            del _COMPUTING[key]
        if isinstance(error, Exception):
            pending.set_exception(error)
        else:
            pending.set_result(_STOPPED)
        raise
    memo.name_result(result, ("store figure", key))  # a figure made from it hashes nothing
    with _FIGURES_LOCK:
        _FIGURES[key] = result
        del _COMPUTING[key]
        extra = []
        while len(_FIGURES) > MAX_FIGURES:
            extra.append(("store figure", _FIGURES.popitem(last=False)[0]))
    memo.KEPT.dropped(extra)
    memo.KEPT.add(("store figure", key), result, functools.partial(_forget_figure, key))
    pending.set_result(result)
    return result


def _figure_key(function: Callable[..., Any], store: Any, args: tuple, kwargs: dict) -> tuple:
    """What names a store figure: the function, the store and the state of its days, and the
    arguments."""
    states = store.day_states()
    marks = _day_marks(states, min(states), max(states)) if states else ()
    return (
        function.__module__,
        function.__qualname__,
        str(store.root),
        store.org_id,
        marks,
        _hashable(args),
        _hashable(sorted(kwargs.items())),
    )


def _forget_figure(key: tuple) -> None:
    with _FIGURES_LOCK:
        _FIGURES.pop(key, None)


def _hashable(value: Any) -> Any:
    if isinstance(value, tuple):
        try:
            hash(value)  # no list inside: as it is (a tuple can hold every guest's id)
            return value
        except TypeError:
            pass
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    return value


@st.cache_resource(show_spinner="Preparing the demo guests…", max_entries=2)
def _demo_contacts(root: str) -> pd.DataFrame:
    """The contacts the demo store under ``root`` keeps, read once per process (read-only,
    shared)."""
    from c4w.store import EventStore
    from c4w.store.contacts import read_contacts

    return memo.name_frame(read_contacts(EventStore(Path(root), DEMO_ORG_ID)), ("contacts", root))


def _sorted_by_time(frame: pd.DataFrame) -> pd.DataFrame:
    """Events in ``created_at`` order (missing times last), so date ranges are cheap slices."""
    if frame[schema.CREATED_AT].is_monotonic_increasing:
        return frame
    return frame.sort_values(schema.CREATED_AT, kind="stable", na_position="last").reset_index(
        drop=True
    )


# --- topping up a live store ---------------------------------------------------------------------
class FetchCounter:
    """Receives a fetch's progress reports (from any thread): the latest counts of events, pages
    and days, and when they last moved (a fetch whose counts stop moving is not answered)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events = 0
        self.pages = 0
        self.days_done = 0
        self.days_total = 0
        self.retry_at: float | None = None  # while rate limited: when the next try starts
        self.changed = time.monotonic()

    def __call__(self, progress: Any) -> None:
        seen = {
            name: int(getattr(progress, name, 0) or 0)
            for name in ("events", "pages", "days_done", "days_total")
        }
        retry_at = getattr(progress, "retry_at", None)
        with self._lock:
            moved = any(seen[name] > getattr(self, name) for name in seen)
            if moved or (retry_at is not None and retry_at != self.retry_at):
                self.changed = time.monotonic()  # a page, or an answer asking to wait
            for name, value in seen.items():
                setattr(self, name, max(getattr(self, name), value))
            self.retry_at = retry_at

    def waiting(self) -> bool:
        """Whether the API has asked to wait and the next try has not started yet."""
        return self.retry_at is not None and self.retry_at > time.time()


class NotAnsweringError(errors.NotAnsweringError):
    """A fetch into the store got nothing back from the API for ``NO_ANSWER_S`` seconds."""

    default_hint = (
        "The figures shown are from the days already stored. Try again in a minute with "
        "Refresh data; if it keeps happening, check the network and the API address."
    )


@dataclasses.dataclass
class Job:
    """A fetch into a store running on its own thread, which any session may watch."""

    kind: str  # "top-up" (the days a view needs) or "backfill" (older history)
    start: dt.date
    end: dt.date
    counter: FetchCounter = dataclasses.field(default_factory=FetchCounter)
    started: float = dataclasses.field(default_factory=time.monotonic)
    done: threading.Event = dataclasses.field(default_factory=threading.Event)
    stop: threading.Event = dataclasses.field(default_factory=threading.Event)
    error: BaseException | None = None
    days_done: int = 0
    days_total: int = 0

    @property
    def running(self) -> bool:
        return not self.done.is_set()

    def silent_for(self) -> float:
        """Seconds since the API last answered a page of this fetch (or since it started)."""
        return time.monotonic() - max(self.started, self.counter.changed)

    @property
    def stalled(self) -> bool:
        return self.running and self.silent_for() > NO_ANSWER_S and not self.counter.waiting()


_JOBS: dict[tuple[str, str], Job] = {}
_JOBS_LOCK = threading.Lock()
_TOPPED_UP: dict[tuple[str, dt.date], float] = {}  # (store, day) -> when this process fetched it


def running_job(handle: Handle, kind: str) -> Job | None:
    """The fetch of this kind running into ``handle``'s store, if any."""
    with _JOBS_LOCK:
        job = _JOBS.get((handle.id, kind))
    return job if job is not None and job.running else None


@dataclasses.dataclass(frozen=True)
class Plan:
    """What a view of ``start..end`` needs from its store: the days it lacks (nothing to show
    for them until fetched), the stored days still to be settled, and the fetch that brings them
    (None when nothing is being fetched)."""

    handle: Handle
    start: dt.date
    end: dt.date
    missing: tuple[dt.date, ...]
    unsettled: tuple[dt.date, ...]
    job: Job | None

    @property
    def must_wait(self) -> bool:
        """Whether the view has nothing to show for some of its days until the fetch ends."""
        return bool(self.missing) and self.job is not None


def plan_view(source: Source, start: dt.date, end: dt.date, *, refresh: bool = False) -> Plan:
    """Check the store for ``start..end`` and start fetching what it lacks (live mode).

    Days the store does not hold are always fetched. Stored days not yet settled are fetched
    again when this process last did so ``TOP_UP_EVERY_S`` ago or more, or on ``refresh``;
    meanwhile the view shows what is stored. Never waits: the returned plan says whether the
    view must wait for ``plan.job``."""
    handle = store_of(source)
    if handle.is_demo:
        return Plan(handle, start, end, (), (), None)
    store = handle.store
    wanted = list(store.missing_days(start, end, now()))
    states = store.day_states()
    missing = tuple(d for d in wanted if d not in states)
    unsettled = tuple(d for d in wanted if d in states)
    clock = time.monotonic()
    due = list(missing) + [
        d
        for d in unsettled
        if refresh or clock - _TOPPED_UP.get((handle.id, d), -1e18) >= TOP_UP_EVERY_S
    ]
    job = running_job(handle, "top-up")
    if job is None and due:
        job = _start(handle, "top-up", min(due), max(due), _client(source.key), _top_up)
    return Plan(handle, start, end, missing, unsettled, job)


def _start(
    handle: Handle,
    kind: str,
    start: dt.date,
    end: dt.date,
    client: Any,
    work: Callable[[Handle, Job, Any], None],
) -> Job:
    """Start ``work`` on its own thread unless a job of this kind already runs (then that one)."""
    with _JOBS_LOCK:
        job = _JOBS.get((handle.id, kind))
        if job is not None and job.running:
            return job
        job = Job(kind, start, end)
        _JOBS[(handle.id, kind)] = job

    def run() -> None:
        try:
            work(handle, job, client)
        except BaseException as exc:  # kept for whoever watches; never half a day in the store
            job.error = exc
        finally:
            job.done.set()

    threading.Thread(target=run, name=f"c4w-{kind}", daemon=True).start()
    return job


def _sync(handle: Handle, client: Any, start: dt.date, end: dt.date, job: Job) -> None:
    from c4w import sync

    sync.sync(client, handle.store, start, end, now=now(), progress=job.counter, wait_s=SYNC_WAIT_S)


def _top_up(handle: Handle, job: Job, client: Any) -> None:
    _sync(handle, client, job.start, job.end, job)
    finished = time.monotonic()
    day = job.start
    while day <= job.end:
        _TOPPED_UP[(handle.id, day)] = finished
        day += dt.timedelta(days=1)


def wait_for(job: Job, on_wait: Callable[[Job], None] | None = None) -> None:
    """Wait for ``job``, calling ``on_wait(job)`` every quarter second; re-raise its error.

    Raises ``NotAnsweringError`` as soon as the API has answered nothing for ``NO_ANSWER_S``
    (the fetch may go on in the background; whoever waits for it next is told at once)."""
    while not job.done.wait(0.25):
        if job.stalled:
            raise NotAnsweringError(
                f"Cloud4Wi is not answering: no reply for {job.silent_for():.0f} seconds."
            )
        if on_wait is not None:
            on_wait(job)
    if job.error is not None:
        raise job.error


def start_backfill(source: Source, today: dt.date) -> Job | None:
    """Fetch the live history back to ``BACKFILL_DAYS`` before ``today`` in the background, a
    week at a time, newest first (None when the store already reaches that far or demo)."""
    handle = store_of(source)
    if handle.is_demo:
        return None
    first = today - dt.timedelta(days=BACKFILL_DAYS - 1)
    span = handle.store.span()
    end = (span[0] - dt.timedelta(days=1)) if span is not None else today
    if end < first:
        return None
    return _start(handle, "backfill", first, end, _client(source.key), _backfill)


def backfill_offer(source: Source, today: dt.date) -> tuple[dt.date, int] | None:
    """(oldest day, days to fetch) that ``start_backfill`` would fetch, or None."""
    if source.is_demo:
        return None
    span = store_of(source).store.span()
    first = today - dt.timedelta(days=BACKFILL_DAYS - 1)
    end = (span[0] - dt.timedelta(days=1)) if span is not None else today
    return (first, (end - first).days + 1) if end >= first else None


def _backfill(handle: Handle, job: Job, client: Any) -> None:
    job.days_total = (job.end - job.start).days + 1
    hi = job.end
    while hi >= job.start and not job.stop.is_set():
        lo = max(job.start, hi - dt.timedelta(days=BACKFILL_CHUNK_DAYS - 1))
        _sync(handle, client, lo, hi, job)
        job.days_done += (hi - lo).days + 1
        hi = lo - dt.timedelta(days=1)


# --- what the UI calls ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Loaded:
    """Events read for a view, and when the data was last written (shown as "data as of")."""

    events: pd.DataFrame
    as_of: dt.datetime | None


def read_view(source: Source, start: dt.date, end: dt.date) -> Loaded:
    """Events of UTC days ``start..end`` as the store holds them now (no fetch)."""
    handle = store_of(source)
    as_of = handle.built_at if handle.is_demo else handle.store.last_updated()
    return Loaded(read_days(handle, start, end), as_of)


def read_types(
    source: Source,
    start: dt.date,
    end: dt.date,
    types: Sequence[str] | None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Events of ``types`` only (None: every type), with ``columns`` only when given, of UTC
    days ``start..end``, as the store holds them now (no fetch): from the memory cache when a
    cached range holds these days, types and columns, else from the store with only those rows
    and columns read (and kept in the cache), so a narrow look at a long history (every
    geofence event ever, say) never holds the whole history in memory."""
    return read_days(store_of(source), start, end, types, columns)


def history_name(
    source: Source,
    start: dt.date,
    end: dt.date,
    location_ids: Sequence[str] = (),
    types: Sequence[str] = (),
    columns: Sequence[str] = (),
) -> tuple:
    """A name for the events of ``start..end`` at ``location_ids`` of ``types`` (with
    ``columns``; none: every column) that only the same events share: which store, which days
    in which state, which filters."""
    handle = store_of(source)
    marks = _day_marks(handle.store.day_states(), start, end)
    filters = (tuple(location_ids), tuple(sorted(types)), tuple(columns))
    return ("history", handle.id, marks, start, end, *filters)


def of_types(events: pd.DataFrame, types: Sequence[str]) -> pd.DataFrame:
    """The rows of ``events`` whose type is one of ``types``."""
    return events.loc[events[schema.TYPE].isin(list(types)).to_numpy()]


def history_span(source: Source) -> tuple[dt.date, dt.date] | None:
    """First and last UTC day the store of ``source`` holds (None when empty)."""
    return store_of(source).store.span()


def last_updated(source: Source) -> dt.datetime | None:
    """When the store of ``source`` was last written."""
    handle = store_of(source)
    return handle.built_at if handle.is_demo else handle.store.last_updated()


def load_events(
    source: Source,
    start: dt.date,
    end: dt.date,
    types: tuple[str, ...] | None = None,
    on_wait: Callable[[Job], None] | None = None,
) -> Loaded:
    """Events from ``start`` to ``end`` (inclusive UTC days), fetching what the store lacks
    first (live) and waiting for it. Demo: the whole stored demo history. ``types`` keeps only
    those event types."""
    if source.is_demo:
        span = history_span(source)
        if span is not None:
            start, end = span
    plan = plan_view(source, start, end)
    if plan.job is not None:
        wait_for(plan.job, on_wait)
    loaded = read_view(source, start, end)
    if types:
        kept = loaded.events[loaded.events[schema.TYPE].isin(list(types)).to_numpy()]
        return Loaded(kept, loaded.as_of)
    return loaded


def day_states_frame(source: Source) -> pd.DataFrame:
    """The store's sync state, one row per stored day (``c4w.metrics.quality.STATE_COLUMNS``)."""
    from c4w.metrics.quality import STATE_COLUMNS

    states = store_of(source).store.day_states()
    rows = [tuple(getattr(s, name, None) for name in STATE_COLUMNS) for s in states.values()]
    return pd.DataFrame(rows, columns=list(STATE_COLUMNS))


def unsettled_days(source: Source, start: dt.date, end: dt.date) -> list[dt.date]:
    """Days of ``start..end`` the store lacks or has not settled (none for the demo)."""
    handle = store_of(source)
    if handle.is_demo:
        return []
    return list(handle.store.missing_days(start, end, now()))


@st.cache_resource(show_spinner=False, max_entries=2)
def _demo_locations(n_events: int | None) -> pd.DataFrame:
    from c4w import demo

    return demo.demo_locations_frame()


@st.cache_data(ttl=LOCATIONS_TTL_S, max_entries=8, show_spinner=False)
def _fetch_locations(source_key: str, org_id: str) -> pd.DataFrame:
    return _client(source_key).locations(org_id)


@st.cache_resource(ttl=CONTACTS_TTL_S, max_entries=4, show_spinner="Fetching contacts…")
def _fetch_contacts(source_key: str, org_id: str) -> pd.DataFrame:
    """Every contact of the org (one read-only frame shared by every session). Raises C4WError
    on failure, so nothing half-fetched is kept."""
    fetched = _client(source_key).contacts(org_id)
    return memo.name_frame(fetched, ("contacts", source_key, org_id, time.time_ns()))


@st.cache_data(ttl=EVENTS_TTL_S, max_entries=MAX_CACHED_CONTACTS, show_spinner=False)
def _fetch_contact(
    source_key: str, org_id: str, contact_id: str, start: dt.date | None, end: dt.date | None
) -> pd.DataFrame:
    return _client(source_key).contact_events(org_id, contact_id, start=start, end=end)


def load_locations(source: Source) -> pd.DataFrame:
    """The locations frame (``schema.LOCATION_COLUMNS``)."""
    if source.is_demo:
        return _demo_locations(demo_size())
    return _fetch_locations(source.key, source.org_id)


def load_contacts(source: Source) -> pd.DataFrame:
    """Who each guest is: the contacts frame (``c4w.contacts.CONTACT_COLUMNS``). Demo: the demo
    guests; live: the Contacts endpoint, cached for ``CONTACTS_TTL_S``, or the copy in the
    history store when Cloud4Wi cannot be asked. Raises C4WError when neither is there."""
    if source.is_demo:
        return _demo_contacts(str(store_of(source).store.root))
    from c4w.errors import C4WError

    try:
        return _fetch_contacts(source.key, source.org_id)
    except C4WError:
        stored = _stored_contacts(source.org_id)
        if stored is None or stored.empty:
            raise
        return stored  # the list the last sync kept, while Cloud4Wi cannot be asked


def _stored_contacts(org_id: str) -> pd.DataFrame | None:
    """The contacts ``python -m c4w sync`` last kept in the history store (None without one)."""
    from c4w.store import EventStore, store_dir
    from c4w.store.contacts import read_contacts

    try:
        return read_contacts(EventStore(store_dir(), org_id))
    except (ValueError, OSError):
        return None


def load_contact_events(
    source: Source, contact_id: str, start: dt.date | None = None, end: dt.date | None = None
) -> pd.DataFrame:
    """One contact's events: from the contact endpoint in live mode, from the whole stored
    history for the demo (only that guest's rows are read)."""
    if source.is_demo:
        store = store_of(source).store
        span = store.span()
        if span is None:
            return empty_events_frame()
        first, last = start or span[0], end or span[1]
        return store_figure(_stored_contact_events, store, first, last, contact_id)
    return _fetch_contact(source.key, source.org_id, contact_id, start, end)


def _stored_contact_events(
    store: Any, first: dt.date, last: dt.date, contact_id: str
) -> pd.DataFrame:
    """The rows of one contact among the stored days ``first..last``, in time order."""
    return _sorted_by_time(store.read(first, last, contact_ids=[contact_id]))


def refresh(
    source: Source | None = None, start: dt.date | None = None, end: dt.date | None = None
) -> Plan | None:
    """Fetch again the days of ``start..end`` that are not settled (this view's recent days),
    in the background; nothing else is forgotten, for this session or any other. Without a
    range there is nothing to forget: a failed fetch is never kept, so the next view asks again.
    """
    if source is None or start is None or end is None:
        return None
    return plan_view(source, start, end, refresh=True)


def forget_memory() -> None:
    """Drop every frame and figure kept in memory (the stores stay as they are), and every
    remembered result (``c4w.metrics.memo``)."""
    _CACHE.clear()
    with _FIGURES_LOCK:
        keys = [("store figure", key) for key in _FIGURES]
        _FIGURES.clear()
    memo.KEPT.dropped(keys)
    memo.forget()
