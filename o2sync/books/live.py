"""LiveBook: the reading API and change notices every venue's live order book shares.

A venue's book subclasses it and feeds it from its depth stream on the reader
thread: :meth:`LiveBook._load` for a snapshot, :meth:`LiveBook._update` for a
diff, :meth:`LiveBook._invalidate` when the book can no longer be trusted (a
disconnect, a gap). Reads take the book's lock and are safe from any thread.
"""

from __future__ import annotations

import decimal
import threading
import time
from collections.abc import Iterable
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Generic, Optional, TypeVar, cast

from ..engine.threads import wait_slice
from ..engine.venue import TopicSpec
from .levels import SortedLevels

if TYPE_CHECKING:
    from ..engine.stream import StreamEngine
    from ..engine.subscription import Subscription

Levels = Iterable[tuple[Any, Any]]
B = TypeVar("B", bound="LiveBook[Any]")
#: The level type a venue's book hands to readers (O2 ``DepthLevel``, tplus ``Level``).
L = TypeVar("L")


class LiveBook(Generic[L]):
    """A book that is always either ready and right, or not ready.

    ``is_ready`` is False until the first snapshot and again from a disconnect (or a
    lost event) until the book is rebuilt, so nobody reads a stale book.
    """

    def __init__(self, engine: StreamEngine, name: str) -> None:
        self.name = name
        self._engine = engine
        self._cond = threading.Condition(threading.Lock())
        self._bids = SortedLevels(descending=True)
        self._asks = SortedLevels(descending=False)
        self._ready = False
        self._closed = False
        self._version = 0
        self._resets = 0
        self._changes = TopicSpec(("book", id(self)))
        self._notices: tuple[_ChangeNotice, ...] = ()
        self._feed: Optional[Subscription[Any]] = None  # see _follow

    # ------------------------------------------------------------ subclass side

    def _make_level(self, price: Any, qty: Any) -> L:
        """The level object handed to readers; subclasses choose its type."""
        return cast(L, (price, qty))

    def _load(self, bids: Levels, asks: Levels) -> None:
        """Reset from a snapshot; the book is ready."""
        with self._cond:
            self._bids.load(bids)
            self._asks.load(asks)
            self._ready = True
            self._resets += 1
            self._version += 1
            self._cond.notify_all()
        self._post()

    def _update(self, bids: Levels, asks: Levels) -> bool:
        """Apply absolute level changes; False (nothing applied) when not ready."""
        with self._cond:
            if not self._ready:
                return False
            for price, qty in bids:
                self._bids.set(price, qty)
            for price, qty in asks:
                self._asks.set(price, qty)
            self._version += 1
            self._cond.notify_all()
        self._post()
        return True

    def _add(self, bids: Levels, asks: Levels) -> Optional[int]:
        """Apply signed relative changes (see :meth:`SortedLevels.add`); None (nothing
        applied) when not ready, else how many changes took a level below zero."""
        with self._cond:
            if not self._ready:
                return None
            bad = self._bids.add_all(bids) + self._asks.add_all(asks)
            self._version += 1
            self._cond.notify_all()
        self._post()
        return bad

    def _invalidate(self) -> None:
        """The book cannot be trusted until the next snapshot."""
        with self._cond:
            if not self._ready:
                return
            self._ready = False
            self._version += 1
            self._cond.notify_all()
        self._post()

    def _is_crossed(self) -> bool:
        """Best bid at or above best ask: an inconsistent book."""
        with self._cond:
            bid, ask = self._bids.best(), self._asks.best()
        return bid is not None and ask is not None and bid[0] >= ask[0]

    def _post(self) -> None:
        for notice in self._notices:
            notice.post(self)

    # ------------------------------------------------------------ readers

    @property
    def is_ready(self) -> bool:
        """True when the book reflects a snapshot plus every change since."""
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
        """Block until the book is ready; False on timeout or once the book or its
        client closed. Raises the stream's error (a
        :class:`~o2sync.errors.ConnectError`) when its socket could never connect."""
        return self._wait(lambda: self._ready, timeout)

    def wait_update(self, timeout: Optional[float] = None) -> bool:
        """Block until the next change; False on timeout or once closed (raises like
        :meth:`wait_ready` when the stream failed)."""
        seen = self._version
        return self._wait(lambda: self._version != seen, timeout)

    def _wait(self, predicate: Callable[[], bool], timeout: Optional[float]) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while not predicate():
                if self._closed or self._feed_closed():
                    error = self._feed.error if self._feed is not None else None
                    if error is not None:
                        raise error
                    return False
                wait = wait_slice(deadline, time.monotonic())
                if wait is not None and wait <= 0:
                    return False
                self._cond.wait(wait)
            return True

    def _follow(self, feed: Subscription[Any]) -> None:
        """Subclasses: ``feed`` is the stream the book is built from; when it ends
        (client closed, stream failed) every wait on the book ends too."""
        self._feed = feed
        feed.on_end(self._wake)

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _feed_closed(self) -> bool:
        """True when the stream feeding the book has ended (the client closed)."""
        return self._feed is not None and self._feed.closed

    def bids(self, n: Optional[int] = None) -> list[L]:
        """Best ``n`` bids (all if None), highest price first."""
        with self._cond:
            return [self._make_level(p, q) for p, q in self._bids.top(n)]

    def asks(self, n: Optional[int] = None) -> list[L]:
        """Best ``n`` asks (all if None), lowest price first."""
        with self._cond:
            return [self._make_level(p, q) for p, q in self._asks.top(n)]

    @property
    def best_bid(self) -> Optional[L]:
        """Highest bid, or None."""
        with self._cond:
            best = self._bids.best()
        return None if best is None else self._make_level(*best)

    @property
    def best_ask(self) -> Optional[L]:
        """Lowest ask, or None."""
        with self._cond:
            best = self._asks.best()
        return None if best is None else self._make_level(*best)

    def _best_prices(self) -> tuple[Any, Any]:
        with self._cond:
            bid, ask = self._bids.best(), self._asks.best()
        return (None if bid is None else bid[0]), (None if ask is None else ask[0])

    @property
    def spread(self) -> Any:
        """Best ask minus best bid (in the book's price units), or None if a side is empty."""
        return spread_of(*self._best_prices())

    @property
    def mid(self) -> Optional[Decimal]:
        """Mid price (in the book's price units), or None."""
        return mid_of(*self._best_prices())

    def snapshot(self) -> dict[str, list[tuple[Any, Any]]]:
        """``{"buys": [(price, qty)...], "sells": [...]}``, best first, taken atomically."""
        with self._cond:
            return {"buys": self._bids.top(), "sells": self._asks.top()}

    # ------------------------------------------------------------ callbacks, close

    def on_change(self, callback: Callable[[Any], Any]) -> Subscription[Any]:
        """Call ``callback(book)`` (on the dispatcher, or the ``dispatcher=`` hook) after
        changes. Changes coalesce: while a call is pending, newer changes do not queue
        another one, so a slow GUI sees the latest book instead of falling behind."""
        notice = _ChangeNotice(callback)
        notice.sub = self._engine.local(self._changes, f"{self.name}:changes", notice)
        self._notices = (*self._notices, notice)
        return notice.sub

    def close(self) -> None:
        """Stop following the market (idempotent)."""
        self._stop_feed()
        for notice in self._notices:
            if notice.sub is not None:
                notice.sub.close()
        with self._cond:
            self._closed = True
            self._ready = False
            self._cond.notify_all()

    def _stop_feed(self) -> None:
        """Subclasses close their depth and lifecycle subscriptions here."""

    def __enter__(self: B) -> B:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        bid, ask = self._best_prices()
        return (f"<{type(self).__name__} {self.name} "
                f"{'ready' if self._ready else 'not ready'} v{self._version} "
                f"bid={bid} ask={ask}>")


def spread_of(bid: Any, ask: Any) -> Any:
    """``ask - bid``, exact whatever the digits, or None when either is missing."""
    if bid is None or ask is None:
        return None
    with _exact_context(bid, ask):
        return ask - bid


def mid_of(bid: Any, ask: Any) -> Optional[Decimal]:
    """The exact mid of ``bid`` and ``ask`` as a ``Decimal``, or None when either is
    missing."""
    if bid is None or ask is None:
        return None
    with _exact_context(bid, ask):
        return (Decimal(bid) + Decimal(ask)) / 2


def _exact_context(*values: Any) -> AbstractContextManager[decimal.Context]:
    """A decimal context wide enough that adding, subtracting and halving ``values``
    is exact (the default 28 digits would round a longer exact price)."""
    digits = 0
    for value in values:
        if isinstance(value, Decimal):
            _, coefficient, exponent = value.as_tuple()
            assert isinstance(exponent, int)  # finite: the decoders refuse the rest
            digits = max(digits, len(coefficient) + abs(exponent))
        else:
            digits = max(digits, len(str(abs(int(value)))))
    context = decimal.getcontext().copy()
    context.prec = max(context.prec, 2 * digits + 4)
    return decimal.localcontext(context)


class _ChangeNotice:
    """One ``on_change`` registration: at most one pending call at a time."""

    def __init__(self, callback: Callable[[Any], Any]) -> None:
        self.callback = callback
        self.pending = False
        self.sub: Optional[Subscription[Any]] = None

    def post(self, book: LiveBook[Any]) -> None:
        """Reader thread: queue a call unless one is already waiting."""
        if not self.pending and self.sub is not None and not self.sub.closed:
            self.pending = True
            self.sub.offer(book)

    def __call__(self, book: LiveBook[Any]) -> Any:
        self.pending = False  # first: a change from now on queues a new call
        return self.callback(book)
