"""One way of writing days, counts, rates and event names; one colour per location."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from c4w import formatting as fmt
from c4w import schema
from c4w.charts import colours
from c4w.charts import overview as chart_overview
from c4w.metrics import contacts as contact_metrics
from c4w.metrics import funnels as funnel_metrics


def test_days_counts_and_rates_are_written_one_way() -> None:
    assert fmt.format_day(dt.date(2026, 11, 1)) == "01 Nov 2026"
    assert fmt.format_range(dt.date(2026, 11, 25), dt.date(2026, 12, 1)) == (
        "25 Nov 2026 – 01 Dec 2026"
    )
    assert fmt.format_range(dt.date(2026, 12, 1), dt.date(2026, 12, 1)) == "01 Dec 2026"
    assert fmt.days_text(1) == "1 day"
    assert fmt.days_text(30) == "30 days"
    assert fmt.format_count(1260) == "1,260"
    assert fmt.format_percent(0.3375) == "33.8%"
    assert fmt.format_percent(None) == "–"


def test_table_and_csv_helpers_round_and_name_things() -> None:
    assert fmt.percent_points(pd.Series([0.412345, 1 / 3])).tolist() == [41.2, 33.3]
    assert fmt.minutes(pd.Series(pd.to_timedelta(["8min", "90s"]))).tolist() == [8.0, 1.5]
    days = pd.Series(pd.to_datetime(["2026-11-25", "2026-12-01"]))
    assert fmt.iso_days(days).tolist() == ["2026-11-25", "2026-12-01"]
    table = pd.DataFrame({"Visits": [3], "Minutes": [96.60000000000002], "Place": ["A"]})
    rounded = fmt.round_numbers(table)
    assert rounded["Minutes"].tolist() == [96.6]
    assert rounded["Visits"].tolist() == [3] and rounded["Place"].tolist() == ["A"]
    assert table["Minutes"].iloc[0] != 96.6  # the input is not changed


def test_every_view_uses_the_same_label_for_an_event_type() -> None:
    for event_type, label in (
        (schema.SIGNUP, "Sign-up"),
        (schema.ARRIVING, "WiFi arrival"),
        (schema.OPEN_EMAIL, "Email opened"),
    ):
        assert fmt.event_label(event_type) == label
        assert chart_overview.type_label(event_type) == label  # legends
        assert contact_metrics.type_label(event_type) == label  # Contact page
        assert funnel_metrics.step_label(event_type) == label  # funnels
    assert fmt.event_label("loyalty_stamp") == "loyalty_stamp"


def test_a_location_keeps_its_colour_whatever_the_ranking() -> None:
    account = ["loc-c", "loc-a", "loc-b"]
    # sorted ids: loc-a, loc-b, loc-c -> the first three colours of the palette
    assert colours.location_colour("loc-a", account) == colours.PLACE_COLOURS[0]
    assert colours.location_colour("loc-b", account) == colours.PLACE_COLOURS[1]
    assert colours.location_colour("loc-c", reversed(account)) == colours.PLACE_COLOURS[2]
    frame = pd.DataFrame({"id": account, "name": ["Flatiron", "LoDo", "O'Hare T1"]})
    by_name = colours.location_colours(frame)
    assert by_name["Flatiron"] == by_name["loc-c"] == colours.PLACE_COLOURS[2]
    assert colours.colour_of("Other locations", by_name) == colours.OTHER_COLOUR
    # a place not in the account list: the same colour every time
    assert colours.colour_of("Piazza", by_name) == colours.colour_of("Piazza", None)


def test_logins_and_visits_charts_draw_a_location_in_its_own_colour() -> None:
    from c4w.charts import logins as login_charts
    from c4w.charts import visits as visit_charts

    frame = pd.DataFrame({"id": ["loc-1", "loc-2"], "name": ["Flatiron", "SoHo"]})
    palette = colours.location_colours(frame)
    day = pd.Timestamp("2026-11-02")
    # one week Flatiron is busiest, the next SoHo: Flatiron stays the first palette colour
    for ranking in (["Flatiron", "SoHo"], ["SoHo", "Flatiron"]):
        timeline = pd.DataFrame({"period": [day, day], "location": ranking, "logins": [5, 3]})
        fig = login_charts.login_timeline_chart(timeline, "day", colours=palette)
        drawn = {t.name: t.marker.color for t in fig.data}
        assert drawn["Flatiron"] == colours.PLACE_COLOURS[0]
        assert drawn["SoHo"] == colours.PLACE_COLOURS[1]
    hist = pd.DataFrame(
        {
            "group": ["SoHo", "Flatiron", "Piazza"],
            "bin_start": [0.0, 0.0, 0.0],
            "bin_end": [5.0, 5.0, 5.0],
            "label": ["0–5"] * 3,
            "visits": [4, 2, 1],
            "share": [1.0, 1.0, 1.0],
        }
    )
    fig = visit_charts.dwell_histogram_chart(hist, y="share", colours=palette)
    drawn = {t.name: t.line.color for t in fig.data}
    assert drawn["Flatiron"] == colours.PLACE_COLOURS[0]
    assert drawn["SoHo"] == colours.PLACE_COLOURS[1]


def test_tables_write_counts_with_separators_and_percent_columns_with_one_decimal() -> None:
    from c4w import ui

    table = pd.DataFrame(
        {"Logins": [1260], "Share of logins (%)": [41.2], "Per guest": [1.5], "Place": ["A"]}
    )
    formats = {name: cfg["type_config"] for name, cfg in ui.number_formats(table).items()}
    assert formats["Logins"]["format"] == "accounting"  # 1,260 whatever the browser's language
    assert formats["Share of logins (%)"]["format"] == "%.1f%%"  # 41.2%
    assert formats["Per guest"]["format"] == "localized"
    assert "Place" not in formats


def test_csv_files_have_headers_in_the_users_words_labels_and_rounded_numbers() -> None:
    import io

    from c4w import export
    from tests.frames import event, make_events

    frame = make_events(
        [
            event(
                schema.VISIT,
                "c1",
                "2024-03-05 10:00",
                visit_duration_min=96.60000000000002,
                email="anna@example.com",
                location_name="Flatiron",
            ),
            event(schema.LOGIN, "c2", "2024-03-05 11:00"),
        ]
    )
    # the page layer masks first (the header "Email" would escape the mask), then renames
    ready = fmt.csv_ready(export.mask_personal(frame))
    text = export.csv_bytes(ready).decode("utf-8-sig")
    table = pd.read_csv(io.StringIO(text))
    assert {"Event", "Contact id", "Time (UTC)", "Visit length (minutes)", "Email"} <= set(
        table.columns
    )
    assert not any("_" in c for c in table.columns)
    assert table["Event"].tolist() == ["WiFi visit", "WiFi login"]
    assert table["Visit length (minutes)"].tolist()[0] == 96.6
    assert table["Email"].tolist()[0] == "a***@example.com"
    assert table["Time (UTC)"].tolist()[0] == "2024-03-05 10:00:00"


def test_logins_and_visit_length_downloads_in_the_users_words() -> None:
    from c4w.metrics import logins as lm
    from c4w.metrics import visits as vm

    timeline = pd.DataFrame(
        {
            "period": pd.to_datetime(["2026-11-25", "2026-11-26"]),
            "location": ["Flatiron", "Flatiron"],
            "logins": [1260, 3],
        }
    )
    table = lm.login_timeline_table(timeline, "day")
    assert list(table.columns) == ["Day (UTC)", "Location", "WiFi logins"]
    assert table["Day (UTC)"].tolist() == ["2026-11-25", "2026-11-26"]
    buckets = pd.DataFrame(
        {
            "group": ["All visits", "All visits"],
            "bucket": ["<5 min", "5+ min"],
            "from_min": [0.0, 5.0],
            "to_min": [5.0, float("inf")],
            "visits": [1, 2],
            "share": [1 / 3, 2 / 3],
        }
    )
    out = vm.dwell_buckets_table(buckets)
    assert out["Share of visits (%)"].tolist() == [33.3, 66.7]
    assert out["To (minutes)"].tolist()[0] == 5.0 and pd.isna(out["To (minutes)"].tolist()[1])
