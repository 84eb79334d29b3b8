"""One socket per stream path, shared by its consumers and closed with the last;
2 threads plus one per open socket; close() is bounded and leaves no thread."""

from __future__ import annotations

import threading
import time
from typing import Any

from clientutil import wait_until
from tplus_clientutil import (
    TplusClients,
    client_thread_names,
    client_threads,
    connected,
    drain,
    settle,
)

from o2sync.testing import TplusSimulator
from o2sync.tplus import MarketDataClient


def test_twenty_consumers_of_trades_share_one_socket(
        tsim: TplusSimulator, tplus: TplusClients) -> None:
    md = tplus.md()
    queues = [md.stream_finalized_trades() for _ in range(10)]
    called: list[list[Any]] = [[] for _ in range(10)]
    callbacks = [md.on_finalized_trades(got.append) for got in called]
    connected(md)
    assert tsim.wait_for(lambda s: s.open_connections("/trades") == 1)
    assert len(tsim.handshakes("/trades")) == 1
    assert md.stats()["subscriptions"] == 20 and md.stats()["wire_subscriptions"] == 1
    assert len(client_threads(md)) == 3  # dispatcher, watchdog, one reader
    tsim.step(400)
    settle(tsim, md, ["/trades"])
    first = drain(queues[0])
    assert first
    for sub in queues[1:]:
        assert drain(sub) == first
    assert wait_until(lambda: all(len(got) == len(first) for got in called))
    assert all(got == first for got in called)

    for sub in queues + callbacks[:-1]:
        sub.close()
    assert tsim.open_connections("/trades") == 1  # one consumer left
    callbacks[-1].close()
    assert tsim.wait_for(lambda s: s.open_connections("/trades") == 0)
    assert wait_until(lambda: len(client_threads(md)) == 2), client_threads(md)
    assert md.stats()["sockets"] == {}
    assert len(tsim.handshakes("/trades")) == 1  # closed, not reconnected


def test_thread_count_is_two_plus_open_sockets(
        tsim: TplusSimulator, tplus: TplusClients) -> None:
    md = tplus.md()
    assert client_threads(md) == []  # threads start lazily
    subs = [md.stream_finalized_trades(), md.stream_depth("200"), md.stream_klines("200")]
    book = md.order_book("200")  # same path as stream_depth: no new socket
    more = md.stream_depth("200")
    connected(md)
    assert len(client_threads(md)) == 2 + 3
    assert tsim.open_connections("/marketdepth/diff/200") == 1
    subs[1].close()
    more.close()
    assert tsim.open_connections("/marketdepth/diff/200") == 1  # the book still reads it
    book.close()
    assert tsim.wait_for(lambda s: s.open_connections("/marketdepth/diff/200") == 0)
    assert wait_until(lambda: len(client_threads(md)) == 2 + 2), client_threads(md)
    subs[0].close()
    assert wait_until(lambda: len(client_threads(md)) == 2 + 1), client_threads(md)
    again = md.stream_depth("200")  # a path reopens with a new consumer
    connected(md)
    assert len(client_threads(md)) == 2 + 2
    assert tsim.open_connections("/marketdepth/diff/200") == 1
    again.close()
    md.close()
    assert wait_until(lambda: client_threads(md) == []), client_threads(md)
    assert tsim.wait_for(lambda s: s.open_connections() == 0)


def test_close_from_inside_a_callback_returns_and_leaves_no_thread(
        tsim: TplusSimulator, tplus: TplusClients) -> None:
    md = tplus.md()
    returned = threading.Event()
    results: list[bool] = []

    @md.on_finalized_trades()
    def stop(trade: Any) -> None:
        if not results:
            results.append(md.close(timeout=2))
            returned.set()

    connected(md)
    tsim.step(200)
    assert returned.wait(5)
    assert results == [True]
    assert wait_until(lambda: client_threads(md) == []), client_threads(md)
    assert md.stats()["state"] == "closed"
    assert tsim.wait_for(lambda s: s.open_connections("/trades") == 0)


def test_close_is_bounded_with_a_stalled_server(tsim: TplusSimulator, tplus: TplusClients
                                                ) -> None:
    md, ob = tplus.md(), tplus.ob()
    subs = [md.stream_finalized_trades(), md.stream_depth("200"), ob.stream_orders()]
    connected(md, ob)
    tsim.stall()
    try:
        for client in (md, ob):
            started = time.monotonic()
            assert client.close(timeout=3)
            assert time.monotonic() - started < 3
        assert wait_until(lambda: client_thread_names() == []), client_thread_names()
        for sub in subs:
            assert sub.closed
    finally:
        tsim.unstall()


def test_context_manager_closes_and_ends_iterators(tsim: TplusSimulator) -> None:
    with MarketDataClient(tsim.mds_url, backoff_initial=0.05, backoff_max=0.2) as md:
        sub = md.stream_finalized_trades()
        connected(md)
        tsim.step(200)
        settle(tsim, md, ["/trades"])
        queued = sub.pending
        assert queued
    assert len(list(sub)) == queued  # what was queued, then the iterator ends
    assert wait_until(lambda: client_thread_names() == []), client_thread_names()


def test_run_forever_returns_after_close_from_a_callback(
        tsim: TplusSimulator, tplus: TplusClients) -> None:
    md = tplus.md()
    seen: list[Any] = []

    @md.on_all_trades()
    def handle(event: Any) -> None:
        seen.append(event)
        if len(seen) == 5:
            md.close()

    connected(md)
    tsim.step(300)
    runner = threading.Thread(target=md.run_forever, name="test-run-forever")
    runner.start()
    runner.join(5)
    assert not runner.is_alive()
    assert len(seen) >= 5
    assert wait_until(lambda: client_thread_names() == []), client_thread_names()
