"""A local Cloud4Wi Explore API: the real contract over the demo organization, with faults.

Run ``python -m c4w.sandbox --port 8765`` and point the app at it with
``C4W_BASE_URL=http://127.0.0.1:8765``, the printed organization id and the sandbox credentials
(client key ``ck-sandbox``; the secret and the fixed token are ``SANDBOX_CLIENT_SECRET`` and
``SANDBOX_TOKEN`` in this module, printed only masked). Tests start one in a thread with
``serve_in_thread(...)`` and script faults on it.

What it speaks (see the reference notes): ``POST /v1/sts/login/services``;
``GET /v1/organizations/{cid}/events`` and ``.../customers/{id}/events`` with ``dateStart``,
``dateEnd`` (inclusive), ``events``, ``size`` (1..10000, else 409), ``sortBy``, ``sortReverse``,
``enableScroll``/``scrollId`` (ids expire); ``GET /v1/organizations/{cid}/locations``. Bearer
tokens are checked (403), an unknown organization is 404. Pages are joined from pre-encoded
event JSON, so serving stays cheap at a million events.

Faults are scripted per endpoint and per page of a scroll (or per request number): any status
(429 with or without ``Retry-After``, 5xx, 401, 403, 410), a connection reset, a stall past the
client's timeout, a truncated or cut-short body, a body that is not JSON, an expired scroll id, an
expired token. A sandbox started from the command line also takes faults at ``POST
/_sandbox/faults`` and shows its request log at ``GET /_sandbox/requests``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import hmac
import json
import re
import secrets
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np

from c4w import schema

SANDBOX_TOKEN = "c4w-sandbox-token-0123456789abcdef"
SANDBOX_CLIENT_KEY = "ck-sandbox"
SANDBOX_CLIENT_SECRET = "sandbox-secret-0123456789abcdef01"
MAX_PAGE_SIZE = 10_000
DEFAULT_PAGE_SIZE = 100  # the vendor does not publish one
SCROLL_TTL_S = 120.0  # the legacy v2 API expired scroll ids after 2 minutes
MAX_SCROLLS = 2_000
SCROLL_ERROR_STATUS = 404

CONTACTS_PATH = ("v2", "customers", "organizations")  # then the organization id
ENDPOINTS = ("login", "events", "contact", "locations", "contacts")
NAMED_FAULTS = (
    "reset",  # the connection is reset without an answer
    "timeout",  # the answer is held back for delay_s (past the client's read timeout)
    "truncated",  # 200 with a JSON body cut in half (its Content-Length matches what is sent)
    "cut_short",  # 200 announcing the full length, then the connection closes half-way
    "not_json",  # 200 with an HTML page instead of JSON (a proxy's error page)
    "scroll_expired",  # the request's scroll id is refused as expired (and forgotten)
    "token_expired",  # the request's token expires now: 403, and 403 for it from now on
)


# --- the data it serves ------------------------------------------------------------------------
class EventSource(Protocol):
    """What the sandbox serves: ``c4w.demo.DemoOrg`` fits, as does ``StaticSource``."""

    org_id: str
    event_lines: Sequence[bytes]  # one event per item, compact JSON, sorted by createdAt
    created_at: np.ndarray  # int64 epoch seconds (UTC), aligned with event_lines
    types: np.ndarray  # event type names, aligned
    contact_ids: np.ndarray  # contact ids, aligned
    locations: list[dict]  # items of the locations endpoint


@dataclass
class StaticSource:
    """An event source built from a list of event dicts (for tests and small fixtures)."""

    org_id: str
    event_lines: list[bytes]
    created_at: np.ndarray
    types: np.ndarray
    contact_ids: np.ndarray
    locations: list[dict] = field(default_factory=list)
    contacts: list[dict] = field(default_factory=list)  # items of the Contacts endpoint


def source_from_events(
    events: Iterable[dict], org_id: str, locations: Iterable[dict] = ()
) -> StaticSource:
    """A ``StaticSource`` over ``events`` (nested or flat API shape), sorted by createdAt.

    An event without a readable createdAt sorts first (epoch 0), like a server would keep it.
    """
    rows = []
    for event in events:
        when = event.get("when") if isinstance(event.get("when"), dict) else {}
        body = event.get("event") if isinstance(event.get("event"), dict) else event
        stamp = _epoch_or_none(when.get("createdAt") or event.get("createdAt"))
        rows.append(
            (
                stamp if stamp is not None else 0,
                str(body.get("type") or ""),
                str(event.get("customerId") or ""),
                json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8"),
            )
        )
    rows.sort(key=lambda row: row[0])
    return StaticSource(
        org_id=org_id,
        event_lines=[row[3] for row in rows],
        created_at=np.array([row[0] for row in rows], dtype=np.int64),
        types=np.array([row[1] for row in rows], dtype=str),
        contact_ids=np.array([row[2] for row in rows], dtype=str),
        locations=list(locations),
    )


@functools.lru_cache(maxsize=2)
def demo_source(n_events: int | None = None, seed: int = 7, end: dt.datetime | None = None):
    """The demo organization (``c4w.demo``), built once per process for each size."""
    from c4w.demo import build_demo

    return build_demo(n_events, seed=seed, end=end)


_LOCAL_TIME = re.compile(rb'"createdAtLocal"\s*:\s*"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)')


def _local_epochs(source: EventSource) -> np.ndarray:
    """Business time (the location's wall clock, as epoch seconds) of every event: the source's
    ``created_at_local`` when it has one, else read from ``createdAtLocal`` (the UTC time stands
    in where an event has none)."""
    given = getattr(source, "created_at_local", None)
    if given is not None and len(given) == len(source.event_lines):
        return np.asarray(given, dtype=np.int64)
    stamps = np.array(source.created_at, dtype="datetime64[s]")
    for i, line in enumerate(source.event_lines):
        found = _LOCAL_TIME.search(line)
        if found:
            stamps[i] = np.datetime64(found.group(1).decode("ascii"), "s")
    return stamps.astype(np.int64)


def _epoch_or_none(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())


def _api_time(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- faults ------------------------------------------------------------------------------------
@dataclass
class Fault:
    """One scripted misbehaviour.

    ``kind``: an HTTP status (int, e.g. 429, 503, 410) or one of ``NAMED_FAULTS``. It fires on
    requests to ``endpoint`` ("events", "contact", "locations", "login" or "*") that ask for scroll
    page ``page`` (1 = the request without a scroll id) and/or are the ``request``-th request to
    that endpoint (1-based, retries included); ``times`` is how often it fires (None = always).
    ``retry_after`` goes into a ``Retry-After`` header; ``delay_s`` is how long "timeout" stalls.
    """

    kind: int | str
    page: int | None = None
    request: int | None = None
    endpoint: str = "events"
    times: int | None = 1
    retry_after: int | str | None = None
    delay_s: float = 2.0
    message: str | None = None
    fired: int = 0

    def __post_init__(self) -> None:
        if isinstance(self.kind, str) and self.kind.isdigit():
            self.kind = int(self.kind)
        if isinstance(self.kind, int):
            if not 400 <= self.kind <= 599:
                raise ValueError(f"fault status must be 4xx or 5xx, not {self.kind}")
        elif self.kind not in NAMED_FAULTS:
            raise ValueError(f"unknown fault {self.kind!r}; use a status or one of {NAMED_FAULTS}")
        if self.endpoint not in (*ENDPOINTS, "*"):
            raise ValueError(f"unknown endpoint {self.endpoint!r}")

    def matches(self, endpoint: str, page: int | None, request_no: int, scrolled: bool) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.endpoint not in ("*", endpoint):
            return False
        if self.page is not None and self.page != page:
            return False
        if self.request is not None and self.request != request_no:
            return False
        return self.kind != "scroll_expired" or scrolled


def parse_fault(spec: str) -> Fault:
    """A fault from ``KIND[:key=value,...]``, e.g. ``503:page=3,times=2`` or
    ``429:retry_after=1`` or ``timeout:page=2,delay_s=5`` (``times=0`` means always)."""
    kind, _, rest = spec.partition(":")
    options: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, _, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if key in ("page", "request", "times"):
            options[key] = int(value)
        elif key == "delay_s" or key == "delay":
            options["delay_s"] = float(value)
        elif key in ("retry_after", "endpoint", "message"):
            options[key] = value.strip()
        else:
            raise ValueError(f"unknown fault option {key!r} in {spec!r}")
    if options.get("times") == 0:
        options["times"] = None
    return Fault(kind.strip(), **options)


# --- server state ------------------------------------------------------------------------------
@dataclass
class _Scroll:
    indices: np.ndarray
    size: int
    offset: int
    page: int
    expires: float


@dataclass
class _Query:
    indices: np.ndarray
    size: int
    page: int
    offset: int
    scroll: bool


class _BadRequest(Exception):
    """A request the API answers with an error status (409 for semantic errors)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SandboxState:
    """Everything one sandbox server knows: the data, the credentials, scrolls, faults, a log."""

    def __init__(
        self,
        source: EventSource,
        *,
        token: str = SANDBOX_TOKEN,
        client_key: str = SANDBOX_CLIENT_KEY,
        client_secret: str = SANDBOX_CLIENT_SECRET,
        latency_s: float = 0.0,
        scroll_ttl_s: float = SCROLL_TTL_S,
        scroll_error_status: int = SCROLL_ERROR_STATUS,
        verbose: bool = False,
    ) -> None:
        self.source = source
        self.org_id = str(source.org_id)
        self.token = token
        self.client_key = client_key
        self.client_secret = client_secret
        self.latency_s = latency_s
        self.scroll_ttl_s = scroll_ttl_s
        self.scroll_error_status = scroll_error_status
        self.verbose = verbose
        self.lock = threading.Lock()
        self.created_at = np.asarray(source.created_at, dtype=np.int64)
        self.types = np.asarray(source.types).astype(str)
        self.contact_ids = np.asarray(source.contact_ids).astype(str)
        self._local: np.ndarray | None = None
        self.reset()

    def reset(self) -> None:
        """Back to a fresh start: only the fixed token valid, no scrolls, faults or log."""
        with self.lock:
            self.tokens = {self.token}
            self.scrolls: dict[str, _Scroll] = {}
            self.faults: list[Fault] = []
            self.log: list[dict[str, Any]] = []
            self.counts = dict.fromkeys(ENDPOINTS, 0)
            self.logins_ok = 0

    # -- data -----------------------------------------------------------------------------------
    @property
    def local_epochs(self) -> np.ndarray:
        with self.lock:
            if self._local is None:
                self._local = _local_epochs(self.source)
            return self._local

    def select(
        self,
        start: int | None,
        end: int | None,
        types: list[str] | None,
        contact: str | None,
        sort_by: str,
        reverse: bool,
    ) -> np.ndarray:
        """Indices of matching events in the asked order (createdAt is already ascending)."""
        lo = int(np.searchsorted(self.created_at, start, "left")) if start is not None else 0
        hi = len(self.created_at)
        if end is not None:
            hi = int(np.searchsorted(self.created_at, end, "right"))
        indices = np.arange(lo, max(lo, hi), dtype=np.int64)
        if types:
            indices = indices[np.isin(self.types[indices], types)]
        if contact is not None:
            indices = indices[self.contact_ids[indices] == contact]
        if sort_by == "businessTime":
            indices = indices[np.argsort(self.local_epochs[indices], kind="stable")]
        return indices[::-1].copy() if reverse else indices

    def page_body(self, indices: np.ndarray, count: int, scroll_id: str | None) -> bytes:
        """A response body joined from the pre-encoded events (``count`` = the query's total)."""
        head: dict[str, Any] = {"generated": _api_time(time.time()), "count": count}
        if scroll_id is not None:
            head["scrollId"] = scroll_id
        lines = self.source.event_lines
        events = b",".join([lines[i] for i in indices.tolist()])
        return json.dumps(head).encode()[:-1] + b',"events":[' + events + b"]}"

    # -- scrolls --------------------------------------------------------------------------------
    def new_scroll(self, scroll: _Scroll) -> str:
        scroll_id = secrets.token_urlsafe(18)
        now = time.monotonic()
        with self.lock:
            if len(self.scrolls) >= MAX_SCROLLS:
                live = {k: v for k, v in self.scrolls.items() if v.expires > now}
                while len(live) >= MAX_SCROLLS:
                    live.pop(next(iter(live)))
                self.scrolls = live
            self.scrolls[scroll_id] = scroll
        return scroll_id

    def find_scroll(self, scroll_id: str) -> _Scroll | None:
        with self.lock:
            scroll = self.scrolls.get(scroll_id)
            if scroll is None or scroll.expires <= time.monotonic():
                self.scrolls.pop(scroll_id, None)
                return None
            return scroll

    def forget_scroll(self, scroll_id: str) -> None:
        with self.lock:
            self.scrolls.pop(scroll_id, None)

    # -- faults and log -------------------------------------------------------------------------
    def count_request(self, endpoint: str) -> int:
        with self.lock:
            self.counts[endpoint] += 1
            return self.counts[endpoint]

    def take_fault(
        self, endpoint: str, page: int | None, request_no: int, scrolled: bool
    ) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(endpoint, page, request_no, scrolled):
                    fault.fired += 1
                    return fault
        return None

    def record(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.log.append(entry)


# --- HTTP ----------------------------------------------------------------------------------------
class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: SandboxState) -> None:
        self.state = state
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request, client_address) -> None:  # noqa: ANN001
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:  # noqa: ANN001
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Close every open client connection (idle keep-alive ones included)."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _flag(value: str | None, name: str) -> bool:
    if value is None or value == "":
        return False
    lowered = value.strip().lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise _BadRequest(409, f"{name} must be true or false")


def _param_time(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    epoch = _epoch_or_none(value)
    if epoch is None:
        raise _BadRequest(409, f"{name} must be an ISO-8601 date, e.g. 2019-07-31T22:23:24Z")
    return epoch


def _page_size(text: str | None) -> int:
    """The ``size`` parameter: 1..10000, DEFAULT_PAGE_SIZE when not given."""
    if text in (None, ""):
        return DEFAULT_PAGE_SIZE
    try:
        size = int(text)
    except ValueError:
        raise _BadRequest(409, "size must be a number between 1 and 10000") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise _BadRequest(409, "size must be between 1 and 10000")
    return size


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "C4WSandbox/1.0"
    timeout = 60  # idle keep-alive connections are closed after a minute
    disable_nagle_algorithm = True  # headers and body leave at once (no 40 ms delayed-ACK stall)
    server: _Server

    # -- plumbing -------------------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet by default; never prints headers or bodies (they carry credentials)."""
        if self.server.state.verbose:
            sys.stderr.write(f"sandbox: {self.command} {urlsplit(self.path).path}\n")

    def _send(
        self,
        status: int,
        body: bytes,
        headers: Iterable[tuple[str, str]] = (),
        content_type: str = "application/json; charset=utf-8",
        length: int | None = None,
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body) if length is None else length))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client went away (it timed out, or was reset): nothing to do
            self.close_connection = True

    def _error(self, status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        body = json.dumps({"status": status, "message": message}).encode()
        self._send(status, body, headers)

    def _reset(self) -> None:
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    # -- routing --------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        state = self.server.state
        raw = urlsplit(self.path)
        segments = [unquote(part) for part in raw.path.split("/")[1:]]
        query = {k: v[-1] for k, v in parse_qs(raw.query, keep_blank_values=True).items()}
        body = self._read_body() if method == "POST" else b""
        if segments and segments[0] == "_sandbox":
            self._admin(method, segments[1:], body)
            return
        entry: dict[str, Any] = {"method": method, "path": raw.path, "query": query}
        endpoint, org, contact = self._route(method, segments)
        entry.update(endpoint=endpoint, org_id=org, contact_id=contact, page=None, fault=None)
        entry["status"] = None  # filled in when answered (None while a stalled answer waits)
        state.record(entry)
        if state.latency_s:
            time.sleep(state.latency_s)
        try:
            if endpoint is None:
                raise _BadRequest(404, "No such endpoint")
            if endpoint == "login":
                self._login(entry, body)
            else:
                self._authorised_call(entry, endpoint, org, contact, query)
        except _BadRequest as exc:
            entry["status"] = exc.status
            self._error(exc.status, exc.message)

    @staticmethod
    def _route(method: str, parts: list[str]) -> tuple[str | None, str | None, str | None]:
        if method == "POST" and parts == ["v1", "sts", "login", "services"]:
            return "login", None, None
        if method == "GET" and len(parts) == 4 and parts[:3] == list(CONTACTS_PATH):
            return "contacts", parts[3], None
        if method != "GET" or len(parts) < 4 or parts[:2] != ["v1", "organizations"]:
            return None, None, None
        org = parts[2]
        if parts[3:] == ["events"]:
            return "events", org, None
        if parts[3:] == ["locations"]:
            return "locations", org, None
        if len(parts) == 6 and parts[3] == "customers" and parts[5] == "events":
            return "contact", org, parts[4]
        return None, None, None

    # -- endpoints ------------------------------------------------------------------------------
    def _login(self, entry: dict[str, Any], body: bytes) -> None:
        state = self.server.state
        number = state.count_request("login")
        fault = state.take_fault("login", None, number, False)
        if fault is not None:
            entry["fault"] = str(fault.kind)
            entry["status"] = self._apply_fault(fault, None, None)
            return
        try:
            sent = json.loads(body or b"{}")
        except ValueError:
            raise _BadRequest(409, "The body must be JSON") from None
        key = sent.get("clientKey") if isinstance(sent, dict) else None
        secret = sent.get("clientSecret") if isinstance(sent, dict) else None
        good = (
            isinstance(key, str)
            and isinstance(secret, str)
            and hmac.compare_digest(key.encode(), state.client_key.encode())
            and hmac.compare_digest(secret.encode(), state.client_secret.encode())
        )
        if not good:
            raise _BadRequest(401, "Invalid client key or client secret")
        token = "sbx-" + secrets.token_hex(24)
        with state.lock:
            state.tokens.add(token)
            state.logins_ok += 1
        entry["status"] = 200
        self._send(200, json.dumps({"token": token}).encode(), [("Authorization", token)])

    def _authorised_call(
        self,
        entry: dict[str, Any],
        endpoint: str,
        org: str | None,
        contact: str | None,
        query: dict[str, str],
    ) -> None:
        state = self.server.state
        number = state.count_request(endpoint)
        header = self.headers.get("Authorization") or ""
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        entry["authorised"] = bool(token)
        with state.lock:
            valid = bool(token) and token in state.tokens
        if not valid:
            raise _BadRequest(403, "The token is invalid or expired")
        if org != state.org_id:
            raise _BadRequest(404, "Organization not found")
        if endpoint == "locations":
            fault = state.take_fault(endpoint, 1, number, False)
            entry["page"] = 1
            if fault is not None:
                entry["fault"] = str(fault.kind)
                entry["status"] = self._apply_fault(fault, token, None)
                return
            entry["status"] = 200
            self._send(200, self._locations_body(query.get("tags")))
            return
        if endpoint == "contacts":
            self._contacts(entry, number, token, query)
            return
        plan = self._plan(query, contact)
        entry["page"] = plan.page
        scroll_id = query.get("scrollId") or None
        fault = state.take_fault(endpoint, plan.page, number, scroll_id is not None)
        if fault is not None:
            entry["fault"] = str(fault.kind)
            entry["status"] = self._apply_fault(fault, token, scroll_id, plan)
            return
        entry["status"] = 200
        self._send(200, self._events_body(plan))

    def _plan(self, query: dict[str, str], contact: str | None) -> _Query:
        """Which events this request gets: a fresh query, or the next page of a scroll."""
        state = self.server.state
        size_text = query.get("size")
        size = _page_size(size_text)
        scroll_id = query.get("scrollId") or None
        if scroll_id is not None:
            scroll = state.find_scroll(scroll_id)
            if scroll is None:
                raise _BadRequest(state.scroll_error_status, "scrollId not found or expired")
            if size_text not in (None, "") and size != scroll.size:
                raise _BadRequest(409, "size cannot change during a scroll")
            return _Query(scroll.indices, scroll.size, scroll.page, scroll.offset, True)
        sort_by = query.get("sortBy") or "businessTime"
        if sort_by not in ("businessTime", "utcTime"):
            raise _BadRequest(409, "sortBy must be businessTime or utcTime")
        reverse = _flag(query.get("sortReverse"), "sortReverse")
        scroll = _flag(query.get("enableScroll"), "enableScroll")
        start = _param_time(query.get("dateStart"), "dateStart")
        end = _param_time(query.get("dateEnd"), "dateEnd")
        types = None
        if query.get("events"):
            types = [name.strip() for name in query["events"].split(",") if name.strip()]
            unknown = sorted(set(types) - set(schema.FILTERABLE_TYPES))
            if unknown:
                raise _BadRequest(409, f"Unknown event type(s): {', '.join(unknown)}")
        indices = state.select(start, end, types, contact, sort_by, reverse)
        return _Query(indices, size, 1, 0, scroll)

    def _events_body(self, plan: _Query) -> bytes:
        state = self.server.state
        page = plan.indices[plan.offset : plan.offset + plan.size]
        scroll_id = None
        if plan.scroll:
            following = _Scroll(
                plan.indices,
                plan.size,
                plan.offset + len(page),
                plan.page + 1,
                time.monotonic() + state.scroll_ttl_s,
            )
            scroll_id = state.new_scroll(following)
        return state.page_body(page, len(plan.indices), scroll_id)

    def _contacts(
        self, entry: dict[str, Any], number: int, token: str, query: dict[str, str]
    ) -> None:
        """The Contacts endpoint: ``size`` (1..10000) contacts a page, the next page by ``sid``;
        the answer is ``{"generated", "count", "sid", "customers": [...]}``, an empty
        ``customers`` list once every contact was sent."""
        state = self.server.state
        everyone = list(getattr(state.source, "contacts", None) or [])
        sid = query.get("sid") or None
        if sid is not None:
            scroll = state.find_scroll(sid)
            if scroll is None:
                raise _BadRequest(state.scroll_error_status, "sid not found or expired")
            plan = _Query(scroll.indices, scroll.size, scroll.page, scroll.offset, True)
        else:
            size = _page_size(query.get("size"))
            plan = _Query(np.arange(len(everyone)), size, 1, 0, True)
        entry["page"] = plan.page
        page = plan.indices[plan.offset : plan.offset + plan.size]
        following = _Scroll(
            plan.indices,
            plan.size,
            plan.offset + len(page),
            plan.page + 1,
            time.monotonic() + state.scroll_ttl_s,
        )
        head = {"generated": _api_time(time.time()), "count": len(everyone)}
        head["sid"] = state.new_scroll(following)
        head["customers"] = [everyone[i] for i in page.tolist()]
        body = json.dumps(head, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        fault = state.take_fault("contacts", plan.page, number, sid is not None)
        if fault is not None:
            entry["fault"] = str(fault.kind)
            entry["status"] = self._apply_fault(fault, token, sid, body=body)
            return
        entry["status"] = 200
        self._send(200, body)

    def _locations_body(self, tags: str | None) -> bytes:
        items = list(self.server.state.source.locations)
        if tags:
            wanted = {tag.strip() for tag in tags.split(",") if tag.strip()}
            items = [item for item in items if wanted & set(item.get("tags") or ())]
        head = {"generated": _api_time(time.time()), "size": len(items), "locations": items}
        return json.dumps(head, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def _apply_fault(
        self,
        fault: Fault,
        token: str | None,
        scroll_id: str | None,
        plan: _Query | None = None,
        body: bytes | None = None,
    ) -> int:
        """Misbehave as scripted; returns the status sent (0 when no answer was sent)."""
        state = self.server.state
        kind = fault.kind
        if isinstance(kind, int):
            headers = []
            if fault.retry_after is not None:
                headers.append(("Retry-After", str(fault.retry_after)))
            self._error(kind, fault.message or f"Scripted error {kind}", headers)
            return kind
        if kind == "reset":
            self._reset()
            return 0
        if kind == "timeout":
            time.sleep(fault.delay_s)
            self._reset()
            return 0
        if kind == "scroll_expired":
            if scroll_id:
                state.forget_scroll(scroll_id)
            status = state.scroll_error_status
            self._error(status, fault.message or "scrollId not found or expired")
            return status
        if kind == "token_expired":
            with state.lock:
                state.tokens.discard(token or "")
            self._error(403, fault.message or "The token is invalid or expired")
            return 403
        if kind == "not_json":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            self._send(200, page, content_type="text/html")
            return 200
        if body is None:
            body = self._events_body(plan) if plan is not None else self._locations_body(None)
        half = body[: max(1, len(body) // 2)]
        if kind == "truncated":
            self._send(200, half)
        else:  # cut_short: announce the whole body, send half, hang up
            self._send(200, half, length=len(body))
            self._reset()
        return 200

    # -- sandbox administration (local scripting for out-of-process tests) ----------------------
    def _admin(self, method: str, parts: list[str], body: bytes) -> None:
        state = self.server.state
        if method == "GET" and parts == ["health"]:
            info = {"ok": True, "org_id": state.org_id, "events": len(state.created_at)}
            self._send(200, json.dumps(info).encode())
        elif method == "GET" and parts == ["requests"]:
            with state.lock:
                log = list(state.log)
            self._send(200, json.dumps(log, default=str).encode())
        elif method == "POST" and parts == ["faults"]:
            try:
                items = json.loads(body or b"[]")
                faults = [Fault(**item) for item in (items if isinstance(items, list) else [])]
            except (TypeError, ValueError) as exc:
                self._error(409, f"Bad fault list: {exc}")
                return
            with state.lock:
                state.faults.extend(faults)
            self._send(200, json.dumps({"faults": len(state.faults)}).encode())
        elif method == "POST" and parts == ["reset"]:
            state.reset()
            self._send(200, b'{"ok":true}')
        else:
            self._error(404, "No such sandbox endpoint")


# --- running it ----------------------------------------------------------------------------------
def mask(secret: str) -> str:
    """``abcd…wxyz`` for long values, ``…`` for short ones: enough to recognise, not to use."""
    return f"{secret[:4]}…{secret[-4:]}" if len(secret) >= 16 else "…"


class Sandbox:
    """A running sandbox: its address and credentials, fault scripting, its request log."""

    def __init__(self, server: _Server, thread: threading.Thread | None) -> None:
        self._server = server
        self._thread = thread
        self.state = server.state
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self.org_id = self.state.org_id
        self.token = self.state.token
        self.client_key = self.state.client_key
        self.client_secret = self.state.client_secret

    def __repr__(self) -> str:
        return f"Sandbox(url={self.url!r}, org_id={self.org_id!r}, token={mask(self.token)!r})"

    def add_fault(self, kind: int | str, **options: Any) -> Fault:
        """Script a fault (see ``Fault``); returns it, so a test can read ``.fired``."""
        fault = Fault(kind, **options)
        with self.state.lock:
            self.state.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.faults.clear()

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every API request answered so far (method, path, query, endpoint, page, status)."""
        with self.state.lock:
            return [dict(entry) for entry in self.state.log]

    def requests_to(self, endpoint: str) -> list[dict[str, Any]]:
        return [entry for entry in self.requests if entry.get("endpoint") == endpoint]

    @property
    def logins(self) -> int:
        """Successful logins so far."""
        return self.state.logins_ok

    def expire_tokens(self) -> None:
        """Every token, the fixed one included, stops working (as after a day)."""
        with self.state.lock:
            self.state.tokens.clear()

    def reset(self) -> None:
        self.state.reset()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def serve_in_thread(
    source: EventSource | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str = SANDBOX_TOKEN,
    client_key: str = SANDBOX_CLIENT_KEY,
    client_secret: str = SANDBOX_CLIENT_SECRET,
    latency_ms: float = 0.0,
    scroll_ttl_s: float = SCROLL_TTL_S,
    scroll_error_status: int = SCROLL_ERROR_STATUS,
    faults: Iterable[Fault] = (),
    n_events: int | None = None,
) -> Sandbox:
    """Start a sandbox on ``host:port`` (0 = a free port) in a daemon thread and return it.

    ``source`` defaults to the demo organization (``n_events`` or ``C4W_DEMO_EVENTS``).
    """
    state = SandboxState(
        source if source is not None else demo_source(n_events),
        token=token,
        client_key=client_key,
        client_secret=client_secret,
        latency_s=latency_ms / 1000.0,
        scroll_ttl_s=scroll_ttl_s,
        scroll_error_status=scroll_error_status,
    )
    state.faults.extend(faults)
    server = _Server((host, port), state)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="c4w-sandbox", daemon=True
    )
    thread.start()
    return Sandbox(server, thread)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m c4w.sandbox", description="A local Cloud4Wi Explore API over demo data."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every answer")
    parser.add_argument(
        "--events", type=int, default=None, help="demo size (default: C4W_DEMO_EVENTS or 150000)"
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--end", default=None, help="end of the demo's 90 days (ISO, UTC)")
    parser.add_argument(
        "--token",
        default=None,
        help="fixed token to accept (default: env C4W_SANDBOX_TOKEN or c4w.sandbox.SANDBOX_TOKEN)",
    )
    parser.add_argument("--scroll-ttl", type=float, default=SCROLL_TTL_S, help="seconds")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="scripted fault KIND[:key=value,...], e.g. 503:page=3,times=2 (repeatable)",
    )
    parser.add_argument("--verbose", action="store_true", help="print each request's path")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Serve until interrupted, printing how to connect (secrets only masked)."""
    import os

    args = _parse_args(argv)
    token = args.token or os.environ.get("C4W_SANDBOX_TOKEN") or SANDBOX_TOKEN
    end = dt.datetime.fromisoformat(args.end) if args.end else None
    if end is not None and end.tzinfo is None:
        end = end.replace(tzinfo=dt.UTC)
    faults = [parse_fault(spec) for spec in args.fault]
    source = demo_source(args.events, args.seed, end)
    state = SandboxState(
        source,
        token=token,
        latency_s=args.latency_ms / 1000.0,
        scroll_ttl_s=args.scroll_ttl,
        verbose=args.verbose,
    )
    state.faults.extend(faults)
    server = _Server((args.host, args.port), state)
    url = f"http://{args.host}:{server.server_address[1]}"
    token_hint = "the token you passed" if token != SANDBOX_TOKEN else "c4w.sandbox.SANDBOX_TOKEN"
    print(
        f"Cloud4Wi sandbox API at {url}\n"
        f"  organization  {state.org_id}  ({len(state.created_at):,} events)\n"
        f"  token         {mask(token)}  ({token_hint})\n"
        f"  client key    {state.client_key}  (secret {mask(state.client_secret)}: "
        "c4w.sandbox.SANDBOX_CLIENT_SECRET)\n"
        f"  faults        {', '.join(str(asdict(f)) for f in faults) or 'none'}\n"
        "Live mode against it:\n"
        f"  C4W_BASE_URL={url} C4W_ORG_ID={state.org_id} C4W_CLIENT_KEY={state.client_key} \\\n"
        "  C4W_CLIENT_SECRET=\"$(python -c 'import c4w.sandbox as s; "
        "print(s.SANDBOX_CLIENT_SECRET)')\" make run",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
