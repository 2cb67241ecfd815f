"""Data-quality figures on small frames worked out by hand."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from c4w import schema
from c4w.metrics import quality as q
from tests.frames import event, make_events

MISMATCH = schema.PROBLEM_LOCAL_TIME_MISMATCH
UNKNOWN = schema.PROBLEM_UNKNOWN_TYPE


def sample() -> pd.DataFrame:
    """Eleven events over two UTC days; which finding each row is behind is noted beside it."""
    return make_events(
        [
            # 0: clean visit of 30 min on 5 March
            event("visit", "ann", "2024-03-05 10:00", visit_duration_min=30),
            # 1: visit of 0 minutes -> zero duration
            event("visit", "ann", "2024-03-05 11:00", visit_duration_min=0),
            # 2: geofence visit of 1441 minutes -> longer than a day
            event("geo_visit", "bob", "2024-03-05 12:00", visit_duration_min=1441),
            # 3: exactly 1440 minutes is not longer than a day
            event("visit", "bob", "2024-03-05 13:00", visit_duration_min=1440),
            # 4: a login whose local time was flagged as disagreeing
            event("login", "ann", "2024-03-05 14:00", data_problems=MISMATCH),
            # 5, 6: ann clicks email m1 at 09:00 on 6 March, opens it at 09:30 -> 5 is a finding
            event("click_email", "ann", "2024-03-06 09:00", communication_id="m1"),
            event("open_email", "ann", "2024-03-06 09:30", communication_id="m1"),
            # 7: bob opens m1 at 08:00 and (8) clicks at 08:10: in order, no finding
            event("open_email", "bob", "2024-03-06 08:00", communication_id="m1"),
            event("click_email", "bob", "2024-03-06 08:10", communication_id="m1"),
            # 9: a click with no open at all is not a finding; an unknown type flagged as such
            event("click_email", "cat", "2024-03-06 10:00", communication_id="m2"),
            event("teleport", "cat", "2024-03-06 11:00", data_problems=UNKNOWN),
        ]
    )


def test_each_finding_picks_the_rows_worked_out_by_hand() -> None:
    masks = q.finding_masks(sample())
    picked = {key: [int(i) for i in mask.nonzero()[0]] for key, mask in masks.items()}
    assert picked == {
        "local_time": [4],
        "click_before_open": [5],
        "zero_duration": [1],
        "extreme_duration": [2],
        "unknown_type": [10],
    }


def test_a_click_is_paired_with_the_open_of_the_same_email_only() -> None:
    events = make_events(
        [
            # ann opens m2 early, clicks m1 before opening m1: the m2 open does not count
            event("open_email", "ann", "2024-03-06 07:00", communication_id="m2"),
            event("click_email", "ann", "2024-03-06 08:00", communication_id="m1"),
            event("open_email", "ann", "2024-03-06 09:00", communication_id="m1"),
            # no communication id: paired by campaign; open first -> in order
            event("open_email", "bob", "2024-03-06 07:00", campaign_id="c9"),
            event("click_email", "bob", "2024-03-06 07:05", campaign_id="c9"),
            # a second open before the click makes the first open the earliest: in order
            event("open_email", "cat", "2024-03-06 10:00", communication_id="m1"),
            event("click_email", "cat", "2024-03-06 09:00", communication_id="m1"),
            event("open_email", "cat", "2024-03-06 08:00", communication_id="m1"),
        ]
    )
    rows = q.finding_rows(events, "click_before_open")
    assert rows[schema.EVENT_ID].tolist() == ["e1"]


def test_findings_summary_counts_and_defines_every_finding() -> None:
    summary = q.findings_summary(sample())
    assert summary["key"].tolist() == [f.key for f in q.FINDINGS]
    assert summary["rows"].tolist() == [1, 1, 1, 1, 1]
    assert all(len(text) > 20 for text in summary["definition"])


def test_per_day_and_type_table() -> None:
    table = q.by_day_and_type(sample()).set_index([q.DAY, q.TYPE])
    # 5 March: visits rows 0, 1, 3 (one of zero minutes), geo_visit row 2, login row 4
    assert table.loc[("2024-03-05", "visit"), q.EVENTS] == 3
    assert table.loc[("2024-03-05", "visit"), q.ZERO_DURATION.label] == 1
    assert table.loc[("2024-03-05", "visit"), q.EXTREME_DURATION.label] == 0
    assert table.loc[("2024-03-05", "geo_visit"), q.EXTREME_DURATION.label] == 1
    assert table.loc[("2024-03-05", "login"), q.LOCAL_TIME.label] == 1
    # 6 March: three clicks (one before its open), two opens, one unknown type
    assert table.loc[("2024-03-06", "click_email"), q.EVENTS] == 3
    assert table.loc[("2024-03-06", "click_email"), q.CLICK_BEFORE_OPEN.label] == 1
    assert table.loc[("2024-03-06", "open_email"), q.EVENTS] == 2
    assert table.loc[("2024-03-06", "teleport"), q.UNKNOWN_TYPE.label] == 1
    assert int(table[q.EVENTS].sum()) == 11
    assert len(table) == 6


def test_events_without_a_time_or_type_get_their_own_row() -> None:
    events = make_events([event(None, "ann", None), event("login", "ann", "2024-03-05 10:00")])
    table = q.by_day_and_type(events)
    assert table[[q.DAY, q.TYPE, q.EVENTS]].values.tolist() == [
        ["(no UTC time)", "(no type)", 1],
        ["2024-03-05", "login", 1],
    ]


def test_empty_frames_give_empty_tables_of_the_same_shape() -> None:
    empty = sample().iloc[0:0]
    assert q.by_day_and_type(empty).empty
    assert q.findings_summary(empty)["rows"].tolist() == [0] * len(q.FINDINGS)
    assert list(q.by_day_and_type(empty).columns) == list(q.by_day_and_type(sample()).columns)


def test_utc_day_is_the_day_in_utc_not_the_local_day() -> None:
    # 23:30 UTC on 5 March is already 6 March in Rome
    events = make_events([event("login", "ann", "2024-03-05 23:30", timezone="Europe/Rome")])
    assert q.utc_days(events).tolist() == ["2024-03-05"]


def test_reader_problems_open_their_rows() -> None:
    events = sample()
    table = q.problems_table(events)
    assert dict(zip(table["problem"], table["rows"], strict=True)) == {
        schema.PROBLEM_LABELS[UNKNOWN]: 1,
        schema.PROBLEM_LABELS[MISMATCH]: 1,
    }
    rows = q.problem_rows(events, schema.PROBLEM_LABELS[MISMATCH])
    assert rows[schema.EVENT_ID].tolist() == ["e4"]
    with pytest.raises(ValueError):
        q.problem_rows(events, "no such problem")


def states(*rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(q.STATE_COLUMNS))


def test_day_status_from_the_sync_state() -> None:
    fetched = dt.datetime(2024, 3, 8, 6, 0, tzinfo=dt.UTC)
    table = q.day_status(
        states(
            # 5 March: 100 stored, 2 duplicates dropped -> 102 received; the API said 103
            (dt.date(2024, 3, 5), True, fetched, 100, 103, 2),
            # 7 March: stored but fetched before it settled; no API count
            (dt.date(2024, 3, 7), False, fetched, 40, None, 0),
        ),
        dt.date(2024, 3, 5),
        dt.date(2024, 3, 7),
        unsettled=[dt.date(2024, 3, 6), dt.date(2024, 3, 7)],
    )
    assert table[q.DAY].tolist() == ["2024-03-05", "2024-03-06", "2024-03-07"]
    assert table["status"].tolist() == ["complete", "not fetched", "not settled yet"]
    first = table.iloc[0]
    assert (first["events stored"], first["duplicates dropped"]) == (100, 2)
    assert (first["rows received"], first["API count"], first["count minus rows"]) == (102, 103, 1)
    assert first["fetched at (UTC)"] == "2024-03-08 06:00"
    assert pd.isna(table.iloc[2]["API count"]) and pd.isna(table.iloc[2]["count minus rows"])
    summary = q.day_summary(table)
    assert summary == q.DaySummary(duplicates_dropped=2, count_gap=1, days_not_ready=2, days=3)
    assert q.days_not_ready(table)[q.DAY].tolist() == ["2024-03-06", "2024-03-07"]


def test_a_complete_day_the_store_wants_again_is_not_settled() -> None:
    fetched = dt.datetime(2024, 3, 8, tzinfo=dt.UTC)
    table = q.day_status(
        states((dt.date(2024, 3, 7), True, fetched, 5, 5, 0)),
        dt.date(2024, 3, 7),
        dt.date(2024, 3, 7),
        unsettled={dt.date(2024, 3, 7)},
    )
    assert table["status"].tolist() == ["not settled yet"]


def test_no_sync_state_means_every_day_is_missing_and_no_count_gap() -> None:
    table = q.day_status(states(), dt.date(2024, 3, 1), dt.date(2024, 3, 2))
    assert table["status"].tolist() == ["not fetched", "not fetched"]
    assert q.day_summary(table) == q.DaySummary(0, None, 2, 2)


def test_headline_figures() -> None:
    fetched = dt.datetime(2024, 3, 8, tzinfo=dt.UTC)
    days = q.day_status(
        states((dt.date(2024, 3, 5), True, fetched, 5, 9, 3)),
        dt.date(2024, 3, 5),
        dt.date(2024, 3, 6),
    )
    kpis = {k.key: k for k in q.quality_kpis(sample(), days)}
    # 11 events; 3 duplicates; 9 - (5 + 3) = 1; 6 March not fetched; rows 4 and 10 flagged
    assert kpis["events"].value == 11
    assert kpis["duplicates"].value == 3
    assert kpis["count_gap"].value == 1
    assert kpis["days_not_ready"].value == 1
    assert kpis["problems"].value == 2
    assert [kpis[f.key].value for f in q.FINDINGS] == [1, 1, 1, 1, 1]
    assert all(k.help for k in kpis.values())


def test_no_api_count_is_an_unknown_gap_not_zero() -> None:
    fetched = dt.datetime(2024, 3, 8, tzinfo=dt.UTC)
    days = q.day_status(
        states((dt.date(2024, 3, 5), True, fetched, 5, None, 0)),
        dt.date(2024, 3, 5),
        dt.date(2024, 3, 5),
    )
    gap = {k.key: k for k in q.quality_kpis(sample().iloc[0:0], days)}["count_gap"]
    assert gap.value is None and gap.note
