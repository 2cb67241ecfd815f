"""Guest numbers in the store: one number per contact id on every day, never one number for two
ids, kept through lost or stale number lists, and the same figures as on the ids themselves,
on stores whose days carry numbers, stores of earlier builds and stores with both."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pyarrow.parquet as pq
import pytest

from c4w import demo, schema
from c4w.queries import overview as sql
from c4w.queries import stores as store_queries
from c4w.store import EventStore
from c4w.store.demo import write_demo_store
from c4w.store.guests import GUEST_NO
from c4w.store.partition import DayState, day_table, write_partition
from tests.frames import event, make_events

ORG = "org-guests"
FETCHED = dt.datetime(2024, 3, 10, 12, 0, tzinfo=dt.UTC)


def day_events(day: dt.date, contacts: list[str | None], start: int = 0) -> pd.DataFrame:
    """One login per contact on ``day``, a minute apart."""
    rows = [
        event(
            "login",
            who,
            f"{day.isoformat()} {8 + (i // 60) % 12:02d}:{i % 60:02d}",
            event_id=f"{day}-{start + i}",
            location_id="loc-a",
        )
        for i, who in enumerate(contacts)
    ]
    return make_events(rows)


def write(store: EventStore, day: dt.date, events: pd.DataFrame) -> None:
    store.write_day(day, events, complete=True, api_count=None, fetched_at=FETCHED)


def stored_pairs(store: EventStore) -> pd.DataFrame:
    """Every stored event's contact id and guest number, read with pyarrow file by file."""
    frames = [
        pq.read_table(path, columns=[schema.CONTACT_ID, GUEST_NO]).to_pandas()
        for path in sorted(store.folder.glob("day=*/events.parquet"))
    ]
    pairs = pd.concat(frames, ignore_index=True)
    pairs[schema.CONTACT_ID] = pairs[schema.CONTACT_ID].astype(object)
    return pairs


def assert_one_number_per_id(pairs: pd.DataFrame) -> None:
    known = pairs[pairs[schema.CONTACT_ID].notna()]
    assert known[GUEST_NO].notna().all()
    assert (known.groupby(schema.CONTACT_ID)[GUEST_NO].nunique() == 1).all()
    assert (known.groupby(GUEST_NO)[schema.CONTACT_ID].nunique() == 1).all()
    unknown = pairs[pairs[schema.CONTACT_ID].isna()]
    assert unknown[GUEST_NO].isna().all()


def test_each_id_has_one_number_on_every_day_and_no_two_ids_share_one(tmp_path):
    store = EventStore(tmp_path, ORG)
    rng = random.Random(7)
    people = [f"c-{i}" for i in range(40)] + ["c-zoë", "C-0", "c 0", "0", "c-0 "]
    days = [dt.date(2024, 3, 1) + dt.timedelta(days=i) for i in range(6)]
    for day in days:
        write(store, day, day_events(day, [*rng.sample(people, 15), None]))
    # a day written again (a refetch) with other guests, and one with nobody
    write(store, days[2], day_events(days[2], rng.sample(people, 20)))
    write(store, days[3], day_events(days[3], []))
    pairs = stored_pairs(store)
    assert_one_number_per_id(pairs)
    # a later writer (another process) numbers the same ids the same way
    again = EventStore(tmp_path, ORG)
    write(again, dt.date(2024, 3, 9), day_events(dt.date(2024, 3, 9), people))
    assert_one_number_per_id(stored_pairs(store))
    assert store.guest_key() == GUEST_NO


@pytest.mark.parametrize("damage", ["deleted", "garbage", "stale"])
def test_a_lost_or_stale_number_list_is_rebuilt_from_the_days(tmp_path, damage):
    store = EventStore(tmp_path, ORG)
    first, second, third = (dt.date(2024, 3, d) for d in (1, 2, 3))
    write(store, first, day_events(first, ["c-a", "c-b"]))
    numbers_file = store.folder / "_contacts" / "guest_numbers.parquet"
    early_copy = numbers_file.read_bytes()
    write(store, second, day_events(second, ["c-c", "c-d", "c-a"]))
    if damage == "deleted":
        numbers_file.unlink()
    elif damage == "garbage":
        numbers_file.write_bytes(b"not parquet")
    else:
        numbers_file.write_bytes(early_copy)  # knows c-a and c-b only
    # a new writer must not give c-c's or c-d's numbers to the new guests
    write(EventStore(tmp_path, ORG), third, day_events(third, ["c-e", "c-f", "c-c"]))
    pairs = stored_pairs(store)
    assert_one_number_per_id(pairs)
    assert pairs[GUEST_NO].nunique() == 6


def earlier_build_day(store: EventStore, day: dt.date, events: pd.DataFrame) -> None:
    """A day file as builds before guest numbers wrote it: the events' columns only."""
    table, dropped = day_table(day, events)
    state = DayState(day, True, FETCHED, table.num_rows, None, dropped)
    write_partition(store.day_path(day), table, state)


@pytest.fixture(scope="module")
def demo_org():
    return demo.build_demo(3_000, end=dt.datetime(2024, 3, 10, 12))


def overview_figures(store: EventStore, org) -> tuple:
    start, end = dt.date(2024, 2, 20), dt.date(2024, 3, 10)
    before = (dt.date(2024, 2, 1), dt.date(2024, 2, 19), None)
    history_from = dt.date(2024, 1, 1)
    at_one = (org.locations[0]["id"],)
    groups = {"one": [org.locations[0]["id"]], "two": [org.locations[1]["id"]]}
    return (
        sql.headlines(store, start, end, history_from, compared=before),
        sql.headlines(store, start, end, history_from, at_one, compared=before),
        store_queries.group_figures(store, start, end, groups, history_from=history_from),
    )


def test_figures_are_the_same_on_numbers_on_ids_and_on_a_store_with_both(tmp_path, demo_org):
    numbered = EventStore(tmp_path / "numbered", demo_org.org_id)
    write_demo_store(numbered, demo_org, FETCHED)
    days = sorted(numbered.day_states())
    assert numbered.guest_key() == GUEST_NO

    def copy_of_earlier_build(root, days_before_numbers) -> EventStore:
        store = EventStore(root, demo_org.org_id)
        with store.write_lock():
            for day in days:
                events = numbered.read(day, day)
                if day in days_before_numbers:
                    earlier_build_day(store, day, events)
                else:
                    store.write_day(day, events, complete=True, api_count=None, fetched_at=FETCHED)
        return store

    earlier = copy_of_earlier_build(tmp_path / "earlier", set(days))
    # the days before 28 February as an earlier build wrote them: the ranges asked span both
    unnumbered = {d for d in days if d < dt.date(2024, 2, 28)}
    both = copy_of_earlier_build(tmp_path / "both", unnumbered)
    assert earlier.guest_key() == schema.CONTACT_ID
    assert both.guest_key() == schema.CONTACT_ID
    march = (dt.date(2024, 3, 1), dt.date(2024, 3, 10))
    assert both.guest_key(*march) == GUEST_NO
    expected = overview_figures(earlier, demo_org)
    assert expected[0][0]["guests"] > 20 and expected[0][0]["returning"] is not None
    assert overview_figures(numbered, demo_org) == expected
    assert overview_figures(both, demo_org) == expected
    march_guests = sql.headline_counts(earlier, *march)
    assert march_guests["guests"] > 10
    assert sql.headline_counts(both, *march) == march_guests
    # numbering the earlier days (as a sync does) keeps every day's rows, state and figures
    states = both.day_states()
    seen = []
    assert both.number_earlier_days(lambda done, total: seen.append((done, total))) == len(
        unnumbered
    )
    assert seen == [(n, len(unnumbered)) for n in range(1, len(unnumbered) + 1)]
    assert both.guest_key() == GUEST_NO and both.day_states() == states
    assert overview_figures(both, demo_org) == expected
    assert_one_number_per_id(stored_pairs(both))
    assert both.number_earlier_days() == 0
    # a store with both kinds of day reads its rows as one with numbers only
    pd.testing.assert_frame_equal(both.read(days[0], days[-1]), numbered.read(days[0], days[-1]))
