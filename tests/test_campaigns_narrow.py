"""The Campaigns page reads only the event types and columns its figures use.

It reads ``ctx.history(..., types=cm.EVENT_TYPES, columns=cm.COLUMNS_READ)`` instead of every
event of the range, and when each guest was first seen (of every type) from DuckDB over the store
(``ui.first_events``). That is only right when every figure of the page is the same on those
rows as on all the events: checked here on a small demo, then the page is run with the reads of
every type of the range made to fail.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from c4w import contacts as ct
from c4w import data, demo, schema, ui
from c4w.metrics import attribution as at
from c4w.metrics import campaigns as cm
from c4w.queries import campaigns as cq
from c4w.queries import history as hq
from c4w.store import EventStore
from c4w.store.demo import write_demo_store, write_events
from tests.apptest import every_type

DEMO_END = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
FETCHED = dt.datetime(2026, 6, 1, 1, tzinfo=dt.UTC)
DAYS = 7


@pytest.fixture(scope="module")
def org() -> demo.DemoOrg:
    return demo.build_demo(30_000, end=DEMO_END)


@pytest.fixture(scope="module")
def page_days(org) -> tuple[dt.date, dt.date, dt.date, dt.date]:
    """The chosen days (all but the first five weeks of the demo, so it has several email and
    SMS campaigns) and the days the page reads around them: (since, start, end, until)."""
    seconds = np.asarray(org.created_at)
    first = dt.datetime.fromtimestamp(int(seconds.min()), dt.UTC).date()
    end = dt.datetime.fromtimestamp(int(seconds.max()), dt.UTC).date()
    start = first + dt.timedelta(days=DAYS + at.HISTORY_DAYS)
    return start - dt.timedelta(days=DAYS + at.HISTORY_DAYS), start, end, end + dt.timedelta(DAYS)


@pytest.fixture(scope="module")
def frames(org, page_days) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(every event the page would read, the narrowed history, its first events, contacts)."""
    events = demo._parse_demo(org)  # noqa: SLF001 - the demo as its parser makes it
    since, _, _, until = page_days
    events = ui.slice_events(events, since, until)
    narrow = data.of_types(events, cm.EVENT_TYPES)[list(cm.COLUMNS_READ)]
    return events, narrow, at.first_events(events), ct.contacts_frame(org.contacts)


def test_the_demo_has_rows_and_first_events_the_narrow_history_leaves_out(frames) -> None:
    """Otherwise the equality checks below would prove nothing: the narrowed history is
    smaller, and for some guests (a WiFi or geofence arrival before their sign-up) it does not
    hold their first event, so when they were first known must come from every type."""
    events, narrow, firsts, contacts = frames
    assert len(narrow) < 0.6 * len(events) and narrow.shape[1] < events.shape[1]
    created = contacts.set_index(schema.CONTACT_ID)[ct.CREATED]
    everyone = at.known_since(created, events)
    assert (at.known_since(created, narrow).reindex(everyone.index) != everyone).any()
    pd.testing.assert_series_equal(at.known_since(created, firsts), everyone)


def known_by_pandas(created: pd.Series, events: pd.DataFrame) -> pd.Series:
    """When each guest was first known, by plain pandas: the earliest of their first event and
    their creation time."""
    seen = events[events[schema.CONTACT_ID].notna().to_numpy()]
    first = seen.groupby(seen[schema.CONTACT_ID].astype(object).astype(str))[
        schema.CREATED_AT
    ].min()
    created = pd.to_datetime(created, utc=True).dropna()
    return pd.concat([first, created]).groupby(level=0).min()


def test_when_guests_were_first_known_is_the_plain_pandas_figure(frames, stored, page_days):
    events, _, firsts, contacts = frames
    since, _, _, until = page_days
    created = contacts.set_index(schema.CONTACT_ID)[ct.CREATED]
    from_store = (hq.first_events(stored, since, until), stored.read(since, until))
    for seen in (events, firsts, *from_store):
        got, want = at.known_since(created, seen), known_by_pandas(created, seen)
        assert len(got) > 1000
        pd.testing.assert_series_equal(got, want, check_names=False, check_index_type=False)


def same_uplift(a: at.Uplift, b: at.Uplift) -> bool:
    return all(x == y or (x != x and y != y) for x, y in zip(a, b, strict=True))


def test_the_campaign_table_is_the_same_on_the_narrow_history(frames, page_days) -> None:
    events, narrow, _, _ = frames
    _, start, end, _ = page_days
    table = cm.campaign_summary(events, start, end)
    assert set(table[schema.CHANNEL]) == {"email", "sms"} and len(table) >= 5
    pd.testing.assert_frame_equal(cm.campaign_summary(narrow, start, end), table)


@pytest.mark.parametrize("baseline", list(at.BASELINES))
def test_every_campaigns_figures_are_the_same_on_the_narrow_history(
    frames, page_days, baseline: str
) -> None:
    events, narrow, firsts, contacts = frames
    _, start, end, _ = page_days
    table = cm.campaign_summary(events, start, end)
    full, held = at.prepared(events, contacts), at.prepared(narrow, contacts, firsts)
    pd.testing.assert_series_equal(held.known, full.known)
    pd.testing.assert_series_equal(held.homes, full.homes)
    assert held.held_from == full.held_from
    figures = 0
    for campaign_id, channel in zip(table[schema.CAMPAIGN_ID], table[schema.CHANNEL], strict=True):
        mine = at.campaign_uplift(
            narrow, contacts, campaign_id, channel, start, end, DAYS, baseline, firsts
        )
        theirs = at.campaign_uplift(
            events, contacts, campaign_id, channel, start, end, DAYS, baseline
        )
        assert same_uplift(mine.uplift, theirs.uplift), (campaign_id, mine.uplift, theirs.uplift)
        figures += theirs.uplift.enough
        pd.testing.assert_frame_equal(mine.people, theirs.people)
        pd.testing.assert_frame_equal(mine.baseline_guests, theirs.baseline_guests)
        people = theirs.people
        for shown in (
            at.returned_by_engagement,
            cm.engagement_over_time,
            cm.time_to_engage,
            cm.who_clicked,
            cm.who_did_not_open,
        ):
            pd.testing.assert_frame_equal(shown(mine.people), shown(people))
        pd.testing.assert_frame_equal(
            cm.results_by(mine.people, mine.people[schema.CONTACT_ID].map(held.homes), "store"),
            cm.results_by(people, people[schema.CONTACT_ID].map(full.homes), "store"),
        )
        assert people[schema.CONTACT_ID].map(full.homes).notna().any()
        pd.testing.assert_frame_equal(
            cm.results_by(mine.people, cm.new_or_returning(mine.people, held.known), "guest"),
            cm.results_by(people, cm.new_or_returning(people, full.known), "guest"),
        )
    assert figures >= 1  # at least one campaign has a figure for this baseline, not only "no"


def test_first_events_from_the_store_are_those_of_every_event_read(
    org, page_days, tmp_path
) -> None:
    store = EventStore(tmp_path, org.org_id)
    write_demo_store(store, org, FETCHED)
    since, _, _, until = page_days
    before = since - dt.timedelta(days=10)  # no stored day: no event
    for first, last in ((since, until), (since + dt.timedelta(days=40), until), (before, before)):
        expected = at.first_events(store.read(first, last))
        assert expected[schema.CONTACT_ID].isna().sum() <= 1
        assert str(expected[schema.CREATED_AT].dtype) == "datetime64[ns, UTC]"
        pd.testing.assert_frame_equal(hq.first_events(store, first, last), expected)


@pytest.fixture(scope="module")
def stored(org, tmp_path_factory) -> EventStore:
    store = EventStore(tmp_path_factory.mktemp("campaign-store"), org.org_id)
    write_demo_store(store, org, FETCHED)
    return store


def test_the_visits_from_the_store_are_those_of_every_event_read(stored, page_days) -> None:
    since, start, _, until = page_days
    before = since - dt.timedelta(days=10)  # no stored day: no visit
    for first, last in ((since, until), (start, until), (before, before)):
        events = stored.read(first, last)
        pd.testing.assert_frame_equal(cq.visit_starts(stored, first, last), at.visit_starts(events))
        pd.testing.assert_series_equal(cq.home_stores(stored, first, last), cm.home_stores(events))
    visits = cq.visit_starts(stored, since, until)
    assert len(visits) > 1000 and visits[schema.CONTACT_ID].nunique() > 100


def test_home_stores_in_sql_by_hand(tmp_path) -> None:
    """Most WiFi visits wins; a tie goes to the one visited last, then to the first id; a
    geofence visit or a visit with no location does not count."""
    from tests.frames import event, make_events

    def visit(contact, location, hour, kind=schema.VISIT):
        at_hour = f"2024-03-01 {hour:02d}:00"
        return event(kind, contact, at_hour, location_id=location, visit_start=at_hour)

    rows = [
        visit("a", "L2", 1),
        visit("a", "L1", 2),
        visit("a", "L2", 3),  # L2: two visits
        visit("b", "L1", 4),
        visit("b", "L2", 5),  # a tie: L2 visited last
        visit("c", "L9", 1),
        visit("c", "L3", 1),  # a tie at the same time: L3 comes first
        visit("d", "L1", 1, schema.GEO_VISIT),
        visit("d", None, 2),  # no WiFi visit with a place
        visit("e", "L1", 6, schema.GEO_VISIT),
        visit("e", "L4", 7),
    ]
    store = EventStore(tmp_path, "org")
    write_events(store, make_events(rows), dt.datetime(2024, 3, 5, tzinfo=dt.UTC))
    day = dt.date(2024, 3, 1)
    homes = cq.home_stores(store, day, day)
    assert homes.to_dict() == {"a": "L2", "b": "L2", "c": "L3", "e": "L4"}
    assert homes.to_dict() == cm.home_stores(store.read(day, day)).to_dict()
    # visits start at their own start, geofence ones included, in order of guest and start
    visits = cq.visit_starts(store, day, day)
    assert visits[schema.CONTACT_ID].tolist() == list("aaabbccddee")
    assert visits["start"].dt.hour.tolist() == [1, 2, 3, 4, 5, 1, 1, 1, 2, 6, 7]


@pytest.mark.parametrize("baseline", list(at.BASELINES))
def test_every_campaigns_figures_are_the_same_on_its_events_with_the_visits_from_the_store(
    stored, page_days, frames, baseline: str
) -> None:
    since, start, end, until = page_days
    contacts = frames[3]
    events = stored.read(since, until)
    actions = stored.read(since, until, columns=cm.ACTION_COLUMNS, types=cm.ACTION_TYPES)
    assert 0 < len(actions) < 0.5 * len(events)
    firsts = hq.first_events(stored, since, until)
    visits, homes = cq.visit_starts(stored, since, until), cq.home_stores(stored, since, until)
    table = cm.campaign_summary(events, start, end)
    pd.testing.assert_frame_equal(cm.campaign_summary(actions, start, end), table)
    figures = 0
    for campaign_id, channel in zip(table[schema.CAMPAIGN_ID], table[schema.CHANNEL], strict=True):
        mine = at.campaign_uplift(
            actions,
            contacts,
            campaign_id,
            channel,
            start,
            end,
            DAYS,
            baseline,
            firsts,
            visits,
            homes,
        )
        theirs = at.campaign_uplift(
            events, contacts, campaign_id, channel, start, end, DAYS, baseline
        )
        assert same_uplift(mine.uplift, theirs.uplift), (campaign_id, mine.uplift, theirs.uplift)
        figures += theirs.uplift.enough
        pd.testing.assert_frame_equal(mine.people, theirs.people)
        pd.testing.assert_frame_equal(mine.baseline_guests, theirs.baseline_guests)
    assert figures >= 1


def test_first_events_by_hand() -> None:
    events = pd.DataFrame(
        {
            schema.CONTACT_ID: pd.Categorical(["b", None, "a", "b", None, "a"]),
            schema.CREATED_AT: pd.to_datetime(
                [
                    "2024-03-02 10:00",
                    "2024-03-01 09:00",
                    "2024-03-03 08:00",
                    "2024-03-01 12:00",
                    "2024-03-01 08:00",
                    None,
                ],
                utc=True,
            ),
        }
    )
    found = at.first_events(events)
    assert found[schema.CONTACT_ID].tolist()[:2] == ["a", "b"]
    assert pd.isna(found[schema.CONTACT_ID].iloc[2])
    assert found[schema.CREATED_AT].tolist() == list(
        pd.to_datetime(["2024-03-03 08:00", "2024-03-01 12:00", "2024-03-01 08:00"], utc=True)
    )


# --- the page never reads every type of the range ----------------------------------------------
def test_the_campaigns_page_reads_only_its_types_and_columns(
    demo_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    data.forget_memory()  # nothing remembered from before: the page reads what it needs
    app = AppTest.from_file("../app.py", default_timeout=180)
    app.run()  # the first page (Overview) is not under test
    assert not app.exception
    monkeypatch.setattr(ui.PageContext, "all_events", property(every_type))
    read_days, asked = data.read_days, []

    def narrow_only(handle, start, end, types=None, columns=None):
        if types is None:
            raise AssertionError("the page read every event type of the range")
        asked.append((tuple(types), tuple(columns or ())))
        return read_days(handle, start, end, types, columns)

    monkeypatch.setattr(data, "read_days", narrow_only)
    app.switch_page("pages/campaigns.py").run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.error, [e.value for e in app.error]
    # the visits come from the store: only the campaign events are read as a frame
    assert asked and all(set(types) == set(cm.ACTION_TYPES) for types, _ in asked)
    assert all(set(columns) == set(cm.ACTION_COLUMNS) for _, columns in asked)
    # the table and the first campaign's figures are those of every event of the days read
    start, end = ui.utc_today() - dt.timedelta(days=29), ui.utc_today()
    since, until = start - dt.timedelta(days=DAYS + at.HISTORY_DAYS), end + dt.timedelta(DAYS)
    everything = read_days(data.store_of(data.Source("demo")), since, until)
    table = cm.campaign_summary(everything, start, end)
    shown = app.dataframe[0].value
    assert shown[cm.CAMPAIGN].tolist() == table[cm.CAMPAIGN].tolist()
    assert shown[cm.RECIPIENTS].tolist() == table[cm.RECIPIENTS].tolist()
    assert shown[cm.SENT].tolist() == table[cm.SENT].tolist()
    contacts = data.load_contacts(data.Source("demo"))
    row = table.iloc[0]
    found = at.campaign_uplift(
        everything, contacts, row[schema.CAMPAIGN_ID], row[schema.CHANNEL], start, end, DAYS
    )
    metrics = {m.label: m.value for m in app.metric}
    up = found.uplift
    returned = up.returned_share if up.recipients else found.people[at.RETURNED].mean()
    assert metrics["Returned"] == f"{returned:.1%}"
    baseline = up.baseline_share
    assert metrics["Baseline"] == ("–" if math.isnan(baseline) else f"{baseline:.1%}")
