"""The Contact page's look-ups in DuckDB over the store equal their pandas definitions: on a
small case with ties worked out by hand, and on the demo."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from c4w import demo, schema, ui
from c4w.metrics.contacts import most_active_contacts
from c4w.queries import contacts as cq
from c4w.store import EventStore
from c4w.store.demo import write_demo_store, write_events
from tests.frames import event, make_events

FETCHED = dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC)
D5, D6 = dt.date(2024, 3, 5), dt.date(2024, 3, 6)


@pytest.fixture
def store(tmp_path) -> EventStore:
    rows = [
        event("signup", "c-c", "2024-03-05 07:00", location_id="L2"),
        event("login", "c-b", "2024-03-05 08:00", location_id="L1"),
        event("login", "c-a", "2024-03-05 08:00", location_id="L1"),  # same time, stored after b
        event("visit", "c-a", "2024-03-05 09:00", location_id="L1"),
        event("visit", "c-b", "2024-03-05 09:30", location_id="L2"),
        event("login", "c-c", "2024-03-05 10:00", location_id="L2"),
        event("send_email", "c-d", "2024-03-05 11:00"),
        event("open_email", "c-d", "2024-03-05 11:05"),
        event("login", None, "2024-03-05 12:00", location_id="L1"),
        event("login", "c-e", "2024-03-06 08:00", location_id="L1"),
    ]
    store = EventStore(tmp_path, "org-1")
    write_events(store, make_events(rows), FETCHED)
    return store


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def pandas_most_active(store, start, end, location_ids=(), limit=20) -> pd.DataFrame:
    """The page's former figure: the pandas definition over the frame the page was given."""
    events = store.read(start, end).sort_values(schema.CREATED_AT, kind="stable")
    return most_active_contacts(ui.slice_events(events, start, end, location_ids), limit=limit)


def test_most_active_contacts_by_hand_with_ties(store):
    # a, b, c, d have 2 events each, e 1; a and b have a visit each, so they come first; a and
    # b tie on both: b's first event (08:00) is stored before a's (08:00), so b leads; c's
    # first event (07:00) is before d's (11:00). The login without a contact counts for nobody.
    got = cq.most_active_contacts(store, D5, D6)
    assert got[schema.CONTACT_ID].tolist() == ["c-b", "c-a", "c-c", "c-d", "c-e"]
    assert got["events"].tolist() == [2, 2, 2, 2, 1]
    assert got["visits"].tolist() == [1, 1, 0, 0, 0]
    assert got["last_seen"].tolist() == [
        utc("2024-03-05 09:30"),
        utc("2024-03-05 09:00"),
        utc("2024-03-05 10:00"),
        utc("2024-03-05 11:05"),
        utc("2024-03-06 08:00"),
    ]
    pd.testing.assert_frame_equal(got, pandas_most_active(store, D5, D6))
    # at L1 only: a has 2 events (1 visit); b and e 1 each, b first seen earlier
    at_l1 = cq.most_active_contacts(store, D5, D6, ("L1",))
    assert at_l1[schema.CONTACT_ID].tolist() == ["c-a", "c-b", "c-e"]
    assert at_l1["events"].tolist() == [2, 1, 1]
    assert at_l1["last_seen"].tolist() == [
        utc("2024-03-05 09:00"),
        utc("2024-03-05 08:00"),
        utc("2024-03-06 08:00"),
    ]
    pd.testing.assert_frame_equal(at_l1, pandas_most_active(store, D5, D6, ("L1",)))
    top2 = cq.most_active_contacts(store, D5, D6, (), 2)
    assert top2[schema.CONTACT_ID].tolist() == ["c-b", "c-a"]
    pd.testing.assert_frame_equal(top2, pandas_most_active(store, D5, D6, limit=2))
    # 6 March alone: only e
    assert cq.most_active_contacts(store, D6, D6)[schema.CONTACT_ID].tolist() == ["c-e"]


def test_most_active_contacts_of_days_without_events_is_empty(store):
    got = cq.most_active_contacts(store, dt.date(2024, 1, 1), dt.date(2024, 1, 2))
    assert got.empty
    expected = pandas_most_active(store, dt.date(2024, 1, 1), dt.date(2024, 1, 2))
    pd.testing.assert_frame_equal(got, expected, check_index_type=False)


def test_whether_a_contact_has_events_in_the_days(store):
    assert cq.has_events(store, D5, D6, "c-d")
    assert cq.has_events(store, D5, D6, "c-e")
    assert not cq.has_events(store, D5, D5, "c-e")  # e's only event is on 6 March
    assert not cq.has_events(store, D5, D6, "c-zz")
    assert not cq.has_events(store, D5, D6, "c-")  # the whole id, not a part of it


@pytest.mark.parametrize("at_a_location", [False, True])
def test_most_active_contacts_equal_the_pandas_definition_on_the_demo(tmp_path, at_a_location):
    org = demo.build_demo(3_000, end=dt.datetime(2024, 3, 10, 12))
    store = EventStore(tmp_path, org.org_id)
    write_demo_store(store, org, FETCHED)
    start, end = dt.date(2024, 2, 1), dt.date(2024, 2, 29)
    locations = (org.locations[0]["id"],) if at_a_location else ()
    expected = pandas_most_active(store, start, end, locations)
    assert len(expected) == 20
    pd.testing.assert_frame_equal(cq.most_active_contacts(store, start, end, locations), expected)
    contact = expected[schema.CONTACT_ID].iloc[-1]
    assert cq.has_events(store, start, end, contact)
