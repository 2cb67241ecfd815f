"""The Campaign funnels page reads only its funnel's event types: every figure, table and
download it shows is the same on those rows as on every event of the dates; the custom-steps
picker's list of event types comes from DuckDB and equals its pandas definition."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta

import pandas as pd
import pytest

from c4w import data, demo, schema
from c4w.metrics import funnels as fm
from c4w.queries.funnels import step_types_present
from c4w.store import EventStore
from c4w.store.demo import write_demo_store, write_events
from tests.frames import event, make_events

FETCHED = dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def full() -> pd.DataFrame:
    return demo.demo_events_frame(3000, use_disk_cache=False)


def everything_shown(events: pd.DataFrame, steps, **options) -> list[pd.DataFrame]:
    """The frames the page shows or offers to download for one funnel."""
    result = fm.funnel(events, steps, timedelta(days=14), **options)
    shown = [result.steps, result.journeys, fm.steps_table(result), fm.readable(result.journeys)]
    for by in (fm.BY_LOCATION, fm.BY_CAMPAIGN, fm.BY_FIRST_MESSAGE):
        shown.append(fm.readable(fm.funnel_breakdown(result, by=by), by=by))
    for stop in (None, *range(2, len(steps) + 1)):
        shown.append(fm.readable(fm.dropped_contacts(result, step=stop)))
    summary = pd.DataFrame(
        {
            "open_windows": [result.open_windows],
            "ignored": [result.location_filter_ignored],
            "median": [result.median_time_to_complete],
        }
    )
    return [*shown, summary]


STEPS = [
    *fm.PRESETS.values(),
    (schema.SEND_EMAIL, schema.OPEN_EMAIL, schema.CLICK_EMAIL),
    (schema.LOGIN, schema.VISIT),
    (schema.SIGNUP, schema.LOGIN, schema.SEND_SMS),
]


@pytest.mark.parametrize("steps", STEPS)
@pytest.mark.parametrize("same_campaign", [True, False])
@pytest.mark.parametrize("at_a_location", [False, True])
def test_a_funnel_is_the_same_on_its_event_types_only(full, steps, same_campaign, at_a_location):
    times = full[schema.CREATED_AT].dropna()
    first = (times.max() - pd.Timedelta(days=40)).date()
    last = (times.max() - pd.Timedelta(days=10)).date()
    entries = full.loc[full[schema.TYPE] == steps[0], schema.LOCATION_ID].dropna()
    busiest = [str(entries.value_counts().index[0])] if len(entries) else ["no-such-place"]
    locations = busiest if at_a_location else None
    options = dict(
        entry_from=first,
        entry_to=last,
        entry_locations=locations,
        same_campaign=same_campaign,
        data_until=times.max(),
    )
    narrow = data.of_types(full, fm.types_to_read(steps))
    assert len(narrow) < len(full)
    wide_shown = everything_shown(full, steps, **options)
    assert len(wide_shown[1]) > 0  # someone entered: the comparison is not between empty tables
    for wide, narrowed in zip(wide_shown, everything_shown(narrow, steps, **options), strict=True):
        pd.testing.assert_frame_equal(wide, narrowed)


def test_a_funnel_from_one_campaign_s_send_is_the_same_on_its_event_types_only(full):
    steps = (schema.SEND_EMAIL, schema.OPEN_EMAIL, schema.CLICK_EMAIL)
    sends = full[full[schema.TYPE] == schema.SEND_EMAIL]
    campaign = str(sends[schema.CAMPAIGN_NAME].dropna().value_counts().index[0])
    narrow = data.of_types(full, fm.types_to_read(steps))
    wide = everything_shown(full, steps, entry_campaign=campaign)
    assert len(wide[1]) > 0
    for a, b in zip(wide, everything_shown(narrow, steps, entry_campaign=campaign), strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_the_types_read_are_the_preset_ones_and_the_steps():
    expected = sorted(
        ["signup", "send_email", "open_email", "click_email", "send_sms", "click_sms", "login"]
    )
    assert fm.types_to_read(["login", "signup"]) == expected


def test_event_types_present_by_hand(tmp_path):
    events = make_events(
        [
            event("visit", "a", "2024-03-05 08:00"),
            event("login", "a", "2024-03-05 09:00"),
            event("login", "b", "2024-03-06 09:00"),
            event("signup", "b", "2024-03-06 10:00"),
            event("visit", "b", "2024-03-06 11:00"),
            event("click_sms", "b", "2024-03-07 11:00"),  # after the days asked
        ]
    )
    store = EventStore(tmp_path, "org-1")
    write_events(store, events, FETCHED)
    # login 2, visit 2 (a tie: by name), signup 1
    expected = ["login", "visit", "signup"]
    assert step_types_present(store, dt.date(2024, 3, 5), dt.date(2024, 3, 6)) == expected
    march = events[events[schema.CREATED_AT] < pd.Timestamp("2024-03-07", tz="UTC")]
    assert fm.step_types_present(march) == expected


def test_event_types_present_equal_the_pandas_definition_on_the_demo(tmp_path):
    org = demo.build_demo(3_000, end=dt.datetime(2024, 3, 10, 12))
    store = EventStore(tmp_path, org.org_id)
    write_demo_store(store, org, FETCHED)
    start, end = dt.date(2024, 2, 1), dt.date(2024, 2, 29)
    events = store.read(start, end)
    assert len(events) > 100
    got = step_types_present(store, start, end)
    assert len(got) >= 5
    assert got == fm.step_types_present(events)
