"""The sandbox API speaks the Explore API's contract: login, bearer check, the events query
(dates inclusive, type filter, size limits, both sort orders, scroll ids that expire), the contact
and locations endpoints, scripted faults, and the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import requests

from c4w.sandbox import (
    SANDBOX_CLIENT_SECRET,
    SANDBOX_TOKEN,
    Fault,
    parse_fault,
    serve_in_thread,
    source_from_events,
)
from tests.conftest import LOCATIONS, ORG_ID, nested_events

SMALL = nested_events(60)  # the events of the `small_org` fixture
BY_TIME = sorted(SMALL, key=lambda e: e["when"]["createdAt"])


def events_url(box, org: str = ORG_ID) -> str:
    return f"{box.url}/v1/organizations/{org}/events"


def get(box, url: str, token: str | None = None, **params) -> requests.Response:
    headers = {"Authorization": f"Bearer {token or box.token}"}
    return requests.get(url, params=params, headers=headers, timeout=5)


def event_ids(response: requests.Response) -> list[str]:
    return [e["event"]["id"] for e in response.json()["events"]]


# --- login and tokens -----------------------------------------------------------------------------
def test_login_answers_a_token_in_the_body_and_the_header(sandbox):
    answer = requests.post(
        f"{sandbox.url}/v1/sts/login/services",
        json={"clientKey": "ck-sandbox", "clientSecret": SANDBOX_CLIENT_SECRET},
        timeout=5,
    )
    assert answer.status_code == 200
    token = answer.json()["token"]
    assert answer.headers["Authorization"] == token
    assert get(sandbox, events_url(sandbox), token=token, size=1).status_code == 200
    assert sandbox.logins == 1


@pytest.mark.parametrize(
    "body", [{"clientKey": "ck-sandbox", "clientSecret": "nope"}, {"clientKey": "ck-sandbox"}, {}]
)
def test_login_with_bad_credentials_is_401(sandbox, body):
    answer = requests.post(f"{sandbox.url}/v1/sts/login/services", json=body, timeout=5)
    assert answer.status_code == 401 and answer.json()["message"]


@pytest.mark.parametrize("header", [None, "Bearer nope", f"Token {SANDBOX_TOKEN}", "Bearer "])
def test_a_missing_or_bad_bearer_token_is_403(sandbox, header):
    headers = {"Authorization": header} if header else {}
    answer = requests.get(events_url(sandbox), headers=headers, timeout=5)
    assert answer.status_code == 403


def test_expired_tokens_stop_working(sandbox):
    sandbox.expire_tokens()
    assert get(sandbox, events_url(sandbox)).status_code == 403


def test_unknown_organization_and_path(sandbox):
    assert get(sandbox, events_url(sandbox, "other-org")).status_code == 404
    assert get(sandbox, f"{sandbox.url}/v1/organizations/{ORG_ID}/nothing").status_code == 404
    assert get(sandbox, f"{sandbox.url}/v2/whatever").status_code == 404


# --- the events query -----------------------------------------------------------------------------
@pytest.mark.parametrize("size", ["0", "10001", "-1", "ten"])
def test_a_size_outside_1_to_10000_is_409(sandbox, size):
    answer = get(sandbox, events_url(sandbox), size=size)
    assert answer.status_code == 409 and "size" in answer.json()["message"]


def test_size_10000_is_allowed_and_count_is_the_query_total(sandbox):
    answer = get(sandbox, events_url(sandbox), size="10000")
    assert answer.status_code == 200
    assert answer.json()["count"] == 60 and len(answer.json()["events"]) == 60


def test_dates_are_inclusive_to_the_second(sandbox):
    # events 3 and 4 share a second (every fifth event repeats the one before)
    moment = BY_TIME[4]["when"]["createdAt"]
    assert BY_TIME[3]["when"]["createdAt"] == moment
    answer = get(sandbox, events_url(sandbox), dateStart=moment, dateEnd=moment, size=100)
    assert sorted(event_ids(answer)) == sorted(e["event"]["id"] for e in BY_TIME[3:5])


def test_the_events_filter_keeps_only_those_types(sandbox):
    answer = get(sandbox, events_url(sandbox), events="signup,promo", size=100)
    # signup is KNOWN_TYPES[1] and promo [9]: i % 13 in (1, 9) below 60 -> 1, 9, 14, 22, 27, 35,
    # 40, 48, 53 -> 9 events
    assert sorted(event_ids(answer)) == sorted(
        f"ev-1-{i:06d}" for i in (1, 9, 14, 22, 27, 35, 40, 48, 53)
    )


@pytest.mark.parametrize(
    "params",
    [
        {"events": "visit,teleport"},
        {"sortBy": "name"},
        {"sortReverse": "maybe"},
        {"dateStart": "last tuesday"},
        {"enableScroll": "yes please"},
    ],
)
def test_bad_parameters_are_409(sandbox, params):
    assert get(sandbox, events_url(sandbox), **params).status_code == 409


@pytest.mark.parametrize("reverse", ["false", "true"])
def test_sorted_by_utc_time(sandbox, reverse):
    answer = get(sandbox, events_url(sandbox), sortBy="utcTime", sortReverse=reverse, size=100)
    times = [e["when"]["createdAt"] for e in answer.json()["events"]]
    assert times == sorted(times, reverse=reverse == "true")


def test_sorted_by_business_time_by_default(sandbox):
    answer = get(sandbox, events_url(sandbox), size=100)
    local = [e["when"]["createdAtLocal"] for e in answer.json()["events"]]
    utc = [e["when"]["createdAt"] for e in answer.json()["events"]]
    assert local == sorted(local)
    assert utc != sorted(utc)  # Rome and San Francisco: local order is not UTC order


def test_scroll_pages_through_everything_once(sandbox):
    seen: list[str] = []
    answer = get(sandbox, events_url(sandbox), size=7, enableScroll="true", sortBy="utcTime")
    while answer.json()["events"]:
        seen += event_ids(answer)
        answer = get(sandbox, events_url(sandbox), scrollId=answer.json()["scrollId"], size=7)
    assert seen == [e["event"]["id"] for e in BY_TIME]
    # 60 events in pages of 7: 9 pages with events, then the empty one
    assert [entry["page"] for entry in sandbox.requests] == list(range(1, 11))


def test_a_scroll_page_can_be_asked_again(sandbox):
    first = get(sandbox, events_url(sandbox), size=5, enableScroll="true")
    again = [get(sandbox, events_url(sandbox), scrollId=first.json()["scrollId"]) for _ in "ab"]
    assert event_ids(again[0]) == event_ids(again[1]) and len(event_ids(again[0])) == 5


def test_the_size_cannot_change_during_a_scroll(sandbox):
    first = get(sandbox, events_url(sandbox), size=5, enableScroll="true")
    answer = get(sandbox, events_url(sandbox), scrollId=first.json()["scrollId"], size=6)
    assert answer.status_code == 409


def test_scroll_ids_expire(sandbox_factory):
    box = sandbox_factory(scroll_ttl_s=0.1)
    first = get(box, events_url(box), size=5, enableScroll="true")
    time.sleep(0.2)
    answer = get(box, events_url(box), scrollId=first.json()["scrollId"])
    assert answer.status_code == 404 and "scrollId" in answer.json()["message"]
    assert get(box, events_url(box), scrollId="made-up").status_code == 404


def test_without_enable_scroll_there_is_no_scroll_id(sandbox):
    assert "scrollId" not in get(sandbox, events_url(sandbox), size=5).json()


def test_contact_events_take_the_decoded_id(sandbox):
    url = f"{sandbox.url}/v1/organizations/{ORG_ID}/customers/..%2Fx/events"
    answer = get(sandbox, url, size=100)
    # contact "../x" is CONTACTS[3]: events 3, 9, ..., 57
    assert sorted(event_ids(answer)) == [f"ev-1-{i:06d}" for i in range(3, 60, 6)]
    assert sandbox.requests[-1]["contact_id"] == "../x"


def test_locations_and_their_tag_filter(sandbox):
    url = f"{sandbox.url}/v1/organizations/{ORG_ID}/locations"
    body = get(sandbox, url).json()
    assert body["size"] == 2 and [loc["id"] for loc in body["locations"]] == ["loc-rome", "loc-sf"]
    assert [loc["id"] for loc in get(sandbox, url, tags="usa").json()["locations"]] == ["loc-sf"]


def test_source_from_events_sorts_by_created_at():
    source = source_from_events(list(reversed(SMALL)), ORG_ID, LOCATIONS)
    assert list(source.created_at) == sorted(source.created_at)
    assert json.loads(source.event_lines[0])["event"]["id"] == BY_TIME[0]["event"]["id"]


def test_added_latency(sandbox_factory):
    box = sandbox_factory(latency_ms=150)
    started = time.monotonic()
    get(box, events_url(box), size=1)
    assert time.monotonic() - started >= 0.15


# --- faults ---------------------------------------------------------------------------------------
def test_status_faults_fire_at_their_page_and_times(sandbox):
    fault = sandbox.add_fault(429, page=1, times=2, retry_after=3)
    answers = [get(sandbox, events_url(sandbox), size=5) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    assert answers[0].headers["Retry-After"] == "3" and fault.fired == 2


def test_a_fault_on_a_later_page_waits_for_it(sandbox):
    sandbox.add_fault(503, page=2)
    first = get(sandbox, events_url(sandbox), size=5, enableScroll="true")
    assert first.status_code == 200
    assert get(sandbox, events_url(sandbox), scrollId=first.json()["scrollId"]).status_code == 503


@pytest.mark.parametrize(
    ("kind", "check"),
    [
        ("reset", lambda call: pytest.raises(requests.ConnectionError, call)),
        ("cut_short", lambda call: pytest.raises(requests.RequestException, call)),
    ],
)
def test_connection_faults(sandbox, kind, check):
    sandbox.add_fault(kind)
    check(lambda: get(sandbox, events_url(sandbox), size=5))
    assert get(sandbox, events_url(sandbox), size=5).status_code == 200  # once only


def test_a_stall_outlasts_the_client_timeout(sandbox):
    sandbox.add_fault("timeout", delay_s=0.5)
    with pytest.raises(requests.Timeout):
        requests.get(
            events_url(sandbox), headers={"Authorization": f"Bearer {sandbox.token}"}, timeout=0.2
        )


@pytest.mark.parametrize("kind", ["truncated", "not_json"])
def test_unreadable_bodies(sandbox, kind):
    sandbox.add_fault(kind)
    answer = get(sandbox, events_url(sandbox), size=5)
    assert answer.status_code == 200
    with pytest.raises(ValueError):
        answer.json()


def test_token_expired_fault_kills_that_token(sandbox):
    sandbox.add_fault("token_expired")
    assert get(sandbox, events_url(sandbox)).status_code == 403
    assert get(sandbox, events_url(sandbox)).status_code == 403  # for good


def test_scroll_expired_fault_needs_a_scroll_id(sandbox):
    sandbox.add_fault("scroll_expired")
    first = get(sandbox, events_url(sandbox), size=5, enableScroll="true")
    assert first.status_code == 200
    assert get(sandbox, events_url(sandbox), scrollId=first.json()["scrollId"]).status_code == 404


def test_parse_fault():
    assert parse_fault("503:page=3,times=2") == Fault(503, page=3, times=2)
    assert parse_fault("429:retry_after=1,endpoint=contact") == Fault(
        429, retry_after="1", endpoint="contact"
    )
    assert parse_fault("timeout:delay=5,times=0") == Fault("timeout", delay_s=5.0, times=None)
    with pytest.raises(ValueError):
        parse_fault("teapot")
    with pytest.raises(ValueError):
        parse_fault("503:colour=red")


def test_faults_can_be_scripted_over_http(sandbox):
    answer = requests.post(
        f"{sandbox.url}/_sandbox/faults", json=[{"kind": 502, "page": 1}], timeout=5
    )
    assert answer.status_code == 200
    assert get(sandbox, events_url(sandbox)).status_code == 502
    log = requests.get(f"{sandbox.url}/_sandbox/requests", timeout=5).json()
    assert [(entry["status"], entry["fault"]) for entry in log] == [(502, "502")]
    health = requests.get(f"{sandbox.url}/_sandbox/health", timeout=5).json()
    assert health == {"ok": True, "org_id": ORG_ID, "events": 60}


def test_the_request_log_holds_no_credentials(sandbox):
    requests.post(
        f"{sandbox.url}/v1/sts/login/services",
        json={"clientKey": "ck-sandbox", "clientSecret": SANDBOX_CLIENT_SECRET},
        timeout=5,
    )
    get(sandbox, events_url(sandbox), size=1)
    text = json.dumps(sandbox.requests)
    assert SANDBOX_TOKEN not in text and SANDBOX_CLIENT_SECRET not in text
    assert SANDBOX_TOKEN not in repr(sandbox)


# --- the demo organization and the command line ---------------------------------------------------
def test_serves_the_demo_organization_by_default():
    from c4w.demo import build_demo

    with serve_in_thread(n_events=2_000) as box:
        demo = build_demo(2_000)
        assert box.org_id == demo.org_id
        answer = get(box, events_url(box, demo.org_id), size=10000, sortBy="utcTime")
        assert answer.json()["count"] == len(demo.event_lines)
        ids = [e["event"]["id"] for e in answer.json()["events"]]
        assert ids == [json.loads(line)["event"]["id"] for line in demo.event_lines]


def test_the_command_line_prints_no_secret_and_serves():
    env = dict(os.environ, C4W_DEMO_EVENTS="1000")
    process = subprocess.Popen(
        [sys.executable, "-m", "c4w.sandbox", "--port", "0", "--latency-ms", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        lines = [process.stdout.readline() for _ in range(3)]
        url = lines[0].split()[-1]
        org = lines[1].split()[1]
        health = requests.get(f"{url}/_sandbox/health", timeout=10).json()
        assert health["org_id"] == org and health["events"] == 1000
        answer = requests.get(
            f"{url}/v1/organizations/{org}/events",
            params={"size": 5},
            headers={"Authorization": f"Bearer {SANDBOX_TOKEN}"},
            timeout=10,
        )
        assert answer.status_code == 200 and len(answer.json()["events"]) == 5
    finally:
        process.send_signal(signal.SIGINT)
        output = "".join(lines) + process.communicate(timeout=10)[0]
    assert "c4w-…cdef" in output  # the token, masked
    assert SANDBOX_TOKEN not in output and SANDBOX_CLIENT_SECRET not in output
