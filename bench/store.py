"""History store benchmarks: size on disk, SQL against pandas, and sync request counts.

``python -m bench.store build --events 1000000 --root DIR`` writes the demo into a store (one
UTC day parsed and written at a time; ``--chunks K`` builds K demos of events/K, each covering
the 90 days before the previous one's start, for a longer history that never sits in memory
whole) and prints the bytes per event.

``python -m bench.store query --root DIR`` times, each in a fresh process so the peak resident
memory (RSS) belongs to that way alone, the same headline numbers of the last 90 days (guests,
contacts reached, sign-ups, logins, visits, median visit length) computed:
- sql: in DuckDB straight over the Parquet files (``c4w.queries.overview.headline_counts``);
- read+pandas: the days read with pyarrow.dataset (only the columns the metric needs), then
  the same numbers in pandas with ``c4w.metrics.overview``'s column readers;
- read all columns: only reading the 90 days, every column (what a page that needs rows pays).
Medians of ``--runs`` runs; the results of sql and pandas must be identical.

``python -m bench.store sync --events 1000000 --latency-ms 300`` runs the sandbox as a
subprocess and syncs 90 days into an empty store, then again (only the unsettled days are asked
for), with the requests each took. ``--workers-curve`` times the dashboard's concurrent fetch of
90 days (``Client.org_events``) and a first sync at 4, 8, 16 and 32 workers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.fetch import _admin, sandbox
from c4w import demo, schema
from c4w.store import EventStore

END = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # the demo's last hour, fixed so runs compare
ORG_NAME = "bench"
HEADLINE_COLUMNS = [schema.TYPE, schema.CONTACT_ID, schema.VISIT_DURATION_MIN]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*.parquet"))


# --- build ---------------------------------------------------------------------------------------
def chunk_ends(end: dt.datetime, chunks: int) -> list[dt.datetime]:
    """Where each chunk's 90 days end: the newest first, each 90 days before the one after it."""
    return [end - dt.timedelta(days=90 * k) for k in range(chunks)]


def build(
    root: Path, events: int, chunks: int, end: dt.datetime = END, org_id: str | None = None
) -> dict:
    """Write ``chunks`` demos of ``events // chunks`` into ``root``: one chain (same cafés,
    geofences and campaigns), each chunk's guests its own. Every chunk's write replaces the
    contacts file, so the contacts of every chunk are written together at the end."""
    from c4w import contacts
    from c4w.store.contacts import write_contacts
    from c4w.store.demo import write_demo_store

    started = time.perf_counter()
    written = 0
    guests = []
    for k, chunk_end in enumerate(chunk_ends(end, chunks)):
        org = demo.build_demo(events // chunks, seed=7 + k, end=chunk_end, chain_seed=7)
        store = EventStore(root, org_id or org.org_id)
        org_id = store.org_id
        written += write_demo_store(store, org, end)
        guests.append(contacts.contacts_frame(org.contacts))
        del org
        gc.collect()
    store = EventStore(root, org_id)
    write_contacts(store, pd.concat(guests, ignore_index=True))
    size = _folder_bytes(store.folder)
    first, last = store.span()
    return {
        "org_id": org_id,
        "folder": str(store.folder),
        "events": written,
        "contacts": sum(len(g) for g in guests),
        "days": (last - first).days + 1,
        "bytes": size,
        "bytes_per_event": size / max(written, 1),
        "seconds": time.perf_counter() - started,
        "peak_mb": _peak_mb(),
    }


def build_for_dashboard(cache_dir: Path, events: int, chunks: int) -> dict:
    """Build the chunks where the dashboard's demo of ``events`` (``C4W_DEMO_EVENTS``) with
    ``C4W_CACHE_DIR=cache_dir`` finds its store today, ending this hour, so ``bench.views``
    walks a history longer than the 90 days the demo makes itself."""
    from c4w import data

    end = data.now().replace(minute=0, second=0, microsecond=0)
    root = data.demo_store_root({data.CACHE_ENV: str(cache_dir)})
    folder = data.demo_store_folder(root, events, end.date())
    return build(folder, events, chunks, end, data.DEMO_ORG_ID)


# --- query ----------------------------------------------------------------------------------------
def _last_90_days(store: EventStore) -> tuple[dt.date, dt.date]:
    _, last = store.span()
    return last - dt.timedelta(days=89), last


def pandas_headline(events) -> dict:
    """The headline counts of ``overview_kpis`` (its returning share left out, which the SQL
    does not compute), from the same public column readers."""
    from c4w.metrics.overview import GUEST_TYPES, REACHED_TYPES, distinct_contacts, type_mask

    visits = type_mask(events, (schema.VISIT,))
    lengths = events[schema.VISIT_DURATION_MIN].to_numpy(dtype=np.float64, na_value=np.nan)
    lengths = lengths[visits]
    lengths = lengths[np.isfinite(lengths) & (lengths >= 0)]
    return {
        "guests": distinct_contacts(events, GUEST_TYPES),
        "reached": distinct_contacts(events, REACHED_TYPES),
        "signups": int(type_mask(events, (schema.SIGNUP,)).sum()),
        "logins": int(type_mask(events, (schema.LOGIN,)).sum()),
        "visits": int(visits.sum()),
        "median_dwell": float(np.median(lengths)) if len(lengths) else None,
    }


def measure(root: Path, org_id: str, way: str) -> dict:
    """One way, timed once, in this (fresh) process."""
    from c4w.queries.overview import headline_counts

    store = EventStore(root, org_id)
    start, end = _last_90_days(store)
    started = time.perf_counter()
    if way == "sql":
        result = headline_counts(store, start, end)
    elif way == "read+pandas":
        result = pandas_headline(store.read(start, end, columns=HEADLINE_COLUMNS))
    else:
        events = store.read(start, end)
        result = {"rows": len(events)}
    return {"seconds": time.perf_counter() - started, "peak_mb": _peak_mb(), "result": result}


def query(root: Path, runs: int) -> int:
    org_id = next(p.name[4:] for p in root.iterdir() if p.name.startswith("org="))
    ways = ("sql", "read+pandas", "read all columns")
    results: dict[str, list[dict]] = {way: [] for way in ways}
    for _ in range(runs):
        for way in ways:  # interleaved, so load on the machine falls on every way alike
            out = subprocess.run(
                [sys.executable, "-m", "bench.store", "_measure", str(root), org_id, way],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            results[way].append(json.loads(out.stdout))
    store = EventStore(root, org_id)
    start, end = _last_90_days(store)
    print(f"store: {root} ({start}..{end}), load average {_load()}")
    print(f"{'way':<20}{'median s':>10}{'peak RSS MB':>13}   runs (s)")
    for way, items in results.items():
        seconds = statistics.median(i["seconds"] for i in items)
        peak = statistics.median(i["peak_mb"] for i in items)
        runs_text = ", ".join(f"{i['seconds']:.2f}" for i in items)
        print(f"{way:<20}{seconds:>10.2f}{peak:>13.0f}   {runs_text}")
    same = results["sql"][0]["result"] == results["read+pandas"][0]["result"]
    print(f"sql result: {results['sql'][0]['result']}\nidentical to pandas: {same}")
    print(f"rows in 90 days: {results['read all columns'][0]['result']['rows']:,}")
    return 0 if same else 1


# --- sync -----------------------------------------------------------------------------------------
def _sync_once(url: str, org_id: str, root: Path, workers: int, now: dt.datetime) -> dict:
    from c4w.client import Client
    from c4w.sandbox import SANDBOX_TOKEN
    from c4w.sync import sync

    _admin(url, "reset", "POST")
    store = EventStore(root, org_id)
    client = Client(url, token=SANDBOX_TOKEN, workers=workers)
    started = time.perf_counter()
    report = sync(client, store, (END - dt.timedelta(days=89)).date(), END.date(), now=now)
    seconds = time.perf_counter() - started
    client.close()
    requests = len([e for e in _admin(url, "requests") if e.get("endpoint") == "events"])
    return {
        "seconds": seconds,
        "requests": requests,
        "days": len(report.days_fetched),
        "events": report.events_written,
    }


def _fetch_once(url: str, org_id: str, workers: int) -> dict:
    from c4w.client import Client
    from c4w.sandbox import SANDBOX_TOKEN

    _admin(url, "reset", "POST")
    client = Client(url, token=SANDBOX_TOKEN, workers=workers)
    gc.collect()
    started = time.perf_counter()
    events = client.org_events(org_id, start=END - dt.timedelta(days=90), end=END)
    seconds = time.perf_counter() - started
    client.close()
    requests = len([e for e in _admin(url, "requests") if e.get("endpoint") == "events"])
    return {"seconds": seconds, "requests": requests, "events": len(events)}


def sync_bench(events: int, latency_ms: float, workers: int, curve: bool, runs: int) -> int:
    now = END  # the demo's last hour: its last two days have not settled
    print(
        f"sandbox: {events:,} demo events, +{latency_ms:.0f} ms per answer; 90 days to {END:%F}\n"
        f"load average before: {_load()}",
        flush=True,
    )
    with sandbox(events, latency_ms) as (url, org_id):
        root = Path(tempfile.mkdtemp(prefix="c4w-bench-store-"))
        try:
            first = _sync_once(url, org_id, root, workers, now)
            second = _sync_once(url, org_id, root, workers, now)
            later = now + dt.timedelta(days=2)
            _sync_once(url, org_id, root, workers, later)  # the last days settle
            settled = _sync_once(url, org_id, root, workers, later)
            print(f"\nsync with {workers} workers   days  requests   seconds   events")
            for name, run in (
                ("first (empty store)", first),
                ("second (same hour)", second),
                ("after every day settled", settled),
            ):
                print(
                    f"{name:<27}{run['days']:>5}{run['requests']:>10}{run['seconds']:>10.2f}"
                    f"{run['events']:>9,}"
                )
            if curve:
                print(f"\nworkers curve (median of {runs}): workers, fetch s / requests, sync s")
                for count in (4, 8, 16, 32):
                    fetches, syncs = [], []
                    for _ in range(runs):
                        fetches.append(_fetch_once(url, org_id, count))
                        shutil.rmtree(root)
                        root.mkdir()
                        syncs.append(_sync_once(url, org_id, root, count, now))
                    fs = statistics.median(r["seconds"] for r in fetches)
                    ss = statistics.median(r["seconds"] for r in syncs)
                    print(
                        f"{count:>3} workers: fetch {fs:6.2f} s / {fetches[0]['requests']:>4} "
                        f"requests ({fetches[0]['events']:,} events); sync {ss:6.2f} s / "
                        f"{syncs[0]['requests']:>4} requests",
                        flush=True,
                    )
        finally:
            shutil.rmtree(root, ignore_errors=True)
    print(f"load average after: {_load()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.store", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    b = commands.add_parser("build")
    b.add_argument("--events", type=int, default=1_000_000)
    b.add_argument("--chunks", type=int, default=1)
    where = b.add_mutually_exclusive_group(required=True)
    where.add_argument("--root", type=Path)
    where.add_argument(
        "--dashboard-cache",
        type=Path,
        help="build where the dashboard's demo finds its store with C4W_CACHE_DIR=this folder",
    )
    q = commands.add_parser("query")
    q.add_argument("--root", type=Path, required=True)
    q.add_argument("--runs", type=int, default=3)
    s = commands.add_parser("sync")
    s.add_argument("--events", type=int, default=1_000_000)
    s.add_argument("--latency-ms", type=float, default=300.0)
    s.add_argument("--workers", type=int, default=16)
    s.add_argument("--workers-curve", action="store_true")
    s.add_argument("--runs", type=int, default=1)
    m = commands.add_parser("_measure")
    m.add_argument("root", type=Path)
    m.add_argument("org_id")
    m.add_argument("way")
    args = parser.parse_args(argv)
    if args.command == "_measure":
        print(json.dumps(measure(args.root, args.org_id, args.way)))
        return 0
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}",
        flush=True,
    )
    if args.command == "build":
        if args.dashboard_cache is not None:
            built = build_for_dashboard(args.dashboard_cache, args.events, args.chunks)
        else:
            built = build(args.root, args.events, args.chunks)
        print(json.dumps(built, indent=1))
        return 0
    if args.command == "query":
        return query(args.root, args.runs)
    return sync_bench(args.events, args.latency_ms, args.workers, args.workers_curve, args.runs)


if __name__ == "__main__":
    sys.exit(main())
