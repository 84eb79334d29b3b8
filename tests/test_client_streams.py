"""O2Client against the simulator: every stream, in queue, callback and merge form."""

from __future__ import annotations

import queue
import threading
from typing import Any

import pytest
from clientutil import client_for, wait_until

from o2sync import (
    BalanceUpdate,
    ConnectionState,
    DepthSnapshot,
    DepthUpdate,
    MarketNotFoundError,
    NonceUpdate,
    O2Client,
    OrderUpdate,
    TradeUpdate,
    merge,
)
from o2sync.testing import Simulator

PAIR = "fFUEL/fUSDC"
pytestmark = pytest.mark.sim_options(seed=7)


def step_until(sim: Simulator, predicate: Any, max_steps: int = 2000) -> bool:
    """Drive the market one event at a time until ``predicate()`` holds."""
    for _ in range(max_steps):
        if predicate():
            return True
        sim.step(1)
    return bool(predicate())


def test_depth_starts_with_snapshot_then_deltas(sim: Simulator, client: O2Client) -> None:
    sub = client.stream_depth(PAIR)
    first = sub.get(timeout=5)
    assert isinstance(first, DepthUpdate) and first.is_snapshot
    market = client.get_market(PAIR)
    assert first.market_id == market.market_id
    truth = sim.book(PAIR, 1)
    bids = [(lv.price, lv.quantity) for lv in first.changes.bids]
    assert bids == [tuple(x) for x in truth["buys"]]
    sim.step(50)
    delta = sub.get(timeout=5)
    assert not delta.is_snapshot


def test_depth_at_coarser_precision_matches_simulator(sim: Simulator,
                                                      client: O2Client) -> None:
    sub = client.stream_depth(PAIR, precision=5)
    snap = sub.get(timeout=5)
    truth = sim.book(PAIR, 5)
    asks = [(lv.price, lv.quantity) for lv in snap.changes.asks]
    assert asks == [tuple(x) for x in truth["sells"]]
    sent = sim.client_frames("subscribe_depth")
    assert sent[-1]["precision"] == "100000"


def test_trades_orders_balances_nonce_streams(sim: Simulator, client: O2Client) -> None:
    account = sim.account
    subs = {
        "trades": client.stream_trades(PAIR),
        "orders": client.stream_orders(account),
        "balances": client.stream_balances(account),
        "nonce": client.stream_nonce(account),
    }
    assert sim.wait_for(lambda s: len(s.client_frames()) >= 4, 5)
    assert step_until(sim, lambda: all(s.pending for s in subs.values()))
    trades = subs["trades"].get(timeout=1)
    assert isinstance(trades, TradeUpdate) and trades.trades
    assert trades.trades[0].price > 0 and trades.trades[0].side in ("Buy", "Sell")
    orders = subs["orders"].get(timeout=1)
    assert isinstance(orders, OrderUpdate)
    assert all(o.owner == {"ContractId": account} for o in orders.orders)
    balances = subs["balances"].get(timeout=1)
    assert isinstance(balances, BalanceUpdate)
    assert all(b.identity == {"ContractId": account} for b in balances.balance)
    nonce = subs["nonce"].get(timeout=1)
    assert isinstance(nonce, NonceUpdate) and nonce.contract_id == account


def test_callbacks_receive_every_event_in_order(sim: Simulator, client: O2Client) -> None:
    seen: list[Any] = []
    threads = set()
    done = threading.Event()

    @client.on_trades(PAIR)
    def on_trade(update: TradeUpdate) -> None:
        threads.add(threading.current_thread().name)
        seen.append(update)

    mirror = client.stream_trades(PAIR)
    assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_trades")), 5)
    assert step_until(sim, lambda: mirror.pending >= 5)
    expected = [mirror.get(timeout=1) for _ in range(5)]
    assert wait_until(lambda: len(seen) >= 5)
    assert [u.trades for u in seen[:5]] == [u.trades for u in expected]
    assert threads == {n for n in threads if n.endswith("-dispatcher")}
    assert on_trade.is_callback  # the decorator returns the Subscription
    done.set()


def test_lifecycle_connected_then_closed(sim: Simulator) -> None:
    client = client_for(sim)
    events = client.stream_lifecycle()
    client.connect(timeout=5)
    assert client.is_connected
    assert events.get(timeout=5).state is ConnectionState.CONNECTED
    client.close()
    assert [e.state for e in events] == [ConnectionState.CLOSED]


def test_merge_yields_from_several_streams(sim: Simulator, client: O2Client) -> None:
    depth = client.stream_depth(PAIR)
    trades = client.stream_trades(PAIR)
    nonce = client.stream_nonce(sim.account)
    assert sim.wait_for(lambda s: len(s.client_frames()) >= 3, 5)
    kinds = set()
    for _ in range(2000):
        sim.step(1)
        for sub, event in merge(depth, trades, nonce, timeout=0.05):
            kinds.add(type(event).__name__)
            assert event is not None and sub in (depth, trades, nonce)
        if len(kinds) == 3:
            break
    assert kinds == {"DepthUpdate", "TradeUpdate", "NonceUpdate"}


def test_merge_ends_when_client_closes(sim: Simulator) -> None:
    client = client_for(sim)
    a, b = client.stream_trades(PAIR), client.stream_nonce(sim.account)
    closer = threading.Timer(0.2, client.close)
    closer.start()
    assert list(merge(a, b)) == []
    closer.join()


def test_get_times_out_with_queue_empty(client: O2Client) -> None:
    sub = client.stream_trades(PAIR)
    with pytest.raises(queue.Empty):
        sub.get(timeout=0.05)


def test_iteration_ends_when_subscription_closes(client: O2Client) -> None:
    sub = client.stream_trades(PAIR)
    threading.Timer(0.1, sub.close).start()
    assert list(sub) == []


def test_dispatcher_hook_runs_callbacks_where_the_user_wants(sim: Simulator) -> None:
    scheduled: queue.Queue[Any] = queue.Queue()
    client = client_for(sim, dispatcher=scheduled.put)
    ran_on = []
    try:
        client.on_nonce(sim.account, lambda u: ran_on.append(threading.current_thread()))
        assert sim.wait_for(lambda s: bool(s.client_frames("subscribe_nonce")), 5)
        assert step_until(sim, lambda: not scheduled.empty())
        scheduled.get(timeout=1)()  # this thread plays the GUI main loop
        assert ran_on == [threading.current_thread()]
    finally:
        client.close()


def test_rest_helpers(sim: Simulator, client: O2Client) -> None:
    markets = client.get_markets()
    assert {m.pair for m in markets} >= {"fFUEL/fUSDC", "fETH/fUSDC"}
    fuel = client.get_market(PAIR)
    assert client.get_market(fuel.market_id.upper().replace("0X", "0x")) == fuel
    assert client.get_market("FUEL/USDC") == fuel
    assert client.get_market("ffuel/fusdc") == fuel
    depth = client.get_depth(PAIR, precision=1)
    # a DepthSnapshot, as o2-sdk's get_depth returns (depth.best_bid works)
    assert isinstance(depth, DepthSnapshot) and depth.market_id == fuel.market_id
    assert depth.best_bid.price < depth.best_ask.price
    with pytest.raises(MarketNotFoundError, match="fETH/fUSDC"):
        client.get_market("DOGE/USDC")
    assert client.get_nonce(sim.account) > 0
    assert client.get_nonce("0x" + "ab" * 32) == 0  # no such account: 0, as o2-sdk
    balances = client.get_balances(sim.account)
    assert set(balances) == {"fFUEL", "fUSDC", "fETH"}  # keyed by symbol, as o2-sdk
    assert all(b.total >= 0 for b in balances.values())


def test_markets_are_cached(sim: Simulator, client: O2Client) -> None:
    client.get_markets()
    sim.rate_limit(100)  # any further /v1/markets request would now fail
    assert client.get_market(PAIR).pair == PAIR


def test_rate_limited_rest_calls_are_retried(sim: Simulator, client: O2Client) -> None:
    client.get_markets()
    sim.rate_limit(2)
    assert client.get_depth(PAIR).best_bid is not None


def test_rate_limit_that_persists_raises(sim: Simulator) -> None:
    from o2sync import RateLimitedError

    client = client_for(sim, rest_retries=1)
    try:
        sim.rate_limit(50)
        with pytest.raises(RateLimitedError):
            client.get_markets()
    finally:
        client.close()


def test_repr_is_helpful(client: O2Client) -> None:
    sub = client.stream_trades(PAIR)
    assert "trades:fFUEL/fUSDC" in repr(sub)
    assert "O2Client" in repr(client) and client.ws_url in repr(client)
