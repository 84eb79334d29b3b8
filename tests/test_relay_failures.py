"""The relay's failure cases, each against a real Redis server: the engine down at
start and mid-stream (with and without persistence), a reader stalled past a trim,
a slow consumer, a relay restart, an upstream reconnect, close() in a blocked read."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from clientutil import client_for, o2sync_threads, wait_until
from redis_server import RedisServer

from o2sync import ConnectionState, O2Client
from o2sync.relay import Entry, Relay
from o2sync.testing import Simulator

PAIR = "fFUEL/fUSDC"
DEPTH = "o2sync:o2:depth:fFUEL/fUSDC:p1"
TRADES = "o2sync:o2:trades:fFUEL/fUSDC"
pytestmark = pytest.mark.sim_options(seed=7)


def truth(sim: Simulator) -> dict[str, list[tuple[int, int]]]:
    book = sim.book(PAIR)
    return {"buys": [tuple(x) for x in book["buys"]], "sells": [tuple(x) for x in book["sells"]]}


_RELAYS: list[Relay] = []
_SIMS: list[Simulator] = []


@pytest.fixture
def upstream(sim: Simulator) -> Any:
    """The exchange-side client; every relay made on it is closed afterwards."""
    client = client_for(sim)
    _SIMS.append(sim)
    yield client
    _SIMS.remove(sim)
    while _RELAYS:
        assert _RELAYS.pop().close()
    assert client.close()
    assert wait_until(lambda: not o2sync_threads(), 5), o2sync_threads()


def _relay(upstream: O2Client, url: str, **options: Any) -> Relay:
    """A relay of depth and trades, once the exchange has both subscriptions."""
    options.setdefault("snapshot_every", 20)
    options.setdefault("maxlen", 5000)
    sim = _SIMS[-1]
    relay = Relay(upstream, [f"depth:{PAIR}", f"trades:{PAIR}"], url, **options).start()
    _RELAYS.append(relay)
    assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_trades"))
                        and bool(s.client_frames("subscribe_depth")), 5)
    return relay


def _types(server: Any, stream: str) -> list[str]:
    r = server.client()
    try:
        return [Entry.parse(f).type for _, f in r.xrange(stream)]
    finally:
        r.close()


def _make_server(tmp_path: Path, appendonly: bool = False) -> RedisServer:
    try:
        return RedisServer(tmp_path, appendonly=appendonly)
    except RuntimeError as exc:
        pytest.fail(f"the relay tests need a Redis server: {exc}")


def test_engine_down_at_start_local_consumers_flow_and_a_gap_is_logged(
        sim: Simulator, upstream: O2Client, tmp_path: Path) -> None:
    server = _make_server(tmp_path)  # not started: the engine is down
    try:
        local = upstream.stream_trades(PAIR)
        relay = _relay(upstream, server.url)
        sim.step(40)
        assert local.get(timeout=5)  # the exchange side never waits for the engine
        assert wait_until(lambda: relay.stats()["engine_lost"] > 0, 10)
        server.start()
        assert wait_until(lambda: "gap" in _types(server, DEPTH), 10)
        types = _types(server, DEPTH)
        # a new writer, what it lost, and the book right again at once
        assert types[:3] == ["epoch", "gap", "snapshot"]
        with O2Client.from_relay(server.url) as remote:
            book = remote.order_book(PAIR)
            assert book.wait_ready(10)
            assert book.snapshot() == truth(sim)
            sim.step(40)
            assert wait_until(lambda: book.snapshot() == truth(sim), 10)
        assert relay.close()
    finally:
        server.kill()


@pytest.mark.parametrize("appendonly", [False, True], ids=["no-persistence", "aof"])
def test_engine_killed_mid_stream_readers_rebuild_after_restart(
        sim: Simulator, upstream: O2Client, tmp_path: Path, appendonly: bool) -> None:
    server = _make_server(tmp_path, appendonly).start()
    try:
        relay = _relay(upstream, server.url)
        local = upstream.stream_trades(PAIR)
        remote = O2Client.from_relay(server.url)
        states = remote.stream_lifecycle()
        book = remote.order_book(PAIR)
        trades = remote.stream_trades(PAIR)
        assert book.wait_ready(10)
        sim.step(30)
        assert wait_until(lambda: book.snapshot() == truth(sim), 10)
        server.kill()
        sim.step(60)
        assert local.get(timeout=5)  # local consumers keep flowing
        assert wait_until(lambda: relay.stats()["engine_lost"] > 0, 10)
        assert wait_until(lambda: not remote.is_connected, 10)
        server.start()
        seen = []
        while not seen or seen[-1] is not ConnectionState.RECONNECTED:
            seen.append(states.get(timeout=10).state)
        assert ConnectionState.RECONNECTING in seen
        sim.step(30)
        assert wait_until(lambda: book.is_ready and book.snapshot() == truth(sim), 10)
        assert remote.stats()["source"]["gaps"] >= 1  # told, never silent
        assert trades.get(timeout=5)
        assert remote.close()
        assert relay.close()
    finally:
        server.kill()


def test_reader_stalled_past_a_trim_sees_the_gap(sim: Simulator, upstream: O2Client,
                                                 redis_server: Any) -> None:
    relay = _relay(upstream, redis_server.url, maxlen=100, snapshot_every=50)
    with O2Client.from_relay(redis_server.url) as remote:
        book = remote.order_book(PAIR)
        trades = remote.stream_trades(PAIR)
        assert book.wait_ready(10)
        # the trades reader is positioned at the stream's newest entry (epoch, seq)
        assert wait_until(lambda: remote.stats()["source"]["positions"].get(
            TRADES, (None, 0))[0] is not None, 5)
        start = remote.stats()["source"]["positions"][TRADES][1]
        topic = remote._engine.topics[("depth", remote.get_market(PAIR).market_id)]
        written = relay.stats()["entries"]
        with topic.info.book.lock:  # the reader thread stops at its next depth frame
            sim.step(3000)  # about 1,600 frames
            assert wait_until(lambda: relay.stats()["entries"] > written + 1400, 20)
            r = redis_server.client()
            assert r.xlen(DEPTH) < 500  # trimmed past the stalled reader by MAXLEN ~
            behind = remote.stats()["source"]["positions"][TRADES][1]
            assert relay.stats()["streams"][TRADES]["seq"] > behind + 2
            r.xtrim(TRADES, maxlen=1, approximate=False)  # and by an operator
            r.close()
        assert wait_until(lambda: remote.stats()["source"]["jumps"] >= 1, 10)
        assert wait_until(lambda: book.is_ready and book.snapshot() == truth(sim), 10)
        assert book.resets >= 2  # it rebuilt from a later snapshot
        # every trade entry since it started is received or counted as dropped
        logged = relay.stats()["streams"][TRADES]["seq"] - start
        assert wait_until(lambda: trades.received + trades.dropped == logged, 10), (
            trades.received, trades.dropped, logged)
        assert trades.dropped > 0
    assert relay.close()


def test_slow_consumer_drops_are_its_own(sim: Simulator, upstream: O2Client,
                                         redis_server: Any) -> None:
    relay = _relay(upstream, redis_server.url)
    with O2Client.from_relay(redis_server.url) as remote:
        slow = remote.stream_trades(PAIR, queue_size=2)
        fast = remote.stream_trades(PAIR)
        book = remote.order_book(PAIR)
        assert book.wait_ready(10)
        sim.step(400)
        assert wait_until(lambda: book.snapshot() == truth(sim), 10)
        assert wait_until(lambda: slow.dropped > 0, 10)
        assert fast.dropped == 0 and fast.pending > 2
    assert relay.close()


def test_relay_restart_and_upstream_reconnect_are_new_epochs(
        sim: Simulator, upstream: O2Client, redis_server: Any) -> None:
    relay = _relay(upstream, redis_server.url)
    with O2Client.from_relay(redis_server.url) as remote:
        book = remote.order_book(PAIR)
        assert book.wait_ready(10)
        resets = book.resets
        assert relay.close()
        sim.step(30)
        relay = _relay(upstream, redis_server.url)  # a new writer: a new epoch
        sim.step(30)
        assert wait_until(lambda: book.resets > resets and book.is_ready
                          and book.snapshot() == truth(sim), 10)
        epochs = remote.stats()["source"]["epochs"]
        assert epochs >= 1
        sim.drop_connections()  # the relay's exchange connection: a new generation
        assert wait_until(lambda: relay.generation == 2, 10)
        sim.step(30)
        assert wait_until(lambda: remote.stats()["source"]["epochs"] > epochs, 10)
        assert wait_until(lambda: book.is_ready and book.snapshot() == truth(sim), 10)
    assert relay.close()


def test_close_while_blocked_in_a_read_is_bounded(upstream: O2Client,
                                                  redis_server: Any) -> None:
    relay = _relay(upstream, redis_server.url)
    remote = O2Client.from_relay(redis_server.url)
    sub = remote.stream_trades(PAIR)
    assert wait_until(lambda: remote.stats()["source"]["positions"], 5)
    started = time.monotonic()
    assert remote.close(timeout=3)
    assert time.monotonic() - started < 2
    assert sub.closed
    assert not [t for t in o2sync_threads() if "relay-reader" in t]
    assert relay.close()


def test_queue_overflow_is_counted_and_healed_from_the_engines_book(
        sim: Simulator, upstream: O2Client, tmp_path: Path) -> None:
    server = _make_server(tmp_path).start()
    try:
        relay = _relay(upstream, server.url, queue_size=5)
        with O2Client.from_relay(server.url) as remote:
            book = remote.order_book(PAIR)
            assert book.wait_ready(10)
            resets = book.resets
            server.kill()  # the relay thread waits between attempts: its queue fills
            sim.step(400)
            assert wait_until(lambda: relay.stats()["dropped"] > 0, 10)
            server.start()
            # frames after the overflow bring the engine's book: one event at a time,
            # so the small queue keeps up, until the remote book is right again
            for _ in range(50):
                sim.step(1)
                if wait_until(lambda: book.is_ready and book.snapshot() == truth(sim), 0.5):
                    break
            assert book.is_ready and book.snapshot() == truth(sim)
            assert book.resets > resets  # rebuilt from a snapshot the relay made
            stats = relay.stats()
            # nothing lost uncounted: every frame the client got was written or counted
            assert stats["dropped"] + stats["engine_lost"] > 0
            assert _levels_of(relay) == truth(sim)
    finally:
        server.kill()


def _levels_of(relay: Relay) -> dict[str, list[tuple[int, int]]]:
    book = relay.book(DEPTH)
    assert book is not None
    levels = book.levels()
    return {"buys": [tuple(x) for x in levels["bids"]],
            "sells": [tuple(x) for x in levels["asks"]]}


def test_two_relays_one_writer_the_standby_takes_over_with_a_new_epoch(
        sim: Simulator, upstream: O2Client, redis_server: Any) -> None:
    first = _relay(upstream, redis_server.url, lease_ttl=1.0)
    second_client = client_for(sim)
    try:
        second = Relay(second_client, [f"depth:{PAIR}", f"trades:{PAIR}"], redis_server.url,
                       snapshot_every=20, lease_ttl=1.0).start()
        with O2Client.from_relay(redis_server.url) as remote:
            book = remote.order_book(PAIR)
            assert book.wait_ready(10)
            sim.step(40)
            assert wait_until(lambda: book.snapshot() == truth(sim), 10)
            assert wait_until(lambda: second.stats()["standby"] > 0, 10)
            entries = [Entry.parse(f) for _, f in redis_server.client().xrange(DEPTH)]
            assert {e.epoch for e in entries} == {first.epoch}  # one writer
            assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
            assert first.close()  # releases its leases: the standby takes over
            assert wait_until(lambda: second.stats()["takeovers"] == 2, 5)
            sim.step(40)
            assert wait_until(lambda: remote.stats()["source"]["epochs"] >= 1, 10)
            assert wait_until(lambda: book.is_ready and book.snapshot() == truth(sim), 10)
            assert remote.stats()["source"]["positions"][DEPTH][0] == second.epoch
        assert second.close()
    finally:
        assert second_client.close()


def _big_trades_frame(market_id: str, size: int, trade: dict[str, Any]) -> tuple[str, int]:
    """A subscribe_trades frame of exactly ``size`` bytes (padded with trades and one
    ``trade_id``), and its number of trades."""
    import json

    frame: dict[str, Any] = {"action": "subscribe_trades", "market_id": market_id,
                             "trades": [dict(trade)]}
    one = len(json.dumps(trade)) + 2  # one more trade, and its ", "
    count = (size - len(json.dumps(frame)) - one) // one
    frame["trades"] += [dict(trade) for _ in range(count)]
    frame["trades"][-1]["trade_id"] += "x" * (size - len(json.dumps(frame)))
    text = json.dumps(frame)
    assert len(text) == size
    return text, len(frame["trades"])


def test_a_frame_at_max_message_size_is_carried_intact(
        sim: Simulator, o2_fixture: Any, redis_server: Any) -> None:
    size = 1 << 20
    upstream = client_for(sim, max_message_size=size)
    try:
        relay = Relay(upstream, [f"trades:{PAIR}"], redis_server.url).start()
        assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_trades")), 5)
        market_id = upstream.get_market(PAIR).market_id
        with O2Client.from_relay(redis_server.url) as remote:
            trades = remote.stream_trades(PAIR)
            assert wait_until(lambda: remote.stats()["source"]["positions"], 5)
            text, n = _big_trades_frame(market_id, size, o2_fixture("o2_trades")["trades"][0])
            sim.inject(text)
            update = trades.get(timeout=10)
            assert len(update.trades) == n
            entries = [Entry.parse(f) for _, f in redis_server.client().xrange(TRADES)]
            assert entries[-1].data == text.encode()  # byte for byte
            assert remote.stats()["decode_errors"] == 0
        assert relay.close()
    finally:
        assert upstream.close()


def test_engine_out_of_memory_is_a_counted_gap_and_books_heal(
        sim: Simulator, upstream: O2Client, tmp_path: Path) -> None:
    try:
        server = RedisServer(tmp_path, extra=("--maxmemory", "3mb",
                                              "--maxmemory-policy", "noeviction")).start()
    except RuntimeError as exc:
        pytest.fail(f"the relay tests need a Redis server: {exc}")
    try:
        relay = _relay(upstream, server.url, maxlen=1_000_000, snapshot_every=500)
        with O2Client.from_relay(server.url) as remote:
            book = remote.order_book(PAIR)
            assert book.wait_ready(10)
            for _ in range(100):  # bounded: fill the engine until it refuses writes
                sim.step(1000)
                if wait_until(lambda: relay.stats()["engine_lost"] > 0, 0.2):
                    break
            assert relay.stats()["engine_lost"] > 0  # OOM: "command not allowed"
            assert relay.stats()["engine_errors"] > 0
            r = server.client()
            r.config_set("maxmemory", "0")  # the operator makes room
            r.close()
            sim.step(50)
            assert wait_until(lambda: "gap" in _types(server, DEPTH), 10)
            assert wait_until(lambda: book.is_ready and book.snapshot() == truth(sim), 10)
            assert remote.stats()["source"]["gaps"] >= 1
        assert relay.close()
    finally:
        server.kill()
