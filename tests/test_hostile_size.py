"""Messages larger than ``max_message_size`` (issue 10, item 3): one huge frame and
an endless fragmented message each drop the link with a clear report, the client
reconnects and keeps working; anything up to the bound is read as usual."""

from __future__ import annotations

from typing import Any

import pytest
from clientutil import Clients, wait_until

from o2sync import ConnectionState, DecodeError
from o2sync.testing import Simulator

PAIR = "fFUEL/fUSDC"
LIMIT = 64 * 1024
pytestmark = pytest.mark.sim_options(seed=4)


def collect(sub: Any, into: list) -> list:
    while sub.pending:
        into.append(sub.get(timeout=0))
    return into


def dropped_for_size(lifecycle: Any, seen: list) -> bool:
    collect(lifecycle, seen)
    return any(e.state is ConnectionState.DISCONNECTED and "max_message_size" in e.message
               for e in seen)


def assert_recovers(sim: Simulator, client: Any, trades: Any, connections: int) -> None:
    """A new connection replays the subscription and trades flow on it again."""
    assert sim.wait_for(lambda s: len(s.connections) == connections
                        and bool(s.connections[-1].frames), 10)
    assert wait_until(lambda: client.is_connected, 5)
    while trades.pending:
        trades.get(timeout=0)
    for _ in range(3000):
        sim.step(1)
        if trades.pending:
            break
    assert trades.get(timeout=5).trades


@pytest.mark.parametrize("size", [1024 * 1024, LIMIT + 1])
def test_one_frame_above_the_bound_drops_the_link(sim: Simulator, clients: Clients,
                                                  size: int) -> None:
    client = clients(max_message_size=LIMIT)
    lifecycle = client.stream_lifecycle()
    trades = client.stream_trades(PAIR)
    client.connect(5)
    assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_trades")), 5)
    sim.inject("x" * size)
    seen: list = []
    assert wait_until(lambda: dropped_for_size(lifecycle, seen), 5), seen
    report = next(e for e in seen if e.state is ConnectionState.DISCONNECTED)
    assert f"frame of {size} bytes" in report.message and str(LIMIT) in report.message
    assert wait_until(lambda: client.stats()["reconnects"] == 1, 5)
    assert_recovers(sim, client, trades, 2)
    assert sim.connections[0].open is False


def test_a_frame_at_the_bound_is_read(sim: Simulator, clients: Clients) -> None:
    client = clients(max_message_size=LIMIT)
    errors = client.stream_errors()
    client.stream_trades(PAIR)
    client.connect(5)
    sim.inject(" " * LIMIT)  # read whole, then refused as JSON: a decode error, no drop
    assert isinstance(errors.get(timeout=5), DecodeError)
    assert client.stats()["reconnects"] == 0 and len(sim.connections) == 1


def test_endless_fragmented_message_drops_the_link(sim: Simulator, clients: Clients) -> None:
    client = clients(max_message_size=LIMIT)
    lifecycle = client.stream_lifecycle()
    trades = client.stream_trades(PAIR)
    client.connect(5)
    assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_trades")), 5)
    sim.inject_fragments("y" * 4096)  # no FIN, ever
    seen: list = []
    assert wait_until(lambda: dropped_for_size(lifecycle, seen), 5), seen
    report = next(e for e in seen if e.state is ConnectionState.DISCONNECTED)
    assert "fragmented message" in report.message
    assert wait_until(lambda: client.stats()["reconnects"] == 1, 5)
    assert_recovers(sim, client, trades, 2)
    assert sim.wait_for(lambda s: not s.connections[0].open, 5)  # the sim stopped sending
    # and it happens again on the new link, just the same
    sim.inject_fragments("z" * 1000, interval=0.001)
    assert wait_until(lambda: client.stats()["reconnects"] == 2, 10)
    assert_recovers(sim, client, trades, 3)


def test_fragmented_message_within_the_bound_is_read(sim: Simulator, clients: Clients) -> None:
    client = clients(max_message_size=LIMIT)
    errors = client.stream_errors()
    trades = client.stream_trades(PAIR)
    client.connect(5)
    sim.inject_fragments(" " * 1024, count=LIMIT // 1024)  # exactly the bound, in 64 pieces
    assert isinstance(errors.get(timeout=5), DecodeError)
    assert client.stats()["reconnects"] == 0
    for _ in range(3000):  # frames queued behind the message flow after it
        sim.step(1)
        if trades.pending:
            break
    assert trades.get(timeout=5).trades
    assert len(sim.connections) == 1
