"""The official o2-sdk as the oracle of the REST calls a streaming user re-syncs with.

o2-sdk 0.5.0 and o2sync read the same simulator (flow stopped, so both see one state)
through ``get_markets``, ``get_market``, ``get_trades`` (also by account and with a
cursor), ``get_orders`` (paged), ``get_order``, ``get_balances``, ``get_nonce``,
``get_bars``, ``get_ticker`` and the low-level ``api.*`` calls; the answers must agree
field by field (exact ints where the SDK keeps digit strings: PARITY exception 1).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from test_o2_sdk_frames import same

import o2sync
from o2sync.testing import Simulator

o2_sdk = pytest.importorskip("o2_sdk", reason="o2-sdk (the reference client) needs Python >= 3.10")
from o2_sdk.config import NetworkConfig  # noqa: E402

pytestmark = pytest.mark.sdk

PAIR = "fFUEL/fUSDC"


def config(sim: Simulator) -> NetworkConfig:
    return NetworkConfig(api_base=sim.api_url, ws_url=sim.ws_url,
                         fuel_rpc="http://127.0.0.1:1/unused", faucet_url=None)


async def sdk_reads(sim: Simulator) -> dict[str, Any]:
    """Everything o2-sdk answers, keyed like :func:`our_reads`."""
    async with o2_sdk.O2Client(custom_config=config(sim)) as c:
        market = await c.get_market(PAIR)
        out: dict[str, Any] = {"markets": await c.get_markets(), "market": market,
                               "markets_response": await c.api.get_markets()}
        out["trades"] = await c.get_trades(market, count=20)
        last = out["trades"][-1]
        out["trades_next"] = await c.get_trades(market, count=20,
                                                start_timestamp=last.timestamp,
                                                start_trade_id=last.trade_id)
        out["mine"] = await c.get_trades(PAIR, count=10, account=sim.account)
        out["orders"] = await c.get_orders(market, sim.account, count=5)
        out["open"] = await c.get_orders(PAIR, sim.account, is_open=True, count=4)
        tail = out["open"][-1]
        out["open_next"] = await c.get_orders(PAIR, sim.account, is_open=True, count=4,
                                              start_timestamp=int(tail.timestamp),
                                              start_order_id=tail.order_id)
        out["closed"] = await c.get_orders(PAIR, sim.account, is_open=False, count=5)
        out["order"] = await c.get_order(market, out["open"][0].order_id)
        out["balances"] = await c.get_balances(sim.account)
        out["nonce"] = await c.get_nonce(sim.account)
        out["no_nonce"] = await c.get_nonce("0x" + "ab" * 32)
        out["account"] = await c.api.get_account(trade_account_id=sim.account)
        out["balance"] = await c.api.get_balance(market.base.asset, contract=sim.account)
        out["page"] = await c.api.get_orders(market.market_id, contract=sim.account, count=3)
        stamps = [t.timestamp for t in out["trades"]]
        out["bars"] = await c.get_bars(market, "1m", min(stamps) - 60_000, max(stamps) + 1)
        out["ticker"] = await c.get_ticker(market)
        out["api_ticker"] = await c.api.get_market_ticker(market.market_id)
        return out


def our_reads(sim: Simulator, expected: dict[str, Any]) -> dict[str, Any]:
    with o2sync.O2Client(custom_config=o2sync.NetworkConfig(
            api_base=sim.api_url, ws_url=sim.ws_url, fuel_rpc="http://127.0.0.1:1/unused",
            faucet_url=None)) as c:
        market = c.get_market(PAIR)
        out: dict[str, Any] = {"markets": c.get_markets(), "market": market,
                               "markets_response": c.api.get_markets()}
        out["trades"] = c.get_trades(market, count=20)
        last = out["trades"][-1]
        out["trades_next"] = c.get_trades(market, count=20, start_timestamp=last.timestamp,
                                          start_trade_id=last.trade_id)
        out["mine"] = c.get_trades(PAIR, count=10, account=sim.account)
        out["orders"] = c.get_orders(market, sim.account, count=5)
        out["open"] = c.get_orders(PAIR, sim.account, is_open=True, count=4)
        tail = out["open"][-1]
        out["open_next"] = c.get_orders(PAIR, sim.account, is_open=True, count=4,
                                        start_timestamp=int(tail.timestamp),
                                        start_order_id=tail.order_id)
        out["closed"] = c.get_orders(PAIR, sim.account, is_open=False, count=5)
        out["order"] = c.get_order(market, out["open"][0].order_id)
        out["balances"] = c.get_balances(sim.account)
        out["nonce"] = c.get_nonce(sim.account)
        out["no_nonce"] = c.get_nonce("0x" + "ab" * 32)
        out["account"] = c.api.get_account(trade_account_id=sim.account)
        out["balance"] = c.api.get_balance(market.base.asset, contract=sim.account)
        out["page"] = c.api.get_orders(market.market_id, contract=sim.account, count=3)
        stamps = [t.timestamp for t in out["trades"]]
        out["bars"] = c.get_bars(market, "1m", min(stamps) - 60_000, max(stamps) + 1)
        out["ticker"] = c.get_ticker(market)
        out["api_ticker"] = c.api.get_market_ticker(market.market_id)
        # every open order, past the first page: pages of 3 through the same loop
        out["all_open"] = c.rest.open_orders(market, sim.account, count=3)
        out["all_open_default"] = c.get_open_orders(market, sim.account)
        return out


@pytest.fixture(scope="module")
def both() -> Any:
    with Simulator(seed=7, start_flow=False) as sim:
        sim.step(1500)
        theirs = asyncio.run(asyncio.wait_for(sdk_reads(sim), 60))
        ours = our_reads(sim, theirs)
        yield sim, ours, theirs


KEYS = ["markets", "market", "markets_response", "trades", "trades_next", "mine", "orders",
        "open", "open_next", "closed", "order", "balances", "nonce", "no_nonce", "account",
        "balance", "page", "bars", "ticker", "api_ticker"]


@pytest.mark.parametrize("key", KEYS)
def test_same_answer_as_o2_sdk(both: Any, key: str) -> None:
    _sim, ours, theirs = both
    same(ours[key], theirs[key], key)


def test_the_reads_are_not_empty(both: Any) -> None:
    """Agreement on nothing proves nothing: the state both read has every kind."""
    _sim, ours, _theirs = both
    for key in ("trades", "trades_next", "mine", "orders", "open", "open_next", "closed",
                "bars", "balances"):
        assert ours[key], key
    assert ours["no_nonce"] == 0 and ours["nonce"] > 0
    assert all(t.trader_side in ("maker", "taker", "both") for t in ours["mine"])
    assert {t.trade_id for t in ours["trades"]}.isdisjoint(t.trade_id for t in ours["trades_next"])
    assert set(ours["balances"]) == {"fFUEL", "fUSDC", "fETH"}
    assert sum(int(b.volume) for b in ours["bars"]) >= sum(t.quantity for t in ours["trades"])


def test_open_orders_past_one_page_are_all_there(both: Any) -> None:
    sim, ours, _theirs = both
    exchange = sim._exchange
    market_id = sim.markets[0]["market_id"]
    truth = {o.order_id for o in exchange.owner_orders(sim.account, market_id) if not o.closed}
    assert len(truth) > 3 * 2  # several pages of 3
    got = [o.order_id for o in ours["all_open"]]
    assert len(got) == len(set(got)) and set(got) == truth
    assert {o.order_id for o in ours["all_open_default"]} == truth
    assert all(o.is_open for o in ours["all_open"])


def test_bad_arguments_raise_at_the_call(both: Any) -> None:
    sim, _ours, _theirs = both
    with o2sync.O2Client(ws_url=sim.ws_url) as c:
        with pytest.raises(ValueError):
            c.get_bars(PAIR, "7m", 0, 1)  # o2-sdk: ValueError before any call
        with pytest.raises(o2sync.InvalidRequest):
            c.get_trades(PAIR, count=51)
        with pytest.raises(o2sync.InvalidRequest):
            c.get_orders(PAIR, sim.account, start_timestamp=5)  # a cursor is both halves
        with pytest.raises(o2sync.O2Error):
            c.get_market("NOPE/NOPE")
        with pytest.raises(o2sync.OrderNotFound):
            c.get_order(PAIR, "0x" + "cd" * 32)  # the API's 3000, as o2-sdk's class


def test_a_resync_finds_every_open_order_past_the_first_200() -> None:
    """Issue 16: an account with more open orders than one page (200) holds loses none
    on a re-sync; o2-sdk paging by hand with its cursor finds the same set."""
    with Simulator(seed=3, start_flow=False) as sim:
        sim.step(200)
        placed = set(sim.rest_account_orders(PAIR, 230))
        market_id = sim.markets[0]["market_id"]
        truth = {o.order_id for o in sim._exchange.owner_orders(sim.account, market_id)
                 if not o.closed}
        assert placed <= truth and len(truth) > 200

        async def sdk_pages() -> set[str]:
            async with o2_sdk.O2Client(custom_config=config(sim)) as c:
                found: set[str] = set()
                cursor: dict[str, Any] = {}
                for _ in range(10):
                    page = await c.get_orders(PAIR, sim.account, is_open=True, count=200,
                                              **cursor)
                    found.update(str(o.order_id) for o in page)
                    if len(page) < 200:
                        return found
                    cursor = {"start_timestamp": int(page[-1].timestamp),
                              "start_order_id": page[-1].order_id}
                raise AssertionError("more than 10 pages")

        with o2sync.O2Client(ws_url=sim.ws_url) as c:
            ours = c.get_open_orders(PAIR, sim.account)
            first_page = c.get_orders(PAIR, sim.account, is_open=True, count=200)
        assert len(first_page) == 200  # one page alone would lose the rest
        assert len(ours) == len(truth) and {o.order_id for o in ours} == truth
        assert asyncio.run(asyncio.wait_for(sdk_pages(), 30)) == truth
