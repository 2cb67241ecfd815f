"""Which days a change figure compares with, and when there is none: worked out by hand."""

from __future__ import annotations

import datetime as dt

from c4w import schema
from c4w.metrics import comparison as cmp
from tests.frames import event, make_events

D = dt.date


def test_the_previous_period_is_shown_only_when_the_history_holds_all_its_days():
    # last 30 days ending 01 Dec 2026: 02 Nov .. 01 Dec; the 30 days before: 03 Oct .. 01 Nov
    found = cmp.comparison_period(
        D(2026, 11, 2), D(2026, 12, 1), span=(D(2026, 9, 2), D(2026, 12, 1))
    )
    assert (found.start, found.end) == (D(2026, 10, 3), D(2026, 11, 1))
    assert found.usable and found.until is None
    assert found.describe() == (
        "Change against 03 Oct 2026 – 01 Nov 2026 (the 30 days just before)."
    )
    # last 90 days: 03 Sep .. 01 Dec, compared with 05 Jun .. 02 Sep; the history starts
    # 02 Sep: no change figure, and the reason says from when it would be needed
    found = cmp.comparison_period(
        D(2026, 9, 3), D(2026, 12, 1), span=(D(2026, 9, 2), D(2026, 12, 1))
    )
    assert (found.start, found.end) == (D(2026, 6, 5), D(2026, 9, 2))
    assert not found.usable
    assert found.reason == (
        "No change figures: they need the history from 05 Jun 2026, and it starts on 02 Sep 2026."
    )
    # no history at all
    assert not cmp.comparison_period(D(2026, 12, 1), D(2026, 12, 1)).usable


def test_today_is_compared_with_yesterday_up_to_the_same_time_of_day():
    now = dt.datetime(2026, 12, 1, 18, 36, tzinfo=dt.UTC)
    span = (D(2026, 9, 2), D(2026, 12, 1))
    found = cmp.comparison_period(D(2026, 12, 1), D(2026, 12, 1), now=now, span=span)
    assert (found.start, found.end) == (D(2026, 11, 30), D(2026, 11, 30))
    assert found.until == dt.datetime(2026, 11, 30, 18, 36, tzinfo=dt.UTC)
    assert found.describe().startswith(
        "Change against 30 Nov 2026 up to 18:36 UTC (the 1 day just before)."
    )
    # the last 7 days ending today: 25 Nov .. 01 Dec 18:36 against 18 Nov .. 24 Nov 18:36
    found = cmp.comparison_period(D(2026, 11, 25), D(2026, 12, 1), now=now, span=span)
    assert (found.start, found.end) == (D(2026, 11, 18), D(2026, 11, 24))
    assert found.until == dt.datetime(2026, 11, 24, 18, 36, tzinfo=dt.UTC)
    # a range that ended before today compares whole days
    found = cmp.comparison_period(D(2026, 11, 20), D(2026, 11, 26), now=now, span=span)
    assert found.until is None


def test_the_same_days_last_week_or_last_year():
    span = (D(2025, 1, 1), D(2026, 12, 1))
    week = cmp.comparison_period(D(2026, 11, 25), D(2026, 12, 1), cmp.LAST_WEEK, span=span)
    assert (week.start, week.end) == (D(2026, 11, 18), D(2026, 11, 24))
    assert "(the same days a week earlier)" in week.describe()
    # 30 days against the week before would overlap itself: no such comparison
    month = cmp.comparison_period(D(2026, 11, 2), D(2026, 12, 1), cmp.LAST_WEEK, span=span)
    assert month.start is None and not month.usable
    assert "up to 7 days" in (month.reason or "")
    year = cmp.comparison_period(D(2026, 11, 2), D(2026, 12, 1), cmp.LAST_YEAR, span=span)
    assert (year.start, year.end) == (D(2025, 11, 2), D(2025, 12, 1)) and year.usable
    # 29 Feb a year earlier is 28 Feb; the history from 2025 does not reach 2023
    leap = cmp.comparison_period(D(2024, 2, 29), D(2024, 2, 29), cmp.LAST_YEAR, span=span)
    assert (leap.start, leap.end) == (D(2023, 2, 28), D(2023, 2, 28))
    assert not leap.usable
    # an unknown kind falls back to the previous period
    assert cmp.comparison_period(D(2026, 12, 1), D(2026, 12, 1), "fortnight").kind == cmp.PREVIOUS


def test_a_look_back_needs_its_days_before_the_comparison_too():
    # 30 days 02 Nov .. 01 Dec, compared with 03 Oct .. 01 Nov; a 30-day look-back before it
    # needs the history from 03 Sep
    start, end = D(2026, 11, 2), D(2026, 12, 1)
    ok = cmp.comparison_period(start, end, span=(D(2026, 9, 3), end), lookback_days=30)
    short = cmp.comparison_period(start, end, span=(D(2026, 9, 4), end), lookback_days=30)
    assert ok.usable and not short.usable
    assert "from 03 Sep 2026" in (short.reason or "")


def test_comparison_events_stop_at_the_moment():
    frame = make_events(
        [
            event(schema.LOGIN, "a", "2026-11-30 18:35"),
            event(schema.LOGIN, "b", "2026-11-30 18:36"),
            event(schema.LOGIN, "c", "2026-11-30 21:00"),
        ]
    )
    cut = cmp.before_moment(frame, dt.datetime(2026, 11, 30, 18, 36, tzinfo=dt.UTC))
    assert cut[schema.CONTACT_ID].astype(str).tolist() == ["a"]
    assert len(cmp.before_moment(frame, None)) == 3
