"""LiveOrderBook: a local order book kept from the depth snapshot plus deltas.

Updates are applied on the reader thread as they arrive (this is o2sync's own
code, a few dict operations per level), so the book is current even while user
callbacks are slow. Reads take the book's lock and are safe from any thread.

Delta rule (protocol doc section 6.3): each level carries the new absolute
quantity; 0 removes the level. A negative quantity cannot be absolute: the book
then treats deltas as signed increments, reports it, and resynchronises.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Optional

from ..engine.lifecycle import ConnectionEvent, ConnectionState
from ..errors import O2SyncError
from .models import DepthLevel, DepthUpdate, Market

if TYPE_CHECKING:
    from ..engine.stream import StreamEngine
    from ..engine.subscription import Subscription

log = logging.getLogger(__name__)


class LiveOrderBook:
    """A market's book at one precision, always either ready and right, or not ready.

    ``is_ready`` is False until the first snapshot and again from a disconnect (or a
    lost event) until the fresh snapshot, so nobody reads a stale book. Prices and
    quantities are exact chain integers; ``market`` scales them to ``Decimal``.
    Get one from ``O2Client.order_book(market, precision)``; ``close()`` it when done.
    """

    def __init__(self, engine: StreamEngine, market: Market, precision: int,
                 subscribe: Callable[[Callable[[DepthUpdate], None]], Subscription[Any]],
                 fetch_depth: Callable[[], DepthUpdate]) -> None:
        self.market = market
        self.precision = precision
        self._engine = engine
        self._fetch_depth = fetch_depth
        self._cond = threading.Condition(threading.Lock())
        self._bids: dict[int, int] = {}
        self._asks: dict[int, int] = {}
        self._ready = False
        self._additive = False
        self._version = 0
        self._resets = 0
        self._changes_key = ("book", id(self))
        self._notices: tuple[_ChangeNotice, ...] = ()
        self._lifecycle = engine.local(("lifecycle",), f"book:{market.pair}:lifecycle", None,
                                       sink=self._on_lifecycle)
        self._sub = subscribe(self._apply)

    # ------------------------------------------------------------ reader thread

    def _apply(self, update: DepthUpdate) -> None:
        negative = False
        with self._cond:
            changes = update.changes
            if update.is_snapshot:
                self._bids = dict(changes.pairs("bids"))
                self._asks = dict(changes.pairs("asks"))
                self._ready = True
                self._resets += 1
            elif not self._ready:
                return
            else:
                negative = self._apply_levels(self._bids, changes.pairs("bids"))
                negative = self._apply_levels(self._asks, changes.pairs("asks")) or negative
            self._version += 1
            self._cond.notify_all()
        if negative:
            self._on_negative_delta()
        for notice in self._notices:
            notice.post(self)

    def _apply_levels(self, side: dict[int, int], levels: Iterable[tuple[int, int]]) -> bool:
        negative = False
        for price, qty in levels:
            if qty < 0:
                negative = True
                self._additive = True
            if self._additive:
                qty = side.get(price, 0) + qty
            if qty > 0:
                side[price] = qty
            else:
                side.pop(price, None)
        return negative

    def _on_negative_delta(self) -> None:
        with self._cond:
            self._ready = False
        self._engine.report(O2SyncError(
            f"{self.market.pair} depth delta with a negative quantity: treating deltas as "
            "signed increments from now on and resynchronising"))
        topic = self._engine.topics.get(("depth", self.market.market_id))
        if topic is not None:
            self._engine.resync(topic)

    def _on_lifecycle(self, event: ConnectionEvent) -> None:
        if event.state in (ConnectionState.DISCONNECTED, ConnectionState.CLOSED):
            with self._cond:
                self._ready = False
                self._version += 1
                self._cond.notify_all()

    # ------------------------------------------------------------ readers

    @property
    def is_ready(self) -> bool:
        """True when the book reflects a snapshot plus every delta since."""
        return self._ready

    @property
    def version(self) -> int:
        """Bumps on every change (and on every reset)."""
        return self._version

    @property
    def resets(self) -> int:
        """How many snapshots the book was (re)built from."""
        return self._resets

    def wait_ready(self, timeout: Optional[float] = None) -> bool:
        """Block until the book is ready; False on timeout."""
        return self._wait(lambda: self._ready, timeout)

    def wait_update(self, timeout: Optional[float] = None) -> bool:
        """Block until the next change; False on timeout."""
        seen = self._version
        return self._wait(lambda: self._version != seen, timeout)

    def _wait(self, predicate: Callable[[], bool], timeout: Optional[float]) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not predicate():
                if self._sub.closed:
                    return False
                wait = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
                if wait <= 0:
                    return False
                self._cond.wait(wait)
            return True

    def bids(self, n: Optional[int] = None) -> list[DepthLevel]:
        """Best ``n`` bids (all if None), highest price first."""
        with self._cond:
            prices = sorted(self._bids, reverse=True)[:n]
            return [DepthLevel(p, self._bids[p]) for p in prices]

    def asks(self, n: Optional[int] = None) -> list[DepthLevel]:
        """Best ``n`` asks (all if None), lowest price first."""
        with self._cond:
            prices = sorted(self._asks)[:n]
            return [DepthLevel(p, self._asks[p]) for p in prices]

    @property
    def best_bid(self) -> Optional[DepthLevel]:
        """Highest bid, or None."""
        with self._cond:
            if not self._bids:
                return None
            price = max(self._bids)
            return DepthLevel(price, self._bids[price])

    @property
    def best_ask(self) -> Optional[DepthLevel]:
        """Lowest ask, or None."""
        with self._cond:
            if not self._asks:
                return None
            price = min(self._asks)
            return DepthLevel(price, self._asks[price])

    @property
    def spread(self) -> Optional[int]:
        """Best ask minus best bid in raw price units, or None if a side is empty."""
        bid, ask = self.best_bid, self.best_ask
        return None if bid is None or ask is None else ask.price - bid.price

    @property
    def mid(self) -> Optional[Decimal]:
        """Mid price in raw units (may be a half unit), or None."""
        bid, ask = self.best_bid, self.best_ask
        return None if bid is None or ask is None else (Decimal(bid.price) + ask.price) / 2

    def levels_decimal(self, side: str, n: Optional[int] = None) -> list[tuple[Decimal, Decimal]]:
        """``("bids"|"asks", n)`` as human (price, quantity) Decimals."""
        levels = self.bids(n) if side == "bids" else self.asks(n)
        m = self.market
        return [(m.format_price(lv.price), m.format_quantity(lv.quantity)) for lv in levels]

    def snapshot(self) -> dict[str, list[tuple[int, int]]]:
        """``{"buys": [(price, qty)...], "sells": [...]}``, best first, taken atomically."""
        with self._cond:
            return {"buys": sorted(self._bids.items(), reverse=True),
                    "sells": sorted(self._asks.items())}

    def verify(self, attempts: int = 5) -> bool:
        """Compare with ``GET /v1/depth`` at the same precision.

        The REST book and the stream are not taken at the same instant, so a
        mismatch is retried after the next change, up to ``attempts`` times.
        """
        for _ in range(attempts):
            version = self._version
            rest = self._fetch_depth().changes
            expected = {"buys": [(lv.price, lv.quantity) for lv in rest.bids],
                        "sells": [(lv.price, lv.quantity) for lv in rest.asks]}
            if self._ready and self.snapshot() == expected:
                return True
            if self._version == version:
                self.wait_update(1.0)
        return False

    checked = verify

    # ------------------------------------------------------------ callbacks, close

    def on_change(self, callback: Callable[[LiveOrderBook], Any]) -> Subscription[Any]:
        """Call ``callback(book)`` (on the dispatcher, or the ``dispatcher=`` hook) after
        changes. Changes coalesce: while a call is pending, newer changes do not queue
        another one, so a slow GUI sees the latest book instead of falling behind."""
        notice = _ChangeNotice(callback)
        notice.sub = self._engine.local(self._changes_key, f"book:{self.market.pair}:changes",
                                        notice)
        self._notices = (*self._notices, notice)
        return notice.sub

    def close(self) -> None:
        """Stop following the market (idempotent)."""
        self._sub.close()
        self._lifecycle.close()
        with self._cond:
            self._ready = False
            self._cond.notify_all()

    def __enter__(self) -> LiveOrderBook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        bid, ask = self.best_bid, self.best_ask
        return (f"<LiveOrderBook {self.market.pair}@{self.precision} "
                f"{'ready' if self._ready else 'not ready'} v{self._version} "
                f"bid={bid.price if bid else None} ask={ask.price if ask else None}>")


class _ChangeNotice:
    """One ``on_change`` registration: at most one pending call at a time."""

    def __init__(self, callback: Callable[[LiveOrderBook], Any]) -> None:
        self.callback = callback
        self.pending = False
        self.sub: Optional[Subscription[Any]] = None

    def post(self, book: LiveOrderBook) -> None:
        """Reader thread: queue a call unless one is already waiting."""
        if not self.pending and self.sub is not None and not self.sub.closed:
            self.pending = True
            self.sub._push(book)

    def __call__(self, book: LiveOrderBook) -> Any:
        self.pending = False  # first: a change from now on queues a new call
        return self.callback(book)
