"""Ingest benchmark: response bodies of the events endpoint -> the canonical events frame.

`python -m bench.ingest` generates 1,000,000 nested events of a realistic type mix as 100 API
pages of 10,000 and reports the median of 3 runs of each path over the same events:

- (a) baseline: `json.loads` + `pandas.json_normalize` on every page, then `pandas.concat`;
- (b) floor: `pyarrow.json.read_json` over the same events as newline-delimited JSON;
- (c) project: `c4w.frame.pages_frame` over the pages (pages read on threads, one frame);
- (d) project, page by page: `c4w.frame.events_frame` on every page + `concat_frames`;
- (e) DuckDB's JSON reader over the same NDJSON (a file, as it reads them) into Arrow: nested
  columns as (b) gives, not yet the canonical frame, and with DuckDB's lenient casts (`5` read
  as text `'5'`, `true` as 1.0) that the frame's rules forbid, so it is a second floor to
  compare with, not a path the project could use as it is.
- (f) project with DuckDB as the reader: `pages_frame(..., reader="duckdb")`, the same frame as
  (c), every value read as JSON and its type tested so that the frame's rules hold.

One page of 10,000 (the first) is also read alone, many times: (a) json_normalize, (c) with
pyarrow (`events_frame`) and (f) with DuckDB, to see where DuckDB's start-up cost leaves it.
`--memory` runs each path once more in a fresh process over the same pages (read from files)
and reports its peak RSS and the growth over the RSS held before the read (the bodies).

Targets (issue 4): (c) at least 10x faster than (a), at most 1.5x (b), and at most 150 bytes of
frame memory per event (`memory_usage(deep=True)`). Runs of the paths are interleaved so that
a noisy machine slows them alike; CPU seconds are shown beside wall seconds.
`--events N --runs R` for a quick look, `--check` to exit 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
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
# (type, share of events): a chain's month is mostly WiFi logins and visits, then campaigns.
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
# Distinct guests: about one per 20 events, near the demo organization's one per 26 (frame memory
# grows with it: the ids of distinct guests, emails and phones are stored once each).
EVENTS_PER_CONTACT = 20
N_CAMPAIGNS = 24
SPAN_SECONDS = 30 * 86_400
END_SECONDS = 1_767_225_600  # 2026-01-01T00:00:00Z

# Templates of the API's nested shape (compact JSON, the vendor's key order).
_HEAD = '{"organizationId":"' + ORG_ID + '","customerId":"%s","event":{"type":"TYPE","id":"%s"'
_GEO_HEAD = '{"customerId":"%s","event":{"type":"TYPE","id":"%s"'
_WIFI_WHERE = '"where":{"locationId":"%s","locationName":"%s","hotspotId":"%s"},'
_VISIT_WHERE = '"where":{"locationId":"%s","locationName":"%s"},'
_GEO_WHERE = (
    '"where":{"geofenceName":"%s","geofenceMetadata":[],"geofenceId":"%s","geofenceExtId":"%s",'
    '"geofenceJSON":{"type":"Circle","coordinates":[%s,%s],"radius":%d}},'
)
_WHEN = '"when":{"createdAt":"%sZ","createdAtLocal":"%sZ","timezone":"%s"}}'
_VISIT = '"visit":{"startAt":"%sZ","startAtLocal":"%sZ","timezone":"%s"'
_APP = (
    ',"properties":{"appId":"62d86f755d146f00012297ea","appBundle":"com.example.stores",'
    '"projectId":"62d86f0068c4fc0001c4d63f","appOs":"%s"}'
)
_CAMPAIGN = '"campaignId":"cmp%04d","communicationId":"com%04d","campaignName":"Campaign %d"'
_PARTS = {
    "signup": ',"signup":{"source":"%s"}',
    "email": ',"email":{' + _CAMPAIGN + ',"channel":"email","email":"guest%d@example.com"}',
    "sms": ',"sms":{' + _CAMPAIGN + ',"channel":"sms","phone":"3%09d","prefix":"+39"}',
    "survey": (
        ',"survey":{' + _CAMPAIGN + ',"answerId":"ans%d","questions":{"question_1":"How was it?",'
        '"question_2":"Back soon?"},"answers":{"answer_1":"%s","answer_2":"%s"}}'
    ),
    "promo": ',"promo":{"type":"%s"}',
}


@dataclass
class Workload:
    """The same events as API response bodies and as NDJSON."""

    bodies: list[bytes]
    ndjson: bytes
    n_events: int
    ndjson_path: str | None = None  # the NDJSON as a file, written when DuckDB first reads it


def _hex_ids(rng: np.random.Generator, n: int, suffix: bytes = b"") -> np.ndarray:
    """n random 32-hex-digit ids (bytes) with the vendor's one-letter suffix."""
    digits = np.frombuffer(rng.bytes(16 * n).hex().encode(), dtype="S32")
    return np.char.add(digits, suffix) if suffix else digits


def _wall_clock(seconds: np.ndarray, tz_index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ISO texts (no suffix) of UTC and of the local wall clock in each row's time zone."""
    utc = seconds.astype("datetime64[s]")
    local = np.empty_like(utc)
    for k, tz in enumerate(TIMEZONES):
        rows = tz_index == k
        if rows.any():
            stamps = pd.DatetimeIndex(utc[rows]).tz_localize("UTC").tz_convert(tz)
            local[rows] = stamps.tz_localize(None).to_numpy().astype("datetime64[s]")
    return np.datetime_as_string(utc).astype("S19"), np.datetime_as_string(local).astype("S19")


def _fill(template: str, columns: list) -> list[bytes]:
    """One line per row: `template` % (the row's values of each column), as bytes."""
    template = template.encode()
    return [template % values for values in zip(*columns, strict=True)]


def make_events(n_events: int, seed: int = 4) -> list[bytes]:
    """n_events compact events in the API's nested shape, sorted by createdAt (deterministic)."""
    rng = np.random.default_rng(seed)
    names, shares = zip(*TYPE_MIX, strict=True)
    type_idx = rng.choice(len(names), size=n_events, p=np.array(shares) / sum(shares))
    created = np.sort(rng.integers(END_SECONDS - SPAN_SECONDS, END_SECONDS, n_events))
    n_contacts = max(1, n_events // EVENTS_PER_CONTACT)
    contact = (n_contacts * rng.random(n_events) ** 2).astype(np.int64)  # some regulars
    contact_ids = _hex_ids(rng, n_contacts)
    loc = rng.integers(0, N_LOCATIONS, n_events)
    tz = loc % len(TIMEZONES)
    loc_ids, hotspots, geo_ids = (_hex_ids(rng, N_LOCATIONS) for _ in range(3))
    loc_names = np.array(
        [f"Store {k:03d} {CITIES[k % len(CITIES)]}" for k in range(N_LOCATIONS)], dtype="S"
    )
    lon = np.round(rng.uniform(-122.0, 12.0, N_LOCATIONS), 6).astype("S")
    lat = np.round(rng.uniform(34.0, 53.0, N_LOCATIONS), 6).astype("S")
    radius = rng.integers(50, 301, N_LOCATIONS)
    duration = np.minimum(rng.lognormal(3.2, 1.0, n_events).astype(np.int64), 900)
    created_utc, created_local = _wall_clock(created, tz)
    start_utc, start_local = _wall_clock(created - duration * 60, tz)
    campaign = rng.integers(0, N_CAMPAIGNS, n_events)
    pick = rng.integers(0, 6, n_events)
    zones = np.array(TIMEZONES, dtype="S")[tz]

    lines = np.empty(n_events, dtype=object)
    for t, name in enumerate(names):
        rows = np.flatnonzero(type_idx == t)
        if rows.size == 0:
            continue
        geo = name.startswith("geo_")

        def col(values: np.ndarray, rows: np.ndarray = rows) -> list:
            return values[rows].tolist()

        head = [col(contact_ids[contact]), _hex_ids(rng, rows.size, b"g" if geo else b"l").tolist()]
        when = [col(created_utc), col(created_local), col(zones)]
        visit = [col(start_utc), col(start_local), col(zones)]
        where = [col(loc_ids[loc]), col(loc_names[loc])]
        if geo:
            has_duration = name == "geo_visit"
            template = (
                _GEO_HEAD
                + ","
                + _VISIT
                + (',"duration":%d' if has_duration else "")
                + _APP
                + "}},"
                + _GEO_WHERE
                + _WHEN
            )
            geo_where = [
                [b"Store %03d area" % k for k in col(loc)],
                col(geo_ids[loc]),
                [b"S%03d" % k for k in col(loc)],
                col(lon[loc]),
                col(lat[loc]),
                col(radius[loc]),
            ]
            extra = [col(duration)] if has_duration else []
            os_name = col(np.array([b"ios", b"android"])[pick % 2])
            texts = _fill(
                template.replace("TYPE", name), head + visit + extra + [os_name] + geo_where + when
            )
        elif name == "visit":
            template = _HEAD + "," + _VISIT + ',"duration":%d}},' + _VISIT_WHERE + _WHEN
            texts = _fill(
                template.replace("TYPE", name), head + visit + [col(duration)] + where + when
            )
        else:
            family = name.split("_")[-1] if "_" in name else name
            part, values = _PARTS.get(family, ""), []
            if family in ("email", "sms", "survey"):
                values = [col(campaign)] * 3
            if family == "email" or family == "sms":
                values.append(col(contact))
            elif family == "survey":
                values += [
                    col(np.arange(n_events)),
                    col(np.array([b"great", b"good", b"poor"])[pick % 3]),
                    col(np.array([b"yes", b"no"])[pick % 2]),
                ]
            elif family == "promo":
                values = [col(np.array([b"coupon", b"video", b"link"])[pick % 3])]
            elif family == "signup":
                values = [col(np.array([b"wifi", b"wifi", b"kiosk"])[pick % 3])]
            template = _HEAD + part + "}," + _WIFI_WHERE + _WHEN
            texts = _fill(
                template.replace("TYPE", name), head + values + where + [col(hotspots[loc])] + when
            )
        lines[rows] = texts
    return lines.tolist()


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
    """(a) json.loads + pandas.json_normalize per page, pages concatenated."""
    pages = [pd.json_normalize(json.loads(body)["events"]) for body in work.bodies]
    return pd.concat(pages, ignore_index=True)


def floor(work: Workload):
    """(b) pyarrow's JSON reader over the same events as newline-delimited JSON."""
    return pa_json.read_json(io.BytesIO(work.ndjson))


def duckdb_reader(work: Workload):
    """(e) DuckDB's read_json over the NDJSON, written once to a temporary file."""
    import duckdb

    if work.ndjson_path is None:
        handle = tempfile.NamedTemporaryFile(suffix=".ndjson", delete=False)
        with handle:
            handle.write(work.ndjson)
        work.ndjson_path = handle.name
    with duckdb.connect() as con:
        query = "SELECT * FROM read_json(?, format = 'newline_delimited')"
        return con.sql(query, params=[work.ndjson_path]).to_arrow_table()


def project(work: Workload) -> pd.DataFrame:
    """(c) the project's path for a whole fetch: all pages into one frame."""
    return frame.pages_frame(work.bodies)


def project_duckdb(work: Workload) -> pd.DataFrame:
    """(f) the project's path with DuckDB's JSON reader, values type-tested (same frame as (c))."""
    return frame.pages_frame(work.bodies, reader="duckdb")


def project_by_page(work: Workload) -> pd.DataFrame:
    """(d) one frame per page as it arrives, pages concatenated at the end."""
    return frame.concat_frames([frame.events_frame(body) for body in work.bodies])


@dataclass
class Timing:
    wall: list[float]
    cpu: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    @property
    def median_cpu(self) -> float:
        return statistics.median(self.cpu)


def timed(run: Callable[[], object], timing: Timing) -> object:
    """Run once, appending wall and CPU seconds to `timing`; returns the result."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    timing.wall.append(time.perf_counter() - wall)
    timing.cpu.append(time.process_time() - cpu)
    return result


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def one_page(work: Workload, runs: int, skip_baseline: bool) -> None:
    """Read the first page alone, 5 x runs times per path (interleaved); print medians."""
    page = Workload(bodies=work.bodies[:1], ndjson=b"", n_events=0)
    paths = {
        "pyarrow": lambda: frame.events_frame(page.bodies[0]),
        "duckdb": lambda: frame.pages_frame(page.bodies, reader="duckdb"),
    }
    if not skip_baseline:
        paths["baseline"] = lambda: baseline(page)
    timings = {name: Timing([], []) for name in paths}
    for _ in range(5 * runs):
        for name, run in paths.items():
            timed(run, timings[name])
    t_base = timings["baseline"].median if "baseline" in timings else None
    t_arrow = timings["pyarrow"].median
    parts = []
    for name, label in (("baseline", "(a)"), ("pyarrow", "(c)"), ("duckdb", "(f)")):
        if name in timings:
            t = timings[name].median
            ratio = f", {t_base / t:.1f}x (a)" if t_base else ""
            parts.append(f"{label} {t * 1000:.0f} ms{ratio}")
    t_duck = timings["duckdb"].median
    print(
        f"one page of {PAGE_SIZE:,} events, median of {5 * runs}: " + "; ".join(parts) + "; "
        f"DuckDB {t_duck / t_arrow:.2f}x the time of pyarrow"
    )


_MEMORY_PATHS = {
    "baseline": baseline,
    "project": project,
    "duckdb_frame": project_duckdb,
    "duckdb": duckdb_reader,
}


def _rss_kb(field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process, in kB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _one_path(name: str, folder: str, n_events: int) -> int:
    """Child of --memory: load the pages from `folder`, run one path once, print RSS as JSON."""
    count = len([f for f in os.listdir(folder) if f.endswith(".json")])
    bodies = []
    for k in range(count):
        with open(os.path.join(folder, f"{k}.json"), "rb") as handle:
            bodies.append(handle.read())
    work = Workload(bodies, b"", n_events, ndjson_path=os.path.join(folder, "events.ndjson"))
    before = _rss_kb("VmRSS")
    started = time.perf_counter()
    result = _MEMORY_PATHS[name](work)
    seconds = time.perf_counter() - started
    rows = result.num_rows if hasattr(result, "num_rows") else len(result)
    print(
        json.dumps({"before_kb": before, "peak_kb": _rss_kb("VmHWM"), "rows": rows, "s": seconds})
    )
    return 0


def peak_memory(work: Workload, include_baseline: bool) -> None:
    """Run each path once in a fresh process over the same pages; print peak RSS per path."""
    with tempfile.TemporaryDirectory(prefix="ingest-pages-") as folder:
        for k, body in enumerate(work.bodies):
            with open(os.path.join(folder, f"{k}.json"), "wb") as handle:
                handle.write(body)
        with open(os.path.join(folder, "events.ndjson"), "wb") as handle:
            handle.write(work.ndjson)
        print("peak RSS, one run per path in a fresh process (before = the pages held in memory):")
        for name in _MEMORY_PATHS:
            if name == "baseline" and not include_baseline:
                continue
            command = [sys.executable, "-m", "bench.ingest", "--one-path", name]
            command += ["--pages", folder, "--events", str(work.n_events)]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            m = json.loads(done.stdout.strip().splitlines()[-1])
            assert m["rows"] == work.n_events or name == "duckdb", (name, m["rows"])
            peak, before = m["peak_kb"] / 1024, m["before_kb"] / 1024
            grown = peak - before
            print(
                f"  {name:<13} peak {peak:>7,.0f} MB, before {before:>6,.0f} MB, "
                f"grown {grown:>6,.0f} MB ({grown * 2**20 / work.n_events:,.0f} B/event),"
                f" {m['s']:.2f} s"
            )


def main(argv: list[str] | None = None) -> int:
    """Measure the paths and print a table; with --check, exit 1 on a missed target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--skip-baseline",
        action="store_true",
        help="leave out the slow json_normalize baseline (no ratio against it)",
    )
    parser.add_argument(
        "--memory", action="store_true", help="peak RSS of each path in a fresh process"
    )
    parser.add_argument("--one-path", help=argparse.SUPPRESS)  # the child of --memory
    parser.add_argument("--pages", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one_path:
        return _one_path(args.one_path, args.pages, args.events)

    print(f"load average before the runs: {_load()}")
    started = time.perf_counter()
    work = make_workload(args.events)
    megabytes = sum(map(len, work.bodies)) / 1e6
    print(
        f"{args.events:,} events in {len(work.bodies)} pages ({megabytes:,.0f} MB), generated "
        f"in {time.perf_counter() - started:.1f} s; median of {args.runs} interleaved runs; "
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores"
    )

    paths = {
        "floor": floor,
        "project": project,
        "by_page": project_by_page,
        "duckdb": duckdb_reader,
        "duckdb_frame": project_duckdb,
    }
    if not args.skip_baseline:
        paths["baseline"] = baseline
    timings = {name: Timing([], []) for name in paths}
    bytes_per_event = {}
    reference = None
    for _ in range(args.runs):
        for name, run in paths.items():
            result = timed(lambda run=run: run(work), timings[name])
            if name in ("project", "by_page", "duckdb_frame"):
                assert len(result) == args.events, "the frame lost or invented rows"
                bytes_per_event[name] = result.memory_usage(deep=True).sum() / args.events
                if reference is None:
                    reference = result
                else:
                    pd.testing.assert_frame_equal(result, reference)  # one frame, every path
            del result
    del reference

    t_floor = timings["floor"].median
    t_base = timings["baseline"].median if "baseline" in timings else None
    rows = [
        ("(a) json.loads + json_normalize (baseline)", "baseline"),
        ("(b) pyarrow read_json NDJSON (floor)", "floor"),
        ("(c) pages_frame (project)", "project"),
        ("(d) events_frame per page + concat_frames", "by_page"),
        ("(e) DuckDB read_json NDJSON (nested)", "duckdb"),
        ("(f) pages_frame, DuckDB reader (typed)", "duckdb_frame"),
    ]
    print(f"{'path':<44}{'wall s':>8}{'cpu s':>8}{'vs (a)':>9}{'vs (b)':>8}{'B/event':>9}")
    for label, name in rows:
        if name not in timings:
            print(f"{label:<44}{'skipped':>8}")
            continue
        t = timings[name]
        vs_base = f"{t_base / t.median:.1f}x" if t_base else "-"
        per_event = f"{bytes_per_event[name]:.1f}" if name in bytes_per_event else ""
        print(
            f"{label:<44}{t.median:>8.2f}{t.median_cpu:>8.2f}{vs_base:>9}"
            f"{t.median / t_floor:>7.2f}x{per_event:>9}"
        )
    t_project = timings["project"].median
    speedup = t_base / t_project if t_base else float("nan")
    print(
        f"project (c): {speedup:.1f}x faster than (a) (target >= {TARGET_VS_BASELINE:g}x), "
        f"{t_project / t_floor:.2f}x the floor (target <= {TARGET_VS_FLOOR:g}x), "
        f"{bytes_per_event['project']:.1f} bytes/event (target <= {TARGET_BYTES_PER_EVENT:g})"
    )
    t_duck = timings["duckdb_frame"].median
    print(
        f"DuckDB reader (f): {t_duck / t_project:.2f}x the time of pyarrow's (c) over "
        f"{len(work.bodies)} pages ({'wins' if t_duck < t_project else 'loses'})"
    )
    one_page(work, args.runs, skip_baseline=args.skip_baseline)
    if args.memory:
        peak_memory(work, include_baseline=not args.skip_baseline)
    print(f"load average after the runs: {_load()}")
    missed = (
        (t_base is not None and speedup < TARGET_VS_BASELINE)
        or t_project / t_floor > TARGET_VS_FLOOR
        or bytes_per_event["project"] > TARGET_BYTES_PER_EVENT
    )
    if work.ndjson_path is not None:
        os.unlink(work.ndjson_path)
    if missed:
        print("TARGET MISSED")
    return 1 if (missed and args.check) else 0


if __name__ == "__main__":
    sys.exit(main())
