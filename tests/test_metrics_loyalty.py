"""Loyalty figures on small cases worked out by hand (2024-03-04 is a Monday)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from c4w import demo, schema, ui
from c4w.metrics import loyalty as lm

from .frames import event, make_events

D = dt.date


def visit(contact: str, day: str, place: str = "L1", hour: str = "12:00") -> dict:
    return event(
        schema.VISIT,
        contact,
        f"{day} {hour}",
        visit_duration_min=10,
        location_id=place,
        location_name=f"Store {place}",
    )


def shares(table: pd.DataFrame, cohort: dt.date) -> list[float]:
    part = table.loc[table["cohort"] == cohort].sort_values("period")
    return part["share"].tolist()


COHORT_EVENTS = make_events(
    [
        visit("D", "2024-02-28"),  # first seen before the dates: in no cohort
        visit("A", "2024-03-04"),
        visit("D", "2024-03-05"),
        visit("B", "2024-03-06", hour="09:00"),
        visit("B", "2024-03-06", hour="17:00"),  # two visits on one day: no return
        visit("A", "2024-03-12"),
        visit("C", "2024-03-13"),
        visit("C", "2024-03-19"),
        visit("A", "2024-03-27"),
    ]
)


def test_cohorts_by_first_visit_with_weeks_not_over_yet() -> None:
    table = lm.retention_cohorts(
        COHORT_EVENTS, D(2024, 3, 1), D(2024, 3, 15), D(2024, 3, 31), max_periods=4
    )
    assert sorted(set(table["cohort"])) == [D(2024, 3, 4), D(2024, 3, 11)]
    sizes = table.drop_duplicates("cohort").set_index("cohort")["cohort_size"].to_dict()
    assert sizes == {D(2024, 3, 4): 2, D(2024, 3, 11): 1}  # A, B; C
    # cohort of 4 Mar: A back in week 1 (12 Mar) and week 3 (27 Mar); week 4 (1-7 Apr) not over
    got = shares(table, D(2024, 3, 4))
    assert got[:3] == [0.5, 0.0, 0.5] and np.isnan(got[3])
    # cohort of 11 Mar: C back in week 1 (19 Mar); week 2 over with no one; weeks 3-4 unknown
    got = shares(table, D(2024, 3, 11))
    assert got[:2] == [1.0, 0.0] and np.isnan(got[2]) and np.isnan(got[3])
    unknown = table.loc[~table["known"]]
    assert unknown["returned"].isna().all() and len(unknown) == 3


def test_cohorts_in_week_k_or_later() -> None:
    table = lm.retention_cohorts(
        COHORT_EVENTS, D(2024, 3, 1), D(2024, 3, 15), D(2024, 3, 31), "week", "or_later", 4
    )
    got = shares(table, D(2024, 3, 4))
    assert got[:3] == [0.5, 0.5, 0.5] and np.isnan(got[3])  # A's last return is in week 3
    got = shares(table, D(2024, 3, 11))
    assert got[:2] == [1.0, 0.0]


def test_cohorts_ignore_visits_after_the_last_complete_day() -> None:
    # with 24 Mar as the last complete day, A's 27 Mar visit is not counted yet
    table = lm.retention_cohorts(
        COHORT_EVENTS, D(2024, 3, 1), D(2024, 3, 15), D(2024, 3, 24), "week", "or_later", 3
    )
    got = shares(table, D(2024, 3, 4))
    assert got[:2] == [0.5, 0.0] and np.isnan(got[2])


def test_cohorts_by_month_and_by_signup() -> None:
    rows = [
        event(schema.SIGNUP, "A", "2024-01-30 10:00"),
        visit("A", "2024-02-02"),
        visit("B", "2024-01-15"),
        visit("B", "2024-03-01"),
        visit("A", "2024-03-10"),
    ]
    frame = make_events(rows)
    by_visit = lm.retention_cohorts(
        frame, D(2024, 1, 1), D(2024, 2, 29), D(2024, 3, 31), "month", max_periods=2
    )
    # January cohort: B (first visit 15 Jan); February cohort: A (first visit 2 Feb)
    assert shares(by_visit, D(2024, 1, 1)) == [0.0, 1.0]  # B back in March (month 2)
    assert shares(by_visit, D(2024, 2, 1))[0] == 1.0  # A back in March (month 1)
    by_signup = lm.retention_cohorts(
        frame,
        D(2024, 1, 1),
        D(2024, 2, 29),
        D(2024, 3, 31),
        "month",
        max_periods=2,
        cohort_by="signup",
    )
    # only A signed up (30 Jan): visits in February (month 1) and March (month 2)
    assert set(by_signup["cohort_size"]) == {1}
    assert shares(by_signup, D(2024, 1, 1)) == [1.0, 1.0]


def test_retention_grid_keeps_unknown_weeks_empty() -> None:
    table = lm.retention_cohorts(
        COHORT_EVENTS, D(2024, 3, 1), D(2024, 3, 15), D(2024, 3, 31), max_periods=4
    )
    grid = lm.retention_grid(table)
    assert list(grid.columns) == ["Cohort", "Guests", "Week 1", "Week 2", "Week 3", "Week 4"]
    row = grid.loc[grid["Cohort"] == D(2024, 3, 11)].iloc[0]
    assert row["Week 1"] == 1.0 and row["Week 2"] == 0.0 and pd.isna(row["Week 3"])


def test_visit_frequency_counts_visit_days() -> None:
    rows = [visit("one", "2024-03-01")]
    rows += [visit("same-day", "2024-03-01", hour="09:00"), visit("same-day", "2024-03-01")]
    rows += [visit("three", f"2024-03-0{d}") for d in (1, 3, 5)]
    rows += [visit("seven", f"2024-03-{d:02d}") for d in range(1, 8)]
    rows += [visit("twelve", f"2024-03-{d:02d}") for d in range(1, 13)]
    rows += [visit("two", "2024-03-01"), visit("two", "2024-03-09")]
    table = lm.visit_frequency(make_events(rows))
    assert table["bucket"].tolist() == ["1", "2", "3–5", "6–10", "10+"]
    # one, same-day -> 1; two -> 2; three -> 3-5; seven -> 6-10; twelve -> 10+
    assert table["guests"].tolist() == [2, 1, 1, 1, 1]
    assert table["share"].tolist() == [2 / 6, 1 / 6, 1 / 6, 1 / 6, 1 / 6]


def test_visit_rhythm_thresholds() -> None:
    rows = [visit("daily", f"2024-03-0{d}") for d in (1, 2, 3, 4)]  # 4 days, 1 day apart
    rows += [visit("pair", "2024-03-01"), visit("pair", "2024-03-02")]  # 2 days: not daily
    rows += [visit("weekly", d) for d in ("2024-03-01", "2024-03-08", "2024-03-15")]
    rows += [visit("monthly", "2024-03-01"), visit("monthly", "2024-03-21")]  # 20 days apart
    rows += [visit("rare", "2024-01-01"), visit("rare", "2024-03-01")]  # 60 days apart
    rows += [visit("once", "2024-03-01", hour="09:00"), visit("once", "2024-03-01")]
    table = lm.visit_rhythm(make_events(rows)).set_index("bucket")["guests"]
    # daily; pair + weekly; monthly; rare + once
    assert table.to_dict() == {"daily": 1, "weekly": 2, "monthly": 1, "occasional": 2}


def test_lifecycle_by_hand() -> None:
    rows = [
        visit("A", "2024-02-27"),
        visit("C", "2024-02-28"),
        visit("A", "2024-03-05"),
        visit("B", "2024-03-06"),
        visit("A", "2024-03-12"),
        visit("C", "2024-03-14"),
        visit("E", "2024-03-20"),
    ]
    table = lm.lifecycle(make_events(rows), D(2024, 3, 4), D(2024, 3, 24), D(2024, 3, 20))
    assert table["week"].tolist() == [D(2024, 3, 4), D(2024, 3, 11), D(2024, 3, 18)]
    assert table["new"].tolist() == [1, 0, 1]  # B; -; E
    assert table["returning"].tolist() == [1, 1, 0]  # A; A; -
    assert table["resurrecting"].tolist() == [0, 1, 0]  # -; C (away the week before)
    assert table["dormant"].tolist() == [-1, -1, -2]  # C; B; A and C
    assert table["week_over"].tolist() == [True, True, False]


def test_lapsed_guests_came_k_times_and_stayed_away_d_days() -> None:
    rows = [
        visit("gone", "2024-03-01"),
        visit("gone", "2024-03-05", place="L2"),
        visit("gone", "2024-03-10", place="L2"),
        event(schema.SEND_EMAIL, "gone", "2024-03-02 08:00", email="gone@example.com"),
        # three visits on one day and one more: only two visit days
        visit("few", "2024-02-01", hour="08:00"),
        visit("few", "2024-02-01", hour="10:00"),
        visit("few", "2024-02-01"),
        visit("few", "2024-03-01"),
        # four visit days but back recently
        *[visit("recent", d) for d in ("2024-03-01", "2024-03-10", "2024-03-20", "2024-03-25")],
        visit("later", "2024-01-01"),
        visit("later", "2024-01-02"),
        visit("later", "2024-01-03"),
        visit("later", "2024-04-05"),  # after as_of: not known on 31 Mar
    ]
    table = lm.lapsed_guests(make_events(rows), D(2024, 3, 31), min_visit_days=3, days_away=14)
    assert table[schema.CONTACT_ID].tolist() == ["later", "gone"]  # longest away first
    gone = table.iloc[1]
    assert gone["visit_days"] == 3 and gone["days_away"] == 21
    assert gone["last_visit"] == D(2024, 3, 10) and gone["first_visit"] == D(2024, 3, 1)
    assert gone[schema.EMAIL] == "gone@example.com"
    assert gone["usual_location"] == "Store L2"
    assert table.iloc[0]["days_away"] == 88  # 3 Jan to 31 Mar


def test_lapsed_contact_details_come_from_messages_only() -> None:
    # a login carrying an email (hostile data) is not where the lapsed list takes an address from
    rows = [
        visit("a", "2024-03-01"),
        visit("a", "2024-03-04"),
        visit("a", "2024-03-05"),
        event(schema.LOGIN, "a", "2024-03-06 09:00", email="login@example.com"),
        event(schema.GEO_VISIT, "a", "2024-03-07 09:00"),
        event(schema.SEND_SMS, "a", "2024-03-02 09:00", phone="5550100"),
        event(schema.OPEN_EMAIL, "a", "2024-03-03 09:00", email="a@example.com"),
        event(schema.SIGNUP, "b", "2024-03-04 09:00"),
        visit("b", "2024-03-04"),
        visit("b", "2024-03-11"),
        event(schema.LOGIN, "b", "2024-03-12 09:00"),
    ]
    lapsed = lm.lapsed_guests(make_events(rows), D(2024, 3, 31), min_visit_days=3, days_away=14)
    assert lapsed[schema.CONTACT_ID].tolist() == ["a"]
    assert lapsed[schema.EMAIL].tolist() == ["a@example.com"]
    assert lapsed[schema.PHONE].tolist() == ["5550100"]


def test_empty_inputs_keep_their_shape() -> None:
    empty = make_events([])
    assert lm.retention_cohorts(empty, D(2024, 3, 1), D(2024, 3, 2), D(2024, 3, 2)).empty
    assert lm.visit_frequency(empty)["guests"].sum() == 0
    assert lm.lapsed_guests(empty, D(2024, 3, 1)).empty
    assert len(lm.lifecycle(empty, D(2024, 3, 4), D(2024, 3, 10), D(2024, 3, 10))) == 1


def test_demo_cohorts_decay_as_seeded() -> None:
    """The demo's new guests stop coming after a geometric number of weeks (12% a week, after
    35% never return), so among guests who signed up in the history (new guests only) the share
    back in week 6 is about 0.88**5 = 0.53 of the share back in week 1. Without the seeded
    churn a guest's chance of a visit in a week would not fall (ratio about 1)."""
    frame = demo.demo_events_frame(60_000)
    first, last = ui.history_span(frame)
    table = lm.retention_cohorts(frame, first, last, last, max_periods=6, cohort_by="signup")
    both = table.loc[table["period"].isin([1, 6]) & table["known"]]
    both = both.groupby("cohort").filter(lambda g: len(g) == 2)
    week1 = both.loc[both["period"] == 1, "returned"].sum()
    week6 = both.loc[both["period"] == 6, "returned"].sum()
    assert week1 > 100, week1
    assert 0.35 < week6 / week1 < 0.72, (week1, week6)
