"""LiveOrderBook: an O2 market's book kept from the depth snapshot plus deltas.

Updates are applied on the reader thread as they arrive (this is o2sync's own
code, a few list and dict operations per level), so the book is current even
while user callbacks are slow. Reads take the book's lock and are safe from any
thread. The sorted levels and the reading API are shared with every venue's book
(:mod:`o2sync.books`).

Rules (protocol doc section 6.3, o2-sdk 0.5.0's ``DepthBook``): a snapshot (the
subscribe answer, again after every reconnect) replaces the book with absolute
quantities; a delta's changes are signed and relative: each is added to its
level, a sum of zero or less removes the level, and a change of 0 or a
non-positive change to an unknown level does nothing. A message is applied whole
(the decoder has validated every number before the book sees it). A change that
takes a level below zero is counted (:attr:`LiveOrderBook.inconsistencies`, and
``stats()["depth_inconsistencies"]`` of the client); it never triggers a resync.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Optional

from ..books.live import LiveBook
from ..books.scaled import ScaledBook
from ..engine.lifecycle import ConnectionEvent, ConnectionState
from ..engine.stream import LIFECYCLE
from .models import DepthLevel, DepthSnapshot, DepthUpdate, Market

if TYPE_CHECKING:
    from ..engine.stream import StreamEngine
    from ..engine.subscription import Subscription


class LiveOrderBook(LiveBook[DepthLevel]):
    """A market's book at one precision, always either ready and right, or not ready.

    ``is_ready`` is False until the first snapshot and again from a disconnect (or a
    lost event) until the fresh snapshot, so nobody reads a stale book. Prices and
    quantities are exact chain integers; ``market`` scales them to ``Decimal``.
    Get one from ``O2Client.order_book(market, precision)``; ``close()`` it when done.
    """

    def __init__(self, engine: StreamEngine, market: Market, precision: int,
                 subscribe: Callable[[Callable[[DepthUpdate], None], Callable[[], None]],
                                     Subscription[Any]],
                 fetch_depth: Callable[[], DepthSnapshot]) -> None:
        super().__init__(engine, f"book:{market.pair}")
        self.market = market
        self.precision = precision
        self._fetch_depth = fetch_depth
        self._inconsistencies = 0
        self._lifecycle = engine.local(LIFECYCLE, f"book:{market.pair}:lifecycle", None,
                                       sink=self._on_lifecycle)
        self._scaled = ScaledBook(self, market.format_price, market.format_quantity)
        self._sub = subscribe(self._apply, self._invalidate)
        self._follow(self._sub)  # its end (client closed, stream failed) ends every wait

    # ------------------------------------------------------------ reader thread

    def _make_level(self, price: Any, qty: Any) -> DepthLevel:
        return DepthLevel(price, qty)

    def _apply(self, update: DepthUpdate) -> None:
        changes = update.changes
        if update.is_snapshot:
            self._load(changes.pairs("bids"), changes.pairs("asks"))
        else:
            bad = self._add(changes.pairs("bids"), changes.pairs("asks"))
            if bad:
                self._inconsistencies += bad

    def _on_lifecycle(self, event: ConnectionEvent) -> None:
        if event.state in (ConnectionState.DISCONNECTED, ConnectionState.CLOSED,
                           ConnectionState.FAILED):
            self._invalidate()

    def _feed_closed(self) -> bool:
        return self._sub.closed

    def _stop_feed(self) -> None:
        self._sub.close()
        self._lifecycle.close()

    # ------------------------------------------------------------ readers

    @property
    def inconsistencies(self) -> int:
        """Delta changes that took a level below zero (more removed than the book
        held: a message lost or doubled upstream). The next snapshot heals the book."""
        return self._inconsistencies

    @property
    def spread(self) -> Optional[int]:
        """Best ask minus best bid in raw price units, or None if a side is empty."""
        spread: Optional[int] = super().spread
        return spread

    def scaled(self) -> ScaledBook:
        """This book in market units: a live view with the same reads (``best_bid``,
        ``bids(n)``, ``spread``, ``mid``...) whose levels are exact ``Decimal`` prices
        and quantities (``Market.format_price`` / ``format_quantity``), as a tplus
        book's are. The same view every call; it reads through, so it is never stale."""
        return self._scaled

    def levels_decimal(self, side: str, n: Optional[int] = None) -> list[tuple[Decimal, Decimal]]:
        """``("bids"|"asks", n)`` as human (price, quantity) Decimals."""
        levels = self._scaled.bids(n) if side == "bids" else self._scaled.asks(n)
        return [(lv.price, lv.quantity) for lv in levels]

    def verify(self, attempts: int = 5) -> bool:
        """Compare with ``GET /v1/depth`` at the same precision.

        The REST book and the stream are not taken at the same instant, so a
        mismatch is retried after the next change, up to ``attempts`` times.
        """
        for _ in range(attempts):
            version = self.version
            rest = self._fetch_depth()
            expected = {"buys": [(lv.price, lv.quantity) for lv in rest.bids],
                        "sells": [(lv.price, lv.quantity) for lv in rest.asks]}
            if self.is_ready and self.snapshot() == expected:
                return True
            if self.version == version:
                self.wait_update(1.0)
        return False

    checked = verify

    def __repr__(self) -> str:
        bid, ask = self._best_prices()
        return (f"<LiveOrderBook {self.market.pair}@{self.precision} "
                f"{'ready' if self.is_ready else 'not ready'} v{self.version} "
                f"bid={bid} ask={ask}>")
