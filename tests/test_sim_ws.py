"""The WebSocket endpoint: every action, heartbeats, errors, fan-out."""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest
import websocket
from conftest import WsClient

from o2sync.testing import Simulator

MARK = "--mark--"
UNKNOWN_ID = "0x" + "cd" * 32
Connect = Callable[..., WsClient]


def actions_after(sim: Simulator, client: WsClient, events: int = 300) -> list[str]:
    """Actions of every frame ``events`` engine events send to ``client``."""
    sim.step(events)
    sim.inject(MARK)
    return [json.loads(text)["action"] for text in client.recv_until(MARK)]


def subscribe_frames(sim: Simulator, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The subscribe and unsubscribe frames of one stream, as in the fixtures."""
    market_id = sim.markets[0]["market_id"]
    identities = [{"ContractId": sim.account}]
    if kind == "depth":
        return (
            {"action": "subscribe_depth", "market_id": market_id, "precision": "10"},
            {"action": "unsubscribe_depth", "market_id": market_id},
        )
    if kind == "trades":
        return (
            {"action": "subscribe_trades", "market_id": market_id},
            {"action": "unsubscribe_trades", "market_id": market_id},
        )
    unsubscribe: dict[str, Any] = {"action": f"unsubscribe_{kind}"}
    if kind != "orders":  # unsubscribe_orders carries no identities
        unsubscribe["identities"] = identities
    return {"action": f"subscribe_{kind}", "identities": identities}, unsubscribe


def test_text_ping_gets_text_pong(sim: Simulator, ws_connect: Connect) -> None:
    client = ws_connect()
    for _ in range(3):
        client.send("PING")
        assert client.recv() == "PONG"


def test_protocol_ping_gets_pong(sim: Simulator, ws_connect: Connect) -> None:
    client = ws_connect()
    client.ws.ping("are you there")
    opcode, frame = client.ws.recv_data_frame(control_frame=True)
    assert opcode == websocket.ABNF.OPCODE_PONG and frame.data == b"are you there"


@pytest.mark.parametrize("kind", ["depth", "trades", "orders", "balances", "nonce"])
def test_subscribe_streams_and_unsubscribe_stops(
    sim: Simulator, ws_connect: Connect, kind: str
) -> None:
    subscribe, unsubscribe = subscribe_frames(sim, kind)
    client = ws_connect()
    client.send_json(subscribe)
    if kind == "depth":
        assert client.recv_json()["action"] == "subscribe_depth"  # the snapshot comes first
    assert sim.wait_for(lambda s: len(s.client_frames()) == 1)
    seen = actions_after(sim, client)
    expected = "subscribe_depth_update" if kind == "depth" else f"subscribe_{kind}"
    assert seen and set(seen) == {expected}

    client.send_json(unsubscribe)
    assert sim.wait_for(lambda s: len(s.client_frames()) == 2)
    assert actions_after(sim, client) == []


def test_unsubscribe_orders_is_connection_global(sim: Simulator, ws_connect: Connect) -> None:
    client = ws_connect()
    other = "0x93854ec991be293ba1bea0ae4992dc788d70dde77154fb8d87a485b016b79d4a"
    client.send_json({"action": "subscribe_orders", "identities": [{"ContractId": sim.account}]})
    client.send_json({"action": "subscribe_orders", "identities": [{"ContractId": other}]})
    assert sim.wait_for(lambda s: len(s.client_frames()) == 2)
    sim.step(300)
    sim.inject(MARK)
    owners = {
        order["owner"]["ContractId"]
        for text in client.recv_until(MARK)
        for order in json.loads(text)["orders"]
    }
    assert owners == {sim.account, other}  # any identity's orders can be followed
    client.send_json({"action": "unsubscribe_orders"})
    assert sim.wait_for(lambda s: len(s.client_frames()) == 3)
    assert actions_after(sim, client) == []


def test_unknown_identity_gets_nothing(sim: Simulator, ws_connect: Connect) -> None:
    client = ws_connect()
    for kind in ("orders", "balances", "nonce"):
        client.send_json(
            {"action": f"subscribe_{kind}", "identities": [{"ContractId": UNKNOWN_ID}]}
        )
    assert sim.wait_for(lambda s: len(s.client_frames()) == 3)
    assert actions_after(sim, client) == []


@pytest.mark.parametrize("kind", ["orders", "balances", "nonce"])
def test_second_subscribe_of_an_identity_is_refused(
    sim: Simulator, ws_connect: Connect, kind: str
) -> None:
    subscribe, _ = subscribe_frames(sim, kind)
    client = ws_connect()
    client.send_json(subscribe)
    client.send_json({**subscribe, "identities": [{"ContractId": sim.account.upper()[2:]}]})
    assert client.recv_json() == {"action": "error", "code": 6000, "message": "AlreadySubscribed"}
    # and the stream is still delivered once, not twice
    sim.step(300)
    sim.inject(MARK)
    frames = client.recv_until(MARK)
    assert frames and len(frames) == len(set(frames))


@pytest.mark.parametrize("precision", ["1", "15", "0", "ten", "", None, True, 10**19])
def test_invalid_precision_never_emits(sim: Simulator, ws_connect: Connect, precision: Any) -> None:
    client = ws_connect()
    market_id = sim.markets[0]["market_id"]
    client.send_json({"action": "subscribe_depth", "market_id": market_id, "precision": precision})
    assert sim.wait_for(lambda s: len(s.client_frames()) == 1)
    assert actions_after(sim, client) == []  # no snapshot, no deltas, no error


def test_numeric_precision_is_accepted(sim: Simulator, ws_connect: Connect) -> None:
    client = ws_connect()
    market_id = sim.markets[0]["market_id"]
    client.send_json({"action": "subscribe_depth", "market_id": market_id, "precision": 100})
    assert client.recv_json()["action"] == "subscribe_depth"


def test_second_depth_subscribe_replaces_the_first(sim: Simulator, ws_connect: Connect) -> None:
    client = ws_connect()
    market_id = sim.markets[0]["market_id"]
    client.send_json({"action": "subscribe_depth", "market_id": market_id, "precision": "10"})
    client.recv_action("subscribe_depth")
    client.send_json({"action": "subscribe_depth", "market_id": market_id, "precision": "100000"})
    snapshot = client.recv_action("subscribe_depth")
    assert {int(level["price"]) % 100000 for level in snapshot["orders"]["buys"]} == {0}
    sim.step(200)
    sim.inject(MARK)
    for text in client.recv_until(MARK):  # only deltas of the coarse book
        for side in ("buys", "sells"):
            assert all(int(lv["price"]) % 100000 == 0 for lv in json.loads(text)["changes"][side])


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("hello", 1002),
        ("[1, 2]", 1001),
        ('{"action": "subscribe_everything"}', 1001),
        ('{"no": "action"}', 1001),
        ('{"action": "subscribe_trades"}', 1001),
        ('{"action": "subscribe_trades", "market_id": "' + UNKNOWN_ID + '"}', 2000),
        ('{"action": "subscribe_depth", "market_id": "NOPE/USDC", "precision": "10"}', 2000),
        ('{"action": "subscribe_depth", "market_id": "fFUEL/fUSDC"}', 1001),
        ('{"action": "subscribe_nonce"}', 1001),
        ('{"action": "subscribe_nonce", "identities": [{"ContractId": "0x12"}]}', 1001),
        ('{"action": "subscribe_nonce", "identities": [{"Wallet": "' + UNKNOWN_ID + '"}]}', 1001),
        (
            json.dumps(
                {"action": "subscribe_orders", "identities": [{"Address": UNKNOWN_ID}] * 11}
            ),
            1001,
        ),
    ],
)
def test_bad_requests_get_an_error_frame_and_keep_the_link(
    sim: Simulator, ws_connect: Connect, frame: str, code: int
) -> None:
    client = ws_connect()
    client.send(frame)
    error = client.recv_json()
    assert error["action"] == "error" and error["code"] == code and error["message"]
    client.send("PING")
    assert client.recv() == "PONG"


def test_only_the_ws_path_upgrades(sim: Simulator) -> None:
    with pytest.raises(websocket.WebSocketBadStatusException) as failed:
        websocket.create_connection(sim.api_url.replace("http", "ws") + "/ws", timeout=5)
    assert failed.value.status_code == 404
    assert sim.connections == []


def test_every_subscriber_gets_the_same_frames(sim: Simulator, ws_connect: Connect) -> None:
    clients = [ws_connect() for _ in range(3)]
    for market in sim.markets:
        for client in clients:
            client.send_json({"action": "subscribe_trades", "market_id": market["market_id"]})
    assert sim.wait_for(lambda s: len(s.client_frames()) == 6)
    sim.step(500)
    sim.inject(MARK)
    received = [client.recv_until(MARK) for client in clients]
    assert received[0] and received[0] == received[1] == received[2]
    markets = {json.loads(text)["market_id"] for text in received[0]}
    assert markets == {m["market_id"] for m in sim.markets}


def test_frames_are_recorded_per_connection(sim: Simulator, ws_connect: Connect) -> None:
    first, second = ws_connect(), ws_connect()
    first.send("PING")
    first.send_json({"action": "subscribe_trades", "market_id": sim.markets[0]["market_id"]})
    second.send("not json")
    second.send_json({"action": "unsubscribe_orders"})
    assert sim.wait_for(lambda s: [len(r.frames) for r in s.connections] == [2, 2])
    one, two = sim.connections
    assert (one.id, two.id) == (1, 2) and one.open and two.open
    assert one.frames[0] == "PING" and json.loads(one.frames[1])["action"] == "subscribe_trades"
    assert two.frames[0] == "not json"
    assert [f["action"] for f in sim.client_frames()] == ["subscribe_trades", "unsubscribe_orders"]
    assert sim.client_frames("unsubscribe_orders") == [{"action": "unsubscribe_orders"}]
    first.close()
    assert sim.wait_for(lambda s: not s.connections[0].open and s.open_connections == 1)
    assert sim.connections[0].close_code == 1000
