"""Proof that the simulator is faithful: the official async SDK works against it.

``o2_sdk`` (o2-exchange/sdks, the reference client of the protocol) is pointed at
the simulator: it resolves markets, reads depth, balances, orders, trades and the
nonce over REST, and decodes at least one update of every stream.

Depth deltas are signed relative changes (o2-websocket.md 6.2-6.3), as the exchange
sends them since o2-sdk 0.4.0: the SDK's own ``DepthBook`` applies them and must end
with the simulator's true book. (Until issue 16 the simulator sent absolute totals
and this test applied them by hand, so it could not see the difference.)
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from o2sync.testing import Simulator

o2_sdk = pytest.importorskip("o2_sdk", reason="o2-sdk (the reference client) needs Python >= 3.10")
from o2_sdk import O2Client  # noqa: E402
from o2_sdk.config import NetworkConfig  # noqa: E402

pytestmark = pytest.mark.sdk

PAIR = "fFUEL/fUSDC"
TIMEOUT = 10.0
MARK = "sim-mark"


def sdk_client(sim: Simulator) -> O2Client:
    config = NetworkConfig(
        api_base=sim.api_url,
        ws_url=sim.ws_url,
        fuel_rpc="http://127.0.0.1:1/unused",  # never called by read-only use
        faucet_url=None,
    )
    return O2Client(custom_config=config)


def as_pairs(levels: list[Any]) -> list[tuple[int, int]]:
    return [(int(level.price), int(level.quantity)) for level in levels]


async def in_thread(fn: Any, *args: Any) -> Any:
    """Run a blocking simulator call without blocking the SDK's event loop."""
    return await asyncio.wait_for(asyncio.to_thread(fn, *args), TIMEOUT)


def test_sdk_resolves_markets_and_reads_rest() -> None:
    with Simulator(seed=4, start_flow=False) as sim:
        sim.step(500)
        asyncio.run(asyncio.wait_for(read_rest(sim), 60))


async def read_rest(sim: Simulator) -> None:
    async with sdk_client(sim) as client:
        markets = await client.get_markets()
        assert [m.pair for m in markets] == [PAIR, "fETH/fUSDC"]
        market = await client.get_market(PAIR)
        assert market.market_id == sim.markets[0]["market_id"]
        assert (market.base.decimals, market.quote.max_precision) == (9, 6)
        price = market.scale_price("0.0125")
        market.validate_order(price, market.scale_quantity(1000))  # SDK rules accept our grid

        for precision in (1, 4):
            depth = await client.get_depth(market, precision=precision)
            truth = sim.book(PAIR, precision)
            assert as_pairs(depth.bids) == truth["buys"] and as_pairs(depth.asks) == truth["sells"]
        top = await client.get_depth(PAIR, precision=1, limit=3)
        assert len(top.bids) == len(top.asks) == 3

        balances = await client.get_balances(sim.account)
        assert set(balances) == {"fFUEL", "fUSDC", "fETH"}
        for balance in balances.values():
            assert balance.available > 0 and balance.total == balance.available + balance.locked

        orders = await client.get_orders(market, sim.account, is_open=True, count=200)
        assert orders and all(o.is_open and o.owner.value == sim.account for o in orders)
        one = await client.get_order(market, orders[0].order_id)
        assert one.order_id == orders[0].order_id

        trades = await client.get_trades(market, count=20)
        assert len(trades) == 20 and all(int(t.total) > 0 for t in trades)
        mine = await client.get_trades(market, count=20, account=sim.account)
        assert mine and all(t.trader_side in ("maker", "taker", "both") for t in mine)

        account = await client.api.get_account(trade_account_id=sim.account)
        assert account.exists and account.trade_account_id == sim.account
        assert await client.get_nonce(sim.account) == account.nonce > 43  # it moved


def test_sdk_streams_every_kind() -> None:
    with Simulator(seed=4, start_flow=False) as sim:
        asyncio.run(asyncio.wait_for(stream_everything(sim), 60))


async def stream_everything(sim: Simulator) -> None:
    async with sdk_client(sim) as client:
        market = await client.get_market(PAIR)
        streams = {
            "depth": client.stream_depth(market, precision=1),
            "trades": client.stream_trades(market),
            "orders": client.stream_orders(sim.account),
            "balances": client.stream_balances(sim.account),
            "nonce": client.stream_nonce(sim.account),
        }
        # the first __anext__ of each stream sends its subscribe frame
        first = {name: asyncio.ensure_future(gen.__anext__()) for name, gen in streams.items()}
        try:
            assert await in_thread(lambda: sim.wait_for(lambda s: len(s.client_frames()) == 5))
            sent = {f["action"] for f in sim.client_frames()}
            assert sent == {f"subscribe_{name}" for name in streams}

            snapshot = await asyncio.wait_for(first["depth"], TIMEOUT)
            assert snapshot.is_snapshot and snapshot.market_id == market.market_id
            book = o2_sdk.DepthBook()
            book.apply(snapshot)
            assert book.bids and book.asks

            await in_thread(sim.step, 400)
            # a JSON marker the SDK decodes as an empty depth update: all before it is ours
            marker = {
                "action": "subscribe_depth_update",
                "market_id": market.market_id,
                "changes": {"buys": [], "sells": []},
                "seen_timestamp": MARK,
            }
            await in_thread(sim.inject, json.dumps(marker))

            trades = await asyncio.wait_for(first["trades"], TIMEOUT)
            assert trades.market_id == market.market_id and trades.trades
            for trade in trades.trades:
                assert trade.side in ("Buy", "Sell") and trade.timestamp > 10**12
                assert int(trade.total) == int(trade.price) * int(trade.quantity) // 10**9

            orders = await asyncio.wait_for(first["orders"], TIMEOUT)
            assert orders.orders and all(o.owner.value == sim.account for o in orders.orders)

            balances = await asyncio.wait_for(first["balances"], TIMEOUT)
            assets = {m[side]["asset"] for m in sim.markets for side in ("base", "quote")}
            assert balances.balance and {b["asset_id"] for b in balances.balance} <= assets

            nonce = await asyncio.wait_for(first["nonce"], TIMEOUT)
            assert nonce.contract_id == sim.account and int(nonce.nonce) > 0

            deltas = negative = 0
            while True:
                update = await asyncio.wait_for(streams["depth"].__anext__(), TIMEOUT)
                if update.seen_timestamp == MARK:
                    break
                assert not update.is_snapshot
                negative += any(int(c.quantity) < 0 for c in update.changes.bids)
                book.apply(update)
                deltas += 1
            assert deltas > 50 and negative > 0  # fills and cancels are negative changes
            truth = sim.book(PAIR, 1)
            assert sorted(book.bids.items(), reverse=True) == truth["buys"]
            assert sorted(book.asks.items()) == truth["sells"]
        finally:
            for task in first.values():
                task.cancel()
            for gen in streams.values():
                await gen.aclose()
