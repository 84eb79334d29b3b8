"""One side of an order book: price -> quantity, kept sorted best first."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from typing import Any, Optional


class SortedLevels:
    """Price levels of one side, best first (highest for bids, lowest for asks).

    Prices may be any ordered numbers (exact ``int`` chain units on O2, ``Decimal``
    on tplus). Two ways to change a level: :meth:`set` takes the new absolute
    quantity (0 removes the level; tplus diffs), :meth:`add` a signed relative
    change (O2 deltas). Finding the best level is O(1), the best ``n`` O(n), a change
    O(log n) plus a short list move. Not thread-safe: the owning book locks.

    Both sides keep their prices in ascending order and the bid side reads them from
    the end: no arithmetic on a price, ever. (Negating a ``Decimal`` to sort bids
    rounds it to the decimal context's 28 digits, so a longer exact price would no
    longer find its own level.)
    """

    __slots__ = ("_keys", "_qty", "descending")

    def __init__(self, descending: bool) -> None:
        self.descending = descending
        self._qty: dict[Any, Any] = {}
        self._keys: list[Any] = []  # the prices, ascending on both sides

    def clear(self) -> None:
        self._qty.clear()
        self._keys.clear()

    def load(self, levels: Iterable[tuple[Any, Any]]) -> None:
        """Replace every level (a snapshot); zero quantities are left out."""
        self._qty = {price: qty for price, qty in levels if qty}
        self._keys = sorted(self._qty)

    def set(self, price: Any, qty: Any) -> None:
        """The new absolute quantity at ``price``; 0 removes the level."""
        keys = self._keys
        if qty:
            if price not in self._qty:
                keys.insert(bisect_left(keys, price), price)
            self._qty[price] = qty
        elif self._qty.pop(price, None) is not None:
            del keys[bisect_left(keys, price)]

    def add(self, price: Any, change: Any) -> bool:
        """Add a signed ``change`` to the level at ``price`` (o2-sdk's DepthBook rule).

        A positive sum keeps (or creates) the level; a sum of zero or less removes it;
        a change of 0, or a non-positive change to an unknown level, does nothing.
        Returns True when the sum went below zero: more was removed than the level
        held, which a consistent stream never does.
        """
        return bool(self.add_all(((price, change),)))

    def add_all(self, changes: Iterable[tuple[Any, Any]]) -> int:
        """:meth:`add` each ``(price, change)`` in order; returns how many went below
        zero. (One loop, not a call per level: this runs for every delta.)"""
        qty, keys = self._qty, self._keys
        below = 0
        for price, change in changes:
            if not change:
                continue
            old = qty.get(price)
            if old is None:
                if change > 0:
                    keys.insert(bisect_left(keys, price), price)
                    qty[price] = change
                else:
                    below += 1  # removing from nothing
                continue
            total = old + change
            if total > 0:
                qty[price] = total
                continue
            del qty[price]
            del keys[bisect_left(keys, price)]
            if total < 0:
                below += 1
        return below

    def best(self) -> Optional[tuple[Any, Any]]:
        """The best (price, quantity), or None when the side is empty."""
        if not self._keys:
            return None
        price = self._keys[-1] if self.descending else self._keys[0]
        return price, self._qty[price]

    def top(self, n: Optional[int] = None) -> list[tuple[Any, Any]]:
        """The best ``n`` levels (all if None) as (price, quantity), best first."""
        qty = self._qty
        return [(p, qty[p]) for p in self._best_first(n)]

    def _best_first(self, n: Optional[int]) -> list[Any]:
        keys = self._keys
        if not self.descending:
            return keys if n is None else keys[:max(n, 0)]
        if n is None:
            return keys[::-1]
        return keys[:-n - 1:-1] if n > 0 else []

    def quantity(self, price: Any) -> Any:
        """The quantity at ``price`` (0 when there is no level)."""
        return self._qty.get(price, 0)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        return iter(self.top())

    def __repr__(self) -> str:
        side = "bids" if self.descending else "asks"
        return f"<SortedLevels {side} levels={len(self)} best={self.best()}>"
