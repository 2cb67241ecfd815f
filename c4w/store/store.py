"""The history store of one organization: Parquet files by UTC day, read in place.

``<root>/org=<id>/day=YYYY-MM-DD/events.parquet``, one file a day (see ``partition``): the
hive layout DuckDB, pyarrow, polars, Spark, BigQuery and Trino all read. Pandas frames are read
with pyarrow.dataset (only the asked days and columns, categories kept); aggregates run in DuckDB
over the same files. A day is written through ``write_day`` while holding the organization's
write lock; a file that cannot be read is reported, left out of every read, and set aside by the
next sync so the day is fetched again.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from c4w import frame, schema
from c4w.store import guests
from c4w.store.lock import StoreBusy, WriteLock
from c4w.store.partition import (
    EVENT_SCHEMA,
    FILE_NAME,
    STORE_SCHEMA,
    TEMP_PREFIX,
    CorruptPartition,
    DayState,
    Footer,
    day_table,
    read_footer,
    verify,
    with_guest_numbers,
    write_partition,
)
from c4w.store.reader import read_frame
from c4w.store.settle import LATEST_TIMEZONE, SETTLE_LAG, is_settled

log = logging.getLogger(__name__)

_ORG_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_DAY_FOLDER = re.compile(r"^day=(\d{4}-\d\d-\d\d)$")
SET_ASIDE_FOLDER = "_set_aside"  # beside the organizations, outside every table's folder
LOCK_NAME = ".write.lock"
# DuckDB's own memory for one query (beyond it, it spills to a temporary folder): the dashboard
# keeps its frames beside it, and DuckDB alone would take most of the machine. At 10M events,
# 256 against 512 lowered the peak of the Overview's headline queries from 613 to 445 MB and of
# Geofences' walk-ins from 713 to 443 MB, for at most 0.3 s more.
QUERY_MEMORY_MB = 256
# a query that does not fit even so (not every operator spills) runs again with this much
QUERY_MEMORY_MAX_MB = 1024
_NAT = np.iinfo(np.int64).min


def _spill_folder() -> str:
    """Where DuckDB may spill a query too large for its memory: the system's temporary folder,
    never the folder the app runs in."""
    return str(Path(tempfile.gettempdir()) / "c4w-duckdb").replace("'", "''")


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every day from ``start`` to ``end``, both included (empty when ``start`` is later)."""
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


class EventStore:
    """One organization's events on disk, under ``root``.

    ``latest_timezone`` and ``settle_lag`` set when a day counts as complete (see ``settle``).
    """

    def __init__(
        self,
        root: Path | str,
        org_id: str,
        *,
        latest_timezone: str = LATEST_TIMEZONE,
        settle_lag: dt.timedelta = SETTLE_LAG,
    ) -> None:
        if not isinstance(org_id, str) or not _ORG_ID.match(org_id):
            raise ValueError(
                "The organization id may hold only letters, digits, '.', '_' and '-' "
                "(it names the store's folder)."
            )
        self.root = Path(root)
        self.org_id = org_id
        self.folder = self.root / f"org={org_id}"
        self.latest_timezone = latest_timezone
        self.settle_lag = settle_lag
        self._lock: WriteLock | None = None
        self._footers: dict[Path, tuple[tuple[int, int, int], Footer]] = {}
        self._corrupt: dict[dt.date, str] = {}
        self._guests: guests.GuestNumbers | None = None  # loaded while the lock is held

    def __repr__(self) -> str:
        return f"EventStore(root={str(self.root)!r}, org_id={self.org_id!r})"

    # -- layout ---------------------------------------------------------------------------------
    def day_path(self, day: dt.date) -> Path:
        """Where ``day``'s file lives (whether or not it exists)."""
        return self.folder / f"day={day.isoformat()}" / FILE_NAME

    def _day_files(self) -> list[tuple[dt.date, Path]]:
        if not self.folder.is_dir():
            return []
        found = []
        for entry in self.folder.iterdir():
            match = _DAY_FOLDER.match(entry.name)
            if not match:
                continue
            try:
                day = dt.date.fromisoformat(match.group(1))
            except ValueError:
                continue
            path = entry / FILE_NAME
            if path.is_file():
                found.append((day, path))
        return sorted(found)

    # -- sync state -----------------------------------------------------------------------------
    def day_states(self) -> dict[dt.date, DayState]:
        """The state of every readable stored day. Unreadable days are left out, logged and
        listed by ``corrupt_days``."""
        return {day: footer.state for day, footer in self._day_footers().items()}

    def _day_footers(self) -> dict[dt.date, Footer]:
        states: dict[dt.date, Footer] = {}
        corrupt: dict[dt.date, str] = {}
        for day, path in self._day_files():
            try:
                info = path.stat()
            except FileNotFoundError:  # set aside or replaced just now
                continue
            key = (info.st_ino, info.st_mtime_ns, info.st_size)
            cached = self._footers.get(path)
            if cached is not None and cached[0] == key:
                states[day] = cached[1]
                continue
            try:
                state = read_footer(path)
            except CorruptPartition as exc:
                if day not in self._corrupt:
                    log.warning(
                        "stored day %s of %s is unreadable: %s", day, self.org_id, exc.reason
                    )
                corrupt[day] = exc.reason
                continue
            self._footers[path] = (key, state)
            states[day] = state
        self._corrupt = corrupt
        return states

    def corrupt_days(self) -> dict[dt.date, str]:
        """Stored days whose file cannot be read, with the reason."""
        self.day_states()
        return dict(self._corrupt)

    def missing_days(self, start: dt.date, end: dt.date, now: dt.datetime) -> list[dt.date]:
        """The days of ``start``..``end`` to fetch: not stored, unreadable, or not complete
        (fetched before they settled). Days that have not begun at ``now`` are left out."""
        states = self.day_states()
        return [
            day
            for day in days_between(start, min(end, now.astimezone(dt.UTC).date()))
            if day not in states or not states[day].complete
        ]

    def is_settled(self, day: dt.date, moment: dt.datetime) -> bool:
        """Whether ``day`` is complete at ``moment`` under this store's settle rule."""
        return is_settled(day, moment, self.latest_timezone, self.settle_lag)

    def span(self) -> tuple[dt.date, dt.date] | None:
        """The first and last stored day, or None for an empty store."""
        days = sorted(self.day_states())
        return (days[0], days[-1]) if days else None

    def last_updated(self) -> dt.datetime | None:
        """When a day was last fetched into the store, or None for an empty store."""
        states = self.day_states().values()
        return max((s.fetched_at for s in states), default=None)

    # -- writing --------------------------------------------------------------------------------
    @contextmanager
    def write_lock(self, timeout: float | None = None) -> Iterator[EventStore]:
        """Hold the organization's write lock (one writer at a time, across processes).

        Refuses at once with ``StoreBusy`` when another writer holds it, or after waiting
        ``timeout`` seconds. Temporary files a killed writer left behind are removed.
        """
        if self._lock is not None:
            raise RuntimeError("this store already holds its write lock")
        lock = WriteLock(self.folder / LOCK_NAME, timeout)
        lock.acquire()
        self._lock = lock
        try:
            self._remove_temporary_files()
            yield self
        finally:
            self._lock = None
            self._guests = None
            lock.release()

    def _remove_temporary_files(self) -> None:
        for leftover in self.folder.glob(f"day=*/{TEMP_PREFIX}*"):
            leftover.unlink(missing_ok=True)

    def write_day(
        self,
        day: dt.date,
        events: pd.DataFrame,
        *,
        complete: bool,
        api_count: int | None,
        fetched_at: dt.datetime,
    ) -> DayState:
        """Replace ``day``'s partition with ``events`` (canonical frame, every ``created_at`` on
        that UTC day or missing) in one atomic rename, deduplicated by event id and sorted by
        time, and record its state. Takes the write lock when not already held (``StoreBusy``
        when another writer has it)."""
        if self._lock is None:
            with self.write_lock():
                return self.write_day(
                    day, events, complete=complete, api_count=api_count, fetched_at=fetched_at
                )
        if fetched_at.tzinfo is None:
            raise ValueError("fetched_at must be an aware datetime")
        table, dropped = day_table(day, events)
        state = DayState(day, bool(complete), fetched_at, table.num_rows, api_count, dropped)
        self._write_numbered(day, table, state)
        return state

    def _write_numbered(self, day: dt.date, table: pa.Table, state: DayState) -> None:
        """Write a day's events (``day_table``) with their guest numbers, under the lock."""
        numbers = self._guest_numbers()
        of_rows, numbers = numbers.numbered(table.column(schema.CONTACT_ID))
        if numbers is not self._guests:  # new guests: numbered on disk before a day uses them
            numbers.save(self._guest_numbers_path())
            self._guests = numbers
        path = self.day_path(day)
        write_partition(path, with_guest_numbers(table, of_rows), state)
        info = path.stat()
        footer = Footer(state, numbered=True, top_guest=pc.max(of_rows).as_py())
        self._footers[path] = ((info.st_ino, info.st_mtime_ns, info.st_size), footer)
        self._corrupt.pop(day, None)

    def number_earlier_days(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Give guest numbers to the days stored before there were any (each day rewritten
        whole, atomically, its state kept); ``progress(done, total)`` after each. Returns how
        many days were numbered. Takes the write lock when not already held."""
        if self._lock is None:
            with self.write_lock():
                return self.number_earlier_days(progress)
        footers = self._day_footers()
        earlier = [day for day, footer in footers.items() if not footer.numbered]
        for done, day in enumerate(earlier, start=1):
            stored = pq.read_table(self.day_path(day))
            table = stored.select(EVENT_SCHEMA.names).cast(EVENT_SCHEMA)
            self._write_numbered(day, table, footers[day].state)
            if progress is not None:
                progress(done, len(earlier))
        return len(earlier)

    def _guest_numbers_path(self) -> Path:
        return self.folder / "_contacts" / guests.FILE_NAME

    def _guest_numbers(self) -> guests.GuestNumbers:
        """The organization's guest numbers, read once per hold of the write lock (another
        process may have numbered guests between two holds)."""
        if self._guests is None:
            footers = self._day_footers()
            numbered = [day for day, footer in footers.items() if footer.numbered]
            tops = [footers[day].top_guest for day in numbered]
            top = max((t for t in tops if t is not None), default=None)

            def day_pairs() -> Iterator[pa.Table]:
                log.warning("guest numbers of %s rebuilt from its stored days", self.org_id)
                for day in numbered:
                    yield pq.read_table(
                        self.day_path(day), columns=[schema.CONTACT_ID, guests.GUEST_NO]
                    )

            self._guests = guests.load(self._guest_numbers_path(), top, day_pairs)
        return self._guests

    def guest_key(self, start: dt.date | None = None, end: dt.date | None = None) -> str:
        """The column that tells guests apart in a query of days ``start..end``: ``guest_no``
        when every one of those days carries guest numbers, else ``contact_id`` (days stored by
        earlier builds)."""
        numbered = all(footer.numbered for footer in self._footers_between(start, end).values())
        return guests.GUEST_NO if numbered else schema.CONTACT_ID

    def set_aside(self, day: dt.date) -> Path | None:
        """Move ``day``'s file out of the table (to ``<root>/_set_aside/``), so it is fetched
        again; returns where it went (None when there was no file). Needs the write lock."""
        if self._lock is None:
            raise StoreBusy("set_aside needs the store's write lock")
        path = self.day_path(day)
        if not path.exists():
            return None
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        target = self.root / SET_ASIDE_FOLDER / f"org={self.org_id}" / f"day={day}-{stamp}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
        self._footers.pop(path, None)
        self._corrupt.pop(day, None)
        log.warning("stored day %s of %s set aside to %s", day, self.org_id, target)
        return target

    def verify_days(self, start: dt.date, end: dt.date) -> dict[dt.date, str]:
        """Read every page of the stored days in ``start``..``end`` with checksums; the days
        that fail, with the reason (a fuller check than the footer read of ``day_states``)."""
        failed = dict((d, r) for d, r in self.corrupt_days().items() if start <= d <= end)
        for day, path in self._day_files():
            if start <= day <= end and day not in failed:
                try:
                    verify(path)
                except CorruptPartition as exc:
                    failed[day] = exc.reason
        return failed

    # -- reading --------------------------------------------------------------------------------
    def _readable_files(self, start: dt.date | None, end: dt.date | None) -> list[Path]:
        return [self.day_path(day) for day in sorted(self._footers_between(start, end))]

    def read(
        self,
        start: dt.date,
        end: dt.date,
        columns: Sequence[str] | None = None,
        types: Sequence[str] | None = None,
        location_ids: Sequence[str] = (),
        contact_ids: Sequence[str] = (),
    ) -> pd.DataFrame:
        """The stored events of UTC days ``start``..``end`` (inclusive) as the canonical frame
        (only ``columns`` when given; only events of ``types``, at ``location_ids`` and of
        ``contact_ids`` when given), sorted by ``created_at``. Unreadable days are left out
        (see ``corrupt_days``)."""
        names = list(schema.EVENT_COLUMNS if columns is None else columns)
        unknown = [name for name in names if name not in schema.EVENT_COLUMNS]
        if unknown:
            raise ValueError(f"unknown column(s): {', '.join(unknown)}")
        condition = None
        if types:
            condition = pc.field(schema.TYPE).isin(list(types))
        if location_ids:
            at = pc.field(schema.LOCATION_ID).isin(list(location_ids))
            condition = at if condition is None else condition & at
        if contact_ids:
            who = pc.field(schema.CONTACT_ID).isin(list(contact_ids))
            condition = who if condition is None else condition & who
        files = self._readable_files(start, end)
        if not files:
            return frame.empty_events_frame()[names]

        def read_day(path: Path) -> pa.Table:
            day = ds.dataset(str(path), schema=STORE_SCHEMA, format="parquet")
            return _canonical_columns(day.to_table(columns=names, filter=condition))

        return read_frame(files, names, read_day)

    def query(
        self,
        sql: str,
        params: Sequence | dict | None = None,
        *,
        start: dt.date | None = None,
        end: dt.date | None = None,
        row_numbers: bool = False,
        threads: int | None = None,
    ) -> pa.Table:
        """Run ``sql`` in DuckDB over a view ``events`` of the stored days (only ``start``..
        ``end`` when given), with the hive columns ``org`` and ``day`` beside the event columns
        (and ``file_row_number``, the row's place in its day file, with ``row_numbers``: with
        ``day`` it gives the order a frame read from the store keeps); times are UTC
        timestamps. ``threads`` caps DuckDB's threads (default: one per core), for queries run
        side by side. Returns an arrow table."""
        footers = self._footers_between(start, end)
        files = [self.day_path(day) for day in sorted(footers)]
        # days stored before guest numbers lack the column: DuckDB matches the files by name
        mixed = len({footer.numbered for footer in footers.values()}) > 1
        setup = QuerySetup(files, row_numbers, mixed, threads)
        try:
            return self._query(sql, params, setup, QUERY_MEMORY_MB)
        except duckdb.OutOfMemoryException:  # an operator that cannot spill: give it more
            return self._query(sql, params, setup, QUERY_MEMORY_MAX_MB)

    def _footers_between(self, start: dt.date | None, end: dt.date | None) -> dict[dt.date, Footer]:
        return {
            day: footer
            for day, footer in self._day_footers().items()
            if (start is None or day >= start) and (end is None or day <= end)
        }

    def _query(
        self,
        sql: str,
        params: Sequence | dict | None,
        setup: QuerySetup,
        memory_mb: int,
    ) -> pa.Table:
        files, row_numbers = setup.files, setup.row_numbers
        con = duckdb.connect()
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.execute(f"SET memory_limit = '{memory_mb}MiB'")
            if setup.threads is not None:
                con.execute(f"SET threads = {int(setup.threads)}")
            con.execute(f"SET temp_directory = '{_spill_folder()}'")
            if files:
                listed = ", ".join("'" + str(p).replace("'", "''") + "'" for p in files)
                con.execute(
                    "CREATE VIEW events AS SELECT * FROM read_parquet("
                    f"[{listed}], hive_partitioning = true, hive_types = {{'day': DATE}}"
                    f"{', file_row_number = true' if row_numbers else ''}"
                    f"{', union_by_name = true' if setup.by_name else ''})"
                )
            else:
                empty = (
                    STORE_SCHEMA.empty_table()
                    .append_column("org", pa.array([], pa.string()))
                    .append_column("day", pa.array([], pa.date32()))
                )
                if row_numbers:
                    empty = empty.append_column("file_row_number", pa.array([], pa.int64()))
                con.register("_no_events", empty)
                con.execute("CREATE VIEW events AS SELECT * FROM _no_events")
            return con.sql(sql, params=params).to_arrow_table()
        finally:
            con.close()

    def read_selected(
        self,
        sql: str,
        params: Sequence | dict | None = None,
        *,
        start: dt.date | None = None,
        end: dt.date | None = None,
        row_numbers: bool = False,
    ) -> pd.DataFrame:
        """The events ``sql`` selects from the view ``events`` (see ``query``, and its
        ``row_numbers``) as the canonical frame ``read`` gives of the same rows, in the order
        ``sql`` returns them. Its columns are event columns, by name. For a small selection:
        the rows pass through arrow at once."""
        table = self.query(sql, params, start=start, end=end, row_numbers=row_numbers)
        names = table.column_names
        unknown = [name for name in names if name not in schema.EVENT_COLUMNS]
        if unknown:
            raise ValueError(f"unknown column(s): {', '.join(unknown)}")
        stored = pa.Table.from_arrays(
            [_stored_column(table.column(name), name) for name in names], names=names
        )
        return read_frame([self.folder], names, lambda _: _canonical_columns(stored))


@dataclass(frozen=True)
class QuerySetup:
    """How a query's view ``events`` reads the day files: which files, with each row's place
    in its file or not, matching the files' columns by name (when they differ), on how many
    threads (None: DuckDB's own choice)."""

    files: list[Path]
    row_numbers: bool
    by_name: bool
    threads: int | None


def _canonical_columns(table: pa.Table) -> pa.Table:
    """Stored columns in ``c4w.frame``'s column form: times as int64 nanoseconds (NaT where
    missing), numbers NaN where missing."""
    columns = []
    for name in table.column_names:
        column = table.column(name)
        if pa.types.is_timestamp(column.type):
            ns = pa.timestamp("ns", tz=column.type.tz)
            column = column.cast(ns).cast(pa.int64()).fill_null(_NAT)
        elif pa.types.is_floating(column.type):
            column = column.fill_null(np.nan)
        elif name == schema.DATA_PROBLEMS:
            column = column.fill_null(0)
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def _stored_column(column: pa.ChunkedArray, name: str) -> pa.Array:
    """A column of a query's answer in the type the store keeps it in."""
    target = STORE_SCHEMA.field(name).type
    column = column.combine_chunks()
    if pa.types.is_dictionary(target):
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        return pc.dictionary_encode(column.cast(pa.string()))
    return column.cast(target)
