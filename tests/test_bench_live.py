"""The live benchmark's reading of the sandbox's request log: requests of a step by endpoint,
answers still pending, and the median of a step over several runs."""

from __future__ import annotations

import threading
import time
from collections import Counter

import requests

from bench.live import Step, endpoints_text, median_step, pending, read_log, requests_by_endpoint


def test_requests_of_a_step_are_those_logged_after_it_began():
    log = [
        {"endpoint": "events", "status": 200},  # an earlier step's
        {"endpoint": "locations", "status": 200},
        {"endpoint": "events", "status": 200},
        {"endpoint": "events", "status": None},
    ]
    assert requests_by_endpoint(log, 1) == Counter({"events": 2, "locations": 1})
    assert requests_by_endpoint(log, 4) == Counter()
    assert pending(log) == 1
    assert pending(log[:3]) == 0


def test_endpoints_are_listed_most_asked_first():
    assert endpoints_text(Counter({"contacts": 1, "events": 1228})) == "events 1,228, contacts 1"
    assert endpoints_text(Counter()) == "-"


def test_median_step_takes_each_endpoint_and_time_on_its_own():
    runs = [
        Step("open", Counter({"events": 10, "locations": 1}), 2.0, 5.0),
        Step("open", Counter({"events": 4}), 9.0, 3.0),
        Step("open", Counter({"events": 6, "locations": 1}), 4.0, 4.0),
    ]
    middle = median_step(runs)
    # events 4, 6, 10 -> 6; locations 1, 0, 1 -> 1; shown 2, 4, 9 -> 4; done 3, 4, 5 -> 4
    assert middle.requests == Counter({"events": 6, "locations": 1})
    assert (middle.shown_s, middle.done_s) == (4.0, 4.0)
    sync = median_step([Step("sync", Counter(), None, 7.0), Step("sync", Counter(), None, 9.0)])
    assert sync.requests == Counter() and sync.shown_s is None and sync.done_s == 8.0


def test_the_sandbox_log_shows_a_held_answer_as_pending(sandbox):
    headers = {"Authorization": f"Bearer {sandbox.token}"}
    url = f"{sandbox.url}/v1/organizations/{sandbox.org_id}/locations"
    requests.get(url, headers=headers, timeout=5).raise_for_status()  # the first: answered
    sandbox.add_fault("timeout", endpoint="locations", delay_s=1.0)

    def ask_and_give_up() -> None:
        try:
            requests.get(url, headers=headers, timeout=0.6)
        except requests.exceptions.RequestException:
            pass

    held = threading.Thread(target=ask_and_give_up)
    held.start()
    time.sleep(0.3)
    log = read_log(sandbox)
    assert requests_by_endpoint(log, 0) == Counter({"locations": 2})
    assert pending(log) == 1
    held.join()
