"""Guest numbers: every contact id of an organization's stored events numbered once, for good.

Each day file carries ``guest_no`` beside ``contact_id``: the same number for the same id on
every day, never one number for two ids. Queries that group or order by guest (distinct
guests, each guest's previous visit) use it: an integer groups and sorts at half the cost of a
32-character text (10M events: distinct guests 1.8 -> 0.8 CPU s). The numbers live in
``org=<id>/_contacts/guest_numbers.parquet`` (``contact_id``, ``guest_no``), replaced at once
under the write lock before any day file that uses a new number is written, so a crash leaves
at worst numbers no day uses. A lost or unreadable list is rebuilt from the day files, which
hold every number they use.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from c4w import schema

GUEST_NO = "guest_no"
GUEST_NO_TYPE = pa.int32()
CONTACT_ID = schema.CONTACT_ID
FILE_NAME = "guest_numbers.parquet"
_SCHEMA = pa.schema([(CONTACT_ID, pa.string()), (GUEST_NO, GUEST_NO_TYPE)])


class GuestNumbers:
    """The numbered contact ids of one organization, in number order."""

    def __init__(self, ids: pa.Array, numbers: pa.Array) -> None:
        self.ids = ids.cast(pa.string())
        self.numbers = numbers.cast(GUEST_NO_TYPE)
        self.next_number = 0 if len(numbers) == 0 else int(pc.max(self.numbers).as_py()) + 1

    @classmethod
    def empty(cls) -> GuestNumbers:
        return cls(pa.array([], pa.string()), pa.array([], GUEST_NO_TYPE))

    @classmethod
    def of_table(cls, table: pa.Table) -> GuestNumbers:
        """From a table of ``contact_id`` and ``guest_no`` pairs (repeats allowed, as the day
        files hold them); ValueError when an id has two numbers or a number two ids."""
        pairs = _pairs(table)
        pairs = pairs.filter(pc.is_valid(pairs[CONTACT_ID]))
        pairs = pairs.group_by([CONTACT_ID, GUEST_NO]).aggregate([])
        if pairs.num_rows and (
            pc.count_distinct(pairs[CONTACT_ID]).as_py() != pairs.num_rows
            or pc.count_distinct(pairs[GUEST_NO]).as_py() != pairs.num_rows
        ):
            raise ValueError("the guest numbers are not one number per contact id")
        order = pc.sort_indices(pairs, [(GUEST_NO, "ascending")])
        pairs = pairs.take(order)
        return cls(pairs[CONTACT_ID].combine_chunks(), pairs[GUEST_NO].combine_chunks())

    def numbered(self, contact_ids: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, GuestNumbers]:
        """The number of each of ``contact_ids`` (null where the id is null) and the numbers
        with the ids not seen before added (``self`` when there were none)."""
        if isinstance(contact_ids, pa.ChunkedArray):
            contact_ids = contact_ids.combine_chunks()
        texts = contact_ids.cast(pa.string())
        asked = pc.unique(texts.drop_null())
        # probe the whole list with the (few) ids asked: one hash table of the asked ids only
        where = pc.index_in(self.ids, value_set=asked)
        found = pc.is_valid(where).to_numpy(zero_copy_only=False)
        of_asked = np.full(len(asked), -1, dtype=np.int64)
        of_asked[pc.filter(where, found).to_numpy()] = self.numbers.to_numpy()[found]
        new = np.flatnonzero(of_asked < 0)
        grown = self
        if len(new):
            of_asked[new] = np.arange(self.next_number, self.next_number + len(new))
            grown = GuestNumbers(
                pa.concat_arrays([self.ids, asked.take(pa.array(new))]),
                pa.concat_arrays([self.numbers, pa.array(of_asked[new], GUEST_NO_TYPE)]),
            )
        return pa.array(of_asked, GUEST_NO_TYPE).take(pc.index_in(texts, value_set=asked)), grown

    def table(self) -> pa.Table:
        return pa.Table.from_arrays([self.ids, self.numbers], schema=_SCHEMA)

    def save(self, path: Path) -> None:
        """Replace the file at ``path`` with these numbers (a temporary file, flushed, renamed)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".guests-", suffix=".tmp")
        os.close(handle)
        try:
            table = self.table()
            with open(temporary, "wb") as out:
                pq.write_table(table, out, compression="zstd")
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, path)
        finally:
            Path(temporary).unlink(missing_ok=True)


def load(
    path: Path, days_top: int | None, day_pairs: Callable[[], Iterable[pa.Table]]
) -> GuestNumbers:
    """The numbers kept at ``path``; rebuilt from the day files (``day_pairs``: each numbered
    day's ``contact_id`` and ``guest_no``) when the file is missing or unreadable while days
    are numbered, or when it lacks the highest number a day uses (``days_top``, None when no
    day is numbered)."""
    try:
        kept = GuestNumbers.of_table(pq.read_table(path, schema=_SCHEMA))
    except (OSError, pa.ArrowException, ValueError):
        kept = GuestNumbers.empty()
    if days_top is None or days_top < kept.next_number:
        return kept
    days = pa.concat_tables([_pairs(table) for table in day_pairs()])
    try:
        return GuestNumbers.of_table(pa.concat_tables([kept.table(), days]))
    except ValueError:  # the kept list disagrees with the days: the days are what counts
        return GuestNumbers.of_table(days)


def _pairs(table: pa.Table) -> pa.Table:
    ids, numbers = table[CONTACT_ID].cast(pa.string()), table[GUEST_NO].cast(GUEST_NO_TYPE)
    return pa.Table.from_arrays([ids, numbers], schema=_SCHEMA)
