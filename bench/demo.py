"""Demo generation benchmark: the demo organization at 1,000,000 events.

Run `python -m bench.demo` (1,000,000 events, median of 3 runs, each in a fresh process so the
figures include what a newly started app pays) or `python -m bench.demo --events 200000 --runs 1`
for a quick look; `--check` exits non-zero when the target of issue 4 is missed.

- project: `c4w.demo.build_demo(n)` end to end (simulation and JSON rendering), then `body()`;
- baseline: rendering the same events the obvious way, `json.dumps` of each nested dict, timed
  on a sample and scaled to n (rendering only: the simulation is not counted in its favour).

Target: at most 15 s for 1,000,000 events. Peak memory is the process's maximum resident size.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime

from c4w import demo

TARGET_SECONDS = 15.0
END = datetime(2025, 11, 20, 15, tzinfo=UTC)
BASELINE_SAMPLE = 100_000


def _cpu_seconds() -> float:
    """User + system CPU time of this process so far (steadier than wall time on a busy host)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_mb() -> float:
    """Maximum resident size of this process so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure_once(n_events: int, seed: int = 7, with_frame: bool = False) -> dict:
    """Build the demo once in this process; seconds, memory and sizes (and the frame's)."""
    c0, t0 = _cpu_seconds(), time.perf_counter()
    org = demo.build_demo(n_events, seed=seed, end=END)
    t1 = time.perf_counter()
    cpu = _cpu_seconds() - c0
    peak_build = _peak_mb()
    body = org.body()
    t2 = time.perf_counter()
    peak_body = _peak_mb()
    body_bytes = len(body)
    del body
    frame_seconds = frame_mb = None
    if with_frame:
        from c4w.frame import pages_frame

        step = demo.FRAME_PAGE_EVENTS
        t3 = time.perf_counter()
        df = pages_frame(org.body(slice(i, i + step)) for i in range(0, len(org), step))
        frame_seconds = time.perf_counter() - t3
        frame_mb = df.memory_usage(deep=True).sum() / 1e6
    return {
        "seconds": t1 - t0,
        "cpu_seconds": cpu,
        "body_seconds": t2 - t1,
        "events": len(org),
        "bytes_per_event": (body_bytes - 60) / max(len(org), 1),
        "body_mb": body_bytes / 1e6,
        "peak_build_mb": peak_build,
        "peak_body_mb": peak_body,
        "frame_seconds": frame_seconds,
        "frame_mb": frame_mb,
        "peak_frame_mb": _peak_mb() if with_frame else None,
    }


def _fresh_process_run(n_events: int, seed: int, with_frame: bool) -> dict:
    """One measurement in a new interpreter (nothing cached, memory measured from zero)."""
    code = (
        "import json, sys; from bench.demo import measure_once; "
        f"print(json.dumps(measure_once({n_events}, {seed}, {with_frame})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def baseline_seconds(n_events: int, runs: int) -> float:
    """Median seconds to render n events with json.dumps per dict (timed on a sample, scaled)."""
    sample = min(n_events, BASELINE_SAMPLE)
    if sample == 0:
        return 0.0
    events = [json.loads(line) for line in demo.build_demo(sample, end=END).event_lines]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        lines = [json.dumps(e, ensure_ascii=False, separators=(",", ":")).encode() for e in events]
        times.append(time.perf_counter() - t0)
        del lines
    return statistics.median(times) * n_events / sample


def main(argv: list[str] | None = None) -> int:
    """Measure, print a small table; with --check, fail when the target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    parser.add_argument(
        "--with-frame", action="store_true", help="also parse it into the events frame"
    )
    args = parser.parse_args(argv)

    runs = [
        _fresh_process_run(args.events, args.seed + k, args.with_frame) for k in range(args.runs)
    ]
    seconds = statistics.median(r["seconds"] for r in runs)
    body_seconds = statistics.median(r["body_seconds"] for r in runs)
    peak_build = max(r["peak_build_mb"] for r in runs)
    peak_body = max(r["peak_body_mb"] for r in runs)
    base = baseline_seconds(args.events, args.runs)
    target = TARGET_SECONDS * args.events / 1_000_000

    print(f"demo organization: {args.events:,} events, median of {args.runs} fresh-process runs")
    print(f"{'path':<58}{'seconds':>9}{'x baseline':>12}")
    print(
        f"{'project: build_demo (simulate + render JSON lines)':<58}{seconds:>9.2f}"
        f"{base / seconds if seconds else float('nan'):>12.2f}"
    )
    print(f"{'baseline: json.dumps per nested dict (render only)':<58}{base:>9.2f}{1:>12.2f}")
    print(f"{'body(): one response body of every event':<58}{body_seconds:>9.2f}")
    each = ", ".join(f"{r['seconds']:.2f}" for r in runs)
    cpu = statistics.median(r["cpu_seconds"] for r in runs)
    print(f"runs (s): {each}; CPU time of the build (median): {cpu:.2f} s")
    print(
        f"events produced: {runs[0]['events']:,} (requested {args.events:,}); "
        f"{runs[0]['bytes_per_event']:.0f} bytes per event; body {runs[0]['body_mb']:,.0f} MB"
    )
    print(f"peak memory: {peak_build:,.0f} MB after build, {peak_body:,.0f} MB with the body")
    if args.with_frame:
        frame_seconds = statistics.median(r["frame_seconds"] for r in runs)
        print(
            f"events frame (pages of {demo.FRAME_PAGE_EVENTS:,}): {frame_seconds:.2f} s, "
            f"{runs[0]['frame_mb']:,.0f} MB in the frame, "
            f"peak {max(r['peak_frame_mb'] for r in runs):,.0f} MB"
        )
    ok = seconds <= target
    print(f"target: at most {target:.1f} s -> {'met' if ok else 'MISSED'}")
    return 0 if ok or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
