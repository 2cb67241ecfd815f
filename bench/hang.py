"""How long a user waits for the message when the API hangs, rate limits or keeps failing.

``python -m bench.hang [--before]`` runs the client with its default bounds against the sandbox
(the demo organization, 20,000 events) with three lasting faults, and prints the time from the
start of the fetch to the error the page shows:
- every events request hangs (``--fault timeout:delay_s=3000,times=0``), Last 30 days;
- every events request is answered 429 with ``Retry-After: 20``;
- every locations request is answered 503 (the first call of every page).
``--before`` uses the bounds the client had before they were added (60 s per read, no bound on
the wait for one answer or on the whole fetch, each Retry-After honoured up to 120 s); its hang
takes over six minutes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable, Sequence

from c4w.client import Client
from c4w.sandbox import serve_in_thread

BEFORE = {
    "timeout": 60.0,
    "max_retry_after": 120.0,
    "patience": 1e9,
    "deadline": 1e9,
    "rate_limit_wait": 1e9,
}


def timed(call: Callable[[], object]) -> tuple[float, str]:
    started = time.monotonic()
    try:
        call()
        outcome = "no error"
    except Exception as exc:  # the typed error the page would show
        outcome = f"{type(exc).__name__}: {exc}"
    return time.monotonic() - started, outcome


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.hang")
    parser.add_argument("--before", action="store_true", help="the bounds of before")
    args = parser.parse_args(argv)
    options = BEFORE if args.before else {}
    box = serve_in_thread(None, n_events=20_000)
    end = dt.datetime.now(dt.UTC).date()
    start = end - dt.timedelta(days=29)
    cases = [
        ("hang", "timeout", {"delay_s": 3000}, "events"),
        ("429, Retry-After 20 s", 429, {"retry_after": 20}, "events"),
        ("503 on locations", 503, {"endpoint": "locations"}, "locations"),
    ]
    try:
        for label, kind, fault, what in cases:
            box.reset()
            box.add_fault(kind, times=None, **fault)
            client = Client(box.url, token=box.token, **options)
            if what == "events":
                took, outcome = timed(lambda c=client: c.org_events(box.org_id, start, end))
            else:
                took, outcome = timed(lambda c=client: c.locations(box.org_id))
            tries = len(box.requests_to(what))
            print(f"{label}: {took:.1f} s to the message, {tries} requests -> {outcome[:120]}")
    finally:
        box.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
