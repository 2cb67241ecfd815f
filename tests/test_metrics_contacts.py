"""Contact drill-down: summary figures, timeline with visit spans, safe ids, most active."""

from __future__ import annotations

import math

import pandas as pd

from c4w import schema
from c4w.metrics import contacts
from tests.frames import event, make_events

MILAN = {schema.LOCATION_ID: "L1", schema.LOCATION_NAME: "Milan Store"}
ROME = {schema.LOCATION_ID: "L2", schema.LOCATION_NAME: "Rome Store"}
C1 = {schema.CAMPAIGN_ID: "c1", schema.CAMPAIGN_NAME: "Spring"}
C2 = {schema.CAMPAIGN_ID: "c2", schema.CAMPAIGN_NAME: "Summer"}
C3 = {schema.CAMPAIGN_ID: "c3", schema.CAMPAIGN_NAME: "Flash sale"}
DUR = schema.VISIT_DURATION_MIN
NO_START = {schema.VISIT_START: None}  # the API gave no start: the view derives it


def story() -> pd.DataFrame:
    """Contact x over six days (12 events), given newest-first to check the ordering."""
    rows = [
        event(
            schema.SIGNUP, "x", "2024-03-01T09:00:00Z", **MILAN, **{schema.SIGNUP_SOURCE: "wifi"}
        ),
        event(schema.LOGIN, "x", "2024-03-01T09:01:00Z", **MILAN),
        # visit with its start: 09:00 -> 10:00 (60 min)
        event(
            schema.VISIT,
            "x",
            "2024-03-01T10:00:00Z",
            **MILAN,
            **{DUR: 60.0, schema.VISIT_START: "2024-03-01T09:00:00Z"},
        ),
        event(schema.SEND_EMAIL, "x", "2024-03-02T08:00:00Z", **C1),
        event(schema.OPEN_EMAIL, "x", "2024-03-02T09:00:00Z", **C1),
        event(schema.OPEN_EMAIL, "x", "2024-03-02T10:00:00Z", **C1),  # opened twice: 1 campaign
        event(schema.CLICK_EMAIL, "x", "2024-03-02T10:05:00Z", **C1),
        event(schema.SEND_EMAIL, "x", "2024-03-03T08:00:00Z", **C2),
        event(schema.SEND_SMS, "x", "2024-03-03T08:30:00Z", **C3),
        # visit without a start: emitted at the end, so it spans 18:00 -> 18:30
        event(schema.VISIT, "x", "2024-03-04T18:30:00Z", **ROME, **{DUR: 30.0}, **NO_START),
        event(
            schema.GEO_VISIT,
            "x",
            "2024-03-05T12:00:00Z",
            **{DUR: 5.0, schema.GEOFENCE_ID: "g1", schema.GEOFENCE_NAME: "Mall Entrance"},
            **NO_START,
        ),
        event(schema.VISIT, "x", "2024-03-06T12:00:00Z", **MILAN, **{DUR: 20.0}, **NO_START),
    ]
    return make_events(rows[::-1])


def test_summary_of_one_contact() -> None:
    s = contacts.contact_summary(story(), "x")
    assert s.found and s.events == 12
    assert s.first_seen == pd.Timestamp("2024-03-01T09:00:00Z")
    assert s.last_seen == pd.Timestamp("2024-03-06T12:00:00Z")
    assert s.signup_source == "wifi"
    # WiFi visits: 60, 30, 20 min -> 3 visits, median 30; one geofence visit
    assert s.visits == 3 and s.geofence_visits == 1
    assert s.median_dwell_min == 30.0
    # Milan: signup, login, 2 visits = 4 events; Rome: 1 visit -> Milan first
    assert s.locations_visited == ["Milan Store", "Rome Store"]
    # received c1, c2 (email) and c3 (SMS) = 3; opened c1 = 1; clicked c1 = 1
    assert (s.campaigns_received, s.campaigns_opened, s.campaigns_clicked) == (3, 1, 1)


def test_summary_of_nobody() -> None:
    s = contacts.contact_summary(make_events([]), "nobody")
    assert not s.found and s.events == 0 and s.visits == 0
    assert s.first_seen is None and s.signup_source is None
    assert math.isnan(s.median_dwell_min) and s.locations_visited == []


def test_timeline_draws_visits_as_spans() -> None:
    line = contacts.contact_timeline(story())
    assert len(line) == 12
    assert tuple(line.columns) == contacts.TIMELINE_COLUMNS
    visits = line.loc[line["type"] == schema.VISIT]
    # start from visit_start (09:00, +60 min), from the event time minus the duration
    # (18:30 - 30 min = 18:00) and (12:00 - 20 min = 11:40)
    assert visits["start"].tolist() == [
        pd.Timestamp("2024-03-01T09:00:00Z"),
        pd.Timestamp("2024-03-04T18:00:00Z"),
        pd.Timestamp("2024-03-06T11:40:00Z"),
    ]
    assert visits["end"].tolist() == [
        pd.Timestamp("2024-03-01T10:00:00Z"),
        pd.Timestamp("2024-03-04T18:30:00Z"),
        pd.Timestamp("2024-03-06T12:00:00Z"),
    ]
    assert visits["place"].tolist() == ["Milan Store", "Rome Store", "Milan Store"]
    geo = line.loc[line["type"] == schema.GEO_VISIT].iloc[0]
    # 12:00 - 5 min = 11:55, at the geofence's name
    assert geo["start"] == pd.Timestamp("2024-03-05T11:55:00Z") and geo["place"] == "Mall Entrance"
    instants = line.loc[~line["type"].isin(schema.VISIT_TYPES)]
    assert instants["end"].isna().all()
    assert line["start"].is_monotonic_increasing
    assert line.loc[line["type"] == schema.SEND_SMS, "campaign"].tolist() == ["Flash sale"]
    assert line.loc[line["type"] == schema.SEND_SMS, "label"].tolist() == ["SMS sent"]


def test_events_of_contact_and_raw_table() -> None:
    frame = pd.concat(
        [
            story().astype(object),
            make_events([event(schema.LOGIN, "y", "2024-03-01T00:00:00Z")]).astype(object),
        ],
        ignore_index=True,
    )
    frame = make_events(frame.to_dict("records"))
    mine = contacts.events_of_contact(frame, "x")
    assert len(mine) == 12 and mine[schema.CREATED_AT].is_monotonic_increasing
    assert contacts.events_of_contact(frame, "nobody").empty
    table = contacts.contact_event_table(mine)
    # newest first; columns empty for this contact (e.g. phone) are left out
    assert table[schema.CREATED_AT].iloc[0] == pd.Timestamp("2024-03-06T12:00:00Z")
    assert schema.PHONE not in table.columns and schema.EVENT_ID in table.columns


def test_most_active_contacts() -> None:
    frame = make_events(
        [
            event(schema.VISIT, "a", "2024-03-01T09:00:00Z"),
            event(schema.LOGIN, "a", "2024-03-01T10:00:00Z"),
            event(schema.LOGIN, "b", "2024-03-01T11:00:00Z"),
            event(schema.VISIT, "c", "2024-03-02T11:00:00Z"),
            event(schema.VISIT, "c", "2024-03-03T11:00:00Z"),
            event(schema.LOGIN, "d", "2024-03-01T11:00:00Z"),
        ]
    )
    top = contacts.most_active_contacts(frame, limit=3)
    # a: 2 events (1 visit), c: 2 events (2 visits) -> c first; then b or d (1 event each)
    assert top[schema.CONTACT_ID].tolist()[:2] == ["c", "a"]
    assert top["events"].tolist() == [2, 2, 1]
    assert top["visits"].tolist()[:2] == [2, 1]
    assert top["last_seen"].iloc[0] == pd.Timestamp("2024-03-03T11:00:00Z")
    assert contacts.most_active_contacts(make_events([])).empty


def test_formatting_for_the_summary() -> None:
    assert contacts.format_time(pd.Timestamp("2024-03-05T18:30:00Z")) == "Tue 05 Mar 2024 18:30 UTC"
    assert contacts.format_time(None) == "–"
    assert contacts.format_day(pd.Timestamp("2024-03-05T23:30:00Z")) == "05 Mar 2024"
    # 65 min = 1 h 05 min
    assert contacts.format_minutes(65) == "1 h 05 min"
    assert contacts.format_minutes(29.6) == "30 min"
    assert contacts.format_minutes(float("nan")) == "–"


def test_locations_visited_counts_only_in_store_events() -> None:
    # y only received emails that carry a location (as some accounts send them): no visit
    rows = [
        event(schema.SEND_EMAIL, "y", "2024-03-02T08:00:00Z", **MILAN, **C1),
        event(schema.OPEN_EMAIL, "y", "2024-03-02T09:00:00Z", **MILAN, **C1),
    ]
    assert contacts.contact_summary(make_events(rows), "y").locations_visited == []
    # a WiFi arrival in Rome and a login in Milan: two locations
    rows += [
        event(schema.ARRIVING, "y", "2024-03-03T09:00:00Z", **ROME),
        event(schema.LOGIN, "y", "2024-03-04T09:00:00Z", **MILAN),
    ]
    summary = contacts.contact_summary(make_events(rows), "y")
    assert sorted(summary.locations_visited) == ["Milan Store", "Rome Store"]
