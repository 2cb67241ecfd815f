"""The shared frame of every page: filters, the page context, tables, downloads, errors.

Pages use it like this (the shared sidebar has already run in ``app.py``)::

    ctx = ui.page_context()
    ui.show_table(rows, ctx=ctx)
    ui.download_csv(rows, what="visits", ctx=ctx)

Filters live in the page address so a filtered view can be shared as a link:
``?range=7d`` (``today``, ``7d``, ``30d``, ``90d``) or
``?range=custom&start=2024-05-01&end=2024-05-31``, plus ``&loc=<location id>`` once per chosen
location. The Contact page reads ``?contact=<id>`` (see ``contact_id_from_url``). A bad value in
a link gives a short warning and a harmless default.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import os
import threading
import time
import urllib.parse
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, NoReturn

import numpy as np
import pandas as pd
import streamlit as st

from c4w import audience, data, export, formatting, launch, memory, schema
from c4w import contacts as contact_frame
from c4w.errors import NotAnsweringError
from c4w.metrics import attribution, comparison, memo, stores
from c4w.metrics.overview import Kpi, metric_kwargs
from c4w.queries import campaigns as campaigns_sql
from c4w.queries import history as history_sql

# --- filters -------------------------------------------------------------------------------------
PRESETS: dict[str, str] = {
    "today": "Today",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "custom": "Custom",
}
PRESET_DAYS = {"today": 1, "7d": 7, "30d": 30, "90d": 90}
DEFAULT_PRESET = "30d"
MAX_RANGE_DAYS = 366  # longer ranges are cut to their last 366 days
OLDEST_YEARS = 5  # how far back a custom range may start
MAX_CONTACT_ID_CHARS = 200
MAX_LOCATIONS_IN_LINK = 500  # location ids a link may name, counted over every `loc` value
DOT_SEGMENTS = (".", "..")  # ids no contact can have: an address drops them as path segments

RANGE_PARAM, START_PARAM, END_PARAM, LOCATION_PARAM = "range", "start", "end", "loc"
COMPARE_PARAM = "vs"
CONTACT_PARAM = "contact"
FILTER_PARAMS = (RANGE_PARAM, START_PARAM, END_PARAM, LOCATION_PARAM, COMPARE_PARAM)
CONTACT_PAGE_PATH = "contact"  # url path of pages/contact.py (set in app.py)

# session keys of the sidebar widgets
_K_RANGE, _K_DATES, _K_LOCS, _K_REVEAL = "flt_range", "flt_dates", "flt_locations", "flt_reveal"
_K_CUSTOM, _K_SEEDED, _K_NOTES, _K_STATE = "_flt_custom", "_flt_seeded", "_flt_notes", "_flt_state"
_K_COMPARE = "flt_compare"
_K_URL_WRITTEN, _K_URL_PAGE = "_url_written", "_url_page"


@dataclasses.dataclass(frozen=True)
class Filters:
    """What the sidebar selects: a preset or custom date range (UTC days, inclusive) and
    locations (empty = all)."""

    preset: str
    start: dt.date
    end: dt.date
    location_ids: tuple[str, ...] = ()
    compare: str = comparison.DEFAULT_COMPARISON  # what change figures compare with

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def utc_today() -> dt.date:
    """Today's date in UTC, the calendar the filters use."""
    return dt.datetime.now(dt.UTC).date()


def oldest_day(today: dt.date) -> dt.date:
    """The earliest day a custom range may start: OLDEST_YEARS before today (29 Feb -> 28 Feb)."""
    day = 28 if (today.month, today.day) == (2, 29) else today.day
    return today.replace(year=today.year - OLDEST_YEARS, day=day)


def preset_range(preset: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """``("7d", 2024-05-31)`` -> ``(2024-05-25, 2024-05-31)``: the last N days including today."""
    days = PRESET_DAYS.get(preset, PRESET_DAYS[DEFAULT_PRESET])
    return today - dt.timedelta(days=days - 1), today


def previous_period(start: dt.date, end: dt.date) -> tuple[dt.date, dt.date]:
    """The period of equal length just before ``start..end`` (for change-against figures)."""
    length = (end - start).days + 1
    return start - dt.timedelta(days=length), start - dt.timedelta(days=1)


def _parse_day(text: str) -> dt.date | None:
    text = text.strip()
    if len(text) != 10:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _values(params: Mapping[str, object], name: str) -> list[str]:
    raw = params.get(name)
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else list(raw)  # type: ignore[arg-type]
    return [str(v) for v in items]


def check_range(start: dt.date, end: dt.date, today: dt.date) -> tuple[dt.date, dt.date, list[str]]:
    """Make a custom range harmless: in order, not after today, not older than OLDEST_YEARS,
    at most MAX_RANGE_DAYS long. Returns the range and what was changed, in plain words."""
    notes: list[str] = []
    if end < start:
        start, end = end, start
        notes.append("The date range ended before it started, so the two dates were swapped.")
    if end > today:
        end = today
        notes.append("The date range reached into the future; it now ends today.")
        if start > end:
            start = end
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        start = end - dt.timedelta(days=MAX_RANGE_DAYS - 1)
        notes.append(
            f"The date range was longer than {MAX_RANGE_DAYS} days; showing its last "
            f"{MAX_RANGE_DAYS} days (from {start:%d %b %Y})."
        )
    oldest = oldest_day(today)
    if end < oldest:
        start, end = preset_range(DEFAULT_PRESET, today)
        notes.append(
            f"Dates more than {OLDEST_YEARS} years back aren't offered; showing the last 30 days."
        )
    elif start < oldest:
        start = oldest
        notes.append(f"Dates before {oldest:%d %b %Y} aren't offered; the range starts there.")
    return start, end, notes


def parse_url_filters(
    params: Mapping[str, object],
    today: dt.date,
    known_location_ids: Collection[str] | None = None,
) -> tuple[Filters, list[str]]:
    """Read the filters of a shared link. Returns the filters to use and a warning per bad value
    (unknown preset, bad or reversed dates, too long a range, locations that no longer exist).
    Never raises; a bad value falls back to the default (last 30 days, all locations)."""
    notes: list[str] = []
    ranges = _values(params, RANGE_PARAM)
    starts, ends = _values(params, START_PARAM), _values(params, END_PARAM)
    preset = ranges[0].strip().lower() if ranges else ""
    if not preset:
        preset = "custom" if (starts or ends) else DEFAULT_PRESET
    if preset not in PRESETS:
        notes.append(
            "The link asks for a date range this dashboard doesn't know; showing the last 30 days."
        )
        preset = DEFAULT_PRESET
    if preset == "custom":
        start = _parse_day(starts[0]) if starts else None
        end = _parse_day(ends[0]) if ends else None
        if start is None or end is None:
            notes.append(
                "The link's start or end date isn't a date like 2024-05-31; "
                "showing the last 30 days."
            )
            preset = DEFAULT_PRESET
            start, end = preset_range(preset, today)
        else:
            start, end, more = check_range(start, end, today)
            notes.extend(more)
    else:
        start, end = preset_range(preset, today)

    wanted = _location_ids_in_link(_values(params, LOCATION_PARAM))
    if len(wanted) > MAX_LOCATIONS_IN_LINK:
        wanted = wanted[:MAX_LOCATIONS_IN_LINK]
        notes.append(
            f"The link names more than {MAX_LOCATIONS_IN_LINK:,} locations; only the first "
            f"{MAX_LOCATIONS_IN_LINK:,} are used."
        )
    if known_location_ids is not None:
        known = set(known_location_ids)
        missing = [w for w in wanted if w not in known]
        if missing:
            wanted = [w for w in wanted if w in known]
            rest = "the other chosen locations" if wanted else "all locations"
            gone = (
                "1 location in the link no longer exists"
                if len(missing) == 1
                else f"{len(missing)} locations in the link no longer exist"
            )
            notes.append(f"{gone} in this account; showing {rest}.")
    compares = _values(params, COMPARE_PARAM)
    compare = compares[0].strip().lower() if compares else comparison.DEFAULT_COMPARISON
    if compare not in comparison.COMPARISONS:
        notes.append(
            "The link asks for a comparison this dashboard doesn't know; comparing with the "
            "previous period."
        )
        compare = comparison.DEFAULT_COMPARISON
    return Filters(preset, start, end, tuple(wanted), compare), notes


def _location_ids_in_link(values: Sequence[str]) -> list[str]:
    """The location ids of the link's ``loc`` values (each may hold several, comma-separated),
    in order without repeats, and at most one more than MAX_LOCATIONS_IN_LINK (so the caller
    can tell the link held too many without reading the rest)."""
    wanted: dict[str, None] = {}  # a dict keeps the order and finds repeats at once
    for raw in values:
        for part in raw.split(","):
            part = part.strip()
            if part:
                wanted[part] = None
                if len(wanted) > MAX_LOCATIONS_IN_LINK:
                    return list(wanted)
    return list(wanted)


def filters_to_params(filters: Filters) -> dict[str, str | list[str]]:
    """The page-address parameters that reproduce ``filters`` (the inverse of parsing)."""
    params: dict[str, str | list[str]] = {RANGE_PARAM: filters.preset}
    if filters.preset == "custom":
        params[START_PARAM] = filters.start.isoformat()
        params[END_PARAM] = filters.end.isoformat()
    if filters.location_ids:
        params[LOCATION_PARAM] = list(filters.location_ids)
    if filters.compare != comparison.DEFAULT_COMPARISON:
        params[COMPARE_PARAM] = filters.compare
    return params


def clean_contact_id(text: object) -> tuple[str | None, str | None]:
    """A contact id typed or taken from a link, made safe: ``(id, None)`` when usable, else
    ``(None, reason)``. Spaces around it and control characters are dropped; ids longer than
    MAX_CONTACT_ID_CHARS are refused. The id is only ever used as data (the client URL-encodes
    it), so ``../`` or ``/`` cannot change which address is asked."""
    if not isinstance(text, str):
        return None, None
    cleaned = "".join(ch for ch in text if ch.isprintable()).strip()
    if not cleaned:
        return None, None
    if len(cleaned) > MAX_CONTACT_ID_CHARS:
        return None, f"That contact id is too long (over {MAX_CONTACT_ID_CHARS} characters)."
    return cleaned, None


def slice_events(
    events: pd.DataFrame,
    start: dt.date,
    end: dt.date,
    location_ids: Sequence[str] = (),
) -> pd.DataFrame:
    """Rows with ``created_at`` on UTC days ``start..end`` (inclusive) and, when
    ``location_ids`` is not empty, at one of those locations. Does not change ``events``."""
    lo = np.datetime64(dt.datetime.combine(start, dt.time()), "ns")
    hi = np.datetime64(dt.datetime.combine(end + dt.timedelta(days=1), dt.time()), "ns")
    times = events[schema.CREATED_AT]
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    values = times.to_numpy()
    valid = int(times.notna().sum())
    head = values[:valid]
    # events are kept in time order (missing times last): then the range is a cheap slice
    in_order = bool((head[1:] >= head[:-1]).all()) if valid > 1 else True
    if in_order and valid == len(values) or (in_order and times.iloc[valid:].isna().all()):
        i, j = np.searchsorted(head, [lo, hi], side="left")
        part = events.iloc[int(i) : int(j)]
    else:
        part = events[(values >= lo) & (values < hi)]
    if location_ids:
        part = part[part[schema.LOCATION_ID].isin(list(location_ids)).to_numpy()]
    return part


# --- the page context ----------------------------------------------------------------------------
def history_span(events: pd.DataFrame) -> tuple[dt.date, dt.date] | None:
    """First and last UTC day with an event in ``events`` (None when it has no timed event)."""
    times = events[schema.CREATED_AT].dropna()
    if times.empty:
        return None
    return times.min().date(), times.max().date()


@dataclasses.dataclass
class PageContext:
    """Everything a page needs, already filtered by the sidebar.

    The events are read from the store only when a page first asks for them (``events``,
    ``previous``, ``all_events``): a page that computes its figures in SQL over the store
    (``store``) never holds the range in memory."""

    read_loaded: Callable[[], pd.DataFrame] = dataclasses.field(repr=False)
    locations: pd.DataFrame  # schema.LOCATION_COLUMNS
    start: dt.date
    end: dt.date
    location_ids: list[str]
    reveal_personal: bool
    is_demo: bool
    as_of: dt.datetime | None = None
    source: data.Source | None = dataclasses.field(default=None, repr=False)
    stale: bool = False  # the recent days are being fetched again; the figures are the last ones
    not_fetched: tuple[dt.date, ...] = ()  # days of this view the store does not hold

    _frames: dict[str, pd.DataFrame] = dataclasses.field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def all_events(self) -> pd.DataFrame:
        """Only what this view reads (the previous period and the chosen dates, every
        location); for anything else use history() and history_span."""
        if "all" not in self._frames:
            self._frames["all"] = self.read_loaded()
        return self._frames["all"]

    @property
    def events(self) -> pd.DataFrame:
        """The chosen dates at the chosen locations."""
        if "events" not in self._frames:
            self._frames["events"] = slice_events(
                self.all_events, self.start, self.end, self.location_ids
            )
        return self._frames["events"]

    @property
    def previous(self) -> pd.DataFrame:
        """The same locations over the previous period of equal length."""
        if "previous" not in self._frames:
            first, last = previous_period(self.start, self.end)
            self._frames["previous"] = slice_events(self.all_events, first, last, self.location_ids)
        return self._frames["previous"]

    @property
    def store(self):
        """The history store the figures come from (a ``c4w.store.EventStore``; None for a
        context built from frames alone)."""
        return None if self.source is None else data.store_of(self.source).store

    @property
    def filters(self) -> Filters:
        state = st.session_state.get(_K_STATE)
        preset = state.preset if isinstance(state, Filters) else "custom"
        return Filters(preset, self.start, self.end, tuple(self.location_ids))

    @property
    def is_loaded(self) -> bool:
        """Whether ``all_events`` (the loaded span, every event type) is already in memory."""
        return "all" in self._frames

    @property
    def loaded_span(self) -> tuple[dt.date, dt.date]:
        """The UTC days ``all_events`` covers: the previous period and the chosen dates."""
        return previous_period(self.start, self.end)[0], self.end

    @property
    def history_span(self) -> tuple[dt.date, dt.date] | None:
        """The first and last UTC day the history holds (None when it holds nothing). Figures
        that look before or after the chosen dates may rely on these days only."""
        if self.source is None:
            return history_span(self.all_events)
        return data.history_span(self.source)

    def history(
        self,
        start: dt.date | None = None,
        end: dt.date | None = None,
        location_ids: Sequence[str] = (),
        types: Sequence[str] = (),
        columns: Sequence[str] = (),
    ) -> pd.DataFrame:
        """Events of UTC days ``start..end`` (inclusive; None = the history's own edge) from the
        whole history, not only the chosen dates, optionally at some locations, of some
        ``types`` only and with some ``columns`` only (in that order). Read from the store (what
        it holds; nothing is fetched for it), shared with every other view of the same days;
        with ``types`` or ``columns``, only those rows and columns are read. With ``types`` and
        no ``columns``, every column but the event id (``FIGURE_COLUMNS``: no figure reads it,
        and it is a quarter of a frame's memory); ``columns=schema.EVENT_COLUMNS`` has it."""
        if types and not columns:
            columns = FIGURE_COLUMNS
        span = self.history_span
        if span is None:
            return _columns(data.empty_events_frame(), columns)
        start, end = start or span[0], end or span[1]
        return self._read_history(start, end, location_ids, types, columns)

    def history_later(
        self,
        start: dt.date | None = None,
        end: dt.date | None = None,
        location_ids: Sequence[str] = (),
        types: Sequence[str] = (),
        columns: Sequence[str] = (),
    ) -> memo.Later:
        """``history(...)`` read only when it is first needed: a remembered figure given it
        finds its result by what it holds, so a rerun whose figures are all remembered reads
        nothing (``.frame`` reads it)."""
        span = self.history_span
        if self.source is None or span is None:
            frame = self.history(start, end, location_ids, types, columns)
            return memo.Later(("content", memo.frame_key(frame)), lambda: frame)
        if types and not columns:
            columns = FIGURE_COLUMNS
        start, end = start or span[0], end or span[1]
        name = data.history_name(self.source, start, end, location_ids, types, columns)
        return memo.Later(
            name, lambda: self._read_history(start, end, location_ids, types, columns)
        )

    def _read_history(
        self,
        start: dt.date,
        end: dt.date,
        location_ids: Sequence[str],
        types: Sequence[str],
        columns: Sequence[str],
    ) -> pd.DataFrame:
        first, last = self.loaded_span
        if self.source is None or (self.is_loaded and first <= start and end <= last):
            events = slice_events(self.all_events, start, end, location_ids)
            return _columns(data.of_types(events, types) if types else events, columns)
        if end < start:
            return _columns(data.empty_events_frame(), columns)
        if columns:
            # the time (and the place, to pick locations) are read too, to slice the days by
            read = (*columns, schema.CREATED_AT, *([schema.LOCATION_ID] if location_ids else []))
            wanted = list(dict.fromkeys(read))
            events = data.read_types(self.source, start, end, types or None, wanted)
        elif types:
            events = data.read_types(self.source, start, end, types)
        else:
            events = data.read_view(self.source, start, end).events
        name = data.history_name(self.source, start, end, location_ids, types, columns)
        part = _columns(slice_events(events, start, end, location_ids), columns)
        return memo.name_frame(part, name)


def _columns(events: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """``events`` with only ``columns`` (in that order; none: every column)."""
    if not columns or list(events.columns) == list(columns):
        return events
    return events[list(columns)]


# the columns of a page's history: every event column but the id, which only downloads show
FIGURE_COLUMNS = tuple(c for c in schema.EVENT_COLUMNS if c != schema.EVENT_ID)

_RUN = threading.local()  # the context of the script run in progress on this thread


def start_run() -> None:
    """A script run begins: the figures it uses are kept whatever they weigh, what earlier
    runs left makes room (``c4w.metrics.memo.KeptResults``)."""
    memo.start_run()


def begin_run(ctx: PageContext) -> None:
    """Make ``ctx`` the answer of ``page_context()`` for the rest of this script run."""
    _RUN.ctx = ctx


def end_run() -> None:
    """Drop the run's context so its frames are not kept alive between runs, and hand the
    memory the run freed back to the system."""
    _RUN.ctx = None
    _RUN.contacts_warned = False
    memory.give_back_freed()


def page_context() -> PageContext:
    """The context for the page being drawn: the one ``app.py`` built in this run, or (a page
    run on its own, or a fragment rerun) one built from the session's filters or the link."""
    ctx = getattr(_RUN, "ctx", None)
    if ctx is not None:
        return ctx
    if _legacy_pages_mode():
        # Streamlit's older pages-folder mode ran this page without app.py (it happens on the
        # first visit after the server starts, or in AppTest): run again through the router.
        _leave_legacy_pages_mode()
        st.rerun()
    source = data.current_source()
    state = st.session_state.get(_K_STATE)
    if not isinstance(state, Filters):
        state, _ = parse_url_filters(_url_params(), utc_today())
    return load_context(source, state, reveal=bool(st.session_state.get(_K_REVEAL, False)))


def _legacy_pages_mode() -> bool:
    """Whether Streamlit is running ``pages/*.py`` on its own (its pages-folder mode), which it
    does until ``st.navigation`` has been called once in the process."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - a Streamlit without that mode
        return False
    return bool(getattr(PagesManager, "uses_pages_directory", False))


def _leave_legacy_pages_mode() -> None:
    from streamlit.runtime.pages_manager import PagesManager

    PagesManager.uses_pages_directory = False


class _ProgressBar:
    """Draws a fetch's progress (days and events so far, seconds waited) in an ``st.progress``
    bar. It is redrawn every quarter second even when nothing moved, so a click in the sidebar
    (or on Cancel) interrupts the wait at once."""

    def __init__(self, placeholder) -> None:
        self._placeholder = placeholder

    def __call__(self, job: data.Job) -> None:
        counter = job.counter
        waited = time.monotonic() - job.started
        silent = job.silent_for()
        if counter.days_total:
            fraction = min(1.0, counter.days_done / counter.days_total)
            done = f"{counter.days_done} of {counter.days_total} days"
        else:  # no total yet: the bar approaches the end gradually
            fraction = min(0.95, 0.05 + counter.pages / (counter.pages + 4.0))
            done = f"{counter.pages} pages"
        text = f"Fetching events from Cloud4Wi… {counter.events:,} so far ({done}, {waited:.0f} s)"
        if counter.waiting():
            text = fetch_progress_text(counter.events, counter.pages, counter.retry_at, time.time())
        elif silent >= 5:
            text += f" · no answer for {silent:.0f} s"
        self._placeholder.progress(fraction, text=text)


_K_CANCELLED = "_data_cancelled"  # (source key, start, end) whose wait this session cancelled


def _cancel_wait(key: tuple) -> None:
    st.session_state[_K_CANCELLED] = key


def load_context(source: data.Source, filters: Filters, *, reveal: bool) -> PageContext:
    """Read the filters' days from the store (live: fetching first the days it lacks, with a
    progress bar and Cancel; recent days are refreshed in the background while the last
    figures stay on screen, marked stale) and filter them. Raises C4WError on API failure."""
    prev_start, _ = previous_period(filters.start, filters.end)
    key = (source.key, prev_start, filters.end)
    plan = data.plan_view(
        source, prev_start, filters.end, refresh=bool(st.session_state.pop(_K_REFRESH, False))
    )
    problem: BaseException | None = None
    if plan.must_wait:
        try:
            _wait_for_days_of(source, plan, key)
        except NotAnsweringError as exc:  # ours (no page for a while) or the client's bound
            problem = exc
        plan = data.plan_view(source, prev_start, filters.end)
    locations = data.load_locations(source)
    stale = plan.job is not None and plan.job.running and not plan.missing
    ctx = PageContext(
        read_loaded=lambda: data.read_view(source, prev_start, filters.end).events,
        locations=locations,
        start=filters.start,
        end=filters.end,
        location_ids=list(filters.location_ids),
        reveal_personal=reveal,
        is_demo=source.is_demo,
        as_of=data.last_updated(source),
        source=source,
        stale=stale,
        not_fetched=plan.missing,
    )
    _data_notes(ctx, problem, cancelled=st.session_state.get(_K_CANCELLED) == key)
    return ctx


def _wait_for_days_of(source: data.Source, plan: data.Plan, key: tuple) -> None:
    if st.session_state.get(_K_CANCELLED) == key:
        return
    box = st.empty()
    with box.container():
        bar = st.empty()
        st.button(
            "Cancel",
            key="data_cancel",
            icon=":material/close:",
            on_click=_cancel_wait,
            args=(key,),
            help="Stop waiting and show the days already stored. The sidebar works meanwhile.",
        )
    try:
        for _ in range(3):  # a fetch of other days may be running first: then ours
            if plan.job is None or not plan.must_wait:
                break
            data.wait_for(plan.job, _ProgressBar(bar))
            plan = data.plan_view(source, plan.start, plan.end)
    finally:
        box.empty()


def _data_notes(ctx: PageContext, problem: BaseException | None, *, cancelled: bool) -> None:
    """Say above the page what the figures are missing: an API that does not answer, a
    cancelled fetch, days not fetched yet, or recent days being updated."""
    if problem is not None:
        st.error(error_message(problem), icon=":material/cloud_off:")
    elif cancelled and ctx.not_fetched:
        st.warning(
            f"Fetching was cancelled: {len(ctx.not_fetched)} of these days are not stored yet "
            "and show no events. Use Refresh data to fetch them.",
            icon=":material/pause_circle:",
        )
    if ctx.stale:
        as_of = f" stored at {ctx.as_of:%H:%M} UTC" if ctx.as_of else ""
        st.caption(
            f":material/update: Showing the figures{as_of}; the most recent days are being "
            "fetched again and the page updates when they arrive."
        )


# --- the sidebar ---------------------------------------------------------------------------------
def _location_names(locations: pd.DataFrame) -> dict[str, str]:
    if locations is None or locations.empty or "id" not in locations:
        return {}
    names = locations.get("name")
    ids = locations["id"].astype(str).tolist()
    labels = names.astype(object).tolist() if names is not None else ids
    out: dict[str, str] = {}
    for loc_id, name in zip(ids, labels, strict=False):
        out[loc_id] = str(name) if isinstance(name, str) and name.strip() else loc_id
    return out


CITY_CHOICE, TAG_CHOICE = "city:", "tag:"  # location filter choices that stand for a group


def location_group_choices(locations: pd.DataFrame) -> dict[str, tuple[str, list[str]]]:
    """The location filter's group choices: ``"city:Milano" -> ("City: Milano", [ids])`` for
    every city and ``"tag:downtown" -> ("Tag: downtown", [ids])`` for every tag."""
    out: dict[str, tuple[str, list[str]]] = {}
    for prefix, by, word in (
        (CITY_CHOICE, stores.BY_CITY, "City"),
        (TAG_CHOICE, stores.BY_TAG, "Tag"),
    ):
        if (
            locations is None
            or locations.empty
            or (by == stores.BY_CITY and "city" not in locations)
        ):
            continue
        for name, ids in stores.location_groups(locations, by).items():
            if name not in ("Unknown", "No tag"):
                out[prefix + name] = (f"{word}: {name}", ids)
    return out


def expand_location_choices(
    chosen: Sequence[str], groups: Mapping[str, tuple[str, list[str]]]
) -> tuple[str, ...]:
    """The location ids a filter choice stands for: ids as they are, each city or tag as its
    locations, in order and without repeats."""
    out: list[str] = []
    for choice in chosen:
        for loc_id in groups[choice][1] if choice in groups else [choice]:
            if loc_id not in out:
                out.append(loc_id)
    return tuple(out)


def _url_params() -> dict[str, list[str]]:
    """Every parameter of the page address, each as the list of its values."""
    return {name: st.query_params.get_all(name) for name in st.query_params.keys()}


def _seed_from_url(known_location_ids: Collection[str], today: dt.date) -> None:
    """Put the address's filters into the widgets (first run of a session, a reload, or Back),
    keeping the warnings."""
    state, notes = parse_url_filters(_url_params(), today, known_location_ids)
    st.session_state[_K_RANGE] = state.preset
    st.session_state[_K_CUSTOM] = (state.start, state.end)
    if state.preset == "custom":
        st.session_state[_K_DATES] = (state.start, state.end)
    st.session_state[_K_LOCS] = list(state.location_ids)
    st.session_state[_K_COMPARE] = state.compare
    st.session_state[_K_NOTES] = notes
    st.session_state[_K_SEEDED] = True
    # the widgets now show this address: a rerun before this run ends (a click while the page
    # waits for data) must keep the viewer's change, not seed from the address again
    st.session_state[_K_URL_WRITTEN] = _url_params()


def _on_range_change() -> None:
    """Switching to Custom starts from the range that was showing."""
    if st.session_state.get(_K_RANGE) == "custom":
        last = st.session_state.get(_K_STATE)
        if isinstance(last, Filters):
            st.session_state[_K_CUSTOM] = (last.start, last.end)
        st.session_state[_K_DATES] = st.session_state.get(_K_CUSTOM)
    st.session_state[_K_NOTES] = []


def _on_dates_change() -> None:
    st.session_state[_K_NOTES] = []


# --- the page address ----------------------------------------------------------------------------
# Every choice lives in the address: the sidebar's filters and each page's own choices
# (``url_choice``). The address is written once, at the end of a run, with only the values that
# differ from their defaults, so a first visit adds no history entry and a page change adds one
# (the browser's own). When the address changes from outside (a reload, a shared link, Back or
# Forward), its values are put back into the widgets.
class _Choice(NamedTuple):
    name: str
    key: str
    default: object
    to_text: object  # value -> list of address values


def _run_choices() -> list[_Choice]:
    choices = getattr(_RUN, "choices", None)
    if choices is None:
        choices = _RUN.choices = []
    return choices


def _address_changed_outside() -> bool:
    """Whether this run's address is not the one the dashboard last wrote, on the same page:
    the viewer reloaded, opened a link, or went Back or Forward."""
    return bool(getattr(_RUN, "from_outside", True))


def _note_address(page: str | None) -> None:
    """Called first in each run (by the sidebar): decide whether the address came from outside."""
    written = st.session_state.get(_K_URL_WRITTEN)
    last_page = st.session_state.get(_K_URL_PAGE)
    switched = page is not None and last_page is not None and page != last_page
    current = _url_params()
    # An empty address within a session is the one Streamlit pushes when the viewer changes
    # page (it drops the parameters before the run writes them back), also reached with Back:
    # it keeps the view the session has, it does not reset it.
    _RUN.from_outside = written is None or (current != written and not switched and bool(current))
    _RUN.choices = []
    if page is not None:
        st.session_state[_K_URL_PAGE] = page


def url_choice(
    name: str,
    key: str,
    default: object,
    *,
    options: Sequence[object] | None = None,
    many: bool = False,
    parse=str,
) -> None:
    """Tie the widget with session ``key`` to the address parameter ``name``: call it just
    before drawing the widget, without giving the widget a default of its own.

    The address value (``parse``-d; a list of values when ``many``) fills the widget when the
    address came from outside; one that is not among ``options`` is ignored. The widget's value
    goes into the address at the end of the run when it differs from ``default``.
    """
    if _address_changed_outside() or key not in st.session_state:
        raw = st.query_params.get_all(name) if name in st.query_params else []
        value: object = default
        try:
            if many and raw:
                items = [parse(r) for r in raw]
                value = [i for i in items if options is None or i in options] or default
            elif raw:
                item = parse(raw[0])
                value = item if options is None or item in options else default
        except (TypeError, ValueError):
            value = default
        st.session_state[key] = list(value) if many else value  # type: ignore[arg-type]
    elif options is not None and not many and st.session_state.get(key) not in options:
        st.session_state[key] = default  # the value left over no longer exists here

    def to_text(value: object) -> list[str]:
        return [str(v) for v in value] if many else [str(value)]  # type: ignore[union-attr]

    _run_choices().append(_Choice(name, key, list(default) if many else default, to_text))


def _wanted_address(filters: Filters) -> dict[str, list[str]]:
    """The address parameters of this run's view (defaults left out)."""
    wanted: dict[str, list[str]] = {}
    for name, value in filters_to_params(filters).items():
        if name == RANGE_PARAM and value == DEFAULT_PRESET:
            continue
        wanted[name] = value if isinstance(value, list) else [value]
    for choice in _run_choices():
        value = st.session_state.get(choice.key, choice.default)
        if value is not None and value != choice.default:
            wanted[choice.name] = choice.to_text(value)  # type: ignore[operator]
    return wanted


def write_address() -> dict[str, list[str]]:
    """Write this run's view into the page address in one step (``app.py`` calls it after the
    page ran) and return the address's parameters. Parameters this run does not manage (another
    page's choices, ``contact``) stay."""
    current = _url_params()
    filters = st.session_state.get(_K_STATE)
    if not isinstance(filters, Filters):
        return current
    params = _address_of_view(filters, current)
    if params != current:
        st.query_params.from_dict(params)
    st.session_state[_K_URL_WRITTEN] = params
    return params


def _address_of_view(filters: Filters, current: dict[str, list[str]]) -> dict[str, list[str]]:
    """The address of this run's view so far: ``current`` with the managed parameters (the
    filters, the choices drawn so far) set to their values."""
    managed = set(FILTER_PARAMS) | {c.name for c in _run_choices()}
    params = {k: v for k, v in current.items() if k not in managed}
    params.update(_wanted_address(filters))
    return params


def page_menu(sections: Mapping[str, Sequence[Any]]) -> None:
    """Draw the links to every page (``sections``: heading -> ``st.Page``s) at this point of
    the sidebar, which should be its top. Each link carries the page address's parameters, so
    a page change is one step in the browser's history and Back returns to the view before
    (Streamlit's own menu drops them and the run writes them back: two steps). ``finish_run``
    draws the links again when the run changed the address."""
    _RUN.menu = (st.sidebar.empty(), sections)
    _RUN.menu_params = None
    _draw_page_menu(_url_params())


def _draw_page_menu(params: dict[str, list[str]]) -> None:
    menu = getattr(_RUN, "menu", None)
    if menu is None or params == getattr(_RUN, "menu_params", None):
        return
    slot, sections = menu
    with slot.container(gap="small"):
        for heading, pages in sections.items():
            st.caption(f"**{heading.upper()}**")
            for page in pages:
                st.page_link(page, query_params=params)
    _RUN.menu_params = params


def finish_run() -> None:
    """The end of every run, a stopped one included: the view into the page address, and the
    page links carrying it."""
    _draw_page_menu(write_address())


def stop_page() -> NoReturn:
    """End the page's run here, its view written into the page address first: after a plain
    ``st.stop()`` Streamlit sends nothing more, so the address would keep the old view."""
    finish_run()
    st.stop()


def sidebar_filters(
    locations: pd.DataFrame, today: dt.date | None = None, page: str | None = None
) -> tuple[Filters, bool]:
    """Draw the date range, comparison, location and personal-data controls in the sidebar.

    Returns the chosen filters and whether emails/phones are revealed. Must run on every page
    (it is called from ``app.py``, with the page's address ``page``) so the filters hold across
    pages; ``write_address`` then keeps the page address in step.
    """
    today = today or utc_today()
    names = _location_names(locations)
    _note_address(page)
    if not st.session_state.get(_K_SEEDED) or _address_changed_outside():
        _seed_from_url(names.keys(), today)

    side = st.sidebar
    side.selectbox(
        "Dates",
        list(PRESETS),
        format_func=PRESETS.__getitem__,
        key=_K_RANGE,
        on_change=_on_range_change,
        help="Days are calendar days in UTC, the same for every store. Charts of hours use each "
        "store's own local time.",
    )
    preset = st.session_state.get(_K_RANGE, DEFAULT_PRESET)
    notes: list[str] = list(st.session_state.get(_K_NOTES) or [])
    if preset == "custom":
        custom = st.session_state.get(_K_CUSTOM) or preset_range(DEFAULT_PRESET, today)
        if _K_DATES not in st.session_state:
            st.session_state[_K_DATES] = custom
        oldest = oldest_day(today)
        picked = side.date_input(
            "From – to",
            min_value=oldest,
            max_value=today,
            key=_K_DATES,
            on_change=_on_dates_change,
            format="YYYY-MM-DD",
        )
        picked = tuple(d for d in (picked if isinstance(picked, Sequence) else (picked,)) if d)
        if len(picked) == 2:
            start, end, more = check_range(picked[0], picked[1], today)
            if more and not st.session_state.get(_K_NOTES):
                notes.extend(more)
            st.session_state[_K_CUSTOM] = (start, end)
        else:
            side.caption("Pick the last day of the range too.")
            start, end = custom
    else:
        start, end = preset_range(preset, today)
    days = (end - start).days + 1
    side.caption(f"{formatting.format_range(start, end)} ({formatting.days_text(days)}, UTC)")
    if st.session_state.get(_K_COMPARE) not in comparison.COMPARISONS:
        st.session_state[_K_COMPARE] = comparison.DEFAULT_COMPARISON
    side.selectbox(
        "Compare with",
        list(comparison.COMPARISONS),
        format_func=comparison.COMPARISONS.__getitem__,
        key=_K_COMPARE,
        help="What the small change figure under each number compares with: the period of the "
        "same length just before, the same days a week earlier (ranges of up to 7 days) or the "
        "same dates a year earlier. A change is shown only when the history holds every day "
        "compared; a range that ends today is compared up to the same time of day.",
    )

    # keep only locations that still exist (a shared link may name old ones)
    groups = location_group_choices(locations)
    options = {**names, **{key: label for key, (label, _ids) in groups.items()}}
    chosen = [c for c in st.session_state.get(_K_LOCS, []) if c in options]
    st.session_state[_K_LOCS] = chosen
    side.multiselect(
        "Locations",
        list(options),
        format_func=lambda loc_id: options.get(loc_id, loc_id),
        key=_K_LOCS,
        placeholder="All locations",
        help="Leave empty for all locations, or pick locations, whole cities (City: …) or tags "
        "(Tag: …). Geofence events belong to no WiFi location, so they are left out while "
        "locations are chosen.",
    )
    if may_reveal():
        reveal = side.toggle(
            "Show full emails and phone numbers",
            key=_K_REVEAL,
            help="Off: emails and phone numbers are masked on screen and in downloads "
            "(j***@example.com, ***1234).",
        )
    else:
        st.session_state[_K_REVEAL] = reveal = False
        side.caption(
            ":material/lock: Emails and phone numbers stay masked: this dashboard is open to "
            "the network without sign-in."
        )
    side.caption(
        ":material/link: The page address keeps these filters and the choices on each page: "
        "copy it to share this view."
    )
    compare = str(st.session_state.get(_K_COMPARE, comparison.DEFAULT_COMPARISON))
    location_ids = expand_location_choices(st.session_state.get(_K_LOCS, []), groups)
    filters = Filters(preset, start, end, location_ids, compare)
    st.session_state[_K_STATE] = filters
    _draw_page_menu(_address_of_view(filters, _url_params()))  # usable while the page waits
    for note in notes:
        st.warning(note, icon=":material/link_off:")
    return filters, bool(reveal)


def data_status(ctx: PageContext) -> None:
    """Sidebar footer: how far back the history goes and when it was last written, the
    fetches running (updating recent days, older history), a Refresh button and, in live mode,
    the offer to fetch older history in the background."""
    side = st.sidebar
    side.divider()
    source = ctx.source
    if ctx.as_of is not None:
        as_of = ctx.as_of.astimezone(dt.UTC)
        label = "Demo data built" if ctx.is_demo else "Data as of"
        side.caption(f"{label} {as_of:%d %b %Y, %H:%M} UTC")
    if source is None:
        return
    span = ctx.history_span
    if span is None:
        side.caption(":material/history: The history holds no events yet.")
    else:
        days = (span[1] - span[0]).days + 1
        side.caption(
            f":material/history: History from {span[0]:%d %b %Y} to {span[1]:%d %b %Y} "
            f"({days:,} days)"
        )
    handle = data.store_of(source)
    watching = {kind: data.running_job(handle, kind) is not None for kind in ("top-up", "backfill")}
    every = 1.0 if any(watching.values()) else None
    with side:
        st.fragment(_fetch_progress, run_every=every)(source, watching)
    side.button(
        "Refresh data",
        key="flt_refresh",
        icon=":material/refresh:",
        on_click=_ask_refresh,
        help="Demo data stays the same until the next day."
        if ctx.is_demo
        else "Fetch this view's recent days again from Cloud4Wi (days that are settled are "
        "kept: they do not change). Otherwise recent days are updated every 10 minutes.",
    )


_K_REFRESH = "_data_refresh"  # Refresh was clicked: the next load fetches recent days again


def _ask_refresh() -> None:
    st.session_state[_K_REFRESH] = True
    st.session_state.pop(_K_CANCELLED, None)


def _fetch_progress(source: data.Source, watching: dict[str, bool]) -> None:
    """The fetches running into this source's store, redrawn every second while one runs; when
    one this run saw running has finished, the whole page is drawn again with the new days."""
    handle = data.store_of(source)
    top_up = data.running_job(handle, "top-up")
    backfill = data.running_job(handle, "backfill")
    if (watching.get("top-up") and top_up is None) or (
        watching.get("backfill") and backfill is None
    ):
        st.rerun(scope="app")
    if top_up is not None:
        st.caption(
            f":material/sync: Updating {top_up.start:%d %b} – {top_up.end:%d %b}: "
            f"{top_up.counter.events:,} events so far"
        )
    if backfill is not None:
        total = max(1, backfill.days_total)
        st.progress(
            min(1.0, backfill.days_done / total),
            text=f"Fetching older history: {backfill.days_done:,} of {total:,} days",
        )
        return
    offer = data.backfill_offer(source, utc_today())
    if offer is not None and handle.store.span() is not None:
        first, days = offer
        st.button(
            "Fetch older history",
            key="data_backfill",
            icon=":material/history:",
            on_click=data.start_backfill,
            args=(source, utc_today()),
            help=f"Fetch the {days:,} days back to {first:%d %b %Y} in the background, a week "
            "at a time, newest first. The dashboard stays usable; views that reach further back "
            "get their figures from the stored history.",
        )


DEMO_NOTICE = (
    "**Demo data**: this is sample data from a made-up café chain, so you can try every view. "
    "To see your own guests, ask whoever runs this dashboard to connect your Cloud4Wi account."
)
CONNECT_STEPS = """1. In the Cloud4Wi dashboard, open **Manage > Developers > APIs** and create
   credentials for **API v3** with the role **Organization Manager**.
2. Give the dashboard the organization id, the client key and the client secret: in the
   `[c4w]` section of `.streamlit/secrets.toml` (`org_id`, `client_key`, `client_secret`), or
   as the environment variables `C4W_ORG_ID`, `C4W_CLIENT_KEY` and `C4W_CLIENT_SECRET`.
3. Restart the dashboard. This notice goes away and the sidebar says *Data as of* instead of
   *Demo data built*."""


def demo_banner(source: data.Source) -> None:
    """A notice for the marketer that this is sample data and whom to ask, with the steps for
    whoever runs the dashboard behind an expander."""
    if source.problem:
        st.warning(
            "Cloud4Wi credentials are set but incomplete, so demo data is shown. " + source.problem,
            icon=":material/key_off:",
        )
    elif source.is_demo:
        st.info(DEMO_NOTICE, icon=":material/science:")
    else:
        return
    with st.expander("For whoever runs this dashboard: connecting a Cloud4Wi account"):
        st.markdown(CONNECT_STEPS)


def missing_page_note(requested: str | None, known_paths: Collection[str]) -> str | None:
    """A short note when the address asks for a page that does not exist (the Overview is
    shown instead); None when the page exists or none was asked for."""
    if not requested:
        return None
    name = requested.strip("/")
    if not name or name in known_paths:
        return None
    # only plain names are repeated on screen: the address is typed by anyone
    plain = len(name) <= 60 and all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in name)
    what = f"There is no page called “{name}”" if plain else "The address names no page"
    return f"{what}, so the Overview is shown instead. Pick a page on the left."


def requested_page() -> str | None:
    """The page name the address asked for in this run (None when it asked for none)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    run = get_script_run_ctx()
    manager = getattr(run, "pages_manager", None) if run is not None else None
    name = getattr(manager, "intended_page_name", None)
    return str(name) if name else None


def glossary_popover() -> None:
    """The glossary, one click away in the sidebar on every page."""
    from c4w.glossary import glossary_markdown

    with st.sidebar.popover("What the words mean", icon=":material/menu_book:"):
        st.markdown(glossary_markdown())


# --- sign-in -------------------------------------------------------------------------------------
def _auth_settings() -> Mapping[str, object] | None:
    try:
        auth = st.secrets.get("auth")
    except Exception:
        return None
    return auth if isinstance(auth, Mapping) and auth else None


def _listening_address() -> str:
    """The address the server listens on ("" for every interface, Streamlit's default)."""
    return str(st.get_option("server.address") or "")


def _open_on_purpose() -> bool:
    return os.environ.get(launch.ALLOW_OPEN_ENV, "").strip() == "1"


def serving_problem(address: str, signs_in: bool, allow_open: bool) -> str | None:
    """Why the dashboard refuses to show data when served on ``address`` (None when it may):
    beyond this computer it needs sign-in (``[auth]``) or an explicit open choice."""
    return launch.exposure_problem(address, signs_in=signs_in, allow_open=allow_open)


def reveal_allowed(address: str, signs_in: bool, signed_in: bool) -> bool:
    """Whether the viewer may switch on full emails and phone numbers: a signed-in visitor when
    sign-in is configured; without it, only on a dashboard served to this computer alone."""
    return signed_in if signs_in else launch.is_loopback(address)


def may_reveal() -> bool:
    """``reveal_allowed`` for this session."""
    signs_in = _auth_settings() is not None
    signed_in = bool(signs_in and st.user.is_logged_in)
    return reveal_allowed(_listening_address(), signs_in, signed_in)


def require_sign_in() -> None:
    """With an ``[auth]`` section in secrets, stop here until the visitor has signed in through
    ``st.login`` (OpenID Connect). Without one the dashboard stays open on this computer
    (``server.address`` 127.0.0.1, the default in ``.streamlit/config.toml``); served beyond it,
    it shows nothing unless it was started open on purpose (``C4W_ALLOW_OPEN``, set by
    ``python -m c4w.launch --allow-open``)."""
    auth = _auth_settings()
    if auth is None:
        problem = serving_problem(_listening_address(), False, _open_on_purpose())
        if problem:
            st.title("Guest analytics")
            st.error(problem, icon=":material/lock:")
            st.stop()
        return
    if st.user.is_logged_in:
        who = st.user.get("email") or st.user.get("name") or "signed in"
        st.sidebar.caption(f"Signed in: {export.escape_markdown(who)}")
        st.sidebar.button("Sign out", key="auth_logout", on_click=st.logout)
        return
    providers = [name for name, value in auth.items() if isinstance(value, Mapping)]
    provider = None if "client_id" in auth or not providers else providers[0]
    st.title("Guest analytics")
    st.write("This dashboard holds guests' personal data. Sign in with your work account.")
    st.button(
        "Sign in",
        type="primary",
        key="auth_login",
        on_click=st.login,
        args=(provider,) if provider else (),
    )
    st.stop()


# --- headline figures, tables, downloads, errors -------------------------------------------------
def _personal_safe(df: pd.DataFrame, reveal: bool) -> pd.DataFrame:
    return df if reveal else export.mask_personal(df)


def md_text(value: object, ctx: PageContext | None = None) -> str:
    """Text from event data for an element that renders Markdown (metric labels and values,
    st.markdown, captions, st.info/warning, tab, expander and button labels, radio and
    segmented-control options): emails and phone numbers in it masked unless the viewer
    revealed them, then every Markdown character escaped, so it shows exactly as typed (never
    an image, a link, an HTML comment or a formula). Empty for None or a missing value."""
    reveal = bool(ctx.reveal_personal) if ctx is not None else False
    return export.escape_markdown(value if reveal else export.mask_free_text(value))


def download_csv(
    df: pd.DataFrame | Callable[[], pd.DataFrame],
    what: str = "data",
    ctx: PageContext | None = None,
    key: str | None = None,
    label: str | None = None,
    readable: bool = False,
    rows: int | None = None,
) -> None:
    """A download button for ``df`` as a spreadsheet-safe CSV named after ``what`` and the dates.

    Emails and phone numbers are masked unless the viewer revealed them. With ``readable``,
    the file has headers in the user's words, event labels and rounded numbers
    (``formatting.csv_ready``, after masking). The label says how many rows the file holds. The
    file is made only when the button is clicked, in chunks through a temporary file on disk,
    and Streamlit's in-memory copy of it is dropped soon after it is served (``_drop_served``).
    ``df`` may be a function that reads the rows (then only on a click), with their number
    ``rows``.
    """
    reveal = bool(ctx.reveal_personal) if ctx is not None else False
    start = ctx.start if ctx is not None else None
    end = ctx.end if ctx is not None else None

    def make() -> bytes:
        _drop_served_later()
        frame = df() if callable(df) else df
        if readable:  # mask first: csv_ready renames the personal columns
            file = export.csv_file(formatting.csv_ready(_personal_safe(frame, reveal)))
        else:
            file = export.csv_file(frame, reveal_personal=reveal)
        with file:  # the only whole copy in memory is the one Streamlit serves
            return file.read()

    rows = len(df) if rows is None else rows
    count = f"{rows:,} row" + ("" if rows == 1 else "s")
    if label and f"{rows:,}" not in label:
        label = f"{label} · {count}"
    st.download_button(
        label or f"Download CSV ({count})",
        data=make,
        file_name=export.csv_file_name(what, start, end),
        mime="text/csv",
        key=key or f"download_{what}",
        icon=":material/download:",
        on_click="ignore",
        help="Opens in Excel or Google Sheets. Cells that look like formulas are kept as text.",
    )


SERVED_DOWNLOAD_KEPT_S = 60.0  # a generated CSV stays in Streamlit's memory about this long


def _drop_served_later(delay: float = SERVED_DOWNLOAD_KEPT_S) -> threading.Timer:
    """In ``delay`` seconds, drop the downloads no session refers to any more from Streamlit's
    in-memory file store. Streamlit keeps a generated download (the whole file, as bytes) until
    two of its clean-ups have passed, which a session that only clicks downloads never
    triggers; the browser fetches a file as soon as it is generated, so a minute later it has
    been served (files that pages show are referred to by their sessions and stay)."""

    def drop() -> None:
        try:
            from streamlit import runtime

            if runtime.exists():
                files = runtime.get_instance().media_file_mgr
                files.remove_orphaned_files()  # marks unreferenced downloads ...
                files.remove_orphaned_files()  # ... and deletes them
        except Exception:  # a clean-up must never break a page
            pass

    timer = threading.Timer(delay, drop)
    timer.daemon = True
    timer.start()
    return timer


class Download(NamedTuple):
    """One button of ``download_row``: the rows, what they are (for the file name), the
    button's key and its label."""

    df: pd.DataFrame | Callable[[], pd.DataFrame]  # a function: read only on a click
    what: str
    key: str
    label: str
    readable: bool = False  # headers in the user's words (see ``download_csv``)
    rows: int | None = None  # how many rows, when ``df`` is a function


def download_row(ctx: PageContext, *downloads: Download) -> None:
    """CSV download buttons side by side, one column each (each as ``download_csv``)."""
    for column, item in zip(st.columns(len(downloads)), downloads, strict=True):
        with column:
            download_csv(
                item.df,
                what=item.what,
                ctx=ctx,
                key=item.key,
                label=item.label,
                readable=item.readable,
                rows=item.rows,
            )


def data_until(ctx: PageContext, day: dt.date | None = None) -> dt.datetime | None:
    """How far the data reaches on ``day`` (default: the last chosen day): its latest event
    (UTC), else the time the data was fetched. A range that ends today is compared up to this
    time of day."""
    day = day or ctx.end
    first, last = ctx.loaded_span
    if ctx.store is not None and not (ctx.is_loaded and first <= day <= last):
        return store_figure(history_sql.latest_event, day, store=ctx.store) or ctx.as_of
    last_day = ctx.history(day, day)
    times = last_day[schema.CREATED_AT].dropna() if len(last_day) else None
    if times is not None and len(times):
        latest = times.max()
        return latest.to_pydatetime() if latest.tzinfo else latest.tz_localize("UTC")
    return ctx.as_of


def data_end(ctx: PageContext) -> dt.datetime | None:
    """The latest moment the history holds (its last event), else when the data was fetched."""
    span = ctx.history_span
    return data_until(ctx, span[1]) if span is not None else ctx.as_of


def store_figure(function: Callable[..., Any], *args: Any, store: Any, **kwargs: Any) -> Any:
    """``function(store, *args, **kwargs)`` (a figure of ``c4w.queries``), remembered while the
    store's days are unchanged (see ``data.store_figure``)."""
    return data.store_figure(function, store, *args, **kwargs)


def chosen_comparison(ctx: PageContext, lookback_days: int = 0) -> comparison.Comparison:
    """The comparison chosen in the sidebar for the page's dates (see ``compare_with``)."""
    state = st.session_state.get(_K_STATE)
    kind = state.compare if isinstance(state, Filters) else comparison.DEFAULT_COMPARISON
    return comparison.comparison_period(
        ctx.start,
        ctx.end,
        kind,
        now=data_until(ctx),
        span=ctx.history_span,
        lookback_days=lookback_days,
    )


def compare_with(
    ctx: PageContext,
    lookback_days: int = 0,
    types: Sequence[str] = (),
    columns: Sequence[str] = (),
) -> tuple[comparison.Comparison, memo.Later | None]:
    """The comparison chosen in the sidebar for the page's dates, and its events (same
    locations; up to the same time of day when the dates end today; only of ``types`` and with
    only ``columns`` when given, as ``PageContext.history``), read from the history when a
    figure not remembered needs them (``memo.Later``). The events are None when the history
    does not hold every comparison day (and, with ``lookback_days``, that many days before
    them)."""
    found = chosen_comparison(ctx, lookback_days)
    if not found.usable or found.start is None or found.end is None:
        return found, None
    events = ctx.history_later(found.start, found.end, ctx.location_ids, types, columns)
    until = found.until
    return found, events.then(lambda frame: comparison.before_moment(frame, until), "before", until)


def kpi_help(kpi: Kpi, compared: comparison.Comparison | None) -> str:
    """A tile's help: its definition, then what its change figure compares with (or why it
    has none)."""
    parts = [kpi.help]
    if compared is not None:
        if kpi.change is not None:
            parts.append(compared.describe())
        elif kpi.note:
            parts.append(kpi.note)
        elif not compared.usable:
            parts.append(compared.reason or "")
    return "\n\n".join(p for p in parts if p)


def show_kpis(
    kpis: Sequence[Kpi],
    per_row: int | None = None,
    compared: comparison.Comparison | None = None,
) -> None:
    """Headline figures as bordered tiles, ``per_row`` to a row (all in one row by default),
    each with its change against ``compared`` (green when it is good news for that figure) and
    its definition and comparison dates on hover."""
    per_row = per_row or len(kpis)
    for first in range(0, len(kpis), per_row):
        row = kpis[first : first + per_row]
        for column, kpi in zip(st.columns(per_row)[: len(row)], row, strict=True):
            kwargs = metric_kwargs(kpi)
            kwargs["help"] = kpi_help(kpi, compared)
            column.metric(**kwargs, border=True)


def comparison_caption(compared: comparison.Comparison) -> str:
    """One line under the tiles: what the change figures compare with, or why there are none."""
    if compared.usable:
        return compared.describe()
    return compared.reason or "No change figures."


_LINK_COLUMN = "_contact_page"
MISSING_TEXT = "—"  # what an empty cell shows on screen (the CSV keeps it empty)


def number_formats(df: pd.DataFrame) -> dict[str, object]:
    """Column formats that write numbers one way on screen: whole numbers with thousands
    separators (1,260), other numbers with separators and at most three decimals, and columns
    whose name ends in "(%)" as percentages with one decimal (41.2%)."""
    config: dict[str, object] = {}
    for column in df.columns:
        dtype = df[column].dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            continue
        if str(column).endswith(formatting.PERCENT_SUFFIX):
            config[column] = st.column_config.NumberColumn(format="%.1f%%")
        elif pd.api.types.is_integer_dtype(dtype):
            config[column] = st.column_config.NumberColumn(format="accounting", step=1)
        else:
            config[column] = st.column_config.NumberColumn(format="localized")
    return config


def _without_unused_categories(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with each text category list cut to the values its rows use: a table sends its
    columns' whole category lists to the browser, and a few rows of the history would carry
    every contact id ever seen."""
    columns = [c for c, t in df.dtypes.items() if isinstance(t, pd.CategoricalDtype)]
    if not columns:
        return df
    return df.assign(**{c: df[c].cat.remove_unused_categories() for c in columns})


def show_table(
    df: pd.DataFrame,
    ctx: PageContext | None = None,
    max_rows: int = 2000,
    key: str | None = None,
    column_config: Mapping[str, object] | None = None,
) -> None:
    """``df`` as a table of at most ``max_rows`` rows, personal columns masked unless revealed,
    with a note when rows were left out (the download has them all). Contact ids link to the
    Contact page; missing values show as a dash; numbers follow ``number_formats`` unless
    ``column_config`` says otherwise."""
    reveal = bool(ctx.reveal_personal) if ctx is not None else False
    total = len(df)
    shown = _personal_safe(_without_unused_categories(df.head(max_rows)), reveal)
    config: dict[str, object] = {**number_formats(shown), **dict(column_config or {})}
    if ctx is not None and schema.CONTACT_ID in shown.columns and GUEST_COLUMN not in shown:
        shown = contact_frame.with_names(shown, contacts_of(ctx), reveal, GUEST_COLUMN)
        config.setdefault(
            GUEST_COLUMN,
            st.column_config.TextColumn(
                "Guest", help="Name (Emma S. until personal data is shown), or masked email"
            ),
        )
    if schema.CONTACT_ID in shown.columns and schema.CONTACT_ID not in config:
        filters = ctx.filters if ctx is not None else None
        links = [
            contact_page_link(c, filters) if isinstance(c, str) and c else None
            for c in shown[schema.CONTACT_ID].astype(object).tolist()
        ]
        shown = shown.copy()
        position = list(shown.columns).index(schema.CONTACT_ID) + 1
        shown.insert(position, _LINK_COLUMN, links)
        config[_LINK_COLUMN] = st.column_config.LinkColumn(
            "Contact page",
            display_text="Open",
            help="Everything this contact did, on the Contact page (opens a new tab)",
            width="small",
        )
    st.dataframe(
        shown,
        hide_index=True,
        key=key,
        column_config=config or None,
        placeholder=MISSING_TEXT,
    )
    if total > max_rows:
        st.caption(
            f"Showing the first {max_rows:,} of {total:,} rows. Download the CSV for all of them."
        )


GUEST_COLUMN = "guest"  # the readable name tables show beside a contact id


def contacts_of(ctx: PageContext) -> pd.DataFrame:
    """Who the guests are (``c4w.contacts.CONTACT_COLUMNS``). When Cloud4Wi cannot be asked, a
    short warning is shown once per run and an empty frame returned: the page goes on without
    names and consents."""
    if ctx.source is None:
        return contact_frame.empty_contacts()
    try:
        return data.load_contacts(ctx.source)
    except Exception as exc:
        if not is_api_error(exc):
            raise
        if not getattr(_RUN, "contacts_warned", False):
            _RUN.contacts_warned = True
            st.warning(f"Guests' names and consents could not be loaded. {error_message(exc)}")
        return contact_frame.empty_contacts()


def first_events(ctx: PageContext, start: dt.date, end: dt.date) -> pd.DataFrame:
    """``c4w.metrics.attribution.first_events`` of every event of UTC days ``start..end``:
    when each guest was first seen, for a page that reads only some event types of those days.
    Computed over the store and kept while its days are unchanged, named for the memo."""
    if ctx.source is None:
        return attribution.first_events(ctx.history(start, end))
    found = store_figure(history_sql.first_events, start, end, store=ctx.store)
    return memo.name_frame(found, ("first events", data.history_name(ctx.source, start, end)))


def campaign_visits(
    ctx: PageContext, start: dt.date, end: dt.date
) -> tuple[pd.DataFrame, pd.Series] | tuple[None, None]:
    """The visits the campaign attribution reads of UTC days ``start..end``: their starts
    (``attribution.visit_starts``) and each guest's home store (``campaigns.home_stores``),
    computed over the store and kept while its days are unchanged; (None, None) with no store,
    where the history's own visits give them."""
    if ctx.source is None:
        return None, None
    visits = store_figure(campaigns_sql.visit_starts, start, end, store=ctx.store)
    return visits, store_figure(campaigns_sql.home_stores, start, end, store=ctx.store)


def audience_ids(contact_ids: Iterable[object]) -> list[str]:
    """The ids of ``contact_ids`` that are text, each once, in order of first appearance (in
    one pass of pandas' own, not one Python step per row: a list can hold every guest)."""
    if isinstance(contact_ids, pd.Series) and isinstance(contact_ids.dtype, pd.StringDtype):
        return [c for c in contact_ids.dropna().unique().tolist() if c]  # texts only: no test
    given = contact_ids if isinstance(contact_ids, pd.Series) else list(contact_ids)
    values = pd.unique(np.asarray(pd.Series(given, dtype=object)))
    return [c for c in values if isinstance(c, str) and c]


def download_audience(
    ctx: PageContext,
    contact_ids: Iterable[object],
    what: str,
    key: str,
    contacts: pd.DataFrame | None = None,
) -> None:
    """A contact list as an audience file (``c4w.audience``): a switch that keeps only contacts
    who accept marketing (on by default), the download button, and a line saying who is in it.
    Names, emails and phones are in full only when the viewer revealed personal data."""
    people = contacts if contacts is not None else contacts_of(ctx)
    ids = audience_ids(contact_ids)
    consent_only = st.toggle(
        "Only contacts who accept marketing",
        value=True,
        key=f"{key}_consent",
        help=audience.CONSENT_ONLY_HELP,
    )
    frame = memo.remembered(audience.audience_frame)(
        people, tuple(ids), reveal=bool(ctx.reveal_personal), consent_only=consent_only
    )

    def make() -> bytes:
        return audience.audience_csv(frame)

    st.download_button(
        f"Download audience ({len(frame):,} contacts)",
        data=make,
        file_name=audience.audience_file_name(what, consent_only, ctx.start, ctx.end),
        mime="text/csv",
        key=key,
        icon=":material/group:",
        on_click="ignore",
        help="Contact id, first and last name, email, phone (E.164) and marketing consent: "
        "imports into Cloud4Wi or an email tool as is. Masked unless personal data is shown.",
    )
    st.caption(audience.consent_note(len(frame), len(ids), consent_only))


def set_location_filter(location_ids: Sequence[str]) -> None:
    """Choose these locations in the sidebar's location filter. Call it from a widget's
    callback, which runs before the sidebar is drawn again. The other filters are set again as
    they are, so they hold when the callback also switches page."""
    for key in (_K_RANGE, _K_DATES, _K_COMPARE, _K_REVEAL):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]
    st.session_state[_K_LOCS] = list(location_ids)


def page_link(page_path: str, filters: Filters, location_ids: Sequence[str] | None = None) -> str:
    """Relative address of another page (``"visits"``; ``""`` for the Overview) with the
    filters' dates and ``location_ids`` (the filters' own locations when None)."""
    if location_ids is not None:
        filters = dataclasses.replace(filters, location_ids=tuple(location_ids))
    params: list[tuple[str, str]] = []
    for name, value in filters_to_params(filters).items():
        for item in value if isinstance(value, list) else [value]:
            params.append((name, item))
    return f"./{page_path}?{urllib.parse.urlencode(params)}"


def contact_page_link(contact_id: str, filters: Filters | None = None) -> str:
    """Relative address of the Contact page for ``contact_id``, keeping the current filters."""
    params: list[tuple[str, str]] = [(CONTACT_PARAM, contact_id)]
    if filters is None:
        state = st.session_state.get(_K_STATE)
        filters = state if isinstance(state, Filters) else None
    if filters is not None:
        for name, value in filters_to_params(filters).items():
            for item in value if isinstance(value, list) else [value]:
                params.append((name, item))
    return f"{CONTACT_PAGE_PATH}?{urllib.parse.urlencode(params)}"


def contact_id_from_url() -> str | None:
    """The contact id in the page address (``?contact=``), cleaned; a warning if unusable."""
    raw = st.query_params.get(CONTACT_PARAM)
    contact_id, problem = clean_contact_id(raw)
    if problem:
        st.warning(problem)
    return contact_id


def contact_events(ctx: PageContext, contact_id: str) -> pd.DataFrame:
    """Every event of one contact, all dates: live mode asks the contact endpoint, the demo
    reads the guest's rows from its whole history. An unusable id gives an empty frame; an
    API error is shown as a short message and ends the page there."""
    cleaned, problem = clean_contact_id(contact_id)
    empty = data.empty_events_frame()
    if cleaned is None:
        if problem:
            st.warning(problem)
        return empty
    if cleaned in DOT_SEGMENTS:  # no address can carry it (HTTP drops such a path segment)
        return empty
    if ctx.source is None:
        everything = ctx.all_events
        return everything[(everything[schema.CONTACT_ID] == cleaned).fillna(False).to_numpy()]
    try:
        return data.load_contact_events(ctx.source, cleaned)
    except Exception as exc:  # a C4WError: say what to do, keep the rest of the page
        if not is_api_error(exc):
            raise
        show_error(exc)
        st.stop()


def is_api_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a Cloud4Wi API error (``c4w.errors.C4WError``)."""
    try:
        from c4w.errors import C4WError
    except ImportError:  # pragma: no cover - the client package is always shipped
        return False
    return isinstance(exc, C4WError)


_ERROR_TITLES: Iterable[tuple[str, str]] = (  # the first that the error is an instance of
    ("AuthError", "Cloud4Wi did not accept the credentials."),
    ("RateLimitError", "Cloud4Wi is receiving too many requests right now."),
    ("NotAnsweringError", "Cloud4Wi is not answering."),
    ("NotJSONError", "Cloud4Wi answered something that is not JSON."),
    ("TransportError", "Cloud4Wi could not be reached."),
    ("APIError", "Cloud4Wi answered with an error."),
)


def fetch_progress_text(events: int, pages: int, retry_at: float | None, now: float) -> str:
    """What the progress bar of a live fetch says: the events so far, or, while Cloud4Wi asks
    to wait (429 with Retry-After), that it is rate limited and when the next try starts."""
    so_far = f"{events:,} so far ({pages} pages)"
    if retry_at is not None and retry_at > now:
        seconds = max(1, math.ceil(retry_at - now))
        return f"Cloud4Wi is rate limited, retrying in {seconds} s… {so_far}"
    return f"Fetching events from Cloud4Wi… {so_far}"


def error_message(exc: BaseException) -> str:
    """A short message for an API error: what happened and what to do (from ``exc.hint``)."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    title = next((t for name, t in _ERROR_TITLES if name in names), "Loading data failed.")
    hint = getattr(exc, "hint", None)
    hint = hint.strip() if isinstance(hint, str) else ""
    return f"{title} {hint}".strip() if hint else f"{title} Try again in a minute."


def show_error(exc: BaseException) -> None:
    """Show an API error as a short ``st.error`` saying what to do (never a traceback), with a
    button (and one in the sidebar) that forgets what was fetched and tries again."""
    st.error(error_message(exc), icon=":material/cloud_off:")
    again = st.button("Try again", key="error_refresh", icon=":material/refresh:")
    again |= st.sidebar.button(
        "Refresh data",
        key="error_refresh_side",
        icon=":material/refresh:",
        help="Ask Cloud4Wi again.",
    )
    if again:
        data.refresh()
        st.rerun()
