"""Sync over real HTTP against the sandbox: only missing or unsettled days are fetched, twice
gives the same rows, a killed sync leaves whole days and the next one completes the store, two
syncs never write at once, a reader sees whole days only, an unreadable day is fetched again,
and 429 / 503 answers mid-sync lose nothing."""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from c4w import data, demo, schema
from c4w.client import Client
from c4w.store import EventStore, StoreBusy
from c4w.sync import DEFAULT_FETCH_WORKERS, SyncProgress, days_to_fetch, fetch_workers, sync

NOW = dt.datetime(2024, 3, 10, 12, 0, tzinfo=dt.UTC)  # the demo's last hour
FIRST, LAST = dt.date(2023, 12, 11), dt.date(2024, 3, 10)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def org():
    return demo.build_demo(2_500, end=NOW)


@pytest.fixture(scope="module")
def expected(org) -> dict[dt.date, set[str]]:
    """Event ids of each UTC day, read straight from the demo's JSON and epoch times."""
    by_day: dict[dt.date, set[str]] = collections.defaultdict(set)
    for line, second in zip(org.event_lines, org.created_at.tolist(), strict=True):
        day = dt.datetime.fromtimestamp(second, dt.UTC).date()
        by_day[day].add(json.loads(line)["event"]["id"])
    return dict(by_day)


@pytest.fixture
def box(sandbox_factory, org):
    return sandbox_factory(org)


def client_for(box, **options) -> Client:
    return Client(box.url, token=box.token, **options)


def stored_ids(store: EventStore) -> dict[dt.date, set[str]]:
    events = store.read(FIRST, LAST, columns=[schema.EVENT_ID, schema.CREATED_AT])
    by_day: dict[dt.date, set[str]] = collections.defaultdict(set)
    for event_id, created in zip(events[schema.EVENT_ID], events[schema.CREATED_AT], strict=True):
        by_day[created.date()].add(event_id)
    return dict(by_day)


def days_asked(box) -> collections.Counter:
    """How many first requests (no scroll id) the sandbox saw for each day."""
    asked: collections.Counter = collections.Counter()
    for entry in box.requests_to("events"):
        start = (entry.get("query") or {}).get("dateStart")
        if start:
            asked[dt.date.fromisoformat(str(start)[:10])] += 1
    return asked


# --- the fetch-workers setting ------------------------------------------------------------------
def test_fetch_workers_reads_the_environment_with_a_clear_message_when_wrong():
    assert fetch_workers({}) == DEFAULT_FETCH_WORKERS
    assert fetch_workers({"C4W_FETCH_WORKERS": " 8 "}) == 8
    assert fetch_workers({"C4W_FETCH_WORKERS": ""}) == DEFAULT_FETCH_WORKERS
    for bad in ("0", "-3", "many", "65", "2.5"):
        with pytest.raises(ValueError, match="C4W_FETCH_WORKERS must be a whole number"):
            fetch_workers({"C4W_FETCH_WORKERS": bad})


def test_the_api_count_of_a_plain_fetch_is_reported(box, expected):
    counts = []
    client_for(box).org_events(
        box.org_id,
        dt.date(2024, 3, 1),
        dt.date(2024, 3, 1),
        workers=1,
        sort_by="utcTime",
        progress=lambda p: counts.append(p.api_count),
    )
    assert counts and set(counts) == {len(expected[dt.date(2024, 3, 1)])}


# --- fetching only what is missing --------------------------------------------------------------
def test_sync_twice_gives_the_same_rows_and_the_second_fetches_only_unsettled_days(
    box, expected, tmp_path
):
    store = EventStore(tmp_path, box.org_id)
    client = client_for(box, workers=8)
    first = sync(client, store, FIRST, LAST, now=NOW)
    assert stored_ids(store) == expected
    assert first.days_fetched == [FIRST + dt.timedelta(days=i) for i in range(91)]
    assert first.count_mismatches == {}
    states = store.day_states()
    assert {d: s.events for d, s in states.items() if s.events} == {
        d: len(ids) for d, ids in expected.items()
    }
    assert all(s.api_count == s.events for s in states.values())
    # at 12:00 UTC on 10 March, 9 March has not settled (it does at 14:00) nor has 10 March
    assert [d for d, s in states.items() if not s.complete] == [LAST - dt.timedelta(days=1), LAST]
    rows_before = store.read(FIRST, LAST)

    box.reset()
    second = sync(client, store, FIRST, LAST, now=NOW, workers=8)
    assert second.days_fetched == [LAST - dt.timedelta(days=1), LAST]
    assert second.days_kept == 89
    assert set(days_asked(box)) == {LAST - dt.timedelta(days=1), LAST}
    # each of the two days costs its pages plus the closing empty page, nothing more
    pages = sum(-(-len(expected[d]) // 10_000) + 1 for d in second.days_fetched)
    assert len(box.requests_to("events")) == pages
    pd.testing.assert_frame_equal(store.read(FIRST, LAST), rows_before)

    # once settled, a day is complete and never fetched again
    box.reset()
    later = dt.datetime(2024, 3, 11, 15, tzinfo=dt.UTC)
    third = sync(client, store, FIRST, LAST, now=later, workers=8)
    assert third.days_fetched == [LAST - dt.timedelta(days=1), LAST]  # now they settle
    box.reset()
    assert sync(client, store, FIRST, LAST, now=later).days_fetched == []
    assert box.requests_to("events") == []


def test_refetch_days_asks_for_the_last_days_again(box, tmp_path):
    store = EventStore(tmp_path, box.org_id)
    client = client_for(box, workers=8)
    later = dt.datetime(2024, 3, 20, tzinfo=dt.UTC)  # every demo day has settled
    sync(client, store, FIRST, LAST, now=later)
    assert days_to_fetch(store, FIRST, LAST, later) == []
    got = days_to_fetch(store, FIRST, LAST, later, refetch_days=3)
    assert got == [dt.date(2024, 3, 8), dt.date(2024, 3, 9), LAST]
    box.reset()
    report = sync(client, store, FIRST, LAST, now=later, refetch_days=3)
    assert report.days_fetched == got and set(days_asked(box)) == set(got)


# --- a killed sync ------------------------------------------------------------------------------
def cli_env(box, store_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("C4W_")}
    return env | {
        "C4W_BASE_URL": box.url,
        "C4W_TOKEN": box.token,
        "C4W_ORG_ID": box.org_id,
        "C4W_STORE_DIR": str(store_dir),
        "PYTHONPATH": str(ROOT),
    }


def test_a_sync_killed_mid_write_leaves_whole_days_and_the_next_completes_it(
    sandbox_factory, org, expected, tmp_path
):
    box = sandbox_factory(org, latency_ms=30)
    args = ["--since", str(FIRST), "--until", str(LAST), "--workers", "2", "--quiet"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "c4w", "sync", *args],
        env=cli_env(box, tmp_path),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    folder = tmp_path / f"org={box.org_id}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(folder.glob("day=*/events.parquet"))) < 10:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    store = EventStore(tmp_path, box.org_id)
    written = store.day_states()
    assert 10 <= len(written) < 91, "the kill came too late to test anything"
    assert store.corrupt_days() == {}
    got = stored_ids(store)
    for day, state in written.items():  # every day written is whole
        assert got.get(day, set()) == expected.get(day, set())
        assert state.events == len(expected.get(day, ()))
    # the next sync takes the lock the killed one held, and fetches only the rest
    box.reset()
    report = sync(client_for(box), store, FIRST, LAST, workers=4)
    assert set(report.days_fetched).isdisjoint(d for d, s in written.items() if s.complete)
    assert stored_ids(store) == expected
    assert not list(folder.glob("day=*/.tmp-*"))


# --- two syncs, a reader ------------------------------------------------------------------------
def test_two_syncs_at_once_one_refuses_then_one_waits_and_nothing_is_corrupted(
    sandbox_factory, org, expected, tmp_path
):
    box = sandbox_factory(org, latency_ms=20)
    first_store = EventStore(tmp_path, box.org_id)
    done: list = []
    worker = threading.Thread(
        target=lambda: done.append(sync(client_for(box), first_store, FIRST, LAST, now=NOW)),
    )
    worker.start()
    folder = tmp_path / f"org={box.org_id}"
    while worker.is_alive() and not list(folder.glob("day=*/events.parquet")):
        time.sleep(0.01)
    other = EventStore(tmp_path, box.org_id)
    with pytest.raises(StoreBusy):
        sync(client_for(box), other, FIRST, LAST, now=NOW)
    waited = sync(client_for(box), other, FIRST, LAST, now=NOW, wait_s=60)
    worker.join(60)
    assert done and len(done[0].days_fetched) == 91
    assert waited.days_fetched == [LAST - dt.timedelta(days=1), LAST]  # only the unsettled
    assert other.corrupt_days() == {} and stored_ids(other) == expected


def test_a_reader_during_a_sync_sees_whole_days_only(sandbox_factory, org, expected, tmp_path):
    box = sandbox_factory(org, latency_ms=40)
    store = EventStore(tmp_path, box.org_id)
    sync(client_for(box, workers=8), store, FIRST, LAST, now=NOW)
    reader = EventStore(tmp_path, box.org_id)
    seen: list[dict[dt.date, set[str]]] = []
    finished = threading.Event()

    def read_while_syncing() -> None:
        while not finished.is_set():
            seen.append(stored_ids(reader))
            counts = reader.query("SELECT day, count(*) AS n FROM events GROUP BY day")
            seen.append({r["day"]: r["n"] for r in counts.to_pylist()})

    thread = threading.Thread(target=read_while_syncing)
    thread.start()
    try:
        sync(client_for(box, workers=2), store, FIRST, LAST, now=NOW, refetch_days=30)
    finally:
        finished.set()
        thread.join(30)
    assert len(seen) >= 4
    for snapshot in seen:
        for day, value in snapshot.items():
            whole = expected.get(day, set())
            assert value == (whole if isinstance(value, set) else len(whole)), day


# --- unreadable days, faults --------------------------------------------------------------------
def test_an_unreadable_day_is_reported_set_aside_and_fetched_again(box, expected, tmp_path):
    store = EventStore(tmp_path, box.org_id)
    later = dt.datetime(2024, 3, 20, tzinfo=dt.UTC)
    sync(client_for(box), store, FIRST, LAST, now=later)
    bad = dt.date(2024, 2, 1)
    store.day_path(bad).write_bytes(b"PAR1 not a parquet file")
    box.reset()
    report = sync(client_for(box), store, FIRST, LAST, now=later)
    assert list(report.set_aside) == [bad] and report.days_fetched == [bad]
    assert set(days_asked(box)) == {bad}
    assert stored_ids(store) == expected
    assert list((tmp_path / "_set_aside").rglob("*.parquet"))


@pytest.mark.parametrize("status", [429, 503])
def test_a_429_or_503_mid_sync_loses_nothing(box, expected, tmp_path, status):
    record = box.state.record

    def timed(entry: dict) -> None:  # when each request arrived, to check the waits
        entry["at"] = time.monotonic()
        record(entry)

    box.state.record = timed
    for request in (15, 40, 41):
        box.add_fault(status, request=request, retry_after="1" if status == 429 else None)
    client = Client(box.url, token=box.token, workers=16, backoff_factor=0.1)
    store = EventStore(tmp_path, box.org_id)
    report = sync(client, store, FIRST, LAST, now=NOW)
    assert stored_ids(store) == expected and len(report.days_fetched) == 91
    log = box.requests_to("events")
    faulted = [i for i, entry in enumerate(log) if entry["fault"] == str(status)]
    assert len(faulted) == 3
    if status == 429:  # the same request was sent again only after the second it asked for
        for i in faulted:
            again = next(e for e in log[i + 1 :] if e["query"] == log[i]["query"])
            assert again["at"] - log[i]["at"] >= 0.95


def test_a_rate_limit_wait_mid_sync_is_reported_with_when_the_next_try_starts(box, tmp_path):
    box.add_fault(429, request=3, retry_after="2")
    client = Client(box.url, token=box.token, workers=2)
    store = EventStore(tmp_path, box.org_id)
    seen: list[tuple[float, SyncProgress]] = []
    began = time.time()
    sync(
        client,
        store,
        LAST - dt.timedelta(days=5),
        LAST,
        now=NOW,
        progress=lambda p: seen.append((time.time(), p)),
    )
    waits = [(at, p) for at, p in seen if p.retry_at is not None]
    assert waits, "the wait the API asked for was not reported"
    at, first = waits[0]
    # asked at some moment after the start, to wait 2 s from then: the next try lies ahead
    assert began + 2 <= first.retry_at <= at + 2.5 and first.retry_at > at
    assert seen[-1][1].retry_at is None and seen[-1][1].days_done == 6  # the wait is over


def test_a_fetch_waiting_as_the_api_asked_is_not_called_silent():
    counter = data.FetchCounter()
    job = data.Job("top-up", LAST, LAST, counter=counter, started=time.monotonic() - 100)
    counter.changed = job.started
    assert job.stalled  # nothing heard for 100 s
    counter(SyncProgress(0, 3, 0, retry_at=time.time() + 10))  # a 429: wait 10 s
    assert counter.waiting() and not job.stalled
    counter.retry_at = time.time() - 1  # the wait is over and still nothing comes
    counter.changed -= 100
    assert not counter.waiting() and job.stalled


# --- the command line ---------------------------------------------------------------------------
def test_the_command_line_syncs_and_says_what_it_did(box, expected, tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "c4w", "sync", "--since", "2024-03-01", "--until", "2024-03-03"],
        env=cli_env(box, tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "3 day(s) fetched" in run.stdout
    assert "day/s" in run.stderr or "3/3" in run.stderr  # the progress bar
    assert box.token not in run.stdout + run.stderr
    store = EventStore(tmp_path, box.org_id)
    assert sorted(store.day_states()) == [dt.date(2024, 3, d) for d in (1, 2, 3)]


def test_the_command_line_refuses_bad_input_with_a_short_message(box, tmp_path):
    def run(*args: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "c4w", "sync", "--quiet", *args],
            env=cli_env(box, tmp_path) | env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert "not a date" in run("--since", "yesterday").stderr
    wrong = run(C4W_FETCH_WORKERS="lots")
    assert wrong.returncode == 2 and "C4W_FETCH_WORKERS" in wrong.stderr
    late = run("--since", "2024-03-05", "--until", "2024-03-01")
    assert late.returncode == 2 and "after" in late.stderr
    none = run(C4W_TOKEN="")
    assert none.returncode == 2 and "No credentials" in none.stderr
    with EventStore(tmp_path, box.org_id).write_lock():
        busy = run("--since", "2024-03-01", "--until", "2024-03-01")
    assert busy.returncode == 3 and "Another sync" in busy.stderr
