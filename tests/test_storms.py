"""Issue 18, storms and silence: hostile servers in their own process, both venues.

* a server that completes the handshake, then fails the link (oversized frame,
  garbage, TCP close, close frame) gets backoff, not a reconnect storm;
* a server that breaks every snapshot (O2: an undecodable delta after it; tplus: diffs
  that always skip a sequence number) gets rate-limited resyncs;
* an endless fragmented message costs memory within the bound, and no dead socket
  outlives its link;
* a socket that never connects ends its streams with a ConnectError naming the cause,
  through iteration, get(), on_error and wait_ready();
* close() interrupts a handshake in progress, and ends every wait on the books.

Windows are short (the suite runs on 2 cores); each bound is argued from the backoff's
schedule next to its assertion. tests/storm_figures.py measures the issue's 30 s windows.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from clientutil import wait_until
from storms_util import (
    ASSET,
    LINK_FAULTS,
    MARKET,
    MIB,
    HostileServer,
    PeakRss,
    client_threads,
    fragment_stream,
    hostile,
    live_websockets,
    o2_client,
    refused_port,
    tplus_client,
)
from tlsutil import make_ca

from o2sync import O2Client
from o2sync.errors import ConnectError
from o2sync.testing import Simulator

#: Storm windows. Backoff from 0.25 s doubling, jitter down to half: attempts start at
#: the earliest at 0, 0.125, 0.375, 0.875, 1.875, 3.875, 7.875 s, so at most 7 fall
#: in 10 s, and the next delays (>= 4, 8, 15 s) allow 3 more by 30 s: the issue's
#: bound of 12 per 30 s holds iff at most 8 fall in the first 10 s (one of slack).
WINDOW = 10.0
ATTEMPTS_IN_WINDOW = 8
#: Resyncs: at once, then 0.25 s doubling (no jitter): 0, 0.25, 0.75, 1.75, 3.75,
#: 7.75 s, 6 in 10 s, then 15.75 s: 7 in 30 s for the issue's bound of 15.
RESYNCS_IN_WINDOW = 8


@pytest.fixture(scope="module")
def storm_server() -> Iterator[HostileServer]:
    with hostile(*LINK_FAULTS, "bad_delta", "gap_depth", "silent") as server:
        yield server


@pytest.fixture
def closing() -> Iterator[list[Any]]:
    """Clients to close after the test."""
    made: list[Any] = []
    yield made
    for client in made:
        client.close(5)


# ----------------------------------------------------------------- storms


def test_no_reconnect_or_resync_storm_on_either_venue(
        storm_server: HostileServer, closing: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Every fault class on both venues at once, in one window: each client against
    its own port (the O2 client and the tplus client of a class share one)."""
    caplog.set_level(logging.INFO, logger="o2sync.engine.watchdog")
    server = storm_server
    before = {mode: server.stats(mode) for mode in (*LINK_FAULTS, "bad_delta", "gap_depth")}
    clients: dict[tuple[str, str], Any] = {}
    streams = []  # kept: a subscription nobody holds is closed when collected
    for mode in LINK_FAULTS:
        o2 = o2_client(server.ws(mode), server.http(mode))
        tp = tplus_client(server.http(mode))
        streams += [o2.stream_depth(MARKET), tp.stream_klines(ASSET)]
        clients["o2", mode], clients["tplus", mode] = o2, tp
    o2 = o2_client(server.ws("bad_delta"), server.http("bad_delta"))
    depth = o2.stream_depth(MARKET)
    tp = tplus_client(server.http("gap_depth"))
    book = tp.order_book(ASSET)
    clients["o2", "bad_delta"], clients["tplus", "gap_depth"] = o2, tp
    closing.extend(clients.values())
    started = time.monotonic()
    snapshots = 0
    while time.monotonic() - started < WINDOW:  # the window, spent reading the O2 depth
        with contextlib.suppress(queue.Empty):
            snapshots += depth.get(timeout=0.2).is_snapshot
    after = {mode: server.stats(mode) for mode in before}
    figures = {f"{venue}/{mode}": client.stats() for (venue, mode), client in clients.items()}

    for mode in LINK_FAULTS:
        # both venues' handshakes on this port, so twice the per-client bound
        handshakes = after[mode]["handshakes"] - before[mode]["handshakes"]
        assert 4 <= handshakes <= 2 * ATTEMPTS_IN_WINDOW, (mode, handshakes)
        for venue in ("o2", "tplus"):
            stats = figures[f"{venue}/{mode}"]
            # retried (the link had connected), and the failures are visible
            assert stats["connect_failures"] >= 2, (venue, mode, stats)
            assert stats["reconnects"] >= 1, (venue, mode, stats)
    subscribes = after["bad_delta"]["subscribes"] - before["bad_delta"]["subscribes"]
    assert 3 <= subscribes <= RESYNCS_IN_WINDOW + 1, subscribes  # + the first subscribe
    assert snapshots >= 3  # the stream still heals, again and again, at once each time
    fetched = after["gap_depth"]["snapshots"] - before["gap_depth"]["snapshots"]
    assert 3 <= fetched <= RESYNCS_IN_WINDOW + 1, fetched  # + the book's first snapshot
    assert book.gaps >= 3 and figures["tplus/gap_depth"]["resyncs"] <= RESYNCS_IN_WINDOW + 1

    # the first failure of a run is a warning, the rest info: one warning per socket
    warnings = [r for r in caplog.records
                if r.levelno == logging.WARNING and "connect failed" in r.getMessage()]
    assert 1 <= len(warnings) <= 2 * len(LINK_FAULTS), [r.getMessage() for r in warnings]


@pytest.mark.parametrize("venue", ["o2", "tplus"])
def test_endless_fragmented_message_stays_within_the_memory_bound(
        venue: str, closing: list[Any]) -> None:
    bound = 4 * MIB
    with hostile("fragments", fragment=3 * MIB) as server:
        gc.collect()
        gc.disable()  # what is not freed at once would pile up: the cycle this is about
        try:
            peak = PeakRss()
            client, stream = fragment_stream(server, venue, bound)
            closing.append(client)
            assert wait_until(lambda: server.stats("fragments")["handshakes"] >= 4, 10)
            growth = peak.stop()
            alive = live_websockets()
        finally:
            gc.enable()
    assert client.stats()["connect_failures"] >= 3 and not stream.closed
    assert growth <= 2 * bound + 32 * MIB, growth / MIB
    assert alive <= 1  # the link being read now, if any: every dead one is gone


# ----------------------------------------------------------------- never connected


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostileServer]:
    ca = make_ca(tmp_path_factory.mktemp("ca"))
    with hostile("close_frame", tls=(ca.cert_file, ca.key_file)) as server:
        yield server


@pytest.fixture(scope="module")
def refusing() -> Iterator[int]:
    with refused_port() as port:
        yield port


def _unreachable(cause: str, refusing: int, storm_server: HostileServer,
                 tls_server: HostileServer) -> tuple[str, str]:
    """(ws base, REST base) of a server that never connects for ``cause``; O2 gets
    its markets from a REST port that works."""
    if cause == "connection refused":
        return f"ws://127.0.0.1:{refusing}", f"http://127.0.0.1:{refusing}"
    if cause == "timed out":
        port = storm_server.ports["silent"]
        return f"ws://127.0.0.1:{port}", f"http://127.0.0.1:{port}"
    port = tls_server.ports["close_frame"]  # a certificate of a CA the client lacks
    return f"wss://127.0.0.1:{port}", f"https://127.0.0.1:{port}"


@pytest.mark.parametrize("cause", ["connection refused", "timed out",
                                   "certificate verify failed"])
@pytest.mark.parametrize("venue", ["o2", "tplus"])
def test_a_socket_that_never_connects_ends_with_a_connect_error(
        venue: str, cause: str, refusing: int, storm_server: HostileServer,
        tls_server: HostileServer, closing: list[Any]) -> None:
    timeout = 1.0
    ws_base, rest_base = _unreachable(cause, refusing, storm_server, tls_server)
    if venue == "o2":
        client: Any = o2_client(f"{ws_base}/v1/ws", storm_server.http("bad_delta"),
                                connect_timeout=timeout)
        target = MARKET
    else:
        client = tplus_client(rest_base, connect_timeout=timeout)
        target = ASSET
    closing.append(client)
    errors: queue.SimpleQueue[Exception] = queue.SimpleQueue()
    client.on_error(errors.put)
    started = time.monotonic()
    iterated = client.stream_depth(target)
    polled = client.stream_trades(target) if venue == "o2" else client.stream_klines(target)
    book = client.order_book(target)
    outcomes: dict[str, BaseException] = {}

    def record(name: str, fn: Callable[[], Any]) -> None:
        try:
            fn()
        except BaseException as exc:  # what each API ended with
            outcomes[name] = exc

    workers = [threading.Thread(target=record, args=args, name=f"test-{args[0]}")
               for args in (("iteration", lambda: list(iterated)),
                            ("get", lambda: polled.get(timeout=timeout + 5)),
                            ("wait_ready", lambda: book.wait_ready()))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout + 5)
    elapsed = time.monotonic() - started
    reported = errors.get(timeout=5)
    assert not any(w.is_alive() for w in workers), outcomes
    assert elapsed <= timeout + 3, elapsed
    for name in ("iteration", "get", "wait_ready"):
        assert isinstance(outcomes.get(name), ConnectError), (name, outcomes)
    for error in (*outcomes.values(), reported):
        assert isinstance(error, ConnectError) and cause in str(error), error
        assert error.cause is not None and cause in error.cause


# ----------------------------------------------------------------- close


def _client_on(venue: str, server: HostileServer, mode: str, **options: Any) -> Any:
    if venue == "o2":
        return o2_client(server.ws(mode), server.http("bad_delta"), **options)
    return tplus_client(server.http(mode), **options)


def _target(venue: str) -> str:
    return MARKET if venue == "o2" else ASSET


@pytest.mark.parametrize("venue", ["o2", "tplus"])
def test_close_interrupts_a_handshake_in_progress(
        venue: str, storm_server: HostileServer) -> None:
    client = _client_on(venue, storm_server, "silent", connect_timeout=30)
    stream = client.stream_depth(_target(venue))
    # the watchdog is in the handshake: its request is sent, no answer will come
    assert wait_until(lambda: any(
        link.connection._connecting is not None
        and link.connection._connecting.sock is not None
        for link in list(client._engine.links.values())), 5)
    started = time.monotonic()
    assert client.close(timeout=3) is True
    assert time.monotonic() - started < 3
    assert client_threads(client) == [] and stream.closed


@pytest.mark.parametrize("venue", ["o2", "tplus"])
def test_close_ends_every_wait_on_the_books(venue: str, storm_server: HostileServer) -> None:
    client = _client_on(venue, storm_server, "silent", connect_timeout=30)
    book = client.order_book(_target(venue))
    results: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()

    def wait(name: str, fn: Callable[[], bool]) -> None:
        try:
            results.put((name, fn()))
        except BaseException as exc:  # reported to the test
            results.put((name, exc))

    workers = [threading.Thread(target=wait, args=(name, fn), name=f"test-{name}")
               for name, fn in (("wait_ready", book.wait_ready),
                                ("wait_update", book.wait_update))]
    for worker in workers:
        worker.start()
    assert results.empty()
    started = time.monotonic()
    client.close(timeout=3)
    got = dict(results.get(timeout=3) for _ in workers)
    assert time.monotonic() - started < 3
    assert got == {"wait_ready": False, "wait_update": False}
    for worker in workers:
        worker.join(1)
        assert not worker.is_alive()


# ----------------------------------------------------------------- isolated faults


def test_isolated_bad_deltas_still_heal_at_once(sim: Simulator, client: O2Client) -> None:
    """The resync limit spaces out resyncs in a run only: a bad frame on a stream that
    carried good events since its last resync is resynced at once, every time."""
    book = client.order_book("fFUEL/fUSDC")
    assert book.wait_ready(5)
    market_id = book.market.market_id
    for resyncs in (1, 2, 3):
        bad = {"action": "subscribe_depth_update", "market_id": market_id,
               "changes": {"buys": [{"price": "1", "quantity": "not a number"}], "sells": []}}
        started = time.monotonic()
        sim.inject(json.dumps(bad))
        assert sim.wait_for(
            lambda s, n=resyncs: len(s.client_frames("subscribe_depth")) == n + 1, 5)
        assert wait_until(lambda n=resyncs: book.is_ready and book.resets == n + 1, 5)
        assert time.monotonic() - started < 1.0  # at once: no limiter delay
        version = book.version
        while book.version < version + 10:  # good events: the stream is healthy again
            before = book.version  # read before the step: its events may land at once
            sim.step(5)
            assert wait_until(lambda v=before: book.version > v, 5)
    assert client.stats()["resyncs"] == 3
