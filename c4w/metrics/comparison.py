"""Which days a change figure compares with, and whether the history can answer it.

Rules (each tile's help text says them in short):
- the comparison is the previous period of the same length (default), the same days a week
  earlier (for ranges of up to 7 days), or the same dates a year earlier (29 Feb -> 28 Feb);
- a range that ends today has only run until now: it is compared with the same stretch of time,
  up to the same time of day on the comparison's last day;
- a change is shown only when the history holds every day of the comparison; otherwise the tile
  shows no change figure and the page says why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from c4w import schema
from c4w.formatting import days_text, format_day, format_range

PREVIOUS, LAST_WEEK, LAST_YEAR = "previous", "week", "year"
COMPARISONS: dict[str, str] = {
    PREVIOUS: "Previous period",
    LAST_WEEK: "Same days last week",
    LAST_YEAR: "Same days last year",
}
DEFAULT_COMPARISON = PREVIOUS
MAX_WEEK_COMPARISON_DAYS = 7  # longer ranges would overlap the week before


def _year_earlier(day: dt.date) -> dt.date:
    if (day.month, day.day) == (2, 29):
        return day.replace(year=day.year - 1, day=28)
    return day.replace(year=day.year - 1)


@dataclass(frozen=True)
class Comparison:
    """The comparison of the chosen days ``current_start..current_end`` (UTC days)."""

    kind: str
    current_start: dt.date
    current_end: dt.date
    start: dt.date | None  # comparison days (None: no such comparison for this range)
    end: dt.date | None
    until: dt.datetime | None = None  # comparison events before this UTC moment only
    covered: bool = False  # the history holds every comparison day
    reason: str | None = None  # why there is no change figure, in plain words

    @property
    def usable(self) -> bool:
        return self.start is not None and self.covered

    def describe(self) -> str:
        """What a change figure is computed against, for help texts and captions."""
        if self.start is None or self.end is None:
            return self.reason or "No comparison."
        days = format_range(self.start, self.end)
        if self.until is not None:
            days += f" up to {self.until:%H:%M} UTC"
        what = {
            PREVIOUS: f"the {days_text((self.current_end - self.current_start).days + 1)} "
            "just before",
            LAST_WEEK: "the same days a week earlier",
            LAST_YEAR: "the same dates a year earlier",
        }[self.kind]
        text = f"Change against {days} ({what})."
        if self.until is not None:
            text += (
                f" The chosen dates run until {self.until:%H:%M} UTC today, so the comparison "
                "stops at the same time of day."
            )
        return text


def comparison_period(
    start: dt.date,
    end: dt.date,
    kind: str = DEFAULT_COMPARISON,
    *,
    now: dt.datetime | None = None,
    span: tuple[dt.date, dt.date] | None = None,
    lookback_days: int = 0,
) -> Comparison:
    """The comparison days of ``start..end`` and whether ``span`` (first and last day of the
    history) covers them, plus ``lookback_days`` before them when a figure looks back.

    ``now`` (UTC) is how far the data reaches: when ``end`` is its day, the comparison stops at
    the same time of day on its last day.
    """
    length = (end - start).days + 1
    if kind not in COMPARISONS:
        kind = DEFAULT_COMPARISON
    if kind == PREVIOUS:
        c_start, c_end = start - dt.timedelta(days=length), start - dt.timedelta(days=1)
    elif kind == LAST_WEEK:
        if length > MAX_WEEK_COMPARISON_DAYS:
            return Comparison(
                kind,
                start,
                end,
                None,
                None,
                reason="No change figures: the same days last week can be compared for ranges "
                f"of up to {MAX_WEEK_COMPARISON_DAYS} days; pick a shorter range or another "
                "comparison.",
            )
        c_start, c_end = start - dt.timedelta(days=7), end - dt.timedelta(days=7)
    else:
        c_start, c_end = _year_earlier(start), _year_earlier(end)
    until = None
    if now is not None:
        now_utc = now.astimezone(dt.UTC) if now.tzinfo else now.replace(tzinfo=dt.UTC)
        if now_utc.date() == end:
            until = dt.datetime.combine(c_end, now_utc.time(), tzinfo=dt.UTC)
    needed_from = c_start - dt.timedelta(days=lookback_days)
    covered = span is not None and span[0] <= needed_from and span[1] >= c_end
    reason = None
    if not covered:
        if span is None:
            reason = "No change figures: there is no history to compare with."
        else:
            reason = (
                f"No change figures: they need the history from {format_day(needed_from)}, "
                f"and it starts on {format_day(span[0])}."
                if span[0] > needed_from
                else f"No change figures: the history ends on {format_day(span[1])}, before "
                f"{format_day(c_end)}."
            )
    return Comparison(kind, start, end, c_start, c_end, until, covered, reason)


def before_moment(events: pd.DataFrame, until: dt.datetime | None) -> pd.DataFrame:
    """The rows of ``events`` that happened before ``until`` (UTC; None: all rows)."""
    if until is None or events.empty:
        return events
    cut = np.datetime64(until.astimezone(dt.UTC).replace(tzinfo=None), "ns")
    times = events[schema.CREATED_AT]
    if getattr(times.dt, "tz", None) is not None:
        times = times.dt.tz_convert("UTC").dt.tz_localize(None)
    return events[(times.to_numpy() < cut)]
