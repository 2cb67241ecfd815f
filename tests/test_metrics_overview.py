"""Overview metrics on small frames whose every expected number is worked out by hand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from c4w import schema
from c4w.metrics import overview
from tests.frames import event, make_events


def visit(contact: str | None, end: str, minutes: float | None, **extra) -> dict:
    """A WiFi visit row that ended at `end` (UTC) after `minutes`."""
    return {
        schema.TYPE: schema.VISIT,
        schema.CONTACT_ID: contact,
        schema.CREATED_AT: end,
        schema.VISIT_DURATION_MIN: minutes,
        **extra,
    }


def test_make_events_has_canonical_columns_and_dtypes():
    frame = make_events([visit("a", "2024-03-05 10:00", 30, timezone="Europe/Rome")])
    assert tuple(frame.columns) == schema.EVENT_COLUMNS
    assert str(frame[schema.CREATED_AT].dtype) == "datetime64[ns, UTC]"
    assert str(frame[schema.CREATED_AT_LOCAL].dtype) == "datetime64[ns]"
    assert isinstance(frame[schema.TYPE].dtype, pd.CategoricalDtype)
    # 10:00 UTC is 11:00 in Rome (UTC+1 in March before summer time); start = 10:00 - 30 min
    assert frame[schema.CREATED_AT_LOCAL][0] == pd.Timestamp("2024-03-05 11:00")
    assert frame[schema.VISIT_START_LOCAL][0] == pd.Timestamp("2024-03-05 10:30")


# --- returning share ----------------------------------------------------------------------------
BEFORE_RANGE = [visit("A", "2024-03-01 10:30", 30)]  # A's visit 4 days before the range
IN_RANGE = [
    # A: previous visit on 03-01, before the range -> returning
    visit("A", "2024-03-05 09:30", 30),
    # A again, same day as the visit above -> not returning
    visit("A", "2024-03-05 15:30", 30),
    # B: first visit ever -> not returning
    visit("B", "2024-03-05 12:30", 30),
    # B: previous visit on the previous day (03-05) -> returning
    visit("B", "2024-03-06 08:30", 30),
    # C in Rome (UTC+1): starts 03-06 23:30 UTC = 03-07 00:30 local -> first, not returning
    visit("C", "2024-03-06 23:50", 20, timezone="Europe/Rome"),
    # C again: starts 03-07 01:00 UTC = 03-07 02:00 local, same LOCAL day -> not returning
    # (by UTC days it would be returning: 03-06 vs 03-07)
    visit("C", "2024-03-07 01:30", 30, timezone="Europe/Rome"),
    # no contact: cannot be judged, left out of the share
    visit(None, "2024-03-06 10:00", 30),
    # not a visit: ignored
    event(schema.LOGIN, "A", "2024-03-06 10:00"),
]


def test_returning_share_uses_history_and_local_days():
    events = make_events(IN_RANGE)
    history = make_events(BEFORE_RANGE + IN_RANGE)
    result = overview.returning_share(events, history)
    # judged: A1, A2, B1, B2, C1, C2 = 6; returning: A1 (03-01 before), B2 (03-05 the day before)
    assert result.judged == 6
    assert result.returning == 2
    assert result.share == pytest.approx(2 / 6)


def test_returning_flags_per_visit():
    events = make_events(IN_RANGE)
    history = make_events(BEFORE_RANGE + IN_RANGE)
    flags = overview.returning_flags(events, history)
    # one flag per visit row (rows 0..6), the login (row 7) is not a visit
    assert list(flags.index) == [0, 1, 2, 3, 4, 5, 6]
    assert flags.tolist() == [True, False, False, True, False, False, pd.NA]


def test_returning_share_without_history_only_sees_the_range():
    events = make_events(IN_RANGE)
    # A1 now has no earlier visit -> only B2 is returning: 1 of 6
    assert overview.returning_share(events).share == pytest.approx(1 / 6)
    assert overview.returning_share(events, None).returning == 1


def test_previous_visit_same_day_vs_previous_day():
    # D: 03-05 08:00 and 03-05 20:00 (same day) -> second not returning;
    # E: 03-05 23:00 and 03-06 00:30 (next day, 1.5 h later) -> second returning
    events = make_events(
        [
            visit("D", "2024-03-05 08:00", 10),
            visit("D", "2024-03-05 20:00", 10),
            visit("E", "2024-03-05 23:10", 10),
            visit("E", "2024-03-06 00:40", 10),
        ]
    )
    assert overview.returning_flags(events).tolist() == [False, False, False, True]


def test_returning_share_with_history_in_other_categories():
    # history built separately: its category codes differ from the range's; ids still match
    events = make_events([visit("B", "2024-03-05 10:00", 5)])
    history = make_events([visit("Z", "2024-03-01 10:00", 5), visit("B", "2024-03-02 10:00", 5)])
    # B's previous visit is 03-02 -> returning: 1 of 1
    assert overview.returning_share(events, history).share == 1.0


@pytest.mark.parametrize("by", ["mask", "positions"])
@pytest.mark.parametrize(
    "labels",
    [["w", "x", "q", "z"], ["w", "x", "q", "z", *(f"u{i}" for i in range(20))], None],
    ids=["few categories", "more categories than rows", "text"],
)
def test_shared_codes_of_two_columns_with_labels_of_their_own(by: str, labels):
    a = pd.Series(pd.Categorical(["x", "y", "z", None, "x"]), index=[10, 11, 12, 13, 14])
    b = pd.Series(["z", "w", "x", "q"], index=[7, 5, 6, 8]).astype(
        object if labels is None else pd.CategoricalDtype(labels)
    )
    a_rows = np.array([True, False, True, True, True])
    b_rows = np.array([True, True, False, True])
    if by == "positions":
        a_rows, b_rows = np.flatnonzero(a_rows), np.flatnonzero(b_rows)
    a_codes, b_codes = overview.shared_codes(a, a_rows, b, b_rows)
    # the rows are x, z, missing, x and z, w, q: x twice, z in both, w and q once each
    x, z, missing, x_again = a_codes.tolist()
    z_in_b, w, q = b_codes.tolist()
    assert missing == -1 and x == x_again and z == z_in_b
    assert len({x, z, w, q}) == 4 and min(x, z, w, q) >= 0


def test_returning_share_with_a_location_filter_ignores_other_locations():
    # F visited Store Y on 03-01 (before the range), then Store X on 03-05
    history = make_events(
        [
            visit("F", "2024-03-01 10:00", 5, location_id="Y"),
            visit("F", "2024-03-05 10:00", 5, location_id="X"),
        ]
    )
    events = history.iloc[1:]  # the range, filtered to Store X
    # chain-wide: the 03-01 visit counts -> returning, 1 of 1
    assert overview.returning_share(events, history).share == 1.0
    # filtered to Store X: no earlier visit at X -> not returning, 0 of 1
    assert overview.returning_share(events, history, location_ids=["X"]).share == 0.0


# --- KPIs and previous-period change ------------------------------------------------------------
# loaded data reaching back before PREVIOUS (03-01 .. 03-02, about 1 day) by 5 days
EARLIER = [event(schema.LOGIN, "W", "2024-02-25 10:00")]
PREVIOUS = [
    event(schema.LOGIN, "X", "2024-03-01 10:00"),
    event(schema.LOGIN, "Y", "2024-03-02 10:00"),
    visit("X", "2024-03-02 11:00", 40),
]
CURRENT = [
    event(schema.SIGNUP, "X", "2024-03-05 09:00"),
    event(schema.LOGIN, "X", "2024-03-05 09:01"),
    event(schema.LOGIN, "X", "2024-03-06 09:01"),
    event(schema.LOGIN, "Y", "2024-03-06 10:00"),
    visit("X", "2024-03-05 10:00", 10),
    visit("Y", "2024-03-06 11:00", 30),
    visit("Z", "2024-03-07 11:00", None),  # no length: left out of the median
]


def _by_key(kpis: list[overview.Kpi]) -> dict[str, overview.Kpi]:
    return {k.key: k for k in kpis}


def test_overview_kpis_and_changes():
    kpis = _by_key(
        overview.overview_kpis(
            make_events(CURRENT), make_events(PREVIOUS), make_events(EARLIER + PREVIOUS + CURRENT)
        )
    )
    # guests (in-store events): X, Y, Z = 3 now; X, Y = 2 before -> +1, +50%
    assert (kpis["guests"].value, kpis["guests"].previous) == (3, 2)
    assert kpis["guests"].change == 1
    assert kpis["guests"].change_pct == pytest.approx(0.5)
    assert (kpis["reached"].value, kpis["reached"].previous) == (0, 0)  # no email or SMS
    # sign-ups 1 vs 0: change +1, no percentage (previous is zero)
    assert (kpis["signups"].value, kpis["signups"].previous) == (1, 0)
    assert kpis["signups"].change_pct is None
    # logins 3 vs 2; visits 3 vs 1 -> +200%
    assert (kpis["logins"].value, kpis["logins"].previous) == (3, 2)
    assert kpis["visits"].change_pct == pytest.approx(2.0)
    # median of [10, 30] = 20 (Z's missing length left out); before: 40 -> -20 min
    assert kpis["median_dwell"].value == pytest.approx(20.0)
    assert kpis["median_dwell"].change == pytest.approx(-20.0)
    # now: X's previous visit 03-02 (other day, 3 days back) -> returning; Y, Z first -> 1/3.
    # before: 0/1
    assert kpis["returning"].value == pytest.approx(1 / 3)
    assert kpis["returning"].previous == 0.0
    assert kpis["returning"].change == pytest.approx(1 / 3)
    assert all(k.help for k in kpis.values())
    assert all(k.note is None for k in kpis.values())


def test_guests_count_in_store_and_app_events_and_contacts_reached_count_sends():
    blast = [
        event(schema.SEND_EMAIL, "m1", "2024-03-05 08:00"),
        event(schema.SEND_EMAIL, "m2", "2024-03-05 08:00"),
        event(schema.SEND_SMS, "m3", "2024-03-05 08:00"),
        event(schema.OPEN_EMAIL, "m1", "2024-03-05 09:00"),
        event(schema.LOGIN, "g1", "2024-03-05 10:00"),
        event(schema.GEO_ARRIVING, "g2", "2024-03-05 10:00"),
        event(schema.ARRIVING, "g3", "2024-03-05 10:00"),
        event(schema.SEND_EMAIL, "g1", "2024-03-05 11:00"),  # a guest who was also emailed
        event(schema.SIGNUP, "s1", "2024-03-05 12:00"),  # a sign-up alone is not a visit
    ]
    kpis = _by_key(overview.overview_kpis(make_events(blast)))
    # guests: g1 (login), g2 (geofence arrival), g3 (WiFi arrival) = 3; the emailed m1, m2,
    # the texted m3 and the sign-up s1 are not guests
    assert kpis["guests"].value == 3
    # reached: m1, m2 (emails), m3 (SMS), g1 (email) = 4
    assert kpis["reached"].value == 4


def test_returning_looks_back_the_same_30_days_in_both_periods():
    # P and Q visit every 20 days. Previous period 03-01..03-20, current 03-21..04-09.
    rhythm = ["2024-01-10", "2024-01-30", "2024-02-19", "2024-03-10", "2024-03-30"]
    rows = [visit(who, f"{day} 10:00", 20) for day in rhythm for who in ("P", "Q")]
    history = make_events(rows)
    current = make_events([r for r in rows if r[schema.CREATED_AT] >= "2024-03-21"])
    previous = make_events([r for r in rows if "2024-03-01" <= r[schema.CREATED_AT] < "2024-03-21"])
    kpis = _by_key(overview.overview_kpis(current, previous, history))
    # both periods: each visit's previous visit is 20 days back -> 2 of 2 returning, 0.0 pp
    # (judging the previous period by its own 20 days only would read 0% -> "+100.0 pp")
    assert kpis["returning"].value == 1.0 and kpis["returning"].previous == 1.0
    assert overview.format_kpi_change(kpis["returning"]) == "+0.0 pp"
    # a guest back after 40 days is outside the 30-day look-back: not returning
    gap = make_events([visit("R", "2024-01-10 10:00", 5), visit("R", "2024-02-19 10:00", 5)])
    assert overview.returning_flags(gap).tolist() == [False, False]
    assert overview.returning_flags(gap, lookback_days=None).tolist() == [False, True]


def test_returning_change_needs_the_look_back_of_the_comparison_days():
    # the caller found that the history does not hold the 30 days before the comparison days:
    # no returning change, a note says why; the other figures still compare
    history = make_events(PREVIOUS + CURRENT)
    kpis = _by_key(
        overview.overview_kpis(
            make_events(CURRENT), make_events(PREVIOUS), history, returning_comparable=False
        )
    )
    assert kpis["returning"].value == pytest.approx(1 / 3)
    assert kpis["returning"].previous is None and kpis["returning"].change is None
    assert kpis["returning"].note == overview.RETURNING_NOT_COMPARABLE
    assert kpis["logins"].change == 1  # 3 vs 2


def test_kpi_formatting():
    kpis = _by_key(
        overview.overview_kpis(
            make_events(CURRENT), make_events(PREVIOUS), make_events(EARLIER + PREVIOUS + CURRENT)
        )
    )
    assert overview.format_kpi_value(kpis["guests"]) == "3"
    assert overview.format_kpi_change(kpis["guests"]) == "+50.0%"
    assert overview.format_kpi_change(kpis["signups"]) == "+1"  # from 0: absolute change
    assert overview.format_kpi_value(kpis["median_dwell"]) == "20.0 min"
    assert overview.format_kpi_change(kpis["median_dwell"]) == "-20.0 min"
    # 1/3 = 33.3%; change 1/3 - 0 = +33.3 percentage points
    assert overview.format_kpi_value(kpis["returning"]) == "33.3%"
    assert overview.format_kpi_change(kpis["returning"]) == "+33.3 pp"


def test_kpis_without_previous_period_have_no_change():
    kpis = overview.overview_kpis(make_events(CURRENT))
    assert all(k.previous is None and k.change is None for k in kpis)
    assert all(overview.format_kpi_change(k) is None for k in kpis)
    table = overview.kpi_table(kpis)
    assert list(table["Figure"])[:2] == ["Guests", "Contacts reached"]
    # guests 3, reached 0, sign-ups 1, logins 3
    assert table["Value"].tolist()[:4] == [3.0, 0.0, 1.0, 3.0]


def test_headline_table_for_download_uses_the_users_words_and_rounds():
    kpis = [
        overview.Kpi("v", "Visits", 12, 9, "Visits that ended.", "count"),
        overview.Kpi("r", "Returning visits", 0.4166666, 0.25, "Share.", "share"),
        overview.Kpi("m", "Median visit length", 96.60000000000002, 90.0, "Median.", "minutes"),
    ]
    table = overview.kpi_table(kpis, "Change against 01 Nov 2026 – 30 Nov 2026.")
    assert list(table.columns) == [
        "Figure",
        "Value",
        "Comparison value",
        "Change",
        "Change (%)",
        "Unit",
        "Compared with",
        "Definition",
    ]
    # visits 12 vs 9: +3, +33.3%; returning 41.67% vs 25% -> +16.67 pp, no relative change
    assert table["Value"].tolist() == [12.0, 41.67, 96.6]
    assert table["Change"].tolist() == [3.0, 16.67, 6.6]
    assert table["Change (%)"].tolist()[0] == 33.3
    assert math.isnan(table["Change (%)"].tolist()[1])
    assert table["Unit"].tolist()[1] == "percent (change in percentage points)"


# --- events per day and weekly heatmap ----------------------------------------------------------
TWO_ZONES = [
    # Monday 03-04 23:30 UTC = Tuesday 03-05 00:30 in Rome (UTC+1)
    event(schema.LOGIN, "a", "2024-03-04 23:30", timezone="Europe/Rome"),
    # Tuesday 03-05 03:00 UTC = Monday 03-04 22:00 in New York (UTC-5)
    event(schema.LOGIN, "b", "2024-03-05 03:00", timezone="America/New_York"),
    # Monday 03-11 09:15 UTC, a UTC location
    event(schema.SIGNUP, "c", "2024-03-11 09:15"),
]


def test_weekly_heatmap_uses_local_time_across_two_zones():
    heat = overview.weekly_heatmap(make_events(TWO_ZONES))
    assert len(heat) == 7 * 24
    cell = heat.set_index(["weekday", "hour"])
    # Rome login -> Tuesday (1) 0h; New York login -> Monday (0) 22h; signup -> Monday 9h
    assert cell.loc[(1, 0), "events"] == 1
    assert cell.loc[(0, 22), "events"] == 1
    assert cell.loc[(0, 9), "events"] == 1
    assert heat["events"].sum() == 3
    # by UTC they would sit on Monday 23h and Tuesday 3h: those stay empty
    assert cell.loc[(0, 23), "events"] == 0 and cell.loc[(1, 3), "events"] == 0
    # the dates are UTC days 03-04 .. 03-11 (00:00 03-04 to 00:00 03-12 UTC).
    # New York (UTC-5, UTC-4 from 03-10): local 03-03 19:00 .. 03-11 20:00. Monday 22h falls
    # inside on 03-04 only (03-11 22:00 is past the end) -> 1 / 1
    assert cell.loc[(0, 22), "per_day"] == pytest.approx(1.0)
    # Rome (UTC+1): local 03-04 01:00 .. 03-12 01:00. Tuesday 0h: 03-05 and 03-12 -> 1 / 2
    assert cell.loc[(1, 0), "per_day"] == pytest.approx(0.5)
    # UTC: Monday 9h on 03-04 and 03-11 -> 1 / 2
    assert cell.loc[(0, 9), "per_day"] == pytest.approx(0.5)
    assert cell.loc[(0, 0), "weekday_name"] == "Monday"


def test_weekly_heatmap_for_one_type_keeps_the_dates():
    heat = overview.weekly_heatmap(make_events(TWO_ZONES), types=[schema.LOGIN])
    cell = heat.set_index(["weekday", "hour"])
    # the signup is not counted, but the dates are still 03-04 .. 03-11
    assert cell.loc[(0, 9), "events"] == 0
    assert cell.loc[(1, 0), "per_day"] == pytest.approx(0.5)
    assert heat["events"].sum() == 2


def test_weekly_heatmap_divides_by_the_days_each_local_hour_was_inside_the_dates():
    # UTC days Mon 2024-01-08 .. Mon 2024-01-15 (8 days).
    # New York (UTC-5): local Sun 01-07 19:00 .. Mon 01-15 19:00.
    #   Monday 10h inside on 01-08 and 01-15 (2 days); Monday 20h on 01-08 only (1 day).
    # Rome (UTC+1): local Mon 01-08 01:00 .. Tue 01-16 01:00.
    #   Monday 10h on 01-08 and 01-15 (2 days); Monday 0h on 01-15 only (1 day).
    ny, rome = "America/New_York", "Europe/Rome"
    rows = [
        event(schema.LOGIN, "a", "2024-01-08 15:00", timezone=ny),  # Mon 01-08 10:00 NY
        event(schema.LOGIN, "b", "2024-01-15 15:00", timezone=ny),  # Mon 01-15 10:00 NY
        event(schema.LOGIN, "c", "2024-01-09 01:00", timezone=ny),  # Mon 01-08 20:00 NY
        event(schema.LOGIN, "d", "2024-01-08 09:00", timezone=rome),  # Mon 01-08 10:00 Rome
        event(schema.LOGIN, "e", "2024-01-14 23:30", timezone=rome),  # Mon 01-15 00:30 Rome
    ]
    heat = overview.weekly_heatmap(
        make_events(rows), start=dt.date(2024, 1, 8), end=dt.date(2024, 1, 15)
    )
    cell = heat.set_index(["weekday", "hour"])["per_day"]
    # Monday 10h: New York 2 / 2 + Rome 1 / 2 = 1.5
    assert cell[(0, 10)] == pytest.approx(1.5)
    # Monday 20h in New York: 1 / 1 (dividing by the two Mondays of the dates would read 0.5)
    assert cell[(0, 20)] == pytest.approx(1.0)
    # Monday 0h in Rome: 1 / 1
    assert cell[(0, 0)] == pytest.approx(1.0)
    # the range ends early (data until Mon 01-15 12:00 UTC = 07:00 NY): Monday 10h in New York
    # then fell inside on 01-08 only, and the 01-15 login is past the data anyway
    early = overview.weekly_heatmap(
        make_events(rows[:1] + rows[2:]),
        start=dt.date(2024, 1, 8),
        end=dt.date(2024, 1, 15),
        until=dt.datetime(2024, 1, 15, 12, 0, tzinfo=dt.UTC),
    )
    early_cell = early.set_index(["weekday", "hour"])["per_day"]
    # New York 1 / 1 + Rome 1 / 2 (Rome's 01-15 10:00 is 09:00 UTC, before the end) = 1.5
    assert early_cell[(0, 10)] == pytest.approx(1.5)


def test_events_per_day_by_utc_day():
    per_day = overview.events_per_day(make_events(TWO_ZONES))
    # UTC days: Rome login 03-04, New York login 03-05, signup 03-11 -> 8 days x 2 types
    assert len(per_day) == 8 * 2
    # types in display order (overview.TYPE_ORDER): login before signup
    assert per_day["type"].tolist()[:2] == [schema.LOGIN, schema.SIGNUP]
    counts = per_day.set_index(["day", "type"])["events"]
    assert counts[(pd.Timestamp("2024-03-04"), schema.LOGIN)] == 1
    assert counts[(pd.Timestamp("2024-03-05"), schema.LOGIN)] == 1
    assert counts[(pd.Timestamp("2024-03-11"), schema.SIGNUP)] == 1
    assert counts[(pd.Timestamp("2024-03-07"), schema.LOGIN)] == 0
    assert per_day["events"].sum() == 3


def test_events_per_day_keeps_to_the_chosen_days():
    # dates 03-05 .. 03-12: the 03-04 login is outside (no 03-04 row), 03-12 is listed empty
    per_day = overview.events_per_day(
        make_events(TWO_ZONES), start=dt.date(2024, 3, 5), end=dt.date(2024, 3, 12)
    )
    days = sorted(set(per_day["day"]))
    assert days[0] == pd.Timestamp("2024-03-05") and days[-1] == pd.Timestamp("2024-03-12")
    assert len(days) == 8
    assert per_day["events"].sum() == 2
    table = overview.events_per_day_table(per_day)
    assert list(table.columns) == ["Day (UTC)", "Event", "Events"]
    assert table["Day (UTC)"].iloc[0] == "2024-03-05"
    assert set(table["Event"]) == {"WiFi login", "Sign-up"}


def test_events_per_day_for_chosen_types():
    per_day = overview.events_per_day(make_events(TWO_ZONES), types=[schema.SIGNUP])
    # only the signup on 03-11: one day, one type
    assert per_day["events"].tolist() == [1]


# --- empty and odd input ------------------------------------------------------------------------
def test_empty_frame_gives_empty_results():
    empty = make_events([])
    kpis = _by_key(overview.overview_kpis(empty, empty, empty))
    assert kpis["guests"].value == 0 and kpis["visits"].value == 0
    assert kpis["median_dwell"].value is None and kpis["returning"].value is None
    assert overview.format_kpi_value(kpis["returning"]) == "–"
    assert overview.events_per_day(empty).empty
    assert overview.weekly_heatmap(empty).empty
    assert overview.returning_flags(empty).empty
    assert overview.returning_share(empty).share is None


def test_unknown_types_and_missing_times_do_not_break():
    frame = make_events(
        [
            event("brand_new_type", "a", "2024-03-05 10:00"),
            event(schema.LOGIN, "a", None),  # no time at all
        ]
    )
    per_day = overview.events_per_day(frame)
    assert per_day["type"].tolist() == ["brand_new_type"]
    assert overview.weekly_heatmap(frame)["events"].sum() == 1
    kpis = _by_key(overview.overview_kpis(frame))
    assert kpis["logins"].value == 1 and kpis["guests"].value == 1


def test_inputs_are_not_modified():
    events = make_events(IN_RANGE)
    history = make_events(BEFORE_RANGE + IN_RANGE)
    before = (events.copy(deep=True), history.copy(deep=True))
    overview.overview_kpis(events, events, history)
    overview.weekly_heatmap(events)
    overview.events_per_day(events)
    pd.testing.assert_frame_equal(events, before[0])
    pd.testing.assert_frame_equal(history, before[1])


def test_type_mask_on_plain_text_types():
    frame = make_events(TWO_ZONES)
    frame[schema.TYPE] = frame[schema.TYPE].astype("str")
    assert overview.type_mask(frame, [schema.LOGIN]).tolist() == [True, True, False]
    assert not math.isnan(overview.weekly_heatmap(frame)["per_day"].sum())


def test_no_comparison_means_no_change_figures_and_an_empty_one_means_zero():
    # the comparison days lie outside the history: no frame at all, not "everything is new"
    kpis = overview.overview_kpis(make_events(CURRENT), None)
    assert all(k.previous is None for k in kpis)
    assert all(overview.format_kpi_change(k) is None for k in kpis)
    # the history holds the comparison days and nothing happened then: counts were zero
    kpis = _by_key(overview.overview_kpis(make_events(CURRENT), make_events([])))
    assert kpis["logins"].previous == 0 and overview.format_kpi_change(kpis["logins"]) == "+3"


def test_ratio_formatting():
    kpi = overview.Kpi("r", "Logins per guest", 1.5, 2.0, "help", "ratio")
    assert overview.format_kpi_value(kpi) == "1.50"
    assert overview.format_kpi_change(kpi) == "-0.50"


def test_metric_kwargs_colour_good_news_green():
    up = overview.Kpi("v", "Visits", 12, 10, "help", "count")
    bounce = overview.Kpi("b", "Bounce rate", 0.3, 0.2, "help", "share", better="down")
    flat = overview.Kpi("m", "Missing", 0, 0, "help", "count")
    # 12 vs 10 -> +20.0%, green when up
    assert overview.metric_kwargs(up) == {
        "label": "Visits",
        "value": "12",
        "delta": "+20.0%",
        "delta_color": "normal",
        "delta_arrow": "auto",
        "help": "help",
    }
    # 30% vs 20% -> +10.0 pp, shown red (inverse) because a higher bounce rate is bad news
    assert overview.metric_kwargs(bounce)["delta"] == "+10.0 pp"
    assert overview.metric_kwargs(bounce)["delta_color"] == "inverse"
    # no change: said in words, no arrow, no colour
    assert overview.metric_kwargs(flat)["delta"] == "no change"
    assert overview.metric_kwargs(flat)["delta_arrow"] == "off"
    assert overview.metric_kwargs(flat)["delta_color"] == "off"


def test_the_look_back_counts_whole_seconds_of_the_clock_whatever_else_is_loaded():
    # R's visits start at 10:00:00.900 and 30 days later at 10:00:01.100: 30 days and 0.2 s
    # apart, but in whole seconds of the clock (10:00:00 and 10:00:01) 30 days and 1 s: too
    # long. S's second visit, at 10:00:00.950, is 30 days to the second: returning.
    rows = [
        visit("R", "2024-01-10 10:00:00.900", None, visit_start="2024-01-10 10:00:00.900"),
        visit("R", "2024-02-09 10:00:01.100", None, visit_start="2024-02-09 10:00:01.100"),
        visit("S", "2024-01-10 10:00:00.900", None, visit_start="2024-01-10 10:00:00.900"),
        visit("S", "2024-02-09 10:00:00.950", None, visit_start="2024-02-09 10:00:00.950"),
    ]
    assert overview.returning_flags(make_events(rows)).tolist() == [False, False, False, True]
    # a visit loaded from half a second earlier changes nothing
    early = visit("T", "2024-01-01 00:00:00.500", None, visit_start="2024-01-01 00:00:00.500")
    flags = overview.returning_flags(make_events([early, *rows])).tolist()
    assert flags == [False, False, False, False, True]
