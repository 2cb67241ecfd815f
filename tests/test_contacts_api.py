"""The client's Contacts endpoint over real HTTP against the sandbox: scroll, faults, secrets."""

from __future__ import annotations

import logging
import math

import pytest

from c4w import contacts as ct
from c4w import schema
from c4w.client import contacts_page
from c4w.errors import (
    APIError,
    AuthError,
    NotJSONError,
    RateLimitError,
    ScrollExpiredError,
    TransportError,
)
from c4w.sandbox import source_from_events
from tests.conftest import ORG_ID, nested_events
from tests.test_client import _assert_no_secret, make_client

N_CONTACTS = 23


def contact_item(i: int) -> dict:
    return {
        "id": f"c{i:03d}",
        "firstName": f"Guest{i}",
        "lastName": "Example",
        "email": f"guest{i}@example.com",
        "phone": f"+39 320 555 {i:04d}",
        "created": "2024-01-01T00:00:00Z",
        "signupMethod": "wifi",
        "policies": [{"name": "mktgCommunications", "accepted": i % 3 != 0}],
        "metrics": {"countTotalVisits": i},
    }


CONTACTS = [contact_item(i) for i in range(N_CONTACTS)]
IDS = [c["id"] for c in CONTACTS]


@pytest.fixture
def box(sandbox_factory):
    source = source_from_events(nested_events(10), ORG_ID)
    source.contacts = list(CONTACTS)
    return sandbox_factory(source)


def ids_of(frame) -> list[str]:
    return sorted(frame[schema.CONTACT_ID].tolist())


@pytest.mark.parametrize(("size", "pages"), [(1, 23), (5, 5), (23, 1), (10_000, 1)])
def test_scroll_returns_every_contact_once(box, size, pages):
    frame = make_client(box).contacts(ORG_ID, page_size=size)
    assert ids_of(frame) == IDS
    calls = box.requests_to("contacts")
    assert len(calls) == pages + 1  # the last call gets the empty page that ends the scroll
    assert math.ceil(N_CONTACTS / size) == pages
    assert all(c["query"].get("size") == str(size) for c in calls[:1])
    assert "sid" not in calls[0]["query"] and all("sid" in c["query"] for c in calls[1:])
    assert calls[0]["path"] == f"/v2/customers/organizations/{ORG_ID}"
    # what each contact says arrives intact
    row = frame.set_index(schema.CONTACT_ID).loc["c004"]
    assert row[ct.NAME] == "Guest4 Example" and row[schema.EMAIL] == "guest4@example.com"
    assert bool(row[ct.MARKETING_CONSENT]) is True
    assert bool(frame.set_index(schema.CONTACT_ID).loc["c003", ct.MARKETING_CONSENT]) is False


@pytest.mark.parametrize("size", [0, 10_001, -3])
def test_a_bad_page_size_fails_before_any_request(box, size):
    with pytest.raises(ValueError):
        make_client(box).contacts(ORG_ID, page_size=size)
    assert box.requests_to("contacts") == []


@pytest.mark.parametrize("page", [1, 3, 5])
@pytest.mark.parametrize("kind", [429, 500, 502, 503, 504, "reset"])
def test_passing_faults_are_retried_with_the_same_result(box, kind, page):
    box.add_fault(kind, endpoint="contacts", page=page, times=2, retry_after=0)
    assert ids_of(make_client(box).contacts(ORG_ID, page_size=5)) == IDS


@pytest.mark.parametrize("page", [2, 4, 5])
def test_a_refused_cursor_starts_the_scroll_again_without_repeats(box, page):
    box.add_fault("scroll_expired", endpoint="contacts", page=page)
    frame = make_client(box).contacts(ORG_ID, page_size=5)
    assert ids_of(frame) == IDS and len(frame) == N_CONTACTS
    firsts = [c for c in box.requests_to("contacts") if "sid" not in c["query"]]
    assert len(firsts) == 2  # once at the start, once after the refusal


def test_a_cursor_refused_every_time_is_a_scroll_error(box):
    box.add_fault("scroll_expired", endpoint="contacts", page=2, times=None)
    with pytest.raises(ScrollExpiredError):
        make_client(box).contacts(ORG_ID, page_size=5)


@pytest.mark.parametrize(
    ("kind", "error"),
    [("truncated", TransportError), ("cut_short", TransportError), ("not_json", NotJSONError)],
)
def test_broken_answers_are_transport_errors_never_a_short_list(box, kind, error):
    box.add_fault(kind, endpoint="contacts", page=2)
    with pytest.raises(error):
        make_client(box, retries=0).contacts(ORG_ID, page_size=5)


def test_an_expired_token_means_one_new_login(box):
    key, secret = box.client_key, box.client_secret
    client = make_client(box, token=None, client_key=key, client_secret=secret)
    client.contacts(ORG_ID, page_size=5)
    assert box.logins == 1
    box.add_fault("token_expired", endpoint="contacts", page=3)
    assert ids_of(client.contacts(ORG_ID, page_size=5)) == IDS
    assert box.logins == 2


def test_errors_name_what_went_wrong(box):
    with pytest.raises(APIError) as caught:
        make_client(box).contacts("another-org")
    assert caught.value.status == 404 and caught.value.hint
    box.expire_tokens()
    with pytest.raises(AuthError):
        make_client(box).contacts(ORG_ID)


def test_no_error_or_log_line_carries_a_secret_or_personal_data(box, caplog):
    caplog.set_level(logging.DEBUG)
    secret = box.client_secret
    client = make_client(
        box, token=box.token, client_key=box.client_key, client_secret=secret, retries=1
    )
    client.contacts(ORG_ID, page_size=5)  # a full scroll: nothing logged about anyone
    raised = []
    box.add_fault(500, endpoint="contacts", times=None, message=f"bad {box.token} / {secret}")
    with pytest.raises(APIError) as caught:
        client.contacts(ORG_ID)
    raised.append(caught.value)
    box.clear_faults()
    box.add_fault(429, endpoint="contacts", times=None, retry_after=0)
    with pytest.raises(RateLimitError) as limited:
        client.contacts(ORG_ID)
    raised.append(limited.value)
    for exc in raised:
        _assert_no_secret(exc, box.token, secret)
    assert box.token not in caplog.text and secret not in caplog.text
    for item in CONTACTS:
        assert item["email"] not in caplog.text and item["firstName"] not in caplog.text


def test_the_demo_sandbox_serves_a_contact_for_every_guest(sandbox_factory):
    demo_box = sandbox_factory(None, n_events=3_000)
    client = make_client(demo_box)
    contacts = client.contacts(demo_box.org_id, page_size=500)
    events = client.org_events(demo_box.org_id, workers=1)
    in_events = set(events[schema.CONTACT_ID].dropna().astype(str))
    assert in_events <= set(contacts[schema.CONTACT_ID])
    assert contacts[schema.CONTACT_ID].is_unique
    # the address a guest's campaign emails go to is the contact's email
    sent = events[events[schema.TYPE] == schema.SEND_EMAIL]
    by_id = contacts.set_index(schema.CONTACT_ID)[schema.EMAIL]
    for contact_id, email in zip(sent[schema.CONTACT_ID], sent[schema.EMAIL], strict=True):
        assert by_id[contact_id] == email
    # emails go only to contacts who accepted marketing
    consent = contacts.set_index(schema.CONTACT_ID)[ct.MARKETING_CONSENT]
    assert consent[sent[schema.CONTACT_ID].astype(str).unique()].all()


@pytest.mark.parametrize(
    ("body", "count", "cursor"),
    [
        (b'{"customers": [{"id": "a"}], "sid": "s1"}', 1, "s1"),
        (b'{"data": [{"id": "a"}, {"id": "b"}], "scrollId": "s2"}', 2, "s2"),
        (b'[{"id": "a"}]', 1, None),
        (b'{"contacts": [], "sid": ""}', 0, None),
    ],
)
def test_contacts_page_reads_both_readings_of_the_answer(body, count, cursor):
    items, next_sid = contacts_page(body)
    assert len(items) == count and next_sid == cursor


@pytest.mark.parametrize("body", [b'{"customers": [{"id": "a"}', b"<html>502</html>", b'{"x": 1}'])
def test_an_unreadable_contacts_page_is_a_transport_error(body):
    with pytest.raises(TransportError):
        contacts_page(body)
