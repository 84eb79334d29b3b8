"""``O2WebSocket`` (o2-sdk's low-level stream client, ``o2sync.websocket``) on the simulator:
markets by id, depth by wire precision, account streams by identity dicts, the
unsubscribe calls, and a lifecycle stream that ends after CLOSED on ``disconnect()``."""

from __future__ import annotations

import time

import pytest

import o2sync
from o2sync.testing import Simulator
from o2sync.websocket import ConnectionState, O2WebSocket


def config(sim: Simulator) -> o2sync.NetworkConfig:
    return o2sync.NetworkConfig(sim.api_url, sim.ws_url, "http://127.0.0.1:1/unused", None)


def test_streams_by_id_and_identities(sim: Simulator) -> None:
    market_id = sim.markets[0]["market_id"]
    ws = O2WebSocket(config(sim), ping_interval=5.0, pong_timeout=10.0,
                     max_reconnect_attempts=0)
    try:
        assert ws.connect() is ws
        lifecycle = ws.stream_lifecycle()
        trades = ws.stream_trades(market_id)
        depth = ws.stream_depth(market_id, "10")
        orders = ws.stream_orders([{"ContractId": sim.account}])
        nonce = ws.stream_nonce([{"ContractId": sim.account}])
        snapshot = depth.get(timeout=5)
        assert snapshot.is_snapshot and snapshot.market_id == market_id
        assert sim.wait_for(lambda s: len(s.client_frames("subscribe_trades")) == 1, 5)
        deadline = time.monotonic() + 10
        while not (trades.pending and orders.pending and nonce.pending) \
                and time.monotonic() < deadline:
            sim.step(20)
        update = trades.get(timeout=5)
        assert isinstance(update, o2sync.TradeUpdate) and update.market_id == market_id
        assert all(o.owner == {"ContractId": sim.account} for o in orders.get(timeout=5).orders)
        assert nonce.get(timeout=5).contract_id == sim.account
        ws.unsubscribe_trades(market_id)
        list(trades)  # returns: the stream ended
        assert trades.closed
        assert sim.wait_for(lambda s: bool(s.client_frames("unsubscribe_trades")), 5)
        ws.unsubscribe_orders()
        assert orders.closed
    finally:
        ws.disconnect()
    states = [e.state for e in lifecycle]  # ends after CLOSED, as in o2-sdk
    assert states[-1] is ConnectionState.CLOSED


def test_bad_arguments_raise_at_the_call(sim: Simulator) -> None:
    ws = O2WebSocket(config(sim))
    try:
        with pytest.raises(o2sync.InvalidRequest):
            ws.stream_depth(sim.markets[0]["market_id"], "7")  # not a power of ten
        with pytest.raises(o2sync.InvalidRequest):
            ws.stream_orders([{"ContractId": sim.account}, {"ContractId": sim.account}])
        with pytest.raises(ValueError):
            ws.stream_nonce([{"ContractId": "0x12"}])
        with pytest.raises(o2sync.InvalidRequest):
            O2WebSocket(config(sim), max_reconnect_attempts=-1)
    finally:
        ws.disconnect()
