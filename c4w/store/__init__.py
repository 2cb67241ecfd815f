"""The on-disk history store: each organization's events as Parquet by UTC day.

``EventStore(root, org_id)`` reads days as pandas frames (pyarrow.dataset) and runs SQL over
them (DuckDB); ``c4w.sync`` fills it from the API, ``c4w.store.demo`` from the demo.
"""

from c4w.store.lock import StoreBusy
from c4w.store.partition import CorruptPartition, DayState
from c4w.store.paths import STORE_DIR_ENV, default_store_dir, store_dir
from c4w.store.settle import LATEST_TIMEZONE, SETTLE_LAG, is_settled, settled_at
from c4w.store.store import EventStore, days_between

__all__ = [
    "LATEST_TIMEZONE",
    "SETTLE_LAG",
    "STORE_DIR_ENV",
    "CorruptPartition",
    "DayState",
    "EventStore",
    "StoreBusy",
    "days_between",
    "default_store_dir",
    "is_settled",
    "settled_at",
    "store_dir",
]
