"""Figures over a store (``c4w.data.store_figure``) are computed once per key: a figure under
way for another session is waited for, its error reaches every session waiting for it, and a
session stopped while computing it leaves it to the next."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from c4w import data


class FakeStore:
    """What a store figure's key reads of a store: its folder, org and days (none here)."""

    def __init__(self, name: str) -> None:
        self.root = Path("/nowhere") / name
        self.org_id = "org"

    def day_states(self) -> dict:
        return {}


class Counted:
    """A figure (``compute``) that counts its calls and, when ``gate`` is given, waits for it
    to open."""

    def __init__(self, gate: threading.Event | None = None, fail: bool = False) -> None:
        self.calls = 0
        self.started = threading.Event()
        self.gate = gate
        self.fail = fail

    def compute(self, store, n: int) -> list[int]:
        self.calls += 1
        self.started.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        if self.fail:
            raise ValueError("the query failed")
        return [n, n * 2]


@pytest.fixture(autouse=True)
def no_figures():
    data.forget_memory()
    yield
    data.forget_memory()


def test_two_sessions_asking_at_once_share_one_computation():
    gate = threading.Event()
    figure = Counted(gate)
    store = FakeStore("shared")
    got: list = []
    askers = [
        threading.Thread(target=lambda: got.append(data.store_figure(figure.compute, store, 5)))
        for _ in range(3)
    ]
    for asker in askers:
        asker.start()
    assert figure.started.wait(10)
    gate.set()
    for asker in askers:
        asker.join(10)
    assert figure.calls == 1
    assert len(got) == 3 and all(g is got[0] for g in got)


def test_other_arguments_or_another_store_are_other_figures():
    figure = Counted()
    first, second = FakeStore("one"), FakeStore("two")
    assert data.store_figure(figure.compute, first, 1) == [1, 2]
    assert data.store_figure(figure.compute, first, 2) == [2, 4]
    assert data.store_figure(figure.compute, second, 1) == [1, 2]
    assert figure.calls == 3


def test_an_error_reaches_every_session_waiting_for_the_figure_then_it_is_computed_again():
    gate = threading.Event()
    failing = Counted(gate, fail=True)
    store = FakeStore("error")
    got: list = []

    def ask() -> None:
        try:
            data.store_figure(failing.compute, store, 4)
        except ValueError as error:
            got.append(str(error))

    askers = [threading.Thread(target=ask) for _ in range(2)]
    for asker in askers:
        asker.start()
    assert failing.started.wait(10)
    gate.set()
    for asker in askers:
        asker.join(10)
    assert got == ["the query failed"] * 2
    assert failing.calls == 1
    failing.fail = False  # nothing of the error was kept: the next ask computes it
    assert data.store_figure(failing.compute, store, 4) == [4, 8]
    assert failing.calls == 2


class Stopped(BaseException):
    """What a session's script gets when it is stopped for a rerun (not an ``Exception``)."""


def test_a_figure_stopped_in_one_session_is_computed_by_the_one_waiting():
    gate = threading.Event()
    figure = Counted(gate)
    store = FakeStore("stopped")
    calls = {"n": 0}

    def stopped_once(store_, n: int) -> list[int]:
        calls["n"] += 1
        if calls["n"] == 1:
            figure.started.set()
            assert gate.wait(10)
            raise Stopped
        return [n, n * 2]

    stopped_once.__qualname__ = "stopped_once"
    first: list = []

    def stop_first() -> None:
        try:
            data.store_figure(stopped_once, store, 6)
        except Stopped:
            first.append("stopped")

    got: list = []
    one = threading.Thread(target=stop_first)
    one.start()
    assert figure.started.wait(10)
    two = threading.Thread(target=lambda: got.append(data.store_figure(stopped_once, store, 6)))
    two.start()
    two.join(0.2)
    gate.set()
    one.join(10)
    two.join(10)
    assert first == ["stopped"]  # only the stopped session sees its stop
    assert got == [[6, 12]] and calls["n"] == 2
