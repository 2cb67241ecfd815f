"""Calibration of the campaign attribution: each baseline's uplift and 95% interval against the
demo's own truth (the share of recipients it brought in, ``DemoOrg.brought``), per campaign.

    python -m bench.calibration                          # 150,000 demo events, seed 7
    python -m bench.calibration --seeds 1,2,3,4,5,6      # several demos: misses and mean error
    python -m bench.calibration --no-effect --seeds 1,2  # every seeded uplift set to 0

With ``--no-effect`` the demo brings nobody in, so every figure should read about 0: what is
left is each method's own error (the demos differ from the seeded ones, since the events are
filled to the same count). A 95% interval misses the truth about one time in twenty; the
holdout is one group for all campaigns of a demo, so its errors move together within a demo.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics

END = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=150_000)
    parser.add_argument("--seeds", default="7", help="comma-separated demo seeds")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--no-effect", action="store_true", help="seed every uplift as 0")
    args = parser.parse_args(argv)

    from c4w import contacts as ct
    from c4w import demo, schema
    from c4w.metrics import attribution as at
    from c4w.metrics import campaigns as cm

    if args.no_effect:
        for name in demo.SEEDED_UPLIFT:
            demo.SEEDED_UPLIFT[name] = 0.0
    errors: dict[str, list[float]] = {b: [] for b in at.BASELINES}
    misses = dict.fromkeys(at.BASELINES, 0)
    for seed in (int(s) for s in args.seeds.split(",")):
        org = demo.build_demo(args.events, seed=seed, end=END)
        events = demo._parse_demo(org)
        contacts = ct.contacts_frame(org.contacts)
        start = events[schema.CREATED_AT].min().date()
        end = events[schema.CREATED_AT].max().date()
        summary = cm.campaign_summary(events, start, end).set_index(cm.CAMPAIGN)
        print(f"\n{args.events:,} demo events, seed {seed}: uplift in points [95% interval]")
        print(f"  {'campaign':28} {'truth':>6}" + "".join(f"{b:>25}" for b in at.BASELINES))
        for name in demo.SEEDED_UPLIFT:
            row = summary.loc[name]
            brought, recipients = org.brought.get(name, (0, 1))
            truth = brought / recipients
            cells = []
            for baseline in at.BASELINES:
                up = at.campaign_uplift(
                    events,
                    contacts,
                    str(row[schema.CAMPAIGN_ID]),
                    str(row[schema.CHANNEL]),
                    start,
                    end,
                    args.days,
                    baseline,
                ).uplift
                if not up.enough:
                    cells.append(f"{'no figure':>25}")
                    continue
                hit = up.low <= truth <= up.high
                misses[baseline] += not hit
                errors[baseline].append(up.uplift - truth)
                cell = f"{up.uplift * 100:+.1f} [{up.low * 100:+.1f}, {up.high * 100:+.1f}]"
                cells.append(f"{cell + ('' if hit else ' MISS'):>25}")
            print(f"  {name[:28]:28} {truth * 100:6.1f}" + "".join(cells))
    print("\nOver every demo:")
    for baseline, found in errors.items():
        mean = statistics.fmean(found) * 100 if found else float("nan")
        print(
            f"  {at.BASELINES[baseline]:34} {misses[baseline]:3} misses of {len(found):3} figures, "
            f"mean error {mean:+.2f} points"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
