"""Raw order book of one market: resting orders in price-time priority.

The book only stores and matches; who trades and why is decided by the engine
(:mod:`o2sync.sim.engine`). While an event runs, the book remembers the quantity
each touched price level had before it, so the event can report exactly which
levels changed (the input of every depth delta).
"""

from __future__ import annotations

from bisect import insort
from collections import deque
from typing import Optional

from .markets import MarketSpec

#: One raw level change: (is_buy, price, old quantity, new quantity).
LevelChange = tuple[bool, int, int, int]


class Order:
    """One order of the simulated exchange (resting, or an immediate taker order)."""

    __slots__ = (
        "cancelled",
        "closed",
        "fill_value",
        "filled",
        "is_buy",
        "locked",
        "order_id",
        "order_type",
        "owner",
        "price",
        "quantity",
        "spec",
        "timestamp",
    )

    def __init__(
        self,
        order_id: str,
        spec: MarketSpec,
        is_buy: bool,
        price: int,
        quantity: int,
        owner: str,
        timestamp: int,
        order_type: str,
    ) -> None:
        self.order_id = order_id
        self.spec = spec
        self.is_buy = is_buy
        self.price = price
        self.quantity = quantity
        self.owner = owner
        self.timestamp = timestamp
        self.order_type = order_type
        self.filled = 0
        self.fill_value = 0  # sum of price * quantity over fills, for price_fill
        self.locked = 0  # funds of the simulated account still locked by this order
        self.closed = False
        self.cancelled = False

    @property
    def remaining(self) -> int:
        """Quantity still open (0 once the order is closed)."""
        return 0 if self.closed else self.quantity - self.filled

    def __repr__(self) -> str:
        side = "Buy" if self.is_buy else "Sell"
        return f"<Order {self.order_id[:10]} {side} {self.quantity}@{self.price} {self.owner[:8]}>"


class OrderBook:
    """Resting orders of one market, FIFO within each price level."""

    def __init__(self, spec: MarketSpec) -> None:
        self.spec = spec
        # index 1 = bids (is_buy=True), index 0 = asks; prices kept ascending
        self._qty: tuple[dict[int, int], dict[int, int]] = ({}, {})
        self._queues: tuple[dict[int, deque[Order]], dict[int, deque[Order]]] = ({}, {})
        self._prices: tuple[list[int], list[int]] = ([], [])
        self.open_orders: list[Order] = []  # random access for cancels
        self._slot: dict[str, int] = {}
        self._before: dict[tuple[bool, int], int] = {}  # level quantities before this event

    # -- reading ------------------------------------------------------------------

    @property
    def bid_prices(self) -> list[int]:
        """Bid prices, ascending (best bid last). Do not modify."""
        return self._prices[1]

    @property
    def ask_prices(self) -> list[int]:
        """Ask prices, ascending (best ask first). Do not modify."""
        return self._prices[0]

    def best(self, is_buy: bool) -> Optional[int]:
        """Best price of a side, or None when that side is empty."""
        prices = self._prices[is_buy]
        if not prices:
            return None
        return prices[-1] if is_buy else prices[0]

    def head(self, is_buy: bool, price: int) -> Order:
        """The oldest order resting at ``price`` on a side."""
        return self._queues[is_buy][price][0]

    def levels(self, is_buy: bool) -> dict[int, int]:
        """Raw price -> total quantity of one side. Do not modify."""
        return self._qty[is_buy]

    # -- writing ------------------------------------------------------------------

    def add(self, order: Order) -> None:
        """Rest an order at the back of its price level."""
        side, price = order.is_buy, order.price
        self._touch(side, price)
        qty = self._qty[side]
        if price in qty:
            qty[price] += order.quantity - order.filled
            self._queues[side][price].append(order)
        else:
            qty[price] = order.quantity - order.filled
            self._queues[side][price] = deque((order,))
            insort(self._prices[side], price)
        self._slot[order.order_id] = len(self.open_orders)
        self.open_orders.append(order)

    def remove(self, order: Order) -> None:
        """Take a resting order out of the book (cancel)."""
        side, price = order.is_buy, order.price
        self._touch(side, price)
        self._queues[side][price].remove(order)
        self._reduce(side, price, order.quantity - order.filled)
        self._forget(order)

    def fill(self, order: Order, quantity: int) -> None:
        """Fill ``quantity`` of the order at the head of its level, at its price."""
        side, price = order.is_buy, order.price
        self._touch(side, price)
        order.filled += quantity
        order.fill_value += quantity * price
        if order.filled == order.quantity:
            self._queues[side][price].popleft()
            self._forget(order)
        self._reduce(side, price, quantity)

    def take_changes(self) -> list[LevelChange]:
        """Level changes since the last call (the end of the previous event)."""
        changes = []
        for (side, price), old in self._before.items():
            new = self._qty[side].get(price, 0)
            if new != old:
                changes.append((side, price, old, new))
        self._before.clear()
        return changes

    # -- internals ----------------------------------------------------------------

    def _touch(self, side: bool, price: int) -> None:
        key = (side, price)
        if key not in self._before:
            self._before[key] = self._qty[side].get(price, 0)

    def _reduce(self, side: bool, price: int, quantity: int) -> None:
        qty = self._qty[side]
        left = qty[price] - quantity
        if left:
            qty[price] = left
        else:
            del qty[price]
            del self._queues[side][price]
            self._prices[side].remove(price)

    def _forget(self, order: Order) -> None:
        # swap-remove keeps cancels O(1) and stays deterministic
        slot = self._slot.pop(order.order_id)
        last = self.open_orders.pop()
        if last is not order:
            self.open_orders[slot] = last
            self._slot[last.order_id] = slot
