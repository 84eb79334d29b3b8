"""The deterministic market engine: seeded order flow over every market.

Each :meth:`Exchange.step` is one engine event on one market: a limit order
arriving near the fair price, a cancel, an aggressive (immediate-or-cancel) order
that trades against the book, or a settle of the simulated account. The same seed
and the same number of steps always give the same books, orders, trades, ids and
balances (only wall-clock timestamps differ). Nothing here knows about sockets.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any, Optional

from .account import Account
from .book import LevelChange, Order, OrderBook
from .markets import ACCOUNT_ID, ACCOUNT_OWNER, COUNTERPARTIES, MarketSpec, make_specs

#: Share of new resting orders that belong to the simulated account.
ACCOUNT_SHARE = 0.25
#: Share of aggressive orders sent by the simulated account.
ACCOUNT_TAKER_SHARE = 0.2
TAKE_PROBABILITY = 0.12
SETTLE_PROBABILITY = 0.01
#: Below this many price levels on a side, the next event refills that side.
MIN_LEVELS = 6
#: Open orders per market around which cancels balance arrivals.
TARGET_ORDERS = 60
#: How far (as a fraction of the initial price) the fair price may wander.
PRICE_BAND = 0.08
#: Resting orders placed in the seed book of each market.
SEED_ORDERS = 40
#: Closed orders remembered for REST look-ups, across all markets.
MAX_CLOSED_ORDERS = 20_000
MAX_TRADES = 500


class Trade:
    """One fill between a maker and a taker order."""

    __slots__ = (
        "maker",
        "maker_is_buy",
        "price",
        "quantity",
        "taker",
        "timestamp",
        "total",
        "trade_id",
    )

    def __init__(
        self,
        trade_id: str,
        maker_is_buy: bool,
        price: int,
        quantity: int,
        total: int,
        timestamp: int,
        maker: str,
        taker: str,
    ) -> None:
        self.trade_id = trade_id
        self.maker_is_buy = maker_is_buy
        self.price = price
        self.quantity = quantity
        self.total = total
        self.timestamp = timestamp  # milliseconds
        self.maker = maker
        self.taker = taker


class Event:
    """What one engine step changed; the server turns it into frames."""

    __slots__ = ("balances", "kind", "levels", "nonce", "orders", "spec", "time", "trades")

    def __init__(self, spec: MarketSpec, now: float) -> None:
        self.spec = spec
        self.time = now
        self.kind = ""
        self.levels: list[LevelChange] = []
        self.trades: list[Trade] = []
        self.orders: list[Order] = []  # every order whose state changed, any owner
        self.balances: set[str] = set()  # assets of the simulated account that changed
        self.nonce = False  # the simulated account's nonce changed

    def __repr__(self) -> str:
        return (
            f"<Event {self.kind} {self.spec.pair} levels={len(self.levels)} "
            f"trades={len(self.trades)} orders={len(self.orders)}>"
        )


class MarketState:
    """Per-market engine state: the book, the fair price and the order sizes."""

    def __init__(self, spec: MarketSpec) -> None:
        self.spec = spec
        self.book = OrderBook(spec)
        price = spec.initial_price
        # a grid of a few basis points makes levels hold several orders
        self.step = spec.tick * max(1, round(price * 0.0004 / spec.tick))
        self.fair = price - price % self.step or self.step
        band = max(self.step, int(price * PRICE_BAND))
        self.low, self.high = max(self.step, self.fair - band), self.fair + band
        # order sizes worth about 5 .. 500 quote units, in round units
        quote_unit = 10 ** int(spec.info["quote"]["decimals"])
        smallest = max(spec.lot, 5 * quote_unit * spec.base_scale // price)
        self.unit = max(spec.lot, 10 ** (len(str(smallest)) - 1))
        self.min_units = max(1, smallest // self.unit)
        self.max_units = self.min_units * 100


class Exchange:
    """All markets, the simulated account, and the seeded order flow."""

    def __init__(
        self,
        seed: int = 0,
        markets: Optional[Sequence[Mapping[str, Any]]] = None,
        account_id: str = ACCOUNT_ID,
    ) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.specs = make_specs(markets)
        self.markets = {spec.market_id: MarketState(spec) for spec in self.specs}
        self.account = Account(account_id, ACCOUNT_OWNER, self.specs)
        self.orders: dict[str, Order] = {}
        self.orders_by_owner: dict[str, dict[str, Order]] = {}
        self.trades: dict[str, deque[Trade]] = {
            spec.market_id: deque(maxlen=MAX_TRADES) for spec in self.specs
        }
        self.events = 0
        self._closed: deque[Order] = deque()
        self._ev = Event(self.specs[0], time.time())
        self._seed_books()

    # -- public -------------------------------------------------------------------

    def step(self) -> Event:
        """Run one engine event and return what it changed."""
        rng = self.rng
        state = self.markets[self.specs[rng.randrange(len(self.specs))].market_id]
        ev = self._ev = Event(state.spec, time.time())
        self._drift(state)
        book = state.book
        if len(book.bid_prices) < MIN_LEVELS:
            self._place(state, True)
        elif len(book.ask_prices) < MIN_LEVELS:
            self._place(state, False)
        else:
            r = rng.random()
            cancel = min(0.6, 0.3 * len(book.open_orders) / TARGET_ORDERS)
            if r < TAKE_PROBABILITY:
                self._take(state, rng.random() < 0.5)
            elif r < TAKE_PROBABILITY + cancel:
                self._cancel(state, book.open_orders[rng.randrange(len(book.open_orders))])
            elif r < TAKE_PROBABILITY + cancel + SETTLE_PROBABILITY and self.account.has_unlocked():
                self._settle()
            else:
                self._place(state, rng.random() < 0.5)
        ev.levels = book.take_changes()
        self.events += 1
        return ev

    def rest_account_orders(self, market_id: str, count: int) -> list[str]:
        """Rest ``count`` small buy orders of the simulated account on a market, a grid
        step apart below the book (more open orders than one page of ``GET /v1/orders``
        holds, for re-sync tests). Their depth changes go out with the market's next
        event; no orders or balances frames announce them. Returns their ids."""
        state = self.markets[market_id]
        lowest = min(state.book.bid_prices, default=state.fair)
        quantity = state.min_units * state.unit
        ids = []
        for i in range(count):
            self._ev = Event(state.spec, time.time())
            price = max(state.step, lowest - (i + 1) * state.step)
            cost = state.spec.cost(True, price, quantity)
            if not self.account.can_spend(state.spec.legs(True)[0], cost):
                raise ValueError(f"the simulated account cannot pay for {count} orders")
            order = self._new_order(state.spec, True, price, quantity, self.account.account_id,
                                    "Spot")
            self._lock_for(order)
            state.book.add(order)
            ids.append(order.order_id)
        self._ev = Event(self.specs[0], time.time())
        return ids

    def book(self, market_id: str) -> OrderBook:
        """The raw book of a market (canonical id)."""
        return self.markets[market_id].book

    def owner_orders(self, owner: str, market_id: str) -> list[Order]:
        """Known orders of an owner on a market, oldest first."""
        orders = self.orders_by_owner.get(owner, {})
        return [o for o in orders.values() if o.spec.market_id == market_id]

    # -- the order flow -----------------------------------------------------------

    def _seed_books(self) -> None:
        for state in self.markets.values():
            for i in range(SEED_ORDERS):
                self._ev = Event(state.spec, time.time())
                self._place(state, i % 2 == 0)
            state.book.take_changes()
        self._ev = Event(self.specs[0], time.time())

    def _drift(self, state: MarketState) -> None:
        r = self.rng.random()
        if r < 0.1:
            move = state.step if r < 0.05 else -state.step
            if state.fair + move < state.low or state.fair + move > state.high:
                move = -move  # mean-revert at the band edges
            state.fair += move

    def _place(self, state: MarketState, is_buy: bool) -> None:
        rng, book, step = self.rng, state.book, state.step
        offset = min(int(rng.expovariate(0.2)), 25) * step
        if is_buy:
            price = state.fair - offset
            best_ask = book.best(False)
            if best_ask is not None:
                price = min(price, best_ask - step)
        else:
            price = state.fair + step + offset
            best_bid = book.best(True)
            if best_bid is not None:
                price = max(price, best_bid + step)
        price = max(price, step)
        quantity = rng.randint(state.min_units, state.max_units) * state.unit
        order_type = "PostOnly" if rng.random() < 0.2 else "Spot"
        owner = self._owner(state.spec, is_buy, price, quantity, ACCOUNT_SHARE)
        order = self._new_order(state.spec, is_buy, price, quantity, owner, order_type)
        if owner == self.account.account_id:
            self._lock_for(order)
        book.add(order)
        self._ev.kind = "place"

    def _take(self, state: MarketState, is_buy: bool) -> None:
        """An immediate-or-cancel order crossing into the other side."""
        rng, book, spec = self.rng, state.book, state.spec
        best = book.best(not is_buy)
        assert best is not None  # both sides hold MIN_LEVELS levels here
        limit = best + 2 * state.step if is_buy else max(state.step, best - 2 * state.step)
        quantity = rng.randint(state.min_units, 2 * state.max_units) * state.unit
        owner = self._owner(spec, is_buy, limit, quantity, ACCOUNT_TAKER_SHARE)
        taker = self._new_order(spec, is_buy, limit, quantity, owner, "Market")
        opposite = book.ask_prices if is_buy else book.bid_prices
        # never consume the last level: the book stays two-sided
        while taker.filled < quantity and len(opposite) > 1:
            price = opposite[0] if is_buy else opposite[-1]
            if (price > limit) if is_buy else (price < limit):
                break
            maker = book.head(not is_buy, price)
            amount = min(quantity - taker.filled, maker.quantity - maker.filled)
            self._fill(spec, book, maker, taker, amount)
        taker.closed = True  # immediate-or-cancel: whatever did not fill is dropped
        self._closed_order(taker)
        if owner == self.account.account_id:
            self._account_action()
        self._ev.kind = "take"

    def _fill(
        self, spec: MarketSpec, book: OrderBook, maker: Order, taker: Order, amount: int
    ) -> None:
        price = maker.price
        total = price * amount // spec.base_scale
        book.fill(maker, amount)
        taker.filled += amount
        taker.fill_value += price * amount
        ev = self._ev
        trade = Trade(
            self._new_id(),
            maker.is_buy,
            price,
            amount,
            total,
            int(ev.time * 1000),
            maker.owner,
            taker.owner,
        )
        ev.trades.append(trade)
        self.trades[spec.market_id].append(trade)
        ev.orders.append(maker)
        account = self.account
        if maker.owner == account.account_id:
            self._settle_maker_fill(maker, amount)
        if taker.owner == account.account_id:
            # the taker pays from free funds and receives into the order book
            paid, got = spec.legs(taker.is_buy)
            account.spend(paid, spec.cost(taker.is_buy, price, amount))
            account.credit(spec, got, spec.cost(maker.is_buy, price, amount))
            ev.balances.update((paid, got))
        if maker.filled == maker.quantity:
            maker.closed = True
            self._closed_order(maker)

    def _settle_maker_fill(self, maker: Order, amount: int) -> None:
        """The account's resting order filled: locked funds go, proceeds arrive."""
        spec, account = maker.spec, self.account
        paid, got = spec.legs(maker.is_buy)
        used = min(maker.locked, spec.cost(maker.is_buy, maker.price, amount))
        maker.locked -= used
        account.consume_locked(spec, paid, used)
        account.credit(spec, got, spec.cost(not maker.is_buy, maker.price, amount))
        if maker.filled == maker.quantity and maker.locked:
            account.unlock(spec, paid, maker.locked)  # rounding left-over
            maker.locked = 0
        self._ev.balances.update((paid, got))

    def _cancel(self, state: MarketState, order: Order) -> None:
        state.book.remove(order)
        order.cancelled = order.closed = True
        self._ev.orders.append(order)
        self._closed_order(order)
        if order.owner == self.account.account_id:
            spec = order.spec
            asset = spec.legs(order.is_buy)[0]
            self.account.unlock(spec, asset, order.locked)
            order.locked = 0
            self._ev.balances.add(asset)
            self._account_action()
        self._ev.kind = "cancel"

    def _settle(self) -> None:
        self._ev.balances.update(self.account.settle())
        self._account_action()
        self._ev.kind = "settle"

    # -- helpers ------------------------------------------------------------------

    def _owner(
        self, spec: MarketSpec, is_buy: bool, price: int, quantity: int, share: float
    ) -> str:
        """The simulated account with probability ``share`` (if it can pay), else another."""
        if self.rng.random() < share and self.account.can_spend(
            spec.legs(is_buy)[0], spec.cost(is_buy, price, quantity)
        ):
            return self.account.account_id
        return COUNTERPARTIES[self.rng.randrange(len(COUNTERPARTIES))]

    def _lock_for(self, order: Order) -> None:
        spec = order.spec
        asset = spec.legs(order.is_buy)[0]
        amount = spec.cost(order.is_buy, order.price, order.quantity)
        self.account.lock(spec, asset, amount)
        order.locked = amount
        self._ev.balances.add(asset)
        self._account_action()

    def _account_action(self) -> None:
        """The simulated account sent a transaction: its nonce moves."""
        self.account.bump_nonce()
        self._ev.nonce = True

    def _new_id(self) -> str:
        return f"0x{self.rng.getrandbits(256):064x}"

    def _new_order(
        self, spec: MarketSpec, is_buy: bool, price: int, quantity: int, owner: str, order_type: str
    ) -> Order:
        order = Order(
            self._new_id(), spec, is_buy, price, quantity, owner, int(self._ev.time), order_type
        )
        self.orders[order.order_id] = order
        self.orders_by_owner.setdefault(owner, {})[order.order_id] = order
        self._ev.orders.append(order)
        return order

    def _closed_order(self, order: Order) -> None:
        # closed orders stay visible over REST for a while, then are forgotten
        self._closed.append(order)
        if len(self._closed) > MAX_CLOSED_ORDERS:
            old = self._closed.popleft()
            self.orders.pop(old.order_id, None)
            self.orders_by_owner.get(old.owner, {}).pop(old.order_id, None)
