"""The Cloud4Wi Explore API client: login, events with scroll, locations, typed errors.

``Client.org_events`` returns the canonical events frame (``c4w.frame``). A plain fetch scrolls
every page until an empty one (never trusting the body's ``count``). A date range is cut into
windows that a few threads scroll at once, each in UTC order from its own start, stopping at the
first page that goes past its own end (the last window scans down from the range's end), while
another pool parses the pages. Pages are kept in ``c4w.frame``'s column form (arrow) and become one
pandas frame at the end, as ``frame.pages_frame`` does, so each category list is built once. A
query whose scroll id is refused resumes from the last event it saw; repeated event ids are
dropped. Transport faults (connection errors, timeouts, 429 with ``Retry-After``, 500/502/503/504)
are retried, with backoff and a bound, by ``urllib3.Retry`` mounted on the session: there is no
hand-written retry loop. Time is bounded three ways: each try (a connect and a read timeout), the
wait for one answer with its retries (``patience``: no try starts that could not end before it),
and the whole fetch (``deadline``); ``Retry-After`` waits share one allowance per fetch
(``rate_limit_wait``) and are announced to the progress callback before they start. What cannot
be retried becomes one of the typed errors of ``c4w.errors``, whose messages never carry the token
or the secret.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import os
import queue
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from c4w import schema
from c4w.errors import (
    MAX_SERVER_MESSAGE,
    APIError,
    AuthError,
    C4WError,
    NotAnsweringError,
    NotJSONError,
    RateLimitError,
    ScrollExpiredError,
    TransportError,
    redact,
)

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://explore.cloud4wi.com"
LOGIN_PATH = "/v1/sts/login/services"
MAX_PAGE_SIZE = 10_000
BODY_CHUNK = 1 << 20  # bytes read at a time from an answer
RETRY_STATUSES = (429, 500, 502, 503, 504)
# A request carrying a scroll id answered with one of these means the id is no longer accepted.
SCROLL_REFUSED = (400, 404, 409)
MAX_RESUMES_WITHOUT_PROGRESS = 3
# Business time is local wall-clock time: UTC offsets span -12 h..+14 h, so an event whose local
# time is L happened (in UTC) within a day and two hours of L.
LOCAL_TIME_MARGIN = dt.timedelta(hours=26)
MIN_WINDOW = dt.timedelta(hours=1)
WINDOW_REACH = 8  # a window's query reaches an eighth of its length into the next one,
# but no more than a day: a day past its end holds opening hours in every time zone (a stretch
# with no event, such as a night when the stores are closed, costs one more request)
MAX_REACH = dt.timedelta(days=1)
SORT_FIELDS = ("businessTime", "utcTime")
# Time bounds (seconds). A page of 10,000 events is about 10 MB; the read timeout is the longest
# silence while it is prepared and sent (the sandbox starts sending one within a second).
CONNECT_TIMEOUT_S = 4.0
READ_TIMEOUT_S = 12.0
PATIENCE_S = 29.0  # longest wait for one answer, retries included: "not answering" before 30 s
DEADLINE_S = 900.0  # longest whole fetch
RATE_LIMIT_WAIT_S = 30.0  # longest time a fetch spends waiting as Retry-After asks
LOGIN_REFUSED_HOLD_S = 300.0  # a refused key/secret is not tried again for this long
DateLike = dt.datetime | dt.date | str | None


@dataclass(frozen=True)
class _Answer:
    """An HTTP answer, its body read in full."""

    status_code: int
    headers: Any
    content: bytes


@dataclass(frozen=True)
class FetchProgress:
    """How far a fetch has got: events received so far and pages answered.

    ``api_count`` is the ``count`` the API's first answer gave for a plain (one window) fetch,
    kept beside the rows received for data quality (never trusted; None when absent or when the
    fetch ran in several windows, whose counts overlap).
    """

    events: int
    pages: int
    # while the API asks to wait (429 with Retry-After): when the next try starts (time.time())
    retry_at: float | None = None
    api_count: int | None = field(default=None, compare=False)


ProgressCallback = Callable[[FetchProgress], None]


# --- arguments -----------------------------------------------------------------------------------
def to_utc(value: DateLike, *, name: str, end: bool = False) -> dt.datetime | None:
    """``value`` as an aware UTC datetime, whole seconds.

    A naive datetime is UTC; a date (or a ``YYYY-MM-DD`` text) is the start of that day, or as an
    ``end`` the last second of it; other texts are ISO-8601. Anything else is a ValueError.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = (
                dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
            )
        except ValueError:
            raise ValueError(f"{name} is not an ISO-8601 date or time: {value!r}") from None
    if isinstance(value, dt.datetime):
        if pd.isna(value):
            raise ValueError(f"{name} is not a time: {value!r}")
        moment = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC).replace(microsecond=0)
    if isinstance(value, dt.date):
        day = dt.datetime.combine(value, dt.time(0), tzinfo=dt.UTC)
        return day + dt.timedelta(days=1, seconds=-1) if end else day
    raise ValueError(f"{name} must be a datetime, a date or an ISO-8601 text, not {value!r}")


def api_time(moment: dt.datetime) -> str:
    """The API's documented time format, ``YYYY-MM-DDTHH:MM:SSZ`` (UTC)."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def path_segment(value: str, *, name: str) -> str:
    """``value`` as one URL path segment: every reserved character encoded, so an id such as
    ``../x`` or ``a/b`` cannot change the path. Empty, ``.`` and ``..`` are refused: an HTTP
    library normalises those away whatever their encoding."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a text, not {type(value).__name__}")
    text = value.strip()
    if not text:
        raise ValueError(f"{name} is empty")
    if text in (".", ".."):
        raise ValueError(f"{name} {text!r} is not a valid id")
    return quote(text, safe="")


def check_types(types: Iterable[str] | str | None) -> tuple[str, ...] | None:
    """The event type names asked for, in order without repeats; unknown names are a ValueError.

    Accepts a list of names or one comma-separated text; None means every type.
    """
    if types is None:
        return None
    names = types.split(",") if isinstance(types, str) else list(types)
    cleaned: list[str] = []
    for name in names:
        if not isinstance(name, str):
            raise ValueError(f"event types must be texts, not {name!r}")
        name = name.strip()
        if name not in schema.KNOWN_TYPES:
            known = ", ".join(schema.KNOWN_TYPES)
            raise ValueError(f"unknown event type {name!r}; known types: {known}")
        if name not in cleaned:
            cleaned.append(name)
    if not cleaned:
        raise ValueError("types is empty: pass None for every type")
    return tuple(cleaned)


def check_page_size(page_size: int) -> int:
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise ValueError(f"page_size must be a whole number, not {page_size!r}")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
    return page_size


# --- one window of a fetch -----------------------------------------------------------------------
@dataclass(frozen=True)
class _Window:
    """One scan: the query's own bounds and order, and which rows it keeps.

    A window that is not the last one scans upward from its start, a little past its own end, and
    stops at the first page that goes past its own end (the pages are sorted by UTC time); the
    last window scans downward from the end and stops below its start. Neither usually needs the
    closing empty page, and each event is kept by exactly one window (by its ``created_at``).
    """

    query_start: dt.datetime | None
    query_end: dt.datetime | None
    sort_by: str
    reverse: bool
    keep_from: pd.Timestamp | None = None  # inclusive
    keep_until: pd.Timestamp | None = None  # exclusive
    stop_past: bool = False


def plan_windows(
    start: dt.datetime | None,
    end: dt.datetime | None,
    workers: int,
    sort_by: str,
    reverse: bool,
) -> list[_Window]:
    """The windows a fetch of ``start``..``end`` is split into (one plain scan when
    ``workers`` is 1, the range is open or shorter than two hours)."""
    plain = [_Window(start, end, sort_by, reverse)]
    if workers <= 1 or start is None or end is None:
        return plain
    count = min(workers, int((end - start) / MIN_WINDOW))
    if count <= 1:
        return plain
    span = (end - start).total_seconds()
    edges = [start + dt.timedelta(seconds=math.floor(span * i / count)) for i in range(count)]
    edges.append(end)
    # A window's query reaches a little past its own end, so the page that shows it is done
    # holds few events of the next window (fewer to parse); if that stretch is empty, the empty
    # page closes the window instead.
    reach = max(MIN_WINDOW, dt.timedelta(seconds=math.ceil(span / count / WINDOW_REACH)))
    reach = min(reach, MAX_REACH)
    windows = []
    for i in range(count):
        low = pd.Timestamp(edges[i])
        if i < count - 1:
            high = pd.Timestamp(edges[i + 1])
            query_end = min(end, edges[i + 1] + reach)
            windows.append(_Window(edges[i], query_end, "utcTime", False, low, high, True))
        else:
            query_start = max(start, edges[i] - reach)
            windows.append(_Window(query_start, end, "utcTime", True, low, None, True))
    return windows


class _Scan:
    """Pages of one window, tracking how far it got so a refused scroll can be resumed."""

    def __init__(self, window: _Window) -> None:
        self.window = window
        self.query_start = window.query_start
        self.query_end = window.query_end
        self.sort_by = window.sort_by
        self.reverse = window.reverse
        self.edge: pd.Timestamp | None = None  # furthest createdAt in scan order
        self.local_edge: pd.Timestamp | None = None  # furthest business time in scan order
        self.sorted = window.stop_past
        self.finished = False
        self.observed = 0  # pages observed so far

    def params(self, base: dict[str, str], size: int) -> dict[str, str]:
        params = dict(base)
        if self.query_start is not None:
            params["dateStart"] = api_time(self.query_start)
        if self.query_end is not None:
            params["dateEnd"] = api_time(self.query_end)
        params.update(
            size=str(size),
            sortBy=self.sort_by,
            sortReverse="true" if self.reverse else "false",
            enableScroll="true",
        )
        return params

    def take(self, page: _Page) -> pa.Table:
        """Note how far ``page`` reaches; return the rows this window keeps."""
        self.observe(page.times, page.local)
        return keep_rows(self.window, page)

    def observe(self, times: pd.Series, local: pd.Series) -> None:
        """Note how far a page (its createdAt and local times, in page order) reaches, whether
        the pages are still in order, and whether the window has gone past its own end."""
        window, reverse = self.window, self.reverse
        self.observed += 1
        known = times.dropna()
        if len(known):
            first, last = known.iloc[0], known.iloc[-1]
            in_order = known.is_monotonic_decreasing if reverse else known.is_monotonic_increasing
            behind = self.edge is not None and (first > self.edge if reverse else first < self.edge)
            if not in_order or behind:
                self.sorted = False
            self.edge = _further(self.edge, known.min() if reverse else known.max(), reverse)
            if window.stop_past and self.sorted:
                if reverse and window.keep_from is not None and last < window.keep_from:
                    self.finished = True
                if not reverse and window.keep_until is not None and last >= window.keep_until:
                    self.finished = True
        local = local.dropna()
        if len(local):
            furthest = local.min() if reverse else local.max()
            self.local_edge = _further(self.local_edge, furthest, reverse)

    def resume(self) -> bool:
        """Narrow the query to what is left after the last event seen; False when it cannot.

        In UTC order the rest starts at the last createdAt seen. In business-time order it starts
        no earlier than a day and two hours before the last local time seen; the scan then goes
        on in UTC order, so a later resume is exact. Repeated events are dropped afterwards.
        """
        if self.sort_by == "utcTime" and self.edge is not None:
            moment = self.edge.to_pydatetime()
            if self.reverse:
                ceil = moment.replace(microsecond=0)
                self.query_end = ceil + dt.timedelta(seconds=1 if moment.microsecond else 0)
            else:
                self.query_start = moment.replace(microsecond=0)
            return True
        if self.sort_by == "businessTime" and self.local_edge is not None:
            local = self.local_edge.to_pydatetime().replace(tzinfo=dt.UTC, microsecond=0)
            if self.reverse:
                bound = local + LOCAL_TIME_MARGIN
                if self.query_end is None or bound < self.query_end:
                    self.query_end = bound
            else:
                bound = local - LOCAL_TIME_MARGIN
                if self.query_start is None or bound > self.query_start:
                    self.query_start = bound
            self.sort_by, self.edge, self.sorted = "utcTime", None, False
            return True
        return self.edge is None and self.local_edge is None  # nothing seen yet: start over


class _Cursor:
    """Where the scroll of one scan stands: the scroll id to send next, and how many times it
    resumed from the last event seen without getting further. Both ways of scanning a window
    (on its own, or beside others with pages parsed elsewhere) follow these rules."""

    def __init__(
        self,
        scan: _Scan,
        base: dict[str, str],
        size: int,
        settle: Callable[[], None] | None = None,
    ) -> None:
        self.scan = scan
        self.base = base
        self.size = size
        self.settle = settle  # brings the scan up to date with the pages seen, before a resume
        self.scroll_id: str | None = None
        self.resumes = 0
        self.resumed = False

    def params(self) -> dict[str, str]:
        """The next request's query: the scan's range and order, and the scroll id if any."""
        params = self.scan.params(self.base, self.size)
        if self.scroll_id is not None:
            params["scrollId"] = self.scroll_id
        return params

    def resume_refused(self, exc: APIError) -> bool:
        """After ``exc``: resume from the last event seen when it refused the scroll id (True),
        or False when it is another error, for the caller to raise."""
        if self.scroll_id is None or exc.status not in SCROLL_REFUSED:
            return False
        self._resume(lambda: _scroll_refused(exc))
        log.info("scroll id refused (HTTP %s); resuming from the last event", exc.status)
        return True

    def moved_on(self) -> None:
        """The scan got past the last event seen: resumes count from zero again."""
        self.resumes = 0

    def advance(self, next_id: Any, count: Callable[[], int]) -> bool:
        """Move past a page that named ``next_id`` and held ``count()`` events (asked only when
        needed); False when that page was the last one."""
        if self.resumed and self.scroll_id is None and count() < self.size:
            return False  # a resumed query's first page holds all it has left
        self.resumed = False
        if next_id is None or next_id == "":
            if count() < self.size:
                return False  # the server does not scroll this query: that was all of it
            self._resume(_no_cursor)  # a full page and no cursor: carry on from its last event
            return True
        self.scroll_id = str(next_id)
        return True

    def _resume(self, error: Callable[[], C4WError]) -> None:
        self.resumes += 1
        if self.settle is not None:
            self.settle()
        if self.resumes > MAX_RESUMES_WITHOUT_PROGRESS or not self.scan.resume():
            raise error() from None
        self.scroll_id, self.resumed = None, True


def _further(edge: pd.Timestamp | None, candidate: pd.Timestamp, reverse: bool) -> pd.Timestamp:
    if edge is None:
        return candidate
    return min(edge, candidate) if reverse else max(edge, candidate)


@dataclass(frozen=True)
class _Page:
    """One page of events in ``c4w.frame``'s column form (arrow), with its times in page order
    for the window's bookkeeping. A fetch turns all its pages into one pandas frame at the end,
    as ``frame.pages_frame`` does, so each category list is built once, not once per page."""

    columns: pa.Table
    times: pd.Series  # createdAt (UTC); NaT where missing
    local: pd.Series  # business (local) time

    @classmethod
    def read(cls, body: bytes) -> _Page:
        """The page in ``body``; TransportError when it is not JSON events."""
        from c4w import frame

        try:
            columns = frame.page_columns(body)  # raises ValueError when not JSON events
        except ValueError:
            columns = None
        if columns is None and _looks_like_html(body):
            raise _not_json("events request")
        if columns is None:
            raise TransportError(
                "The answer from Cloud4Wi was not readable JSON (it may have been cut off).",
                hint="Reload to fetch again; if it keeps happening, check the network or proxy.",
            )
        times = _nanoseconds(columns, schema.CREATED_AT)
        local = _nanoseconds(columns, schema.CREATED_AT_LOCAL)
        return cls(columns, pd.Series(times).dt.tz_localize("UTC"), pd.Series(local))

    def __len__(self) -> int:
        return self.columns.num_rows


def _nanoseconds(columns: pa.Table, name: str) -> np.ndarray:
    """A time column of the column form as naive ``datetime64[ns]`` (NaT where missing)."""
    return columns.column(name).to_numpy().view("M8[ns]")


def _events_frame(pages: Sequence[pa.Table]) -> pd.DataFrame:
    """The canonical events frame of pages in column form, in order (``frame.pages_frame``'s
    last step: each category list built once)."""
    from c4w import frame

    if not pages:
        return frame.empty_events_frame()
    return frame.columns_to_frame(pa.concat_tables(pages))


def keep_rows(window: _Window, page: _Page) -> pa.Table:
    """The rows of ``page`` inside ``window``'s own range (rows without a time are kept)."""
    times = page.times
    keep = np.ones(len(page), dtype=bool)
    if window.keep_from is not None:
        keep &= ~(times < window.keep_from).to_numpy()
    if window.keep_until is not None:
        keep &= ~(times >= window.keep_until).to_numpy()
    return page.columns if keep.all() else page.columns.filter(pa.array(keep))


_TAIL_BYTES = 1 << 16  # a scroll id is looked for in this much of the body's start and end
_VALUE = rb'"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null'
_LAST_MEMBER = re.compile(rb'[,{]\s*"((?:[^"\\]|\\.)*)"\s*:\s*(' + _VALUE + rb")\s*$")
_WHITESPACE = " \t\r\n"


def scroll_id_of(body: bytes) -> Any:
    """The ``scrollId`` member of a response body that is one JSON object (None when absent).

    Only the top-level members before the ``events`` array and the simple ones after it are
    read, so a page's events are parsed once (by ``c4w.frame``), not twice; a key of the same
    name inside an event is never taken for it.
    """
    found, _ = _leading_members(body[:_TAIL_BYTES].decode("utf-8", "replace"))
    if "scrollId" in found:
        return found["scrollId"]
    tail = body[-_TAIL_BYTES:].rstrip()
    if not tail.endswith(b"}"):
        return None
    tail = tail[:-1]
    while (member := _LAST_MEMBER.search(tail)) is not None:
        if json.loads(b'"' + member.group(1) + b'"') == "scrollId":
            return json.loads(member.group(2))
        tail = tail[: member.start()]
    return None


def api_count_of(body: bytes) -> int | None:
    """The top-level ``count`` of a response body when it comes before the events and is a
    whole number (None otherwise)."""
    found, _ = _leading_members(body[:_TAIL_BYTES].decode("utf-8", "replace"))
    count = found.get("count")
    return count if isinstance(count, int) and not isinstance(count, bool) else None


def events_empty(body: bytes) -> bool | None:
    """Whether the body's top-level ``events`` array is empty (or null), read from the start of
    the body only; None when that cannot be told without parsing it all."""
    text = body[:_TAIL_BYTES].decode("utf-8", "replace")
    _, at = _leading_members(text)
    if at is None:
        return None
    rest = text[at:].lstrip(_WHITESPACE)
    if rest.startswith("null"):
        return True
    if rest.startswith("["):
        return rest[1:].lstrip(_WHITESPACE).startswith("]")
    return None


_CREATED_AT = re.compile(rb'"createdAt"\s*:\s*"([0-9T:.+\-Z ]{10,40})"')


def last_created_at(body: bytes) -> pd.Timestamp | None:
    """A quick guess at the last event's createdAt: the last such value near the body's end.

    Only a hint, for deciding early whether a window is done; the parsed page confirms it.
    """
    last = None
    for last in _CREATED_AT.finditer(body[-_TAIL_BYTES:]):  # noqa: B007
        pass
    if last is None:
        return None
    try:
        moment = pd.Timestamp(last.group(1).decode("ascii"))
    except ValueError:
        return None
    return moment.tz_localize("UTC") if moment.tzinfo is None else moment.tz_convert("UTC")


def _leading_members(text: str) -> tuple[dict[str, Any], int | None]:
    """The top-level members of a JSON object text up to its ``events`` key (or a value too
    long for ``text``), and where the ``events`` value starts (None when not reached)."""
    decoder = json.JSONDecoder()
    members: dict[str, Any] = {}
    i = len(text) - len(text.lstrip(_WHITESPACE))
    if not text.startswith("{", i):
        return members, None
    i += 1
    try:
        while True:
            while i < len(text) and text[i] in _WHITESPACE + ",":
                i += 1
            if i >= len(text) or text[i] != '"':
                return members, None
            key, i = json.decoder.scanstring(text, i + 1)
            while i < len(text) and text[i] in _WHITESPACE:
                i += 1
            if not text.startswith(":", i):
                return members, None
            i += 1
            if key == "events":
                return members, i
            while i < len(text) and text[i] in _WHITESPACE:
                i += 1
            members[key], i = decoder.raw_decode(text, i)
    except (ValueError, RecursionError):
        return members, None


@dataclass
class _Parsed:
    """What the fetch keeps of one parsed page: its times in page order (for the window's
    bookkeeping), how many events it held, and the rows inside the window in UTC order."""

    times: pd.Series
    local: pd.Series
    count: int
    kept: pa.Table


@dataclass
class _WindowRun:
    scan: _Scan
    pages: list[Future[_Parsed]]
    early: bool  # stopped on a quick look at the last page, to be confirmed once it is parsed


# --- time bounds ---------------------------------------------------------------------------------
class _FetchBudget:
    """The time one fetch may take (shared by its window threads): its deadline, and the
    allowance for waits the API asks for (Retry-After), which ``on_wait`` hears of first."""

    def __init__(
        self,
        deadline_s: float,
        rate_limit_wait_s: float,
        on_wait: Callable[[float], None] | None = None,
    ) -> None:
        self.until = time.monotonic() + deadline_s
        self.rate_limit_wait_s = rate_limit_wait_s
        self.on_wait = on_wait
        self._lock = threading.Lock()
        self._waits_end: float | None = None  # waits must end by then (set by the first one)

    def may_wait(self, seconds: float) -> bool:
        """Whether a wait of ``seconds`` from now fits the fetch's rate-limit allowance (counted
        from its first wait, so parallel windows waiting at once do not add up) and deadline."""
        now = time.monotonic()
        with self._lock:
            if self._waits_end is None:
                self._waits_end = now + self.rate_limit_wait_s
            return now + seconds <= min(self._waits_end, self.until)


class _BoundedRetry(Retry):
    """``urllib3.Retry`` that keeps to the time budget of the request in progress on its thread
    (``budgets.until``, set by ``Client._send``): no try starts that could not end (connect and
    read timeouts, ``try_s``) before it, and a Retry-After wait must fit the fetch's allowance.
    When either says no, the retries end there, as if they were used up."""

    def __init__(
        self,
        *args: Any,
        budgets: threading.local | None = None,
        try_s: float = 0.0,
        longest_wait: float = RATE_LIMIT_WAIT_S,
        **kw: Any,
    ) -> None:
        kw.setdefault("retry_after_max", 86_400)  # read the wait asked for as it is ...
        super().__init__(*args, **kw)
        self.budgets = budgets
        self.try_s = try_s
        self.longest_wait = longest_wait  # ... and give up at once on one longer than this

    def new(self, **kw: Any) -> _BoundedRetry:
        kw.setdefault("budgets", self.budgets)
        kw.setdefault("try_s", self.try_s)
        kw.setdefault("longest_wait", self.longest_wait)
        return super().new(**kw)

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> Retry:
        retry = super().increment(method, url, response, error, _pool, _stacktrace)
        until = getattr(self.budgets, "until", None)
        fetch: _FetchBudget | None = getattr(self.budgets, "fetch", None)
        if until is None:
            return retry
        reason = error or ResponseError(f"HTTP {getattr(response, 'status', '?')}")
        wait = retry.get_backoff_time()
        asked = retry.get_retry_after(response) if response is not None else None
        if asked and self.respect_retry_after_header:
            if asked > self.longest_wait or (fetch is not None and not fetch.may_wait(asked)):
                raise MaxRetryError(_pool, url or "", reason)
            wait = 0.0  # the wait asked for does not count against the patience for an answer
        if time.monotonic() + wait + self.try_s > until:
            raise MaxRetryError(_pool, url or "", reason)
        return retry

    def sleep_for_retry(self, response: Any) -> bool:
        asked = self.get_retry_after(response)
        if not asked:
            return False
        fetch: _FetchBudget | None = getattr(self.budgets, "fetch", None)
        if fetch is not None and fetch.on_wait is not None:
            fetch.on_wait(asked)
        if self.budgets is not None and getattr(self.budgets, "until", None) is not None:
            self.budgets.until += asked
        time.sleep(asked)
        return True


# --- the client ----------------------------------------------------------------------------------
class Client:
    """A Cloud4Wi Explore API client (thread-safe; one per set of credentials is enough).

    Give either a ready ``token`` (a JWT) or a ``client_key``/``client_secret`` pair, which it
    exchanges for a token at ``POST /v1/sts/login/services`` and exchanges again, once per call,
    when the API answers 401/403; a refused key or secret is not tried again for a while (each
    failed login can count towards locking the account). ``timeout`` is seconds per try (or a
    (connect, read) pair); ``patience`` bounds the wait for one answer with its retries, and
    ``deadline`` a whole fetch (both raise ``NotAnsweringError``); ``rate_limit_wait`` is how long
    a fetch may wait in all as Retry-After asks (then ``RateLimitError``). ``session`` may be your
    own ``requests.Session``; the client mounts its retrying adapter on it for ``base_url`` only.
    ``retries``, ``backoff_factor``, ``backoff_max`` and ``max_retry_after`` (one wait) bound the
    retries; ``workers`` is how many date windows a fetch runs at once (1 = one plain scroll).
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        token: str | None = None,
        client_key: str | None = None,
        client_secret: str | None = None,
        timeout: float | tuple[float, float] = (CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
        session: requests.Session | None = None,
        *,
        retries: int = 5,
        backoff_factor: float = 0.5,
        backoff_max: float = 30.0,
        max_retry_after: float = RATE_LIMIT_WAIT_S,
        workers: int = 4,
        patience: float = PATIENCE_S,
        deadline: float = DEADLINE_S,
        rate_limit_wait: float = RATE_LIMIT_WAIT_S,
    ) -> None:
        base = (base_url or "").strip().rstrip("/")
        if not base.lower().startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        if bool(client_key) != bool(client_secret):
            raise ValueError("give both client_key and client_secret, or neither")
        if not token and not client_key:
            raise ValueError("give a token, or a client_key and client_secret")
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError("workers must be a whole number of at least 1")
        self.base_url = base
        self.timeout = timeout
        self.workers = workers
        self.patience = float(patience)
        self.deadline = float(deadline)
        self.rate_limit_wait = float(rate_limit_wait)
        self._budgets = threading.local()  # this thread's fetch budget and answer deadline
        self._refused: tuple[float, AuthError] | None = None  # when the login was refused
        self._client_key = client_key or None
        self._client_secret = client_secret or None
        self._token = token or None
        self._token_version = 0
        self._auth_lock = threading.Lock()
        self._own_session = session is None
        self._session = session if session is not None else requests.Session()
        try_s = sum(timeout) if isinstance(timeout, tuple) else 2 * float(timeout)
        self._retry = _BoundedRetry(
            budgets=self._budgets,
            try_s=try_s,
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            backoff_factor=backoff_factor,
            backoff_max=backoff_max,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "POST"}),
            respect_retry_after_header=True,
            longest_wait=max_retry_after,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(
            max_retries=self._retry, pool_connections=4, pool_maxsize=max(10, workers * 2)
        )
        self._session.mount(base + "/", adapter)

    # -- housekeeping ---------------------------------------------------------------------------
    def __repr__(self) -> str:
        auth = "client key and secret" if self._client_key else "token"
        return f"Client(base_url={self.base_url!r}, auth={auth!r}, workers={self.workers})"

    def close(self) -> None:
        """Close the HTTP session, if the client opened it."""
        if self._own_session:
            self._session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def _secrets(self) -> tuple[str | None, ...]:
        return (self._token, self._client_secret)

    # -- public calls ---------------------------------------------------------------------------
    def org_events(
        self,
        org_id: str,
        start: DateLike = None,
        end: DateLike = None,
        types: Sequence[str] | str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        sort_by: str = "businessTime",
        sort_reverse: bool = False,
        progress: ProgressCallback | None = None,
        workers: int | None = None,
    ) -> pd.DataFrame:
        """Every event of the organization from ``start`` to ``end`` (both inclusive) as the
        canonical events frame, each event once, ordered by ``sort_by`` (UTC or local time).

        ``progress`` is called on the calling thread with a ``FetchProgress`` after each page.
        ``workers`` overrides the client's number of concurrent date windows.
        """
        path = f"/v1/organizations/{path_segment(org_id, name='org_id')}/events"
        return self._events(
            path, start, end, types, page_size, sort_by, sort_reverse, progress, workers
        )

    def contact_events(
        self,
        org_id: str,
        contact_id: str,
        start: DateLike = None,
        end: DateLike = None,
        types: Sequence[str] | str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        sort_by: str = "businessTime",
        sort_reverse: bool = False,
        progress: ProgressCallback | None = None,
    ) -> pd.DataFrame:
        """Every event of one contact (same filters as ``org_events``), in one scan."""
        org = path_segment(org_id, name="org_id")
        contact = path_segment(contact_id, name="contact_id")
        path = f"/v1/organizations/{org}/customers/{contact}/events"
        return self._events(path, start, end, types, page_size, sort_by, sort_reverse, progress, 1)

    def locations(self, org_id: str) -> pd.DataFrame:
        """The organization's locations (``schema.LOCATION_COLUMNS``)."""
        from c4w.frame import locations_frame

        path = f"/v1/organizations/{path_segment(org_id, name='org_id')}/locations"
        body = self._get(path, {})
        try:
            parsed = json.loads(body)
            if not isinstance(parsed, dict) or not isinstance(parsed.get("locations"), list):
                raise ValueError("no locations list")
            return locations_frame(parsed)
        except (ValueError, RecursionError):
            pass
        if _looks_like_html(body):
            raise _not_json("locations request")
        raise TransportError(
            "The locations answer from Cloud4Wi was not readable JSON.",
            hint="Reload in a minute; the answer may have been cut off.",
        )

    def contacts(self, org_id: str, page_size: int = MAX_PAGE_SIZE) -> pd.DataFrame:
        """Every contact of the organization (``c4w.contacts.CONTACT_COLUMNS``), each id once.

        ``GET /v2/customers/organizations/{cid}`` scrolled with ``sid``, ``size`` fixed during
        the scroll. The answer's shape is not published: the contacts are read from a list under
        ``customers``, ``contacts``, ``data``, ``items`` or ``results`` (or a bare list), the
        next cursor from ``sid`` or ``scrollId``; the scroll ends on an empty page or without a
        cursor. A refused cursor starts the scroll again (at most a few times; repeats are
        dropped). Contact data is personal: nothing of it is logged.
        """
        from c4w.contacts import contacts_frame

        path = f"/v2/customers/organizations/{path_segment(org_id, name='org_id')}"
        size = check_page_size(page_size)
        items: list[Any] = []
        seen: set[str] = set()
        sid: str | None = None
        restarts = useful_pages = repeats_in_row = 0
        while True:
            params = {"size": str(size)}
            if sid is not None:
                params["sid"] = sid
            try:
                body = self._get(path, params)
            except APIError as exc:
                if sid is None or exc.status not in SCROLL_REFUSED:
                    raise
                restarts += 1
                if restarts > MAX_RESUMES_WITHOUT_PROGRESS:
                    raise _scroll_refused(exc) from None
                log.info("the contacts cursor was refused; starting the scroll again")
                sid, repeats_in_row = None, 0
                continue
            page, next_sid = contacts_page(body)
            fresh = [c for c in page if _contact_key(c) not in seen]
            seen.update(_contact_key(c) for c in fresh)
            items.extend(fresh)
            useful_pages += bool(fresh)
            repeats_in_row = 0 if fresh else repeats_in_row + 1
            # more pages of repeats than pages read means the server ignores the cursor
            if not page or next_sid is None or repeats_in_row > useful_pages:
                break
            sid = next_sid
        return contacts_frame(items)

    # -- fetching events ------------------------------------------------------------------------
    def _events(
        self,
        path: str,
        start: DateLike,
        end: DateLike,
        types: Sequence[str] | str | None,
        page_size: int,
        sort_by: str,
        sort_reverse: bool,
        progress: ProgressCallback | None,
        workers: int | None,
    ) -> pd.DataFrame:
        size = check_page_size(page_size)
        if sort_by not in SORT_FIELDS:
            raise ValueError(f"sort_by must be one of {SORT_FIELDS}, not {sort_by!r}")
        names = check_types(types)
        since = to_utc(start, name="start")
        until = to_utc(end, name="end", end=True)
        if since is not None and until is not None and since > until:
            raise ValueError(f"start ({api_time(since)}) is after end ({api_time(until)})")
        workers = self.workers if workers is None else workers
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ValueError("workers must be a whole number of at least 1")
        base: dict[str, str] = {}
        local_types = None
        if names is not None:
            if set(names) <= set(schema.FILTERABLE_TYPES):
                base["events"] = ",".join(names)
            else:  # the API's filter does not take geofence types: filter here instead
                local_types = names
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        if since is not None and until is None and workers > 1 and since < now:
            until = now  # an open end is "up to now", so the range can be cut in windows
        windows = plan_windows(since, until, workers, sort_by, bool(sort_reverse))
        pages = self._run_windows(path, base, size, windows, local_types, progress, workers)
        events = _events_frame(pages)
        return _in_order(_without_repeats(events), sort_by, bool(sort_reverse))

    def _run_windows(
        self,
        path: str,
        base: dict[str, str],
        size: int,
        windows: list[_Window],
        local_types: tuple[str, ...] | None,
        progress: ProgressCallback | None,
        workers: int,
    ) -> list[pa.Table]:
        """Fetch every window (concurrently when there are several); the rows each keeps, page by
        page in column form, in window order."""
        totals = [0, 0]
        api_count: list[int | None] = [None]

        def tell(
            rows: int, pages: int, retry_in: float | None = None, count: int | None = None
        ) -> None:
            totals[0] += rows
            totals[1] += pages
            if count is not None and api_count[0] is None and len(windows) == 1:
                api_count[0] = count
            if progress is not None:
                retry_at = time.time() + retry_in if retry_in is not None else None
                progress(
                    FetchProgress(
                        events=totals[0],
                        pages=totals[1],
                        retry_at=retry_at,
                        api_count=api_count[0],
                    )
                )

        fetch = _FetchBudget(self.deadline, self.rate_limit_wait, lambda s: tell(0, 0, s))
        outer = getattr(self._budgets, "fetch", None)
        self._budgets.fetch = fetch
        try:
            if len(windows) == 1:
                return self._scan(path, base, size, windows[0], local_types, tell, None)
            return self._run_concurrently(
                path, base, size, windows, local_types, tell, workers, fetch
            )
        finally:
            self._budgets.fetch = outer

    def _run_concurrently(
        self,
        path: str,
        base: dict[str, str],
        size: int,
        windows: list[_Window],
        local_types: tuple[str, ...] | None,
        tell: Callable[..., None],
        workers: int,
        fetch: _FetchBudget,
    ) -> list[pa.Table]:
        """Scroll the windows on ``workers`` threads while another pool parses their pages, so
        parsing overlaps the waiting. A window that stopped on a quick look at its last page is
        confirmed once its pages are parsed, and fetched again in one plain scan if the look
        misled (pages out of order). Pages come back in time order, for the caller to stack
        once. Progress (and any wait the API asks for) is reported on the calling thread."""
        updates: queue.SimpleQueue[tuple[int, int, float | None] | None] = queue.SimpleQueue()
        fetch.on_wait = lambda seconds: updates.put((0, 0, seconds))
        stop = threading.Event()
        failures: list[BaseException] = []
        runs: list[_WindowRun | None] = [None] * len(windows)

        def fail(exc: BaseException) -> None:
            failures.append(exc)
            stop.set()

        def parse(window: _Window, body: bytes) -> _Parsed:
            page = _Page.read(body)
            kept = _only_types(keep_rows(window, page), local_types)
            if window.reverse:  # scanned downward: its rows in UTC order, while others wait
                kept = kept.take(np.arange(kept.num_rows - 1, -1, -1))
            return _Parsed(page.times, page.local, len(page), kept)

        cores = max(1, min(len(windows), os.cpu_count() or 1))
        with (
            ThreadPoolExecutor(cores, "c4w-parse") as parser,
            ThreadPoolExecutor(min(workers, len(windows)), "c4w-window") as pool,
        ):

            def submit(window: _Window, body: bytes) -> Future[_Parsed]:
                future = parser.submit(parse, window, body)

                def done(finished: Future[_Parsed]) -> None:
                    error = finished.exception()
                    if error is not None:
                        fail(error)
                    else:
                        updates.put((finished.result().kept.num_rows, 1, None))

                future.add_done_callback(done)
                return future

            def run(i: int) -> None:
                self._budgets.fetch = fetch  # this thread's requests keep to the fetch's bounds
                try:
                    runs[i] = self._scan_window(path, base, size, windows[i], submit, stop)
                except BaseException as exc:  # handed to the calling thread below
                    fail(exc)
                finally:
                    self._budgets.fetch = None
                    updates.put(None)  # this scan has ended

            for i in range(len(windows)):
                pool.submit(run, i)
            try:
                received = _relay(updates, tell, stop, scans=len(windows))
                expected = sum(len(run.pages) for run in runs if run is not None)
                _relay(updates, tell, stop, received=received, expected=expected)
            finally:
                stop.set()
        if failures:
            raise failures[0]
        pages: list[pa.Table] = []
        for window, run in zip(windows, runs, strict=True):
            assert run is not None
            for future in run.pages[run.scan.observed :]:
                item = future.result()
                run.scan.observe(item.times, item.local)
            if run.early and not (run.scan.sorted and run.scan.finished):
                log.info("a window's pages were out of order; fetching it again in one scan")
                pages += self._scan(path, base, size, _plain(window), local_types, tell, None)
            else:
                kept = [future.result().kept for future in run.pages]
                pages += kept[::-1] if window.reverse else kept  # in UTC order
        return pages

    def _scan_window(
        self,
        path: str,
        base: dict[str, str],
        size: int,
        window: _Window,
        submit: Callable[[_Window, bytes], Future[_Parsed]],
        stop: threading.Event,
    ) -> _WindowRun:
        """Scroll one window of a concurrent fetch, handing each page to ``submit`` for parsing.

        It stops at the first page whose last event (a quick look at the end of the body) is past
        the window's own end, at an empty page, or when the server has no more pages; a refused
        scroll id is resumed from the last event seen (waiting for those pages to be parsed).
        """
        scan = _Scan(window)
        pages: list[Future[_Parsed]] = []
        looking = True  # the quick looks are in scan order so far
        furthest: pd.Timestamp | None = None

        def settle() -> None:
            for future in pages[scan.observed :]:
                item = future.result()
                scan.observe(item.times, item.local)

        cursor = _Cursor(scan, base, size, settle)
        while not stop.is_set():
            try:
                body = self._get(path, cursor.params())
            except APIError as exc:
                if not cursor.resume_refused(exc):
                    raise
                continue
            empty = events_empty(body)
            if empty:
                break
            future = submit(window, body)
            pages.append(future)
            if empty is None and future.result().count == 0:
                break
            last = last_created_at(body)
            if last is None or (
                furthest is not None and _further(furthest, last, window.reverse) != last
            ):
                looking = False
            elif furthest is None or last != furthest:
                furthest = last
                cursor.moved_on()
            if looking and last is not None and _past_end(window, last):
                return _WindowRun(scan, pages, early=True)
            if not cursor.advance(scroll_id_of(body), lambda page=future: page.result().count):
                break
        return _WindowRun(scan, pages, early=False)

    def _scan(
        self,
        path: str,
        base: dict[str, str],
        size: int,
        window: _Window,
        local_types: tuple[str, ...] | None,
        tell: Callable[..., None],
        stop: threading.Event | None,
    ) -> list[pa.Table]:
        """Scroll one window to its end; resume it from the last event seen if its scroll id is
        refused. Returns the pages' kept rows (repeats are dropped later, over all windows)."""
        scan = _Scan(window)
        cursor = _Cursor(scan, base, size)
        pages: list[pa.Table] = []
        count: int | None = None
        first = True
        while stop is None or not stop.is_set():
            try:
                body = self._get(path, cursor.params())
            except APIError as exc:
                if not cursor.resume_refused(exc):
                    raise
                continue
            page, next_id = _Page.read(body), scroll_id_of(body)
            if first:
                count, first = api_count_of(body), False
                if len(page) == 0:
                    tell(0, 0, count=count)
            if len(page) == 0:
                break
            edge_before = scan.edge, scan.local_edge
            kept = scan.take(page)
            if (scan.edge, scan.local_edge) != edge_before:
                cursor.moved_on()
            kept = _only_types(kept, local_types)
            pages.append(kept)
            tell(kept.num_rows, 1, count=count)
            if scan.finished:
                break
            if not cursor.advance(next_id, lambda rows=page: len(rows)):
                break
        return pages

    # -- HTTP -----------------------------------------------------------------------------------
    def _get(self, path: str, params: dict[str, str]) -> bytes:
        """GET ``path`` with the bearer token, logging in again once on 401/403 when the client
        holds a key and secret. Returns the body of a 2xx answer; raises a C4WError otherwise."""
        token, version = self._bearer()
        response = self._send("GET", path, params=params, token=token)
        if response.status_code in (401, 403) and self._client_key:
            log.info("the API answered %s; logging in again", response.status_code)
            token = self._renew(version)
            response = self._send("GET", path, params=params, token=token)
        if 200 <= response.status_code < 300:
            return response.content
        raise self._error_for(response)

    def _bearer(self) -> tuple[str, int]:
        with self._auth_lock:
            if self._token is None:
                self._login()
            assert self._token is not None
            return self._token, self._token_version

    def _renew(self, seen_version: int) -> str:
        """A fresh token: log in unless another thread already did since ``seen_version``."""
        with self._auth_lock:
            if self._token_version == seen_version:
                self._login()
            assert self._token is not None
            return self._token

    def _login(self) -> None:
        """Exchange the client key and secret for a token (caller holds the auth lock). A key
        or secret refused (401/403) is refused again without asking for LOGIN_REFUSED_HOLD_S,
        so the windows of a fetch, and the fetches after it, do not log in once each."""
        if not self._client_key:
            return
        if self._refused is not None:
            when, refusal = self._refused
            if time.monotonic() - when < LOGIN_REFUSED_HOLD_S:
                raise AuthError(refusal.message, status=refusal.status, hint=refusal.hint)
            self._refused = None
        body = {"clientKey": self._client_key, "clientSecret": self._client_secret}
        response = self._send("POST", LOGIN_PATH, json_body=body)
        if response.status_code in (401, 403):
            refusal = AuthError(
                f"Cloud4Wi refused the client key or secret (HTTP {response.status_code}).",
                status=response.status_code,
                hint="Check the client key and secret (Manage > Developers > APIs in Cloud4Wi).",
            )
            self._refused = (time.monotonic(), refusal)
            log.warning("Cloud4Wi refused the client key or secret; not logging in again")
            raise refusal
        if not 200 <= response.status_code < 300:
            raise self._error_for(response)
        token = None
        try:
            parsed = json.loads(response.content)
            token = parsed.get("token") if isinstance(parsed, dict) else None
        except (ValueError, RecursionError):
            pass
        if not isinstance(token, str) or not token:
            header = response.headers.get("Authorization") or ""
            token = header[7:].strip() if header.lower().startswith("bearer ") else header.strip()
        if not token and _looks_like_html(response.content):
            raise _not_json("login answer")
        if not token:
            raise AuthError(
                "Cloud4Wi's login answer carried no token.",
                hint="Try again in a minute; if it keeps failing, contact Cloud4Wi support.",
            )
        self._token = token
        self._token_version += 1
        log.info("logged in to Cloud4Wi")

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        token: str | None = None,
    ) -> _Answer:
        """One request through the retrying session, its body read in large chunks (few GIL
        hand-overs while other threads parse). Transport failures become TransportError, raised
        outside the ``except`` so no requests exception (with its headers) is chained."""
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        fetch: _FetchBudget | None = getattr(self._budgets, "fetch", None)
        now = time.monotonic()
        if fetch is not None and now > fetch.until:
            raise NotAnsweringError(
                f"Cloud4Wi is answering too slowly: the fetch took over {self.deadline:.0f} s."
            )
        until = now + self.patience
        self._budgets.until = min(until, fetch.until) if fetch is not None else until
        cause = timed_out = None
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                params=params,
                json=json_body,
                headers=headers,
                timeout=self.timeout,
                stream=True,
            )
            try:
                body = b"".join(response.iter_content(BODY_CHUNK))
            finally:
                response.close()
            return _Answer(response.status_code, response.headers, body)
        except requests.RequestException as exc:
            cause = _transport_cause(exc)
            timed_out = isinstance(exc, requests.Timeout) or cause in _TIMEOUT_CAUSES
        finally:
            self._budgets.until = None
        log.warning("request to Cloud4Wi failed: %s", cause)
        if timed_out:
            waited = time.monotonic() - now
            raise NotAnsweringError(
                f"Cloud4Wi is not answering: {cause} ({waited:.0f} s, retries included)."
            )
        raise TransportError(f"Cloud4Wi could not be reached: {cause}.")

    def _error_for(self, response: _Answer) -> C4WError:
        """The typed error for a non-2xx answer (after the session's retries)."""
        status = response.status_code
        said = _server_message(response.content)
        said = redact(said, self._secrets) if said else None
        detail = f"HTTP {status}: {said}" if said else f"HTTP {status}"
        if status in (401, 403):
            return AuthError(
                f"Cloud4Wi refused the request ({detail}): the token is invalid, expired or "
                "lacks permission.",
                status=status,
                hint=(
                    "Check the client key and secret in the app's settings; the API service "
                    "needs the Organization Manager role."
                    if self._client_key
                    else "Get a new token (tokens last one day), or configure a client key and "
                    "secret so the app can log in by itself."
                ),
            )
        if status == 410:
            return AuthError(
                f"Cloud4Wi says this API access was revoked ({detail}).",
                status=status,
                hint="Create new API credentials in Cloud4Wi (Manage > Developers > APIs).",
            )
        if status == 429:
            retry_after = _retry_after(response.headers.get("Retry-After"))
            return RateLimitError(
                f"Cloud4Wi kept answering 'too many requests' ({detail}).",
                retry_after=retry_after,
            )
        hint = None
        if status == 404:
            hint = "Check the organization id (C4W_ORG_ID) and the API address."
        elif status == 409:
            hint = "Cloud4Wi refused the query's parameters: change the dates or filters."
        elif status >= 500:
            hint = "Cloud4Wi is having trouble: try again in a few minutes."
        return APIError(
            f"Cloud4Wi answered with an error ({detail}).",
            status=status,
            server_message=said,
            hint=hint,
        )


# --- helpers -------------------------------------------------------------------------------------
def _relay(
    updates: queue.SimpleQueue[tuple[int, int, float | None] | None],
    tell: Callable[..., None],
    stop: threading.Event,
    *,
    scans: int = 0,
    received: int = 0,
    expected: int = 0,
) -> int:
    """Pass progress updates from the worker threads to ``tell`` on this thread until ``scans``
    scans have said they ended (a None each, so the last one is seen at once) and ``expected``
    page updates in all have arrived, or a failure stops the fetch (an announced wait is passed
    on, not counted). Returns how many page updates arrived."""
    ended = 0
    while not stop.is_set() and (ended < scans or received < expected):
        try:
            update = updates.get(timeout=0.05)
        except queue.Empty:
            continue
        if update is None:
            ended += 1
        else:
            received += update[2] is None
            tell(*update)
    return received


def _past_end(window: _Window, moment: pd.Timestamp) -> bool:
    """Whether an event at ``moment`` lies beyond the window in its scan direction."""
    if window.reverse:
        return window.keep_from is not None and moment < window.keep_from
    return window.keep_until is not None and moment >= window.keep_until


def _plain(window: _Window) -> _Window:
    """One plain scan (to the empty page) of exactly the rows ``window`` keeps."""
    start = window.keep_from.to_pydatetime() if window.keep_from is not None else None
    end = window.keep_until.to_pydatetime() if window.keep_until is not None else window.query_end
    return _Window(start, end, "utcTime", False, window.keep_from, window.keep_until, False)


def _only_types(page: pa.Table, types: tuple[str, ...] | None) -> pa.Table:
    """The rows of ``page`` of one of ``types`` (every row when None)."""
    if types is None:
        return page
    return page.filter(pc.is_in(page.column(schema.TYPE), value_set=pa.array(types, pa.string())))


_CONTACT_LISTS = ("customers", "contacts", "data", "items", "results")


def contacts_page(body: bytes) -> tuple[list[Any], str | None]:
    """The contacts of one Contacts answer and its next cursor (None when there is none).
    Raises TransportError when the answer is not JSON holding a list of contacts."""
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        parsed = None
    if isinstance(parsed, list):
        return parsed, None
    if isinstance(parsed, dict):
        for key in _CONTACT_LISTS:
            if isinstance(parsed.get(key), list):
                cursor = parsed.get("sid", parsed.get("scrollId"))
                cursor = cursor if isinstance(cursor, str) and cursor else None
                return parsed[key], cursor
    if _looks_like_html(body):
        raise _not_json("contacts request")
    raise TransportError(
        "The contacts answer from Cloud4Wi was not readable.",
        hint="Reload in a minute; the answer may have been cut off.",
    )


def _contact_key(item: Any) -> str:
    if isinstance(item, dict):
        return str(item.get("id") or item.get("customerId") or id(item))
    return str(id(item))


def _scroll_refused(exc: APIError) -> ScrollExpiredError:
    return ScrollExpiredError(
        f"Cloud4Wi kept refusing the result cursor (HTTP {exc.status}).",
        status=exc.status,
        server_message=exc.server_message,
    )


def _no_cursor() -> APIError:
    return APIError("Cloud4Wi returned a full page without a cursor to the next one.", status=200)


def _without_repeats(events: pd.DataFrame) -> pd.DataFrame:
    """``events`` without a second row for an event id already seen (rows without an id stay)."""
    ids = events[schema.EVENT_ID]
    repeated = ids.duplicated(keep="first") & ids.notna()
    return events[~repeated.to_numpy()] if bool(repeated.any()) else events


def _in_order(events: pd.DataFrame, sort_by: str, reverse: bool) -> pd.DataFrame:
    """Rows in ``sort_by`` order (UTC time or local business time), missing times last."""
    key = schema.CREATED_AT if sort_by == "utcTime" else schema.CREATED_AT_LOCAL
    times = events[key]
    done = times.is_monotonic_decreasing if reverse else times.is_monotonic_increasing
    if not done or times.hasnans:
        events = events.sort_values(key, ascending=not reverse, kind="stable", na_position="last")
    return events.reset_index(drop=True)


def _server_message(body: bytes) -> str | None:
    """The error body's ``message`` (or ``error``) text when it has one; the schema of error
    bodies is not published, so anything else gives None."""
    if not body or len(body) > 65_536:
        return None
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(parsed, dict):
        return None
    for key in ("message", "error", "detail"):
        value = parsed.get(key)
        if isinstance(value, str) and value.strip():
            text = " ".join(value.split())
            return text[:MAX_SERVER_MESSAGE] + ("…" if len(text) > MAX_SERVER_MESSAGE else "")
    return None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


_TIMEOUT_CAUSES = ("the connection timed out", "no answer before the time limit")


def _looks_like_html(body: bytes) -> bool:
    """Whether an answer's body is a markup page (HTML or XML) rather than JSON."""
    return body[:512].lstrip(b" \t\r\n\xef\xbb\xbf")[:1] == b"<"


def _not_json(what: str) -> NotJSONError:
    return NotJSONError(
        f"Cloud4Wi answered something that is not JSON (a web page) to the {what}: a proxy, a "
        "sign-in or maintenance page, or an API address that is a website."
    )


def _transport_cause(exc: BaseException) -> str:
    """A short cause for a requests failure, named without its URL or headers."""
    from urllib3 import exceptions as u3

    seen: list[BaseException] = []
    pending: list[Any] = [exc]
    while pending and len(seen) < 12:
        item = pending.pop()
        if isinstance(item, BaseException) and item not in seen:
            seen.append(item)
            pending.extend(item.args)
            pending.extend(filter(None, [getattr(item, "reason", None), item.__cause__]))
    kinds = tuple(type(item) for item in seen)

    def has(*types: type) -> bool:
        return any(issubclass(kind, types) for kind in kinds)

    # NewConnectionError (refused, unresolvable) subclasses ConnectTimeoutError: test it first
    if has(u3.NameResolutionError):
        return "the API address could not be resolved"
    if has(ConnectionRefusedError):
        return "the connection was refused"
    if has(u3.NewConnectionError):
        return "no connection could be made"
    if has(requests.exceptions.ConnectTimeout, u3.ConnectTimeoutError):
        return "the connection timed out"
    if has(requests.exceptions.ReadTimeout, u3.ReadTimeoutError, TimeoutError):
        return "no answer before the time limit"
    if has(requests.exceptions.SSLError, u3.SSLError):
        return "the secure connection failed"
    if has(requests.exceptions.ChunkedEncodingError, u3.IncompleteRead):
        return "the answer was cut off"
    if has(ConnectionResetError, u3.ProtocolError):
        return "the connection was dropped"
    if has(requests.exceptions.InvalidURL, requests.exceptions.MissingSchema):
        return "the API address is not a valid URL"
    return f"the request failed ({type(exc).__name__})"
