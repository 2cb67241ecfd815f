"""Ingest benchmark: response bodies of the events endpoint -> the canonical events frame.

Run `python -m bench.ingest` (1,000,000 events in 100 pages of 10,000, median of 3 runs) or
`python -m bench.ingest --events 100000 --runs 1` for a quick look; `--check` exits non-zero
when a target of issue 4 is missed. Three paths over the same events:

- baseline: `json.loads` + `pandas.json_normalize` on every page, then `pandas.concat`;
- floor: `pyarrow.json.read_json` over the same events as newline-delimited JSON;
- project: `c4w.frame.events_frame` on every page, then `c4w.frame.concat_frames`.

Targets: project at least 10x faster than the baseline, at most 1.5x the floor, and at most
150 bytes of frame memory per event (`memory_usage(deep=True)`).
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow.json as pa_json

from c4w import frame

PAGE_SIZE = 10_000
TARGET_VS_BASELINE = 10.0
TARGET_VS_FLOOR = 1.5
TARGET_BYTES_PER_EVENT = 150.0

ORG_ID = "155d60f21dc1938562900a0e201d54f6"
TIMEZONES = (
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "Europe/London",
    "Europe/Rome",
)
CITIES = ("Seattle", "Denver", "Dallas", "Boston", "Leeds", "Milano")
# (type, share of events); a chain's month: mostly WiFi logins and visits, then campaigns.
TYPE_MIX = (
    ("login", 0.32),
    ("arriving", 0.12),
    ("visit", 0.14),
    ("signup", 0.03),
    ("geo_arriving", 0.08),
    ("geo_visit", 0.08),
    ("send_email", 0.10),
    ("open_email", 0.04),
    ("click_email", 0.015),
    ("send_sms", 0.04),
    ("click_sms", 0.005),
    ("survey", 0.01),
    ("promo", 0.02),
)
N_LOCATIONS = 200
N_CAMPAIGNS = 24
SPAN_SECONDS = 30 * 86_400
END_SECONDS = 1_767_225_600  # 2026-01-01T00:00:00Z

WHEN = '"when":{"createdAt":"%sZ","createdAtLocal":"%sZ","timezone":"%s"}}'
WIFI_WHERE = '"where":{"locationId":"%s","locationName":"%s","hotspotId":"%s"},'
HEAD = '{"organizationId":"' + ORG_ID + '","customerId":"%s","event":{"type":"%s","id":"%s"'
GEO_HEAD = '{"customerId":"%s","event":{"type":"%s","id":"%s"'
GEO_WHERE = (
    '"where":{"geofenceName":"%s","geofenceMetadata":[],"geofenceId":"%s","geofenceExtId":"%s",'
    '"geofenceJSON":{"type":"Circle","coordinates":[%s,%s],"radius":%d}},'
)
APP = (
    ',"properties":{"appId":"62d86f755d146f00012297ea","appBundle":"com.example.stores",'
    '"projectId":"62d86f0068c4fc0001c4d63f","appOs":"%s"}'
)


@dataclass
class Workload:
    """The same events three ways: API pages, NDJSON bytes, and the count."""

    bodies: list[bytes]
    ndjson: bytes
    n_events: int


def _hex_ids(rng: np.random.Generator, n: int, suffix: str) -> list[str]:
    """n random 32-hex-digit ids with the vendor's one-letter suffix."""
    hi = rng.integers(0, 2**63, n, dtype=np.int64).tolist()
    lo = rng.integers(0, 2**63, n, dtype=np.int64).tolist()
    return ["%016x%016x%s" % (a, b, suffix) for a, b in zip(hi, lo)]


def _wall_clock(seconds: np.ndarray, tz_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ISO texts (no suffix) of UTC and of the local wall clock in each row's time zone."""
    utc = seconds.astype("datetime64[s]")
    local = np.empty_like(utc)
    for k, tz in enumerate(TIMEZONES):
        rows = tz_index == k
        if rows.any():
            stamps = pd.DatetimeIndex(utc[rows]).tz_localize("UTC").tz_convert(tz)
            local[rows] = stamps.tz_localize(None).to_numpy().astype("datetime64[s]")
    return np.datetime_as_string(utc), np.datetime_as_string(local)


def make_events(n_events: int, seed: int = 4) -> list[bytes]:
    """n_events compact nested events of a realistic type mix, sorted by createdAt."""
    rng = np.random.default_rng(seed)
    names, shares = zip(*TYPE_MIX)
    type_idx = rng.choice(len(names), size=n_events, p=np.array(shares) / sum(shares))
    created = np.sort(rng.integers(END_SECONDS - SPAN_SECONDS, END_SECONDS, n_events))
    n_contacts = max(1, n_events // 10)
    contact = rng.zipf(1.3, n_events) % n_contacts
    contact_ids = _hex_ids(rng, n_contacts, "")
    loc = rng.integers(0, N_LOCATIONS, n_events)
    loc_tz = np.arange(N_LOCATIONS) % len(TIMEZONES)
    loc_ids = _hex_ids(rng, N_LOCATIONS, "")
    hotspots = _hex_ids(rng, N_LOCATIONS, "")
    geo_ids = _hex_ids(rng, N_LOCATIONS, "")
    loc_names = [f"Store {k:03d} {CITIES[k % len(CITIES)]}" for k in range(N_LOCATIONS)]
    lon = np.round(rng.uniform(-122.0, 12.0, N_LOCATIONS), 6).tolist()
    lat = np.round(rng.uniform(34.0, 53.0, N_LOCATIONS), 6).tolist()
    radius = rng.integers(50, 301, N_LOCATIONS).tolist()
    duration = np.minimum(rng.lognormal(3.2, 1.0, n_events).astype(np.int64), 900)
    start = created - duration * 60
    tz = loc_tz[loc]
    created_utc, created_local = _wall_clock(created, tz)
    start_utc, start_local = _wall_clock(start, tz)
    campaign = rng.integers(0, N_CAMPAIGNS, n_events)
    answers = rng.integers(0, 3, n_events)
    os_pick = rng.integers(0, 2, n_events)

    lines: list[str] = [""] * n_events
    for t, name in enumerate(names):
        rows = np.flatnonzero(type_idx == t)
        if rows.size == 0:
            continue
        geo = name.startswith("geo_")
        ids = _hex_ids(rng, rows.size, "g" if geo else "l")
        for row, event_id in zip(rows.tolist(), ids):
            lines[row] = _event_text(
                name, event_id, contact_ids[contact[row]], int(loc[row]), row,
                locals_=(created_utc, created_local, start_utc, start_local),
                places=(loc_ids, loc_names, hotspots, geo_ids, lon, lat, radius),
                extra=(int(duration[row]), int(campaign[row]), int(answers[row]),
                       int(os_pick[row]), TIMEZONES[tz[row]], int(contact[row])),
            )
    return [line.encode() for line in lines]


def _event_text(name, event_id, contact_id, loc, row, locals_, places, extra) -> str:  # noqa: PLR0913
    """One event in the API's nested shape as compact JSON text."""
    created_utc, created_local, start_utc, start_local = locals_
    loc_ids, loc_names, hotspots, geo_ids, lon, lat, radius = places
    duration, campaign, answer, os_pick, tz, contact = extra
    when = WHEN % (created_utc[row], created_local[row], tz)
    visit = '"visit":{"startAt":"%sZ","startAtLocal":"%sZ","timezone":"%s"' % (
        start_utc[row], start_local[row], tz)
    if name.startswith("geo_"):
        app = APP % ("android" if os_pick else "ios")
        dur = ',"duration":%d' % duration if name == "geo_visit" else ""
        where = GEO_WHERE % (f"Store {loc:03d} area", geo_ids[loc], f"S{loc:03d}",
                             lon[loc], lat[loc], radius[loc])
        return (GEO_HEAD % (contact_id, name, event_id) + "," + visit + dur + app + "}},"
                + where + when)
    head = HEAD % (contact_id, name, event_id)
    wifi = WIFI_WHERE % (loc_ids[loc], loc_names[loc], hotspots[loc])
    if name == "visit":
        where = '"where":{"locationId":"%s","locationName":"%s"},' % (loc_ids[loc], loc_names[loc])
        return head + "," + visit + ',"duration":%d}},' % duration + where + when
    camp = '"campaignId":"cmp%04d","communicationId":"com%04d","campaignName":"Campaign %d"' % (
        campaign, campaign, campaign)
    if name.endswith("_email"):
        part = ',"email":{%s,"channel":"email","email":"guest%d@example.com"}' % (camp, contact)
    elif name.endswith("_sms"):
        part = ',"sms":{%s,"channel":"sms","phone":"3%09d","prefix":"+39"}' % (camp, contact)
    elif name == "survey":
        part = (',"survey":{%s,"answerId":"ans%d","questions":{"question_1":"How was it?",'
                '"question_2":"Back soon?"},"answers":{"answer_1":"%s","answer_2":"%s"}}') % (
            camp, row, ("great", "good", "poor")[answer], ("yes", "no")[os_pick])
    elif name == "promo":
        part = ',"promo":{"type":"%s"}' % ("coupon", "video", "link")[answer]
    elif name == "signup":
        part = ',"signup":{"source":"%s"}' % ("wifi", "wifi", "kiosk")[answer]
    else:
        part = ""
    return head + part + "}," + wifi + when


def make_workload(n_events: int, page_size: int = PAGE_SIZE) -> Workload:
    """Events as API response bodies of page_size events, and as NDJSON."""
    lines = make_events(n_events)
    bodies = []
    for first in range(0, n_events, page_size):
        page = lines[first : first + page_size]
        head = b'{"generated":"2026-01-01T00:00:00Z","count":%d,"events":[' % len(page)
        bodies.append(head + b",".join(page) + b"]}")
    return Workload(bodies=bodies, ndjson=b"\n".join(lines) + b"\n", n_events=n_events)


def baseline(work: Workload) -> pd.DataFrame:
    """json.loads + pandas.json_normalize per page, pages concatenated."""
    pages = [pd.json_normalize(json.loads(body)["events"]) for body in work.bodies]
    return pd.concat(pages, ignore_index=True)


def floor(work: Workload):
    """pyarrow's JSON reader over the same events as newline-delimited JSON."""
    return pa_json.read_json(io.BytesIO(work.ndjson))


def project(work: Workload) -> pd.DataFrame:
    """The project's path: one frame per page, pages concatenated."""
    return frame.concat_frames([frame.events_frame(body) for body in work.bodies])


def median_seconds(run: Callable[[], object], runs: int) -> tuple[float, object]:
    """Median wall time of `runs` calls, and the last result."""
    times, result = [], None
    for _ in range(runs):
        result = None
        gc.collect()
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    """Measure the three paths and print a table; with --check, fail on a missed target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--skip-baseline", action="store_true",
                        help="skip the slow json_normalize baseline (no ratio against it)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    work = make_workload(args.events)
    megabytes = sum(map(len, work.bodies)) / 1e6
    print(f"{args.events:,} events in {len(work.bodies)} pages ({megabytes:,.0f} MB), "
          f"generated in {time.perf_counter() - started:.1f} s; median of {args.runs} runs")

    t_floor, _ = median_seconds(lambda: floor(work), args.runs)
    t_project, df = median_seconds(lambda: project(work), args.runs)
    assert len(df) == args.events, "the frame lost or invented rows"
    bytes_per_event = df.memory_usage(deep=True).sum() / args.events
    del df
    t_base = None
    if not args.skip_baseline:
        t_base, _ = median_seconds(lambda: baseline(work), args.runs)

    print(f"{'path':<44}{'seconds':>9}{'x baseline':>12}{'x floor':>9}")
    rows = [("(a) json.loads + json_normalize (baseline)", t_base),
            ("(b) pyarrow.json.read_json NDJSON (floor)", t_floor),
            ("(c) events_frame + concat_frames (project)", t_project)]
    for label, seconds in rows:
        if seconds is None:
            print(f"{label:<44}{'skipped':>9}")
            continue
        vs_base = f"{seconds / t_base:.3f}" if t_base else "-"
        print(f"{label:<44}{seconds:>9.3f}{vs_base:>12}{seconds / t_floor:>9.2f}")
    speedup = t_base / t_project if t_base else float("nan")
    print(f"project: {speedup:.1f}x faster than baseline (target >= {TARGET_VS_BASELINE:g}x), "
          f"{t_project / t_floor:.2f}x the floor (target <= {TARGET_VS_FLOOR:g}x), "
          f"{bytes_per_event:.1f} bytes/event (target <= {TARGET_BYTES_PER_EVENT:g})")
    missed = (
        (t_base is not None and speedup < TARGET_VS_BASELINE)
        or t_project / t_floor > TARGET_VS_FLOOR
        or bytes_per_event > TARGET_BYTES_PER_EVENT
    )
    if missed:
        print("TARGET MISSED")
    return 1 if (missed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
