"""The opt-in inline mode (issue 21, decision 2): ``inline_callbacks=True`` runs
stream callbacks on the socket's reader thread instead of the dispatcher thread.

What a user relies on: the callbacks run, on the reader thread, in arrival order
and with the same events a queue consumer gets; a callback that raises is counted
and reported and the stream goes on; ``close()`` from inside an inline callback
returns in bounded time and leaves no thread; ``on_error`` callbacks still run on
the dispatcher; the option is refused with a dispatcher hook. Both venues.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from clientutil import Clients, o2sync_threads, wait_until
from tplus_clientutil import connected, drain, settle

from o2sync import O2Client
from o2sync.errors import CallbackError
from o2sync.testing import Simulator

PAIR = "fFUEL/fUSDC"
pytestmark = pytest.mark.sim_options(seed=3)


def _step_until(sim: Any, done: Any, limit: int = 5000) -> None:
    """Run simulator events until ``done()`` (bounded)."""
    for _ in range(limit):
        if done():
            return
        sim.step(1)


@pytest.mark.parametrize("inline", [True, False])
def test_callbacks_run_on_the_reader_thread_only_when_inline(
        sim: Simulator, clients: Clients, inline: bool) -> None:
    client = clients(inline_callbacks=inline)
    threads: list[str] = []
    got: list[Any] = []

    def on_trade(update: Any) -> None:
        threads.append(threading.current_thread().name)
        got.append(update)

    queued = client.stream_trades(PAIR)
    client.on_trades(PAIR, on_trade)
    client.connect(5)
    assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_trades")), 5)
    _step_until(sim, lambda: len(got) >= 20)
    assert wait_until(lambda: len(got) >= 20)
    expected = [queued.get(timeout=5) for _ in range(len(got))]
    assert got[:len(expected)] == expected  # the same events, in the same order
    suffix = "-reader" if inline else "-dispatcher"
    assert {name.rsplit("-", 1)[-1] for name in threads} == {suffix[1:]}, set(threads)
    assert client.stats()["callback_backlog"] == 0


def test_depth_callbacks_inline_follow_the_book(sim: Simulator, clients: Clients) -> None:
    """Depth deltas delivered inline build the same book as the simulator's."""
    client = clients(inline_callbacks=True)
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    seen = threading.Event()
    count = [0]

    def on_depth(update: Any) -> None:
        assert threading.current_thread().name.endswith("-reader")
        changes = update.changes
        if update.is_snapshot:
            bids.clear()
            asks.clear()
        for side, book in ((changes.bids, bids), (changes.asks, asks)):
            for level in side:
                price, qty = int(level.price), int(level.quantity)
                book[price] = qty if update.is_snapshot else book.get(price, 0) + qty
                if book[price] <= 0:
                    del book[price]
        count[0] += 1
        seen.set()

    client.on_depth(PAIR, on_depth)
    client.connect(5)
    assert seen.wait(5)
    sim.step(300)
    truth = sim.book(PAIR)
    want_bids = dict(truth["buys"])
    assert wait_until(lambda: dict(bids) == want_bids and dict(asks) == dict(truth["sells"])), \
        (count[0], len(bids), len(want_bids))


def test_a_raising_inline_callback_is_counted_reported_and_the_stream_goes_on(
        sim: Simulator, clients: Clients) -> None:
    client = clients(inline_callbacks=True)
    errors = client.stream_errors()
    error_threads: list[str] = []
    client.on_error(lambda exc: error_threads.append(threading.current_thread().name))
    calls = [0]

    def flaky(update: Any) -> None:
        calls[0] += 1
        if calls[0] % 2:
            raise RuntimeError(f"boom {calls[0]}")

    sub = client.on_trades(PAIR, flaky)
    client.connect(5)
    assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_trades")), 5)
    _step_until(sim, lambda: calls[0] >= 10)
    assert wait_until(lambda: calls[0] >= 10)
    failures = (calls[0] + 1) // 2
    assert wait_until(lambda: client.stats()["callback_errors"] >= failures)
    reported = [errors.get(timeout=5) for _ in range(failures)]
    assert all(isinstance(e, CallbackError) for e in reported)
    assert [str(e.error) for e in reported] == [f"boom {n}" for n in range(1, calls[0] + 1, 2)
                                                ][:failures]
    assert all(e.subscription is sub for e in reported)
    assert sub.callback_failures >= failures
    assert client.is_connected  # the reader thread survived its callbacks
    # on_error callbacks are not inline: they keep the dispatcher thread
    assert wait_until(lambda: len(error_threads) >= failures)
    assert {n.rsplit("-", 1)[-1] for n in error_threads} == {"dispatcher"}


def test_close_inside_an_inline_callback_is_bounded_and_leaves_no_thread(
        sim: Simulator) -> None:
    client = O2Client(ws_url=sim.ws_url, api_url=sim.api_url, inline_callbacks=True,
                      backoff_initial=0.05, backoff_max=0.2)
    result: list[bool] = []
    took: list[float] = []
    done = threading.Event()

    def close_me(update: Any) -> None:
        if result:
            return
        start = time.monotonic()
        result.append(client.close(timeout=5))
        took.append(time.monotonic() - start)
        done.set()

    try:
        client.on_trades(PAIR, close_me)
        client.connect(5)
        assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_trades")), 5)
        _step_until(sim, done.is_set)
        assert done.wait(5)
        assert result == [True] and took[0] < 2.0, (result, took)
        assert wait_until(lambda: not o2sync_threads(), 5), o2sync_threads()
        assert client.stats()["state"] == "closed"
    finally:
        client.close(timeout=5)


def test_inline_needs_no_dispatcher_hook_and_a_bool() -> None:
    with pytest.raises(ValueError, match="inline_callbacks"):
        O2Client(ws_url="ws://127.0.0.1:1", api_url="http://127.0.0.1:1",
                 inline_callbacks=True, dispatcher=lambda fn: fn())
    with pytest.raises(TypeError, match="inline_callbacks"):
        O2Client(ws_url="ws://127.0.0.1:1", api_url="http://127.0.0.1:1",
                 inline_callbacks="yes")


def test_tplus_callbacks_run_inline_with_the_events_of_a_queue(tsim: Any, tplus: Any) -> None:
    client = tplus.md(inline_callbacks=True)
    threads: list[str] = []
    got: list[Any] = []

    def on_diff(event: Any) -> None:
        threads.append(threading.current_thread().name)
        got.append(event)

    queued = client.stream_depth("200")
    client.on_depth("200", on_diff)
    connected(client)
    path = "/marketdepth/diff/200"
    assert tsim.wait_for(lambda s: s.open_connections(path) >= 1)
    tsim.step(600)
    settle(tsim, client, [path])
    events = drain(queued)
    assert events
    assert wait_until(lambda: len(got) == len(events))
    assert got == events  # the same events, in the same order
    assert all("-reader" in n for n in threads), set(threads)


def test_tplus_close_inside_an_inline_callback_leaves_no_thread(tsim: Any, tplus: Any) -> None:
    from tplus_clientutil import client_thread_names

    client = tplus.md(inline_callbacks=True)
    result: list[bool] = []
    done = threading.Event()

    def close_me(event: Any) -> None:
        if not result:
            result.append(client.close(timeout=5))
            done.set()

    client.on_finalized_trades(close_me)
    connected(client)
    for _ in range(200):
        if done.is_set():
            break
        tsim.step(20)
    assert done.wait(5)
    assert result == [True]
    assert wait_until(lambda: not client_thread_names(), 5), client_thread_names()


def test_a_late_inline_joiner_gets_its_snapshot_first_then_deltas_inline_never_overlapping(
        sim: Simulator, clients: Clients) -> None:
    """A consumer joining a running depth stream starts from a snapshot the engine
    makes on the caller's thread (so it runs on the dispatcher); its deltas only go
    inline once that callback has returned: in order, one callback at a time."""
    client = clients(inline_callbacks=True)
    first = client.stream_depth(PAIR)
    client.connect(5)
    assert first.get(timeout=5).is_snapshot
    sim.step(50)
    assert wait_until(lambda: first.pending > 0)
    seen: list[tuple[bool, str]] = []
    running = [0]
    overlaps = [0]
    release = threading.Event()

    def on_depth(update: Any) -> None:
        running[0] += 1
        overlaps[0] += running[0] > 1
        seen.append((update.is_snapshot, threading.current_thread().name))
        if len(seen) == 1:
            release.wait(0.3)  # a slow first callback: deltas arrive meanwhile
        running[0] -= 1

    client.on_depth(PAIR, on_depth)
    for _ in range(40):
        sim.step(5)
    release.set()
    assert wait_until(lambda: len(seen) >= 30)
    assert seen[0] == (True, seen[0][1]) and seen[0][1].endswith("-dispatcher"), seen[:3]
    assert not any(snap for snap, _ in seen[1:])
    assert overlaps[0] == 0
    count = len(seen)

    def inline_again() -> bool:
        return any(name.endswith("-reader") for _, name in seen[count:])

    _step_until(sim, inline_again)
    assert wait_until(inline_again), seen[-5:]  # inline again once caught up
    assert overlaps[0] == 0


def test_on_error_keeps_the_dispatcher_for_a_bad_frame_read_inline(
        sim: Simulator, clients: Clients) -> None:
    """A malformed frame is reported while the reader routes it; the on_error
    callback still runs on the dispatcher thread, the stream goes on inline."""
    client = clients(inline_callbacks=True)
    where: list[str] = []
    reported = threading.Event()

    def on_error(exc: Exception) -> None:
        where.append(threading.current_thread().name)
        reported.set()

    client.on_error(on_error)
    trades: list[str] = []
    client.on_trades(PAIR, lambda update: trades.append(threading.current_thread().name))
    client.connect(5)
    assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_trades")), 5)
    sim.inject("{not json")
    assert reported.wait(5)
    assert client.stats()["decode_errors"] >= 1
    assert where and all(n.endswith("-dispatcher") for n in where), where
    _step_until(sim, lambda: bool(trades))
    assert wait_until(lambda: bool(trades))
    assert all(n.endswith("-reader") for n in trades), set(trades)
