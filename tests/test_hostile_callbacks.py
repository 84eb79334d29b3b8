"""A slow callback and close() (issue 10, item 9): one dispatcher runs every callback
in order, so a blocked callback holds the ones queued behind it; ``stats()`` shows
that backlog, and ``close()`` from another thread still returns in bounded time."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from clientutil import Clients, o2sync_threads, wait_until

from o2sync.testing import Simulator

PAIR = "fFUEL/fUSDC"
QUEUE = 20
pytestmark = pytest.mark.sim_options(seed=3)


def test_close_from_another_thread_is_bounded_behind_a_blocked_callback(
        sim: Simulator, clients: Clients) -> None:
    release, entered = threading.Event(), threading.Event()
    try:
        check_close_behind_blocked_callback(sim, clients(queue_size=QUEUE), release, entered)
    finally:
        release.set()  # never leave the dispatcher blocked for the fixture's teardown


def check_close_behind_blocked_callback(sim: Simulator, client: Any, release: threading.Event,
                                        entered: threading.Event) -> None:
    calls: list[Any] = []

    def stuck(update: Any) -> None:
        calls.append(update)
        entered.set()
        release.wait(30)

    client.on_trades(PAIR, stuck)
    client.connect(5)
    assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_trades")), 5)
    for _ in range(5000):
        sim.step(1)
        if entered.is_set():
            break
    assert entered.wait(5)
    # more trades while the callback is blocked: they queue, up to queue_size
    for _ in range(20000):
        sim.step(5)
        if client.stats()["dropped"]:
            break
    assert wait_until(lambda: client.stats()["dropped"] > 0, 5)  # the bound held
    assert client.stats()["callback_backlog"] >= QUEUE
    backlog = client.stats()["callback_backlog"]
    assert backlog <= QUEUE + 1  # per subscription, never more than its queue

    result: list[bool] = []
    took: list[float] = []

    def closer() -> None:
        started = time.monotonic()
        result.append(client.close(timeout=1))
        took.append(time.monotonic() - started)

    thread = threading.Thread(target=closer, name="test-closer")
    thread.start()
    thread.join(5)
    assert not thread.is_alive() and took[0] < 2.0, took
    assert result == [False]  # the dispatcher is still inside the callback
    assert len(calls) == 1
    release.set()
    # the dispatcher finishes what was queued (bounded by queue_size), then ends
    assert wait_until(lambda: not [n for n in o2sync_threads() if "dispatch" in n], 5), \
        o2sync_threads()
    assert len(calls) <= 1 + backlog
    assert client.close(timeout=1)  # now everything is down
