"""The market engine: determinism, realistic prices and sizes, the account's share."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from conftest import WsClient

from o2sync.sim.engine import Exchange
from o2sync.testing import Simulator

MARK = "--mark--"
STAMPS = re.compile(r'"(onchain_timestamp|seen_timestamp|timestamp)":"?\d+"?')


def engine_trace(seed: int, events: int) -> list[tuple[Any, ...]]:
    """What each event did, without wall-clock times."""
    exchange = Exchange(seed)
    trace = []
    for _ in range(events):
        ev = exchange.step()
        trace.append(
            (
                ev.kind,
                ev.spec.market_id,
                tuple(ev.levels),
                tuple((t.trade_id, t.price, t.quantity, t.maker, t.taker) for t in ev.trades),
                tuple((o.order_id, o.filled, o.closed, o.cancelled) for o in ev.orders),
                tuple(sorted(ev.balances)),
                ev.nonce,
            )
        )
    return trace


def test_same_seed_same_events_other_seed_other_events() -> None:
    assert engine_trace(7, 3000) == engine_trace(7, 3000)
    assert engine_trace(7, 300) != engine_trace(8, 300)


def test_same_seed_same_frames_on_the_wire() -> None:
    def frames(seed: int) -> list[str]:
        with Simulator(seed=seed, start_flow=False) as sim:
            client = WsClient(sim.ws_url)
            try:
                for market in sim.markets:
                    mid = market["market_id"]
                    client.send_json(
                        {"action": "subscribe_depth", "market_id": mid, "precision": "10"}
                    )
                    client.send_json({"action": "subscribe_trades", "market_id": mid})
                for kind in ("orders", "balances", "nonce"):
                    client.send_json(
                        {"action": f"subscribe_{kind}", "identities": [{"ContractId": sim.account}]}
                    )
                assert sim.wait_for(lambda s: len(s.client_frames()) == 7)
                sim.step(1000)
                sim.inject(MARK)
                return [STAMPS.sub("T", text) for text in client.recv_until(MARK)]
            finally:
                client.close()

    first = frames(42)
    assert len(first) > 1000
    assert first == frames(42)
    assert first != frames(43)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_books_stay_two_sided_realistic_and_on_the_grid(seed: int) -> None:
    exchange = Exchange(seed)
    for _ in range(20):
        for _ in range(1000):
            exchange.step()
        for state in exchange.markets.values():
            spec, book = state.spec, state.book
            assert book.bid_prices and book.ask_prices
            assert book.bid_prices[-1] < book.ask_prices[0]
            for prices in (book.bid_prices, book.ask_prices):
                assert all(p % spec.tick == 0 for p in prices)
                # within +-10% of the initial price: a realistic band
                assert all(abs(p - spec.initial_price) <= spec.initial_price // 10 for p in prices)
            for order in book.open_orders:
                assert order.quantity % spec.lot == 0 and order.quantity > order.filled >= 0
                assert order.price * order.quantity % spec.base_scale == 0  # fractional price rule


def test_the_account_owns_a_fair_share_and_its_funds_add_up() -> None:
    exchange = Exchange(3)
    account = exchange.account
    initial = {
        asset: bal.total_locked + bal.total_unlocked for asset, bal in account.assets.items()
    }
    shares = []
    for _ in range(10):
        for _ in range(1000):
            exchange.step()
        resting = [o for s in exchange.markets.values() for o in s.book.open_orders]
        mine = [o for o in resting if o.owner == account.account_id]
        shares.append(len(mine) / len(resting))
        for asset, balance in account.assets.items():
            locked = sum(o.locked for o in mine if o.spec.legs(o.is_buy)[0] == asset)
            assert balance.total_locked == locked  # every locked unit backs an open order
            assert balance.trading >= 0 and all(
                v >= 0 for pair in balance.books.values() for v in pair
            )
    assert 0.15 <= sum(shares) / len(shares) <= 0.35
    after = {asset: bal.total_locked + bal.total_unlocked for asset, bal in account.assets.items()}
    assert after != initial  # it traded


def test_event_mix_moves_every_stream() -> None:
    exchange = Exchange(0)
    kinds: dict[str, int] = {}
    nonce_changes = balance_changes = 0
    for _ in range(5000):
        ev = exchange.step()
        kinds[ev.kind] = kinds.get(ev.kind, 0) + 1
        nonce_changes += ev.nonce
        balance_changes += bool(ev.balances)
    assert set(kinds) == {"place", "cancel", "take", "settle"}
    assert kinds["take"] > 300 and kinds["cancel"] > 1000
    assert nonce_changes > 500 and balance_changes > 500


@pytest.mark.sim_options(rate=400, start_flow=True)
def test_background_flow_pause_resume_and_rate(sim: Simulator) -> None:
    assert sim.wait_for(lambda s: s.events >= 40)  # about 0.1 s at 400 events/s
    sim.pause()
    paused_at = sim.events
    sim.step(5)  # step works while paused
    assert sim.events == paused_at + 5
    assert not sim.wait_for(lambda s: s.events > paused_at + 5, timeout=0.2)
    sim.set_rate(50_000)
    sim.resume()
    assert sim.wait_for(lambda s: s.events > paused_at + 5000)
    sim.set_rate(0)  # like pause(): once it returns, no background event runs
    stopped_at = sim.events
    assert not sim.wait_for(lambda s: s.events > stopped_at, timeout=0.2)
    with pytest.raises(ValueError):
        sim.set_rate(-1)


def test_step_works_without_a_running_server() -> None:
    sim = Simulator(start_flow=False)
    sim.step(100)
    assert sim.events == 100
    assert sim.book("fFUEL/fUSDC")["buys"]
    with sim:
        sim.step(10)
        assert sim.events == 110


def test_custom_markets() -> None:
    market = json.loads(json.dumps(Simulator().markets[0]))
    market["market_id"] = "0x" + "11" * 32
    market["base"]["symbol"] = "fBTC"
    market["sim_price"] = 60_000 * 10**9
    with Simulator(markets=[market], start_flow=False) as sim:
        assert [m["market_id"] for m in sim.markets] == [market["market_id"]]
        assert "sim_price" not in sim.markets[0]
        sim.step(500)
        best_bid = sim.book("fBTC/fUSDC")["buys"][0][0]
        assert abs(best_bid - 60_000 * 10**9) < 6_000 * 10**9
    with pytest.raises(ValueError):
        Simulator(markets=[market, market])
