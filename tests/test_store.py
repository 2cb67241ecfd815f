"""The history store: one Parquet file per UTC day (hive layout), written atomically, deduplicated
and sorted; read back as the canonical frame with pyarrow.dataset, queried with DuckDB, read the
same by a second engine; its sync state, settle rule, write lock and unreadable files."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from c4w import demo, frame, schema
from c4w.store import (
    DayState,
    EventStore,
    StoreBusy,
    default_store_dir,
    settled_at,
    store_dir,
)
from c4w.store import store as store_module
from c4w.store.contacts import read_contacts
from c4w.store.demo import write_demo_store, write_events
from tests.frames import event, make_events

ORG = "org-test-0001"
FETCHED = dt.datetime(2024, 3, 10, 12, 0, tzinfo=dt.UTC)
MAR5, MAR6 = dt.date(2024, 3, 5), dt.date(2024, 3, 6)


def three_events() -> pd.DataFrame:
    """Two logins and a visit on 5 March, written out of time order, one id repeated."""
    return make_events(
        [
            event("login", "c-bob", "2024-03-05 18:00", event_id="e2", location_id="loc-b"),
            event("login", "c-alice", "2024-03-05 09:00", event_id="e1", location_id="loc-a"),
            event(
                "visit",
                "c-alice",
                "2024-03-05 10:30",
                event_id="e3",
                location_id="loc-a",
                visit_duration_min=30.0,
            ),
            event("login", "c-bob", "2024-03-05 18:00", event_id="e2", location_id="loc-b"),
        ]
    )


@pytest.fixture
def store(tmp_path) -> EventStore:
    return EventStore(tmp_path, ORG)


def write(store: EventStore, day: dt.date, events: pd.DataFrame, **state) -> DayState:
    state = {"complete": True, "api_count": None, "fetched_at": FETCHED} | state
    return store.write_day(day, events, **state)


# --- where it lives ----------------------------------------------------------------------------
def test_store_dir_is_the_environment_variable_else_a_per_user_data_folder(tmp_path):
    assert store_dir({"C4W_STORE_DIR": str(tmp_path)}) == tmp_path
    if os.name == "posix" and os.uname().sysname == "Linux":
        assert str(default_store_dir({"XDG_DATA_HOME": "/d"})) == "/d/c4w-dashboard/store"
        assert store_dir({}) == default_store_dir({})
        assert str(default_store_dir({})).endswith(".local/share/c4w-dashboard/store")


def test_an_org_id_that_is_not_a_plain_name_is_refused(tmp_path):
    for bad in ("", "../x", "a/b", "org=1/..", " x"):
        with pytest.raises(ValueError, match="organization id"):
            EventStore(tmp_path, bad)


# --- writing a day -----------------------------------------------------------------------------
def test_a_day_is_one_hive_partition_deduplicated_and_sorted_by_time(store, tmp_path):
    state = write(store, MAR5, three_events(), api_count=4)
    path = tmp_path / f"org={ORG}" / "day=2024-03-05" / "events.parquet"
    assert path.is_file()
    assert sorted(p.name for p in path.parent.iterdir()) == ["events.parquet"]  # no temp file
    assert state == DayState(MAR5, True, FETCHED, events=3, api_count=4, duplicates_dropped=1)
    back = store.read(MAR5, MAR5)
    assert list(back[schema.EVENT_ID]) == ["e1", "e3", "e2"]  # 09:00, 10:30, 18:00
    assert list(back.columns) == list(schema.EVENT_COLUMNS)


def test_the_file_uses_zstd_and_a_dictionary_of_that_day_only(store):
    big = make_events(
        [event("login", f"c-{i}", "2024-03-05 09:00", event_id=f"a{i}") for i in range(50)]
        + [event("login", f"c-{i}", "2024-03-06 09:00", event_id=f"b{i}") for i in range(50, 53)]
    )
    big[schema.CONTACT_ID] = big[schema.CONTACT_ID].astype("category")  # 53 contacts in all
    write_events(store, big, FETCHED)
    meta = pq.read_metadata(store.day_path(MAR6))
    codecs = {meta.row_group(0).column(i).compression for i in range(meta.num_columns)}
    assert codecs == {"ZSTD"}
    contacts = pq.read_table(store.day_path(MAR6), columns=[schema.CONTACT_ID]).column(0)
    assert contacts.type.value_type == "string"
    assert len(contacts.chunk(0).dictionary) == 3  # c-50, c-51, c-52: not all 53


def test_rows_of_another_day_are_refused(store):
    with pytest.raises(ValueError, match="not on 2024-03-06"):
        write(store, MAR6, three_events())
    assert not store.day_path(MAR6).exists()


def test_a_new_write_replaces_the_whole_day(store):
    write(store, MAR5, three_events(), complete=False)
    later = FETCHED + dt.timedelta(hours=1)
    one = make_events([event("signup", "c-carol", "2024-03-05 23:59:59", event_id="e9")])
    write(store, MAR5, one, fetched_at=later)
    assert list(store.read(MAR5, MAR5)[schema.EVENT_ID]) == ["e9"]
    assert store.day_states()[MAR5] == DayState(MAR5, True, later, 1, None, 0)
    assert store.last_updated() == later


def test_an_empty_day_is_stored_as_complete_with_no_rows(store):
    write(store, MAR6, frame.empty_events_frame(), api_count=0)
    assert store.day_states()[MAR6].events == 0
    assert store.read(MAR6, MAR6).empty
    assert store.missing_days(MAR6, MAR6, FETCHED) == []


# --- reading ------------------------------------------------------------------------------------
def test_read_keeps_the_frame_dtypes_and_categories(store):
    events = three_events()
    write(store, MAR5, events)
    back = store.read(MAR5, MAR5)
    expected = frame.empty_events_frame().dtypes
    assert back.dtypes.astype(str).to_dict() == expected.astype(str).to_dict()
    assert isinstance(back[schema.CONTACT_ID].dtype, pd.CategoricalDtype)
    assert back[schema.VISIT_DURATION_MIN].tolist()[1] == 30.0
    assert np.isnan(back[schema.VISIT_DURATION_MIN].tolist()[0])  # a login has no length
    assert back[schema.CREATED_AT].iloc[0] == pd.Timestamp("2024-03-05 09:00", tz="UTC")


def test_read_only_the_asked_days_columns_types_and_locations(store):
    write(store, MAR5, three_events())
    write(store, MAR6, make_events([event("login", "c-dan", "2024-03-06 08:00", event_id="e4")]))
    both = store.read(MAR5, MAR6, columns=[schema.EVENT_ID, schema.TYPE])
    assert list(both.columns) == [schema.EVENT_ID, schema.TYPE]
    assert list(both[schema.EVENT_ID]) == ["e1", "e3", "e2", "e4"]
    assert list(store.read(MAR6, MAR6)[schema.EVENT_ID]) == ["e4"]
    logins = store.read(MAR5, MAR6, types=["login"], location_ids=["loc-b"])
    assert list(logins[schema.EVENT_ID]) == ["e2"]
    # one guest's rows across both days: alice's login and visit on the 5th, not bob or dan
    alice = store.read(MAR5, MAR6, contact_ids=["c-alice"])
    assert list(alice[schema.EVENT_ID]) == ["e1", "e3"]
    assert store.read(MAR5, MAR6, contact_ids=["c-alice", "c-dan"], types=["login"])[
        schema.EVENT_ID
    ].tolist() == ["e1", "e4"]
    assert store.read(dt.date(2024, 3, 1), dt.date(2024, 3, 2)).empty
    with pytest.raises(ValueError, match="unknown column"):
        store.read(MAR5, MAR5, columns=["nope"])


def test_the_demo_written_day_by_day_reads_back_as_the_demo_frame(tmp_path):
    org = demo.build_demo(2_000, end=dt.datetime(2024, 3, 10, 12))
    store = EventStore(tmp_path, org.org_id)
    assert write_demo_store(store, org, FETCHED) == 2_000
    expected = frame.events_frame(org.body())
    expected = expected.sort_values([schema.CREATED_AT, schema.EVENT_ID], kind="stable")
    first, last = store.span()
    assert (first, last) == (dt.date(2023, 12, 11), dt.date(2024, 3, 10))
    back = store.read(first, last)
    pd.testing.assert_frame_equal(back, expected.reset_index(drop=True), check_categorical=False)
    assert back.dtypes.astype(str).to_dict() == expected.dtypes.astype(str).to_dict()
    # the guests go beside the events, as the Contacts endpoint would list them
    people = read_contacts(store)
    assert sorted(people[schema.CONTACT_ID]) == sorted(c["id"] for c in org.contacts)
    assert len(people) > 0


def _read_in_one_table(store: EventStore, start, end, names, condition=None) -> pd.DataFrame:
    """Every day file read into one arrow table and converted at once: the plain way, which
    the store's day-by-day reader must match value for value and category list for list."""
    from c4w.store.partition import STORE_SCHEMA
    from c4w.store.store import _canonical_columns

    files = [str(p) for p in store._readable_files(start, end)]
    table = ds.dataset(files, schema=STORE_SCHEMA, format="parquet").to_table(
        columns=names, filter=condition
    )
    return frame.columns_to_frame(_canonical_columns(table), names)


def test_days_read_one_at_a_time_give_the_frame_one_table_would(tmp_path):
    import pyarrow.compute as pc

    org = demo.build_demo(3_000, end=dt.datetime(2024, 3, 10, 12))
    store = EventStore(tmp_path, org.org_id)
    write_demo_store(store, org, FETCHED)
    # a day whose texts the others never use, and a day with no events at all
    odd = make_events(
        [event("login", "c-zoë", "2024-03-11 09:00", event_id="z1", location_id="loc-new")]
    )
    write(store, dt.date(2024, 3, 11), odd)
    write(store, dt.date(2024, 3, 12), odd.iloc[0:0])
    first, last = store.span()
    every = list(schema.EVENT_COLUMNS)
    cases = [
        (first, last, every, {}),
        (dt.date(2024, 3, 1), last, [schema.CONTACT_ID, schema.CREATED_AT, schema.TYPE], {}),
        (first, last, every, {"types": ["visit", "login"]}),
        (first, last, every, {"types": ["survey"], "location_ids": ["nowhere"]}),
    ]
    for start, end, names, filters in cases:
        got = store.read(start, end, columns=None if names == every else names, **filters)
        condition = None
        if filters:
            condition = pc.field(schema.TYPE).isin(filters["types"])
            if "location_ids" in filters:
                condition &= pc.field(schema.LOCATION_ID).isin(filters["location_ids"])
        expected = _read_in_one_table(store, start, end, names, condition)
        pd.testing.assert_frame_equal(got, expected, check_categorical=True)
        for name in names:
            if isinstance(expected[name].dtype, pd.CategoricalDtype):
                assert list(got[name].cat.categories) == list(expected[name].cat.categories)
                assert got[name].cat.codes.dtype == expected[name].cat.codes.dtype, name
    assert "c-zoë" in set(store.read(first, last)[schema.CONTACT_ID].dropna())


def test_a_demo_ending_at_midnight_stores_every_day_of_its_window_quiet_ones_included(tmp_path):
    # ending at 00:00 the demo has no event on its last day; 60 events over 90 days leave many
    # days quiet. Each is stored as a complete day with no events, so the store reaches the end.
    org = demo.build_demo(60, end=dt.datetime(2024, 3, 10, 0))
    store = EventStore(tmp_path, org.org_id)
    assert write_demo_store(store, org, FETCHED) == 60
    states = store.day_states()
    assert min(states) == dt.date(2023, 12, 11) and max(states) == dt.date(2024, 3, 10)
    assert len(states) == 91  # 2023-12-11 .. 2024-03-10, both included
    assert all(state.complete for state in states.values())
    quiet = [day for day, state in states.items() if state.events == 0]
    assert dt.date(2024, 3, 10) in quiet and len(quiet) >= 91 - 60
    assert sum(state.events for state in states.values()) == 60


# --- SQL and a second engine --------------------------------------------------------------------
def test_duckdb_sees_the_events_view_with_its_hive_columns(store):
    write(store, MAR5, three_events())
    write(store, MAR6, make_events([event("login", "c-dan", "2024-03-06 08:00", event_id="e4")]))
    rows = store.query(
        "SELECT org, day, count(*) AS n FROM events WHERE type = ? GROUP BY ALL ORDER BY day",
        ["login"],
    ).to_pylist()
    assert rows == [{"org": ORG, "day": MAR5, "n": 2}, {"org": ORG, "day": MAR6, "n": 1}]
    only = store.query("SELECT count(*) AS n FROM events", start=MAR6, end=MAR6)
    assert only.to_pylist() == [{"n": 1}]
    assert EventStore(store.root, "org-empty").query(
        "SELECT count(*) AS n FROM events"
    ).to_pylist()[0] == {"n": 0}


def test_a_second_engine_reads_the_same_rows_as_duckdb(tmp_path):
    org = demo.build_demo(1_500, end=dt.datetime(2024, 3, 10, 12))
    store = EventStore(tmp_path, org.org_id)
    write_demo_store(store, org, FETCHED)
    wanted = ["event_id", "type", "contact_id", "created_at", "visit_duration_min", "day"]
    by_duckdb = store.query(f"SELECT {', '.join(wanted)} FROM events ORDER BY event_id")
    # pyarrow.dataset discovering the hive folders by itself, as Spark or Trino would
    table = ds.dataset(tmp_path, format="parquet", partitioning="hive").to_table()
    by_arrow = table.select(wanted).sort_by("event_id")
    assert by_arrow.num_rows == by_duckdb.num_rows == 1_500
    for name in wanted:
        left = by_duckdb.column(name).to_pylist()
        right = by_arrow.column(name).to_pylist()
        if name == "day":
            right = [dt.date.fromisoformat(str(v)) for v in right]
        assert left == right, name
    assert set(table.column("org").to_pylist()) == {org.org_id}


# --- sync state and the settle rule -------------------------------------------------------------
def test_a_day_settles_two_hours_after_it_ended_in_the_latest_time_zone():
    # 5 March ends in UTC-12 at 6 March 12:00 UTC; two hours later it is complete
    assert settled_at(MAR5) == dt.datetime(2024, 3, 6, 14, 0, tzinfo=dt.UTC)
    # in Los Angeles (UTC-8 in early March) it ends at 6 March 08:00 UTC
    assert settled_at(MAR5, "America/Los_Angeles") == dt.datetime(2024, 3, 6, 10, tzinfo=dt.UTC)


def test_missing_days_are_unstored_or_incomplete_and_never_in_the_future(store):
    write(store, MAR5, three_events(), complete=True)
    write(store, MAR6, frame.empty_events_frame(), complete=False)
    now = dt.datetime(2024, 3, 7, 9, 0, tzinfo=dt.UTC)
    got = store.missing_days(dt.date(2024, 3, 4), dt.date(2024, 3, 9), now)
    assert got == [dt.date(2024, 3, 4), MAR6, dt.date(2024, 3, 7)]
    assert store.span() == (MAR5, MAR6)
    assert store.is_settled(MAR5, now) and not store.is_settled(MAR6, now)


def test_an_empty_store_has_no_span_and_no_update():
    store = EventStore("/nonexistent/c4w-store", ORG)
    assert store.span() is None and store.last_updated() is None and store.day_states() == {}


# --- one writer at a time -----------------------------------------------------------------------
HOLD_LOCK = """
import sys
from c4w.store import EventStore
with EventStore(sys.argv[1], sys.argv[2]).write_lock():
    print("held", flush=True)
    sys.stdin.readline()
"""


def hold_lock(root) -> subprocess.Popen:
    """Another process holding the organization's write lock until its input is closed."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(root), ORG],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_writer_is_refused_or_waits(tmp_path):
    holder = hold_lock(tmp_path)
    try:
        store = EventStore(tmp_path, ORG)
        with pytest.raises(StoreBusy, match="Another sync"):
            with store.write_lock():
                pass
        with pytest.raises(StoreBusy):
            write(store, MAR5, three_events())
        with pytest.raises(StoreBusy):
            with store.write_lock(timeout=0.2):
                pass
        holder.stdin.close()  # the holder lets go while we wait
        with store.write_lock(timeout=20):
            write(store, MAR5, three_events())
    finally:
        holder.kill()
        holder.wait(10)
    assert store.day_states()[MAR5].events == 3


def test_a_killed_writer_leaves_the_lock_free(tmp_path):
    holder = hold_lock(tmp_path)
    holder.send_signal(signal.SIGKILL)
    holder.wait(10)
    with EventStore(tmp_path, ORG).write_lock(timeout=5):
        pass


# --- unreadable files ---------------------------------------------------------------------------
def test_a_leftover_temporary_file_is_invisible_and_removed_by_the_next_writer(store):
    write(store, MAR5, three_events())
    leftover = store.day_path(MAR5).parent / ".tmp-123-abcd-events.parquet"
    leftover.write_bytes(b"half a file")
    assert len(store.read(MAR5, MAR5)) == 3
    assert store.query("SELECT count(*) AS n FROM events").to_pylist() == [{"n": 3}]
    with store.write_lock():
        pass
    assert not leftover.exists()


def test_a_damaged_file_is_reported_left_out_and_set_aside(store, tmp_path):
    write(store, MAR5, three_events())
    write(store, MAR6, make_events([event("login", "c-dan", "2024-03-06 08:00", event_id="e4")]))
    damaged = store.day_path(MAR5)
    damaged.write_bytes(damaged.read_bytes()[:-40])  # footer cut off
    assert set(store.corrupt_days()) == {MAR5}
    assert list(store.read(MAR5, MAR6)[schema.EVENT_ID]) == ["e4"]
    assert MAR5 in store.missing_days(MAR5, MAR6, FETCHED)
    with pytest.raises(StoreBusy):
        store.set_aside(MAR5)
    with store.write_lock():
        moved = store.set_aside(MAR5)
    assert moved is not None and moved.is_file() and not damaged.exists()
    assert f"org={ORG}" not in moved.relative_to(tmp_path).parts[:1]  # outside the table
    assert store.corrupt_days() == {}


def test_damaged_pages_are_found_by_verify(store):
    rows = [event("login", f"c-{i}", "2024-03-05 09:00", event_id=f"a{i}") for i in range(400)]
    write(store, MAR5, make_events(rows))
    path = store.day_path(MAR5)
    data = bytearray(path.read_bytes())
    data[200:260] = b"\x00" * 60  # inside the first column's pages, footer intact
    path.write_bytes(bytes(data))
    assert store.corrupt_days() == {}  # the footer still reads
    assert set(store.verify_days(MAR5, MAR5)) == {MAR5}


def test_a_query_that_does_not_fit_its_memory_runs_again_with_more(tmp_path, monkeypatch) -> None:
    store = EventStore(tmp_path / "store", "org-1")
    # one list of 4 million numbers: an aggregate that cannot spill, far beyond 1 MB
    sql = "SELECT len(list(range)) AS n FROM range(4000000)"
    monkeypatch.setattr(store_module, "QUERY_MEMORY_MB", 1)
    monkeypatch.setattr(store_module, "QUERY_MEMORY_MAX_MB", 1)
    with pytest.raises(duckdb.OutOfMemoryException):
        store.query(sql)
    monkeypatch.setattr(store_module, "QUERY_MEMORY_MAX_MB", 1024)
    assert store.query(sql).to_pylist() == [{"n": 4_000_000}]


def test_a_query_has_bounded_memory_and_spills_outside_the_app_folder(tmp_path) -> None:
    store = EventStore(tmp_path / "store", "org-1")
    sql = "SELECT current_setting('memory_limit') AS m, current_setting('temp_directory') AS t"
    found = store.query(sql).to_pylist()[0]
    assert found["m"] == "256.0 MiB"
    assert Path(found["t"]).parent == Path(tempfile.gettempdir())
