"""Fetch benchmark: a 30-day range from the sandbox API with 100 ms added to every answer.

Run ``python -m bench.fetch`` (200,000 demo events, median of 5 runs per mode) or, for a quick
look, ``python -m bench.fetch --events 50000 --runs 1``; ``--check`` exits non-zero when the
target of issue 4 is missed. The sandbox runs as a subprocess (its own interpreter, like a real
server), and the same client fetches the same range two ways, with the same page size (10,000)
and the same page reader:

- sequential: ``workers=1``, one plain scroll of the whole range to its closing empty page (the
  baseline);
- concurrent: the client's default, date windows fetched by 4 workers at once.

The runs of the two modes alternate, each after a garbage collection, so load on the machine
(shared, 2 cores) falls on both alike; the load average is printed before and after.

Target: concurrent at least 3x faster, with exactly the same set of event ids.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from c4w.client import Client
from c4w.sandbox import SANDBOX_TOKEN

TARGET_SPEED_UP = 3.0
END = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)  # the demo's last hour, fixed so runs compare


@dataclass
class Run:
    seconds: float
    events: int
    requests: int
    ids: frozenset[str]


@contextmanager
def sandbox(events: int, latency_ms: float) -> Iterator[tuple[str, str]]:
    """A sandbox subprocess over the demo; yields (base URL, organization id)."""
    command = [
        sys.executable, "-m", "c4w.sandbox", "--port", "0", "--events", str(events),
        "--latency-ms", str(latency_ms), "--end", END.isoformat(),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline() if process.stdout else ""
        if not first.startswith("Cloud4Wi sandbox API at "):
            raise RuntimeError("the sandbox did not start")
        url = first.split()[-1]
        with urllib.request.urlopen(f"{url}/_sandbox/health", timeout=30) as answer:
            org_id = json.load(answer)["org_id"]
        yield url, org_id
    finally:
        process.terminate()
        process.wait(timeout=30)


def _admin(url: str, path: str, method: str = "GET") -> object:
    request = urllib.request.Request(f"{url}/_sandbox/{path}", method=method, data=None)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def fetch(client: Client, url: str, org_id: str, days: int, workers: int) -> Run:
    """One timed fetch of the last ``days`` days, with the requests it took."""
    _admin(url, "reset", "POST")
    gc.collect()  # every run starts without the previous one's garbage
    started = time.perf_counter()
    frame = client.org_events(org_id, start=END - dt.timedelta(days=days), end=END, workers=workers)
    seconds = time.perf_counter() - started
    log = _admin(url, "requests")
    ids = frozenset(frame["event_id"].tolist())
    assert len(ids) == len(frame), "an event arrived twice"
    return Run(seconds, len(frame), len(log), ids)  # type: ignore[arg-type]


def _load() -> str:
    """The 1-, 5- and 15-minute load averages (how busy the machine was)."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fetch", description=__doc__)
    parser.add_argument("--events", type=int, default=200_000, help="demo size")
    parser.add_argument("--days", type=int, default=30, help="range fetched (last N days)")
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--workers", type=int, default=4, help="concurrent mode's workers")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    args = parser.parse_args(argv)

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.system()}\n"
        f"sandbox: {args.events:,} demo events, +{args.latency_ms:.0f} ms per answer; "
        f"fetching the last {args.days} days to {END:%Y-%m-%d}, median of {args.runs} runs\n"
        f"load average before: {_load()}",
        flush=True,
    )
    modes = {"sequential (workers=1)": 1, f"concurrent (workers={args.workers})": args.workers}
    runs: dict[str, list[Run]] = {name: [] for name in modes}
    with sandbox(args.events, args.latency_ms) as (url, org_id):
        client = Client(url, token=SANDBOX_TOKEN, workers=args.workers)
        for workers in modes.values():  # warm up: connections, imports, the parser's caches
            fetch(client, url, org_id, 1, workers)
        for _ in range(args.runs):  # interleaved, so load on the machine hits both modes alike
            for name, workers in modes.items():
                runs[name].append(fetch(client, url, org_id, args.days, workers))
        client.close()

    medians = {
        name: statistics.median(run.seconds for run in items) for name, items in runs.items()
    }
    print(f"\n{'mode':<26}{'events':>9}{'requests':>10}{'median s':>10}   runs (s)")
    for name, items in runs.items():
        times = ", ".join(f"{run.seconds:.2f}" for run in items)
        print(
            f"{name:<26}{items[0].events:>9,}{items[0].requests:>10}"
            f"{medians[name]:>10.2f}   {times}"
        )
    sequential, concurrent = (runs[name] for name in modes)
    same = all(run.ids == sequential[0].ids for run in sequential + concurrent)
    speed_up = medians[next(iter(modes))] / medians[list(modes)[1]]
    verdict = "met" if speed_up >= TARGET_SPEED_UP else "MISSED"
    print(
        f"\nspeed-up: {speed_up:.2f}x (target >= {TARGET_SPEED_UP:.0f}x: {verdict}); "
        f"identical event ids: {'yes' if same else 'NO'}\nload average after: {_load()}"
    )
    if not same:
        return 1
    return 1 if args.check and speed_up < TARGET_SPEED_UP else 0


if __name__ == "__main__":
    sys.exit(main())
