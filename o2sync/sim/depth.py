"""Depth at a user precision: price buckets, aggregation, incremental views.

Precision semantics (shared by WebSocket snapshots, deltas, REST depth and
``Simulator.book``): the wire precision ``10**level`` is the bucket width in raw
quote price units; a bid is floored to its bucket, an ask ceiled to its bucket
(so the aggregated book never crosses), and a bucket's quantity is the sum of the
raw levels in it.
"""

from __future__ import annotations

from typing import Optional, Union

from .book import LevelChange, OrderBook

#: One aggregated level: (bucket price, total quantity).
Level = tuple[int, int]

MIN_LEVEL = 1
MAX_LEVEL = 18


def width_for_level(level: int) -> int:
    """Bucket width of a user precision level (1..18); ValueError otherwise."""
    if isinstance(level, bool) or not isinstance(level, int):
        raise ValueError(f"precision must be an int in 1..18, got {level!r}")
    if not MIN_LEVEL <= level <= MAX_LEVEL:
        raise ValueError(f"precision must be in 1..18, got {level}")
    return int(10**level)


def parse_wire_precision(value: Union[str, int, None]) -> Optional[int]:
    """Bucket width for a wire precision (``"10"`` .. ``"10**18"``), or None.

    None means "a channel that never emits" (e.g. ``"1"``, ``"15"``), which is what
    the real server does with an invalid precision.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, str) and value.isdigit():
        text = value.lstrip("0") or "0"
    else:
        return None
    level = len(text) - 1
    if text != "1" + "0" * level or not MIN_LEVEL <= level <= MAX_LEVEL:
        return None
    return int(10**level)


def bucket(price: int, width: int, is_buy: bool) -> int:
    """Bucket price of a raw price: bids floored, asks ceiled."""
    if is_buy:
        return price - price % width
    return -((-price) // width) * width


class DepthView:
    """The book of one market aggregated at one width, kept up to date by deltas."""

    def __init__(self, book: OrderBook, width: int) -> None:
        self.width = width
        # index 1 = bids, 0 = asks, as in OrderBook
        self._sides: tuple[dict[int, int], dict[int, int]] = ({}, {})
        for is_buy in (False, True):
            side = self._sides[is_buy]
            for price, qty in book.levels(is_buy).items():
                key = bucket(price, width, is_buy)
                side[key] = side.get(key, 0) + qty

    def apply(self, changes: list[LevelChange]) -> tuple[list[Level], list[Level]]:
        """Apply raw level changes; return the buckets whose total changed.

        Quantities returned are SIGNED RELATIVE changes, as the exchange sends them
        (o2-websocket.md section 6.2): ``after - before`` of each bucket, so a new
        level is a positive change, a partial fill or cancel a negative one smaller
        than the level, and a level that emptied the negative of its whole size.
        """
        touched: dict[tuple[bool, int], int] = {}
        for is_buy, price, old, new in changes:
            key = bucket(price, self.width, is_buy)
            side = self._sides[is_buy]
            before = side.get(key, 0)
            touched.setdefault((is_buy, key), before)
            after = before + new - old
            if after:
                side[key] = after
            else:
                del side[key]
        buys: list[Level] = []
        sells: list[Level] = []
        for (is_buy, key), before in touched.items():
            change = self._sides[is_buy].get(key, 0) - before
            if change:
                (buys if is_buy else sells).append((key, change))
        return buys, sells

    def levels(self) -> tuple[list[Level], list[Level]]:
        """(bids best first, asks best first)."""
        bids = sorted(self._sides[True].items(), reverse=True)
        asks = sorted(self._sides[False].items())
        return bids, asks


def aggregate(book: OrderBook, width: int) -> tuple[list[Level], list[Level]]:
    """A fresh aggregation of the whole book: (bids best first, asks best first)."""
    return DepthView(book, width).levels()
