"""The fault matrix: each scripted fault at the first, a middle and the last page of a multi-page
fetch, over real HTTP against the sandbox. Either every event arrives exactly once (the same ids
as a clean fetch) or the fetch ends in the right typed error with a short hint, and the client
keeps working for the next fetch.

The fetch: 27 events, pages of 6 -> pages 1-4 hold 6 events, page 5 holds 3, page 6 is the
closing empty page. "first" is page 1, "middle" page 3, "last" page 5 (the last with events).
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from c4w import client as client_module
from c4w import schema
from c4w.client import Client
from c4w.errors import APIError, AuthError, RateLimitError, ScrollExpiredError, TransportError
from c4w.sandbox import source_from_events
from tests.conftest import LOCATIONS, ORG_ID, nested_events

EVENTS = nested_events(27, seed=2, days=10)
ALL_IDS = sorted(e["event"]["id"] for e in EVENTS)
PAGE = 6
POSITIONS = {"first": 1, "middle": 3, "last": 5}
TIMEOUT_S = 0.8  # the client's read timeout; the "timeout" fault stalls twice as long


@pytest.fixture(scope="module")
def source():
    return source_from_events(EVENTS, ORG_ID, LOCATIONS)


@pytest.fixture
def box(sandbox_factory, source):
    return sandbox_factory(source)


def client_for(box, credentials: str = "token", **options) -> Client:
    options.setdefault("timeout", TIMEOUT_S)
    options.setdefault("backoff_factor", 0.001)
    options.setdefault("retries", 3)
    if credentials == "key":
        return Client(
            box.url, client_key=box.client_key, client_secret=box.client_secret, **options
        )
    return Client(box.url, token=box.token, **options)


def fetch_ids(client: Client, **options) -> list[str]:
    options.setdefault("page_size", PAGE)
    options.setdefault("workers", 1)
    return sorted(client.org_events(ORG_ID, **options)[schema.EVENT_ID].tolist())


def test_a_clean_fetch_has_every_event_once(box):
    assert fetch_ids(client_for(box)) == ALL_IDS
    # 27 events in pages of 6: 5 pages with events and the closing empty one
    assert [entry["page"] for entry in box.requests_to("events")] == [1, 2, 3, 4, 5, 6]


# (label, faults to script at the page, credentials, expected error or None when survived)
SURVIVED = [
    ("429 with Retry-After", [{"kind": 429, "retry_after": 1}], "token"),
    ("429 without Retry-After", [{"kind": 429, "times": 2}], "token"),
    ("500", [{"kind": 500, "times": 2}], "token"),
    ("502", [{"kind": 502, "times": 2}], "token"),
    ("503", [{"kind": 503, "times": 2}], "token"),
    ("504", [{"kind": 504, "times": 2}], "token"),
    ("connection reset", [{"kind": "reset"}], "token"),
    ("read timeout", [{"kind": "timeout", "delay_s": 2 * TIMEOUT_S}], "token"),
    ("scroll id expired", [{"kind": "scroll_expired"}], "token"),
    ("403 expired token, with key and secret", [{"kind": "token_expired"}], "key"),
]
FAILED = [
    ("truncated JSON body", [{"kind": "truncated"}], "token", TransportError, 200),
    ("body cut short", [{"kind": "cut_short"}], "token", TransportError, None),
    ("HTML instead of JSON", [{"kind": "not_json"}], "token", TransportError, 200),
    ("403 expired token, token only", [{"kind": "token_expired"}], "token", AuthError, 403),
    (
        "401 bad credentials",  # the token expires and the fresh login is refused
        [{"kind": "token_expired"}, {"kind": 401, "endpoint": "login", "request": 2}],
        "key",
        AuthError,
        401,
    ),
    ("410 revoked", [{"kind": 410}], "token", AuthError, 410),
]


def script(box, faults: list[dict], page: int) -> list:
    scripted = []
    for fault in faults:
        options = dict(fault)
        if options.get("endpoint", "events") == "events":
            # a scroll id first travels with page 2: an expiring one cannot be refused earlier
            options["page"] = max(page, 2) if options["kind"] == "scroll_expired" else page
        scripted.append(box.add_fault(options.pop("kind"), **options))
    return scripted


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize(("label", "faults", "credentials"), SURVIVED, ids=[r[0] for r in SURVIVED])
def test_fault_is_survived_with_every_event_once(box, label, faults, credentials, position):
    client = client_for(box, credentials)
    scripted = script(box, faults, POSITIONS[position])
    started = time.monotonic()
    assert fetch_ids(client) == ALL_IDS
    assert all(fault.fired >= 1 for fault in scripted)
    if label == "429 with Retry-After":
        assert time.monotonic() - started >= 1.0  # the client waited as the server asked
    if credentials == "key":
        assert box.logins == 2  # the first login and exactly one more


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize(
    ("label", "faults", "credentials", "error", "status"), FAILED, ids=[r[0] for r in FAILED]
)
def test_fault_becomes_a_typed_error_and_the_client_keeps_working(
    box, label, faults, credentials, error, status, position, monkeypatch
):
    client = client_for(box, credentials)
    scripted = script(box, faults, POSITIONS[position])
    with pytest.raises(error) as caught:
        fetch_ids(client)
    assert all(fault.fired >= 1 for fault in scripted)
    assert getattr(caught.value, "status", None) in (status, None)
    assert caught.value.hint and len(str(caught.value)) < 300
    if credentials == "key":
        assert len(box.requests_to("login")) == 2  # one fresh login tried, not a loop of them
    if label == "401 bad credentials":
        # a refused key/secret is not tried again at once (failed logins can lock an account) ...
        with pytest.raises(AuthError):
            fetch_ids(client)
        assert len(box.requests_to("login")) == 2
        monkeypatch.setattr(client_module, "LOGIN_REFUSED_HOLD_S", 0.0)  # ... until it passed
    if label != "403 expired token, token only":  # that token is gone for good
        assert fetch_ids(client) == ALL_IDS  # the next fetch works


@pytest.mark.parametrize(
    "fault",
    [{"kind": 503, "times": 2}, {"kind": "reset"}, {"kind": "scroll_expired"}],
    ids=["503", "reset", "scroll id expired"],
)
def test_fault_on_the_closing_empty_page_is_survived(box, fault):
    script(box, [fault], 6)
    assert fetch_ids(client_for(box)) == ALL_IDS


# --- faults that last: bounded retries, then the right error --------------------------------------
def test_a_lasting_5xx_is_retried_a_bounded_number_of_times(box):
    box.add_fault(503, page=3, times=None, message="maintenance")
    with pytest.raises(APIError) as caught:
        fetch_ids(client_for(box, retries=3))
    assert caught.value.status == 503 and caught.value.server_message == "maintenance"
    # pages 1 and 2 once each, page 3 asked 1 + 3 retries = 4 times, nothing after it
    assert [entry["page"] for entry in box.requests_to("events")] == [1, 2, 3, 3, 3, 3]


def test_a_lasting_429_is_a_rate_limit_error_with_the_wait(box):
    box.add_fault(429, page=2, times=None, retry_after=1)
    started = time.monotonic()
    with pytest.raises(RateLimitError) as caught:
        fetch_ids(client_for(box, retries=1))
    assert caught.value.retry_after == 1.0 and "1 s" in caught.value.hint
    assert time.monotonic() - started >= 1.0  # one retry, after the 1 s the server asked for


@pytest.mark.parametrize(
    ("kind", "cause"),
    [("reset", "the connection was dropped"), ("timeout", "no answer before the time limit")],
)
def test_a_lasting_transport_fault_is_a_transport_error(box, kind, cause):
    box.add_fault(kind, page=2, times=None, delay_s=2 * TIMEOUT_S)
    with pytest.raises(TransportError) as caught:
        fetch_ids(client_for(box, retries=1))
    assert cause in str(caught.value)
    assert [entry["page"] for entry in box.requests_to("events")] == [1, 2, 2]  # 1 + 1 retry


def test_a_server_that_is_gone_is_a_transport_error(box):
    client = client_for(box, retries=1)
    box.stop()
    with pytest.raises(TransportError) as caught:
        fetch_ids(client)
    assert "refused" in str(caught.value)


# --- scroll ids that stop working -----------------------------------------------------------------
def test_a_refused_scroll_resumes_from_the_last_event_seen(box):
    box.add_fault("scroll_expired", page=3)
    assert fetch_ids(client_for(box), sort_by="utcTime") == ALL_IDS
    resumed = [e["query"] for e in box.requests_to("events") if e["fault"] is None][2]
    # pages 1 and 2 brought the 12 earliest events: the query resumes at the 12th one's second
    twelfth = sorted(e["when"]["createdAt"] for e in EVENTS)[11]
    assert resumed["dateStart"] == twelfth and "scrollId" not in resumed


def test_a_refused_scroll_in_business_time_order_resumes_without_loss(box):
    box.add_fault("scroll_expired", page=4)
    assert fetch_ids(client_for(box), sort_by="businessTime") == ALL_IDS


def test_a_refused_scroll_in_reverse_order_resumes_without_loss(box):
    box.add_fault("scroll_expired", page=3)
    assert fetch_ids(client_for(box), sort_by="utcTime", sort_reverse=True) == ALL_IDS


def test_scroll_ids_that_really_expire_are_survived(sandbox_factory, source):
    box = sandbox_factory(source, scroll_ttl_s=0.2)

    def slow_reader(progress):  # the scroll id of page 3 expires while page 2 is read
        if progress.pages == 2:
            time.sleep(0.4)

    client = client_for(box)
    assert fetch_ids(client, progress=slow_reader) == ALL_IDS
    assert any(entry["status"] == 404 for entry in box.requests_to("events"))


@pytest.mark.parametrize("status", [400, 409])
def test_other_statuses_for_a_refused_scroll_are_survived(sandbox_factory, source, status):
    box = sandbox_factory(source, scroll_error_status=status)
    box.add_fault("scroll_expired", page=2)
    assert fetch_ids(client_for(box)) == ALL_IDS


def test_every_scroll_id_refused_still_gets_every_event(box):
    box.add_fault("scroll_expired", times=None)
    # each resumed query reads one page and moves on from its last event
    assert fetch_ids(client_for(box), sort_by="utcTime") == ALL_IDS


def test_a_scroll_that_cannot_move_on_gives_up(box):
    box.add_fault("scroll_expired", times=None)
    # pages of one event: every fifth event shares the second of the one before, so a resumed
    # query keeps starting on an event already seen; after 3 such resumes the client gives up
    with pytest.raises(ScrollExpiredError) as caught:
        fetch_ids(client_for(box), page_size=1, sort_by="utcTime")
    assert caught.value.hint


# --- concurrent windows ---------------------------------------------------------------------------
CONCURRENT = [
    {"kind": 503, "times": 2},
    {"kind": 429, "times": 1},
    {"kind": "reset"},
    {"kind": "timeout", "delay_s": 2 * TIMEOUT_S},
    {"kind": "scroll_expired", "times": 3},
    {"kind": "token_expired"},
]


@pytest.mark.parametrize("fault", CONCURRENT, ids=[str(f["kind"]) for f in CONCURRENT])
def test_concurrent_windows_survive_faults(box, fault):
    options = dict(fault)
    box.add_fault(options.pop("kind"), page=2, **options)
    client = client_for(box, "key")
    ids = fetch_ids(client, start="2024-03-01", end="2024-03-11", page_size=2, workers=4)
    assert ids == ALL_IDS
    assert box.logins == (2 if fault["kind"] == "token_expired" else 1)


def test_a_failing_window_stops_the_fetch_with_its_error(box):
    box.add_fault(410, page=2, times=None)
    started = time.monotonic()
    with pytest.raises(AuthError) as caught:
        fetch_ids(client_for(box), start="2024-03-01", end="2024-03-11", page_size=2, workers=4)
    assert caught.value.status == 410
    assert time.monotonic() - started < 5


def test_the_contact_endpoint_survives_faults_too(box):
    box.add_fault(502, endpoint="contact", page=1)
    box.add_fault("scroll_expired", endpoint="contact", page=2)
    frame = client_for(box).contact_events(ORG_ID, "c-alice", page_size=2)
    # contact c-alice is CONTACTS[0]: events 0, 6, 12, 18, 24
    assert sorted(frame[schema.EVENT_ID]) == [f"ev-2-{i:06d}" for i in (0, 6, 12, 18, 24)]


def test_locations_survive_a_5xx(box):
    box.add_fault(500, endpoint="locations")
    assert len(client_for(box).locations(ORG_ID)) == 2


def test_a_login_that_times_out_is_retried(box):
    box.add_fault("timeout", endpoint="login", delay_s=2 * TIMEOUT_S)
    assert fetch_ids(client_for(box, "key")) == ALL_IDS
    assert box.logins == 1 and len(box.requests_to("login")) == 2


def test_the_time_window_covers_ties_at_its_edges(box):
    # a window edge right on a second holding two events (every fifth event shares a second)
    tie = dt.datetime.fromisoformat(EVENTS[4]["when"]["createdAt"])
    assert EVENTS[3]["when"]["createdAt"] == EVENTS[4]["when"]["createdAt"]
    start = tie - dt.timedelta(days=1)
    end = tie + dt.timedelta(days=1)  # 2 days in 2 windows: the edge is exactly `tie`
    expected = sorted(
        e["event"]["id"]
        for e in EVENTS
        if start <= dt.datetime.fromisoformat(e["when"]["createdAt"]) <= end
    )
    got = fetch_ids(client_for(box), start=start, end=end, page_size=2, workers=2)
    assert got == expected
