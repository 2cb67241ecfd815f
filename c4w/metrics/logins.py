"""Logins: WiFi logins over time by location (local time), top locations, logins per guest.

A login is a `login` event (a WiFi authentication). Times are the location's local wall clock
(`created_at_local`), so "9 am" and "Monday" mean what the store staff see. Weeks start on
Monday. Everything is computed with numpy over category codes; inputs are never modified.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from c4w import formatting, schema
from c4w.metrics.overview import (
    NAT_NS,
    NS_PER_DAY,
    NS_PER_HOUR,
    Kpi,
    codes_and_labels,
    empty_table,
    place_codes,
    time_ns,
    type_mask,
)

EVENT_TYPES = (schema.LOGIN,)  # every function here looks at these rows only
COLUMNS_READ: tuple[str, ...] = (  # ... and these columns only
    schema.TYPE,
    schema.CONTACT_ID,
    schema.CREATED_AT,
    schema.CREATED_AT_LOCAL,
    schema.LOCATION_ID,
    schema.LOCATION_NAME,
)
GRANULARITIES = ("hour", "day", "week")
UNKNOWN_LOCATION = "Unknown location"
OTHER_LOCATIONS = "Other locations"

LOGINS_HELP = "WiFi logins in the period (login events), repeat logins included."
LOGIN_CONTACTS_HELP = "Distinct guests with at least one WiFi login in the period."
LOGINS_PER_CONTACT_HELP = (
    "WiFi logins divided by the distinct guests who logged in (logins with no guest id left out)."
)
LOGIN_LOCATIONS_HELP = "Locations (and unknown-location logins as one) with at least one login."
LOGIN_TIMELINE_HELP = "WiFi logins per hour, day or week (local time; weeks start on Monday)."
TOP_LOCATIONS_HELP = "Locations ranked by WiFi logins, with their distinct guests."
LOGIN_FREQUENCY_HELP = "How many guests logged in once, twice, ... in the period."


def _period_start(time_ns_: np.ndarray, granularity: str) -> tuple[np.ndarray, int]:
    """Start of the hour/day/week holding each time, and the period length (ns)."""
    if granularity == "hour":
        return time_ns_ // NS_PER_HOUR * NS_PER_HOUR, NS_PER_HOUR
    day = time_ns_ // NS_PER_DAY
    if granularity == "day":
        return day * NS_PER_DAY, NS_PER_DAY
    if granularity == "week":
        monday = day - (day + 3) % 7  # 1970-01-01 was a Thursday
        return monday * NS_PER_DAY, 7 * NS_PER_DAY
    raise ValueError(f"granularity must be one of {GRANULARITIES}, not {granularity!r}")


def _login_locations(events: pd.DataFrame, rows: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Location code of each chosen login and the location names."""
    return place_codes(events, rows, schema.LOCATION_ID, schema.LOCATION_NAME, UNKNOWN_LOCATION)


def login_rows(events: pd.DataFrame) -> pd.DataFrame:
    """The login events behind the Logins view (all canonical columns)."""
    return events.loc[type_mask(events, (schema.LOGIN,))]


def login_count(events: pd.DataFrame) -> int:
    """How many rows `login_rows` gives, without making them."""
    return int(type_mask(events, (schema.LOGIN,)).sum())


def login_timeline(
    events: pd.DataFrame,
    granularity: str = "day",
    top_n: int | None = None,
    others: bool = True,
) -> pd.DataFrame:
    """Logins per hour (each location's local time), or per UTC day or week (Monday), and
    location: columns period, location, logins.

    Days and weeks are the sidebar's UTC days, so a day table holds exactly the chosen days and
    adds up to the Logins tile; hours are local, to show each store's own busy hours. Every
    period from the first to the last login is listed for every location (0 when none), so gaps
    show. Locations come most logins first; with `top_n`, the rest are summed as "Other
    locations" (listed last), or left out when `others` is False. Logins without the time used
    are left out. Empty input gives an empty frame.
    """
    columns = {"period": "datetime64[ns]", "location": "str", "logins": "int64"}
    column = schema.CREATED_AT_LOCAL if granularity == "hour" else schema.CREATED_AT
    when = time_ns(events[column])
    rows = type_mask(events, (schema.LOGIN,)) & (when != NAT_NS)
    if not rows.any():
        _period_start(np.zeros(0, dtype=np.int64), granularity)  # still checks the argument
        return empty_table(columns)
    period, step = _period_start(when[rows], granularity)
    location, names = _login_locations(events, rows)
    totals = np.bincount(location, minlength=len(names))
    ranked = np.lexsort((np.array(names, dtype=object).astype(str), -totals))
    if top_n is not None and len(names) > top_n:
        keep = ranked[:top_n]
        slot = np.full(len(names), len(keep), dtype=np.int64)  # the rest: "Other" slot
        slot[keep] = np.arange(len(keep))
        labels = [names[i] for i in keep] + [OTHER_LOCATIONS]
    else:
        slot = np.empty(len(names), dtype=np.int64)
        slot[ranked] = np.arange(len(ranked))
        labels = [names[i] for i in ranked]
    first = period.min()
    n_periods = int((period.max() - first) // step) + 1
    n_loc = len(labels)
    offset = (period - first) // step
    counts = np.bincount(offset * n_loc + slot[location], minlength=n_periods * n_loc)
    starts = (first + np.arange(n_periods, dtype=np.int64) * step).astype("datetime64[ns]")
    table = pd.DataFrame(
        {
            "period": np.repeat(starts, n_loc),
            "location": pd.Series(np.tile(np.array(labels, dtype=object), n_periods), dtype="str"),
            "logins": counts.astype(np.int64),
        }
    )
    if not others and labels[-1] == OTHER_LOCATIONS and top_n is not None and top_n < len(names):
        table = table.loc[table["location"] != OTHER_LOCATIONS].reset_index(drop=True)
    return table


def login_timeline_table(timeline: pd.DataFrame, granularity: str = "day") -> pd.DataFrame:
    """`login_timeline` for download, in the user's words: the period (an ISO UTC day for days
    and weeks, "2024-03-04 09:00" local time for hours), Location, WiFi logins."""
    if granularity == "hour":
        period = pd.Series(
            pd.to_datetime(timeline["period"]).dt.strftime("%Y-%m-%d %H:%M"), dtype="str"
        )
        name = "Hour starting (local time)"
    else:
        period = formatting.iso_days(timeline["period"])
        name = "Week starting (Monday, UTC)" if granularity == "week" else "Day (UTC)"
    return pd.DataFrame(
        {
            name: period.to_numpy(),
            "Location": timeline["location"].to_numpy(),
            "WiFi logins": timeline["logins"].to_numpy(),
        }
    )


def top_locations(events: pd.DataFrame, n: int | None = None) -> pd.DataFrame:
    """Locations by logins: location, logins, contacts (distinct guests), logins_per_contact,
    share (of all logins). Most logins first; `n` keeps the first n. Empty input, empty frame.
    """
    rows = type_mask(events, (schema.LOGIN,))
    location, names = _login_locations(events, rows)
    contact, contact_labels = codes_and_labels(events[schema.CONTACT_ID], rows)
    n_loc = len(names)
    logins = np.bincount(location, minlength=n_loc)
    known = contact >= 0
    pairs = pd.unique(location[known] * max(len(contact_labels), 1) + contact[known])
    contacts = np.bincount(pairs // max(len(contact_labels), 1), minlength=n_loc)
    logins_known = np.bincount(location[known], minlength=n_loc)
    table = pd.DataFrame(
        {
            "location": pd.Series(names, dtype="str"),
            "logins": logins.astype(np.int64),
            "contacts": contacts.astype(np.int64),
            "logins_per_contact": np.where(
                contacts > 0, logins_known / np.maximum(contacts, 1), np.nan
            ),
            "share": logins / max(int(logins.sum()), 1),
        }
    )
    table = table.sort_values(["logins", "location"], ascending=[False, True], ignore_index=True)
    return table if n is None else table.head(n)


def login_kpis(events: pd.DataFrame, previous: pd.DataFrame | None = None) -> list[Kpi]:
    """The Logins view's headline numbers, each with its value over `previous` (the previous
    period of equal length; empty or None: no comparison)."""

    def figures(frame: pd.DataFrame | None) -> dict[str, float | None]:
        if frame is None or frame.empty:
            return dict.fromkeys(("logins", "contacts", "per_contact", "locations"))
        result = logins_per_contact(frame)
        rows = type_mask(frame, (schema.LOGIN,))
        return {
            "logins": result.logins,
            "contacts": result.contacts,
            "per_contact": result.per_contact,
            "locations": len(_login_locations(frame, rows)[1]) if rows.any() else 0,
        }

    now, before = figures(events), figures(previous)
    if events.empty:
        now.update(logins=0, contacts=0, locations=0)
    spec = (
        ("logins", "WiFi logins", LOGINS_HELP, "count"),
        ("contacts", "Guests who logged in", LOGIN_CONTACTS_HELP, "count"),
        ("per_contact", "Logins per guest", LOGINS_PER_CONTACT_HELP, "ratio"),
        ("locations", "Locations with logins", LOGIN_LOCATIONS_HELP, "count"),
    )
    return [Kpi(key, label, now[key], before[key], text, unit) for key, label, text, unit in spec]


@dataclass(frozen=True)
class LoginsPerContact:
    """Logins, distinct guests who logged in, and logins that carry no guest id."""

    logins: int
    contacts: int
    without_contact: int

    @property
    def per_contact(self) -> float | None:
        """Logins with a guest id per distinct guest; None when nobody logged in."""
        if not self.contacts:
            return None
        return (self.logins - self.without_contact) / self.contacts


def logins_per_contact(events: pd.DataFrame) -> LoginsPerContact:
    """Count logins and the distinct guests behind them."""
    rows = type_mask(events, (schema.LOGIN,))
    contact, labels = codes_and_labels(events[schema.CONTACT_ID], rows)
    known = contact[contact >= 0]
    distinct = int(np.count_nonzero(np.bincount(known, minlength=len(labels))))
    return LoginsPerContact(int(rows.sum()), distinct, int(len(contact) - len(known)))


def login_frequency(events: pd.DataFrame, cap: int = 10) -> pd.DataFrame:
    """Guests by how many times they logged in: logins ("1", "2", ..., "10+"), contacts, share.

    Guests with `cap` or more logins share the last row. Empty input gives an empty frame.
    """
    columns = {"logins": "str", "contacts": "int64", "share": "float64"}
    rows = type_mask(events, (schema.LOGIN,))
    contact, labels = codes_and_labels(events[schema.CONTACT_ID], rows)
    per_guest = np.bincount(contact[contact >= 0], minlength=len(labels))
    per_guest = per_guest[per_guest > 0]
    if len(per_guest) == 0:
        return empty_table(columns)
    cap = max(int(cap), 2)
    counts = np.bincount(np.minimum(per_guest, cap), minlength=cap + 1)[1:]
    names = [str(i) for i in range(1, cap)] + [f"{cap}+"]
    return pd.DataFrame(
        {
            "logins": pd.Series(names, dtype="str"),
            "contacts": counts.astype(np.int64),
            "share": counts / len(per_guest),
        }
    )
