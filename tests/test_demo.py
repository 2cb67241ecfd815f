"""The demo organization: deterministic, valid nested events, consistent times and funnels."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from c4w import demo, schema

END = datetime(2025, 11, 20, 15, tzinfo=UTC)  # window spans the autumn DST changes (EU and US)
SPRING_END = datetime(2025, 4, 20, 6, tzinfo=UTC)  # window spans the spring DST changes
HEX32 = re.compile(r"^[0-9a-f]{32}$")
STAMP = "%Y-%m-%dT%H:%M:%SZ"


def _utc(text: str) -> datetime:
    return datetime.strptime(text, STAMP).replace(tzinfo=UTC)


def _local_text(utc_text: str, zone: str) -> str:
    """The wall clock of `utc_text` in `zone`, written the API's way (with its trailing Z)."""
    return _utc(utc_text).astimezone(ZoneInfo(zone)).strftime(STAMP)


def _haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


@pytest.fixture(scope="module")
def org() -> demo.DemoOrg:
    return demo.build_demo(5_000, seed=7, end=END)


@pytest.fixture(scope="module")
def events(org: demo.DemoOrg) -> list[dict]:
    return [json.loads(line) for line in org.event_lines]


@pytest.fixture(scope="module")
def big() -> list[dict]:
    """A larger sample for rates and rhythms (still well under a second to build)."""
    org = demo.build_demo(40_000, seed=11, end=END)
    return [json.loads(line) for line in org.event_lines]


# --- determinism and size -----------------------------------------------------------------------
def test_same_seed_gives_identical_bytes(org: demo.DemoOrg) -> None:
    again = demo.build_demo(5_000, seed=7, end=END)
    assert again.event_lines == org.event_lines
    assert again.locations == org.locations
    assert again.body() == org.body()


def test_another_seed_gives_another_organization(org: demo.DemoOrg) -> None:
    other = demo.build_demo(5_000, seed=8, end=END)
    assert other.org_id != org.org_id
    assert set(other.event_lines).isdisjoint(org.event_lines)


@pytest.mark.parametrize("n", [0, 1, 2, 37, 999, 5_000, 12_345])
def test_size_is_exactly_the_requested_number(n: int) -> None:
    org = demo.build_demo(n, end=END)
    assert len(org.event_lines) == n
    assert len(org.created_at) == len(org.types) == len(org.contact_ids) == n


def test_every_small_size_is_exact() -> None:
    sizes = {n: len(demo.build_demo(n, seed=n, end=END)) for n in range(40)}
    assert sizes == {n: n for n in range(40)}


def test_environment_sets_the_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(demo.EVENTS_ENV, "3_000")
    assert len(demo.build_demo(end=END)) == 3_000
    monkeypatch.setenv(demo.EVENTS_ENV, "lots")
    with pytest.raises(ValueError, match=demo.EVENTS_ENV):
        demo.build_demo(end=END)
    monkeypatch.setenv(demo.EVENTS_ENV, "2.5")
    with pytest.raises(ValueError, match="whole number"):
        demo.build_demo(end=END)
    monkeypatch.setenv(demo.EVENTS_ENV, "1e3")
    assert len(demo.build_demo(end=END)) == 1_000
    monkeypatch.setenv(demo.EVENTS_ENV, "-5")
    with pytest.raises(ValueError, match="negative"):
        demo.build_demo(end=END)
    monkeypatch.delenv(demo.EVENTS_ENV)
    assert demo.demo_size_from_env() == 150_000


def test_naive_end_is_utc_and_repr_is_short() -> None:
    aware = demo.build_demo(300, end=END)
    naive = demo.build_demo(300, end=END.replace(tzinfo=None))
    rome = demo.build_demo(300, end=END.astimezone(ZoneInfo("Europe/Rome")))
    assert aware.event_lines == naive.event_lines == rome.event_lines
    text = repr(aware)
    assert "events=300" in text and "2025-11-20T15:00:00Z" in text and len(text) < 300


def test_default_end_is_the_current_hour() -> None:
    org = demo.build_demo(50)
    now = datetime.now(UTC)
    assert org.end.minute == org.end.second == 0
    assert timedelta(0) <= now - org.end < timedelta(hours=1, minutes=1)
    assert org.end - org.start == timedelta(days=90)


# --- shape --------------------------------------------------------------------------------------
def test_every_line_is_compact_json_in_the_nested_shape(
    org: demo.DemoOrg, events: list[dict]
) -> None:
    for line, event in zip(org.event_lines, events, strict=True):
        assert isinstance(line, bytes) and b"\n" not in line and b'": ' not in line
        assert HEX32.match(event["customerId"])
        kind = event["event"]["type"]
        assert kind in schema.KNOWN_TYPES
        geo = kind in schema.GEOFENCE_TYPES
        # Event ids: 32 hex and a letter, "g" for geofence events and "l" for the others.
        assert re.fullmatch(r"[0-9a-f]{32}" + ("g" if geo else "l"), event["event"]["id"])
        where, when = event["where"], event["when"]
        if geo:  # like the vendor's example, geofence events carry no organization id
            assert "organizationId" not in event
            assert set(where) == {
                "geofenceName",
                "geofenceMetadata",
                "geofenceId",
                "geofenceExtId",
                "geofenceJSON",
            }
        else:
            assert event["organizationId"] == org.org_id
            assert HEX32.match(where["locationId"]) and where["locationName"]
        assert set(when) == {"createdAt", "createdAtLocal", "timezone"}
        _utc(when["createdAt"]), _utc(when["createdAtLocal"])  # both parse in the API's format


def test_event_ids_are_unique(events: list[dict]) -> None:
    ids = [e["event"]["id"] for e in events]
    assert len(set(ids)) == len(ids)


def test_aligned_arrays_describe_each_line(org: demo.DemoOrg, events: list[dict]) -> None:
    for i, event in enumerate(events):
        assert org.created_at[i] == int(_utc(event["when"]["createdAt"]).timestamp())
        local = int(_utc(event["when"]["createdAtLocal"]).timestamp())
        assert org.created_at_local[i] == local
        assert org.types[i] == event["event"]["type"]
        assert org.contact_ids[i] == event["customerId"]


def test_sorted_by_created_at_inside_the_window(org: demo.DemoOrg) -> None:
    assert np.all(np.diff(org.created_at) >= 0)
    assert org.created_at[0] >= int((END - timedelta(days=90)).timestamp())
    assert org.created_at[-1] < int(END.timestamp())


def test_every_type_appears(events: list[dict]) -> None:
    seen = {e["event"]["type"] for e in events}
    assert set(schema.KNOWN_TYPES) <= seen


# --- time ---------------------------------------------------------------------------------------
def _assert_local_times_agree(events: list[dict]) -> None:
    for event in events:
        when = event["when"]
        assert when["createdAtLocal"] == _local_text(when["createdAt"], when["timezone"])
        visit = event["event"].get("visit")
        if visit:
            assert visit["timezone"] == when["timezone"]
            assert visit["startAtLocal"] == _local_text(visit["startAt"], visit["timezone"])


def test_local_clock_is_utc_in_the_zone_across_autumn_dst(events: list[dict]) -> None:
    _assert_local_times_agree(events)
    # New York: 14:00 UTC is 10:00 in October (EDT, -4) and 09:00 in mid November (EST, -5).
    assert _local_text("2025-10-15T14:00:00Z", "America/New_York") == "2025-10-15T10:00:00Z"
    assert _local_text("2025-11-15T14:00:00Z", "America/New_York") == "2025-11-15T09:00:00Z"
    offsets = {
        (_utc(e["when"]["createdAtLocal"]) - _utc(e["when"]["createdAt"])).total_seconds()
        for e in events
        if e["when"]["timezone"] == "America/New_York"
    }
    assert offsets == {-4 * 3600.0, -5 * 3600.0}  # both sides of the change are present


def test_local_clock_is_utc_in_the_zone_across_spring_dst() -> None:
    org = demo.build_demo(3_000, seed=3, end=SPRING_END)
    events = [json.loads(line) for line in org.event_lines]
    _assert_local_times_agree(events)
    rome = {
        (_utc(e["when"]["createdAtLocal"]) - _utc(e["when"]["createdAt"])).total_seconds()
        for e in events
        if e["when"]["timezone"] == "Europe/Rome"
    }
    assert rome <= {3600.0, 7200.0}


def test_at_least_three_time_zones(org: demo.DemoOrg, events: list[dict]) -> None:
    assert len({loc["timezone"] for loc in org.locations}) >= 3
    assert len({e["when"]["timezone"] for e in events}) >= 3


# --- places -------------------------------------------------------------------------------------
def test_locations_have_the_api_shape(org: demo.DemoOrg) -> None:
    assert 10 <= len(org.locations) <= 15
    for loc in org.locations:
        assert set(loc) == {"id", "name", "lat", "lng", "timezone", "address", "externalId", "tags"}
        assert set(loc["address"]) == {"address", "city", "state", "zip", "country"}
        assert HEX32.match(loc["id"]) and isinstance(loc["tags"], list)
        ZoneInfo(loc["timezone"])
        assert -90 < loc["lat"] < 90 and -180 < loc["lng"] < 180
    payload = org.locations_payload()
    assert payload["size"] == len(payload["locations"]) == len(org.locations)


def test_every_location_has_a_circle_geofence_around_it(
    org: demo.DemoOrg, events: list[dict]
) -> None:
    circles = {}
    for e in events:
        if "geofenceJSON" in e["where"]:
            circles[e["where"]["geofenceExtId"]] = e["where"]["geofenceJSON"]
    for loc in org.locations:
        circle = circles[loc["externalId"]]
        assert circle["type"] == "Circle"
        assert 50 <= circle["radius"] <= 300
        lon, lat = circle["coordinates"]
        assert _haversine_m(lat, lon, loc["lat"], loc["lng"]) < circle["radius"]


def test_haversine_of_the_check_by_hand() -> None:
    # 0.001 degree of latitude is 6,371,000 m * 0.001 * pi / 180 = 111.19 m.
    assert _haversine_m(45.0, 9.0, 45.001, 9.0) == pytest.approx(111.19, abs=0.01)


def test_stand_alone_geofences_are_visited(org: demo.DemoOrg, big: list[dict]) -> None:
    stand_alone = [g for g in org.geofences if g["locationId"] is None]
    assert len(stand_alone) >= 3
    visited = {e["where"]["geofenceName"] for e in big if e["event"]["type"] == "geo_visit"}
    assert {g["name"] for g in stand_alone} <= visited


def test_geofence_events_come_from_the_app(events: list[dict]) -> None:
    for e in events:
        if e["event"]["type"] in schema.GEOFENCE_TYPES:
            props = e["event"]["visit"]["properties"]
            assert set(props) == {"appId", "appBundle", "projectId", "appOs"}
            assert props["appOs"] in {"ios", "android"}


# --- visits -------------------------------------------------------------------------------------
def test_visits_end_at_start_plus_duration(events: list[dict]) -> None:
    visits = [e for e in events if e["event"]["type"] in schema.VISIT_TYPES]
    assert visits
    for e in visits:
        v = e["event"]["visit"]
        assert isinstance(v["duration"], int) and v["duration"] > 0
        # Emitted at the end: createdAt - startAt is the duration in minutes, give or take one.
        elapsed = (_utc(e["when"]["createdAt"]) - _utc(v["startAt"])).total_seconds()
        assert abs(elapsed - v["duration"] * 60) <= 60


def test_geo_arrivals_carry_a_visit_without_duration(events: list[dict]) -> None:
    arrivals = [e for e in events if e["event"]["type"] == "geo_arriving"]
    assert arrivals
    for e in arrivals:
        assert "duration" not in e["event"]["visit"]
        assert e["event"]["visit"]["startAt"] == e["when"]["createdAt"]


def test_dwell_is_skewed_with_bounces_and_a_long_tail(big: list[dict]) -> None:
    minutes = np.array(
        [e["event"]["visit"]["duration"] for e in big if e["event"]["type"] == "visit"]
    )
    assert 0.08 < np.mean(minutes < 5) < 0.35  # many short bounces
    assert np.mean(minutes) > np.median(minutes)  # skewed right
    assert np.max(minutes) > 3 * np.median(minutes)  # a long tail


def test_location_differences_tell_a_story(big: list[dict]) -> None:
    visits = [e for e in big if e["event"]["type"] == "visit"]
    per_place = Counter(e["where"]["locationName"] for e in visits)
    assert per_place.most_common(1)[0][0] == "Copperline Flatiron"  # the flagship is busiest
    dwell: dict[str, list[int]] = {}
    for e in visits:
        dwell.setdefault(e["where"]["locationName"], []).append(e["event"]["visit"]["duration"])
    medians = {name: float(np.median(m)) for name, m in dwell.items()}
    assert min(medians, key=medians.get) == "Copperline O'Hare T1"  # airport: short stays


def test_daily_and_weekly_rhythm_in_local_time(big: list[dict]) -> None:
    arrivals = [e for e in big if e["event"]["type"] == "arriving"]
    hours = Counter(int(e["when"]["createdAtLocal"][11:13]) for e in arrivals)
    assert sum(hours[h] for h in range(0, 4)) == 0  # closed at night
    assert hours[8] > hours[15] and hours[12] > hours[15]  # breakfast and lunch peaks

    def weekend_share(name: str) -> float:
        days = [
            datetime.strptime(e["when"]["createdAtLocal"][:10], "%Y-%m-%d").weekday()
            for e in arrivals
            if e["where"]["locationName"] == name
        ]
        return sum(d >= 5 for d in days) / len(days)

    # Office district quieter at the weekend than the beach.
    assert weekend_share("Copperline Flatiron") < weekend_share("Copperline Santa Monica")


def test_wifi_signups_come_before_the_first_login(events: list[dict]) -> None:
    first_login: dict[str, str] = {}
    for e in events:  # sorted by createdAt, so the first seen is the first
        if e["event"]["type"] == "login":
            first_login.setdefault(e["customerId"], e["when"]["createdAt"])
    sources = Counter()
    for e in events:
        if e["event"]["type"] == "signup":
            source = e["event"]["signup"]["source"]
            sources[source] += 1
            if source == "wifi":
                assert e["where"]["hotspotId"]
                assert e["when"]["createdAt"] <= first_login[e["customerId"]]
    assert sources["wifi"] > 0.6 * sum(sources.values())


# --- marketing ----------------------------------------------------------------------------------
def _funnel_ok(events: list[dict], part: str, first: str, then: str) -> int:
    """Check every `then` follows a `first` of the same contact and communication; count them."""
    seen: dict[tuple[str, str], str] = {}
    checked = 0
    for e in events:
        kind = e["event"]["type"]
        if kind == first:
            key = (e["customerId"], e["event"][part]["communicationId"])
            seen.setdefault(key, e["when"]["createdAt"])
        elif kind == then:
            key = (e["customerId"], e["event"][part]["communicationId"])
            assert key in seen, f"{then} without an earlier {first}"
            assert seen[key] <= e["when"]["createdAt"]
            checked += 1
    return checked


def test_email_funnel_is_in_order(events: list[dict], big: list[dict]) -> None:
    for sample in (events, big):
        assert _funnel_ok(sample, "email", "send_email", "open_email") > 0
        assert _funnel_ok(sample, "email", "open_email", "click_email") > 0


def test_sms_funnel_is_in_order(big: list[dict]) -> None:
    assert _funnel_ok(big, "sms", "send_sms", "click_sms") > 0


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_funnels_hold_for_other_seeds(seed: int) -> None:
    org = demo.build_demo(4_000, seed=seed, end=END)
    sample = [json.loads(line) for line in org.event_lines]
    _funnel_ok(sample, "email", "send_email", "open_email")
    _funnel_ok(sample, "email", "open_email", "click_email")
    _funnel_ok(sample, "sms", "send_sms", "click_sms")


def test_campaign_rates_are_plausible(big: list[dict]) -> None:
    count = Counter(e["event"]["type"] for e in big)
    assert 0.20 <= count["open_email"] / count["send_email"] <= 0.35
    assert 0.10 <= count["click_email"] / count["open_email"] <= 0.25
    assert 0.05 <= count["click_sms"] / count["send_sms"] <= 0.25


def test_opens_lag_hours_behind_sends(big: list[dict]) -> None:
    sent: dict[tuple[str, str], datetime] = {}
    lags = []
    for e in big:
        kind = e["event"]["type"]
        if kind in ("send_email", "open_email"):
            key = (e["customerId"], e["event"]["email"]["communicationId"])
            if kind == "send_email":
                sent[key] = _utc(e["when"]["createdAt"])
            else:
                lags.append((_utc(e["when"]["createdAt"]) - sent[key]).total_seconds() / 3600)
    assert 0.5 < float(np.median(lags)) < 12


def test_campaign_payloads_and_escaping(big: list[dict]) -> None:
    names = {c[0] for c in demo.EMAIL_CAMPAIGNS} | {demo.WELCOME_EMAIL[0]}
    sms_names = {c[0] for c in demo.SMS_CAMPAIGNS}
    seen = set()
    for e in big:
        part = e["event"].get("email")
        if part:
            assert part["campaignName"] in names and part["channel"] == "email"
            assert re.fullmatch(r"[a-z0-9.]+@([a-z]+\.)?example\.(com|org|net)", part["email"])
            seen.add(part["campaignName"])
        part = e["event"].get("sms")
        if part:
            assert part["campaignName"] in sms_names and part["channel"] == "sms"
            assert part["prefix"] in {"+1", "+44", "+39"} and part["phone"].isdigit()
    # Names with quotes, an apostrophe and accents survive the JSON round trip.
    assert 'Try the "Barista\'s choice" box' in seen
    assert "Buon caffè: Copperline Brera is open" in seen


def test_surveys_and_promos(big: list[dict]) -> None:
    surveys = [e["event"]["survey"] for e in big if e["event"]["type"] == "survey"]
    assert surveys
    for s in surveys:
        assert s["questions"]["question_1"] and s["answers"]["answer_1"]
        assert s["campaignName"] in {name for name, _q in demo.SURVEYS}
    promos = {e["event"]["promo"]["type"] for e in big if e["event"]["type"] == "promo"}
    assert promos == set(demo.PROMO_TYPES)


# --- body ---------------------------------------------------------------------------------------
def test_body_parses_and_counts(org: demo.DemoOrg, events: list[dict]) -> None:
    body = json.loads(org.body())
    assert body["count"] == len(body["events"]) == 5_000
    assert body["generated"] == "2025-11-20T15:00:00Z"
    assert body["events"][0] == events[0]
    assert body["events"][-1] == events[-1]


def test_body_of_chosen_rows(org: demo.DemoOrg, events: list[dict]) -> None:
    picked = json.loads(org.body([3, 1, 4]))
    assert picked["count"] == 3
    assert picked["events"] == [events[3], events[1], events[4]]
    assert json.loads(org.body(slice(10, 20)))["events"] == events[10:20]
    mask = org.types == "visit"
    visits = json.loads(org.body(mask))["events"]
    assert len(visits) == int(mask.sum()) > 0
    assert all(e["event"]["type"] == "visit" for e in visits)
    assert json.loads(org.body(np.array([], dtype=int))) == {
        "generated": "2025-11-20T15:00:00Z",
        "count": 0,
        "events": [],
    }


def test_empty_organization_body_is_valid() -> None:
    org = demo.build_demo(0, end=END)
    assert json.loads(org.body())["events"] == []
    assert len(org.locations) == 12


# --- frames (through the project's parser) --------------------------------------------------------
def test_demo_events_frame_parses_cleanly(monkeypatch: pytest.MonkeyPatch) -> None:
    from c4w.frame import data_quality_report, events_frame

    monkeypatch.setenv(demo.EVENTS_ENV, "2500")
    df = demo.demo_events_frame()
    assert len(df) == 2_500
    assert list(df.columns[: len(schema.EVENT_COLUMNS)]) == list(schema.EVENT_COLUMNS)
    assert data_quality_report(df).empty  # no problem of any kind in the demo
    visits = df[df[schema.TYPE] == schema.VISIT]
    assert (visits[schema.VISIT_DURATION_MIN] > 0).all()
    # Paged parsing equals parsing the one body of the same organization.
    org = demo.build_demo(2_500, end=END)
    monkeypatch.setattr(demo, "build_demo", lambda n_events=None, end=None: org)
    paged = demo.demo_events_frame(use_disk_cache=False)
    whole = events_frame(org.body())
    assert paged[schema.EVENT_ID].tolist() == whole[schema.EVENT_ID].tolist()
    assert paged[schema.CREATED_AT_LOCAL].equals(whole[schema.CREATED_AT_LOCAL])


def test_demo_events_frame_spans_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    org = demo.build_demo(2_501, end=END)
    monkeypatch.setattr(demo, "build_demo", lambda n_events=None, end=None: org)
    monkeypatch.setattr(demo, "FRAME_PAGE_EVENTS", 1_000)  # pages of 1,000, 1,000 and 501
    df = demo.demo_events_frame(use_disk_cache=False)
    assert len(df) == 2_501
    ids = [json.loads(line)["event"]["id"] for line in org.event_lines]
    assert df[schema.EVENT_ID].tolist() == ids


def test_demo_locations_frame() -> None:
    df = demo.demo_locations_frame()
    assert list(df.columns) == list(schema.LOCATION_COLUMNS)
    assert len(df) == 12
    flatiron = df[df["external_id"] == "NYC-001"].iloc[0]
    assert flatiron["name"] == "Copperline Flatiron"
    assert flatiron["tags"] == "flagship, roastery, northeast"
    assert flatiron["timezone"] == "America/New_York"
    assert flatiron["lat"] == pytest.approx(40.74103)


# --- the parsed demo kept on disk between server starts ------------------------------------------
def _wait_for(path, seconds: float = 20.0) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert path.exists(), f"the demo frame was not saved to {path}"


def test_demo_frame_from_disk_equals_a_fresh_parse(tmp_path, monkeypatch):
    import pandas as pd

    monkeypatch.setenv(demo.CACHE_ENV, str(tmp_path))
    fresh = demo.demo_events_frame(3_000)
    path = demo.demo_cache_path(3_000, demo._this_hour())
    _wait_for(path)
    from_disk = demo.demo_events_frame(3_000)
    pd.testing.assert_frame_equal(from_disk, fresh)  # values and dtypes (categories included)
    uncached = demo.demo_events_frame(3_000, use_disk_cache=False)
    pd.testing.assert_frame_equal(uncached, fresh)


def test_a_damaged_demo_file_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv(demo.CACHE_ENV, str(tmp_path))
    path = demo.demo_cache_path(2_000, demo._this_hour())
    path.write_bytes(b"not a parquet file")
    frame = demo.demo_events_frame(2_000)
    assert len(frame) == 2_000
    # the damaged file was removed, and a good one written in its place
    _wait_for(path)
    assert path.read_bytes()[:4] == b"PAR1"


def test_the_cache_name_changes_with_size_and_hour(tmp_path, monkeypatch):
    monkeypatch.setenv(demo.CACHE_ENV, str(tmp_path))
    hour = datetime(2026, 3, 1, 10, tzinfo=UTC)
    a = demo.demo_cache_path(1_000, hour)
    assert a.parent == tmp_path
    assert a != demo.demo_cache_path(1_001, hour)
    assert a != demo.demo_cache_path(1_000, hour + timedelta(hours=1))
