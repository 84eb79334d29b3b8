"""The client when the network, the server or the user misbehave."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from clientutil import Clients, o2sync_threads, wait_until

from o2sync import (
    CallbackError,
    ClientClosedError,
    ConnectionState,
    DecodeError,
    MarketNotFoundError,
    StreamOverflow,
)
from o2sync.testing import Simulator

PAIR = "fFUEL/fUSDC"
pytestmark = pytest.mark.sim_options(seed=3)


def states(events: list[Any]) -> list[ConnectionState]:
    return [e.state for e in events]



# ----------------------------------------------------------------- bad input


def test_bad_arguments_raise_before_anything_is_sent(sim: Simulator, clients: Clients
                                                     ) -> None:
    client = clients()
    with pytest.raises(MarketNotFoundError):
        client.stream_trades("NOPE/USDC")
    for bad in (0, 19, "1", 1.0, True):
        with pytest.raises(ValueError):
            client.stream_depth(PAIR, precision=bad)
    for bad in ("0x1234", "hello", 42, "0x" + "g" * 64):
        with pytest.raises(ValueError):
            client.stream_orders(bad)
    with pytest.raises(TypeError):
        client.on_trades(PAIR, "not callable")
    with pytest.raises(ValueError):
        client.on_balances("nope")  # decorator form validates at the call too
    assert sim.connections == []  # nothing reached the WebSocket
    assert client.stats()["subscriptions"] == 0


def test_malformed_frames_are_counted_reported_and_survived(sim: Simulator,
                                                            clients: Clients) -> None:
    client = clients()
    errors = client.stream_errors()
    trades = client.stream_trades(PAIR)
    client.connect(5)
    assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_trades")), 5)
    market_id = client.get_market(PAIR).market_id
    # a bad number in one trade refuses the whole frame (nothing half-built)
    half_built = {"action": "subscribe_trades", "market_id": market_id,
                  "trades": [{"side": "Buy", "price": "1"}, {"side": "Buy", "price": "1.5"}]}
    bad = ["not json", "[1, 2]", "42", '{"no_action": 1}', '{"action": "subscribe_weather"}',
           '{"action": "subscribe_trades"}', json.dumps(half_built), "PONG"]
    for frame in bad:
        sim.inject(frame)
    reports = [errors.get(timeout=5) for _ in range(len(bad) - 1)]
    assert all(isinstance(r, DecodeError) for r in reports)
    assert client.stats()["decode_errors"] == len(bad) - 1
    assert trades.pending == 0  # nothing half-built was delivered
    # absent fields are not malformed: o2-sdk's defaults, as all three SDKs accept it
    sim.inject(json.dumps({"action": "subscribe_trades", "market_id": market_id,
                           "trades": [{"side": "Buy"}]}))
    [sparse] = trades.get(timeout=5).trades
    assert (sparse.side, sparse.total, sparse.price, sparse.trade_id) == ("Buy", 0, 0, "")
    for _ in range(3000):  # and the stream still works
        sim.step(1)
        if trades.pending:
            break
    assert trades.get(timeout=2).trades


def test_raising_callback_is_reported_and_does_not_stop_others(sim: Simulator,
                                                              clients: Clients) -> None:
    client = clients()
    errors: list[Any] = []
    client.on_error(errors.append)
    calls = []

    def boom(update: Any) -> None:
        calls.append(update)
        raise RuntimeError("user bug")

    client.on_nonce(sim.account, boom)
    good = client.stream_nonce(sim.account)
    assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_nonce")), 5)
    for _ in range(3000):
        sim.step(1)
        if len(calls) >= 2:
            break
    assert wait_until(lambda: len(calls) >= 2 and len(errors) >= 2)
    assert isinstance(errors[0], CallbackError) and isinstance(errors[0].error, RuntimeError)
    assert good.pending >= 2
    assert client.stats()["callback_errors"] >= 2


def test_blocking_callback_does_not_stall_queues_or_reading(sim: Simulator,
                                                            clients: Clients) -> None:
    client = clients()
    release = threading.Event()
    entered = threading.Event()

    def stuck(update: Any) -> None:
        entered.set()
        release.wait(10)

    client.on_trades(PAIR, stuck)
    depth = client.stream_depth(PAIR)
    assert sim.wait_for(lambda s: len(s.client_frames()) >= 2, 5)
    for _ in range(3000):
        sim.step(1)
        if entered.is_set():
            break
    assert entered.wait(5)
    before = depth.pending
    sim.step(200)
    assert wait_until(lambda: depth.pending > before)
    release.set()


def test_overflow_is_counted_reported_and_depth_resyncs(sim: Simulator,
                                                        clients: Clients) -> None:
    client = clients(queue_size=5)
    errors = client.stream_errors()
    depth = client.stream_depth(PAIR)
    assert sim.wait_for(lambda s: len(s.client_frames("subscribe_depth")) == 1, 5)
    assert wait_until(lambda: depth.pending == 1)  # the snapshot
    sim.step(300)
    assert wait_until(lambda: depth.dropped > 0)
    report = errors.get(timeout=5)
    assert isinstance(report, StreamOverflow) and report.subscription is depth
    lost = depth.dropped
    sim.step(300)  # more flow while nobody reads: no resubscribe storm
    assert wait_until(lambda: depth.dropped > lost + 20)
    assert len(sim.client_frames("subscribe_depth")) == 1
    # the consumer works its backlog down to half the queue: now it asks for a snapshot,
    # which the engine makes from its own copy of the book (it follows every depth
    # topic), so the wire sees no resubscribe
    events = [depth.get(timeout=1) for _ in range(3)]
    assert wait_until(lambda: depth.pending == 3)  # two old deltas and the new snapshot
    events += [depth.get(timeout=1) for _ in range(3)]
    assert events[0].is_snapshot and events[-1].is_snapshot
    assert all(not e.is_snapshot for e in events[1:-1])  # contiguous prefix, then snapshot
    truth = sim.book(PAIR)  # the market stood still since the last step
    assert [(lv.price, lv.quantity) for lv in events[-1].changes.bids] == truth["buys"]
    assert [(lv.price, lv.quantity) for lv in events[-1].changes.asks] == truth["sells"]
    assert len(sim.client_frames("subscribe_depth")) == 1
    assert not sim.client_frames("unsubscribe_depth")
    assert not depth.needs_snapshot
    assert client.stats()["dropped"] == depth.dropped


def test_drop_oldest_policy_keeps_the_newest(sim: Simulator, clients: Clients) -> None:
    client = clients(queue_size=3, overflow="drop_oldest")
    nonce = client.stream_nonce(sim.account)
    seen: list[int] = []  # a second consumer of the same stream, with room for everything
    client.on_nonce(sim.account, lambda e: seen.append(e.nonce), queue_size=100_000)
    assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_nonce")), 5)
    for _ in range(5000):
        sim.step(1)
        if nonce.dropped >= 3:
            break
    latest = client.get_nonce(sim.account)  # the market is still now: this is the last one
    # wait until that last nonce message has arrived (the second consumer saw it)
    assert wait_until(lambda: bool(seen) and seen[-1] == latest)
    got = [nonce.get(timeout=1).nonce for _ in range(3)]
    assert nonce.pending == 0 and nonce.dropped >= 3
    assert got == sorted(got) and got[-1] == latest


# ----------------------------------------------------------------- reconnects


def test_reconnect_after_abrupt_drop_replays_subscriptions(sim: Simulator,
                                                           clients: Clients) -> None:
    client = clients()
    lifecycle = client.stream_lifecycle()
    depth = client.stream_depth(PAIR)
    trades = client.stream_trades(PAIR)
    balances = client.stream_balances(sim.account)
    assert depth.get(timeout=5).is_snapshot
    assert sim.wait_for(lambda s: len(s.connections[0].frames) >= 3, 5)
    sim.drop_connections()  # no close frame
    assert sim.wait_for(lambda s: len(s.connections) == 2 and len(s.connections[1].frames) >= 3,
                        5)
    replayed = sorted(f for f in sim.connections[1].frames if f != "PING")
    assert replayed == sorted(f for f in sim.connections[0].frames if f != "PING")
    assert depth.get(timeout=5).is_snapshot  # a fresh book after the reconnect
    seen = [lifecycle.get(timeout=5) for _ in range(4)]
    assert states(seen) == [ConnectionState.CONNECTED, ConnectionState.DISCONNECTED,
                            ConnectionState.RECONNECTING, ConnectionState.RECONNECTED]
    assert client.stats()["reconnects"] == 1
    assert not trades.closed and not balances.closed


def test_reconnect_after_close_frame(sim: Simulator, clients: Clients) -> None:
    client = clients()
    lifecycle = client.stream_lifecycle()
    trades = client.stream_trades(PAIR)  # noqa: F841 - kept open across the fault
    client.connect(5)
    sim.drop_connections(code=1012)
    assert wait_until(lambda: client.stats()["reconnects"] == 1)
    assert ConnectionState.RECONNECTED in states([lifecycle.get(timeout=5) for _ in range(4)])


def test_refused_period_is_retried_with_backoff(sim: Simulator, clients: Clients) -> None:
    client = clients(backoff_initial=0.1, backoff_max=0.4)
    lifecycle = client.stream_lifecycle()
    trades = client.stream_trades(PAIR)  # noqa: F841 - kept open across the fault
    client.connect(5)
    sim.refuse(1.5, tcp=True)
    sim.drop_connections()
    started = time.monotonic()
    assert wait_until(lambda: client.stats()["reconnects"] == 1, 10)
    elapsed = time.monotonic() - started
    events = []
    while lifecycle.pending:
        events.append(lifecycle.get(timeout=0))
    attempts = [e.attempt for e in events if e.state is ConnectionState.RECONNECTING]
    assert elapsed >= 1.0  # it did wait for the refusal to end
    assert 2 <= len(attempts) <= 12  # spaced by backoff, not a hot loop
    assert attempts == list(range(1, len(attempts) + 1))
    assert sim.wait_for(lambda s: bool(s.connections[-1].frames), 5)


def test_half_open_link_is_detected_by_heartbeat(sim: Simulator, clients: Clients) -> None:
    client = clients(ping_interval=0.2, pong_timeout=0.8)
    lifecycle = client.stream_lifecycle()
    trades = client.stream_trades(PAIR)  # noqa: F841 - kept open across the fault
    client.connect(5)
    assert sim.wait_for(lambda s: bool(s.connections) and "PING" in s.connections[0].frames, 5)
    stalled_at = time.monotonic()
    sim.stall()
    assert wait_until(lambda: client.stats()["reconnects"] == 1, 5)
    detected_in = time.monotonic() - stalled_at
    assert detected_in <= 0.2 + 0.8 + 1.0
    assert sim.wait_for(lambda s: len(s.connections) == 2
                        and any("subscribe_trades" in f for f in s.connections[1].frames), 5)
    assert ConnectionState.DISCONNECTED in states([lifecycle.get(timeout=5) for _ in range(2)])


def test_heartbeat_keeps_a_quiet_link_up(sim: Simulator, clients: Clients) -> None:
    client = clients(ping_interval=0.05, pong_timeout=0.5)
    client.connect(5)
    assert sim.wait_for(lambda s: bool(s.connections)
                        and s.connections[0].frames.count("PING") >= 10, 5)
    assert client.stats()["pongs"] >= 5
    assert client.stats()["reconnects"] == 0


def test_max_attempts_closes_and_ends_iterators(sim: Simulator, clients: Clients) -> None:
    client = clients(max_reconnect_attempts=2)
    lifecycle = client.stream_lifecycle()
    trades = client.stream_trades(PAIR)
    client.connect(5)
    sim.stop()
    assert list(trades) == []  # the iterator ends by itself
    seen = states(list(lifecycle))
    assert seen[-1] is ConnectionState.CLOSED
    assert seen.count(ConnectionState.RECONNECTING) == 2
    with pytest.raises(ClientClosedError):
        client.stream_trades(PAIR)


def test_closed_subscriptions_are_not_replayed(sim: Simulator, clients: Clients) -> None:
    client = clients()
    keep = client.stream_trades(PAIR)
    gone = client.stream_nonce(sim.account)
    assert sim.wait_for(lambda s: len(s.client_frames()) >= 2, 5)
    gone.close()
    assert sim.wait_for(lambda s: bool(s.client_frames("unsubscribe_nonce")), 5)
    sim.drop_connections()
    assert sim.wait_for(lambda s: len(s.connections) == 2 and s.connections[1].frames, 5)
    assert wait_until(lambda: client.stats()["reconnects"] == 1)
    replayed = [f for f in sim.connections[1].frames if f != "PING"]
    assert len(replayed) == 1 and "subscribe_trades" in replayed[0]
    assert not keep.closed


# ----------------------------------------------------------------- close


def test_close_from_inside_a_callback(sim: Simulator, clients: Clients) -> None:
    client = clients()
    returned = threading.Event()

    def closer(update: Any) -> None:
        client.close(timeout=5)
        returned.set()

    client.on_depth(PAIR, closer)
    assert returned.wait(5)
    assert wait_until(lambda: not o2sync_threads(), 5), o2sync_threads()


def test_close_is_bounded_with_a_stalled_server(sim: Simulator, clients: Clients) -> None:
    client = clients()
    it = client.stream_depth(PAIR)
    assert wait_until(lambda: it.pending == 1)  # the snapshot
    sim.stall()
    started = time.monotonic()
    assert client.close(timeout=3)
    assert time.monotonic() - started < 3
    assert not o2sync_threads()
    assert list(it)  # the snapshot that was queued is still handed out, then it ends


def test_close_is_idempotent_and_works_before_connecting(sim: Simulator,
                                                         clients: Clients) -> None:
    client = clients()
    events = client.stream_lifecycle()
    assert client.close() and client.close()
    assert states(list(events)) == [ConnectionState.CLOSED]


def test_run_forever_returns_after_close(sim: Simulator, clients: Clients) -> None:
    client = clients()
    client.on_depth(PAIR, lambda update: client.close())
    finished = threading.Event()
    runner = threading.Thread(target=lambda: (client.run_forever(), finished.set()),
                              name="test-runner")
    runner.start()
    assert finished.wait(5)
    runner.join(1)


def test_unreachable_rest_raises_connect_error() -> None:
    from o2sync import ConnectError, O2Client

    with Simulator(port=0) as probe:  # a loopback port that is closed afterwards
        dead_url = probe.api_url
    client = O2Client(api_url=dead_url, rest_retries=0)
    try:
        with pytest.raises(ConnectError, match="/v1/markets"):
            client.stream_trades(PAIR)  # resolving the market needs REST
    finally:
        assert client.close()


def test_proxy_option_is_checked_and_translated() -> None:
    from o2sync import O2Client
    from o2sync.engine.connection import proxy_options

    assert proxy_options("http://user:pw@proxy.local:3128") == {
        "http_proxy_host": "proxy.local", "http_proxy_port": 3128, "proxy_type": "http",
        "http_proxy_auth": ("user", "pw")}
    assert proxy_options("socks5://127.0.0.1:1080")["proxy_type"] == "socks5"
    assert proxy_options(None) == {}
    with pytest.raises(ValueError, match="proxy"):
        O2Client(ws_url="ws://127.0.0.1:1/v1/ws", proxy="http://")


def test_handshake_404_ends_the_stream_with_the_url_and_status(sim: Simulator) -> None:
    from o2sync import O2Client, StreamFailedError

    wrong = sim.ws_url.removesuffix("/v1/ws") + "/v2/nope"  # a path the server 404s
    client = O2Client(ws_url=wrong, api_url=sim.api_url, backoff_initial=0.05, backoff_max=0.2)
    try:
        lifecycle = client.stream_lifecycle()
        errors = client.stream_errors()
        trades = client.stream_trades(PAIR)
        started = time.monotonic()
        with pytest.raises(StreamFailedError) as failed:
            list(trades)
        assert time.monotonic() - started < 3
        assert "/v2/nope" in str(failed.value) and "404" in str(failed.value)
        assert failed.value.status == 404
        assert errors.get(timeout=2) is failed.value
        event = lifecycle.get(timeout=2)
        assert event.state is ConnectionState.FAILED and "404" in event.message
        assert event.stream == "/v2/nope"
        assert not sim.connections  # no socket was ever accepted
        assert client.stats()["sockets"] == {}  # and none is retried
    finally:
        assert client.close()
