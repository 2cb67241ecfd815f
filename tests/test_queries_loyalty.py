"""The Loyalty page's inputs computed in DuckDB over the store give the figures of their pandas
definitions in c4w.metrics.loyalty on the same events: on a small case worked out by hand, and
on the demo."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from c4w import demo, schema
from c4w.metrics import loyalty as lm
from c4w.queries import loyalty as sql
from c4w.store import EventStore
from c4w.store.demo import write_demo_store, write_events
from c4w.ui import slice_events
from tests.frames import event, make_events

FETCHED = dt.datetime(2024, 4, 10, 12, tzinfo=dt.UTC)
D = dt.date


def visit(contact, at, place="L1", **extra):
    return event(
        schema.VISIT,
        contact,
        at,
        visit_duration_min=10,
        location_id=place,
        location_name=f"Store {place}",
        **extra,
    )


def sorted_days(days: pd.DataFrame) -> list[tuple]:
    return sorted(zip(days["contact"].astype(str), days["day"], days["visits"], strict=True))


@pytest.fixture
def small_store(tmp_path):
    events = make_events(
        [
            # a: two visits on 1 March (one day), one on 4 March at L2
            visit("a", "2024-03-01 08:00"),
            visit("a", "2024-03-01 18:00"),
            visit("a", "2024-03-04 09:00", place="L2"),
            # b's visit started at 23:30 on 2 March in New York: 3 March 04:30 UTC, local day
            # 2 March, recorded on 3 March (UTC)
            visit(
                "b",
                "2024-03-03 05:00",
                visit_start="2024-03-03 04:30",
                timezone="America/New_York",
            ),
            visit(None, "2024-03-02 10:00"),  # no guest: no guest day
            event(schema.SIGNUP, "b", "2024-03-02 09:00"),
            event(schema.SIGNUP, "b", "2024-03-05 09:00"),
            event(schema.LOGIN, "a", "2024-03-02 09:00"),
            # a's emails: the later one is the latest, on another day, and a phone in between
            event(schema.SEND_EMAIL, "a", "2024-03-01 07:00", email="old@example.com"),
            event(schema.SEND_SMS, "a", "2024-03-02 07:00", phone="5550100"),
            event(schema.OPEN_EMAIL, "a", "2024-03-04 07:00", email="new@example.com"),
            event(schema.LOGIN, "a", "2024-03-05 07:00", email="login@example.com"),
        ]
    )
    store = EventStore(tmp_path, "org-1")
    write_events(store, events, FETCHED)
    return store, events


def test_guest_days_by_hand(small_store):
    store, _ = small_store
    days = sql.guest_days(store, D(2024, 3, 1), D(2024, 3, 5))
    one, two, four = (lm.day_number(D(2024, 3, d)) for d in (1, 2, 4))
    assert sorted_days(days) == [("a", one, 2), ("a", four, 1), ("b", two, 1)]
    # at L2 only; and 3 March alone holds b's visit (recorded that UTC day)
    assert sorted_days(sql.guest_days(store, D(2024, 3, 1), D(2024, 3, 5), ["L2"])) == [
        ("a", four, 1)
    ]
    assert sorted_days(sql.guest_days(store, D(2024, 3, 3), D(2024, 3, 3))) == [("b", two, 1)]
    assert isinstance(days["contact"].dtype, pd.CategoricalDtype)


def test_first_signups_and_contact_details_by_hand(small_store):
    store, _ = small_store
    signups = sql.first_signup_days(store, D(2024, 3, 1), D(2024, 3, 5))
    assert signups.to_dict() == {"b": lm.day_number(D(2024, 3, 2))}
    details = sql.contact_details(store, D(2024, 3, 1), D(2024, 3, 5), (), ["a", "b", "zz"])
    assert details.index.tolist() == ["a", "b", "zz"]
    # a: the open on 4 March is the latest email (the login's address is not a message's);
    # 2 visit days at L1 against 1 at L2, but 3 visits: L1 has 2 visits, L2 1
    assert details.loc["a"].tolist() == ["new@example.com", "5550100", "Store L1"]
    assert details.loc["b"].tolist() == [None, None, "Store L1"]
    assert details.loc["zz"].isna().all()
    # up to 3 March the older email is the latest
    early = sql.contact_details(store, D(2024, 3, 1), D(2024, 3, 3), (), ["a"])
    assert early.loc["a", schema.EMAIL] == "old@example.com"
    assert sql.contact_details(store, D(2024, 3, 1), D(2024, 3, 5), (), []).empty


def test_usual_location_ties_go_to_the_first_name(tmp_path):
    events = make_events(
        [
            visit("a", "2024-03-01 08:00", place="L2"),
            visit("a", "2024-03-02 08:00", place="L1"),
            visit("a", "2024-03-03 08:00", place="L3"),
            visit("a", "2024-03-04 08:00", place="L3"),
            visit("b", "2024-03-01 08:00", place="L2"),
            visit("b", "2024-03-02 08:00", place="L1"),
        ]
    )
    store = EventStore(tmp_path, "org-1")
    write_events(store, events, FETCHED)
    details = sql.contact_details(store, D(2024, 3, 1), D(2024, 3, 4), (), ["a", "b"])
    assert details["usual_location"].tolist() == ["Store L3", "Store L1"]
    assert lm.contact_details(events, ["a", "b"])["usual_location"].tolist() == [
        "Store L3",
        "Store L1",
    ]


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    org = demo.build_demo(6_000, end=dt.datetime(2024, 4, 10, 12))
    store = EventStore(tmp_path_factory.mktemp("demo"), org.org_id)
    write_demo_store(store, org, FETCHED)
    return org, store


@pytest.mark.parametrize("at_one_location", [False, True])
def test_the_loyalty_figures_equal_the_pandas_metrics_on_the_demo(demo_store, at_one_location):
    org, store = demo_store
    first, last = store.span()
    start, end = last - dt.timedelta(days=75), last - dt.timedelta(days=45)
    last_complete = last - dt.timedelta(days=1)
    location_ids = (org.locations[0]["id"],) if at_one_location else ()
    everything = store.read(first, last)
    history = slice_events(everything, first, last, location_ids)
    in_dates = slice_events(everything, start, end, location_ids)
    upto = slice_events(everything, first, end, location_ids)
    assert history[schema.TYPE].eq(schema.VISIT).sum() > 150

    whole = sql.guest_days(store, first, last, location_ids)
    signups = sql.first_signup_days(store, first, last, location_ids)
    assert len(signups) > 10
    for cohort_by in (lm.FIRST_VISIT, lm.FIRST_SIGNUP):
        for period, mode in ((lm.WEEK, lm.EXACT), (lm.MONTH, lm.OR_LATER)):
            args = (start, end, last_complete)
            options = {"period": period, "mode": mode, "cohort_by": cohort_by}
            by_pandas = lm.retention_cohorts(history, *args, **options)
            assert by_pandas["returned"].sum() > 0
            pd.testing.assert_frame_equal(
                lm.cohorts_of_days(whole, *args, first_signups=signups, **options), by_pandas
            )
    pd.testing.assert_frame_equal(
        lm.lifecycle_of_days(whole, start, end, last_complete),
        lm.lifecycle(history, start, end, last_complete),
    )
    dated = sql.guest_days(store, start, end, location_ids)
    pd.testing.assert_frame_equal(lm.frequency_of_days(dated), lm.visit_frequency(in_dates))
    pd.testing.assert_frame_equal(lm.rhythm_of_days(dated), lm.visit_rhythm(in_dates))

    by_pandas = lm.lapsed_guests(upto, end, min_visit_days=2, days_away=7)
    assert len(by_pandas) > 5 and by_pandas[schema.EMAIL].notna().any()
    lapsed = lm.lapsed_of_days(sql.guest_days(store, first, end, location_ids), end, 2, 7)
    who = lapsed[schema.CONTACT_ID].tolist()
    details = sql.contact_details(store, first, end, location_ids, who)
    pd.testing.assert_frame_equal(lm.with_details(lapsed, details), by_pandas)
