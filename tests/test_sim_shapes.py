"""Every message the simulator emits has exactly the shape of the protocol fixtures.

Shapes are compared field by field: same keys, same JSON types, integer strings
where the fixture has integer strings, lowercase 0x ids where it has ids. Values
are then checked for the relations the protocol documents.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any, Callable

import pytest
import requests
from conftest import WsClient

from o2sync.testing import Simulator

HEX_ID = re.compile(r"^0x[0-9a-f]{64}$")
FUEL = "fFUEL/fUSDC"
MARK = "--mark--"
SIGNED_CHANGE = re.compile(r"^\$\.changes\.(buys|sells)\[\d+\]\.quantity$")
SIGNED_INT = re.compile(r"^-?[1-9][0-9]*$")  # never "0" or "-0": a change carries something


def assert_shape(actual: Any, expected: Any, path: str = "$") -> None:
    """``actual`` has the structure of ``expected`` (a fixture value)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{path}: expected an object, got {actual!r}"
        if expected and all(HEX_ID.match(key) for key in expected):
            # a map keyed by ids (balance order_books): same value shape for every id
            template = next(iter(expected.values()))
            assert actual, f"{path}: empty id map"
            for key, value in actual.items():
                assert HEX_ID.match(key), f"{path}: key {key!r} is not a 0x id"
                assert_shape(value, template, f"{path}.{key}")
            return
        assert set(actual) == set(expected), f"{path}: keys {sorted(actual)} != {sorted(expected)}"
        for key, template in expected.items():
            assert_shape(actual[key], template, f"{path}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list), f"{path}: expected a list, got {actual!r}"
        for i, item in enumerate(actual):
            errors = []
            for template in expected:  # e.g. a Buy order and a Sell order in the fixture
                try:
                    assert_shape(item, template, f"{path}[{i}]")
                    break
                except AssertionError as exc:
                    errors.append(str(exc))
            else:
                raise AssertionError(" / ".join(errors))
    else:
        assert type(actual) is type(expected), (
            f"{path}: {type(actual).__name__} {actual!r} where the fixture has "
            f"{type(expected).__name__} {expected!r}"
        )
        if isinstance(expected, str) and SIGNED_CHANGE.match(path):
            # a delta's change is a signed integer string (o2-websocket.md 6.2)
            assert SIGNED_INT.match(actual), f"{path}: {actual!r} is not a signed integer string"
        elif isinstance(expected, str) and expected.isdigit():
            assert actual.isdigit(), f"{path}: {actual!r} is not an integer string"
        if isinstance(expected, str) and HEX_ID.match(expected):
            assert HEX_ID.match(actual), f"{path}: {actual!r} is not a lowercase 0x id"


def test_shape_checker_catches_differences() -> None:
    assert_shape({"a": "1", "b": [{"c": True}]}, {"a": "7", "b": [{"c": False}]})
    for bad in ({"a": 1, "b": []}, {"a": "x", "b": []}, {"a": "1"}, {"a": "1", "b": [{"c": 1}]}):
        with pytest.raises(AssertionError):
            assert_shape(bad, {"a": "7", "b": [{"c": False}]})


def collect(sim: Simulator, client: WsClient, events: int) -> list[dict[str, Any]]:
    """Run ``events`` engine events; return every JSON frame they produced for ``client``."""
    sim.step(events)
    sim.inject(MARK)  # queued behind the step's frames: everything before it is ours
    return [json.loads(text) for text in client.recv_until(MARK)]


def of(frames: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [frame for frame in frames if frame["action"] == action]


@pytest.fixture
def subscribed(sim: Simulator, ws_connect: Callable[..., WsClient]) -> WsClient:
    """A client subscribed to every stream of fFUEL/fUSDC and of the account."""
    market_id = sim.markets[0]["market_id"]
    identities = [{"ContractId": sim.account}]
    client = ws_connect()
    client.send_json({"action": "subscribe_depth", "market_id": market_id, "precision": "10"})
    client.send_json({"action": "subscribe_trades", "market_id": market_id})
    for kind in ("orders", "balances", "nonce"):
        client.send_json({"action": f"subscribe_{kind}", "identities": identities})
    assert sim.wait_for(lambda s: len(s.client_frames()) == 5)
    return client


# -- WebSocket ----------------------------------------------------------------------


def test_every_ws_message_kind_has_the_fixture_shape(
    sim: Simulator, subscribed: WsClient, o2_fixture: Callable[[str], Any]
) -> None:
    snapshot = subscribed.recv_json()
    assert_shape(snapshot, o2_fixture("o2_depth_snapshot"))
    assert snapshot["orders"]["buys"] and snapshot["orders"]["sells"]

    frames = collect(sim, subscribed, 400)
    expected = {
        "subscribe_depth_update": o2_fixture("o2_depth_update"),
        "subscribe_trades": o2_fixture("o2_trades"),
        "subscribe_orders": o2_fixture("o2_orders_update"),
        "subscribe_balances": o2_fixture("o2_balance_update"),
        "subscribe_nonce": o2_fixture("o2_nonce_update"),
    }
    assert {frame["action"] for frame in frames} == set(expected)
    for frame in frames:
        assert_shape(frame, expected[frame["action"]])
    updates = of(frames, "subscribe_depth_update")
    assert any(u["changes"]["buys"] for u in updates) and any(
        u["changes"]["sells"] for u in updates
    )
    changes = [int(q["quantity"]) for u in updates for side in ("buys", "sells")
               for q in u["changes"][side]]
    assert any(c > 0 for c in changes) and any(c < 0 for c in changes)  # added and removed


def test_ws_values_follow_the_protocol(sim: Simulator, subscribed: WsClient) -> None:
    subscribed.recv_action("subscribe_depth")
    markets = {m["market_id"]: m for m in sim.markets}

    def units(market_id: str) -> tuple[int, int, int]:
        """(price tick, quantity lot, 10**base.decimals) of a market."""
        base, quote = markets[market_id]["base"], markets[market_id]["quote"]
        tick = 10 ** (quote["decimals"] - quote["max_precision"])
        return tick, 10 ** (base["decimals"] - base["max_precision"]), 10 ** base["decimals"]

    frames = collect(sim, subscribed, 400)
    now_ms = time.time() * 1000

    trades = [(f["market_id"], t) for f in of(frames, "subscribe_trades") for t in f["trades"]]
    assert trades
    for market_id, trade in trades:
        tick, lot, scale = units(market_id)
        price, quantity = int(trade["price"]), int(trade["quantity"])
        assert int(trade["total"]) == price * quantity // scale
        assert price % tick == 0 and quantity % lot == 0 and quantity > 0
        assert trade["side"] in ("Buy", "Sell")
        assert abs(trade["timestamp"] - now_ms) < 60_000  # milliseconds

    orders = [o for f in of(frames, "subscribe_orders") for o in f["orders"]]
    assert any(o["close"] for o in orders) and any(not o["close"] for o in orders)
    assert any(o["cancel"] for o in orders)
    assert {o["market_id"] for o in orders} == set(markets)  # identity streams span markets
    for order in orders:
        tick, lot, _ = units(order["market_id"])
        assert order["owner"] == {"ContractId": sim.account}
        assert int(order["quantity_fill"]) <= int(order["quantity"])
        assert int(order["price"]) % tick == 0 and int(order["quantity"]) % lot == 0
        assert order["partially_filled"] == (
            0 < int(order["quantity_fill"]) < int(order["quantity"])
        )
        side_key = "Quote" if order["side"] == "Buy" else "Base"
        assert list(order["desired_quantity"]) == [side_key]

    assets = {m[side]["asset"] for m in sim.markets for side in ("base", "quote")}
    for frame in of(frames, "subscribe_balances"):
        for entry in frame["balance"]:
            assert entry["identity"] == {"ContractId": sim.account}
            assert entry["asset_id"] in assets
            books = entry["order_books"].values()
            unlocked = int(entry["trading_account_balance"]) + sum(
                int(b["unlocked"]) for b in books
            )
            assert int(entry["total_unlocked"]) == unlocked  # includes the trading account
            assert int(entry["total_locked"]) == sum(int(b["locked"]) for b in books)

    nonces = [int(f["nonce"]) for f in of(frames, "subscribe_nonce")]
    assert nonces == sorted(set(nonces)) and len(nonces) > 3
    assert all(f["contract_id"] == sim.account for f in of(frames, "subscribe_nonce"))


# -- REST ---------------------------------------------------------------------------


def get(sim: Simulator, path: str, **params: Any) -> requests.Response:
    return requests.get(sim.api_url + path, params=params, timeout=5)


def test_every_rest_body_has_the_fixture_shape(
    sim: Simulator, o2_fixture: Callable[[str], Any]
) -> None:
    sim.step(300)  # some trades and closed orders to show
    market = sim.markets[0]
    market_id, quote = market["market_id"], market["quote"]["asset"]
    bodies = {
        "o2_markets": get(sim, "/v1/markets"),
        "o2_depth_rest": get(sim, "/v1/depth", market_id=market_id, precision=10),
        "o2_trades_rest": get(sim, "/v1/trades", market_id=market_id, direction="desc", count=50),
        "o2_balance_rest": get(sim, "/v1/balance", asset_id=quote, contract=sim.account),
        "o2_orders_rest": get(
            sim,
            "/v1/orders",
            market_id=market_id,
            contract=sim.account,
            direction="desc",
            count=200,
            is_open="true",
        ),
        "o2_account": get(sim, "/v1/accounts", trade_account_id=sim.account),
    }
    # the REST orders fixture shows a Buy only; the WS one shows the Sell variant too
    order_shapes = o2_fixture("o2_orders_update")["orders"]
    for name, response in bodies.items():
        assert response.status_code == 200, (name, response.text)
        assert response.headers["Content-Type"] == "application/json"
        body = response.json()
        expected = o2_fixture(name)
        if name == "o2_orders_rest":
            expected["orders"] = order_shapes
        assert_shape(body, expected, name)
        assert (
            body.get("orders")
            or body.get("trades")
            or name not in ("o2_depth_rest", "o2_trades_rest", "o2_orders_rest")
        )

    order_id = bodies["o2_orders_rest"].json()["orders"][0]["order_id"]
    one = get(sim, "/v1/order", market_id=market_id, order_id=order_id).json()
    assert list(one) == ["order"]
    assert_shape([one["order"]], order_shapes)

    sim.rate_limit(1)
    limited = get(sim, "/v1/markets")
    assert limited.status_code == 429
    assert limited.json() == o2_fixture("o2_rest_error_rate_limited")


def test_markets_are_the_fixture_markets(sim: Simulator, o2_fixture: Callable[[str], Any]) -> None:
    assert get(sim, "/v1/markets").json() == o2_fixture("o2_markets")
    assert sim.markets == o2_fixture("o2_markets")["markets"]
    assert [f"{m['base']['symbol']}/{m['quote']['symbol']}" for m in sim.markets] == [
        FUEL,
        "fETH/fUSDC",
    ]
    assert HEX_ID.match(sim.account)
