"""Running the app through Streamlit's AppTest on a small demo, with every read of all event
types of the range made to fail, so a test shows what a page reads."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from c4w import data, ui

CREDENTIAL_VARS = ("C4W_TOKEN", "C4W_CLIENT_KEY", "C4W_CLIENT_SECRET", "C4W_ORG_ID", "C4W_BASE_URL")
SMALL_DEMO_EVENTS = "20000"


def on_the_small_demo(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app on the small demo organization: no credentials in the environment."""
    monkeypatch.setenv("C4W_DEMO_EVENTS", SMALL_DEMO_EVENTS)
    for name in CREDENTIAL_VARS:
        monkeypatch.delenv(name, raising=False)


def every_type(*_args, **_kwargs):
    raise AssertionError("the page read every event type of the range")


def refuse_every_type(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, reading the view's events (``ctx.all_events`` and what reads through it) or
    every event type of any day from the store fails."""
    monkeypatch.setattr(ui.PageContext, "all_events", property(every_type))
    monkeypatch.setattr(data, "read_view", every_type)


def open_page(monkeypatch: pytest.MonkeyPatch, page: str) -> tuple[AppTest, list[tuple]]:
    """``page`` run from the app with every read of all event types failing, and the event
    types it asked the history for (``data.read_types``). Nothing is remembered from before, so
    the page reads what its figures need."""
    data.forget_memory()
    at = AppTest.from_file("../app.py", default_timeout=180)
    at.run()  # the first page (Overview) is not under test
    assert not at.exception, [e.value for e in at.exception]
    refuse_every_type(monkeypatch)
    asked: list[tuple[str, ...]] = []
    read_types = data.read_types

    def counting(source, start, end, wanted, columns=None):
        asked.append(tuple(wanted))
        return read_types(source, start, end, wanted, columns)

    monkeypatch.setattr(data, "read_types", counting)
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at, asked
