"""The dashboard's data path over real HTTP against the sandbox: the history store is read, and
only the days it lacks or has not settled are asked of the API (requests counted in the
sandbox's log); the memory cache is bounded in bytes; a hung API is given up within the bound."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import pandas as pd
import pytest

from c4w import data, demo, schema
from tests.conftest import ORG_ID, org_source
from tests.frames import event, make_events

MARCH = [dt.date(2024, 3, 1) + dt.timedelta(days=i) for i in range(31)]
LIVE_VARS = ("C4W_TOKEN", "C4W_CLIENT_KEY", "C4W_CLIENT_SECRET", "C4W_ORG_ID", "C4W_BASE_URL")


class Clock:
    """The time ``data.now()`` answers, moved by the test."""

    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def __call__(self) -> dt.datetime:
        return self.moment


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    # Mid-April: every day of March has settled (a day settles 14 h after it ends).
    moment = Clock(dt.datetime(2024, 4, 15, 12, 0, tzinfo=dt.UTC))
    monkeypatch.setattr(data, "now", moment)
    return moment


@pytest.fixture
def live(sandbox_factory, monkeypatch: pytest.MonkeyPatch, tmp_path, clock):
    """A sandbox with 900 events over the 30 days from 1 March 2024, an empty store, and the
    live source pointing at them; yields (sandbox, source)."""
    box = sandbox_factory(org_source(900, days=30))
    monkeypatch.setenv("C4W_STORE_DIR", str(tmp_path / "store"))
    for name in LIVE_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("C4W_BASE_URL", box.url)
    monkeypatch.setenv("C4W_TOKEN", box.token)
    monkeypatch.setenv("C4W_ORG_ID", ORG_ID)
    data.forget_memory()
    source = data.current_source()
    assert not source.is_demo
    yield box, source
    for job in list(data._JOBS.values()):  # a background fetch of this test: ask it to stop
        job.stop.set()
        job.done.wait(2)
    data.forget_memory()


def event_requests(box) -> list[dict]:
    return [e for e in box.requests if e.get("endpoint") == "events"]


def asked_days(entries: list[dict]) -> set[dt.date]:
    """Every UTC day some query of ``entries`` reached (from its dateStart to its dateEnd)."""
    days: set[dt.date] = set()
    for entry in entries:
        query = entry["query"]
        if "dateStart" not in query:
            continue
        lo = dt.datetime.fromisoformat(query["dateStart"].replace("Z", "+00:00")).date()
        hi = dt.datetime.fromisoformat(query["dateEnd"].replace("Z", "+00:00")).date()
        days |= {lo + dt.timedelta(days=i) for i in range((hi - lo).days + 1)}
    return days


def sandbox_ids(box, start: dt.date, end: dt.date) -> set[str]:
    """Event ids the sandbox holds on UTC days start..end (worked out from its source)."""
    state = box.state
    lo = dt.datetime.combine(start, dt.time(), dt.UTC).timestamp()
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), dt.UTC).timestamp()
    ids = set()
    for line, at in zip(state.source.event_lines, state.source.created_at, strict=True):
        if lo <= at < hi:
            import json

            ids.add(json.loads(line)["event"]["id"])
    return ids


# --- requests: only what the store lacks -------------------------------------------------------
def test_a_range_inside_stored_days_costs_no_request(live) -> None:
    box, source = live
    wide = data.load_events(source, MARCH[0], MARCH[29])
    assert set(wide.events[schema.EVENT_ID]) == sandbox_ids(box, MARCH[0], MARCH[29])
    asked = len(event_requests(box))
    assert asked > 0
    # a shorter range (90 days -> 30 days, here 30 -> 10) is read from the store
    narrow = data.load_events(source, MARCH[20], MARCH[29])
    assert len(event_requests(box)) == asked
    assert set(narrow.events[schema.EVENT_ID]) == sandbox_ids(box, MARCH[20], MARCH[29])
    # and so after a restart (nothing in memory, a new process's caches)
    data.forget_memory()
    data._TOPPED_UP.clear()
    data.load_events(source, MARCH[0], MARCH[29])
    assert len(event_requests(box)) == asked


def test_a_longer_range_asks_only_for_the_days_not_stored(live) -> None:
    box, source = live
    data.load_events(source, MARCH[10], MARCH[29])
    before = len(event_requests(box))
    data.load_events(source, MARCH[0], MARCH[29])
    new = event_requests(box)[before:]
    assert new, "the ten days not stored were not fetched"
    assert asked_days(new) <= set(MARCH[0:11])  # a query may reach into its last day's end


def test_after_the_ttl_recent_days_are_topped_up_while_the_stored_figures_show(
    live, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    box, source = live
    clock.moment = dt.datetime(2024, 3, 20, 12, 0, tzinfo=dt.UTC)
    # 19 March settles at 14:00 UTC on the 20th, so 19 and 20 March are not settled yet
    data.load_events(source, MARCH[5], MARCH[19])
    assert set(data.unsettled_days(source, MARCH[5], MARCH[19])) == {MARCH[18], MARCH[19]}
    before = len(event_requests(box))
    # within the ttl: nothing is asked
    plan = data.plan_view(source, MARCH[5], MARCH[19])
    assert plan.job is None and not plan.missing and set(plan.unsettled) == {MARCH[18], MARCH[19]}
    assert len(event_requests(box)) == before
    # past the ttl: the two recent days are fetched again, and the view need not wait
    monkeypatch.setattr(data, "TOP_UP_EVERY_S", 0)
    plan = data.plan_view(source, MARCH[5], MARCH[19])
    assert plan.job is not None and not plan.must_wait
    shown = data.read_view(source, MARCH[5], MARCH[19]).events
    assert len(shown) > 0  # the stored figures, at once
    data.wait_for(plan.job)
    new = event_requests(box)[before:]
    assert new and asked_days(new) <= {MARCH[18], MARCH[19], MARCH[20]}


def test_utc_midnight_costs_the_new_day_and_the_unsettled_ones_only(live, clock: Clock) -> None:
    box, source = live
    clock.moment = dt.datetime(2024, 3, 20, 23, 0, tzinfo=dt.UTC)
    data.load_events(source, MARCH[0], MARCH[19])
    before = len(event_requests(box))
    clock.moment = dt.datetime(2024, 3, 21, 0, 30, tzinfo=dt.UTC)
    data.load_events(source, MARCH[1], MARCH[20])  # "last 20 days" on the new day
    new = event_requests(box)[before:]
    # 20 March (fetched before it settled) and the new 21 March; nothing older
    assert new and asked_days(new) <= {MARCH[19], MARCH[20], MARCH[21]}


def test_refresh_asks_again_only_for_this_views_recent_days(live, clock: Clock) -> None:
    box, source = live
    clock.moment = dt.datetime(2024, 3, 20, 12, 0, tzinfo=dt.UTC)
    data.load_events(source, MARCH[0], MARCH[19])
    other = data.read_view(source, MARCH[0], MARCH[9]).events  # another session's view
    before = len(event_requests(box))
    plan = data.refresh(source, MARCH[10], MARCH[19])
    assert plan.job is not None
    data.wait_for(plan.job)
    new = event_requests(box)[before:]
    assert new and asked_days(new) <= {MARCH[18], MARCH[19], MARCH[20]}
    # the other view's days were not touched: still served from memory, no request
    again = data.read_view(source, MARCH[0], MARCH[9]).events
    assert np.shares_memory(
        other[schema.VISIT_DURATION_MIN].to_numpy(), again[schema.VISIT_DURATION_MIN].to_numpy()
    )


# --- a hung API ----------------------------------------------------------------------------------
def test_a_hung_api_is_given_up_within_the_bound_and_nobody_queues_behind_it(
    live, monkeypatch: pytest.MonkeyPatch
) -> None:
    box, source = live
    monkeypatch.setattr(data, "NO_ANSWER_S", 1.0)
    box.add_fault("timeout", endpoint="events", delay_s=3, times=None)
    plan = data.plan_view(source, MARCH[0], MARCH[9])
    assert plan.must_wait
    started = time.monotonic()
    with pytest.raises(data.NotAnsweringError, match="not answering"):
        data.wait_for(plan.job)
    assert time.monotonic() - started < 2.5
    # a second view of the same store is told at once, not queued behind the hung fetch
    second = data.plan_view(source, MARCH[0], MARCH[19])
    assert second.job is plan.job
    started = time.monotonic()
    with pytest.raises(data.NotAnsweringError):
        data.wait_for(second.job)
    assert time.monotonic() - started < 0.6
    # what the store holds is still readable meanwhile (here: nothing yet)
    assert data.read_view(source, MARCH[0], MARCH[9]).events.empty
    box.clear_faults()


# --- memory --------------------------------------------------------------------------------------
def frame_of(day: int, n: int) -> pd.DataFrame:
    rows = [event("login", f"c{i}", f"2024-03-{day:02d} {i % 24:02d}:00") for i in range(n)]
    return make_events(rows).sort_values(schema.CREATED_AT).reset_index(drop=True)


def entry(start: int, end: int, n: int = 10) -> data._Entry:
    frame = frame_of(start, n)
    return data._Entry(
        "s", dt.date(2024, 3, start), dt.date(2024, 3, end), frame, (), data.frame_bytes(frame)
    )


def test_the_memory_cache_is_bounded_in_bytes_least_recently_used_out() -> None:
    one = entry(1, 1)
    cache = data.RangeCache(budget=int(2.5 * one.nbytes))
    cache.add(one)
    cache.add(entry(3, 3))
    assert cache.covering("s", dt.date(2024, 3, 1), dt.date(2024, 3, 1), {}) is not None
    cache.add(entry(5, 5))  # three do not fit: the least recently used (3 March) goes
    assert len(cache) == 2 and cache.nbytes <= cache.budget
    assert cache.covering("s", dt.date(2024, 3, 3), dt.date(2024, 3, 3), {}) is None
    assert cache.covering("s", dt.date(2024, 3, 1), dt.date(2024, 3, 1), {}) is not None
    # a frame larger than the whole budget is never kept
    big = entry(7, 7, n=200)
    assert big.nbytes > cache.budget
    cache.add(big)
    assert cache.covering("s", dt.date(2024, 3, 7), dt.date(2024, 3, 7), {}) is None


def test_a_cached_range_holding_a_shorter_one_replaces_it() -> None:
    cache = data.RangeCache(budget=10**9)
    cache.add(entry(2, 3))
    cache.add(entry(1, 5))
    assert len(cache) == 1
    found = cache.covering("s", dt.date(2024, 3, 2), dt.date(2024, 3, 4), {})
    assert found is not None and (found.start, found.end) == (
        dt.date(2024, 3, 1),
        dt.date(2024, 3, 5),
    )


def test_overlapping_ranges_are_one_copy_in_memory(live) -> None:
    box, source = live
    data.load_events(source, MARCH[0], MARCH[29])  # fills the store
    data.forget_memory()
    first = data.read_view(source, MARCH[0], MARCH[14]).events
    second = data.read_view(source, MARCH[10], MARCH[24]).events  # overlaps the first
    assert len(data._CACHE) == 1  # read as the union, 1..25 March
    third = data.read_view(source, MARCH[5], MARCH[20]).events  # inside it: a slice
    assert len(data._CACHE) == 1
    assert np.shares_memory(
        second[schema.VISIT_DURATION_MIN].to_numpy(), third[schema.VISIT_DURATION_MIN].to_numpy()
    )
    assert set(first[schema.EVENT_ID]) == sandbox_ids(box, MARCH[0], MARCH[14])
    assert set(third[schema.EVENT_ID]) == sandbox_ids(box, MARCH[5], MARCH[20])


def counting_reads(monkeypatch: pytest.MonkeyPatch, store) -> list[tuple]:
    """The (start, end) of every read of ``store``'s kind from now on."""
    reads = []
    real_read = type(store).read

    def counting_read(self, *args, **kwargs):
        reads.append(args[:2])
        return real_read(self, *args, **kwargs)

    monkeypatch.setattr(type(store), "read", counting_read)
    return reads


def test_a_range_reaching_past_the_history_is_served_from_the_days_read(live, monkeypatch) -> None:
    box, source = live
    data.load_events(source, MARCH[0], MARCH[29])  # the store holds 1..30 March
    data.forget_memory()
    reads = counting_reads(monkeypatch, data.store_of(source).store)
    view = data.read_view(source, MARCH[0], MARCH[29]).events
    # a look-back 30 days before the history, and days after it: nothing more to read
    wider = data.read_view(source, MARCH[0] - dt.timedelta(days=30), MARCH[29]).events
    later = data.read_view(source, MARCH[20], MARCH[29] + dt.timedelta(days=5)).events
    assert len(reads) == 1
    assert set(wider[schema.EVENT_ID]) == set(view[schema.EVENT_ID])
    assert set(later[schema.EVENT_ID]) == sandbox_ids(box, MARCH[20], MARCH[29])
    before_history = MARCH[0] - dt.timedelta(days=10)
    assert data.read_view(source, before_history, before_history).events.empty
    assert len(reads) == 1


def test_a_store_change_is_seen_by_the_next_read(live, clock: Clock) -> None:
    box, source = live
    data.load_events(source, MARCH[0], MARCH[9])
    before = data.read_view(source, MARCH[0], MARCH[9]).events
    handle = data.store_of(source)
    day = MARCH[3]
    kept = before[before[schema.CREATED_AT].dt.date == day].iloc[:1]
    handle.store.write_day(day, kept, complete=True, api_count=1, fetched_at=clock.moment)
    after = data.read_view(source, MARCH[0], MARCH[9]).events
    assert (after[schema.CREATED_AT].dt.date == day).sum() == 1


# --- settings ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "workers"), [("8", 8), ("", None), ("zero", None), ("1", 1)])
def test_fetch_workers_come_from_the_environment(raw: str, workers: int | None) -> None:
    from c4w.sync import DEFAULT_FETCH_WORKERS

    expected = DEFAULT_FETCH_WORKERS if workers is None else workers  # unset or bad: sync's
    assert data.fetch_workers({"C4W_FETCH_WORKERS": raw}) == expected


def test_the_live_client_uses_the_fetch_workers_setting(
    live, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, source = live
    monkeypatch.setenv("C4W_FETCH_WORKERS", "7")
    data._client.clear()
    assert data._client(source.key).workers == 7
    data._client.clear()


@pytest.mark.parametrize(("raw", "megabytes"), [("1536", 1536), ("", 256), ("lots", 256)])
def test_the_memory_budget_comes_from_the_environment(raw: str, megabytes: int) -> None:
    assert data.memory_budget({"C4W_MEMORY_MB": raw}) == megabytes * 2**20


# --- the demo ------------------------------------------------------------------------------------
def demo_of_size(monkeypatch: pytest.MonkeyPatch, folder, n_events: int) -> data.Source:
    """The demo source with ``n_events`` events, its store under ``folder``, no credentials."""
    monkeypatch.setenv("C4W_CACHE_DIR", str(folder))
    monkeypatch.setenv("C4W_DEMO_EVENTS", str(n_events))
    for name in LIVE_VARS:
        monkeypatch.delenv(name, raising=False)
    return data.Source("demo")


def test_the_demo_is_written_into_a_store_and_read_back(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    source = demo_of_size(monkeypatch, tmp_path, 3000)
    frame = demo.demo_events_frame(3000)  # the demo as the generator makes it
    span = data.history_span(source)
    assert list(tmp_path.glob("demo-store/3000-*/org=demo/day=*"))  # written under the cache
    first = frame[schema.CREATED_AT].min().date()
    last = frame[schema.CREATED_AT].max().date()
    # the stored days are the demo's whole window: its 90 days up to today, quiet days included
    today = data.now().date()
    assert span == (today - dt.timedelta(days=90), today)
    assert span[0] <= first and last <= span[1]
    week = (last - dt.timedelta(days=6), last)
    read = data.read_view(source, *week).events
    lo = pd.Timestamp(week[0], tz="UTC")
    expected = frame[frame[schema.CREATED_AT] >= lo]
    assert sorted(read[schema.EVENT_ID]) == sorted(expected[schema.EVENT_ID])
    assert read[schema.CREATED_AT].is_monotonic_increasing
    # no fetch plan for the demo: its store is complete
    plan = data.plan_view(source, *week)
    assert plan.job is None and not plan.missing


def test_just_after_midnight_a_small_demo_reaches_today_though_today_has_no_event_yet(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    source = demo_of_size(monkeypatch, tmp_path, 60)
    monkeypatch.setattr(data, "now", Clock(dt.datetime(2024, 3, 10, 0, 20, tzinfo=dt.UTC)))
    assert data.history_span(source) == (dt.date(2023, 12, 11), dt.date(2024, 3, 10))
    assert data.read_view(source, dt.date(2024, 3, 10), dt.date(2024, 3, 10)).events.empty
    whole = data.read_view(source, dt.date(2023, 12, 11), dt.date(2024, 3, 10)).events
    assert len(whole) == 60
    assert data.plan_view(source, dt.date(2024, 3, 4), dt.date(2024, 3, 10)).job is None


def test_a_read_of_some_types_only_keeps_nothing_else_in_memory(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    source = demo_of_size(monkeypatch, tmp_path, 3000)
    frame = demo.demo_events_frame(3000)  # the demo as the generator makes it
    first, last = data.history_span(source)
    geofence = frame[frame[schema.TYPE].astype(str).isin(schema.GEOFENCE_TYPES)]
    data.forget_memory()
    reads = counting_reads(monkeypatch, data.store_of(source).store)
    # nothing cached: only the geofence rows are read, and only they are kept
    read = data.read_types(source, first, last, schema.GEOFENCE_TYPES)
    assert sorted(read[schema.EVENT_ID]) == sorted(geofence[schema.EVENT_ID])
    assert set(read[schema.TYPE].astype(str)) == set(schema.GEOFENCE_TYPES)
    assert read[schema.CREATED_AT].is_monotonic_increasing
    assert len(data._CACHE) == 1
    assert data._CACHE.nbytes == data.frame_bytes(read)
    # a rerun, or one geofence type of some of those days, is served from memory
    data.read_types(source, first, last, schema.GEOFENCE_TYPES)
    one = data.read_types(source, first + dt.timedelta(days=5), last, [schema.GEOFENCE_TYPES[0]])
    assert set(one[schema.TYPE].astype(str)) == {schema.GEOFENCE_TYPES[0]}
    assert len(reads) == 1
    # other types are read again; the whole history, once cached, replaces the narrow copy
    data.read_view(source, first, last)
    assert len(reads) == 2
    assert len(data._CACHE) == 1
    again = data.read_types(source, first, last, schema.GEOFENCE_TYPES)
    assert sorted(again[schema.EVENT_ID]) == sorted(read[schema.EVENT_ID])
    assert len(reads) == 2
    data.forget_memory()


def narrow_entry(columns: set[str] | None) -> data._Entry:
    """A cached range of 1..5 March holding only ``columns`` (None: every column)."""
    frame = frame_of(1, 10)
    if columns is not None:
        frame = frame[sorted(columns)]
    held = None if columns is None else frozenset(columns)
    march = (dt.date(2024, 3, 1), dt.date(2024, 3, 5))
    return data._Entry("s", *march, frame, (), data.frame_bytes(frame), columns=held)


def test_a_cached_range_of_fewer_columns_never_answers_for_more() -> None:
    days = (dt.date(2024, 3, 2), dt.date(2024, 3, 3))
    few = {schema.CREATED_AT, schema.TYPE, schema.CONTACT_ID}
    cache = data.RangeCache(budget=10**9)
    cache.add(narrow_entry(few))
    assert cache.covering("s", *days, {}) is None  # every column
    more = frozenset(few | {schema.LOCATION_ID})
    assert cache.covering("s", *days, {}, columns=more) is None
    assert cache.neighbours("s", *days, columns=more) == []  # nor is it joined to a wider read
    assert cache.covering("s", *days, {}, columns=frozenset({schema.CONTACT_ID})) is not None
    # every column of the same days holds it: it replaces the narrow copy and answers for it
    cache.add(narrow_entry(None))
    assert len(cache) == 1
    found = cache.covering("s", *days, {}, columns=frozenset(few))
    assert found is not None and found.columns is None
    # a narrow copy beside it never replaces it
    cache.add(narrow_entry(few))
    assert cache.covering("s", *days, {}) is not None


def test_a_read_of_some_columns_gives_those_and_reads_again_for_more(
    monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    source = demo_of_size(monkeypatch, tmp_path, 3000)
    first, last = data.history_span(source)
    data.forget_memory()
    reads = counting_reads(monkeypatch, data.store_of(source).store)
    whole = data.read_view(source, first, last).events
    data.forget_memory()
    few = [schema.CONTACT_ID, schema.CAMPAIGN_ID]
    read = data.read_types(source, first, last, None, few)
    assert list(read.columns) == few and len(read) == len(whole)
    pd.testing.assert_frame_equal(read.reset_index(drop=True), whole[few].reset_index(drop=True))
    assert data._CACHE.nbytes < data.frame_bytes(whole) / 3
    # fewer columns, or fewer types, of those days come from memory, with only those columns
    one = data.read_types(source, first, last, [schema.VISIT], [schema.CONTACT_ID])
    assert list(one.columns) == [schema.CONTACT_ID] and len(reads) == 2
    visits = whole[whole[schema.TYPE] == schema.VISIT]
    assert one[schema.CONTACT_ID].tolist() == visits[schema.CONTACT_ID].tolist()
    # one more column is read again, and so is every column
    more = [*few, schema.LOCATION_ID]
    wider = data.read_types(source, first, last, None, more)
    assert len(reads) == 3 and list(wider.columns) == more
    assert wider[schema.LOCATION_ID].tolist() == whole[schema.LOCATION_ID].tolist()
    assert list(data.read_view(source, first, last).events.columns) == list(whole.columns)
    assert len(reads) == 4
    data.forget_memory()
