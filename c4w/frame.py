"""The canonical events frame: Cloud4Wi events (nested or flat shape) -> one typed row per event.

Every view reads events through `events_frame`, so it must be right on hostile data and quick at
a million events. Each response body goes through two stages:

1. extraction into "raw" columns (texts and numbers as the API sent them). The fast path hands the
   whole body to pyarrow's JSON reader with an explicit schema and flattens the resulting columns;
   when pyarrow refuses the body (a wrong type anywhere, a lone surrogate, ...) the same columns
   are read in pure Python, which never refuses anything. Both follow one table of source paths.
   `pages_frame(..., reader="duckdb")` reads whole fetches with DuckDB's JSON reader instead,
   every value's type tested so the same rules hold; it is measured slower than pyarrow
   (`bench/ingest.py`), so it is not the default.
2. one shared, column-wise step that parses times, derives local wall clocks, sets the
   `data_problems` bits and builds the pandas frame (repeated texts as categories).

A row is never dropped: an unusable value becomes null and its problem bit is set.

Rules, applied the same way everywhere:
- `created_at` is `createdAt` (UTC). `created_at_local` is the wall clock written in
  `createdAtLocal` (its misleading `Z` dropped); when that is missing or unreadable it is derived
  from `createdAt` in the event's zone. Both known but different: the written wall clock is kept
  and the row gets PROBLEM_LOCAL_TIME_MISMATCH (the vendor's own example has one such signup).
- `timezone` is `when.timezone`, else the visit's. `visit_start` / `visit_start_local` follow the
  same rule with `startAt` / `startAtLocal` and the visit's zone.
- Texts that are not ISO-8601 times, or years outside 1900-2199, are unreadable times.
- An empty event id or contact id counts as missing.
- A value is taken from the nested shape (`event.visit`) first, then the flat one (`visit`).
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
import tempfile
import zoneinfo
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from c4w import schema as s

Payload = bytes | bytearray | memoryview | str | dict | list


# --- where each raw value comes from -----------------------------------------------------------
# A value is the first non-null one among its source paths (nested shape first, then flat).
def _in_event_part(part: str, leaf: str) -> tuple[tuple[str, ...], ...]:
    """Paths of `leaf` in an event part, nested shape (`event.part`) first, then flat (`part`)."""
    return (("event", part, leaf), (part, leaf))


def _in_campaign(leaf: str) -> tuple[tuple[str, ...], ...]:
    """Paths of a campaign field: the email part, then the sms part, then the survey part."""
    return sum((_in_event_part(part, leaf) for part in ("email", "sms", "survey")), ())


TEXT_SOURCES: dict[str, tuple[tuple[str, ...], ...]] = {
    s.EVENT_ID: (("event", "id"), ("id",)),
    s.TYPE: (("event", "type"), ("type",)),
    s.CONTACT_ID: (("customerId",),),
    s.ORGANIZATION_ID: (("organizationId",),),
    "created_at_text": (("when", "createdAt"), ("createdAt",)),
    "created_at_local_text": (("when", "createdAtLocal"), ("createdAtLocal",)),
    s.TIMEZONE: (("when", "timezone"), ("timezone",)),
    s.LOCATION_ID: (("where", "locationId"),),
    s.LOCATION_NAME: (("where", "locationName"),),
    s.HOTSPOT_ID: (("where", "hotspotId"),),
    s.GEOFENCE_ID: (("where", "geofenceId"),),
    s.GEOFENCE_NAME: (("where", "geofenceName"),),
    s.GEOFENCE_EXT_ID: (("where", "geofenceExtId"),),
    s.GEOFENCE_SHAPE: (("where", "geofenceJSON", "type"),),
    "visit_start_text": _in_event_part("visit", "startAt"),
    "visit_start_local_text": _in_event_part("visit", "startAtLocal"),
    "visit_timezone": _in_event_part("visit", "timezone"),
    s.APP_OS: (("event", "visit", "properties", "appOs"), ("visit", "properties", "appOs")),
    s.SIGNUP_SOURCE: _in_event_part("signup", "source"),
    s.CAMPAIGN_ID: _in_campaign("campaignId"),
    s.CAMPAIGN_NAME: _in_campaign("campaignName"),
    s.COMMUNICATION_ID: _in_campaign("communicationId"),
    s.CHANNEL: _in_campaign("channel"),
    s.EMAIL: _in_event_part("email", "email"),
    s.PHONE: _in_event_part("sms", "phone"),
    s.PHONE_PREFIX: _in_event_part("sms", "prefix"),
    s.PROMO_TYPE: _in_event_part("promo", "type"),
}
NUMBER_SOURCES: dict[str, tuple[tuple[str, ...], ...]] = {
    s.GEOFENCE_RADIUS_M: (("where", "geofenceJSON", "radius"),),
    s.VISIT_DURATION_MIN: _in_event_part("visit", "duration"),
}
COORDINATES_SOURCE = ("where", "geofenceJSON", "coordinates")
ANSWERS_SOURCES = _in_event_part("survey", "answers")

RAW_TEXT_COLUMNS = (*TEXT_SOURCES, s.SURVEY_ANSWERS)
RAW_NUMBER_COLUMNS = (s.GEOFENCE_LON, s.GEOFENCE_LAT, *NUMBER_SOURCES)
RAW_SCHEMA = pa.schema(
    [(name, pa.string()) for name in RAW_TEXT_COLUMNS]
    + [(name, pa.float64()) for name in RAW_NUMBER_COLUMNS]
    + [(s.DATA_PROBLEMS, pa.uint16())]
)

# Columns kept as pandas categories (repeated values); event_id stays a string column.
CATEGORY_COLUMNS = tuple(
    name
    for name in s.EVENT_COLUMNS
    if name not in (s.EVENT_ID, s.DATA_PROBLEMS, *s.FLOAT_COLUMNS)
    and name not in (*s.UTC_TIME_COLUMNS, *s.LOCAL_TIME_COLUMNS)
)

_UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_NAT = np.iinfo(np.int64).min
_NS = 1_000_000_000
# Times outside these years are treated as unreadable (and stay inside pandas' ns range).
_FIRST_SECOND = -2_208_988_800  # 1900-01-01T00:00:00Z
_END_SECOND = 7_258_118_400  # 2200-01-01T00:00:00Z
_EPOCH = datetime(1970, 1, 1)


# The raw row of an event that is not a JSON object: all null, flagged.
_NOT_AN_OBJECT = (None,) * (len(RAW_SCHEMA) - 1) + (s.PROBLEM_MALFORMED,)


class _NeedsPython(Exception):
    """The fast path cannot read this body exactly; read it in pure Python instead."""


# --- public API ---------------------------------------------------------------------------------
def events_frame(payload: Payload) -> pd.DataFrame:
    """One row per event of `payload`, columns `schema.EVENT_COLUMNS` with the contract dtypes.

    `payload` is a response body (bytes or str), a parsed body (dict with `events`) or a list of
    raw events, in the nested or the flat shape (or both). Events are never dropped: unusable
    values become null and the row's `data_problems` bits say why. Raises `ValueError` only when
    the payload itself is unreadable (not JSON, or no `events` list).
    """
    return columns_to_frame(page_columns(payload))


def pages_frame(
    pages: Iterable[Payload], workers: int | None = None, reader: str = "pyarrow"
) -> pd.DataFrame:
    """One frame over many payloads (e.g. every page of a scroll), rows in page order.

    Same result as `concat_frames([events_frame(p) for p in pages])`, but pages are read on
    `workers` threads (default: up to 4, one per core; pyarrow and numpy release the GIL) and
    the categories are built once, so this is the quick way to turn a whole fetch into a frame.
    `reader="duckdb"` extracts the bodies with DuckDB's JSON reader instead (same frame, every
    value's type tested; `bench/ingest.py` measures it slower than pyarrow, so it is not the
    default).
    """
    pages = list(pages)
    workers = workers or min(4, os.cpu_count() or 1)
    if reader == "duckdb":
        rows = _duckdb_rows(pages, workers)

        def read(k: int) -> pa.Table:
            if rows[k] is None:
                return page_columns(pages[k])
            return _canonical(_duckdb_page(rows[k]))

        items: Sequence = range(len(pages))
    elif reader == "pyarrow":
        read, items = page_columns, pages
    else:
        raise ValueError(f"unknown reader {reader!r}: 'pyarrow' or 'duckdb'")
    if workers > 1 and len(pages) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            tables = list(pool.map(read, items))
    else:
        tables = [read(item) for item in items]
    if not tables:
        return empty_events_frame()
    return columns_to_frame(pa.concat_tables(tables))


def empty_events_frame() -> pd.DataFrame:
    """A frame with no rows and every canonical column in its contract dtype."""
    return columns_to_frame(_canonical(RAW_SCHEMA.empty_table()))


def concat_frames(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Stack events frames (e.g. pages) into one, keeping category columns as categories.

    `pandas.concat` turns categories into plain objects when their category lists differ; here
    the lists are unioned. The inputs are not modified.
    """
    frames = [frame for frame in frames]
    if not frames:
        return empty_events_frame()
    columns = list(frames[0].columns)
    if any(list(frame.columns) != columns for frame in frames[1:]):
        return _concat_mismatched(frames)
    data = {}
    for name in columns:
        parts = [frame[name] for frame in frames]
        if all(isinstance(part.dtype, pd.CategoricalDtype) for part in parts):
            data[name] = _concat_categories(parts)
        else:
            data[name] = pd.concat(parts, ignore_index=True)
    return pd.DataFrame(data, columns=columns, copy=False)


def data_quality_report(df: pd.DataFrame) -> pd.DataFrame:
    """How many rows of `df` carry each data problem: columns `problem` (label), `rows`.

    Only problems found are listed, in the order of `schema.PROBLEM_LABELS`; a clean frame gives
    an empty report. `df` is not modified.
    """
    problems = df[s.DATA_PROBLEMS].to_numpy(dtype=np.uint16) if len(df) else np.zeros(0, np.uint16)
    rows = [
        (label, int(np.count_nonzero(problems & bit))) for bit, label in s.PROBLEM_LABELS.items()
    ]
    report = pd.DataFrame([r for r in rows if r[1] > 0], columns=["problem", "rows"])
    return report.astype({"problem": "str", "rows": "int64"})


def locations_frame(payload: Payload) -> pd.DataFrame:
    """The organization's locations as `schema.LOCATION_COLUMNS` (lat/lng floats, tags as text).

    `payload` is the locations endpoint's body (bytes/str), its parsed dict (with `locations`)
    or the list of items. An item with a wrong shape keeps its row with nulls.
    """
    items = _items(payload, "locations")
    rows = [_location_row(item) for item in items]
    frame = pd.DataFrame(rows, columns=list(s.LOCATION_COLUMNS))
    dtypes = {name: "str" for name in s.LOCATION_COLUMNS}
    dtypes.update(lat="float64", lng="float64")
    return frame.astype(dtypes)


# --- stage 1: raw columns -----------------------------------------------------------------------
def page_columns(payload: Payload) -> pa.Table:
    """The canonical columns (as arrow) of one payload: stack several with
    ``pa.concat_tables`` and turn them into one frame with ``columns_to_frame``, so category
    lists are built once for a whole fetch."""
    return _canonical(_raw_table(payload))


def _raw_table(payload: Payload) -> pa.Table:
    """Raw columns of every event of one payload (fast path first, pure Python if refused)."""
    if isinstance(payload, str):
        try:
            payload = payload.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: only Python's JSON reader copes
            return _python_raw(_items(payload, "events"))
    if isinstance(payload, bytes | bytearray | memoryview):
        body = bytes(payload)
        try:
            return _arrow_raw(body)
        except _NeedsPython:
            return _python_raw(_items(body, "events"))
    return _python_raw(_items(payload, "events"))


def _items(payload: Payload, key: str) -> list:
    """The items under `key` of a body, parsed body or list; ValueError when there are none."""
    if isinstance(payload, bytes | bytearray | memoryview | str):
        try:
            payload = json.loads(payload)
        except (ValueError, RecursionError) as exc:
            kind = exc.__class__.__name__
            raise ValueError(f"the response body is not valid JSON ({kind})") from None
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        if key not in payload:
            raise ValueError(f"the response has no {key!r} list")
        items = payload[key]
        if items is None:
            return []
        if isinstance(items, list):
            return items
        raise ValueError(f"the response's {key!r} is not a list")
    raise ValueError(f"cannot read events from a {type(payload).__name__}")


# pure Python extraction --------------------------------------------------------------------------
def _python_raw(events: Sequence[Any]) -> pa.Table:
    """Raw columns read event by event; never refuses a value (wrong types become null)."""
    rows = [_python_row(event) for event in events]
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(RAW_SCHEMA)
    arrays = []
    for values, field in zip(columns, RAW_SCHEMA, strict=True):
        try:
            arrays.append(pa.array(values, type=field.type))
        except (UnicodeEncodeError, pa.ArrowException):  # lone surrogates in a text
            arrays.append(pa.array([_clean_text(v) for v in values], type=field.type))
    return pa.Table.from_arrays(arrays, schema=RAW_SCHEMA)


def _clean_text(value: str | None) -> str | None:
    """A text that can be stored as UTF-8 (lone surrogates replaced)."""
    if value is None:
        return None
    return value.encode("utf-8", "replace").decode("utf-8")


def _python_row(event: Any) -> tuple:
    """One event's raw values in `RAW_SCHEMA` order, with the shape problems it showed."""
    if not isinstance(event, dict):
        return _NOT_AN_OBJECT
    problems = 0
    parts: dict[tuple[str, ...], dict | None] = {(): event}

    def part(path: tuple[str, ...]) -> dict | None:
        nonlocal problems
        if path not in parts:
            parent = part(path[:-1])
            value = None if parent is None else parent.get(path[-1])
            if value is not None and not isinstance(value, dict):
                problems |= s.PROBLEM_MALFORMED
                value = None
            parts[path] = value
        return parts[path]

    def first(paths: tuple[tuple[str, ...], ...], accept, bad_bit: int) -> Any:
        nonlocal problems
        for path in paths:
            holder = part(path[:-1])
            value = None if holder is None else holder.get(path[-1])
            if value is None:
                continue
            if accept(value):
                return value
            problems |= bad_bit
        return None

    texts = [first(paths, _is_text, s.PROBLEM_MALFORMED) for paths in TEXT_SOURCES.values()]
    answers, bad_answers = _survey_answers(
        [first((p,), lambda v: True, 0) for p in ANSWERS_SOURCES]
    )
    if bad_answers:
        problems |= s.PROBLEM_MALFORMED
    texts.append(answers)
    radius = first(NUMBER_SOURCES[s.GEOFENCE_RADIUS_M], _is_number, s.PROBLEM_MALFORMED)
    duration = first(NUMBER_SOURCES[s.VISIT_DURATION_MIN], _is_number, s.PROBLEM_BAD_DURATION)
    lon = lat = None
    coordinates = first((COORDINATES_SOURCE,), lambda v: True, 0)
    if coordinates is not None:
        if _is_pair(coordinates):
            lon, lat = _as_float(coordinates[0]), _as_float(coordinates[1])
        if lon is None or lat is None:
            lon = lat = None
            problems |= s.PROBLEM_MALFORMED
    radius_number = _as_float(radius)
    if radius is not None and radius_number is None:
        problems |= s.PROBLEM_MALFORMED
    duration_number = _as_float(duration)
    if duration is not None and duration_number is None:
        problems |= s.PROBLEM_BAD_DURATION
    return (*texts, lon, lat, radius_number, duration_number, problems)


def _is_text(value: Any) -> bool:
    return isinstance(value, str)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_pair(value: Any) -> bool:
    """A [lon, lat] list of two numbers."""
    return isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value)


def _as_float(value: Any) -> float | None:
    """A JSON number as float; None for anything else (including ints too big for a float)."""
    if not _is_number(value):
        return None
    try:
        return float(value)
    except OverflowError:
        return None


def _natural_key(key: str) -> list:
    """Sort key that puts answer_2 before answer_10 (digit runs compared as numbers)."""
    pieces = re.split(r"(\d+)", key)
    return [(len(p.lstrip("0")), p.lstrip("0"), p) if i % 2 else p for i, p in enumerate(pieces)]


def _survey_answers(values: Sequence[Any]) -> tuple[str | None, bool]:
    """The answers text from the values at ANSWERS_SOURCES (first object with an answer wins),
    and whether a value that should have been an object was something else."""
    answers, bad = None, False
    for value in values:
        if value is None or answers is not None:
            continue
        if isinstance(value, dict):
            answers = _answers_text(value)
        else:
            bad = True
    return answers, bad


def _answers_text(answers: dict) -> str | None:
    """Survey answers joined as "answer_1: x; answer_2: y" (keys in natural order, nulls skipped).

    Texts are kept as they are, whole numbers and booleans as JSON writes them; other values
    (fractions, lists, objects) as compact JSON. None when there is no answer.
    """
    pieces = []
    for key in sorted(answers, key=_natural_key):
        value = answers[key]
        if value is None:
            continue
        if isinstance(value, str):
            text = value
        elif isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int):
            text = str(value)
        else:
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        pieces.append(f"{key}: {text}")
    return "; ".join(pieces) or None


# pyarrow extraction ------------------------------------------------------------------------------
def _schema_tree() -> dict:
    """Nested dict of every source path, leaves holding their arrow types."""
    tree: dict = {}

    def add(path: tuple[str, ...], leaf_type: pa.DataType) -> None:
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = leaf_type

    for paths in TEXT_SOURCES.values():
        for path in paths:
            add(path, pa.string())
    for paths in NUMBER_SOURCES.values():
        for path in paths:
            add(path, pa.float64())
    add(COORDINATES_SOURCE, pa.list_(pa.float64()))
    for path in ANSWERS_SOURCES:  # the part itself; answers' keys are free, so inferred
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
    return tree


def _struct(tree: dict) -> pa.StructType:
    return pa.struct(
        [(key, _struct(value) if isinstance(value, dict) else value) for key, value in tree.items()]
    )


EVENT_SCHEMA = _struct(_schema_tree())
BODY_SCHEMA = pa.schema([("events", pa.list_(EVENT_SCHEMA))])
# Most bodies hold only nested events: a schema without the flat keys parses quicker.
_NESTED_KEYS = ("organizationId", "customerId", "event", "where", "when")
FLAT_KEYS = tuple(field.name for field in EVENT_SCHEMA if field.name not in _NESTED_KEYS)
NESTED_BODY_SCHEMA = pa.schema(
    [("events", pa.list_(pa.struct([f for f in EVENT_SCHEMA if f.name in _NESTED_KEYS])))]
)


@functools.cache
def _parse_options(flat: bool, newlines_in_values: bool) -> pa_json.ParseOptions:
    """JSON reader options: explicit types for every field read, the others inferred.

    Inference is needed for the survey answers (free keys); it also shows whether a body holds
    flat-shape keys, which the nested schema does not declare.
    """
    return pa_json.ParseOptions(
        explicit_schema=BODY_SCHEMA if flat else NESTED_BODY_SCHEMA,
        newlines_in_values=newlines_in_values,
        unexpected_field_behavior="infer",
    )


def _read_body(body: bytes, flat: bool) -> pa.StructArray:
    """The events of one body as a struct array; _NeedsPython when pyarrow refuses it.

    The body is one JSON object, so it is read as a single row (a block as large as the body)
    whose `events` column is a list of structs.
    """
    options = _parse_options(flat, b"\n" in body or b"\r" in body)
    read = pa_json.ReadOptions(use_threads=False, block_size=max(len(body) + 64, 1 << 16))
    try:
        table = pa_json.read_json(pa.BufferReader(body), read_options=read, parse_options=options)
    except (pa.ArrowException, OverflowError) as exc:
        raise _NeedsPython from exc
    events = table.column("events")
    if table.num_rows != 1 or events.num_chunks != 1 or events.null_count:
        raise _NeedsPython  # no `events`, or more than one object: let Python say what it is
    return events.chunk(0).flatten()


def _arrow_raw(body: bytes) -> pa.Table:
    """Raw columns of one response body through pyarrow's JSON reader; _NeedsPython if refused."""
    if body[:64].lstrip()[:1] != b"{" or len(body) > 2**31 - 64:
        raise _NeedsPython
    items = _read_body(body, flat=False)
    if any(items.type.get_field_index(key) >= 0 for key in FLAT_KEYS):
        items = _read_body(body, flat=True)  # flat-shape keys present: declare them too
    parts: dict[tuple[str, ...], pa.Array] = {(): items}

    def part(path: tuple[str, ...]) -> pa.Array:
        if path not in parts:
            holder = part(path[:-1])
            if holder.type.get_field_index(path[-1]) < 0:  # a flat key the body does not use
                parts[path] = pa.nulls(len(items), _leaf_type(path))
            else:
                parts[path] = pc.struct_field(holder, path[-1])
        return parts[path]

    def first(paths: tuple[tuple[str, ...], ...]) -> pa.Array:
        arrays = [part(path) for path in paths]
        arrays = [a for a in arrays if a.null_count < len(a)] or arrays[:1]
        return arrays[0] if len(arrays) == 1 else pc.coalesce(*arrays)

    problems = np.where(items.is_null().to_numpy(zero_copy_only=False), s.PROBLEM_MALFORMED, 0)
    columns = [first(paths) for paths in TEXT_SOURCES.values()]
    columns.append(_arrow_answers(part, len(items)))
    lon, lat, bad_pair = _arrow_coordinates(part(COORDINATES_SOURCE))
    problems |= np.where(bad_pair, s.PROBLEM_MALFORMED, 0)
    columns += [lon, lat]
    columns += [first(paths).cast(pa.float64()) for paths in NUMBER_SOURCES.values()]
    columns.append(pa.array(problems.astype(np.uint16)))
    return pa.Table.from_arrays(columns, schema=RAW_SCHEMA)


def _leaf_type(path: tuple[str, ...]) -> pa.DataType:
    """The declared arrow type at a path of EVENT_SCHEMA."""
    node: pa.DataType = EVENT_SCHEMA
    for key in path:
        node = node.field(key).type
    return node


def _arrow_answers(part, n: int) -> pa.Array:
    """Survey answers as text from the inferred `answers` structs (first survey part with any)."""
    texts = []
    for path in ANSWERS_SOURCES:
        holder = part(path[:-1])
        if holder.type.get_field_index(path[-1]) < 0:
            continue
        answers = pc.struct_field(holder, path[-1])
        if not pa.types.is_struct(answers.type):
            raise _NeedsPython  # answers that are not objects: Python flags them
        pieces = []
        for field in sorted(answers.type, key=lambda f: _natural_key(f.name)):
            values = pc.struct_field(answers, field.name)
            if pa.types.is_null(field.type):
                continue
            if not (
                pa.types.is_string(field.type)
                or pa.types.is_int64(field.type)
                or pa.types.is_boolean(field.type)
            ):
                raise _NeedsPython  # fractions, lists, objects, times: written by Python
            values = values.cast(pa.string())
            piece = pc.binary_join_element_wise(f"{field.name}: ", values, "; ", "")
            pieces.append(piece.fill_null(""))
        if pieces:
            # every present piece ends with "; ": join, then cut the last separator
            text = pc.utf8_slice_codeunits(pc.binary_join_element_wise(*pieces, ""), 0, -2)
            texts.append(pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text))
    if not texts:
        return pa.nulls(n, pa.string())
    return texts[0] if len(texts) == 1 else pc.coalesce(*texts)


def _arrow_coordinates(coordinates: pa.Array) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """lon and lat from `[lon, lat]` lists, and where a list was present but not a pair."""
    n = len(coordinates)
    present = coordinates.is_valid().to_numpy(zero_copy_only=False)
    if not present.any():
        empty = pa.nulls(n, pa.float64())
        return empty, empty, np.zeros(n, bool)
    offsets = coordinates.offsets.to_numpy()
    values = coordinates.values.to_numpy(zero_copy_only=False).astype(np.float64)
    pair = present & (np.diff(offsets) == 2)
    first_index = np.where(pair, offsets[:-1], 0)
    lon = np.where(pair, values[first_index] if len(values) else np.nan, np.nan)
    lat = np.where(pair, values[first_index + 1] if len(values) > 1 else np.nan, np.nan)
    bad = present & ~pair
    return pa.array(lon, mask=~pair), pa.array(lat, mask=~pair), bad


# DuckDB extraction -------------------------------------------------------------------------------
# DuckDB reads many bodies at once on all cores, but its casts are lenient (`5` read as the text
# '5', `true` as the number 1.0, `"5"` as the number 5.0). So every value is read as JSON text and
# its type tested here, and a value of the wrong type gives null and the same problem bit as in
# Python. A part that is not an object where one belongs (or a duplicate key, a lone surrogate)
# makes DuckDB refuse the body, as pyarrow does, and the body goes to the paths above.
# A JSON text tells its value's type by its first character: `"` a text, `{` an object, `[` a
# list, t/f/n true, false, null, anything else a number. Testing that is much quicker than
# DuckDB's json_type, and a text without a backslash is its own value between the quotes.
_NOT_NUMBERS = "('\"', '{', '[', 't', 'f', 'n')"


def _json_tree() -> dict:
    """Nested dict of every source path DuckDB reads; each leaf is read as JSON."""
    tree: dict = {}
    leaves = [path for paths in TEXT_SOURCES.values() for path in paths]
    leaves += [path for paths in NUMBER_SOURCES.values() for path in paths]
    for path in (*leaves, COORDINATES_SOURCE, *ANSWERS_SOURCES):
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = "JSON"
    return tree


def _duckdb_type(tree: dict) -> str:
    fields = ", ".join(
        f'"{key}" {_duckdb_type(value) if isinstance(value, dict) else value}'
        for key, value in tree.items()
    )
    return f"STRUCT({fields})"


def _leaf(path: tuple[str, ...]) -> str:
    """SQL of the JSON text at `path` of the event `e` (NULL when missing or null)."""
    return "CAST(e" + "".join(f"['{key}']" for key in path) + " AS VARCHAR)"


_TEXT_PATHS = tuple(dict.fromkeys(path for paths in TEXT_SOURCES.values() for path in paths))


def _leaf_name(path: tuple[str, ...]) -> str:
    return "json:" + ".".join(path)


def _number_sql(paths: tuple[tuple[str, ...], ...]) -> tuple[str, str]:
    """SQL of the first number among `paths`, and of "a value of another type came first".

    As in Python: paths are tried in order, the first number wins, and a value of another type
    met before it (null is no value) is refused.
    """
    leaves = [_leaf(path) for path in paths]
    numbers = [f"coalesce(NOT ({leaf}[1] IN {_NOT_NUMBERS}), false)" for leaf in leaves]
    # JSON's own cast, as Python reads it: `-0` is the integer 0, `-0.0` the float -0.0
    cases = " ".join(
        f"WHEN {ok} THEN CAST(CAST({leaf} AS JSON) AS DOUBLE)"
        for ok, leaf in zip(numbers, leaves, strict=True)
    )
    refused = [
        " AND ".join(
            [f"{leaf} IS NOT NULL", f"NOT {numbers[i]}", *map("NOT {}".format, numbers[:i])]
        )
        for i, leaf in enumerate(leaves)
    ]
    return f"CASE {cases} END", " OR ".join(f"coalesce({r}, false)" for r in refused)


@functools.cache
def _duckdb_query() -> str:
    """The query over a list of body files: one row per event with its page and position, the
    JSON text at every text source path (tested in `_duckdb_text`), the numbers (tested here)
    and the survey answers' JSON."""
    columns = [f'{_leaf(path)} AS "{_leaf_name(path)}"' for path in _TEXT_PATHS]
    malformed = ["e IS NULL"]
    coordinates = "CAST(" + _leaf(COORDINATES_SOURCE) + " AS JSON)"
    numbers = "('UBIGINT', 'BIGINT', 'DOUBLE')"
    is_pair = (
        f"coalesce(json_type({coordinates}) = 'ARRAY' AND json_array_length({coordinates}) = 2"
        f" AND json_type({coordinates}, '$[0]') IN {numbers}"
        f" AND json_type({coordinates}, '$[1]') IN {numbers}, false)"
    )
    for name, index in ((s.GEOFENCE_LON, 0), (s.GEOFENCE_LAT, 1)):
        element = f"CAST(json_extract({coordinates}, '$[{index}]') AS DOUBLE)"
        columns.append(f'CASE WHEN {is_pair} THEN {element} END AS "{name}"')
    malformed.append(f"({coordinates} IS NOT NULL AND NOT {is_pair})")
    radius, refused_radius = _number_sql(NUMBER_SOURCES[s.GEOFENCE_RADIUS_M])
    duration, refused_duration = _number_sql(NUMBER_SOURCES[s.VISIT_DURATION_MIN])
    columns += [f'{radius} AS "{s.GEOFENCE_RADIUS_M}"', f'{duration} AS "{s.VISIT_DURATION_MIN}"']
    malformed.append(refused_radius)
    columns += [f'{_leaf(path)} AS "answers_{k}"' for k, path in enumerate(ANSWERS_SOURCES)]
    columns.append(f"({' OR '.join(malformed)}) AS malformed")
    columns.append(f"({refused_duration}) AS bad_duration")
    return (
        "SELECT page, n, pos, " + ", ".join(columns) + " FROM ("
        " SELECT file_index AS page, len(events) AS n,"
        " unnest(CASE WHEN len(events) > 0 THEN events ELSE [NULL] END) AS e,"
        " generate_subscripts(CASE WHEN len(events) > 0 THEN events ELSE [NULL] END, 1) AS pos"
        f" FROM read_json($files, columns = {{'events': '{_duckdb_type(_json_tree())}[]'}},"
        " format = 'unstructured', records = true, maximum_object_size = $size))"
    )


def _duckdb_rows(pages: Sequence[Payload], threads: int) -> list[pa.Table | None]:
    """The query's rows of each page (one per event, in order), read by DuckDB in one go; None
    for a page it cannot read exactly (left to `page_columns`).

    The bodies are written to temporary files (DuckDB's reader takes files) and read together.
    When DuckDB refuses one of them the query fails as a whole: then each is read alone, so only
    the refused ones are left to the other paths.
    """
    import duckdb  # imported here: only this reader needs it

    found: list[pa.Table | None] = [None] * len(pages)
    readable = [
        k
        for k, page in enumerate(pages)
        if isinstance(page, bytes | bytearray | memoryview)
        and bytes(page[:64]).lstrip()[:1] == b"{"
        and len(page) < 2**31 - 64
    ]
    if not readable:
        return found
    with tempfile.TemporaryDirectory(prefix="c4w-pages-") as folder:
        files = [os.path.join(folder, f"{k}.json") for k in readable]
        for k, name in zip(readable, files, strict=True):
            with open(name, "wb") as handle:
                handle.write(pages[k])
        size = max(len(pages[k]) for k in readable) + 64
        with duckdb.connect(config={"threads": max(1, threads)}) as con:
            try:
                rows = _duckdb_read(con, files, size)
            except duckdb.Error:
                rows = []
                for name in files:
                    try:
                        rows += _duckdb_read(con, [name], size)
                    except duckdb.Error:
                        rows.append(None)
    for k, page_rows in zip(readable, rows, strict=True):
        found[k] = page_rows
    return found


def _duckdb_read(con, files: list[str], size: int) -> list[pa.Table | None]:
    """The query's rows of each body file, in file order (None for a file that is not exactly
    one object with an events list, or that holds a number no float holds, e.g. 1e400)."""
    table = con.sql(_duckdb_query(), params={"files": files, "size": size}).to_arrow_table()
    page = table.column("page").to_numpy()
    pos = table.column("pos").to_numpy()
    n = table.column("n").to_numpy(zero_copy_only=False)
    finite = np.ones(len(page), dtype=bool)
    for name in RAW_NUMBER_COLUMNS:
        column = table.column(name)
        values = column.to_numpy(zero_copy_only=False).astype(np.float64)
        finite &= ~(column.is_valid().to_numpy(zero_copy_only=False) & ~np.isfinite(values))
    # Files come back in the order the threads read them, each file's rows together.
    edges = np.flatnonzero(np.diff(page)) + 1
    runs: dict[int, tuple[int, int] | None] = {}
    for start, end in zip(np.r_[0, edges], np.r_[edges, len(page)], strict=True):
        if start < end:
            key = int(page[start])
            runs[key] = None if key in runs else (int(start), int(end))
    rows: list[pa.Table | None] = []
    for k in range(len(files)):
        run = runs.get(k)
        if run is None:  # no events list (or a file met twice)
            rows.append(None)
            continue
        start, end = run
        count = end - start
        if count == 1 and n[start] == 0:  # an empty events list
            rows.append(table.slice(start, 0))
        elif (
            np.any(n[start:end] != count)  # more than one object in the body
            or np.any(pos[start:end] != np.arange(1, count + 1))
            or not finite[start:end].all()
        ):
            rows.append(None)
        else:
            rows.append(table.slice(start, count))
    return rows


def _duckdb_text(leaves: list[pa.Array]) -> tuple[pa.Array, np.ndarray]:
    """The first text among the JSON texts of a source's paths, and where a value of another
    type came before it (the rule of `_python_row`)."""
    n = len(leaves[0])
    value: pa.Array | None = None
    found = np.zeros(n, dtype=bool)
    refused = np.zeros(n, dtype=bool)
    for leaf in leaves:
        if leaf.null_count == n:  # e.g. the flat shape's paths in a nested body
            continue
        is_text = pc.starts_with(leaf, '"').fill_null(False).to_numpy(zero_copy_only=False)
        refused |= leaf.is_valid().to_numpy(zero_copy_only=False) & ~is_text & ~found
        text = pc.if_else(is_text, _json_text(leaf), pa.scalar(None, pa.string()))
        value = text if value is None else pc.coalesce(value, text)
        found |= is_text
    return (pa.nulls(n, pa.string()) if value is None else value), refused


def _json_text(leaf: pa.Array) -> pa.Array:
    """The texts written as JSON strings in `leaf`: the part between the quotes, decoded by
    Python's JSON reader where it holds an escape (rare: quotes, backslashes, control codes)."""
    inner = pc.utf8_slice_codeunits(leaf, 1, -1)
    escaped = pc.match_substring(leaf, "\\").fill_null(False).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(
        escaped & pc.starts_with(leaf, '"').fill_null(False).to_numpy(zero_copy_only=False)
    )
    if len(rows) == 0:
        return inner
    decoded = inner.to_pylist()
    for row in rows:
        decoded[row] = json.loads(leaf[int(row)].as_py())
    return pa.array(decoded, pa.string())


def _duckdb_page(part: pa.Table) -> pa.Table:
    """One body's rows of the DuckDB query as RAW_SCHEMA (survey answers written by Python)."""
    problems = np.where(
        part.column("malformed").to_numpy(zero_copy_only=False), s.PROBLEM_MALFORMED, 0
    )
    problems |= np.where(
        part.column("bad_duration").to_numpy(zero_copy_only=False), s.PROBLEM_BAD_DURATION, 0
    )
    leaves = [part.column(f"answers_{k}") for k in range(len(ANSWERS_SOURCES))]
    answers: list[str | None] = [None] * part.num_rows
    has_answers = np.zeros(part.num_rows, dtype=bool)
    for leaf in leaves:
        has_answers |= leaf.is_valid().to_numpy(zero_copy_only=False)
    for row in np.flatnonzero(has_answers):
        values = [
            None if leaf[row].as_py() is None else json.loads(leaf[row].as_py()) for leaf in leaves
        ]
        answers[row], bad = _survey_answers(values)
        if bad:
            problems[row] |= s.PROBLEM_MALFORMED
    columns = []
    for paths in TEXT_SOURCES.values():
        value, refused = _duckdb_text([_column(part, _leaf_name(path)) for path in paths])
        columns.append(value)
        problems |= np.where(refused, s.PROBLEM_MALFORMED, 0)
    columns.append(pa.array(answers, pa.string()))
    columns += [part.column(name) for name in RAW_NUMBER_COLUMNS]
    columns.append(pa.array(problems.astype(np.uint16)))
    return pa.Table.from_arrays(columns, schema=RAW_SCHEMA)


# --- stage 2: the canonical frame ---------------------------------------------------------------
def _column(raw: pa.Table, name: str) -> pa.Array:
    """One column as a single array (dictionary chunks are unified)."""
    chunks = raw.column(name).chunks
    if len(chunks) == 1:
        return chunks[0]
    if not chunks:
        return pa.array([], type=raw.schema.field(name).type)
    return pa.concat_arrays(chunks)


def _numbers(array: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Float values (NaN where null) and where a value was present."""
    present = array.is_valid().to_numpy(zero_copy_only=False)
    values = array.to_numpy(zero_copy_only=False).astype(np.float64, copy=True)
    return values, present


def _blank_to_null(array: pa.Array) -> pa.Array:
    """Empty texts as nulls (an empty id is no id)."""
    return pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)


def _bits(condition: np.ndarray, bit: int) -> np.ndarray:
    return np.where(condition, np.uint16(bit), np.uint16(0)).astype(np.uint16)


def _canonical(raw: pa.Table) -> pa.Table:
    """The canonical columns from raw ones: times, local clocks, problem bits (still arrow).

    Times are int64 nanoseconds with numpy's NaT value for missing; repeated texts are
    dictionary-encoded (page by page; `columns_to_frame` unifies the dictionaries).
    """
    problems = _column(raw, s.DATA_PROBLEMS).to_numpy(zero_copy_only=False).astype(np.uint16)
    text = {name: _column(raw, name) for name in RAW_TEXT_COLUMNS}
    for name in (s.EVENT_ID, s.CONTACT_ID):
        text[name] = _blank_to_null(text[name])
    problems |= _bits(_is_null(text[s.EVENT_ID]), s.PROBLEM_MISSING_ID)
    problems |= _bits(_is_null(text[s.CONTACT_ID]), s.PROBLEM_MISSING_CONTACT)
    problems |= _bits(~_is_in(text[s.TYPE], s.KNOWN_TYPES), s.PROBLEM_UNKNOWN_TYPE)

    # When: UTC from createdAt, local wall clock from createdAtLocal, else derived from the zone.
    timezone = text[s.TIMEZONE] = pc.coalesce(text[s.TIMEZONE], text["visit_timezone"])
    created, _ = _parse_times(text["created_at_text"], utc=True)
    created_local, _ = _parse_times(text["created_at_local_text"], utc=False)
    derived, zone_ok = _wall_clock(created, timezone)
    problems |= _bits(created == _NAT, s.PROBLEM_BAD_TIMESTAMP)
    problems |= _bits(created_local == _NAT, s.PROBLEM_BAD_LOCAL_TIME)
    problems |= _bits(~zone_ok, s.PROBLEM_UNKNOWN_TIMEZONE)
    problems |= _bits(_disagree(created_local, derived), s.PROBLEM_LOCAL_TIME_MISMATCH)
    created_local = np.where(created_local != _NAT, created_local, derived)

    # The visit: same rule on startAt / startAtLocal with the visit's own zone.
    visit_zone = text["visit_timezone"]
    visit_start, start_unreadable = _parse_times(text["visit_start_text"], utc=True)
    visit_local, local_unreadable = _parse_times(text["visit_start_local_text"], utc=False)
    visit_derived, visit_zone_ok = _wall_clock(visit_start, pc.coalesce(visit_zone, timezone))
    problems |= _bits(start_unreadable, s.PROBLEM_BAD_TIMESTAMP)
    problems |= _bits(local_unreadable, s.PROBLEM_BAD_LOCAL_TIME)
    problems |= _bits(~_is_null(visit_zone) & ~visit_zone_ok, s.PROBLEM_UNKNOWN_TIMEZONE)
    problems |= _bits(_disagree(visit_local, visit_derived), s.PROBLEM_LOCAL_TIME_MISMATCH)
    visit_local = np.where(visit_local != _NAT, visit_local, visit_derived)

    # Numbers: unusable ones become NaN with their problem bit.
    duration, has_duration = _numbers(_column(raw, s.VISIT_DURATION_MIN))
    with np.errstate(invalid="ignore"):
        bad_duration = has_duration & ~(np.isfinite(duration) & (duration >= 0))
    bad_duration |= _is_in(text[s.TYPE], s.VISIT_TYPES) & ~has_duration
    duration[bad_duration] = np.nan
    problems |= _bits(bad_duration, s.PROBLEM_BAD_DURATION)
    lon, has_lon = _numbers(_column(raw, s.GEOFENCE_LON))
    lat, has_lat = _numbers(_column(raw, s.GEOFENCE_LAT))
    with np.errstate(invalid="ignore"):
        on_earth = (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
        radius, has_radius = _numbers(_column(raw, s.GEOFENCE_RADIUS_M))
        bad_radius = has_radius & ~(np.isfinite(radius) & (radius >= 0))
    lon[~on_earth] = lat[~on_earth] = np.nan
    radius[bad_radius] = np.nan
    problems |= _bits(((has_lon | has_lat) & ~on_earth) | bad_radius, s.PROBLEM_MALFORMED)

    columns: dict[str, pa.Array] = {s.EVENT_ID: text[s.EVENT_ID]}
    for name in CATEGORY_COLUMNS:
        columns[name] = pc.dictionary_encode(text[name])
    columns[s.CREATED_AT] = pa.array(created)
    columns[s.CREATED_AT_LOCAL] = pa.array(created_local)
    columns[s.VISIT_START] = pa.array(visit_start)
    columns[s.VISIT_START_LOCAL] = pa.array(visit_local)
    columns[s.GEOFENCE_LON] = pa.array(lon)
    columns[s.GEOFENCE_LAT] = pa.array(lat)
    columns[s.GEOFENCE_RADIUS_M] = pa.array(radius)
    columns[s.VISIT_DURATION_MIN] = pa.array(duration)
    columns[s.DATA_PROBLEMS] = pa.array(problems)
    return pa.table([columns[name] for name in s.EVENT_COLUMNS], names=list(s.EVENT_COLUMNS))


def columns_to_frame(table: pa.Table, columns: Sequence[str] = s.EVENT_COLUMNS) -> pd.DataFrame:
    """The pandas frame of canonical arrow columns, in the contract dtypes (only ``columns``,
    in that order, when a reader asked for fewer)."""
    data: dict[str, Any] = {}
    for name in columns:
        column = table.column(name)
        if name == s.EVENT_ID:
            data[name] = pd.array(column, dtype="str")
        elif name in CATEGORY_COLUMNS:
            data[name] = _category(_column(table, name))
        elif name in s.UTC_TIME_COLUMNS:
            data[name] = _utc(_numpy(column))
        elif name in s.LOCAL_TIME_COLUMNS:
            data[name] = _numpy(column).view("M8[ns]")
        else:
            data[name] = _numpy(column)
    return pd.DataFrame(data, index=pd.RangeIndex(table.num_rows), copy=False)


def _numpy(column: pa.ChunkedArray) -> np.ndarray:
    """A null-free numeric column as one numpy array."""
    if column.num_chunks == 1:
        return column.chunk(0).to_numpy()
    if column.num_chunks == 0:
        return np.zeros(0, dtype=column.type.to_pandas_dtype())
    return np.concatenate([chunk.to_numpy() for chunk in column.chunks])


def _is_null(array: pa.Array) -> np.ndarray:
    return array.is_null().to_numpy(zero_copy_only=False)


def _is_in(array: pa.Array, values: Sequence[str]) -> np.ndarray:
    """Where the text is one of `values` (False for nulls)."""
    found = pc.is_in(array, value_set=pa.array(values, pa.string()))
    return found.fill_null(False).to_numpy(zero_copy_only=False)


def _disagree(stated: np.ndarray, derived: np.ndarray) -> np.ndarray:
    """Where a stated local time and the one derived from UTC + zone are both known and differ."""
    return (stated != _NAT) & (derived != _NAT) & (stated != derived)


def code_width(categories: int) -> type:
    """The narrowest integer type for the codes of ``categories`` values (and -1 for missing)."""
    return np.int8 if categories < 127 else np.int16 if categories < 32_767 else np.int32


def _category(encoded: pa.DictionaryArray) -> pd.Categorical:
    """A pandas categorical (string categories, smallest codes) from a dictionary array."""
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    categories = pd.Index(pd.array(encoded.dictionary, dtype="str"), dtype="str")
    width = code_width(len(categories))
    categorical = pd.Categorical.from_codes(
        codes.astype(width, copy=False), dtype=pd.CategoricalDtype(categories), validate=False
    )
    return _without_lookup_table(categorical)


def _without_lookup_table(categorical: pd.Categorical) -> pd.Categorical:
    """Free the hash table pandas builds on the categories while checking they are unique.

    With 100,000 contacts it weighs about as much as the ids themselves; pandas builds it again
    only when a lookup by value needs it.
    """
    cache = getattr(categorical.categories, "_cache", None)
    if isinstance(cache, dict):
        cache.pop("_engine", None)
    return categorical


def _utc(ns: np.ndarray) -> pd.DatetimeIndex:
    """Nanoseconds since the epoch (NaT sentinel) as tz-aware UTC datetimes."""
    return pd.DatetimeIndex(ns.view("M8[ns]")).tz_localize("UTC")


def _parse_times(texts: pa.Array, utc: bool) -> tuple[np.ndarray, np.ndarray]:
    """ISO-8601 texts -> int64 ns (NaT where missing or unreadable), and where unreadable.

    The API's form `YYYY-MM-DDTHH:MM:SSZ` is parsed column-wise; any other text is tried with
    `datetime.fromisoformat` (fractions, offsets). For UTC columns an offset is applied; for
    local wall clocks it (and the misleading `Z`) is dropped. Years outside 1900-2199 count as
    unreadable.
    """
    stamps = pc.strptime(texts, format=_UTC_FORMAT, unit="s", error_is_null=True)
    seconds = stamps.cast(pa.int64()).fill_null(_NAT).to_numpy(zero_copy_only=False)
    in_range = (seconds >= _FIRST_SECOND) & (seconds < _END_SECOND)
    ns = np.where(in_range, seconds * _NS, _NAT)
    present = texts.is_valid().to_numpy(zero_copy_only=False)
    for row in np.flatnonzero(present & ~in_range):
        ns[row] = _parse_one(texts[int(row)].as_py(), utc)
    return ns, present & (ns == _NAT)


def _parse_one(text: str, utc: bool) -> int:
    """One ISO-8601 text as ns since the epoch, or the NaT sentinel."""
    try:
        moment = datetime.fromisoformat(text)
    except (ValueError, TypeError, OverflowError):
        return _NAT
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(UTC) if utc else moment
        except (OverflowError, ValueError):
            return _NAT
        moment = moment.replace(tzinfo=None)
    if not (_FIRST_SECOND <= (moment - _EPOCH).total_seconds() < _END_SECOND):
        return _NAT
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@functools.lru_cache(maxsize=1024)
def _zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The IANA zone of that name, or None when there is none."""
    if name not in _zone_names():
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (ValueError, OSError):
        return None


def _wall_clock(utc_ns: np.ndarray, zones: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Local wall clock (naive ns) of each UTC time in its row's zone, and where the zone exists."""
    n = len(utc_ns)
    local = np.full(n, _NAT, dtype=np.int64)
    known = np.zeros(n, dtype=bool)
    encoded = pc.dictionary_encode(zones)
    codes = encoded.indices.fill_null(-1).to_numpy(zero_copy_only=False)
    usable = [(k, _zone(name)) for k, name in enumerate(encoded.dictionary.to_pylist())]
    usable = [(k, zone) for k, zone in usable if zone is not None]
    if len(usable) > 16:  # many zones: group rows once instead of one scan per zone
        order = np.argsort(codes, kind="stable")
        ordered = codes[order]
        groups = [
            (order[np.searchsorted(ordered, k) : np.searchsorted(ordered, k, "right")], z)
            for k, z in usable
        ]
    else:
        groups = [(np.flatnonzero(codes == k), zone) for k, zone in usable]
    for rows, zone in groups:
        known[rows] = True
        rows = rows[utc_ns[rows] != _NAT]
        if len(rows):
            stamps = pd.DatetimeIndex(utc_ns[rows].view("M8[ns]")).tz_localize("UTC")
            local[rows] = stamps.tz_convert(zone).tz_localize(None).asi8
    return local, known


# --- locations ------------------------------------------------------------------------------------
def _location_row(item: Any) -> tuple:
    """One location item as a row of LOCATION_COLUMNS; wrong shapes become nulls."""
    if not isinstance(item, dict):
        return (None,) * len(s.LOCATION_COLUMNS)
    address = item.get("address")
    if isinstance(address, dict):
        street = _scalar_text(address.get("address"))
        place = [_scalar_text(address.get(key)) for key in ("city", "state", "zip", "country")]
    else:
        street, place = _scalar_text(address), [None] * 4
    tags = item.get("tags")
    if isinstance(tags, list):
        tag_texts = [t for t in (_scalar_text(tag) for tag in tags) if t]
        tag_text = ", ".join(tag_texts) or None
    else:
        tag_text = _scalar_text(tags)
    return (
        _scalar_text(item.get("id")),
        _scalar_text(item.get("name")),
        _coordinate(item.get("lat"), 90),
        _coordinate(item.get("lng"), 180),
        _scalar_text(item.get("timezone")),
        street,
        *place,
        _scalar_text(item.get("externalId")),
        tag_text,
    )


def _scalar_text(value: Any) -> str | None:
    """A text, or a number written as text; None for anything else."""
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _coordinate(value: Any, limit: float) -> float:
    """A latitude/longitude (number or numeric text) within +-limit, else NaN."""
    if isinstance(value, bool):
        return math.nan
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return math.nan
    return number if math.isfinite(number) and abs(number) <= limit else math.nan


def _concat_categories(parts: list[pd.Series]) -> pd.Categorical:
    """One categorical from several, their categories unioned in order of first appearance."""
    arrays = []
    for part in parts:
        categorical = part.array
        codes = categorical.codes.astype(np.int32)
        categories = categorical.categories
        if categories.dtype != "str":
            categories = categories.astype("str")
        categories = pa.array(categories.array).cast(pa.large_string())
        indices = pa.array(codes, mask=codes < 0)
        arrays.append(pa.DictionaryArray.from_arrays(indices, categories))
    return _category(pa.concat_arrays(arrays))


def _concat_mismatched(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenation of frames whose columns differ: pandas aligns, categories are restored."""
    combined = pd.concat(frames, ignore_index=True)
    for name in CATEGORY_COLUMNS:
        if name in combined and not isinstance(combined[name].dtype, pd.CategoricalDtype):
            combined[name] = combined[name].astype("str").astype("category")
    return combined
