"""Memory a run has freed, handed back to the system.

Python's allocator (glibc's malloc) keeps freed memory for reuse, and pyarrow keeps its own
pool: a page that built large frames for a moment leaves the server that much larger until
something else needs the same kind of memory. Arrow's pool and DuckDB's allocator do not reuse
glibc's free memory, nor it theirs, so after every run the free part is given back.

Arrow's default pool (mimalloc) keeps what a read of the store freed: reading 4.7 million rows
into a 116 MiB frame left the process 574 MiB larger (642 MiB at the peak). Its jemalloc pool,
told to return freed pages at once, left it 196 MiB larger (313 MiB at the peak), in the same
time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
from collections.abc import Mapping

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


def use_returning_pool(environ: dict[str, str] | None = None) -> str:
    """Make arrow allocate from jemalloc, returning freed pages to the system at once, where
    pyarrow has it and ``ARROW_DEFAULT_MEMORY_POOL`` does not choose another. Returns the
    pool's name."""
    environ = os.environ if environ is None else environ
    if not environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        try:
            pool = pa.jemalloc_memory_pool()
        except NotImplementedError:  # a pyarrow built without jemalloc (macOS, Windows)
            pool = None
        if pool is not None:
            pa.jemalloc_set_decay_ms(0)
            pa.set_memory_pool(pool)
    return pa.default_memory_pool().backend_name


# glibc gives each thread that contends for the heap an arena of its own (up to 8 a core), and
# what a thread frees stays in its arena: DuckDB's threads and the page's thread then each keep
# their own free memory. The dashboard's server is started with two.
HEAPS_ENV = "MALLOC_ARENA_MAX"
SERVER_HEAPS = "2"


def server_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` for the dashboard's server process: glibc's heaps limited to
    ``SERVER_HEAPS`` unless ``MALLOC_ARENA_MAX`` is set (read when the process starts)."""
    env = dict(environ)
    env.setdefault(HEAPS_ENV, SERVER_HEAPS)
    return env
