"""One UTC day of one organization as one Parquet file, and the sync state it carries.

A day's file holds the canonical events (``schema.EVENT_COLUMNS``) deduplicated by event id,
sorted by time, with zstd compression and each string column dictionary-encoded over that day's
values only (so a day file does not repeat the whole contact list). Times are stored as
microsecond timestamps, UTC ones marked UTC, which every Parquet reader understands. The day's
sync state (complete, fetched_at, events, the API's count) sits in the file's own key-value
metadata, so data and state are replaced together, in one rename.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from c4w import frame, schema
from c4w.store.guests import GUEST_NO, GUEST_NO_TYPE

STATE_KEY = b"c4w.day_state"
FORMAT_VERSION = 1
FILE_NAME = "events.parquet"
TEMP_PREFIX = ".tmp-"  # hidden from readers: no engine lists a file starting with a dot

_NS_UTC = pa.timestamp("ns", tz="UTC")
_NS = pa.timestamp("ns")


def _stored_type(name: str) -> pa.DataType:
    if name == schema.EVENT_ID:
        return pa.string()
    if name in frame.CATEGORY_COLUMNS:
        return pa.dictionary(pa.int32(), pa.string())
    if name in schema.UTC_TIME_COLUMNS:
        return pa.timestamp("us", tz="UTC")
    if name in schema.LOCAL_TIME_COLUMNS:
        return pa.timestamp("us")
    if name == schema.DATA_PROBLEMS:
        return pa.uint16()
    return pa.float64()


EVENT_SCHEMA = pa.schema([(name, _stored_type(name)) for name in schema.EVENT_COLUMNS])
# what a day file holds: the events and each one's guest number (see ``c4w.store.guests``)
STORE_SCHEMA = EVENT_SCHEMA.append(pa.field(GUEST_NO, GUEST_NO_TYPE))


@dataclass(frozen=True)
class DayState:
    """What the store knows of one stored UTC day.

    ``complete``: the day had settled when it was fetched, so it is never fetched again (unless
    asked); ``events``: rows stored; ``api_count``: the ``count`` the API gave for the day's
    query (None when it gave none); ``duplicates_dropped``: rows whose event id was already in
    the day.
    """

    day: dt.date
    complete: bool
    fetched_at: dt.datetime
    events: int
    api_count: int | None
    duplicates_dropped: int = 0

    def to_json(self) -> bytes:
        data = asdict(self)
        data["day"] = self.day.isoformat()
        data["fetched_at"] = self.fetched_at.astimezone(dt.UTC).isoformat()
        data["format"] = FORMAT_VERSION
        return json.dumps(data, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> DayState:
        data = json.loads(raw)
        return cls(
            day=dt.date.fromisoformat(data["day"]),
            complete=bool(data["complete"]),
            fetched_at=dt.datetime.fromisoformat(data["fetched_at"]),
            events=int(data["events"]),
            api_count=None if data.get("api_count") is None else int(data["api_count"]),
            duplicates_dropped=int(data.get("duplicates_dropped", 0)),
        )


class CorruptPartition(Exception):
    """A day file that cannot be read (its footer, its state or its pages are damaged)."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


# --- writing ----------------------------------------------------------------------------------
def day_bounds(day: dt.date) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The first moment of ``day`` (UTC) and the first moment of the next day."""
    start = pd.Timestamp(day, tz="UTC")
    return start, start + pd.Timedelta(days=1)


def day_table(day: dt.date, events: pd.DataFrame) -> tuple[pa.Table, int]:
    """The stored form of one day's events and how many repeated event ids were dropped.

    Every row's ``created_at`` must fall in ``day`` (UTC) or be missing (a row flagged with an
    unreadable time stays in the day it was fetched for). The first row of each event id is kept
    (rows without an id are all kept); rows are sorted by ``created_at`` then event id, missing
    times last. ``events`` is not modified.
    """
    missing = [name for name in schema.EVENT_COLUMNS if name not in events.columns]
    if missing:
        raise ValueError(f"events lack the column(s) {', '.join(missing)}")
    start, end = day_bounds(day)
    created = events[schema.CREATED_AT]
    outside = created.notna() & ((created < start) | (created >= end))
    if outside.any():
        raise ValueError(f"{int(outside.sum())} event(s) are not on {day.isoformat()} (UTC)")
    ids = events[schema.EVENT_ID]
    repeated = (ids.duplicated() & ids.notna()).to_numpy()
    if repeated.any():
        events = events.loc[~repeated]
    columns = [_arrow_column(events[name], name) for name in schema.EVENT_COLUMNS]
    table = pa.Table.from_arrays(columns, schema=_plain_schema())
    order = pc.sort_indices(
        table,
        sort_keys=[
            (schema.CREATED_AT, "ascending", "at_end"),
            (schema.EVENT_ID, "ascending", "at_end"),
        ],
    )
    table = table.take(order)
    encoded = [
        pc.dictionary_encode(table.column(name).combine_chunks())
        if name in frame.CATEGORY_COLUMNS
        else table.column(name)
        for name in schema.EVENT_COLUMNS
    ]
    return pa.Table.from_arrays(encoded, schema=EVENT_SCHEMA), int(repeated.sum())


def with_guest_numbers(table: pa.Table, numbers: pa.Array) -> pa.Table:
    """A day's events (``day_table``) with each event's guest number beside them."""
    return table.append_column(STORE_SCHEMA.field(GUEST_NO), numbers)


def _plain_schema() -> pa.Schema:
    """The events' schema with plain strings where dictionaries will be (encoded after sorting)."""
    return pa.schema(
        [(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type) for f in EVENT_SCHEMA]
    )


def _arrow_column(values: pd.Series, name: str) -> pa.Array:
    target = EVENT_SCHEMA.field(name).type
    if pa.types.is_dictionary(target):
        if isinstance(values.dtype, pd.CategoricalDtype):
            array = pa.array(values, from_pandas=True)
            return array.dictionary_decode() if pa.types.is_dictionary(array.type) else array
        return pa.array(values.astype(object).where(values.notna(), None), pa.string())
    if pa.types.is_timestamp(target):
        array = pa.array(values, from_pandas=True)
        # whole-second times in practice; a cast that would lose precision raises
        return array.cast(target, safe=True)
    if name == schema.EVENT_ID:
        return pa.array(values.astype(object).where(values.notna(), None), pa.string())
    return pa.array(np.asarray(values), target, from_pandas=True)


def write_partition(path: Path, table: pa.Table, state: DayState) -> None:
    """Write ``table`` with ``state`` to ``path`` atomically: a hidden temporary file in the same
    folder, flushed to disk, renamed over ``path``, and the folder flushed, so a reader or a
    crash sees the old file or the new one, never part of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = table.replace_schema_metadata({STATE_KEY: state.to_json()})
    temp = path.parent / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}-{path.name}"
    try:
        with open(temp, "wb") as out:
            pq.write_table(
                table,
                out,
                compression="zstd",
                use_dictionary=True,
                write_statistics=True,
                write_page_checksum=True,
            )
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - folders cannot be opened on Windows
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- reading ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Footer:
    """What a day file's footer tells: its sync state, whether its events carry guest numbers
    (files of earlier builds do not) and the highest of them (None when there is none)."""

    state: DayState
    numbered: bool
    top_guest: int | None


def read_state(path: Path) -> DayState:
    """The sync state in a day file's footer; CorruptPartition when the file is unreadable."""
    return read_footer(path).state


def read_footer(path: Path) -> Footer:
    """A day file's ``Footer``; CorruptPartition when the file is unreadable."""
    try:
        file_schema = pq.read_schema(path)
        metadata = file_schema.metadata or {}
        details = pq.read_metadata(path)
        rows = details.num_rows
        numbered = GUEST_NO in file_schema.names
        top = _column_max(details, file_schema.get_field_index(GUEST_NO)) if numbered else None
    except (OSError, pa.ArrowException) as exc:
        raise CorruptPartition(
            path, f"unreadable Parquet footer ({exc.__class__.__name__})"
        ) from None
    raw = metadata.get(STATE_KEY)
    if raw is None:
        raise CorruptPartition(path, "no sync state in the file")
    try:
        state = DayState.from_json(raw)
    except (ValueError, KeyError, TypeError):
        raise CorruptPartition(path, "unreadable sync state") from None
    if state.events != rows:
        raise CorruptPartition(path, f"holds {rows} rows where its state says {state.events}")
    return Footer(state, numbered, top)


def _column_max(details: pq.FileMetaData, column: int) -> int | None:
    """The highest value of an integer column by its row groups' statistics (None when no
    row group has one)."""
    tops = []
    for group in range(details.num_row_groups):
        stats = details.row_group(group).column(column).statistics
        if stats is not None and stats.has_min_max:
            tops.append(int(stats.max))
    return max(tops, default=None)


def verify(path: Path) -> None:
    """Read every page of a day file with its checksums; CorruptPartition when one fails."""
    try:
        pq.ParquetFile(path, page_checksum_verification=True).read()
    except (OSError, pa.ArrowException) as exc:
        raise CorruptPartition(path, f"unreadable data ({exc.__class__.__name__})") from None
