"""Shared fixtures: small nested-shape events and a sandbox API served in a thread.

``sandbox_factory(...)`` starts a ``c4w.sandbox`` server on a free 127.0.0.1 port (options as
``c4w.sandbox.serve_in_thread``) and stops it after the test: over ``small_org`` (60 events in
March 2024) by default, over the demo organization with ``sandbox_factory(None, n_events=N)``;
``sandbox`` is one over ``small_org``. ``nested_events(n, ...)`` builds
events in the API's nested shape, deterministic for a seed.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import tempfile
from collections.abc import Callable, Iterator

import pytest

from c4w import demo, schema
from c4w.sandbox import Sandbox, StaticSource, serve_in_thread, source_from_events
from tests.apptest import on_the_small_demo

# Parsed demo frames go to a folder of this test run (app servers started by tests inherit it),
# never to the user's own cache.
os.environ[demo.CACHE_ENV] = tempfile.mkdtemp(prefix="c4w-test-cache-")
# Likewise the history stores: never the user's own (the demo's store sits in the cache folder).
os.environ["C4W_STORE_DIR"] = tempfile.mkdtemp(prefix="c4w-test-store-")


@pytest.fixture(autouse=True)
def _own_history_store(monkeypatch: pytest.MonkeyPatch, tmp_path_factory) -> None:
    """Each test starts on an empty live history store of its own, so days one test fetched
    are not already stored for the next (the demo's store is shared: it never changes)."""
    monkeypatch.setenv("C4W_STORE_DIR", str(tmp_path_factory.mktemp("store")))


@pytest.fixture
def demo_app(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app on the small demo organization (``tests.apptest``), whatever the environment."""
    on_the_small_demo(monkeypatch)


ORG_ID = "org-test-0001"
SMALL_START = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
CONTACTS = ("c-alice", "c-bob", "c-carol", "../x", "a/b", "c dave")
LOCATIONS = (
    {
        "id": "loc-rome",
        "name": "Roma Centro",
        "lat": 41.9028,
        "lng": 12.4964,
        "timezone": "Europe/Rome",
        "address": {
            "address": "Via del Corso 1",
            "city": "Roma",
            "state": "RM",
            "zip": "00186",
            "country": "IT",
        },
        "externalId": "R1",
        "tags": ["flagship", "italy"],
    },
    {
        "id": "loc-sf",
        "name": "SF Mission",
        "lat": 37.7599,
        "lng": -122.4148,
        "timezone": "America/Los_Angeles",
        "address": {
            "address": "1 Valencia St",
            "city": "San Francisco",
            "state": "CA",
            "zip": "94103",
            "country": "US",
        },
        "externalId": "S1",
        "tags": ["usa"],
    },
)


def _iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def nested_event(
    event_id: str, event_type: str, contact: str, created: dt.datetime, where: dict
) -> dict:
    """One event in the API's nested shape at ``created`` (UTC) in ``where``'s time zone."""
    from zoneinfo import ZoneInfo

    zone = where["timezone"]
    local = created.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    body: dict = {"type": event_type, "id": event_id}
    if event_type in (schema.VISIT, schema.GEO_VISIT):
        start = created - dt.timedelta(minutes=20)
        start_local = local - dt.timedelta(minutes=20)
        body["visit"] = {
            "startAt": _iso(start),
            "startAtLocal": _iso(start_local),
            "timezone": zone,
            "duration": 20,
        }
    elif event_type == schema.SIGNUP:
        body["signup"] = {"source": "wifi"}
    elif event_type in (schema.SEND_EMAIL, schema.OPEN_EMAIL, schema.CLICK_EMAIL):
        body["email"] = {
            "campaignId": "cmp-1",
            "communicationId": "com-1",
            "channel": "email",
            "campaignName": "Spring",
            "email": f"{event_id}@example.com",
        }
    elif event_type in (schema.SEND_SMS, schema.CLICK_SMS):
        body["sms"] = {
            "campaignId": "cmp-2",
            "communicationId": "com-2",
            "channel": "sms",
            "campaignName": "Promo",
            "phone": "5551234",
            "prefix": "+39",
        }
    elif event_type == schema.PROMO:
        body["promo"] = {"type": "cta"}
    event = {"organizationId": ORG_ID, "customerId": contact, "event": body}
    if event_type in schema.GEOFENCE_TYPES:
        event.pop("organizationId")
        event["where"] = {
            "geofenceId": "gf-1",
            "geofenceName": "Piazza",
            "geofenceExtId": "P1",
            "geofenceMetadata": [],
            "geofenceJSON": {"type": "Circle", "coordinates": [12.4964, 41.9028], "radius": 120},
        }
    else:
        event["where"] = {
            "locationId": where["id"],
            "locationName": where["name"],
            "hotspotId": "hs-" + where["id"],
        }
    event["when"] = {"createdAt": _iso(created), "createdAtLocal": _iso(local), "timezone": zone}
    return event


def nested_events(
    n: int, seed: int = 1, start: dt.datetime = SMALL_START, days: int = 30
) -> list[dict]:
    """``n`` events over ``days`` days from ``start``: every known type in turn, six contacts
    (``../x`` and ``a/b`` among them), two locations, and every fifth event sharing the second
    of the one before it (ties at page and window edges)."""
    rng = random.Random(seed)
    span = days * 86_400
    seconds = sorted(rng.randrange(span) for _ in range(n))
    for i in range(4, n, 5):
        seconds[i] = seconds[i - 1]
    events = []
    for i, offset in enumerate(seconds):
        event_type = schema.KNOWN_TYPES[i % len(schema.KNOWN_TYPES)]
        created = start + dt.timedelta(seconds=offset)
        where = LOCATIONS[i % len(LOCATIONS)]
        events.append(
            nested_event(f"ev-{seed}-{i:06d}", event_type, CONTACTS[i % 6], created, where)
        )
    return events


def org_source(n: int, seed: int = 1, days: int = 30) -> StaticSource:
    """A sandbox source with ``n`` nested events over ``days`` days of March 2024 on."""
    return source_from_events(nested_events(n, seed, days=days), ORG_ID, LOCATIONS)


@pytest.fixture(scope="session")
def small_org() -> StaticSource:
    """60 events over March 2024 (seed 1)."""
    return org_source(60)


_SMALL = object()  # "no source given": the small test organization


@pytest.fixture
def sandbox_factory(small_org: StaticSource) -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes; all stop after the test. ``sandbox_factory()`` serves ``small_org``;
    ``sandbox_factory(source)`` serves that source; ``sandbox_factory(None, n_events=N)`` (or
    just ``n_events=N``) serves the demo organization. Other options go to ``serve_in_thread``.
    """
    started: list[Sandbox] = []

    def start(source: StaticSource | None | object = _SMALL, **options) -> Sandbox:
        if source is _SMALL:
            source = None if "n_events" in options else small_org
        box = serve_in_thread(source, **options)  # type: ignore[arg-type]
        started.append(box)
        return box

    yield start
    for box in started:
        box.stop()


@pytest.fixture
def sandbox(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    """A sandbox over ``small_org`` with no latency and no faults."""
    return sandbox_factory()
