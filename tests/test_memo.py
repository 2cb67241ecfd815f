"""The memo keys a named frame by its name (no hashing of its rows), anything else by content."""

from __future__ import annotations

import gc
import sys

import numpy as np
import pandas as pd

from c4w.metrics import memo


def counting():
    calls = []

    def total(frame: pd.DataFrame) -> int:
        calls.append(1)
        return int(frame["n"].sum())

    return total, calls


def test_a_named_frame_is_remembered_by_its_name(monkeypatch) -> None:
    total, calls = counting()
    remembered = memo.remember(total)
    hashed = []
    real_key = memo.frame_key
    monkeypatch.setattr(memo, "frame_key", lambda f: hashed.append(1) or real_key(f))
    first = memo.name_frame(pd.DataFrame({"n": [1, 2, 3]}), ("days", 1))
    assert remembered(first) == 6
    # another frame under the same name is taken for the same rows: the name vouches for them
    again = memo.name_frame(pd.DataFrame({"n": [1, 2, 3]}), ("days", 1))
    assert remembered(again) == 6
    assert len(calls) == 1 and not hashed
    # another name is another result
    other = memo.name_frame(pd.DataFrame({"n": [10]}), ("days", 2))
    assert remembered(other) == 10
    assert len(calls) == 2
    # an unnamed frame is keyed by content
    assert remembered(pd.DataFrame({"n": [4]})) == 4
    assert remembered(pd.DataFrame({"n": [4]})) == 4
    assert len(calls) == 3 and len(hashed) == 2


def test_a_frame_gone_takes_its_name_with_it() -> None:
    frame = memo.name_frame(pd.DataFrame({"n": [1]}), "gone")
    ident = id(frame)
    del frame
    gc.collect()
    later = pd.DataFrame({"n": [5]})
    assert memo._name_of(later) is None or id(later) != ident
    assert ident not in memo._NAMES


def test_remembered_gives_one_memo_per_function() -> None:
    total, calls = counting()
    frame = pd.DataFrame({"n": [2, 2]})
    assert memo.remembered(total)(frame) == 4
    assert memo.remembered(total)(frame) == 4  # a page's next run: the same memo
    assert len(calls) == 1


def test_some_columns_of_a_named_frame_are_named_too() -> None:
    total, calls = counting()
    remembered = memo.remember(total)
    whole = memo.name_frame(pd.DataFrame({"n": [1, 2], "m": [7, 8]}), "both days")
    part = memo.columns_of(whole, ["n"])
    assert list(part.columns) == ["n"]
    assert remembered(part) == 3
    assert remembered(memo.columns_of(whole, ["n"])) == 3
    assert len(calls) == 1
    assert memo._name_of(memo.columns_of(pd.DataFrame({"n": [1]}), ["n"])) is None


def test_a_part_cut_from_a_named_frame_is_named_by_the_cut() -> None:
    total, calls = counting()
    remembered = memo.remember(total)
    whole = memo.name_frame(pd.DataFrame({"n": [1, 2, 4]}), "three days")
    early = memo.name_after(whole.iloc[:2], whole, "before", "noon")
    assert remembered(early) == 3
    assert remembered(memo.name_after(whole.iloc[:2], whole, "before", "noon")) == 3
    assert len(calls) == 1
    # another cut of the same frame is another name: computed again, not taken for the first
    assert remembered(memo.name_after(whole.iloc[:1], whole, "before", "dawn")) == 1
    assert len(calls) == 2
    # a cut that is the frame itself keeps the frame's own name
    assert memo.name_after(whole, whole, "before", None) is whole
    assert memo._name_of(whole) == "three days"


def test_a_remembered_frame_is_keyed_by_what_made_it(monkeypatch) -> None:
    """A frame a remembered function returns is named after its arguments, so the next
    remembered function it is given keys it with no hashing."""

    def doubled(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.assign(n=frame["n"] * 2)

    total, calls = counting()
    double, add = memo.remember(doubled), memo.remember(total)
    whole = memo.name_frame(pd.DataFrame({"n": [1, 2, 3]}), "three days")
    hashed = []
    frame_key = memo.frame_key
    monkeypatch.setattr(memo, "frame_key", lambda f: hashed.append(1) or frame_key(f))
    assert add(double(whole)) == 12
    assert add(double(whole)) == 12
    assert len(calls) == 1 and not hashed
    # a function that hands back a named argument leaves that name as it is
    assert memo.remember(lambda frame: frame)(whole) is whole
    assert memo._name_of(whole) == "three days"


def test_a_later_frame_is_read_only_for_a_result_not_remembered() -> None:
    total, calls = counting()
    remembered = memo.remember(total)
    reads = []

    def read() -> pd.DataFrame:
        reads.append(1)
        return pd.DataFrame({"n": [1, 2, 3, 4]})

    assert remembered(memo.Later(("days", 7), read)) == 10
    assert len(reads) == 1 and len(calls) == 1
    # the next run's frame of the same days: the result is found by its name, nothing is read
    assert remembered(memo.Later(("days", 7), read)) == 10
    assert len(reads) == 1 and len(calls) == 1
    # a read frame under that name finds the same result: the two are keyed alike
    assert remembered(memo.name_frame(pd.DataFrame({"n": [1, 2, 3, 4]}), ("days", 7))) == 10
    assert len(calls) == 1
    # other days are read and computed
    assert remembered(memo.Later(("days", 8), read)) == 10
    assert len(reads) == 2 and len(calls) == 2


def test_a_later_frame_is_read_once_and_keeps_its_name() -> None:
    reads = []
    later = memo.Later("week", lambda: reads.append(1) or pd.DataFrame({"n": [5, 6]}))
    assert later.frame is later.frame
    assert len(reads) == 1
    assert memo._name_of(later.frame) == "week"
    assert memo.now(later) is later.frame and memo.now(3) == 3


def test_a_later_part_is_named_after_the_frame_and_cut_from_it() -> None:
    total, calls = counting()
    remembered = memo.remember(total)
    reads = []
    later = memo.Later("month", lambda: reads.append(1) or pd.DataFrame({"n": [1, 20, 300]}))
    big = later.then(lambda frame: frame.loc[frame["n"] > 10], "over", 10)
    assert big.name == (("over", 10), "month")
    assert not reads  # nothing is read to name it
    assert remembered(big) == 320
    assert remembered(later.then(lambda frame: frame.loc[frame["n"] > 10], "over", 10)) == 320
    assert len(calls) == 1 and len(reads) == 1
    # a part cut by name_after from the frame read is keyed the same way
    assert memo.name_after(pd.DataFrame({"n": [2]}), later, "x") is not None
    assert memo._name_of(memo.name_after(pd.DataFrame({"n": [2]}), later, "x")) == (("x",), "month")


def test_the_frames_a_remembered_result_holds_are_named_too(monkeypatch) -> None:
    import dataclasses

    @dataclasses.dataclass(eq=False)
    class Result:
        rows: pd.DataFrame
        count: int

    made = memo.remember(lambda frame: Result(frame.assign(m=frame["n"] * 2), len(frame)))
    pair = memo.remember(lambda frame: (frame.head(1), frame.tail(1), 3))
    frame = memo.name_frame(pd.DataFrame({"n": [1, 2, 3]}), "three")
    result, parts = made(frame), pair(frame)
    assert memo._name_of(result.rows) is not None
    assert memo._name_of(parts[0]) is not None and memo._name_of(parts[1]) is not None
    assert memo._name_of(parts[0]) != memo._name_of(parts[1])
    # so a figure of them is found again with no hashing
    total, calls = counting()
    remembered = memo.remember(total)
    hashed = []
    real_key = memo.frame_key
    monkeypatch.setattr(memo, "frame_key", lambda f: hashed.append(1) or real_key(f))
    assert remembered(made(frame).rows) == 6
    assert remembered(made(frame).rows) == 6
    assert len(calls) == 1 and not hashed


def test_forget_empties_every_memo() -> None:
    total, calls = counting()
    one, two = memo.remember(total), memo.remember(total)
    frame = pd.DataFrame({"n": [1, 2]})
    assert one(frame) == two(frame) == 3 and len(calls) == 2
    memo.forget()
    assert one(frame) == two(frame) == 3 and len(calls) == 4


# --- the budget of kept bytes ------------------------------------------------------------------
def test_sizes_count_arrays_in_full_and_texts_by_sample() -> None:
    numbers = pd.DataFrame({"n": np.arange(1_000, dtype=np.int64)})
    assert memo.size_of(numbers) == 8_000 + memo.size_of(numbers.index)
    assert memo.size_of(numbers.index) < 200  # a range index holds no array
    texts = pd.Series(["abc"] * 1_000, dtype=object, index=pd.RangeIndex(1_000))
    # 1,000 pointers and 1,000 texts of sys.getsizeof("abc") bytes each
    assert memo.size_of(texts.to_numpy()) == 8_000 + 1_000 * sys.getsizeof("abc")
    # int8 codes and two texts
    codes = pd.Categorical(pd.Series(["a", "b", "a", "a"], dtype=object))
    assert memo.size_of(codes) == 4 + 2 * 8 + 2 * sys.getsizeof("a")
    pair = (np.zeros(10, dtype=np.int64), np.zeros(5, dtype=np.int32))
    assert memo.size_of(pair) == sys.getsizeof(pair) + 80 + 20
    # a two-level index: its levels (2 texts, 2 int64s) and one int8 code per row and level
    levels = pd.MultiIndex.from_arrays(
        [pd.Index(["a", "b", "a"], dtype=object), pd.Index([1, 1, 2], dtype=np.int64)]
    )
    by_two = pd.Series([1.0, 2.0, 3.0], index=levels)
    assert memo.size_of(by_two) == 24 + (2 * 8 + 2 * sys.getsizeof("a")) + 16 + 2 * 3
    # a long list of texts from a sample of them: 10,000 texts of one length
    ids = [f"{n:08d}" for n in range(10_000)]
    assert memo.size_of(ids) == sys.getsizeof(ids) + 10_000 * sys.getsizeof("00000000")


def test_what_earlier_runs_left_makes_room_and_the_run_under_way_keeps_its_own() -> None:
    kept = memo.KeptResults(budget=250)
    forgotten: list[str] = []
    array = np.zeros(100, dtype=np.uint8)  # 100 bytes

    def add(name: str) -> None:
        kept.add((name,), array, lambda: forgotten.append(name))

    kept.start_run()
    add("a")
    add("b")
    kept.start_run()
    add("c")  # 300 bytes: "a", the least recently used of an earlier run, goes
    assert forgotten == ["a"] and kept.nbytes == 200
    kept.start_run()
    kept.used(("b",))  # used again in this run: now the most recent, and kept
    add("d")
    add("e")  # "c" goes, then the run's own "b", "d" and "e" stay over the budget
    assert forgotten == ["a", "c"] and kept.nbytes == 300
    kept.dropped([("d",)])  # its memo let it go: no longer counted
    assert kept.nbytes == 200


def test_a_memo_over_the_budget_forgets_results_of_earlier_runs(monkeypatch) -> None:
    monkeypatch.setattr(memo, "KEPT", memo.KeptResults(budget=1_500))
    calls: list[int] = []

    @memo.remember
    def block(n: int) -> np.ndarray:
        calls.append(n)
        return np.zeros(1_000, dtype=np.uint8)

    memo.start_run()
    block(1)
    memo.start_run()
    block(2)  # 2,000 bytes kept: block(1) is forgotten
    block(2)
    assert calls == [1, 2]
    block(1)  # computed again
    assert calls == [1, 2, 1]
    block.cache_clear()
    assert memo.KEPT.nbytes == 0


def test_the_budget_is_read_from_the_environment() -> None:
    assert memo.kept_budget({}) == memo.DEFAULT_KEPT_MB * 2**20
    assert memo.kept_budget({"C4W_FIGURES_MB": "64"}) == 64 * 2**20
    assert memo.kept_budget({"C4W_FIGURES_MB": "lots"}) == memo.DEFAULT_KEPT_MB * 2**20
