"""An O2 depth topic as the venue keeps it: its precision and the engine's own copy
of the book.

The engine applies every message of every depth topic to that copy on the reader
thread, before any consumer sees it (a few dict and list operations per delta).
With it a delta's ``changes.best_bid`` / ``best_ask`` are the book's best levels
after that delta (PARITY exception 3), a change that takes a level below zero is
counted (``stats()["depth_inconsistencies"]``), and a late joiner (another
``stream_depth``, a ``LiveOrderBook``, an overflowed consumer that healed) starts
from a snapshot made locally, at the exact point of the delta stream it joins,
instead of a wire resync that every other consumer would see as a new snapshot.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from ..books.levels import SortedLevels
from .models import DepthChanges, DepthSnapshot, DepthUpdate, PackedDepthSnapshot


class TopicBook:
    """The engine's copy of one depth topic's book (reader thread writes, under ``lock``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.bids = SortedLevels(descending=True)
        self.asks = SortedLevels(descending=False)
        self.ready = False  # loaded from a snapshot and every delta since

    def load(self, snapshot: DepthSnapshot) -> None:
        """Replace the book with a snapshot's absolute levels."""
        self.bids.load(snapshot.pairs("bids"))
        self.asks.load(snapshot.pairs("asks"))
        self.ready = True

    def apply(self, changes: DepthChanges) -> int:
        """Add a delta's signed changes, then record the book's best levels on it.
        Returns how many changes took a level below zero (0 when not ready)."""
        if not self.ready:
            return 0
        bids, asks = self.bids, self.asks
        bad = bids.add_all(changes.pairs("bids")) + asks.add_all(changes.pairs("asks"))
        changes.set_book_best(bids.best(), asks.best())
        return bad

    def snapshot(self, market_id: str) -> DepthUpdate:
        """A snapshot DepthUpdate of the book now (call with ``lock`` held)."""
        bids = tuple(x for level in self.bids.top() for x in level)
        asks = tuple(x for level in self.asks.top() for x in level)
        return DepthUpdate(PackedDepthSnapshot.from_ints(bids, asks, market_id), market_id,
                           is_snapshot=True)


@dataclass
class DepthTopic:
    """The venue's data on one depth topic (``Topic.info``)."""

    precision: int
    book: TopicBook = field(default_factory=TopicBook, compare=False)
