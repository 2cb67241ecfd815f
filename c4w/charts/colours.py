"""One colour per location, the same on every page and at every date range.

A location's colour comes from its place in the account's list of locations (sorted by id),
never from how busy it is in the dates shown, so Flatiron keeps its colour when the ranking
changes. A place the account's list does not hold (a geofence, a location renamed or gone)
gets a colour from its name, also stable. "Other ..." groups are grey.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping

import pandas as pd

OTHER_COLOUR = "#9E9E9E"
# Distinct, calm colours (Tableau 20 without its greys), dark and light of each hue apart.
PLACE_COLOURS = (
    "#4C78A8",
    "#F58518",
    "#54A24B",
    "#E45756",
    "#72B7B2",
    "#B279A2",
    "#EECA3B",
    "#9D755D",
    "#FF9DA6",
    "#2F4B7C",
    "#A05195",
    "#D45087",
    "#665191",
    "#F95D6A",
    "#FFA600",
    "#003F5C",
    "#7A5195",
    "#488F31",
    "#DE425B",
    "#1F77B4",
)


def place_colour(name: str) -> str:
    """The colour of a place the account's list does not hold: fixed by its name."""
    if str(name).startswith("Other"):
        return OTHER_COLOUR
    return PLACE_COLOURS[zlib.crc32(str(name).encode("utf-8")) % len(PLACE_COLOURS)]


def location_colour(location_id: str, account_ids: Iterable[str]) -> str:
    """The colour of location ``location_id``: its position among ``account_ids`` (all the
    account's location ids, in any order), so it never depends on the dates or the ranking."""
    ordered = sorted({str(i) for i in account_ids})
    try:
        return PLACE_COLOURS[ordered.index(str(location_id)) % len(PLACE_COLOURS)]
    except ValueError:
        return place_colour(location_id)


def location_colours(locations: pd.DataFrame | None) -> dict[str, str]:
    """Colour by location id and by location name, for every location of the account
    (``locations`` has ``id`` and ``name`` columns, as ``ctx.locations``)."""
    if locations is None or locations.empty or "id" not in locations:
        return {}
    ids = locations["id"].astype(str).tolist()
    names = locations["name"].tolist() if "name" in locations else ids
    out: dict[str, str] = {}
    for loc_id, name in zip(ids, names, strict=True):
        colour = location_colour(loc_id, ids)
        out[loc_id] = colour
        if isinstance(name, str) and name.strip():
            out.setdefault(name, colour)
    return out


def colour_of(name: str, colours: Mapping[str, str] | None) -> str:
    """The colour of series ``name``: from ``colours`` (see ``location_colours``), else fixed by
    the name; "Other ..." series are grey."""
    if str(name).startswith("Other"):
        return OTHER_COLOUR
    if colours and name in colours:
        return colours[name]
    return place_colour(name)
