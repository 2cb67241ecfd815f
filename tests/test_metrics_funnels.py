"""Funnels: ordering, conversion window, entry, drop-off lists, time between steps, breakdowns."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from c4w import schema
from c4w.metrics import funnels
from tests.frames import event, make_events

MILAN = {schema.LOCATION_ID: "L1", schema.LOCATION_NAME: "Milan Store"}
ROME = {schema.LOCATION_ID: "L2", schema.LOCATION_NAME: "Rome Store"}
SPRING = {schema.CAMPAIGN_ID: "c1", schema.CAMPAIGN_NAME: "Spring"}
SUMMER = {schema.CAMPAIGN_ID: "c2", schema.CAMPAIGN_NAME: "Summer"}


def scenario() -> pd.DataFrame:
    """Five contacts on the default email funnel (d0 = 2024-03-01).

    a: signup d0 10:00 Milan, sent 11:00 (Spring), opened 12:00, clicked 13:00 -> all 4 steps
    b: signup d0 10:00 Milan, sent d1 10:00 (Spring), clicked d1 11:00, opened d1 12:00
       -> 3 steps (the click came before the open, so it does not count)
    c: signup d0 09:00 Rome, sent d0 10:00 (Summer), opened d14 09:00:00 (exactly 14 days
       after entry: counts), clicked d14 09:00:01 (14 days + 1 s: too late) -> 3 steps
    d: signup d0 08:00 Rome, nothing else -> 1 step
    e: an email sent but no signup -> never enters
    """
    s, se, op, cl = schema.SIGNUP, schema.SEND_EMAIL, schema.OPEN_EMAIL, schema.CLICK_EMAIL
    rows = [
        event(s, "a", "2024-03-01T10:00:00Z", **MILAN),
        event(se, "a", "2024-03-01T11:00:00Z", **SPRING),
        event(op, "a", "2024-03-01T12:00:00Z", **SPRING),
        event(cl, "a", "2024-03-01T13:00:00Z", **SPRING),
        event(s, "b", "2024-03-01T10:00:00Z", **MILAN),
        event(se, "b", "2024-03-02T10:00:00Z", **SPRING),
        event(cl, "b", "2024-03-02T11:00:00Z", **SPRING),
        event(op, "b", "2024-03-02T12:00:00Z", **SPRING),
        event(s, "c", "2024-03-01T09:00:00Z", **ROME),
        event(se, "c", "2024-03-01T10:00:00Z", **SUMMER),
        event(op, "c", "2024-03-15T09:00:00Z", **SUMMER),
        event(cl, "c", "2024-03-15T09:00:01Z", **SUMMER),
        event(s, "d", "2024-03-01T08:00:00Z", **ROME),
        event(se, "e", "2024-03-01T08:00:00Z", **SPRING),
        event(schema.LOGIN, "a", "2024-03-01T10:01:00Z", **MILAN),
    ]
    # shuffle: the funnel must not depend on the frame's row order
    frame = make_events(rows)
    return frame.iloc[np.random.default_rng(3).permutation(len(frame))].reset_index(drop=True)


def test_make_events_has_canonical_columns_and_dtypes() -> None:
    frame = make_events([event(schema.SIGNUP, "a", "2024-03-01T10:00:00Z")])
    assert tuple(frame.columns) == schema.EVENT_COLUMNS
    assert str(frame[schema.CREATED_AT].dtype) == "datetime64[ns, UTC]"
    assert isinstance(frame[schema.TYPE].dtype, pd.CategoricalDtype)
    assert frame[schema.DATA_PROBLEMS].dtype == np.uint16


def test_step_counts_and_conversion() -> None:
    result = funnels.funnel(scenario())
    # entered a, b, c, d = 4; sent a, b, c = 3; opened a, b, c = 3; clicked only a = 1
    assert result.steps["contacts"].tolist() == [4, 3, 3, 1]
    # step conversion: 4/4, 3/4, 3/3, 1/3
    assert result.steps["step_conversion"].tolist() == pytest.approx([1.0, 0.75, 1.0, 1 / 3])
    # overall: 4/4, 3/4, 3/4, 1/4
    assert result.steps["overall_conversion"].tolist() == pytest.approx([1, 0.75, 0.75, 0.25])
    # dropped at each step: 0, 4-3 = 1, 3-3 = 0, 3-1 = 2
    assert result.steps["dropped"].tolist() == [0, 1, 0, 2]
    assert result.entered == 4 and result.completed == 1
    assert result.overall_conversion == pytest.approx(0.25)
    assert result.steps["name"].tolist() == [
        "1. Sign-up",
        "2. Email sent",
        "3. Email opened",
        "4. Email clicked",
    ]


def test_click_before_open_does_not_count() -> None:
    result = funnels.funnel(scenario())
    b = result.journeys.set_index(schema.CONTACT_ID).loc["b"]
    # b: sent d1 10:00, click d1 11:00 comes before the open d1 12:00 -> stops at step 3
    assert b["steps_reached"] == 3
    assert b["3. Email opened"] == pd.Timestamp("2024-03-02T12:00:00Z")
    assert pd.isna(b["4. Email clicked"])


def test_window_is_inclusive_at_14_days_and_excludes_one_second_more() -> None:
    result = funnels.funnel(scenario())
    c = result.journeys.set_index(schema.CONTACT_ID).loc["c"]
    # entry d0 09:00; open at d0 + 14 days exactly counts; click at 14 days + 1 s does not
    assert c["3. Email opened"] == pd.Timestamp("2024-03-15T09:00:00Z")
    assert c["steps_reached"] == 3


def test_shorter_window_counts_fewer() -> None:
    result = funnels.funnel(scenario(), window=timedelta(days=1))
    # window 24 h from entry:
    # a: sent +1 h, opened +2 h, clicked +3 h -> 4 steps
    # b: sent +24 h exactly (counts), opened +26 h (too late) -> 2 steps
    # c: sent +1 h, opened +14 days (too late) -> 2 steps
    # d: 1 step
    assert result.steps["contacts"].tolist() == [4, 3, 1, 1]


def test_median_time_between_steps() -> None:
    result = funnels.funnel(scenario())
    medians = result.steps["median_time_from_previous"].tolist()
    assert pd.isna(medians[0])
    # signup -> sent: a 1 h, b 24 h, c 1 h -> median 1 h
    assert medians[1] == pd.Timedelta(hours=1)
    # sent -> opened: a 1 h, b 2 h, c 13 d 23 h -> median 2 h
    assert medians[2] == pd.Timedelta(hours=2)
    # opened -> clicked: only a, 1 h
    assert medians[3] == pd.Timedelta(hours=1)
    # entry -> last step: only a, 10:00 -> 13:00 = 3 h
    assert result.median_time_to_complete == pd.Timedelta(hours=3)


def test_entry_is_first_step_one_event_in_range() -> None:
    s, se = schema.SIGNUP, schema.SEND_EMAIL
    frame = make_events(
        [
            event(s, "x", "2024-02-25T10:00:00Z", **ROME),  # before the range: not an entry
            event(se, "x", "2024-02-26T10:00:00Z", **SUMMER),  # before entry: does not count
            event(s, "x", "2024-03-01T12:00:00Z", **MILAN),  # first signup in range: entry
            event(s, "x", "2024-03-02T12:00:00Z", **ROME),  # later signup: ignored
            event(se, "x", "2024-03-01T13:00:00Z", **SPRING),  # after entry: step 2
            event(s, "y", "2024-02-20T10:00:00Z", **ROME),  # only before the range: not entered
        ]
    )
    result = funnels.funnel(frame, entry_from=date(2024, 3, 1), entry_to=date(2024, 3, 31))
    j = result.journeys.set_index(schema.CONTACT_ID)
    assert j.index.tolist() == ["x"]
    assert j.loc["x", "entered_at"] == pd.Timestamp("2024-03-01T12:00:00Z")
    assert j.loc["x", "entry_location"] == "Milan Store"
    assert j.loc["x", "campaign"] == "Spring"
    assert result.steps["contacts"].tolist() == [1, 1, 0, 0]


def test_entry_to_is_inclusive_of_the_whole_last_day() -> None:
    frame = make_events([event(schema.SIGNUP, "x", "2024-03-31T23:59:59Z")])
    # 23:59:59 on the last selected day is still inside the range
    result = funnels.funnel(frame, entry_from=date(2024, 3, 1), entry_to=date(2024, 3, 31))
    assert result.entered == 1
    result = funnels.funnel(frame, entry_from=date(2024, 3, 1), entry_to=date(2024, 3, 30))
    assert result.entered == 0


def test_entry_locations_limit_who_enters() -> None:
    result = funnels.funnel(scenario(), entry_locations=["L2"])
    # only c and d signed up in Rome (L2); c reaches 3 steps, d 1
    assert result.steps["contacts"].tolist() == [2, 1, 1, 0]


def test_dropped_contacts_per_step() -> None:
    result = funnels.funnel(scenario())
    everyone = funnels.dropped_contacts(result)
    # d missed step 2; c and b missed step 4 (sorted by step, then entry time: c 09:00, b 10:00)
    assert everyone[schema.CONTACT_ID].tolist() == ["d", "c", "b"]
    assert everyone["missed_step"].tolist() == [
        "2. Email sent",
        "4. Email clicked",
        "4. Email clicked",
    ]
    assert everyone["last_step_reached"].tolist() == [
        "1. Sign-up",
        "3. Email opened",
        "3. Email opened",
    ]
    assert everyone["last_step_at"].tolist() == [
        pd.Timestamp("2024-03-01T08:00:00Z"),
        pd.Timestamp("2024-03-15T09:00:00Z"),
        pd.Timestamp("2024-03-02T12:00:00Z"),
    ]
    assert funnels.dropped_contacts(result, step=2)[schema.CONTACT_ID].tolist() == ["d"]
    assert funnels.dropped_contacts(result, step=3).empty
    assert funnels.dropped_contacts(result, step=4)[schema.CONTACT_ID].tolist() == ["c", "b"]


def test_breakdown_by_location_of_signup() -> None:
    table = funnels.funnel_breakdown(funnels.funnel(scenario()), by=funnels.BY_LOCATION)
    # Milan: a, b entered; both sent and opened; only a clicked -> 1/2
    # Rome: c, d entered; c sent and opened; nobody clicked -> 0/2
    assert table["group"].tolist() == ["Milan Store", "Rome Store"]
    assert table["entered"].tolist() == [2, 2]
    assert table["2. Email sent"].tolist() == [2, 1]
    assert table["3. Email opened"].tolist() == [2, 1]
    assert table["4. Email clicked"].tolist() == [1, 0]
    assert table["overall_conversion"].tolist() == pytest.approx([0.5, 0.0])


def test_breakdown_by_campaign_of_step_two() -> None:
    table = funnels.funnel_breakdown(funnels.funnel(scenario()), by=funnels.BY_CAMPAIGN)
    # Spring: a, b (2 entered, 1 clicked); Summer: c (1, 0); d never got an email
    # ordering: most entered first, ties by name ("(" sorts before "S")
    assert table["group"].tolist() == ["Spring", funnels.NO_CAMPAIGN, "Summer"]
    assert table["entered"].tolist() == [2, 1, 1]
    assert table["4. Email clicked"].tolist() == [1, 0, 0]
    assert table["overall_conversion"].tolist() == pytest.approx([0.5, 0.0, 0.0])


def test_sms_path() -> None:
    frame = make_events(
        [
            event(schema.SIGNUP, "a", "2024-03-01T10:00:00Z"),
            event(schema.SEND_SMS, "a", "2024-03-01T11:00:00Z"),
            event(schema.CLICK_SMS, "a", "2024-03-01T11:30:00Z"),
            event(schema.SIGNUP, "b", "2024-03-01T10:00:00Z"),
            event(schema.SEND_SMS, "b", "2024-03-01T11:00:00Z"),
            event(schema.SEND_EMAIL, "b", "2024-03-01T11:00:00Z"),  # not part of the SMS path
        ]
    )
    result = funnels.funnel(frame, funnels.SMS_STEPS)
    # a and b signed up and got the SMS; only a clicked
    assert result.steps["contacts"].tolist() == [2, 2, 1]
    # sent -> clicked: a 30 min
    assert result.steps["median_time_from_previous"].iloc[2] == pd.Timedelta(minutes=30)


def test_repeated_step_type_needs_a_later_event() -> None:
    v = schema.VISIT
    frame = make_events(
        [
            event(v, "a", "2024-03-01T10:00:00Z"),
            event(v, "a", "2024-03-03T10:00:00Z"),  # a second visit 2 days later: step 2
            event(v, "b", "2024-03-01T10:00:00Z"),
            event(v, "b", "2024-03-01T10:00:00Z"),  # same instant: not "after", no step 2
        ]
    )
    result = funnels.funnel(frame, [v, v], window=timedelta(days=7))
    assert result.steps["contacts"].tolist() == [2, 1]


def test_event_types_present_most_frequent_first() -> None:
    # send_email: a, b, c, e = 4; signup: a, b, c, d = 4; open 3; click 3; login 1
    present = funnels.step_types_present(scenario())
    assert set(present[:2]) == {schema.SIGNUP, schema.SEND_EMAIL}
    assert present[-1] == schema.LOGIN
    assert funnels.step_types_present(make_events([])) == []


def test_empty_frames_give_empty_results() -> None:
    result = funnels.funnel(make_events([]))
    assert result.steps["contacts"].tolist() == [0, 0, 0, 0]
    assert result.entered == 0 and result.journeys.empty
    assert np.isnan(result.overall_conversion)
    assert pd.isna(result.median_time_to_complete)
    assert funnels.dropped_contacts(result).empty
    assert funnels.funnel_breakdown(result, by=funnels.BY_CAMPAIGN).empty
    # events exist but nobody has a step-1 event
    only_sends = make_events([event(schema.SEND_EMAIL, "a", "2024-03-01T10:00:00Z")])
    assert funnels.funnel(only_sends).entered == 0


def test_input_frame_is_not_changed() -> None:
    frame = scenario()
    before = frame.copy()
    funnels.funnel(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_humanize_duration() -> None:
    assert funnels.humanize_duration(pd.Timedelta(seconds=40)) == "40 s"
    assert funnels.humanize_duration(pd.Timedelta(minutes=15)) == "15 min"
    # 135 min = 2 h 15 min
    assert funnels.humanize_duration(pd.Timedelta(minutes=135)) == "2 h 15 min"
    # 76 h = 3 d 4 h
    assert funnels.humanize_duration(pd.Timedelta(hours=76)) == "3 d 4 h"
    assert funnels.humanize_duration(pd.NaT) == "–"


def test_location_filter_is_ignored_when_step_one_has_no_location() -> None:
    # step 1 = email sent: emails carry no location, so the filter cannot apply
    steps = [schema.SEND_EMAIL, schema.OPEN_EMAIL]
    result = funnels.funnel(scenario(), steps, entry_locations=["L1"])
    # sent: a, b, c, e = 4; opened after the send within 14 days: a, b (d1 12:00), c = 3
    assert result.steps["contacts"].tolist() == [4, 3]
    assert result.location_filter_ignored
    assert not funnels.funnel(scenario(), entry_locations=["L1"]).location_filter_ignored


def test_steps_table_and_readable_labels() -> None:
    result = funnels.funnel(scenario())
    table = funnels.steps_table(result)
    assert table["Contacts"].tolist() == [4, 3, 3, 1]
    # medians from test_median_time_between_steps: -, 1 h, 2 h, 1 h, as minutes
    minutes = table[funnels.STEP_MINUTES].tolist()
    assert np.isnan(minutes[0]) and minutes[1:] == [60.0, 120.0, 60.0]
    # 4 entered, 3 of 4 sent = 75.0%, 3 of 3 opened = 100.0%, 1 of 3 clicked = 33.3%
    assert table[funnels.FROM_PREVIOUS].tolist()[1:] == [75.0, 100.0, 33.3]
    assert table[funnels.FROM_ENTRY].tolist() == [100.0, 75.0, 75.0, 25.0]
    assert table["Event"].tolist() == ["Sign-up", "Email sent", "Email opened", "Email clicked"]
    labelled = funnels.readable(
        funnels.funnel_breakdown(result, funnels.BY_CAMPAIGN), by=funnels.BY_CAMPAIGN
    )
    assert labelled.columns[0] == "Campaign (step 2)" and "Entered" in labelled.columns
    # Spring: a, b entered, a reached the end -> 50.0%; Summer: c, 0 of 1 -> 0.0%
    by_campaign = labelled.set_index("Campaign (step 2)")["Reached the last step (%)"]
    assert by_campaign.to_dict() == {"Spring": 50.0, "Summer": 0.0, "(did not reach step 2)": 0.0}
    dropped = funnels.readable(funnels.dropped_contacts(result))
    assert dropped.columns[0] == schema.CONTACT_ID and "Stopped before" in dropped.columns


def test_email_steps_follow_one_message_unless_any_campaign_is_asked() -> None:
    s, se, op, cl = schema.SIGNUP, schema.SEND_EMAIL, schema.OPEN_EMAIL, schema.CLICK_EMAIL
    frame = make_events(
        [
            # p: sent Spring, then opened and clicked Summer (another email): stops at "sent"
            event(s, "p", "2024-03-01T08:00:00Z", **MILAN),
            event(se, "p", "2024-03-01T09:00:00Z", **SPRING),
            event(op, "p", "2024-03-01T10:00:00Z", **SUMMER),
            event(cl, "p", "2024-03-01T10:05:00Z", **SUMMER),
            # q: sent Spring, opened Summer first, then opened and clicked Spring: the Spring
            # open at 11:00 is the step, the click at 11:05 too -> all four steps
            event(s, "q", "2024-03-01T08:00:00Z", **MILAN),
            event(se, "q", "2024-03-01T09:00:00Z", **SPRING),
            event(op, "q", "2024-03-01T10:00:00Z", **SUMMER),
            event(op, "q", "2024-03-01T11:00:00Z", **SPRING),
            event(cl, "q", "2024-03-01T11:05:00Z", **SPRING),
            # r: sent Spring, opened Spring, clicked Summer -> three steps
            event(s, "r", "2024-03-01T08:00:00Z", **MILAN),
            event(se, "r", "2024-03-01T09:00:00Z", **SPRING),
            event(op, "r", "2024-03-01T10:00:00Z", **SPRING),
            event(cl, "r", "2024-03-01T10:30:00Z", **SUMMER),
        ]
    )
    one = funnels.funnel(frame)
    # entered 3; sent 3; opened Spring: q, r = 2; clicked Spring after that open: q = 1
    assert one.steps["contacts"].tolist() == [3, 3, 2, 1]
    j = one.journeys.set_index(schema.CONTACT_ID)
    assert j.loc["q", "3. Email opened"] == pd.Timestamp("2024-03-01T11:00:00Z")
    anyone = funnels.funnel(frame, same_campaign=False)
    # any campaign: p opens (Summer) and clicks; q's first open is 10:00; r clicks Summer
    assert anyone.steps["contacts"].tolist() == [3, 3, 3, 3]


def test_later_steps_count_after_the_last_day_and_open_windows_are_counted() -> None:
    s, se = schema.SIGNUP, schema.SEND_EMAIL
    frame = make_events(
        [
            event(s, "u", "2024-03-31T20:00:00Z", **MILAN),  # last selected day
            event(se, "u", "2024-04-02T09:00:00Z", **SPRING),  # two days later: counts
            event(s, "v", "2024-03-10T20:00:00Z", **MILAN),  # window ended 03-24
            event(s, "w", "2024-04-01T09:00:00Z", **MILAN),  # after the dates: not an entrant
        ]
    )
    result = funnels.funnel(
        frame,
        [s, se],
        timedelta(days=14),
        entry_from=date(2024, 3, 1),
        entry_to=date(2024, 3, 31),
        data_until=pd.Timestamp("2024-04-05T12:00:00Z"),
    )
    assert result.steps["contacts"].tolist() == [2, 1]
    # u's window runs to 04-14 20:00, after the data ends (04-05 12:00); v's ended 03-24
    assert result.open_windows == 1


def test_under_a_location_filter_contacts_enter_at_their_first_step_one_event() -> None:
    s, se = schema.SIGNUP, schema.SEND_EMAIL
    frame = make_events(
        [
            # m first signed up in Milan, later in Rome: entered in Milan, not in Rome's funnel
            event(s, "m", "2024-03-02T10:00:00Z", **MILAN),
            event(s, "m", "2024-03-05T10:00:00Z", **ROME),
            event(se, "m", "2024-03-06T10:00:00Z", **SPRING),
            # n signed up in Rome only
            event(s, "n", "2024-03-03T10:00:00Z", **ROME),
        ]
    )
    rome = funnels.funnel(frame, [s, se], entry_locations=["L2"])
    assert rome.journeys[schema.CONTACT_ID].tolist() == ["n"]
    assert rome.steps["contacts"].tolist() == [1, 0]
    milan = funnels.funnel(frame, [s, se], entry_locations=["L1"])
    # m enters at the Milan signup (03-02) and reaches the send of 03-06
    assert milan.steps["contacts"].tolist() == [1, 1]
    assert milan.journeys["entered_at"].tolist() == [pd.Timestamp("2024-03-02T10:00:00Z")]


def test_campaigns_sent_most_sent_first() -> None:
    events = make_events(
        [
            event("send_email", "c1", "2024-03-01 09:00", campaign_name="Spring"),
            event("send_email", "c2", "2024-03-01 09:00", campaign_name="Brunch"),
            event("send_email", "c3", "2024-03-01 09:00", campaign_name="Brunch"),
            event("send_email", "c4", "2024-03-01 09:00", campaign_name=None),
            # other types never count, though they name a campaign
            event("open_email", "c1", "2024-03-01 10:00", campaign_name="Spring"),
            event("open_email", "c1", "2024-03-01 10:05", campaign_name="Spring"),
            event("send_sms", "c5", "2024-03-01 09:00", campaign_name="Flash"),
        ]
    )
    assert funnels.campaigns_sent(events, "send_email") == ["Brunch", "Spring"]
    assert funnels.campaigns_sent(events, "send_sms") == ["Flash"]
    assert funnels.campaigns_sent(events, "send_push") == []
