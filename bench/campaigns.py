"""Campaigns benchmark: the campaign table and one uplift of each baseline, computed afresh and
remembered (``c4w.metrics.memo``), on the demo.

    python -m bench.campaigns                      # 150,000 demo events, 5 runs
    python -m bench.campaigns --events 1000000 --runs 3

Every figure is the median of ``--runs`` runs in this one process. Each run hands the functions
a fresh copy of the same frames, as a page rerun does (the memo keys frames by content, so the
copy's hashing is part of the remembered time). Measured:
- the campaign table (``campaign_summary``): afresh, and remembered;
- one uplift of the campaign with most recipients, for each baseline: afresh (nothing kept),
  with the frames' shared parts kept (another campaign or baseline of the same frames: what a
  first click costs), and remembered (the same campaign again: what a rerun costs).
Ratios are against the afresh time of the same run. Target: a rerun of the Campaigns page
(table + one uplift, remembered) at most 0.25x its afresh time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

TARGET_RATIO = 0.25


def median_time(function, runs: int, before=None) -> float:
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        t0 = time.perf_counter()
        function()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=150_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    from c4w import contacts as ct
    from c4w import demo, schema
    from c4w.metrics import attribution as at
    from c4w.metrics import campaigns as cm

    org = demo.build_demo(args.events, end=dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    events = demo._parse_demo(org)
    contacts = ct.contacts_frame(org.contacts)
    start = events[schema.CREATED_AT].min().date()
    end = events[schema.CREATED_AT].max().date()
    copies = {"events": events.copy(), "contacts": contacts.copy()}

    def fresh_copies() -> None:
        copies["events"], copies["contacts"] = events.copy(), contacts.copy()

    def table(remembered: bool):
        summary = cm.remembered_summary if remembered else cm.campaign_summary
        return lambda: summary(copies["events"], start, end)

    top = cm.campaign_summary(events, start, end).iloc[0]
    cid, channel = str(top[schema.CAMPAIGN_ID]), str(top[schema.CHANNEL])

    def uplift(baseline: str, remembered: bool):
        call = at.remembered_uplift if remembered else at.campaign_uplift
        return lambda: call(
            copies["events"], copies["contacts"], cid, channel, start, end, 7, baseline
        )

    rows: list[tuple[str, float, float | None, float]] = []
    runs = args.runs
    fresh = median_time(table(False), runs, fresh_copies)
    table(True)()
    warm = median_time(table(True), runs, fresh_copies)
    rows.append(("Campaign table", fresh, None, warm))
    page_fresh, page_warm = fresh, warm
    for baseline in at.BASELINES:

        def cold() -> None:
            fresh_copies()
            at.prepared.cache_clear()

        afresh = median_time(uplift(baseline, False), runs, cold)
        at.prepared(events, contacts)
        shared = median_time(uplift(baseline, False), runs, fresh_copies)
        uplift(baseline, True)()
        remembered = median_time(uplift(baseline, True), runs, fresh_copies)
        rows.append((f"Uplift, {at.BASELINES[baseline]}", afresh, shared, remembered))
        if baseline == "holdout":  # the page's default baseline
            page_fresh += afresh
            page_warm += remembered

    print(f"\nCampaigns, {args.events:,} demo events, median of {runs} runs (seconds):")
    print(f"  {'':44} {'afresh':>8} {'shared':>8} {'kept':>8} {'kept/afresh':>12}")
    for label, afresh, shared, remembered in rows:
        mid = "–" if shared is None else f"{shared:.3f}"
        ratio = remembered / afresh
        print(f"  {label:44} {afresh:8.3f} {mid:>8} {remembered:8.3f} {ratio:11.2f}x")
    ratio = page_warm / page_fresh
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    print(
        f"  Page rerun (table + holdout uplift): {page_fresh:.3f} s afresh, {page_warm:.3f} s "
        f"kept: {ratio:.2f}x ({verdict} the {TARGET_RATIO}x target)"
    )
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
