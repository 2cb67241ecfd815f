"""What the dashboard's words mean, in the marketer's words (the sidebar's glossary)."""

from __future__ import annotations

from c4w.metrics.overview import RETURNING_LOOKBACK_DAYS
from c4w.metrics.visits import DEFAULT_BOUNCE_MIN

GLOSSARY: tuple[tuple[str, str], ...] = (
    (
        "WiFi login",
        "A guest connecting to your guest WiFi (each connection counts, also the same guest "
        "twice a day).",
    ),
    (
        "WiFi visit",
        "A guest's stay at a store, from arriving to leaving, measured by the WiFi; it is "
        "counted when the guest leaves and has a length in minutes.",
    ),
    (
        "WiFi arrival",
        "The moment the WiFi sees a guest arrive at a store, before the visit has a length.",
    ),
    (
        "Geofence visit",
        "A stay of an app user inside a geofence (a circle drawn on the map, around a store or "
        "elsewhere), seen by your mobile app, not by the WiFi. A geofence arrival is the moment "
        "they entered it.",
    ),
    (
        "Returning",
        "A visit by a guest who had visited before, on a different day, within the "
        f"{RETURNING_LOOKBACK_DAYS} days before. A second visit on the same day is not "
        "returning.",
    ),
    (
        "Dwell",
        "How long a visit lasted, in minutes. The median dwell is the typical length: half the "
        "visits were shorter, half longer.",
    ),
    (
        "Bounce",
        f"A visit shorter than the bounce threshold ({DEFAULT_BOUNCE_MIN:g} minutes unless you "
        "change it on the Visits page): someone who came in and left almost at once. A lower "
        "bounce rate is better.",
    ),
    (
        "Guests",
        "People who were in a store or used your app in the dates: a WiFi login, visit or "
        "arrival, or a geofence visit or arrival.",
    ),
    (
        "Contacts reached",
        "People you sent an email or SMS to in the dates, whether or not they came in. After a "
        "big email send this number jumps while Guests stays the same.",
    ),
    (
        "Dates (UTC) and local time",
        "The dates in the sidebar are whole days in UTC, the same for every store, so the "
        "numbers of all stores add up. Charts of hours and weekdays use each store's own local "
        "time, so 9 am means 9 am at that store.",
    ),
    (
        "Change figure",
        "The small figure under a number: its change against the comparison chosen in the "
        "sidebar. Green is good news for that figure (more visits, a lower bounce rate). It is "
        "left out when the history does not hold the days compared.",
    ),
)


def glossary_markdown() -> str:
    """The glossary as short Markdown paragraphs, one per word."""
    return "\n\n".join(f"**{term}**: {meaning}" for term, meaning in GLOSSARY)
