"""Demo organization: a coffee chain's guest-WiFi and app events, deterministic and realistic.

"Copperline Coffee" runs 12 cafés in six time zones (New York to Milan). Guests sign up on the
WiFi, come back with daily and weekly rhythms of their own neighbourhood, get welcome and
newsletter emails and SMS offers, answer surveys, click promos, and the ones with the mobile
app leave geofence arrivals and visits around the cafés, two stadiums, an airport and two
malls. A few stories are built in so every chart has something to say: the Flatiron flagship
is the busiest, the O'Hare airport shop has short visits and few returning guests, Back Bay
closes for two days of renovation, Brera (Milan) opens 35 days before the end with a busy
first weekend, "Double points days" lift visits everywhere, the win-back email goes to lapsed
guests only.

Everything is produced as raw events in the API's nested shape (compact JSON bytes, sorted by
`createdAt`), so the demo goes through the same parser as live data. Generation is vectorized
with numpy: a million events take a few seconds.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

EVENTS_ENV = "C4W_DEMO_EVENTS"
DEFAULT_EVENTS = 150_000
WINDOW_DAYS = 90
FRAME_PAGE_EVENTS = 25_000  # events per body when the demo is parsed (pages keep both cores busy)
CACHE_ENV = "C4W_CACHE_DIR"  # where parsed demo frames are kept between server starts
CACHE_KEEP = 4  # newest cached demo frames kept on disk
BRAND = "Copperline Coffee"
DAY = 86_400
HOUR = 3_600
MINUTE = 60

# ------------------------------------------------------------------------------------------------
# The chain: 12 cafés. kind drives opening hours and dwell; weight is the share of guests who call
# it home; weekend is the Saturday/Sunday traffic factor; opens is the window day it opens on.
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cafe:
    key: str
    name: str
    address: str
    city: str
    state: str
    zip: str
    country: str
    lat: float
    lng: float
    timezone: str
    kind: str
    weight: float
    weekend: float
    radius: int
    metro: str
    tags: tuple[str, ...]
    opens: int = 0


# fmt: off
CAFES: tuple[_Cafe, ...] = (
    _Cafe("NYC-001", "Copperline Flatiron", "172 Fifth Avenue", "New York", "NY", "10010", "US",
          40.74103, -73.98965, "America/New_York", "flagship", 2.3, 0.75, 120, "NYC",
          ("flagship", "roastery", "northeast")),
    _Cafe("NYC-002", "Copperline Williamsburg", "118 N 6th Street", "Brooklyn", "NY", "11249",
          "US", 40.71958, -73.95937, "America/New_York", "cafe", 1.0, 1.35, 80, "NYC",
          ("neighborhood", "northeast")),
    _Cafe("BOS-001", "Copperline Back Bay", "501 Boylston Street", "Boston", "MA", "02116", "US",
          42.35031, -71.07404, "America/New_York", "cafe", 0.9, 0.95, 90, "BOS",
          ("downtown", "northeast")),
    _Cafe("CHI-001", "Copperline River North", "401 N Clark Street", "Chicago", "IL", "60654",
          "US", 41.88903, -87.63102, "America/Chicago", "cafe", 1.2, 0.65, 100, "CHI",
          ("downtown", "midwest")),
    _Cafe("CHI-002", "Copperline O'Hare T1", "10000 W O'Hare Avenue, Terminal 1", "Chicago", "IL",
          "60666", "US", 41.97857, -87.90484, "America/Chicago", "airport", 1.8, 1.0, 60, "CHI",
          ("airport", "travel", "midwest")),
    _Cafe("AUS-001", "Copperline South Congress", "1500 S Congress Avenue", "Austin", "TX",
          "78704", "US", 30.24897, -97.74951, "America/Chicago", "cafe", 0.9, 1.3, 150, "AUS",
          ("neighborhood", "south")),
    _Cafe("DEN-001", "Copperline LoDo", "1701 Wynkoop Street", "Denver", "CO", "80202", "US",
          39.75301, -105.00003, "America/Denver", "cafe", 0.75, 1.05, 110, "DEN",
          ("downtown", "west")),
    _Cafe("LAX-001", "Copperline Santa Monica", "1301 Third Street Promenade", "Santa Monica",
          "CA", "90401", "US", 34.01652, -118.49597, "America/Los_Angeles", "cafe", 1.1, 1.45,
          200, "LA", ("beach", "west")),
    _Cafe("SFO-001", "Copperline Mission", "3200 16th Street", "San Francisco", "CA", "94103",
          "US", 37.76497, -122.42198, "America/Los_Angeles", "cafe", 0.9, 1.2, 70, "SF",
          ("neighborhood", "west")),
    _Cafe("SEA-001", "Copperline Capitol Hill", "1530 Broadway", "Seattle", "WA", "98122", "US",
          47.61501, -122.32103, "America/Los_Angeles", "cafe", 0.8, 1.15, 90, "SEA",
          ("neighborhood", "west")),
    _Cafe("LON-001", "Copperline Shoreditch", "45 Great Eastern Street", "London", "", "EC2A 3HP",
          "GB", 51.52551, -0.08052, "Europe/London", "cafe", 1.0, 0.9, 75, "LON",
          ("europe", "downtown")),
    _Cafe("MIL-001", "Copperline Brera", "Via Brera 12", "Milano", "MI", "20121", "IT",
          45.47183, 9.18752, "Europe/Rome", "aperitivo", 0.8, 1.25, 60, "MIL",
          ("europe", "new-opening"), opens=55),
)

# Stand-alone points of interest watched by the app: name, ext id, metro, kind, lat, lon, radius m,
# time zone. Stadiums have game nights; the airport and malls have a weekly visit rate.
POIS: tuple[tuple[str, str, str, str, float, float, int, str], ...] = (
    ("Yankee Stadium", "POI-NYC-STADIUM", "NYC", "stadium", 40.82962, -73.92617, 350,
     "America/New_York"),
    ("O'Hare International Airport", "POI-CHI-AIRPORT", "CHI", "airport", 41.97420, -87.90730,
     2000, "America/Chicago"),
    ("Dodger Stadium", "POI-LA-STADIUM", "LA", "stadium", 34.07386, -118.24002, 400,
     "America/Los_Angeles"),
    ("Westfield Century City", "POI-LA-MALL", "LA", "mall", 34.05840, -118.41890, 300,
     "America/Los_Angeles"),
    ("Westfield Stratford City", "POI-LON-MALL", "LON", "mall", 51.54310, -0.00630, 400,
     "Europe/London"),
)

KINDS = ("cafe", "flagship", "airport", "aperitivo")
# Relative arrivals per local hour 0..23, weekday then weekend: breakfast rush, lunch, after-work.
_HOURLY: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "cafe": (
        (0, 0, 0, 0, 0, 0, .4, 2.2, 3.0, 2.0, 1.2, 1.4, 2.4, 2.0, 1.0, 1.0, 1.2, 1.5, 1.0, .5,
         0, 0, 0, 0),
        (0, 0, 0, 0, 0, 0, 0, .4, 1.0, 1.8, 2.6, 2.8, 2.4, 2.0, 1.6, 1.4, 1.2, 1.0, .6, .3,
         0, 0, 0, 0),
    ),
    "flagship": (
        (0, 0, 0, 0, 0, 0, .5, 2.5, 3.2, 2.2, 1.5, 1.6, 2.8, 2.4, 1.4, 1.3, 1.4, 1.9, 2.0, 1.6,
         1.0, .4, 0, 0),
        (0, 0, 0, 0, 0, 0, 0, .3, 1.0, 2.0, 2.8, 3.0, 2.6, 2.2, 1.8, 1.6, 1.5, 1.5, 1.4, 1.0,
         .6, .3, 0, 0),
    ),
    "airport": (
        (0, 0, 0, 0, .3, 1.8, 2.6, 2.4, 2.0, 1.6, 1.4, 1.5, 1.7, 1.5, 1.3, 1.4, 1.6, 1.7, 1.5,
         1.1, .7, .4, 0, 0),
        (0, 0, 0, 0, .3, 1.6, 2.4, 2.4, 2.1, 1.8, 1.6, 1.6, 1.7, 1.5, 1.4, 1.5, 1.6, 1.6, 1.4,
         1.0, .6, .3, 0, 0),
    ),
    "aperitivo": (
        (0, 0, 0, 0, 0, 0, 0, 2.0, 2.8, 1.6, .8, .7, 1.4, 1.6, .8, .5, .6, 1.2, 2.6, 3.0, 1.8,
         .8, 0, 0),
        (0, 0, 0, 0, 0, 0, 0, 0, .8, 1.5, 1.8, 1.6, 1.6, 1.6, 1.0, .8, .9, 1.4, 2.6, 3.0, 2.0,
         1.0, 0, 0),
    ),
}
# fmt: on
# Dwell by kind: share of bounces (1-4 min), then a lognormal with this median (min) and sigma.
_DWELL: dict[str, tuple[float, float, float]] = {
    "cafe": (0.20, 24.0, 0.70),
    "flagship": (0.14, 38.0, 0.75),
    "airport": (0.30, 12.0, 0.50),
    "aperitivo": (0.12, 48.0, 0.55),
}
# fmt: off
# POI hours (arrival, local) and dwell (median min, sigma).
_POI_HOURS = {
    "stadium": (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, .5, 1.5, 3.0, 1.5, .2, 0, 0, 0),
    "airport": (0, 0, 0, 0, .5, 2.0, 2.5, 2.2, 1.8, 1.5, 1.4, 1.4, 1.5, 1.5, 1.4, 1.5, 1.7, 1.8,
                1.6, 1.2, .8, .4, .1, 0),
    "mall": (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, .8, 1.5, 2.0, 2.2, 2.2, 2.1, 2.0, 1.8, 1.6, 1.2, .6, 0,
             0, 0),
}
# fmt: on
_POI_DWELL = {"stadium": (200.0, 0.15), "airport": (110.0, 0.45), "mall": (75.0, 0.5)}

# Days of the window (0 = first day) with something happening.
_RENOVATION = ("BOS-001", (40, 41))  # Back Bay closed
_DOUBLE_POINTS_DAYS = (20, 21, 22)  # visits up everywhere
_GRAND_OPENING_DAYS = (55, 56, 57)  # Brera's first days

# Email campaigns: name, window day, share of the eligible audience, open rate, click rate
# (share of opens), audience rule.
EMAIL_CAMPAIGNS: tuple[tuple[str, int, float, float, float, str], ...] = (
    ("New seasonal menu", 5, 0.55, 0.27, 0.18, "all"),
    ("Double points days start tomorrow", 19, 0.65, 0.31, 0.22, "all"),
    ("Your monthly Copperline picks", 33, 0.50, 0.22, 0.12, "all"),
    ('Try the "Barista\'s choice" box', 47, 0.45, 0.25, 0.16, "all"),
    ("Buon caffè: Copperline Brera is open", 55, 0.95, 0.33, 0.24, "europe"),
    ("Gift cards for every occasion", 62, 0.55, 0.24, 0.20, "all"),
    ("We miss you — a pastry on us", 71, 0.85, 0.20, 0.10, "lapsed"),
    ("Weekend brunch is served", 83, 0.50, 0.29, 0.16, "all"),
)
WELCOME_EMAIL = ("Welcome to Copperline", 0.34, 0.23)  # name, open rate, click rate
# SMS campaigns: name, window day, audience share, click rate.
SMS_CAMPAIGNS: tuple[tuple[str, int, float, float], ...] = (
    ("Happy hour: 2-for-1 cold brew", 12, 0.55, 0.12),
    ("Last call: double points end tonight", 22, 0.45, 0.15),
    ("Flash sale: 20% off whole beans", 40, 0.50, 0.14),
)
# Store visits each campaign causes: the share of its recipients who come to their home café
# within 7 days of the send because of it, and would not have come otherwise (the rest of the
# returned recipients would have come anyway). Some campaigns bring nobody.
SEEDED_UPLIFT: dict[str, float] = {
    "New seasonal menu": 0.04,
    "Double points days start tomorrow": 0.06,
    "Your monthly Copperline picks": 0.0,
    'Try the "Barista\'s choice" box': 0.03,
    "Buon caffè: Copperline Brera is open": 0.08,
    "Gift cards for every occasion": 0.0,
    "We miss you — a pastry on us": 0.10,
    "Weekend brunch is served": 0.05,
    "Welcome to Copperline": 0.0,
    "Happy hour: 2-for-1 cold brew": 0.05,
    "Last call: double points end tonight": 0.0,
    "Flash sale: 20% off whole beans": 0.04,
}
UPLIFT_DAYS = 7  # the seeded visits come within this many days of the send
HOLDOUT_SHARE = 0.15  # guests with marketing consent kept out of every campaign (the holdout)

SURVEYS = (
    (
        "Guest satisfaction",
        {
            "question_1": "How was your visit today? (1-5)",
            "question_2": "Would you recommend Copperline to a friend?",
        },
    ),
    ("Next seasonal drink", {"question_1": "Which drink should we add next?"}),
)
DRINKS = ("Maple oat latte", "Chai cold brew", "Pistachio cappuccino", "Honey lavender mocha")
PROMO_TYPES = ("coupon", "link", "video", "app_download")
APP_BUNDLE = "com.copperline.coffee"
SIGNUP_SOURCES = ("wifi", "kiosk", "api", "mobileapp")

_FIRST = (
    "emma",
    "liam",
    "olivia",
    "noah",
    "ava",
    "elijah",
    "sophia",
    "lucas",
    "mia",
    "mateo",
    "isabella",
    "james",
    "amelia",
    "ethan",
    "harper",
    "leo",
    "chloe",
    "marco",
    "giulia",
    "sofia",
    "luca",
    "oliver",
    "grace",
    "jack",
    "priya",
    "arjun",
    "mei",
    "hiro",
    "fatima",
    "omar",
    "zoe",
    "sam",
    "nina",
    "diego",
    "lena",
    "kofi",
    "aisha",
    "tom",
    "ruby",
    "alex",
)
_LAST = (
    "smith",
    "johnson",
    "garcia",
    "brown",
    "miller",
    "davis",
    "martinez",
    "lopez",
    "wilson",
    "anderson",
    "taylor",
    "thomas",
    "moore",
    "jackson",
    "lee",
    "nguyen",
    "patel",
    "kim",
    "rossi",
    "russo",
    "ferrari",
    "bianchi",
    "evans",
    "walker",
    "hughes",
    "clarke",
    "wright",
    "chen",
    "singh",
    "cohen",
    "okafor",
    "murphy",
    "obrien",
    "silva",
    "schmidt",
)
_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")
_AREA_CODES = {
    "NYC": ("212", "718", "646"),
    "BOS": ("617",),
    "CHI": ("312", "773"),
    "AUS": ("512",),
    "DEN": ("303",),
    "LA": ("310", "323"),
    "SF": ("415",),
    "SEA": ("206",),
}
_COUNTRY_PREFIX = {"US": "+1", "GB": "+44", "IT": "+39"}


# ------------------------------------------------------------------------------------------------
# Public API
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class DemoOrg:
    """A generated organization: its locations, geofences and events (nested API shape).

    `event_lines[i]` is one event as compact JSON bytes; `created_at[i]` (int64 epoch seconds
    UTC), `created_at_local[i]` (int64 epoch seconds of the local wall clock, for business-time
    order), `types[i]` and `contact_ids[i]` (object arrays of str) describe the same event, so
    a server can filter and sort without parsing JSON. `geofences` lists every circle (café
    circles carry their `locationId`, stand-alone ones None).
    """

    org_id: str
    name: str
    start: datetime
    end: datetime
    locations: list[dict]
    geofences: list[dict]
    event_lines: list[bytes]
    created_at: np.ndarray
    created_at_local: np.ndarray
    types: np.ndarray
    contact_ids: np.ndarray
    generated: str = field(default="")
    contacts: list[dict] = field(default_factory=list, repr=False)  # the Contacts endpoint's
    # campaign name -> (recipients the campaign brought into a store, recipients): SEEDED_UPLIFT
    brought: dict[str, tuple[int, int]] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.event_lines)

    def __repr__(self) -> str:  # short: the events themselves are far too many to print
        return (
            f"DemoOrg(name={self.name!r}, org_id={self.org_id!r}, events={len(self):,}, "
            f"locations={len(self.locations)}, start={self.start:%Y-%m-%dT%H:%M:%SZ}, "
            f"end={self.end:%Y-%m-%dT%H:%M:%SZ})"
        )

    def body(self, indices: Iterable[int] | slice | np.ndarray | None = None) -> bytes:
        """Return an events response body `{"generated", "count", "events"}` for chosen rows.

        `indices` may be None (every event), a slice, integer positions or a boolean mask.
        """
        lines = _select(self.event_lines, indices)
        head = b'{"generated":"%s","count":%d,"events":[' % (self.generated.encode(), len(lines))
        if len(lines) < 2:
            return head + b"".join(lines) + b"]}"
        # One join, so a large body is allocated once rather than copied for head and tail.
        return b",".join([head + lines[0], *lines[1:-1], lines[-1] + b"]}"])

    def locations_payload(self) -> dict:
        """Return the locations endpoint's answer `{generated, size, locations}`."""
        return {
            "generated": self.generated,
            "size": len(self.locations),
            "locations": copy.deepcopy(self.locations),
        }


def demo_size_from_env(default: int = DEFAULT_EVENTS) -> int:
    """Return the demo size from `C4W_DEMO_EVENTS` (e.g. "1000000" or "1_000_000")."""
    raw = os.environ.get(EVENTS_ENV, "").strip()
    if not raw:
        return default
    try:
        number = float(raw.replace("_", ""))
    except ValueError:
        number = math.nan
    if not number.is_integer():
        raise ValueError(f"{EVENTS_ENV} must be a whole number of events, got {raw!r}")
    value = int(number)
    if value < 0:
        raise ValueError(f"{EVENTS_ENV} must not be negative, got {raw!r}")
    return value


def build_demo(
    n_events: int | None = None,
    seed: int = 7,
    end: datetime | None = None,
    *,
    chain_seed: int | None = None,
) -> DemoOrg:
    """Generate the demo organization with `n_events` events over the 90 days before `end`.

    `n_events` None reads `C4W_DEMO_EVENTS` (default 150,000). `end` defaults to now (UTC)
    rounded down to the hour; a naive `end` is taken as UTC. The chain (organization, cafés,
    geofences, campaigns) comes from `chain_seed` (default `seed`), so demos of other seeds can
    be the same chain's other quarters. Same arguments, same bytes.
    """
    n = demo_size_from_env() if n_events is None else int(n_events)
    if n < 0:
        raise ValueError(f"n_events must not be negative, got {n}")
    if end is None:
        end = _this_hour()
    elif end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    end = end.astimezone(UTC).replace(microsecond=0)
    chain = _chain(seed if chain_seed is None else chain_seed)
    ctx = _clock(int(end.timestamp()), chain.zones)
    blocks, guests = _events_for_size(n, seed, chain, ctx)
    org = _assemble(blocks, n, seed, chain, ctx, end)
    if guests is not None:
        object.__setattr__(org, "contacts", _contacts(guests, blocks, org, seed, ctx))
        object.__setattr__(org, "brought", dict(guests.brought))
    return org


def _this_hour() -> datetime:
    """Now (UTC) rounded down to the hour: the default end of the demo's 90 days."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def demo_events_frame(n_events: int | None = None, *, use_disk_cache: bool = True) -> pd.DataFrame:
    """Return the canonical events frame of the demo organization (parsed like live data).

    The body goes through the parser in pages, as a live scroll would; the result equals
    `events_frame(build_demo(n_events).body())`, only quicker and without one huge body.
    The parsed frame is also kept on disk (Parquet, see `demo_cache_path`), so a restarted
    server shows its first page without generating and parsing the demo again.
    """
    import pandas as pd
    import pyarrow as pa

    n = demo_size_from_env() if n_events is None else int(n_events)
    end = _this_hour()
    path = demo_cache_path(n, end) if use_disk_cache else None
    if path is not None and path.exists():
        try:
            return pd.read_parquet(path)
        except (OSError, ValueError, pa.ArrowException):  # damaged file: rebuild it below
            path.unlink(missing_ok=True)
    frame = _parse_demo(build_demo(n, end=end))
    if path is not None:
        threading.Thread(target=_save_frame, args=(frame, path), daemon=True).start()
    return frame


def _parse_demo(org: DemoOrg) -> pd.DataFrame:
    from c4w.frame import pages_frame

    step = FRAME_PAGE_EVENTS
    pages = [org.body(slice(i, i + step)) for i in range(0, max(len(org), 1), step)]
    del org  # the pages hold the same bytes; free the lines before parsing
    return pages_frame(pages)


def demo_cache_path(n_events: int, end: datetime) -> Path | None:
    """Where the demo frame of this size and hour is kept, or None when no folder is writable.

    The name carries a fingerprint of the code that builds and parses the demo, so a changed
    generator or parser never serves an old frame.
    """
    folder = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "c4w-dashboard")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(folder, os.W_OK):
        return None
    hour = end.astimezone(UTC).strftime("%Y%m%dT%H")
    return folder / f"demo-{n_events}-{hour}-{_code_fingerprint()}.parquet"


@lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in ("demo.py", "frame.py", "schema.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:12]


def _save_frame(frame: pd.DataFrame, path: Path) -> None:
    """Write atomically (a half-written file is never read), then keep only the newest few."""
    try:
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
            frame.to_parquet(tmp.name, index=False)
        os.replace(tmp.name, path)
        cached = sorted(path.parent.glob("demo-*.parquet"), key=lambda p: p.stat().st_mtime)
        for old in cached[:-CACHE_KEEP]:
            old.unlink(missing_ok=True)
    except OSError:
        Path(tmp.name).unlink(missing_ok=True)


def demo_locations_frame() -> pd.DataFrame:
    """Return the demo organization's locations frame (`schema.LOCATION_COLUMNS`)."""
    from c4w.frame import locations_frame

    return locations_frame(_chain(7).locations_payload())


# ------------------------------------------------------------------------------------------------
# Static part: ids of the organization, cafés, hotspots, geofences, campaigns (depend on seed only)
# ------------------------------------------------------------------------------------------------


def _hex(rng: np.random.Generator, count: int, chars: int = 32) -> list[str]:
    """Return `count` random lowercase hex ids of `chars` characters."""
    if count <= 0:
        return []
    text = rng.bytes(count * chars // 2).hex()
    return [text[i : i + chars] for i in range(0, count * chars, chars)]


def _hex_bytes(rng: np.random.Generator, count: int, chars: int = 32) -> list[bytes]:
    """Like `_hex`, as ASCII bytes (events are rendered with bytes formatting, the fast kind)."""
    text = rng.bytes(count * chars // 2).hex().encode() if count > 0 else b""
    return [text[i : i + chars] for i in range(0, count * chars, chars)]


def _utf8(texts: Iterable[str]) -> np.ndarray:
    """An object array of the UTF-8 bytes of each text (for fancy-indexed lookups)."""
    encoded = [t.encode() for t in texts]
    out = np.empty(len(encoded), dtype=object)
    out[:] = encoded
    return out


def _compact(obj: object) -> str:
    """Return compact JSON text (UTF-8, not ASCII-escaped) for a static value."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def _jstr(text: str) -> str:
    """Return `text` as a JSON string literal, quotes included."""
    return json.dumps(text, ensure_ascii=False)


@dataclass(frozen=True, eq=False)
class _Chain:
    """Ids and pre-rendered JSON fragments that do not depend on the number of events."""

    org_id: str
    locations: list[dict]
    geofences: list[dict]
    zones: tuple[str, ...]
    cafe_zone: np.ndarray
    poi_zone: np.ndarray
    hotspot_first: np.ndarray  # where-index of each café's first hotspot
    hotspot_count: np.ndarray
    cafe_where: np.ndarray  # where-index of each café without hotspot
    cafe_geo_where: np.ndarray  # where-index of each café's circle geofence
    poi_where: np.ndarray
    where_json: np.ndarray  # object array of JSON texts (UTF-8 bytes)
    where_zone: np.ndarray
    app_properties: tuple[str, str]  # ios, android
    email_prefix: list[str]  # per email campaign (broadcasts, then welcome)
    sms_prefix: list[str]
    survey_prefix: list[str]
    survey_suffix: list[str]  # satisfaction combos 0..9, then drinks 10..13
    stadium_days: dict[int, np.ndarray]
    generated: str = ""

    def locations_payload(self) -> dict:
        return {
            "generated": self.generated,
            "size": len(self.locations),
            "locations": copy.deepcopy(self.locations),
        }


@lru_cache(maxsize=8)
def _chain(seed: int) -> _Chain:
    rng = np.random.default_rng([seed, 0xC4])
    org_id = _hex(rng, 1)[0]
    zones = tuple(sorted({c.timezone for c in CAFES} | {p[7] for p in POIS}))
    zone_index = {z: i for i, z in enumerate(zones)}
    loc_ids = _hex(rng, len(CAFES))
    locations = [
        {
            "id": loc_ids[i],
            "name": c.name,
            "lat": c.lat,
            "lng": c.lng,
            "timezone": c.timezone,
            "address": {
                "address": c.address,
                "city": c.city,
                "state": c.state,
                "zip": c.zip,
                "country": c.country,
            },
            "externalId": c.key,
            "tags": list(c.tags),
        }
        for i, c in enumerate(CAFES)
    ]
    where: list[str] = []
    where_zone: list[int] = []
    hotspot_first, hotspot_count, cafe_where = [], [], []
    for i, c in enumerate(CAFES):
        count = 2 + i % 2 + (c.kind == "flagship")
        hotspot_first.append(len(where))
        hotspot_count.append(count)
        for hotspot in _hex(rng, count):
            where.append(
                _compact({"locationId": loc_ids[i], "locationName": c.name, "hotspotId": hotspot})
            )
            where_zone.append(zone_index[c.timezone])
    for i, c in enumerate(CAFES):
        cafe_where.append(len(where))
        where.append(_compact({"locationId": loc_ids[i], "locationName": c.name}))
        where_zone.append(zone_index[c.timezone])
    geofences: list[dict] = []
    geo_ids = _hex(rng, len(CAFES) + len(POIS))
    cafe_geo_where, poi_where = [], []
    for i, c in enumerate(CAFES):
        # The circle sits on the entrance, a little off the building's point.
        bearing = rng.uniform(0, 2 * math.pi)
        shift = rng.uniform(0.05, 0.3) * c.radius
        lat = c.lat + shift * math.cos(bearing) / 111_320
        lon = c.lng + shift * math.sin(bearing) / (111_320 * math.cos(math.radians(c.lat)))
        geofences.append(
            {
                "id": geo_ids[i],
                "name": f"{c.name} geofence",
                "extId": c.key,
                "lat": round(lat, 6),
                "lon": round(lon, 6),
                "radius": c.radius,
                "timezone": c.timezone,
                "locationId": loc_ids[i],
            }
        )
    for j, (name, ext, _metro, _kind, lat, lon, radius, tz) in enumerate(POIS):
        geofences.append(
            {
                "id": geo_ids[len(CAFES) + j],
                "name": name,
                "extId": ext,
                "lat": lat,
                "lon": lon,
                "radius": radius,
                "timezone": tz,
                "locationId": None,
            }
        )
    for k, g in enumerate(geofences):
        (cafe_geo_where if k < len(CAFES) else poi_where).append(len(where))
        where.append(
            _compact(
                {
                    "geofenceName": g["name"],
                    "geofenceMetadata": [],
                    "geofenceId": g["id"],
                    "geofenceExtId": g["extId"],
                    "geofenceJSON": {
                        "type": "Circle",
                        "coordinates": [g["lon"], g["lat"]],
                        "radius": g["radius"],
                    },
                }
            )
        )
        where_zone.append(zone_index[g["timezone"]])
    app_id, project_id = _hex(rng, 2, 24)
    app_properties = tuple(
        _compact({"appId": app_id, "appBundle": APP_BUNDLE, "projectId": project_id, "appOs": os_})
        for os_ in ("ios", "android")
    )
    n_email = len(EMAIL_CAMPAIGNS) + 1
    email_ids = _hex(rng, n_email, 24)
    email_comms = _hex(rng, n_email, 24)
    email_names = [c[0] for c in EMAIL_CAMPAIGNS] + [WELCOME_EMAIL[0]]
    email_prefix = [
        f',"email":{{"campaignId":"{email_ids[k]}","communicationId":"{email_comms[k]}",'
        f'"channel":"email","campaignName":{_jstr(email_names[k])},'
        for k in range(n_email)
    ]
    sms_ids = _hex(rng, len(SMS_CAMPAIGNS), 24)
    sms_comms = _hex(rng, len(SMS_CAMPAIGNS), 24)
    sms_prefix = [
        f',"sms":{{"campaignId":"{sms_ids[k]}","communicationId":"{sms_comms[k]}",'
        f'"channel":"sms","campaignName":{_jstr(SMS_CAMPAIGNS[k][0])},'
        for k in range(len(SMS_CAMPAIGNS))
    ]
    survey_ids = _hex(rng, len(SURVEYS), 24)
    survey_prefix = [
        f',"survey":{{"campaignId":"{survey_ids[k]}","campaignName":{_jstr(name)},'
        for k, (name, _q) in enumerate(SURVEYS)
    ]
    satisfaction_q = _compact(SURVEYS[0][1])
    drinks_q = _compact(SURVEYS[1][1])
    survey_suffix = [
        f'","questions":{satisfaction_q},"answers":'
        + _compact({"answer_1": str(rating), "answer_2": yes})
        + "}"
        for rating in range(1, 6)
        for yes in ("no", "yes")
    ] + [
        f'","questions":{drinks_q},"answers":' + _compact({"answer_1": drink}) + "}"
        for drink in DRINKS
    ]
    stadium_days = {
        j: np.sort(rng.choice(np.arange(2, WINDOW_DAYS), size=13, replace=False))
        for j, poi in enumerate(POIS)
        if poi[3] == "stadium"
    }
    return _Chain(
        org_id=org_id,
        locations=locations,
        geofences=geofences,
        zones=zones,
        cafe_zone=np.array([zone_index[c.timezone] for c in CAFES]),
        poi_zone=np.array([zone_index[p[7]] for p in POIS]),
        hotspot_first=np.array(hotspot_first),
        hotspot_count=np.array(hotspot_count),
        cafe_where=np.array(cafe_where),
        cafe_geo_where=np.array(cafe_geo_where),
        poi_where=np.array(poi_where),
        where_json=_utf8(where),
        where_zone=np.array(where_zone),
        app_properties=app_properties,
        email_prefix=email_prefix,
        sms_prefix=sms_prefix,
        survey_prefix=survey_prefix,
        survey_suffix=survey_suffix,
        stadium_days=stadium_days,
    )


# ------------------------------------------------------------------------------------------------
# Time: UTC <-> local wall clock per zone through an hourly offset table built with zoneinfo
# ------------------------------------------------------------------------------------------------


class _Clock:
    """Window bounds, per-zone hourly UTC offsets, and day grids of local midnights."""

    def __init__(self, end_s: int, zones: tuple[str, ...]) -> None:
        self.end = end_s
        self.start = end_s - WINDOW_DAYS * DAY
        self.base = (self.start - 3 * DAY) // HOUR * HOUR
        hours = (self.end + 12 * DAY - self.base) // HOUR
        self.hours = int(hours)
        self.zones = zones
        self.offsets = np.array([_hourly_offsets(z, self.base, self.hours) for z in zones])
        # Local midnight (in local-epoch seconds) of window day 0, per zone.
        start_local = self.start + self.offsets[:, (self.start - self.base) // HOUR]
        self.day0 = start_local // DAY * DAY
        self.n_days = WINDOW_DAYS + 2
        first_day = self.base // DAY - 1
        self.date_base = first_day
        n_dates = (self.end + 14 * DAY) // DAY - first_day + 1
        self.dates = _utf8(
            (np.datetime64(int(first_day), "D") + np.arange(n_dates)).astype(str).tolist()
        )

    def offset(self, utc: np.ndarray, zone: np.ndarray) -> np.ndarray:
        """UTC offset in seconds of each instant in its zone."""
        idx = np.clip((utc - self.base) // HOUR, 0, self.hours - 1)
        return self.offsets[zone, idx]

    def to_local(self, utc: np.ndarray, zone: np.ndarray) -> np.ndarray:
        """Local wall-clock (as epoch seconds) of each UTC instant."""
        return utc + self.offset(utc, zone)

    def to_utc(self, local: np.ndarray, zone: np.ndarray) -> np.ndarray:
        """UTC instant of each local wall-clock time (a time in a DST gap moves by the gap)."""
        utc = local - self.offset(local, zone)
        return local - self.offset(utc, zone)

    def weekday(self, day: np.ndarray, zone: np.ndarray) -> np.ndarray:
        """Weekday (Monday 0) of window day `day` in `zone` (1970-01-01 was a Thursday)."""
        return (self.day0[zone] // DAY + day + 3) % 7

    def texts(self, seconds: np.ndarray) -> tuple[list[bytes], list[bytes]]:
        """Date texts (YYYY-MM-DD) and clock texts (HH:MM:SS) of epoch seconds, as bytes."""
        dates = self.dates[seconds // DAY - self.date_base].tolist()
        return dates, _clock_texts()[seconds % DAY].tolist()


@lru_cache(maxsize=4)
def _clock(end_s: int, zones: tuple[str, ...]) -> _Clock:
    return _Clock(end_s, zones)


def _hourly_offsets(zone: str, base: int, hours: int) -> np.ndarray:
    """UTC offset (s) at each hour from `base`; the zones used change offset on whole hours."""
    tz = ZoneInfo(zone)
    out = np.empty(hours, dtype=np.int64)
    for h in range(hours):
        off = datetime.fromtimestamp(base + h * HOUR, tz).utcoffset()
        out[h] = int(off.total_seconds()) if off is not None else 0
    return out


@lru_cache(maxsize=1)
def _clock_texts() -> np.ndarray:
    return _utf8(
        f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)
    )


# ------------------------------------------------------------------------------------------------
# Simulation
# ------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Block:
    """Events of one type: UTC seconds, contact index, where-index, and how to render them."""

    type: str
    t: np.ndarray
    contact: np.ndarray
    where: np.ndarray
    rank: int
    payload: str = ""
    columns: Callable[[np.ndarray], list[list]] | None = None
    geo: bool = False
    keep: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    campaign: list[str] | None = None  # sends only: the campaign name of each send


@dataclass(eq=False)
class _Guests:
    """One row per guest (contact); arrays are aligned by guest index."""

    count: int
    home: np.ndarray
    existing: np.ndarray
    rate: np.ndarray
    app: np.ndarray
    ios: np.ndarray
    email_ok: np.ndarray  # has an email and accepted marketing
    sms_ok: np.ndarray
    source: np.ndarray
    signup_t: np.ndarray  # UTC seconds; far past for guests who signed up before the window
    marketing: np.ndarray | None = None  # accepted marketing communications
    holdout: np.ndarray | None = None  # kept out of every campaign (a random share of consents)
    identity: dict[str, np.ndarray] = field(default_factory=dict)  # names, emails, phones
    brought: dict[str, tuple[int, int]] = field(default_factory=dict)  # see SEEDED_UPLIFT


_WIFI_VISIT_PAYLOAD = (
    ',"visit":{"startAt":"%sT%sZ","startAtLocal":"%sT%sZ","timezone":"%s","duration":%d}'
)

# Average events per guest at this mix, used for the first guess of the number of guests.
_EVENTS_PER_GUEST = 22.0
_CORE_SHARE = 0.88  # the rest are WiFi re-logins during visits, which make the count exact


def _events_for_size(
    n: int, seed: int, chain: _Chain, ctx: _Clock
) -> tuple[list[_Block], _Guests | None]:
    """Simulate enough guests for about 88% of `n` events, then fill to `n` with re-logins.
    Returns the event blocks and the guests they were simulated for.

    When a tiny `n` cannot be hit that way, more guests are simulated and only the earliest
    `n` events are kept (a prefix in time keeps every funnel and visit consistent).
    """
    if n == 0:
        return [], None
    guests = max(1, round(n * _CORE_SHARE / _EVENTS_PER_GUEST))
    blocks: list[_Block] = []
    simulated: _Guests | None = None
    attempts = 8
    for attempt in range(attempts):
        rng = np.random.default_rng([seed, 1, attempt])
        blocks, visits = _simulate(guests, rng, chain, ctx)
        simulated = visits["guests"]
        core = sum(int(b.keep.sum()) for b in blocks)
        settle = attempt >= attempts // 2
        if core <= n:
            fill = _relogins(n - core, rng, visits, ctx)
            if core + len(fill.t) == n and (core >= 0.8 * n or settle):
                return [*blocks, fill], simulated
            if core + len(fill.t) < n:  # no visit long enough to log in again: more guests
                guests = max(guests + 1, round(guests * _CORE_SHARE * n / max(core, 1)))
                continue
        elif settle:
            return blocks, simulated  # over by a little: the earliest n are kept
        guests = max(1, round(guests * _CORE_SHARE * n / max(core, 1)))
    return blocks, simulated


def _day_weights(chain: _Chain, ctx: _Clock) -> np.ndarray:
    """Relative traffic per café and window day: weekday rhythm, growth, closures, events."""
    n_cafes, nd = len(CAFES), ctx.n_days
    days = np.arange(nd)
    w = np.empty((n_cafes, nd))
    for i, c in enumerate(CAFES):
        wd = ctx.weekday(days, np.full(nd, chain.cafe_zone[i]))
        row = np.where(wd >= 5, c.weekend, 1.0)
        row = row * np.where(wd == 4, 1.1, 1.0) * np.where(wd == 0, 0.93, 1.0)
        if c.kind == "airport":
            row = np.where((wd == 4) | (wd == 6), 1.2, 1.0)
        row = row * (1.0 + 0.15 * days / nd)
        row[list(_DOUBLE_POINTS_DAYS)] *= 1.5
        if c.key == _RENOVATION[0]:
            row[list(_RENOVATION[1])] = 0.0
        if c.opens:
            row[: c.opens] = 0.0
            row[list(_GRAND_OPENING_DAYS)] *= 2.2
        w[i] = row
    return _store_trends(w)


# Loyalty and store stories: new guests drift away week by week (cohorts decay), one café grows
# and one shrinks in the last 30 days, and foot traffic past the cafés differs (walk-in share).
_STAY_ONCE = 0.35  # new guests who never come back
_WEEKLY_CHURN = 0.12  # of the others, the share who stop coming each week
_TREND_FROM_DAY = WINDOW_DAYS - 30
_STORE_TRENDS = {"DEN-001": 1.9, "SEA-001": 0.4}  # traffic factor over the last 30 days
_WALK_BY = {"NYC-002": 6.0, "LAX-001": 4.0, "NYC-001": 0.05, "CHI-001": 0.1}  # default 1


def _new_guest_until(count: int, first_day: np.ndarray, nd: int) -> np.ndarray:
    """The window day each new guest stops coming (exclusive): a share never returns, the rest
    leave after a geometric number of weeks. Its own random stream, so the rest is unchanged."""
    rng = np.random.default_rng([0x10, count])
    once = rng.random(count) < _STAY_ONCE
    weeks = rng.geometric(_WEEKLY_CHURN, count)
    until = np.where(once, first_day + 1, first_day + 1 + 7 * weeks)
    return np.minimum(until, nd)


def _store_trends(weights: np.ndarray) -> np.ndarray:
    """Day weights with the last 30 days of the trending cafés scaled up or down."""
    out = weights.copy()
    for i, c in enumerate(CAFES):
        out[i, _TREND_FROM_DAY:] *= _STORE_TRENDS.get(c.key, 1.0)
    return out


def _walk_by_factor() -> np.ndarray:
    """How many app users walk past each café without coming in, relative to the usual."""
    return np.array([_WALK_BY.get(c.key, 1.0) for c in CAFES])


def _sample_days(
    rng, cum: np.ndarray, place: np.ndarray, lo: np.ndarray, hi: np.ndarray | None = None
) -> np.ndarray:
    """Pick a day in [lo, hi) per row with the place's day weights; -1 when none is open."""
    days = np.full(len(place), -1, dtype=np.int64)
    nd = cum.shape[1] - 1
    hi = np.full(len(place), nd) if hi is None else np.minimum(hi, nd)
    for p in np.unique(place):
        m = place == p
        c = cum[p]
        lo_p, hi_p = np.minimum(lo[m], nd), hi[m]
        a, b = c[lo_p], c[np.maximum(hi_p, lo_p)]
        u = a + rng.random(int(m.sum())) * (b - a)
        d = np.clip(np.searchsorted(c, u, side="right") - 1, lo_p, np.maximum(hi_p - 1, 0))
        days[m] = np.where(b > a, d, -1)
    return days


def _closing_hour(profile: tuple[float, ...]) -> int:
    """The hour a place closes: one after the last hour with arrivals."""
    return max(h for h, w in enumerate(profile) if w > 0) + 1


def _sample_hours(rng, profiles: np.ndarray, which: np.ndarray) -> np.ndarray:
    """Seconds after local midnight, from hourly profiles (`profiles[which]` per row)."""
    out = np.empty(len(which), dtype=np.int64)
    cdf = np.cumsum(profiles, axis=1)
    cdf /= cdf[:, -1:]
    for k in np.unique(which):
        m = which == k
        hour = np.minimum(np.searchsorted(cdf[k], rng.random(int(m.sum())), side="right"), 23)
        out[m] = hour * HOUR
    return out + rng.integers(0, HOUR, len(which))


def _make_guests(count: int, rng, ctx: _Clock) -> _Guests:
    """Guests with a home café, a visit rate (occasional, regular, daily), app and consents."""
    weights = np.array([c.weight for c in CAFES])
    home = rng.choice(len(CAFES), size=count, p=weights / weights.sum())
    opens = np.array([c.opens for c in CAFES])
    existing = (rng.random(count) < 0.45) & (opens[home] == 0)
    segment = rng.choice(3, size=count, p=[0.5, 0.35, 0.15])
    rate = np.array([0.12, 0.55, 2.4])[segment] * rng.lognormal(0, 0.3, count)  # visits/week
    airport = np.array([c.kind == "airport" for c in CAFES])[home]
    rate = np.where(airport, np.where(rng.random(count) < 0.85, 0.03, 1.2), rate)
    app = rng.random(count) < 0.32
    ios = rng.random(count) < 0.58
    consent = rng.random(count) < 0.72
    email_ok = consent & (rng.random(count) < 0.92)
    sms_ok = consent & (rng.random(count) < 0.6)
    source = rng.choice(4, size=count, p=[0.82, 0.08, 0.04, 0.06])
    source = np.where((source == 3) & ~app, 0, source)
    signup_t = np.full(count, ctx.start - 400 * DAY, dtype=np.int64)
    guests = _Guests(count, home, existing, rate, app, ios, email_ok, sms_ok, source, signup_t)
    guests.marketing = consent
    # The holdout is drawn apart from the simulation's own stream of random numbers.
    holdout_draw = np.random.default_rng([count, 0x401D]).random(count)
    guests.holdout = consent & (holdout_draw < HOLDOUT_SHARE)
    return guests


def _simulate(count: int, rng, chain: _Chain, ctx: _Clock) -> tuple[list[_Block], dict]:
    """Simulate `count` guests; return event blocks (with `keep` = inside the window)."""
    g = _make_guests(count, rng, ctx)
    weights = _day_weights(chain, ctx)
    cum = np.concatenate([np.zeros((len(CAFES), 1)), np.cumsum(weights, axis=1)], axis=1)
    nd = ctx.n_days
    opens = np.array([c.opens for c in CAFES])
    kind_of = np.array([KINDS.index(c.kind) for c in CAFES])

    # First visit (new guests) and how many visits each guest makes.
    new = ~g.existing
    first_day = _sample_days(rng, cum, g.home, opens[g.home])
    new &= first_day >= 0
    # Half of the guests who signed up earlier drift away at some point of the window.
    until = np.where(g.existing & (rng.random(count) < 0.5), rng.integers(0, nd, count), nd)
    until = np.where(new, _new_guest_until(count, first_day, nd), until)
    weeks_left = np.where(new, (until - 1 - first_day) / 7, until / 7)
    extra = rng.poisson(g.rate * np.maximum(weeks_left, 0))
    n_visits = extra + new
    who = np.repeat(np.arange(count), n_visits)
    starts = np.cumsum(n_visits) - n_visits
    is_first = np.zeros(len(who), dtype=bool)
    is_first[starts[new]] = True
    weights_all = np.array([c.weight for c in CAFES])
    roam = rng.random(len(who)) < 0.08
    place = np.where(
        roam, rng.choice(len(CAFES), len(who), p=weights_all / weights_all.sum()), g.home[who]
    )
    place[is_first] = g.home[who[is_first]]
    lo = np.where(new[who], first_day[who] + 1, 0)
    lo = np.maximum(lo, opens[place])
    day = _sample_days(rng, cum, place, lo, until[who])
    day[is_first] = first_day[who[is_first]]
    ok = day >= 0
    who, place, day, is_first = who[ok], place[ok], day[ok], is_first[ok]
    zone = chain.cafe_zone[place]
    weekend = ctx.weekday(day, zone) >= 5
    profiles = np.array([_HOURLY[k][w] for k in KINDS for w in (0, 1)], dtype=float)
    tod = _sample_hours(rng, profiles, kind_of[place] * 2 + weekend)
    arrive = ctx.to_utc(ctx.day0[zone] + day * DAY + tod, zone)

    # Dwell: bounces, then a lognormal by kind; first visits last at least 5 minutes.
    nv = len(who)
    kind = kind_of[place]
    bounce_p = np.array([_DWELL[k][0] for k in KINDS])[kind]
    median = np.array([_DWELL[k][1] for k in KINDS])[kind]
    sigma = np.array([_DWELL[k][2] for k in KINDS])[kind]
    minutes = np.clip(np.rint(median * np.exp(sigma * rng.standard_normal(nv))), 5, 480)
    minutes = np.where(rng.random(nv) < bounce_p, rng.integers(1, 5, nv), minutes)
    minutes = np.where(is_first, np.maximum(minutes, 5), minutes)
    # Nobody stays past closing time (plus a few minutes to pack up).
    closing = np.array([[_closing_hour(_HOURLY[k][w]) for w in (0, 1)] for k in KINDS])
    last_minute = (closing[kind, weekend.astype(int)] * HOUR + 10 * MINUTE - tod) // MINUTE
    minutes = np.clip(minutes, 1, np.maximum(last_minute, 1)).astype(np.int64)
    leave = arrive + minutes * MINUTE + rng.integers(0, MINUTE, nv)
    hotspot = (
        chain.hotspot_first[place] + rng.integers(0, 1 << 30, nv) % (chain.hotspot_count[place])
    )
    cafe_where = chain.cafe_where[place]

    # Sign-ups on the first visit: WiFi portal, kiosk, or online a little before.
    first = np.flatnonzero(is_first)
    f_who = who[first]
    source = g.source[f_who]
    signup_delay = np.select(
        [source == 0, source == 1],
        [rng.integers(20, 90, len(first)), rng.integers(60, 300, len(first))],
        -rng.integers(HOUR, 72 * HOUR, len(first)),
    )
    signup_at = arrive[first] + signup_delay
    g.signup_t[f_who] = signup_at
    login = arrive + rng.integers(0, 8, nv)
    wifi_first = first[source == 0]
    login[wifi_first] = signup_at[source == 0] + rng.integers(1, 6, len(wifi_first))

    blocks: list[_Block] = []
    blocks.append(_Block("arriving", arrive, who, hotspot, 0))
    blocks.append(
        _Block(
            "signup",
            signup_at,
            f_who,
            np.where(source == 0, hotspot[first], cafe_where[first]),
            1,
            payload=',"signup":{"source":"%s"}',
            columns=_const_columns(_utf8(SIGNUP_SOURCES)[source]),
        )
    )
    blocks.append(_Block("login", login, who, hotspot, 2))

    # Promo clicks and surveys on the portal, during visits long enough for them.
    promo = np.flatnonzero((minutes >= 5) & (rng.random(nv) < 0.06))
    promo_type = rng.choice(len(PROMO_TYPES), len(promo), p=[0.45, 0.3, 0.15, 0.1])
    blocks.append(
        _Block(
            "promo",
            login[promo] + rng.integers(3, 40, len(promo)),
            who[promo],
            hotspot[promo],
            3,
            payload=',"promo":{"type":"%s"}',
            columns=_const_columns(_utf8(PROMO_TYPES)[promo_type]),
        )
    )
    blocks.append(_surveys(rng, who, place, day, login, minutes, hotspot, chain))

    blocks.append(
        _Block(
            "visit",
            leave,
            who,
            cafe_where,
            5,
            payload=_WIFI_VISIT_PAYLOAD,
            columns=_visit_columns(ctx, chain, arrive, zone, minutes),
        )
    )

    # The app: geofence arrivals and visits around cafés, walk-bys, and points of interest.
    blocks.extend(_geofence_blocks(rng, g, who, place, arrive, leave, cum, chain, ctx))

    # Marketing: welcome emails, broadcasts, SMS.
    blocks.extend(_campaign_blocks(rng, g, who, arrive, new, chain, ctx))
    blocks.extend(_campaign_visit_blocks(g, blocks, cum, chain, ctx))

    for b in blocks:
        b.keep = (b.t >= ctx.start) & (b.t < ctx.end)
    visits = {"who": who, "arrive": arrive, "login": login, "leave": leave, "hotspot": hotspot}
    visits["guests"] = g  # for the contacts (see _contacts)
    return blocks, visits


def _const_columns(values: np.ndarray) -> Callable[[np.ndarray], list[list]]:
    return lambda idx: [values[idx].tolist()]


def _visit_columns(
    ctx: _Clock,
    chain: _Chain,
    start: np.ndarray,
    zone: np.ndarray,
    minutes: np.ndarray,
    props: np.ndarray | None = None,
    with_duration: bool = True,
) -> Callable[[np.ndarray], list[list]]:
    """Template columns of a visit payload: start (UTC and local), zone, duration, properties."""
    zone_names = _utf8(chain.zones)

    def columns(idx: np.ndarray) -> list[list]:
        s, z = start[idx], zone[idx]
        du, tu = ctx.texts(s)
        dl, tl = ctx.texts(ctx.to_local(s, z))
        cols = [du, tu, dl, tl, zone_names[z].tolist()]
        if with_duration:
            cols.append(minutes[idx].tolist())
        if props is not None:
            cols.append(props[idx].tolist())
        return cols

    return columns


def _surveys(rng, who, place, day, login, minutes, hotspot, chain: _Chain) -> _Block:
    """Survey answers: satisfaction all along (the airport rates lower), drinks later on."""
    pick = np.flatnonzero((minutes >= 10) & (rng.random(len(who)) < 0.04))
    k = len(pick)
    airport = np.array([c.kind == "airport" for c in CAFES])[place[pick]]
    flagship = np.array([c.kind == "flagship" for c in CAFES])[place[pick]]
    mean = np.where(airport, 3.3, np.where(flagship, 4.4, 4.1))
    rating = np.clip(np.rint(mean + rng.normal(0, 0.8, k)), 1, 5).astype(np.int64)
    yes = rng.random(k) < np.where(rating >= 4, 0.9, 0.3)
    suffix = (rating - 1) * 2 + yes
    drinks = (day[pick] >= 45) & (rng.random(k) < 0.5)
    milan = np.array([c.key.startswith("MIL") for c in CAFES])[place[pick]]
    drink = np.where(milan & (rng.random(k) < 0.5), 2, rng.choice(4, k, p=[0.35, 0.3, 0.2, 0.15]))
    suffix = np.where(drinks, 10 + drink, suffix)
    campaign = drinks.astype(np.int64)
    prefix = _utf8(chain.survey_prefix)
    tail = _utf8(chain.survey_suffix)
    answer_ids = rng.bytes(12 * k).hex().encode()

    def columns(idx: np.ndarray) -> list[list]:
        ids = [answer_ids[24 * i : 24 * i + 24] for i in idx.tolist()]
        return [prefix[campaign[idx]].tolist(), ids, tail[suffix[idx]].tolist()]

    return _Block(
        "survey",
        login[pick] + rng.integers(60, 240, k),
        who[pick],
        hotspot[pick],
        4,
        payload='%s"answerId":"%s%s',
        columns=columns,
    )


def _geofence_blocks(
    rng, g: _Guests, who, place, arrive, leave, cum, chain: _Chain, ctx: _Clock
) -> list[_Block]:
    """geo_arriving / geo_visit pairs for guests with the app."""
    props = _utf8(chain.app_properties)
    # Around cafés, when the phone's app sees the guest walk in (a bit before the WiFi).
    seen = np.flatnonzero(g.app[who] & (rng.random(len(who)) < 0.55))
    g_who = [who[seen]]
    g_start = [arrive[seen] - rng.integers(30, 300, len(seen))]
    g_end = [leave[seen] + rng.integers(10, 400, len(seen))]
    g_fence = [place[seen]]
    # Walk-bys of the home café without stopping: short geofence visits, no WiFi.
    app_guests = np.flatnonzero(g.app & (g.rate > 0.2))  # regulars live or work nearby
    walks = rng.poisson(0.3 * ctx.n_days / 7 * _walk_by_factor()[g.home[app_guests]])
    w_who = np.repeat(app_guests, walks)
    w_place = g.home[w_who]
    opens = np.array([c.opens for c in CAFES])
    w_day = _sample_days(rng, cum, w_place, opens[w_place])
    ok = w_day >= 0
    w_who, w_place, w_day = w_who[ok], w_place[ok], w_day[ok]
    w_zone = chain.cafe_zone[w_place]
    w_tod = _sample_hours(
        rng, np.array([_HOURLY["cafe"][0]], dtype=float), np.zeros(len(w_who), dtype=np.int64)
    )
    w_start = ctx.to_utc(ctx.day0[w_zone] + w_day * DAY + w_tod, w_zone)
    g_who.append(w_who)
    g_start.append(w_start)
    g_end.append(w_start + rng.integers(MINUTE, 6 * MINUTE, len(w_who)))
    g_fence.append(w_place)
    # Points of interest in the guest's metro: game nights, the airport, malls.
    metro_of = np.array([c.metro for c in CAFES])[g.home]
    for j, (_name, _ext, metro, kind, *_rest) in enumerate(POIS):
        fans = np.flatnonzero(g.app & (metro_of == metro))
        zone = chain.poi_zone[j]
        if kind == "stadium":
            days = chain.stadium_days[j]
            go = rng.random((len(fans), len(days))) < 0.08
            p_who = np.repeat(fans, go.sum(axis=1))
            p_day = np.broadcast_to(days, go.shape)[go]
        else:
            rate = 0.1 if kind == "airport" else 0.3
            trips = rng.poisson(rate * ctx.n_days / 7, len(fans))
            p_who = np.repeat(fans, trips)
            p_day = rng.integers(0, ctx.n_days, len(p_who))
            if kind == "mall":  # weekends are busier: move a third of the trips to Saturday
                wd = ctx.weekday(p_day, np.full(len(p_day), zone))
                move = rng.random(len(p_day)) < 0.33
                p_day = np.minimum(np.where(move, p_day + (5 - wd) % 7, p_day), ctx.n_days - 1)
        hours = np.array([_POI_HOURS[kind]], dtype=float)
        tod = _sample_hours(rng, hours, np.zeros(len(p_who), dtype=np.int64))
        zones = np.full(len(p_who), zone)
        start = ctx.to_utc(ctx.day0[zones] + p_day * DAY + tod, zones)
        median, sigma = _POI_DWELL[kind]
        dwell = np.rint(median * 60 * np.exp(sigma * rng.standard_normal(len(p_who))))
        g_who.append(p_who)
        g_start.append(start)
        g_end.append(start + np.maximum(dwell, 2 * MINUTE).astype(np.int64))
        g_fence.append(np.full(len(p_who), len(CAFES) + j))
    c_who = np.concatenate(g_who)
    c_start = np.concatenate(g_start)
    c_end = np.concatenate(g_end)
    fence = np.concatenate(g_fence)
    where = np.concatenate([chain.cafe_geo_where, chain.poi_where])[fence]
    zone = chain.where_zone[where]
    minutes = (c_end - c_start) // MINUTE
    os_props = props[np.where(g.ios[c_who], 0, 1)]
    visit_payload = (
        ',"visit":{"startAt":"%sT%sZ","startAtLocal":"%sT%sZ","timezone":"%s",'
        '"duration":%d,"properties":%s}'
    )
    arrive_payload = (
        ',"visit":{"startAt":"%sT%sZ","startAtLocal":"%sT%sZ","timezone":"%s","properties":%s}'
    )
    return [
        _Block(
            "geo_arriving",
            c_start,
            c_who,
            where,
            0,
            payload=arrive_payload,
            geo=True,
            columns=_visit_columns(ctx, chain, c_start, zone, minutes, os_props, False),
        ),
        _Block(
            "geo_visit",
            c_end,
            c_who,
            where,
            5,
            payload=visit_payload,
            geo=True,
            columns=_visit_columns(ctx, chain, c_start, zone, minutes, os_props),
        ),
    ]


def _lognormal_lag(rng, median_s: float, sigma: float, size: int, cap: int) -> np.ndarray:
    lag = median_s * np.exp(sigma * rng.standard_normal(size))
    return np.clip(np.rint(lag), 5, cap).astype(np.int64)


def _campaign_blocks(rng, g: _Guests, who, arrive, new, chain: _Chain, ctx: _Clock) -> list[_Block]:
    """send/open/click emails and send/click SMS to guests who signed up before the send."""
    home_zone = chain.cafe_zone[g.home]
    home_where = chain.cafe_where[g.home]
    countries = np.array([c.country for c in CAFES])
    europe = np.isin(countries[g.home], ["GB", "IT"])
    # Last visit before each send, for the win-back audience.
    order = np.argsort(arrive, kind="stable")
    sends_t, sends_who, sends_comm = [], [], []
    for k, (_name, day, share, _o, _c, rule) in enumerate(EMAIL_CAMPAIGNS):
        local = ctx.day0[home_zone] + day * DAY + 10 * HOUR + rng.integers(0, 1800, g.count)
        send = ctx.to_utc(local, home_zone)
        eligible = g.email_ok & (g.signup_t < send) & ~g.holdout
        if rule == "europe":
            eligible &= europe | (rng.random(g.count) < 0.08)
        elif rule == "lapsed":
            last = np.full(g.count, ctx.start - 60 * DAY, dtype=np.int64)
            before = order[arrive[order] < ctx.start + day * DAY]
            np.maximum.at(last, who[before], arrive[before])
            eligible &= last < send - 30 * DAY
        chosen = np.flatnonzero(eligible & (rng.random(g.count) < share))
        sends_t.append(send[chosen])
        sends_who.append(chosen)
        sends_comm.append(np.full(len(chosen), k))
    # Welcome email a few minutes after each sign-up in the window.
    welcome = np.flatnonzero(new & g.email_ok & ~g.holdout & (g.signup_t >= ctx.start - DAY))
    sends_t.append(g.signup_t[welcome] + rng.integers(2 * MINUTE, 15 * MINUTE, len(welcome)))
    sends_who.append(welcome)
    sends_comm.append(np.full(len(welcome), len(EMAIL_CAMPAIGNS)))
    # Only sends inside the window, so every open and click in the data has its send.
    s_t, s_who, s_comm = _in_window(ctx, sends_t, sends_who, sends_comm)
    open_rate = np.array([c[3] for c in EMAIL_CAMPAIGNS] + [WELCOME_EMAIL[1]])
    click_rate = np.array([c[4] for c in EMAIL_CAMPAIGNS] + [WELCOME_EMAIL[2]])
    opened = np.flatnonzero(rng.random(len(s_t)) < open_rate[s_comm])
    o_t = s_t[opened] + _lognormal_lag(rng, 2.5 * HOUR, 1.1, len(opened), 6 * DAY)
    clicked = np.flatnonzero(rng.random(len(opened)) < click_rate[s_comm[opened]])
    c_t = o_t[clicked] + _lognormal_lag(rng, 60, 1.0, len(clicked), 2 * HOUR)
    emails = _emails(rng, g, chain)
    g.identity["email"] = emails
    prefix = _utf8(chain.email_prefix)

    def email_cols(comm: np.ndarray, whom: np.ndarray) -> Callable[[np.ndarray], list[list]]:
        return lambda idx: [prefix[comm[idx]].tolist(), emails[whom[idx]].tolist()]

    email_payload = '%s"email":"%s"}'
    o_who, o_comm = s_who[opened], s_comm[opened]
    c_who, c_comm = o_who[clicked], o_comm[clicked]
    blocks = [
        _Block(
            "send_email",
            s_t,
            s_who,
            home_where[s_who],
            6,
            email_payload,
            email_cols(s_comm, s_who),
            campaign=[_campaign_names()[0][k] for k in s_comm.tolist()],
        ),
        _Block(
            "open_email", o_t, o_who, home_where[o_who], 7, email_payload, email_cols(o_comm, o_who)
        ),
        _Block(
            "click_email",
            c_t,
            c_who,
            home_where[c_who],
            8,
            email_payload,
            email_cols(c_comm, c_who),
        ),
    ]
    # SMS at 4 pm local, clicks within minutes.
    phones, prefixes = _phones(rng, g)
    g.identity["phone"], g.identity["prefix"] = phones, prefixes
    sms_t, sms_who, sms_comm = [], [], []
    for k, (_name, day, share, _rate) in enumerate(SMS_CAMPAIGNS):
        local = ctx.day0[home_zone] + day * DAY + 16 * HOUR + rng.integers(0, 600, g.count)
        send = ctx.to_utc(local, home_zone)
        chosen = g.sms_ok & ~g.holdout & (g.signup_t < send) & (rng.random(g.count) < share)
        chosen = np.flatnonzero(chosen)
        sms_t.append(send[chosen])
        sms_who.append(chosen)
        sms_comm.append(np.full(len(chosen), k))
    m_t, m_who, m_comm = _in_window(ctx, sms_t, sms_who, sms_comm)
    sms_rate = np.array([c[3] for c in SMS_CAMPAIGNS])
    tapped = np.flatnonzero(rng.random(len(m_t)) < sms_rate[m_comm])
    t_t = m_t[tapped] + _lognormal_lag(rng, 6 * MINUTE, 1.2, len(tapped), 12 * HOUR)
    sms_prefix = _utf8(chain.sms_prefix)

    def sms_cols(comm: np.ndarray, whom: np.ndarray) -> Callable[[np.ndarray], list[list]]:
        return lambda idx: [
            sms_prefix[comm[idx]].tolist(),
            phones[whom[idx]].tolist(),
            prefixes[whom[idx]].tolist(),
        ]

    sms_payload = '%s"phone":"%s","prefix":"%s"}'
    t_who, t_comm = m_who[tapped], m_comm[tapped]
    blocks += [
        _Block(
            "send_sms",
            m_t,
            m_who,
            home_where[m_who],
            6,
            sms_payload,
            sms_cols(m_comm, m_who),
            campaign=[_campaign_names()[1][k] for k in m_comm.tolist()],
        ),
        _Block("click_sms", t_t, t_who, home_where[t_who], 8, sms_payload, sms_cols(t_comm, t_who)),
    ]
    return blocks


@lru_cache(maxsize=1)
def _campaign_names() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Email campaign names (broadcasts, then the welcome email) and SMS campaign names."""
    emails = tuple(c[0] for c in EMAIL_CAMPAIGNS) + (WELCOME_EMAIL[0],)
    return emails, tuple(c[0] for c in SMS_CAMPAIGNS)


def _campaign_visit_blocks(
    g: _Guests, blocks: list[_Block], cum: np.ndarray, chain: _Chain, ctx: _Clock
) -> list[_Block]:
    """The store visits the campaigns cause (``SEEDED_UPLIFT``): for each campaign, exactly
    round(uplift x recipients) recipients who had no WiFi or geofence visit starting in the
    ``UPLIFT_DAYS`` days after their send get one WiFi visit to their home café in those days.

    Drawn from a stream of random numbers of their own, so the rest of the demo stays the same.
    """
    rng = np.random.default_rng([g.count, 0xC4, 11])
    starts = [b for b in blocks if b.type in ("arriving", "geo_arriving")]
    who = np.concatenate([b.contact for b in starts] + [np.zeros(0, dtype=np.int64)])
    when = np.concatenate([b.t for b in starts] + [np.zeros(0, dtype=np.int64)])
    t0 = ctx.start - 500 * DAY
    keys = np.sort(who.astype(np.int64) << 32 | (when - t0).astype(np.int64))
    sends = [b for b in blocks if b.campaign is not None]
    by_campaign: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for b in sends:
        names = np.array(b.campaign, dtype=object)
        for name in dict.fromkeys(b.campaign):
            m = names == name
            by_campaign.setdefault(name, []).append((b.t[m], b.contact[m]))
    kind_of = np.array([KINDS.index(c.kind) for c in CAFES])
    profiles = np.array([_HOURLY[k][w] for k in KINDS for w in (0, 1)], dtype=float)
    closing = np.array([[_closing_hour(_HOURLY[k][w]) for w in (0, 1)] for k in KINDS])
    window = UPLIFT_DAYS * DAY
    out_who, out_arrive, out_minutes = [], [], []
    order = sorted(by_campaign, key=lambda n: min(int(t.min()) for t, _ in by_campaign[n]))
    for name in order:
        uplift = SEEDED_UPLIFT.get(name, 0.0)
        send_t = np.concatenate([t for t, _ in by_campaign[name]])
        send_who = np.concatenate([w for _, w in by_campaign[name]]).astype(np.int64)
        target = round(uplift * len(send_t))
        if target <= 0:
            continue
        lo = send_who << 32 | (send_t - t0 + 1)
        hi = send_who << 32 | (send_t - t0 + window)
        came = np.searchsorted(keys, hi, "right") - np.searchsorted(keys, lo, "left")
        # When the guest comes: a day after the send day, with the café's own day weights.
        place = g.home[send_who]
        zone = chain.cafe_zone[place]
        send_day = (ctx.to_local(send_t, zone) - ctx.day0[zone]) // DAY
        day = _sample_days(rng, cum, place, send_day + 1, send_day + UPLIFT_DAYS)
        weekend = ctx.weekday(np.maximum(day, 0), zone) >= 5
        tod = _sample_hours(rng, profiles, kind_of[place] * 2 + weekend)
        arrive = ctx.to_utc(ctx.day0[zone] + day * DAY + tod, zone)
        median = np.array([_DWELL[k][1] for k in KINDS])[kind_of[place]]
        sigma = np.array([_DWELL[k][2] for k in KINDS])[kind_of[place]]
        minutes = np.clip(np.rint(median * np.exp(sigma * rng.standard_normal(len(place)))), 5, 240)
        last = (closing[kind_of[place], weekend.astype(int)] * HOUR + 10 * MINUTE - tod) // MINUTE
        minutes = np.clip(minutes, 1, np.maximum(last, 1)).astype(np.int64)
        leave = arrive + minutes * MINUTE
        ok = (came == 0) & (day >= 0) & (arrive > send_t) & (arrive <= send_t + window)
        ok &= (leave < ctx.end) & (arrive >= ctx.start)
        candidates = np.flatnonzero(ok)
        pick = rng.choice(candidates, size=min(target, len(candidates)), replace=False)
        g.brought[name] = (len(pick), len(send_t))
        out_who.append(send_who[pick])
        out_arrive.append(arrive[pick])
        out_minutes.append(minutes[pick])
        new_keys = send_who[pick] << 32 | (arrive[pick] - t0)
        keys = np.sort(np.concatenate([keys, new_keys]))
    if not out_who:
        return []
    who_v = np.concatenate(out_who)
    arrive_v = np.concatenate(out_arrive)
    minutes_v = np.concatenate(out_minutes)
    place = g.home[who_v]
    zone = chain.cafe_zone[place]
    leave = arrive_v + minutes_v * MINUTE + rng.integers(0, MINUTE, len(who_v))
    hotspot = (
        chain.hotspot_first[place]
        + rng.integers(0, 1 << 30, len(who_v)) % (chain.hotspot_count[place])
    )
    return [
        _Block("arriving", arrive_v, who_v, hotspot, 0),
        _Block("login", arrive_v + rng.integers(0, 8, len(who_v)), who_v, hotspot, 2),
        _Block(
            "visit",
            leave,
            who_v,
            chain.cafe_where[place],
            5,
            payload=_WIFI_VISIT_PAYLOAD,
            columns=_visit_columns(ctx, chain, arrive_v, zone, minutes_v),
        ),
    ]


def _in_window(ctx: _Clock, times: list, *parts: list) -> tuple[np.ndarray, ...]:
    """Concatenate send times and their aligned parts, keeping sends from the window start on."""
    t = np.concatenate(times)
    inside = t >= ctx.start
    return (t[inside], *(np.concatenate(p)[inside] for p in parts))


def _emails(rng, g: _Guests, chain: _Chain) -> np.ndarray:
    """Plausible fake addresses on example domains, one per guest."""
    first = np.array(_FIRST, dtype=object)[rng.integers(0, len(_FIRST), g.count)]
    last = np.array(_LAST, dtype=object)[rng.integers(0, len(_LAST), g.count)]
    number = rng.integers(1, 999, g.count)
    style = rng.integers(0, 3, g.count)
    domain = np.array(_DOMAINS, dtype=object)[rng.integers(0, len(_DOMAINS), g.count)]
    g.identity["first"], g.identity["last"] = first, last
    out = [
        (f"{f}.{la}" if s == 0 else f"{f}{la}{n}" if s == 1 else f"{f[0]}.{la}{n}") + "@" + d
        for f, la, n, s, d in zip(
            first.tolist(),
            last.tolist(),
            number.tolist(),
            style.tolist(),
            domain.tolist(),
            strict=True,
        )
    ]
    return _utf8(out)


def _phones(rng, g: _Guests) -> tuple[np.ndarray, np.ndarray]:
    """Fictional numbers: US 555-01xx, UK 07700 900xxx, Italian 3xx 555 xxxx; with prefixes."""
    metro = np.array([c.metro for c in CAFES])[g.home].tolist()
    country = np.array([c.country for c in CAFES])[g.home].tolist()
    pick = rng.integers(0, 1 << 30, g.count).tolist()
    tail = rng.integers(0, 10_000, g.count).tolist()
    phones, prefixes = [], []
    for m, c, p, t in zip(metro, country, pick, tail, strict=True):
        if c == "US":
            codes = _AREA_CODES[m]
            phones.append(f"{codes[p % len(codes)]}55501{t % 100:02d}")
        elif c == "GB":
            phones.append(f"7700900{t % 1000:03d}")
        else:
            phones.append(f"3{20 + p % 80:02d}555{t:04d}")
        prefixes.append(_COUNTRY_PREFIX[c])
    return _utf8(phones), _utf8(prefixes)


def _relogins(k: int, rng, visits: dict, ctx: _Clock) -> _Block:
    """`k` extra WiFi logins during visits (devices re-authenticate), more in longer visits."""
    lo = np.maximum(visits["login"] + 30, ctx.start)
    hi = np.minimum(visits["leave"], ctx.end) - 1
    room = np.maximum(hi - lo, 0).astype(float)
    if k <= 0 or room.sum() <= 0:
        empty = np.zeros(0, dtype=np.int64)
        return _Block("login", empty, empty, empty, 2, keep=np.zeros(0, dtype=bool))
    pick = rng.choice(len(room), size=k, p=room / room.sum())
    t = lo[pick] + (rng.random(k) * room[pick]).astype(np.int64)
    return _Block(
        "login", t, visits["who"][pick], visits["hotspot"][pick], 2, keep=np.ones(k, dtype=bool)
    )


# ------------------------------------------------------------------------------------------------
# Rendering: one compact JSON line per event, sorted by createdAt
# ------------------------------------------------------------------------------------------------

_CHUNK = 16_384  # rows rendered at a time: small buffers are reused, not re-mapped


def _assemble(
    blocks: list[_Block], n: int, seed: int, chain: _Chain, ctx: _Clock, end: datetime
) -> DemoOrg:
    rng = np.random.default_rng([seed, 2])
    kept = [np.flatnonzero(b.keep) for b in blocks]
    t = np.concatenate([b.t[k] for b, k in zip(blocks, kept, strict=True)] + [np.zeros(0, int)])
    rank = np.concatenate(
        [np.full(len(k), b.rank) for b, k in zip(blocks, kept, strict=True)] + [np.zeros(0, int)]
    )
    order = np.lexsort((rank, t))[:n]
    total = len(t)
    contact_count = 1 + max((int(b.contact.max()) for b in blocks if len(b.contact)), default=0)
    contact_texts = _hex(rng, contact_count)
    contact_ids = np.empty(contact_count, dtype=object)
    contact_ids[:] = contact_texts
    contact_bytes = _utf8(contact_texts)
    zone_names = _utf8(chain.zones)
    lines: list[bytes] = []
    types: list[np.ndarray] = []
    who_all: list[np.ndarray] = []
    local_all: list[np.ndarray] = []
    for b, idx in zip(blocks, kept, strict=True):
        org = "" if b.geo else f'"organizationId":"{chain.org_id}",'
        template = (
            "{"
            + org
            + '"customerId":"%s","event":{"type":"'
            + b.type
            + '","id":"%s'
            + ("g" if b.geo else "l")
            + '"'
            + b.payload
            + '},"where":%s,"when":{"createdAt":'
            '"%sT%sZ","createdAtLocal":"%sT%sZ","timezone":"%s"}}'
        ).encode()
        for lo in range(0, len(idx), _CHUNK):
            part = idx[lo : lo + _CHUNK]
            ts, whom, where = b.t[part], b.contact[part], b.where[part]
            zone = chain.where_zone[where]
            local = ctx.to_local(ts, zone)
            du, tu = ctx.texts(ts)
            dl, tl = ctx.texts(local)
            extra = b.columns(part) if b.columns is not None else []
            cols = [
                contact_bytes[whom].tolist(),
                _hex_bytes(rng, len(part)),
                *extra,
                chain.where_json[where].tolist(),
                du,
                tu,
                dl,
                tl,
                zone_names[zone].tolist(),
            ]
            lines.extend(map(template.__mod__, zip(*cols, strict=True)))
            who_all.append(whom)
            local_all.append(local)
        types.append(np.full(len(idx), b.type, dtype=object))
    if total:
        every = np.empty(len(lines), dtype=object)
        every[:] = lines
        del lines
        ordered = every[order].tolist()
        contacts = contact_ids[np.concatenate(who_all)][order]
        local_t = np.concatenate(local_all)[order]
        type_arr = np.concatenate(types)[order]
    else:
        ordered, contacts = [], np.zeros(0, dtype=object)
        local_t, type_arr = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    generated = end.strftime("%Y-%m-%dT%H:%M:%SZ")
    return DemoOrg(
        org_id=chain.org_id,
        name=BRAND,
        start=end - timedelta(days=WINDOW_DAYS),
        end=end,
        locations=copy.deepcopy(chain.locations),
        geofences=copy.deepcopy(chain.geofences),
        event_lines=ordered,
        created_at=t[order].astype(np.int64),
        created_at_local=local_t.astype(np.int64),
        types=type_arr,
        contact_ids=contacts,
        generated=generated,
    )


def _contacts(g: _Guests, blocks: list[_Block], org: DemoOrg, seed: int, ctx: _Clock) -> list[dict]:
    """The Contacts endpoint's answer for the demo: one contact per guest who signed up, with
    the name and email their campaign events carry, a phone (the one their SMS go to), the
    marketing consent the campaigns obey, and visit metrics from their events."""
    count = 1 + max((int(b.contact.max()) for b in blocks if len(b.contact)), default=-1)
    ids = _hex(np.random.default_rng([seed, 2]), count)  # the same ids as in _assemble
    rng = np.random.default_rng([seed, 3])  # contact-only details, apart from the events
    signed = (g.existing | (g.signup_t >= ctx.start - 3 * DAY))[:count]
    before = ctx.start - rng.integers(DAY, 400 * DAY, count)
    created = np.where(g.signup_t[:count] >= ctx.start - 3 * DAY, g.signup_t[:count], before)
    has_phone = g.sms_ok[:count] | (rng.random(count) < 0.4)
    has_email = g.email_ok[:count] | ~g.marketing[:count]
    visits = org.types == "visit"
    index = {c: i for i, c in enumerate(ids)}
    visit_guest = np.array([index[c] for c in org.contact_ids[visits].tolist()], dtype=np.int64)
    n_visits = np.bincount(visit_guest, minlength=count)
    last_visit = np.full(count, -1, dtype=np.int64)
    np.maximum.at(last_visit, visit_guest, org.created_at[visits])
    ident = g.identity
    out = []
    for i in np.flatnonzero(signed).tolist():
        phone = f"{ident['prefix'][i].decode()} {ident['phone'][i].decode()}"
        out.append(
            {
                "id": ids[i],
                "firstName": str(ident["first"][i]).title(),
                "lastName": str(ident["last"][i]).title().replace("Obrien", "O'Brien"),
                "email": ident["email"][i].decode() if has_email[i] else None,
                "phone": phone if has_phone[i] else None,
                "created": _iso_seconds(int(created[i])),
                "signupMethod": SIGNUP_SOURCES[int(g.source[i])],
                "policies": [
                    {"name": "privacy", "accepted": True},
                    {"name": "termsOfUse", "accepted": True},
                    {"name": "mktgCommunications", "accepted": bool(g.marketing[i])},
                ],
                "metrics": {
                    "countTotalVisits": int(n_visits[i]),
                    "lastVisitDateUtc": _iso_seconds(int(last_visit[i]))
                    if last_visit[i] >= 0
                    else None,
                },
            }
        )
    return out


def _iso_seconds(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def demo_contacts_frame(n_events: int | None = None) -> pd.DataFrame:
    """The demo organization's contacts frame (``c4w.contacts.CONTACT_COLUMNS``), for the
    demo of the same size and hour as ``demo_events_frame``."""
    from c4w.contacts import contacts_frame

    n = demo_size_from_env() if n_events is None else int(n_events)
    return contacts_frame(build_demo(n, end=_this_hour()).contacts)


def _select(lines: list[bytes], indices) -> list[bytes]:
    if indices is None:
        return lines
    if isinstance(indices, slice):
        return lines[indices]
    arr = np.asarray(indices)
    if arr.dtype == bool:
        arr = np.flatnonzero(arr)
    return [lines[i] for i in arr.tolist()]
