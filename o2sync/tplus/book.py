"""OrderBook for tplus: a live local book kept by ``sequence_number`` (protocol doc §7.3).

The book heals itself, with no help from the user: it starts from a REST snapshot
spliced into the diff stream (the venue buffers diffs meanwhile), applies exactly
``last + 1``, ignores older diffs, and on a gap, a crossed book, a lost frame or a
reconnect marks itself not ready and asks for a new snapshot. Reads are safe from
any thread; the reading API is the one every o2sync book shares.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Optional, Union

from ..books.live import LiveBook
from ..books.scaled import Level as Level  # re-exported: tplus.book.Level, as before
from ..engine.lifecycle import ConnectionEvent, ConnectionState
from ..engine.stream import LIFECYCLE
from ..engine.venue import url_path
from ..errors import O2SyncError
from .asset import AssetIdentifier
from .models import OrderBook, OrderBookDiff

if TYPE_CHECKING:
    from ..engine.stream import StreamEngine
    from ..engine.subscription import Subscription


class SequenceGap(O2SyncError):
    """The depth stream skipped sequence numbers (or the book crossed): the book
    rebuilds from a fresh snapshot. Reported through ``on_error``; nothing to do."""


class SequencedBook(LiveBook[Level]):
    """A tplus asset's book: ready and right, or not ready while it rebuilds.

    Get one from ``MarketDataClient.order_book(asset)``; ``close()`` it when done.
    ``sequence_number`` is the last diff applied; ``gaps`` counts rebuilds after a
    gap or a crossed book.
    """

    def __init__(self, engine: StreamEngine, asset: AssetIdentifier, url: str,
                 subscribe: Callable[[Callable[[Any], None], Callable[[], None]],
                                     Subscription[Any]],
                 fetch_snapshot: Callable[[], OrderBook]) -> None:
        super().__init__(engine, f"book:{asset}")
        self.asset = asset
        self._url = url
        self._path = url_path(url)
        self._fetch_snapshot = fetch_snapshot
        self.sequence_number = 0
        self.gaps = 0
        self._lifecycle = engine.local(LIFECYCLE, f"book:{asset}:lifecycle", None,
                                       sink=self._on_lifecycle)
        self._sub = subscribe(self._apply, self._lost)
        self._follow(self._sub)  # its end (client closed, stream failed) ends every wait
        self._sub.wants_snapshot()
        if engine.is_live(url):
            self._rebuild()
        # else: the socket is opening; CONNECTED (below) asks for the snapshot, so a
        # start costs exactly one snapshot

    # ------------------------------------------------------------ reader thread

    def _make_level(self, price: Any, qty: Any) -> Level:
        return Level(price, qty)

    def _apply(self, event: Union[OrderBook, OrderBookDiff]) -> None:
        if isinstance(event, OrderBook):
            self.sequence_number = event.sequence_number
            self._load(event.bids, event.asks)
            if self._is_crossed():
                self._gap(f"crossed snapshot {event.sequence_number}")
            return
        if not self.is_ready:
            return  # rebuilding: the venue replays what the snapshot lacks
        seq = event.sequence_number
        if seq <= self.sequence_number:
            return  # a duplicate, or already in the snapshot
        if seq != self.sequence_number + 1:
            self._gap(f"sequence {self.sequence_number} then {seq}")
            return
        self.sequence_number = seq
        self._update(event.bids, event.asks)
        if self._is_crossed():
            self._gap(f"crossed book after diff {seq}")

    def _gap(self, what: str) -> None:
        self.gaps += 1
        self._engine.report(SequenceGap(f"{self.name}: {what}; rebuilding from a snapshot"))
        self._lost()

    def _lost(self) -> None:
        """The book missed something: not ready until the next snapshot."""
        self._invalidate()
        self._rebuild()

    def _rebuild(self) -> None:
        self._sub.wants_snapshot()
        self._engine.resync_requested(self._sub)

    def _on_lifecycle(self, event: ConnectionEvent) -> None:
        if event.stream and event.stream != self._path:
            return
        if event.state in (ConnectionState.DISCONNECTED, ConnectionState.CLOSED,
                           ConnectionState.FAILED):
            self._sub.wants_snapshot()
            self._invalidate()
        elif (event.state in (ConnectionState.CONNECTED, ConnectionState.RECONNECTED)
              and not self.is_ready):
            self._rebuild()

    def _feed_closed(self) -> bool:
        return self._sub.closed

    def _stop_feed(self) -> None:
        self._sub.close()
        self._lifecycle.close()

    # ------------------------------------------------------------ readers

    def verify(self, attempts: int = 5) -> bool:
        """Compare with ``GET /marketdepth/{asset}``: True once the book, at the
        snapshot's sequence number, has the snapshot's levels."""
        for _ in range(attempts):
            rest = self._fetch_snapshot()
            expected = {"buys": [tuple(lv) for lv in sorted(rest.bids, reverse=True)],
                        "sells": [tuple(lv) for lv in sorted(rest.asks)]}
            mine = self.snapshot()
            if self.is_ready and self.sequence_number == rest.sequence_number \
                    and mine == expected:
                return True
            self.wait_update(1.0)
        return False

    checked = verify

    @property
    def spread(self) -> Optional[Decimal]:
        """Best ask minus best bid, or None if a side is empty."""
        spread: Optional[Decimal] = super().spread
        return spread

    def scaled(self) -> SequencedBook:
        """This book in market units: the book itself, whose prices are already exact
        ``Decimal`` (an O2 book's ``scaled()`` is a view), so cross-venue code calls
        ``book.scaled()`` on either venue's book."""
        return self

    def __repr__(self) -> str:
        bid, ask = self._best_prices()
        return (f"<SequencedBook {self.asset} {'ready' if self.is_ready else 'not ready'} "
                f"seq={self.sequence_number} bid={bid} ask={ask}>")
