"""REST endpoints of the simulator: answers, parameters and errors."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from o2sync.testing import Simulator

FUEL_ID = "0x43c8c52e49590d26ca6f72777a49c852ac83ab7b57a0950976ea4f21eff6586a"
UNKNOWN_ID = "0x" + "ab" * 32


def get(sim: Simulator, path: str, **params: Any) -> requests.Response:
    return requests.get(sim.api_url + path, params=params, timeout=5)


def error_of(response: requests.Response) -> tuple[int, int]:
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"code", "message"} and body["message"]
    return response.status_code, body["code"]


@pytest.mark.parametrize("spelling", [FUEL_ID, FUEL_ID[2:], FUEL_ID.upper(), FUEL_ID[2:].upper()])
def test_market_ids_are_accepted_with_or_without_0x_in_any_case(
    sim: Simulator, spelling: str
) -> None:
    response = get(sim, "/v1/depth", market_id=spelling, precision=10)
    assert response.status_code == 200
    assert response.json()["market_id"] == FUEL_ID  # answers use the canonical form


def test_depth_limit_and_precision(sim: Simulator) -> None:
    full = get(sim, "/v1/depth", market_id=FUEL_ID, precision=10).json()["orders"]
    assert len(full["buys"]) > 3 and len(full["sells"]) > 3
    top = get(sim, "/v1/depth", market_id=FUEL_ID, precision=10, limit=3).json()["orders"]
    assert top == {"buys": full["buys"][:3], "sells": full["sells"][:3]}
    coarse = get(sim, "/v1/depth", market_id=FUEL_ID, precision=10**5).json()["orders"]
    assert len(coarse["buys"]) < len(full["buys"])


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("/v1/depth", {"market_id": UNKNOWN_ID, "precision": 10}, 404, 2000),
        ("/v1/depth", {"market_id": "NOPE/USDC", "precision": 10}, 404, 2000),
        ("/v1/depth", {"precision": 10}, 400, 1001),
        ("/v1/depth", {"market_id": FUEL_ID}, 400, 1001),
        ("/v1/depth", {"market_id": FUEL_ID, "precision": 1}, 400, 1001),
        ("/v1/depth", {"market_id": FUEL_ID, "precision": 15}, 400, 1001),
        ("/v1/depth", {"market_id": FUEL_ID, "precision": 10, "limit": "x"}, 400, 1001),
        ("/v1/trades", {"market_id": FUEL_ID, "direction": "desc", "count": 51}, 400, 1001),
        ("/v1/trades", {"market_id": FUEL_ID, "direction": "up", "count": 5}, 400, 1001),
        ("/v1/trades", {"market_id": FUEL_ID, "count": 5}, 400, 1001),
        ("/v1/trades", {"market_id": UNKNOWN_ID, "direction": "asc", "count": 5}, 404, 2000),
        (
            "/v1/trades",
            {"market_id": FUEL_ID, "direction": "asc", "count": 5, "start_timestamp": 1},
            400,
            1001,
        ),
        ("/v1/accounts", {}, 400, 1001),
        ("/v1/accounts", {"trade_account_id": "0x12"}, 400, 1001),
        ("/v1/balance", {"asset_id": UNKNOWN_ID, "contract": UNKNOWN_ID}, 400, 1001),
        ("/v1/orders", {"market_id": FUEL_ID, "direction": "desc", "count": 5}, 400, 1001),
        ("/v1/order", {"market_id": FUEL_ID, "order_id": UNKNOWN_ID}, 404, 3000),
        ("/v1/order", {"market_id": FUEL_ID}, 400, 1001),
        ("/v1/nothing-here", {}, 404, 1001),
    ],
)
def test_errors_have_the_documented_shape(
    sim: Simulator, path: str, params: dict[str, Any], status: int, code: int
) -> None:
    assert error_of(get(sim, path, **params)) == (status, code)


def test_rate_limit_answers_429_then_recovers(sim: Simulator) -> None:
    sim.rate_limit(2)
    for _ in range(2):
        response = get(sim, "/v1/markets")
        assert response.status_code == 429
        assert response.json() == {"code": 1003, "message": "Rate limit exceeded"}
    assert get(sim, "/v1/markets").status_code == 200


def test_trades_newest_first_with_count_and_cursor(sim: Simulator) -> None:
    sim.step(2000)  # well over 100 trades on the market
    query = {"market_id": FUEL_ID, "count": 50}
    desc = get(sim, "/v1/trades", direction="desc", **query).json()["trades"]
    assert len(desc) == 50
    stamps = [t["timestamp"] for t in desc]
    assert stamps == sorted(stamps, reverse=True)
    asc = get(sim, "/v1/trades", direction="asc", **query).json()["trades"]
    assert asc[0]["trade_id"] not in {t["trade_id"] for t in desc}  # the oldest ones
    last = desc[9]
    page = get(
        sim,
        "/v1/trades",
        direction="desc",
        market_id=FUEL_ID,
        count=5,
        start_timestamp=last["timestamp"],
        start_trade_id=last["trade_id"],
    ).json()["trades"]
    assert page == desc[10:15]


def test_trades_by_account_marks_the_account_side(sim: Simulator) -> None:
    sim.step(600)
    trades = get(
        sim,
        "/v1/trades_by_account",
        market_id=FUEL_ID,
        contract=sim.account,
        direction="desc",
        count=50,
    ).json()["trades"]
    assert trades
    for trade in trades:
        side = trade["trader_side"]
        assert side in ("maker", "taker", "both")
        if side in ("maker", "both"):
            assert trade["maker"]["ContractId"] == sim.account
        if side in ("taker", "both"):
            assert trade["taker"]["ContractId"] == sim.account


def test_orders_filters_and_single_order(sim: Simulator) -> None:
    sim.step(400)
    query = {"market_id": FUEL_ID, "contract": sim.account, "direction": "desc", "count": 200}
    everything = get(sim, "/v1/orders", **query).json()
    assert everything["identity"] == {"ContractId": sim.account}
    orders = everything["orders"]
    open_ = get(sim, "/v1/orders", is_open="true", **query).json()["orders"]
    closed = get(sim, "/v1/orders", is_open="false", **query).json()["orders"]
    assert open_ and closed
    assert all(not o["close"] for o in open_) and all(o["close"] for o in closed)
    assert {o["order_id"] for o in open_} | {o["order_id"] for o in closed} >= {
        o["order_id"] for o in orders
    }
    assert all(
        o["market_id"] == FUEL_ID and o["owner"]["ContractId"] == sim.account for o in orders
    )
    asc = get(sim, "/v1/orders", **{**query, "direction": "asc", "count": 3}).json()["orders"]
    assert len(asc) == 3
    one = get(sim, "/v1/order", market_id=FUEL_ID, order_id=open_[0]["order_id"]).json()
    assert one == {"order": open_[0]}
    eth_id = sim.markets[1]["market_id"]
    other_market = get(sim, "/v1/order", market_id=eth_id, order_id=open_[0]["order_id"])
    assert error_of(other_market) == (404, 3000)


def test_open_orders_match_the_book(sim: Simulator) -> None:
    sim.step(300)
    open_ = get(
        sim,
        "/v1/orders",
        market_id=FUEL_ID,
        contract=sim.account,
        direction="asc",
        count=200,
        is_open="true",
    ).json()["orders"]
    book = sim.book(FUEL_ID, 1)
    bids = dict(book["buys"])
    asks = dict(book["sells"])
    for order in open_:
        side = bids if order["side"] == "Buy" else asks
        remaining = int(order["quantity"]) - int(order["quantity_fill"])
        assert side[int(order["price"])] >= remaining > 0


def test_accounts_nonce_and_unknown_owner(sim: Simulator) -> None:
    account = get(sim, "/v1/accounts", trade_account_id=sim.account).json()
    assert account["trade_account_id"] == sim.account
    before = int(account["trade_account"]["nonce"])
    sim.step(200)
    after = int(
        get(sim, "/v1/accounts", trade_account_id=sim.account).json()["trade_account"]["nonce"]
    )
    assert after > before
    owner = account["trade_account"]["owner"]["Address"]
    assert (
        get(sim, "/v1/accounts", owner=owner).json()
        == get(sim, "/v1/accounts", trade_account_id=sim.account).json()
    )
    assert get(sim, "/v1/accounts", trade_account_id=UNKNOWN_ID).json() == {
        "trade_account_id": None,
        "trade_account": None,
        "session": None,
    }


def test_balance_of_each_asset_and_of_a_stranger(sim: Simulator) -> None:
    assets = {m[side]["asset"] for m in sim.markets for side in ("base", "quote")}
    for asset in assets:
        body = get(sim, "/v1/balance", asset_id=asset, contract=sim.account).json()
        assert int(body["total_unlocked"]) >= int(body["trading_account_balance"]) > 0
    stranger = get(sim, "/v1/balance", asset_id=sorted(assets)[0], contract=UNKNOWN_ID).json()
    assert stranger["total_locked"] == stranger["total_unlocked"] == "0"


def test_websocket_path_is_not_rest(sim: Simulator) -> None:
    response = get(sim, "/v1/ws")  # a plain GET, no upgrade
    assert response.status_code == 426


def test_bars_add_up_to_the_trades_they_cover(sim: Simulator) -> None:
    sim.step(400)
    trades = get(sim, "/v1/trades", market_id=FUEL_ID, direction="desc", count=50).json()["trades"]
    stamps = [t["timestamp"] for t in trades]
    first, last = min(stamps), max(stamps)
    body = get(sim, "/v1/bars", market_id=FUEL_ID, resolution="1h", **{"from": 0,
                                                                      "to": 2**62}).json()
    assert body["market_id"] == FUEL_ID and body["bars"]
    bars = body["bars"]
    assert [b["time"] for b in bars] == sorted(b["time"] for b in bars)
    assert all(b["time"] % 3_600_000 == 0 for b in bars)
    for bar in bars:
        assert int(bar["low"]) <= min(int(bar["open"]), int(bar["close"]))
        assert int(bar["high"]) >= max(int(bar["open"]), int(bar["close"]))
    # the window of the 50 newest trades holds at least their volume
    window = get(sim, "/v1/bars", market_id=FUEL_ID, resolution="1s", **{"from": first,
                                                                        "to": last}).json()
    assert sum(int(b["volume"]) for b in window["bars"]) >= sum(int(t["quantity"])
                                                               for t in trades)
    assert error_of(get(sim, "/v1/bars", market_id=FUEL_ID, resolution="7m", **{
        "from": 0, "to": 1})) == (400, 1001)
    assert error_of(get(sim, "/v1/bars", market_id=FUEL_ID, resolution="1m", **{
        "from": 5, "to": 1})) == (400, 7001)


def test_ticker_is_a_one_item_list_of_the_book_and_tape(sim: Simulator) -> None:
    sim.step(200)
    [ticker] = get(sim, "/v1/markets/ticker", market_id=FUEL_ID).json()
    book = sim.book(FUEL_ID)
    newest = get(sim, "/v1/trades", market_id=FUEL_ID, direction="desc", count=1).json()
    assert ticker["market_id"] == FUEL_ID
    assert int(ticker["best_bid"]) == book["buys"][0][0]
    assert int(ticker["best_ask"]) == book["sells"][0][0]
    assert ticker["last_price"] == newest["trades"][0]["price"]
    assert error_of(get(sim, "/v1/markets/ticker", market_id=UNKNOWN_ID)) == (404, 2000)
