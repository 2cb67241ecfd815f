"""The contacts table beside an organization's events in the history store.

One Parquet file, ``org=<id>/_contacts/contacts.parquet``, holding the contacts frame
(``c4w.contacts.CONTACT_COLUMNS``): the whole list as the Contacts endpoint last answered it,
replaced at once (written to a temporary file, then renamed) under the store's write lock.
DuckDB reads it like the events (``read_parquet('.../_contacts/contacts.parquet')``). The
leading ``_`` keeps it out of an engine's scan of the event folders (Spark, Hive, Trino and
pyarrow skip such names). Identity is personal data: the file stays in the store's folder,
which only the dashboard's user can read.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from c4w import contacts as ct
from c4w.store.store import EventStore

FOLDER, FILE_NAME = "_contacts", "contacts.parquet"
OLD_FOLDER = "contacts"  # where earlier builds kept it, inside the events' scan


def contacts_path(store: EventStore) -> Path:
    """Where the organization's contacts file lives (whether or not it exists)."""
    return store.folder / FOLDER / FILE_NAME


def _old_path(store: EventStore) -> Path:
    return store.folder / OLD_FOLDER / FILE_NAME


def write_contacts(store: EventStore, contacts: pd.DataFrame) -> Path:
    """Replace the stored contacts with ``contacts`` (a contacts frame). Takes the write lock
    when the caller does not hold it (``StoreBusy`` when another writer does)."""
    if store._lock is None:  # noqa: SLF001 - the store's own "is the lock held" flag
        with store.write_lock():
            return write_contacts(store, contacts)
    path = contacts_path(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = ct.tidy(contacts)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".contacts-", suffix=".tmp")
    os.close(handle)
    try:
        frame.to_parquet(temporary, index=False)
        os.replace(temporary, path)
        _old_path(store).unlink(missing_ok=True)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return path


def read_contacts(store: EventStore) -> pd.DataFrame:
    """The stored contacts frame (no rows when none were stored yet)."""
    path = contacts_path(store)
    if not path.exists():
        path = _old_path(store)
    if not path.exists():
        return ct.empty_contacts()
    return ct.tidy(pd.read_parquet(path))
