"""Time bounds and failures that must stop early, over real HTTP against the sandbox.

An API that stops answering gives "Cloud4Wi is not answering" within a bound (each try, the wait
for one answer with its retries, the whole fetch); a 429 with Retry-After waits at most a capped
total and says so first; a refused key/secret is tried once; an HTML page is named as such.
Bounds are scaled down here (fractions of a second); ``bench/hang.py`` measures the defaults.
"""

from __future__ import annotations

import time

import pytest

from c4w import client as client_module
from c4w import ui
from c4w.client import Client
from c4w.errors import AuthError, NotAnsweringError, NotJSONError, RateLimitError
from tests.conftest import ORG_ID

HANG_S = 30.0  # the sandbox holds a hung answer this long; the client must give up far earlier


def fetch(client: Client, **options):
    options.setdefault("page_size", 6)
    options.setdefault("workers", 1)
    return client.org_events(ORG_ID, **options)


# --- 1: an API that stops answering ---------------------------------------------------------------
def test_the_default_bounds_give_the_message_within_30_seconds(sandbox) -> None:
    client = Client(sandbox.url, token=sandbox.token)
    connect, read = client.timeout
    assert connect <= 5  # a connect timeout of a few seconds
    # a 10,000-event page (about 10 MB) is sent well within the read timeout by the sandbox
    assert 5 <= read <= client.patience
    # no try starts that could not end before the patience runs out, so the wait for one answer
    # (retries included) is at most `patience`, and the page polls every quarter second
    assert client.patience + 0.25 < 30
    assert client.deadline >= client.patience


@pytest.mark.parametrize("workers", [1, 4])
def test_a_hung_api_gives_not_answering_within_the_patience(sandbox, workers) -> None:
    sandbox.add_fault("timeout", times=None, delay_s=HANG_S)
    client = Client(
        sandbox.url, token=sandbox.token, timeout=(0.5, 0.5), backoff_factor=0.01, patience=2.2
    )
    started = time.monotonic()
    with pytest.raises(NotAnsweringError) as caught:
        fetch(client, start="2024-03-01", end="2024-03-11", workers=workers)
    waited = time.monotonic() - started
    # tries of at most 0.5 + 0.5 s: one starts only if it can end within 2.2 s of the first
    # (at 0, 0.5 and 1.0 s), so the message comes after about 1.5 s, never after 2.2 s
    assert waited < 2.2 + 0.5  # a little slack for a loaded machine
    assert "not answering" in str(caught.value)
    assert ui.error_message(caught.value).startswith("Cloud4Wi is not answering.")
    tries = len(sandbox.requests_to("events"))
    assert workers <= tries <= 3 * workers  # retried, but not the 6 tries per window of before


def test_a_whole_fetch_is_bounded_too(sandbox_factory, small_org) -> None:
    box = sandbox_factory(small_org, latency_ms=150)
    client = Client(box.url, token=box.token, deadline=0.5)
    started = time.monotonic()
    with pytest.raises(NotAnsweringError) as caught:
        fetch(client, page_size=2)  # 60 events in pages of 2: 31 requests of 150 ms or more
    assert time.monotonic() - started < 0.5 + 1.0
    assert "too slowly" in str(caught.value)
    assert len(box.requests_to("events")) <= 5  # 0.5 s of 150 ms answers, and the one under way


def test_the_locations_call_is_bounded(sandbox) -> None:
    sandbox.add_fault("timeout", endpoint="locations", times=None, delay_s=HANG_S)
    client = Client(sandbox.url, token=sandbox.token, timeout=(0.5, 0.5), patience=1.2)
    started = time.monotonic()
    with pytest.raises(NotAnsweringError):
        client.locations(ORG_ID)
    assert time.monotonic() - started < 1.2 + 0.5


def test_a_lasting_5xx_on_locations_gives_up_within_the_patience(sandbox) -> None:
    # back-off 0.2, 0.4, 0.8, 1.6 s...: tries at 0, 0.2, 0.6, 1.4 s; the next would start at
    # 3.0 s and could last 2 s (two 1 s timeouts), past the 2.5 s patience: it is not started
    sandbox.add_fault(503, endpoint="locations", times=None)
    client = Client(
        sandbox.url, token=sandbox.token, timeout=1.0, backoff_factor=0.1, patience=2.5, retries=8
    )
    started = time.monotonic()
    with pytest.raises(client_module.APIError):
        client.locations(ORG_ID)
    assert time.monotonic() - started < 2.5
    assert len(sandbox.requests_to("locations")) < 9  # not every one of the 1 + 8 tries


# --- 7: 429 with Retry-After ----------------------------------------------------------------------
def test_rate_limit_waits_are_capped_in_total_and_announced(sandbox) -> None:
    sandbox.add_fault(429, times=None, retry_after=1)
    seen: list[float] = []

    def progress(update) -> None:
        if update.retry_at is not None:
            seen.append(update.retry_at - time.time())

    client = Client(sandbox.url, token=sandbox.token, rate_limit_wait=1.5, retries=5)
    started = time.monotonic()
    with pytest.raises(RateLimitError) as caught:
        fetch(client, progress=progress)
    waited = time.monotonic() - started
    # one wait of 1 s fits the 1.5 s allowance, a second one would end at 2 s: not waited.
    # Before, each of the 5 retries waited the 1 s asked for (5 s in all).
    assert 1.0 <= waited < 1.9
    assert len(sandbox.requests_to("events")) == 2
    assert len(seen) == 1 and 0.5 < seen[0] <= 1.0  # "retrying in 1 s" shown before the wait
    assert caught.value.retry_after == 1.0


def test_a_retry_after_longer_than_one_wait_may_be_is_not_waited(sandbox) -> None:
    sandbox.add_fault(429, times=None, retry_after=5)
    client = Client(sandbox.url, token=sandbox.token, max_retry_after=2)
    started = time.monotonic()
    with pytest.raises(RateLimitError) as caught:
        fetch(client)
    assert time.monotonic() - started < 1.0  # before: 5 retries of 2 s (the cap) each
    assert "wait 5 s" in caught.value.hint
    assert ui.error_message(caught.value).startswith("Cloud4Wi is receiving too many requests")


def test_concurrent_windows_share_one_rate_limit_allowance(sandbox) -> None:
    sandbox.add_fault(429, times=None, retry_after=1)
    client = Client(sandbox.url, token=sandbox.token, rate_limit_wait=1.5)
    started = time.monotonic()
    with pytest.raises(RateLimitError):
        fetch(client, start="2024-03-01", end="2024-03-11", workers=4)
    assert time.monotonic() - started < 2.0  # four windows wait side by side, once


# --- 11: a bad key or secret ----------------------------------------------------------------------
def test_a_refused_secret_is_tried_once_per_fetch_and_not_again_at_once(sandbox) -> None:
    client = Client(sandbox.url, client_key=sandbox.client_key, client_secret="wrong-secret")
    with pytest.raises(AuthError) as caught:
        fetch(client, start="2024-03-01", end="2024-03-11", workers=4)  # four date windows
    assert caught.value.status == 401
    assert len(sandbox.requests_to("login")) == 1  # before: one login per window, 4 in all
    with pytest.raises(AuthError):
        fetch(client)
    assert len(sandbox.requests_to("login")) == 1
    assert sandbox.requests_to("events") == []


# --- 12: an HTML page instead of JSON ------------------------------------------------------------
@pytest.mark.parametrize("endpoint", ["events", "locations"])
def test_an_html_page_is_named_as_something_that_is_not_json(sandbox, endpoint) -> None:
    sandbox.add_fault("not_json", endpoint=endpoint, times=None)
    client = Client(sandbox.url, token=sandbox.token)
    with pytest.raises(NotJSONError) as caught:
        fetch(client) if endpoint == "events" else client.locations(ORG_ID)
    assert "not JSON" in str(caught.value)
    message = ui.error_message(caught.value)
    assert message.startswith("Cloud4Wi answered something that is not JSON.")
    assert "could not be reached" not in message


def test_the_progress_bar_says_rate_limited_and_counts_down() -> None:
    assert ui.fetch_progress_text(1200, 3, 1010.2, 1000.0) == (
        "Cloud4Wi is rate limited, retrying in 11 s… 1,200 so far (3 pages)"  # 10.2 s, rounded up
    )
    assert ui.fetch_progress_text(1200, 3, 1010.2, 1009.9).startswith(
        "Cloud4Wi is rate limited, retrying in 1 s"
    )
    # once the wait is over (or when there is none) it is a plain fetch again
    assert ui.fetch_progress_text(1200, 3, 1010.2, 1010.5) == (
        "Fetching events from Cloud4Wi… 1,200 so far (3 pages)"
    )
    assert (
        ui.fetch_progress_text(0, 0, None, 0.0)
        == "Fetching events from Cloud4Wi… 0 so far (0 pages)"
    )


def test_the_fetch_counter_hears_of_a_wait_and_of_its_end(sandbox) -> None:
    from c4w import data

    sandbox.add_fault(429, page=2, retry_after=1)
    seen: list[float | None] = []

    class Counter(data.FetchCounter):
        def __call__(self, progress) -> None:
            super().__call__(progress)
            seen.append(self.retry_at)

    before = time.time()
    fetch(Client(sandbox.url, token=sandbox.token), progress=Counter())
    waits = [at for at in seen if at is not None]
    assert len(waits) == 1 and before + 1.0 <= waits[0] <= time.time()
    assert seen[0] is None and seen[-1] is None  # page 1 before the wait, the last page after
