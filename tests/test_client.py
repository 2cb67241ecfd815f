"""The Cloud4Wi client over real HTTP against the sandbox: filters, scrolling, concurrent date
windows, login, contact ids, argument checks and secrets kept out of errors and logs."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import traceback

import pandas as pd
import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from c4w import schema
from c4w.client import (
    Client,
    FetchProgress,
    check_types,
    events_empty,
    path_segment,
    scroll_id_of,
    to_utc,
)
from c4w.errors import APIError, AuthError, C4WError, RateLimitError, TransportError
from c4w.sandbox import source_from_events
from tests.conftest import LOCATIONS, ORG_ID, nested_event, nested_events, org_source

UTC = dt.UTC
SMALL = nested_events(60)  # the events of the `small_org` fixture
SMALL_IDS = sorted(e["event"]["id"] for e in SMALL)


def make_client(box, **options) -> Client:
    """A client with tiny backoff and timeout, so faults cost milliseconds."""
    options.setdefault("timeout", 2.0)
    options.setdefault("backoff_factor", 0.001)
    options.setdefault("retries", 3)
    if "token" not in options and "client_key" not in options:
        options["token"] = box.token
    return Client(box.url, **options)


def ids(frame: pd.DataFrame) -> list[str]:
    return sorted(frame[schema.EVENT_ID].tolist())


def created(event: dict) -> dt.datetime:
    return dt.datetime.fromisoformat(event["when"]["createdAt"])


def first_query(box) -> dict:
    return box.requests_to("events")[0]["query"]


# --- filters --------------------------------------------------------------------------------------
def test_every_filter_reaches_the_server_and_shapes_the_result(sandbox):
    client = make_client(sandbox)
    frame = client.org_events(
        ORG_ID,
        start=dt.datetime(2024, 3, 5, 6, 30),  # naive: UTC
        end=dt.date(2024, 3, 20),  # a date as end: through 23:59:59 of that day
        types=["visit", "login"],
        page_size=7,
        sort_by="utcTime",
        sort_reverse=True,
        workers=1,
    )
    assert first_query(sandbox) == {
        "dateStart": "2024-03-05T06:30:00Z",
        "dateEnd": "2024-03-20T23:59:59Z",
        "events": "visit,login",
        "size": "7",
        "sortBy": "utcTime",
        "sortReverse": "true",
        "enableScroll": "true",
    }
    low, high = (
        dt.datetime(2024, 3, 5, 6, 30, tzinfo=UTC),
        dt.datetime(2024, 3, 20, 23, 59, 59, tzinfo=UTC),
    )
    expected = sorted(
        e["event"]["id"]
        for e in SMALL
        if e["event"]["type"] in ("visit", "login") and low <= created(e) <= high
    )
    assert expected and ids(frame) == expected
    times = frame[schema.CREATED_AT]
    assert times.is_monotonic_decreasing  # sort_reverse on UTC time
    # every later request of the scroll repeats the filters and carries the scroll id
    for entry in sandbox.requests_to("events")[1:]:
        assert entry["query"]["scrollId"] and entry["query"]["events"] == "visit,login"


def test_times_in_every_accepted_form_reach_the_api_in_utc_seconds(sandbox):
    client = make_client(sandbox)
    rome = dt.timezone(dt.timedelta(hours=2))
    client.org_events(
        ORG_ID,
        start=dt.datetime(2024, 3, 10, 12, 0, 30, 999, tzinfo=rome),
        end="2024-03-11",
        workers=1,
    )
    # 12:00:30 at +02:00 is 10:00:30 UTC (microseconds dropped); "2024-03-11" as end: 23:59:59
    assert first_query(sandbox)["dateStart"] == "2024-03-10T10:00:30Z"
    assert first_query(sandbox)["dateEnd"] == "2024-03-11T23:59:59Z"


@pytest.mark.parametrize(
    ("value", "end", "expected"),
    [
        (dt.datetime(2024, 1, 2, 3, 4, 5), False, "2024-01-02T03:04:05+00:00"),
        (dt.date(2024, 1, 2), False, "2024-01-02T00:00:00+00:00"),
        (dt.date(2024, 1, 2), True, "2024-01-02T23:59:59+00:00"),
        ("2024-01-02", True, "2024-01-02T23:59:59+00:00"),
        ("2024-01-02T03:04:05Z", False, "2024-01-02T03:04:05+00:00"),
        ("2024-01-02T05:04:05+02:00", True, "2024-01-02T03:04:05+00:00"),  # 05:04 at +2 = 03:04
        (
            pd.Timestamp("2024-01-02 03:04:05", tz="America/New_York"),
            False,
            "2024-01-02T08:04:05+00:00",
        ),  # New York is UTC-5 in January
    ],
)
def test_to_utc(value, end, expected):
    assert to_utc(value, name="start", end=end).isoformat() == expected


def test_types_outside_the_api_filter_are_filtered_here(sandbox):
    client = make_client(sandbox)
    frame = client.org_events(ORG_ID, types=["geo_visit"], page_size=10, workers=1)
    assert "events" not in first_query(sandbox)  # the API's filter does not list geo_visit
    # geo_visit is KNOWN_TYPES[12]: events 12, 25, 38, 51 of 60 (i % 13 == 12)
    assert ids(frame) == sorted(f"ev-1-{i:06d}" for i in (12, 25, 38, 51))


def test_check_types():
    assert check_types("visit, login,visit") == ("visit", "login")
    assert check_types(None) is None


# --- scrolling ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("page_size", "requests_made"),
    [
        (7, 10),  # 8 pages of 7 (56) + one of 4, then the empty page
        (59, 3),  # 59 + 1, then the empty page
        (60, 2),  # all 60 (the body's count says 60 too), still asks for the empty page
        (61, 2),
        (10_000, 2),
    ],
)
def test_scroll_returns_every_event_exactly_once(sandbox, page_size, requests_made):
    frame = make_client(sandbox).org_events(ORG_ID, page_size=page_size, workers=1)
    assert len(frame) == 60 and ids(frame) == SMALL_IDS
    assert len(sandbox.requests_to("events")) == requests_made


def test_scroll_in_pages_of_one_event(sandbox_factory):
    box = sandbox_factory(org_source(15, seed=3))
    frame = make_client(box).org_events(ORG_ID, page_size=1, workers=1)
    assert ids(frame) == sorted(e["event"]["id"] for e in nested_events(15, seed=3))
    assert len(box.requests_to("events")) == 16  # 15 pages of one event, then the empty page


@pytest.mark.parametrize(
    ("workers", "page_size"), [(2, 7), (2, 10_000), (4, 3), (4, 10_000), (8, 7), (8, 10_000)]
)
def test_concurrent_windows_return_the_same_events_as_one_scroll(sandbox, workers, page_size):
    client = make_client(sandbox)
    frame = client.org_events(
        ORG_ID, start="2024-03-01", end="2024-03-31", page_size=page_size, workers=workers
    )
    assert ids(frame) == SMALL_IDS
    firsts = {
        (entry["query"]["dateStart"], entry["query"]["sortReverse"])
        for entry in sandbox.requests_to("events")
        if "scrollId" not in entry["query"]
    }
    # one date window per worker: each scans up from its own start, the last one down from the end
    assert len(firsts) == workers
    local = frame[schema.CREATED_AT_LOCAL]
    assert local.is_monotonic_increasing  # default order: business (local) time


def test_concurrent_windows_keep_ties_at_window_edges_once(sandbox_factory):
    # 4 days cut in 4 windows: edges at midnight of the 2nd, 3rd and 4th. 40 events in the three
    # seconds around the 3rd's midnight (23:59:59, 00:00:00, 00:00:01)
    moment = dt.datetime(2024, 3, 2, 23, 59, 59, tzinfo=UTC)
    events = [
        nested_event(
            f"tie-{i:02d}", "login", "c-alice", moment + dt.timedelta(seconds=i % 3), LOCATIONS[0]
        )
        for i in range(40)
    ]
    box = sandbox_factory(source_from_events(events, ORG_ID, LOCATIONS))
    frame = make_client(box).org_events(
        ORG_ID, start="2024-03-01", end="2024-03-05T00:00:00Z", page_size=3, workers=4
    )
    assert ids(frame) == sorted(f"tie-{i:02d}" for i in range(40))
    firsts = {
        (entry["query"]["dateStart"], entry["query"]["dateEnd"], entry["query"]["sortReverse"])
        for entry in box.requests_to("events")
        if "scrollId" not in entry["query"]
    }
    # windows of one day; each query reaches an eighth of a window (3 h) past its own end. Three
    # scan up from the 1st, 2nd and 3rd; the last scans down from the end to 3 h before the 4th
    assert firsts == {
        ("2024-03-01T00:00:00Z", "2024-03-02T03:00:00Z", "false"),
        ("2024-03-02T00:00:00Z", "2024-03-03T03:00:00Z", "false"),
        ("2024-03-03T00:00:00Z", "2024-03-04T03:00:00Z", "false"),
        ("2024-03-03T21:00:00Z", "2024-03-05T00:00:00Z", "true"),
    }


def test_long_windows_query_at_most_a_day_past_their_edges(sandbox):
    make_client(sandbox).org_events(
        ORG_ID, start="2024-01-01", end="2024-03-05T00:00:00Z", workers=4
    )
    firsts = {
        (entry["query"]["dateStart"], entry["query"]["dateEnd"], entry["query"]["sortReverse"])
        for entry in sandbox.requests_to("events")
        if "scrollId" not in entry["query"]
    }
    # 64 days (31 of January, 29 of February 2024, 4 of March) in 4 windows of 16 days: edges
    # on January 17, February 2 and February 18. An eighth of 16 days is 2 days, more than the
    # 1-day bound, so each query reaches 1 day past its edge
    assert firsts == {
        ("2024-01-01T00:00:00Z", "2024-01-18T00:00:00Z", "false"),
        ("2024-01-17T00:00:00Z", "2024-02-03T00:00:00Z", "false"),
        ("2024-02-02T00:00:00Z", "2024-02-19T00:00:00Z", "false"),
        ("2024-02-17T00:00:00Z", "2024-03-05T00:00:00Z", "true"),
    }


def _boundary_events() -> list[dict]:
    """Events on and around every edge of eight one-day windows (1st to 9th of March 2024)."""
    at = [("before-start", dt.datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC))]
    at.append(("start", dt.datetime(2024, 3, 1, tzinfo=UTC)))
    for day in range(1, 9):  # two filler events sharing noon of each day
        noon = dt.datetime(2024, 3, day, 12, tzinfo=UTC)
        at += [(f"noon-{day}-a", noon), (f"noon-{day}-b", noon)]
    for day in range(2, 9):  # the seven edges between windows, at midnight of the 2nd..8th
        edge = dt.datetime(2024, 3, day, tzinfo=UTC)
        at += [
            (f"edge-{day}-minus-1s", edge - dt.timedelta(seconds=1)),
            (f"edge-{day}-a", edge),
            (f"edge-{day}-b", edge),
            (f"edge-{day}-plus-1s", edge + dt.timedelta(seconds=1)),
            (f"edge-{day}-reach-up", edge + dt.timedelta(hours=3)),  # an upward query's end
            (f"edge-{day}-reach-down", edge - dt.timedelta(hours=3)),  # the downward one's start
        ]
    at.append(("end", dt.datetime(2024, 3, 9, tzinfo=UTC)))
    at.append(("after-end", dt.datetime(2024, 3, 9, 0, 0, 1, tzinfo=UTC)))
    at.sort(key=lambda pair: pair[1])
    return [nested_event(name, "login", "c-alice", moment, LOCATIONS[0]) for name, moment in at]


@pytest.mark.parametrize("page_size", [3, 10_000])
@pytest.mark.parametrize("sort_reverse", [False, True])
def test_many_windows_return_exactly_the_events_of_one_scroll(
    sandbox_factory, page_size, sort_reverse
):
    box = sandbox_factory(source_from_events(_boundary_events(), ORG_ID, LOCATIONS))
    client = make_client(box)
    options = dict(
        start="2024-03-01T00:00:00Z", end="2024-03-09T00:00:00Z", page_size=page_size,
        sort_reverse=sort_reverse,
    )  # fmt: skip
    one_scroll = client.org_events(ORG_ID, workers=1, **options)
    requests_before = len(box.requests_to("events"))
    windows = client.org_events(ORG_ID, workers=8, **options)
    fresh = [e for e in box.requests_to("events")[requests_before:] if "scrollId" not in e["query"]]
    # 8 days in 8 windows: one upward scan from each of the 1st..7th, one downward from the end
    assert len({e["query"]["dateStart"] for e in fresh}) == 8
    # 62 events: 2 at noon of each of the 8 days (16), 6 around each of the 7 inner edges (42),
    # the start, the end, and one a second outside each end of the range; both ends are inclusive
    # so 60 are inside
    expected = sorted(
        [f"noon-{day}-{tie}" for day in range(1, 9) for tie in "ab"]
        + [
            f"edge-{day}-{where}"
            for day in range(2, 9)
            for where in ("minus-1s", "a", "b", "plus-1s", "reach-up", "reach-down")
        ]
        + ["start", "end"]
    )
    assert len(expected) == 60
    assert ids(one_scroll) == expected
    assert ids(windows) == expected
    assert windows[schema.EVENT_ID].is_unique
    order = windows[schema.CREATED_AT_LOCAL]
    assert order.is_monotonic_decreasing if sort_reverse else order.is_monotonic_increasing


@pytest.mark.parametrize("workers", [1, 4])
def test_pages_read_two_ways_make_one_frame(sandbox_factory, workers):
    # one event's location name is a number: its page is read value by value in Python, the
    # others by the quick column reader; both kinds of page stack into one canonical frame
    events = nested_events(60)
    events[17]["where"]["locationName"] = 7
    box = sandbox_factory(source_from_events(events, ORG_ID, LOCATIONS))
    frame = make_client(box).org_events(
        ORG_ID, start="2024-03-01", end="2024-03-31", page_size=7, workers=workers
    )
    assert ids(frame) == SMALL_IDS
    assert isinstance(frame[schema.LOCATION_NAME].dtype, pd.CategoricalDtype)
    assert isinstance(frame[schema.TYPE].dtype, pd.CategoricalDtype)
    assert str(frame[schema.CREATED_AT].dtype) == "datetime64[ns, UTC]"
    bad = frame[frame[schema.EVENT_ID] == events[17]["event"]["id"]]
    assert len(bad) == 1 and bad[schema.DATA_PROBLEMS].iloc[0] & schema.PROBLEM_MALFORMED


def test_progress_is_reported_on_the_calling_thread(sandbox):
    seen: list[tuple[FetchProgress, int]] = []
    make_client(sandbox).org_events(
        ORG_ID, page_size=7, workers=1, progress=lambda p: seen.append((p, threading.get_ident()))
    )
    # 9 pages with events (8 x 7 + 4); the closing empty page adds nothing
    assert [p.pages for p, _ in seen] == list(range(1, 10))
    assert seen[-1][0] == FetchProgress(events=60, pages=9)
    assert {thread for _, thread in seen} == {threading.get_ident()}


def test_concurrent_progress_adds_up_on_the_calling_thread(sandbox):
    seen: list[tuple[FetchProgress, int]] = []
    make_client(sandbox).org_events(
        ORG_ID,
        start="2024-03-01",
        end="2024-03-31",
        page_size=5,
        workers=4,
        progress=lambda p: seen.append((p, threading.get_ident())),
    )
    assert seen[-1][0].events == 60  # each event is kept by exactly one window
    assert [p.events for p, _ in seen] == sorted(p.events for p, _ in seen)
    assert {thread for _, thread in seen} == {threading.get_ident()}


def test_an_empty_range_is_an_empty_canonical_frame(sandbox):
    frame = make_client(sandbox).org_events(ORG_ID, start="2030-01-01", end="2030-01-31")
    assert len(frame) == 0 and list(frame.columns[: len(schema.EVENT_COLUMNS)]) == list(
        schema.EVENT_COLUMNS
    )


def test_scroll_id_is_read_from_the_top_level_only():
    assert scroll_id_of(b'{"count":1,"scrollId":"a","events":[]}') == "a"
    assert scroll_id_of(b'{"events":[{"scrollId":"evil"}],"scrollId":"good"}') == "good"
    assert scroll_id_of(b'{"events":[{"scrollId":"evil"}]}') is None
    assert scroll_id_of(b'{"events":[{"a":{"scrollId":"evil"}}],"n":{"scrollId":"x"}}') is None


# --- contacts, locations --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("contact", "encoded", "index"),
    [("../x", "..%2Fx", 3), ("a/b", "a%2Fb", 4), ("c dave", "c%20dave", 5)],
)
def test_contact_ids_are_one_encoded_path_segment(sandbox, contact, encoded, index):
    frame = make_client(sandbox).contact_events(ORG_ID, contact, page_size=4)
    entry = sandbox.requests_to("contact")[0]
    assert entry["path"] == f"/v1/organizations/{ORG_ID}/customers/{encoded}/events"
    assert entry["contact_id"] == contact
    # contact CONTACTS[i % 6]: events index, index + 6, ... below 60 -> 10 events
    assert ids(frame) == sorted(f"ev-1-{i:06d}" for i in range(index, 60, 6))


@pytest.mark.parametrize("contact", ["", "  ", ".", ".."])
def test_contact_ids_that_would_change_the_path_are_refused(sandbox, contact):
    with pytest.raises(ValueError):
        make_client(sandbox).contact_events(ORG_ID, contact)
    assert sandbox.requests == []


def test_path_segment_encodes_every_reserved_character():
    assert path_segment("a/b?c#d%e f", name="id") == "a%2Fb%3Fc%23d%25e%20f"


def test_locations(sandbox):
    frame = make_client(sandbox).locations(ORG_ID)
    assert list(frame.columns) == list(schema.LOCATION_COLUMNS)
    rome = frame.set_index("id").loc["loc-rome"]
    assert rome["name"] == "Roma Centro" and rome["tags"] == "flagship, italy"
    assert rome["lat"] == pytest.approx(41.9028)


def test_unknown_organization_is_an_api_error_with_a_hint(sandbox):
    with pytest.raises(APIError) as caught:
        make_client(sandbox).org_events("no-such-org", workers=1)
    assert caught.value.status == 404
    assert caught.value.server_message == "Organization not found"
    assert "organization id" in caught.value.hint


# --- arguments ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "arguments",
    [
        {"page_size": 0},
        {"page_size": 10_001},
        {"page_size": True},
        {"page_size": 7.0},
        {"start": "2024-03-10", "end": "2024-03-09"},
        {"start": dt.datetime(2024, 3, 10, 1), "end": dt.datetime(2024, 3, 10, 0, 59)},
        {"types": ["visit", "teleport"]},
        {"types": []},
        {"types": [3]},
        {"sort_by": "localTime"},
        {"start": "yesterday"},
        {"end": 20240301},
        {"workers": 0},
    ],
)
def test_bad_arguments_fail_before_any_request(sandbox, arguments):
    with pytest.raises(ValueError):
        make_client(sandbox).org_events(ORG_ID, **arguments)
    assert sandbox.requests == []


@pytest.mark.parametrize("org", ["", "   ", ".."])
def test_an_empty_org_id_fails_before_any_request(sandbox, org):
    client = make_client(sandbox)
    for call in (client.org_events, client.locations):
        with pytest.raises(ValueError):
            call(org)
    assert sandbox.requests == []


@pytest.mark.parametrize(
    "options",
    [
        {"token": None},
        {"client_key": "ck", "client_secret": None},
        {"token": "t", "workers": 0},
    ],
)
def test_bad_client_settings(options):
    with pytest.raises(ValueError):
        Client("http://127.0.0.1:1", **options)
    with pytest.raises(ValueError):
        Client("ftp://example.com", token="t")


# --- login ----------------------------------------------------------------------------------------
def test_key_and_secret_log_in_once_and_reuse_the_token(sandbox):
    client = make_client(
        sandbox, client_key=sandbox.client_key, client_secret=sandbox.client_secret
    )
    client.org_events(ORG_ID, page_size=20, workers=1)
    client.locations(ORG_ID)
    assert sandbox.logins == 1
    assert len(sandbox.requests_to("login")) == 1


def test_an_expired_token_means_exactly_one_new_login(sandbox):
    client = make_client(
        sandbox, client_key=sandbox.client_key, client_secret=sandbox.client_secret
    )
    client.org_events(ORG_ID, page_size=20, workers=1)
    sandbox.expire_tokens()
    # four windows hit the expired token at once: one login serves them all
    frame = client.org_events(ORG_ID, start="2024-03-01", end="2024-03-31", workers=4)
    assert ids(frame) == SMALL_IDS
    assert sandbox.logins == 2


def test_a_token_and_key_secret_start_with_the_token(sandbox):
    client = make_client(
        sandbox,
        token=sandbox.token,
        client_key=sandbox.client_key,
        client_secret=sandbox.client_secret,
    )
    client.org_events(ORG_ID, workers=1)
    assert sandbox.logins == 0
    sandbox.expire_tokens()
    client.org_events(ORG_ID, workers=1)
    assert sandbox.logins == 1


def test_a_rejected_secret_is_an_auth_error(sandbox):
    client = make_client(sandbox, client_key=sandbox.client_key, client_secret="wrong-secret")
    with pytest.raises(AuthError) as caught:
        client.org_events(ORG_ID)
    assert caught.value.status == 401 and "key and secret" in caught.value.hint
    assert sandbox.requests_to("events") == []


def test_an_expired_token_without_credentials_is_an_auth_error(sandbox):
    sandbox.expire_tokens()
    with pytest.raises(AuthError) as caught:
        make_client(sandbox).org_events(ORG_ID, workers=1)
    assert caught.value.status == 403 and "new token" in caught.value.hint
    assert sandbox.requests_to("login") == []


# --- secrets --------------------------------------------------------------------------------------
def _chain(exc: BaseException) -> list[BaseException]:
    found, pending = [], [exc]
    while pending:
        item = pending.pop()
        if item is not None and item not in found:
            found.append(item)
            pending += [item.__cause__, item.__context__]
    return found


def _assert_no_secret(exc: BaseException, *secrets: str) -> None:
    text = "".join(traceback.format_exception(exc))
    for item in _chain(exc):
        assert not isinstance(item, requests.RequestException)  # its .request holds headers
        text += str(item) + repr(item) + str(getattr(item, "hint", ""))
        text += str(getattr(item, "server_message", ""))
    for secret in secrets:
        assert secret not in text


def test_no_error_or_log_line_carries_the_token_or_the_secret(sandbox_factory, caplog):
    caplog.set_level(logging.DEBUG)
    box = sandbox_factory()
    secret = box.client_secret
    key_client = make_client(box, client_key=box.client_key, client_secret=secret, retries=1)
    token_client = make_client(box, token=box.token, retries=1)
    both = make_client(box, token=box.token, client_key=box.client_key, client_secret=secret)
    raised: list[C4WError] = []

    def expect(error_type, call):
        with pytest.raises(error_type) as caught:
            call()
        raised.append(caught.value)

    # a server that echoes the token and the secret in its error message
    box.add_fault(500, times=None, message=f"bad {box.token} / {secret}")
    expect(APIError, lambda: both.org_events(ORG_ID, workers=1))
    assert str(raised[-1]).count("[redacted]") == 2
    box.clear_faults()
    box.add_fault(429, times=None, retry_after=0)
    expect(RateLimitError, lambda: key_client.org_events(ORG_ID, workers=1))
    box.clear_faults()
    box.add_fault("not_json")
    expect(TransportError, lambda: token_client.org_events(ORG_ID, workers=1))
    box.add_fault("reset", times=None)
    expect(TransportError, lambda: key_client.org_events(ORG_ID, workers=1))
    box.clear_faults()
    box.expire_tokens()
    expect(AuthError, lambda: token_client.org_events(ORG_ID, workers=1))
    box.add_fault(401, endpoint="login")
    expect(AuthError, lambda: key_client.org_events(ORG_ID, workers=1))
    box.stop()
    expect(TransportError, lambda: token_client.locations(ORG_ID))
    for exc in raised:
        _assert_no_secret(exc, box.token, secret)
    for client in (key_client, token_client, both):
        assert box.token not in repr(client) and secret not in repr(client)
        assert box.client_key not in repr(client)
    assert box.token not in caplog.text and secret not in caplog.text
    assert box.token not in str(box.requests) and secret not in str(box.requests)


def test_the_session_is_not_left_holding_the_token(sandbox):
    session = requests.Session()
    client = make_client(sandbox, session=session)
    client.org_events(ORG_ID, workers=1)
    assert "Authorization" not in session.headers


def test_a_misleading_look_at_a_page_end_is_caught_and_the_window_fetched_again(sandbox_factory):
    # every event ends with another "createdAt" far in the future: a quick look at a page's end
    # says every window is done after one page, but the parsed pages say otherwise
    events = nested_events(60)
    for event in events:
        event["extra"] = {"createdAt": "2099-12-31T00:00:00Z"}
    box = sandbox_factory(source_from_events(events, ORG_ID, LOCATIONS))
    frame = make_client(box).org_events(
        ORG_ID, start="2024-03-01", end="2024-03-31", page_size=5, workers=4
    )
    assert ids(frame) == SMALL_IDS
    fresh = [e for e in box.requests_to("events") if "scrollId" not in e["query"]]
    # 4 windows start, and the 3 upward ones (told "done" after one page) are fetched again; the
    # downward one is not misled: the bogus time is after its end, never below its start
    assert len(fresh) == 7


_TEXT = st.text(max_size=12)
_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), _TEXT)
_EVENT = st.recursive(
    st.dictionaries(st.sampled_from(["scrollId", "events", "id", "createdAt"]), _LEAF),
    lambda inner: st.dictionaries(st.sampled_from(["scrollId", "events", "x"]), inner),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(
    events=st.lists(_EVENT, max_size=4),
    scroll=st.one_of(st.none(), _TEXT),
    before=st.booleans(),
    indent=st.sampled_from([None, 2]),
)
def test_scroll_id_and_empty_page_are_read_from_the_top_level(events, scroll, before, indent):
    body: dict = {"generated": "2024-01-01T00:00:00Z", "count": 7}
    if before and scroll is not None:
        body["scrollId"] = scroll
    body["events"] = events
    if not before and scroll is not None:
        body["scrollId"] = scroll
    raw = json.dumps(body, indent=indent).encode()
    assert scroll_id_of(raw) == scroll
    assert events_empty(raw) == (not events)
