"""Memory a run has freed, handed back to the system.

Python's allocator (glibc's malloc) keeps freed memory for reuse, and pyarrow keeps its own
pool: a page that built large frames for a moment leaves the server that much larger until
something else needs the same kind of memory. Arrow's pool and DuckDB's allocator do not reuse
glibc's free memory, nor it theirs, so after every run the free part is given back.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import pyarrow as pa


@functools.cache
def _malloc_trim():
    """glibc's ``malloc_trim``, or None where the C library has none (macOS, musl)."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (AttributeError, OSError):
        return None


def give_back_freed() -> bool:
    """Return the free memory of arrow's pool and of the C library's heap to the system.
    Returns whether the C library could (False where it has no ``malloc_trim``)."""
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
