"""The relay end to end, against a real Redis server and the simulator: frames of a
direct client logged in Redis Streams, read back by O2Client.from_relay."""

from __future__ import annotations

from typing import Any

import pytest
from clientutil import client_for, o2sync_threads, wait_until

from o2sync import O2Client
from o2sync.relay import Entry, Relay
from o2sync.relay.client import RelayRestError
from o2sync.testing import Simulator

PAIR = "fFUEL/fUSDC"
DEPTH = "o2sync:o2:depth:fFUEL/fUSDC:p1"
TRADES = "o2sync:o2:trades:fFUEL/fUSDC"
pytestmark = pytest.mark.sim_options(seed=5)


def truth(sim: Simulator) -> dict[str, list[tuple[int, int]]]:
    book = sim.book(PAIR)
    return {"buys": [tuple(x) for x in book["buys"]], "sells": [tuple(x) for x in book["sells"]]}


@pytest.fixture
def relayed(sim: Simulator, redis_server: Any) -> Any:
    """A direct client on the simulator relaying depth and trades; closed afterwards."""
    upstream = client_for(sim)
    relay = Relay(upstream, [f"depth:{PAIR}", f"trades:{PAIR}"], redis_server.url,
                  snapshot_every=20, maxlen=1000).start()
    # the exchange has both subscriptions before a test moves the market
    assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_trades"))
                        and bool(s.client_frames("subscribe_depth")), 5)
    yield upstream, relay
    assert relay.close()
    assert upstream.close()
    assert wait_until(lambda: not o2sync_threads(), 5), o2sync_threads()


def _entries(redis_server: Any, stream: str) -> list[Entry]:
    r = redis_server.client()
    try:
        return [Entry.parse(fields) for _, fields in r.xrange(stream)]
    finally:
        r.close()


def test_remote_book_and_trades_equal_the_direct_ones(sim: Simulator, redis_server: Any,
                                                      relayed: Any) -> None:
    upstream, relay = relayed
    direct_trades = upstream.stream_trades(PAIR)
    with O2Client.from_relay(redis_server.url) as remote:
        trades = remote.stream_trades(PAIR)
        book = remote.order_book(PAIR)
        # the remote book starts from the relay's first snapshot entry
        assert book.wait_ready(10)
        assert book.snapshot() == truth(sim)
        for _ in range(5):
            sim.step(60)
            assert wait_until(lambda: book.snapshot() == truth(sim), 10)
        want = [direct_trades.get(timeout=5) for _ in range(direct_trades.pending)]
        while direct_trades.pending:
            want.append(direct_trades.get(timeout=5))
        got = [trades.get(timeout=5) for _ in want]
        assert want and [t.trades for t in got] == [t.trades for t in want]
        stats = remote.stats()
        assert stats["decode_errors"] == 0 and stats["dropped"] == 0
        assert stats["source"]["jumps"] == 0 and stats["source"]["gaps"] == 0
    assert relay.stats()["dropped"] == 0 and relay.stats()["engine_lost"] == 0


def test_log_holds_raw_frames_in_envelopes(sim: Simulator, redis_server: Any,
                                           relayed: Any) -> None:
    upstream, relay = relayed
    seen = upstream.stream_trades(PAIR)
    sim.step(40)
    seen.get(timeout=5)
    assert wait_until(lambda: relay.stats()["queued"] == 0 and relay.stats()["entries"] > 3, 5)
    for stream, kind in ((DEPTH, "depth"), (TRADES, "trades")):
        entries = _entries(redis_server, stream)
        assert entries[0].type == "epoch" and entries[0].seq == 1
        assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
        assert {e.epoch for e in entries} == {relay.epoch}
        assert {(e.venue, e.kind, e.target, e.path) for e in entries[1:]} == {
            ("o2", kind, PAIR, "/v1/ws")}
        assert all(e.data.startswith(b"{") for e in entries[1:])
    depth = _entries(redis_server, DEPTH)
    assert depth[1].type == "snapshot" and depth[1].made == "server"


def test_rest_calls_say_they_need_an_exchange_url(redis_server: Any, relayed: Any) -> None:
    with O2Client.from_relay(redis_server.url) as remote:
        assert remote.get_market(PAIR).pair == PAIR  # the relay published the markets
        with pytest.raises(RelayRestError, match="api_url="):
            remote.get_ticker(PAIR)


def test_bad_relay_arguments_raise_at_the_call(redis_server: Any) -> None:
    with pytest.raises(ValueError, match="redis://"):
        O2Client.from_relay("http://127.0.0.1:1")
    with pytest.raises(ValueError, match="prefix"):
        O2Client.from_relay(redis_server.url, prefix="")
    from o2sync import ConnectError
    with pytest.raises(ConnectError, match="no relay has published"):
        O2Client.from_relay(redis_server.url, prefix="nobody")


def test_a_relay_joining_a_running_depth_stream_starts_from_the_engines_book(
        sim: Simulator, redis_server: Any) -> None:
    upstream = client_for(sim)
    try:
        own = upstream.stream_depth(PAIR)
        assert own.get(timeout=5).is_snapshot  # the server's snapshot came before the relay
        sim.step(20)
        relay = Relay(upstream, [f"depth:{PAIR}"], redis_server.url, snapshot_every=20).start()
        with O2Client.from_relay(redis_server.url) as remote:
            book = remote.order_book(PAIR)
            sim.step(5)  # the first frame after the relay came brings the engine's book
            assert book.wait_ready(10)
            assert wait_until(lambda: book.snapshot() == truth(sim), 10)
            sim.step(40)
            assert wait_until(lambda: book.snapshot() == truth(sim), 10)
        assert len(sim.client_frames("subscribe_depth")) == 1  # no wire resync was needed
        assert relay.close()
    finally:
        assert upstream.close()
