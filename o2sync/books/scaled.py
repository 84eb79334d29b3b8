"""Books in market units: the one reading API cross-venue code can print.

O2's live book holds exact chain integers (``DepthLevel(price=12500000, ...)``);
tplus's already holds exact ``Decimal`` prices. :class:`ScaledBook` is a live
view of a book whose levels are scaled on every read (O2:
``Market.format_price`` / ``format_quantity``, exact, never through float), so
``o2_book.scaled()`` and a tplus ``SequencedBook`` answer the same reads with the
same :class:`Level` type. Code that takes a :class:`BookReader` serves both venues.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional, Protocol

from .live import mid_of, spread_of

if TYPE_CHECKING:
    from .live import LiveBook


class Level(NamedTuple):
    """One price level in market units: exact ``Decimal`` price and quantity
    (unpacks as a pair)."""

    price: Decimal
    quantity: Decimal


class BookReader(Protocol):
    """What a book in market units offers to read (a tplus ``SequencedBook``, an O2
    ``LiveOrderBook.scaled()``): exact ``Decimal`` levels, best first."""

    @property
    def best_bid(self) -> Optional[Level]: ...

    @property
    def best_ask(self) -> Optional[Level]: ...

    def bids(self, n: Optional[int] = None) -> list[Level]: ...

    def asks(self, n: Optional[int] = None) -> list[Level]: ...

    @property
    def spread(self) -> Optional[Decimal]: ...

    @property
    def mid(self) -> Optional[Decimal]: ...

    @property
    def is_ready(self) -> bool: ...

    @property
    def version(self) -> int: ...

    def wait_ready(self, timeout: Optional[float] = None) -> bool: ...


Scale = Callable[[Any], Decimal]


class ScaledBook:
    """A live view of ``book`` in market units: every read goes to the book (under its
    lock) and scales what it returns, so the view is never stale and costs nothing
    until read. Waits, readiness and ``version`` are the book's.

    Get one from ``LiveOrderBook.scaled()``; closing the book ends it.
    """

    def __init__(self, book: LiveBook[Any], price: Scale, quantity: Scale) -> None:
        self.book = book
        self._price = price
        self._quantity = quantity

    def _level(self, level: Any) -> Level:
        return Level(self._price(level.price), self._quantity(level.quantity))

    @property
    def best_bid(self) -> Optional[Level]:
        """Highest bid, scaled, or None."""
        level = self.book.best_bid
        return None if level is None else self._level(level)

    @property
    def best_ask(self) -> Optional[Level]:
        """Lowest ask, scaled, or None."""
        level = self.book.best_ask
        return None if level is None else self._level(level)

    def bids(self, n: Optional[int] = None) -> list[Level]:
        """Best ``n`` bids (all if None), highest price first, scaled."""
        return [self._level(lv) for lv in self.book.bids(n)]

    def asks(self, n: Optional[int] = None) -> list[Level]:
        """Best ``n`` asks (all if None), lowest price first, scaled."""
        return [self._level(lv) for lv in self.book.asks(n)]

    def _best_prices(self) -> tuple[Optional[Decimal], Optional[Decimal]]:
        bid, ask = self.book._best_prices()  # one read of both sides, under one lock
        return (None if bid is None else self._price(bid),
                None if ask is None else self._price(ask))

    @property
    def spread(self) -> Optional[Decimal]:
        """Best ask minus best bid in market price units, or None if a side is empty."""
        spread: Optional[Decimal] = spread_of(*self._best_prices())
        return spread

    @property
    def mid(self) -> Optional[Decimal]:
        """Mid price in market price units (exact), or None."""
        return mid_of(*self._best_prices())

    def snapshot(self) -> dict[str, list[tuple[Decimal, Decimal]]]:
        """``{"buys": [(price, qty)...], "sells": [...]}`` scaled, taken atomically."""
        raw = self.book.snapshot()
        return {side: [(self._price(p), self._quantity(q)) for p, q in levels]
                for side, levels in raw.items()}

    @property
    def is_ready(self) -> bool:
        """The book's :attr:`~o2sync.books.live.LiveBook.is_ready`."""
        return self.book.is_ready

    @property
    def version(self) -> int:
        """The book's version (bumps on every change)."""
        return self.book.version

    def wait_ready(self, timeout: Optional[float] = None) -> bool:
        """The book's :meth:`~o2sync.books.live.LiveBook.wait_ready`."""
        return self.book.wait_ready(timeout)

    def wait_update(self, timeout: Optional[float] = None) -> bool:
        """The book's :meth:`~o2sync.books.live.LiveBook.wait_update`."""
        return self.book.wait_update(timeout)

    def __repr__(self) -> str:
        bid, ask = self._best_prices()
        return f"<ScaledBook of {self.book.name} bid={bid} ask={ask}>"
