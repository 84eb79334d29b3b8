"""Fault controls: drops, refusals, half-open links, injected frames, restarts."""

from __future__ import annotations

import json
import socket
import time
from typing import Callable

import pytest
import requests
import websocket
from conftest import ConnectionClosedByServer, WsClient

from o2sync.testing import Simulator

MARK = "--mark--"
Connect = Callable[..., WsClient]


def subscribe_depth(sim: Simulator, client: WsClient, precision: str = "10") -> None:
    market_id = sim.markets[0]["market_id"]
    client.send_json({"action": "subscribe_depth", "market_id": market_id, "precision": precision})
    client.recv_action("subscribe_depth")


def can_connect(sim: Simulator) -> bool:
    try:
        websocket.create_connection(sim.ws_url, timeout=2).close()
    except (OSError, websocket.WebSocketException):
        return False
    return True


def rest_ok(sim: Simulator) -> bool:
    return requests.get(sim.api_url + "/v1/markets", timeout=2).status_code == 200


# -- drops --------------------------------------------------------------------------


def test_abrupt_drop_sends_no_close_frame(sim: Simulator, ws_connect: Connect) -> None:
    clients = [ws_connect() for _ in range(2)]
    assert sim.wait_for(lambda s: s.open_connections == 2)
    sim.drop_connections()
    for client in clients:
        with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError)):
            client.recv(timeout=5)  # EOF or reset: never a close frame
    assert sim.wait_for(lambda s: s.open_connections == 0)
    assert [(r.open, r.close_code) for r in sim.connections] == [(False, 1006)] * 2
    assert can_connect(sim)  # the server itself is fine


@pytest.mark.parametrize("code", [1000, 1011, 1012, 4000])
def test_drop_with_a_close_code(sim: Simulator, ws_connect: Connect, code: int) -> None:
    client = ws_connect()
    subscribe_depth(sim, client)
    sim.step(200)  # frames queued before the drop are still delivered first
    sim.drop_connections(code)
    received = 0
    with pytest.raises(ConnectionClosedByServer) as closed:
        while True:
            assert json.loads(client.recv(timeout=5))["action"] == "subscribe_depth_update"
            received += 1
    assert closed.value.code == code and received > 50
    assert sim.wait_for(lambda s: not s.connections[0].open)


def test_drop_rejects_codes_that_cannot_be_sent(sim: Simulator) -> None:
    for code in (1005, 1006, 1015, 999, 5000):
        with pytest.raises(ValueError):
            sim.drop_connections(code)
    sim.drop_connections()  # nobody connected: nothing to do


# -- refusals -----------------------------------------------------------------------


def test_refused_handshakes_then_accepted(sim: Simulator, ws_connect: Connect) -> None:
    survivor = ws_connect()
    started = time.monotonic()
    sim.refuse(0.4)
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(sim.ws_url, timeout=5)
    assert refused.value.status_code == 503
    assert rest_ok(sim)  # REST keeps working
    survivor.send("PING")
    assert survivor.recv() == "PONG"  # open connections stay up
    assert sim.wait_for(can_connect, timeout=5)
    assert time.monotonic() - started >= 0.35
    # the probe that got through is the only new record: refused ones are not records
    assert sim.wait_for(lambda s: [r.open for r in s.connections] == [True, False])


def test_tcp_refusal_gives_econnrefused_then_same_port(sim: Simulator, ws_connect: Connect) -> None:
    survivor = ws_connect()
    port = sim.port
    started = time.monotonic()
    sim.refuse(0.4, tcp=True)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    with pytest.raises(requests.ConnectionError):
        requests.get(sim.api_url + "/v1/markets", timeout=2)
    survivor.send("PING")
    assert survivor.recv() == "PONG"
    assert sim.wait_for(can_connect, timeout=5)
    assert time.monotonic() - started >= 0.35
    assert sim.port == port and rest_ok(sim)


# -- half-open link -------------------------------------------------------------------


def test_stall_is_a_half_open_link(sim: Simulator, ws_connect: Connect) -> None:
    stalled = ws_connect()
    subscribe_depth(sim, stalled)
    sim.stall()
    stalled.send("PING")
    stalled.ws.ping("hello")
    sim.step(200)
    stalled.ws.settimeout(0.4)
    with pytest.raises(websocket.WebSocketTimeoutException):
        stalled.ws.recv_data_frame(control_frame=True)  # no PONG, no pong, no data
    assert sim.open_connections == 1 and sim.connections[0].open  # TCP still up
    assert len(sim.connections[0].frames) == 1  # the PING is still unread

    fresh = ws_connect()  # connections made after stall() are served normally
    fresh.send("PING")
    assert fresh.recv() == "PONG"
    subscribe_depth(sim, fresh)

    sim.unstall()  # everything held back now flows, in order
    stalled.ws.settimeout(5)
    texts: list[str] = []
    pongs: list[bytes] = []
    while not texts or texts[-1] != "PONG":
        opcode, frame = stalled.ws.recv_data_frame(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_PONG:
            pongs.append(frame.data)
        else:
            texts.append(frame.data.decode())
    assert pongs == [b"hello"]
    assert len(texts) > 50 and all("subscribe_depth_update" in t for t in texts[:-1])
    assert sim.wait_for(lambda s: s.connections[0].frames[-1] == "PING")


def test_stop_is_prompt_with_a_stalled_client() -> None:
    sim = Simulator(start_flow=False).start()
    client = WsClient(sim.ws_url)
    try:
        subscribe_depth(sim, client)
        sim.stall()
        started = time.monotonic()
        sim.stop()
        assert time.monotonic() - started < 1.0
    finally:
        client.ws.shutdown()


# -- injection, rate limit ---------------------------------------------------------------


def test_inject_reaches_every_open_connection_in_order(sim: Simulator, ws_connect: Connect) -> None:
    clients = [ws_connect() for _ in range(3)]
    subscribe_depth(sim, clients[0])
    assert sim.wait_for(lambda s: s.open_connections == 3)
    sim.step(20)
    for raw in ('{"action": "subscribe_trades", "trades": [', "\x00garbage", MARK):
        sim.inject(raw)
    first = clients[0].recv_until(MARK)
    assert first[-2:] == ['{"action": "subscribe_trades", "trades": [', "\x00garbage"]
    assert all("subscribe_depth_update" in text for text in first[:-2])
    for client in clients[1:]:
        assert client.recv_until(MARK) == first[-2:]


def test_rate_limit_is_rest_only(sim: Simulator, ws_connect: Connect) -> None:
    sim.rate_limit(1)
    client = ws_connect()  # the handshake is not a REST request
    client.send("PING")
    assert client.recv() == "PONG"
    assert requests.get(sim.api_url + "/v1/markets", timeout=5).status_code == 429
    assert rest_ok(sim)
    with pytest.raises(ValueError):
        sim.rate_limit(-1)


# -- restart --------------------------------------------------------------------------


def test_restart_keeps_port_market_and_records(sim: Simulator, ws_connect: Connect) -> None:
    old = ws_connect()
    subscribe_depth(sim, old)
    sim.step(100)
    port, book, events = sim.port, sim.book("fFUEL/fUSDC", 1), sim.events
    sim.restart()
    with pytest.raises(ConnectionClosedByServer) as closed:
        while True:
            old.recv(timeout=5)
    assert closed.value.code == 1001  # going away
    assert sim.port == port and sim.running
    assert sim.book("fFUEL/fUSDC", 1) == book and sim.events == events
    new = ws_connect()
    subscribe_depth(sim, new)
    assert [r.id for r in sim.connections] == [1, 2]
    assert [r.open for r in sim.connections] == [False, True]
    assert rest_ok(sim)
