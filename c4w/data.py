"""Where the dashboard's data comes from: the demo organization or a live Cloud4Wi account.

The one module (with ``c4w.ui``) that knows about Streamlit caching:
- demo mode builds the demo frame once per process (``st.cache_resource``) and slices it by date;
- live mode fetches through ``c4w.Client`` inside ``st.cache_resource`` (ttl, bounded entries):
  one read-only frame per range shared by every session, like the demo frame (``st.cache_data``
  would unpickle a copy for every script run, one per concurrent session). Keyed
  on small arguments: an opaque source key, the org id, the dates and the event types. The token
  and client secret never reach a cache key, a message or the screen: cached functions look the
  credentials up in a process-local registry by the opaque key.
A fetch that fails raises out of the cached function, so nothing half-fetched is ever stored.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import hashlib
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd
import streamlit as st

from c4w import schema

DEFAULT_BASE_URL = "https://explore.cloud4wi.com"
EVENTS_TTL_S = 600  # live events are refetched after 10 minutes
LOCATIONS_TTL_S = 3600
MAX_CACHED_FETCHES = 12  # bound on cached live ranges (each may hold a large frame)
MAX_CACHED_CONTACTS = 64
CONTACTS_TTL_S = 1800  # the contacts list (names, consents) is refetched after 30 minutes


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
    )


# --- demo ----------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Loaded:
    """A loaded events frame with the time it was fetched (shown as "data as of")."""

    events: pd.DataFrame
    as_of: dt.datetime


def demo_size() -> int | None:
    """Demo size from ``C4W_DEMO_EVENTS`` (None = the demo's default)."""
    raw = os.environ.get("C4W_DEMO_EVENTS", "").strip().replace("_", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


@st.cache_resource(show_spinner="Preparing the demo organization…", max_entries=2)
def _demo(n_events: int | None) -> Loaded:
    """The demo frame, built once per process and shared by every session (read-only)."""
    from c4w import demo

    frame = _sorted_by_time(demo.demo_events_frame(n_events))
    return Loaded(frame, dt.datetime.now(dt.UTC))


@st.cache_resource(show_spinner=False, max_entries=2)
def _demo_locations(n_events: int | None) -> pd.DataFrame:
    from c4w import demo

    return demo.demo_locations_frame()


@st.cache_resource(show_spinner="Preparing the demo guests…", max_entries=2)
def _demo_contacts(n_events: int | None) -> pd.DataFrame:
    """The demo's contacts frame, built once per process (read-only, shared)."""
    from c4w import demo

    return demo.demo_contacts_frame(n_events)


def _sorted_by_time(frame: pd.DataFrame) -> pd.DataFrame:
    """Events in ``created_at`` order (missing times last), so date ranges are cheap slices."""
    if frame[schema.CREATED_AT].is_monotonic_increasing:
        return frame
    return frame.sort_values(schema.CREATED_AT, kind="stable", na_position="last").reset_index(
        drop=True
    )


# --- live ----------------------------------------------------------------------------------------
ProgressCallback = Callable[[Any], None]


@st.cache_resource(ttl=EVENTS_TTL_S, max_entries=MAX_CACHED_FETCHES, show_spinner=False)
def _fetch_events(
    source_key: str,
    org_id: str,
    start: dt.date,
    end: dt.date,
    types: tuple[str, ...] | None,
    _progress: ProgressCallback | None = None,
) -> Loaded:
    """Every event of the org from ``start`` to ``end`` (UTC days, inclusive). Raises C4WError on
    failure, so a failed or partial fetch is never cached."""
    client = _client(source_key)
    frame = client.org_events(
        org_id, start=start, end=end, types=list(types) if types else None, progress=_progress
    )
    return Loaded(_sorted_by_time(frame), dt.datetime.now(dt.UTC))


@st.cache_data(ttl=LOCATIONS_TTL_S, max_entries=8, show_spinner=False)
def _fetch_locations(source_key: str, org_id: str) -> pd.DataFrame:
    return _client(source_key).locations(org_id)


@st.cache_resource(ttl=CONTACTS_TTL_S, max_entries=4, show_spinner="Fetching contacts…")
def _fetch_contacts(source_key: str, org_id: str) -> pd.DataFrame:
    """Every contact of the org (one read-only frame shared by every session). Raises C4WError
    on failure, so nothing half-fetched is kept."""
    return _client(source_key).contacts(org_id)


@st.cache_data(ttl=EVENTS_TTL_S, max_entries=MAX_CACHED_CONTACTS, show_spinner=False)
def _fetch_contact(
    source_key: str, org_id: str, contact_id: str, start: dt.date | None, end: dt.date | None
) -> pd.DataFrame:
    return _client(source_key).contact_events(org_id, contact_id, start=start, end=end)


# --- what the UI calls ---------------------------------------------------------------------------
class FetchCounter:
    """Receives the client's progress reports (from any thread) and keeps the latest counts."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.events = 0
        self.pages = 0
        self.retry_at: float | None = None  # while rate limited: when the next try starts

    def __call__(self, progress: Any) -> None:
        with self._lock:
            self.events = max(self.events, int(getattr(progress, "events", 0) or 0))
            self.pages = max(self.pages, int(getattr(progress, "pages", 0) or 0))
            self.retry_at = getattr(progress, "retry_at", None)


def load_events(
    source: Source,
    start: dt.date,
    end: dt.date,
    types: tuple[str, ...] | None = None,
    on_wait: Callable[[FetchCounter], None] | None = None,
) -> Loaded:
    """Events from ``start`` to ``end`` (inclusive UTC days). Demo: the whole demo frame (the
    caller slices it); live: exactly that range, cached.

    A live fetch runs in a worker thread while this thread calls ``on_wait(counter)`` every
    quarter second (to draw a progress bar): no Streamlit element is drawn inside the cached
    function, so a cache hit replays nothing. Errors propagate, and nothing is cached then.
    """
    if source.is_demo:
        return _demo(demo_size())
    counter = FetchCounter()
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="c4w-fetch") as pool:
        future = pool.submit(
            _fetch_events, source.key, source.org_id, start, end, types, _progress=counter
        )
        while True:
            try:
                return future.result(timeout=0.25)
            except concurrent.futures.TimeoutError:
                if on_wait is not None:
                    on_wait(counter)


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
        return _demo_contacts(demo_size())
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
    """One contact's events from the contact endpoint (live mode only)."""
    return _fetch_contact(source.key, source.org_id, contact_id, start, end)


def refresh() -> None:
    """Forget every cached live fetch so the next view asks the API again."""
    _fetch_events.clear()
    _fetch_locations.clear()
    _fetch_contact.clear()
    _fetch_contacts.clear()
