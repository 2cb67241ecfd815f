"""Freed memory handed back to the system after a run."""

from __future__ import annotations

import numpy as np

from c4w import memory


def _resident_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def test_memory_a_run_freed_leaves_the_process() -> None:
    # 4,000 blocks of 64 kB, each small enough for the C library's heap, every other one freed:
    # 122 MiB of holes the heap keeps for reuse
    blocks = [np.ones(8000) for _ in range(4000)]
    kept = blocks[1::2]
    del blocks
    before = _resident_mib()
    assert memory.give_back_freed()  # glibc, as on every machine this runs on
    assert before - _resident_mib() > 80
    assert len(kept) == 2000


def test_nothing_to_give_back_is_cheap_and_harmless() -> None:
    memory.give_back_freed()
    assert memory.give_back_freed()


def test_arrow_returns_what_it_frees_unless_told_otherwise() -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    before = pa.default_memory_pool()
    try:
        assert memory.use_returning_pool({"ARROW_DEFAULT_MEMORY_POOL": "system"}) == (
            before.backend_name
        )
        assert memory.use_returning_pool({}) == "jemalloc"  # the Linux wheels have it
        # the 64 MiB of a computed column, freed, go back at once
        column = pc.add(pa.array(np.arange(8 * 2**20)), 1)
        assert column.nbytes == 64 * 2**20
        held = _resident_mib()
        del column
        assert held - _resident_mib() > 48
    finally:
        pa.set_memory_pool(before)


def test_the_server_starts_with_two_heaps_unless_told_otherwise() -> None:
    assert memory.server_environment({"PATH": "/bin"}) == {"PATH": "/bin", "MALLOC_ARENA_MAX": "2"}
    assert memory.server_environment({"MALLOC_ARENA_MAX": "8"}) == {"MALLOC_ARENA_MAX": "8"}
    given = {"A": "1"}
    memory.server_environment(given)
    assert given == {"A": "1"}  # the caller's mapping is left as it was
